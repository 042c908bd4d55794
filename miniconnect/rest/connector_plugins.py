"""/connector-plugins routes (Connect's ConnectorPluginsResource)."""

from __future__ import annotations

from starlette.responses import Response

from ..errors import BadRequest, ConnectError
from ..plugins import PluginNotFound
from . import entities as E
from .connectors import string_map
from .errors import java_exception_text
from .routing import RestRequest, Route


def _normalized(plugin: str) -> str:
    return plugin[: -len("Connector")] if plugin.endswith("Connector") and len(plugin) > len("Connector") else plugin


async def list_plugins(req: RestRequest) -> Response:
    return E.json_response(req.herder.connector_plugins(req.bool_param("connectorsOnly", True)))


async def plugin_config(req: RestRequest) -> Response:
    return E.json_response(req.herder.connector_plugin_config(req.params["plugin"], req.query.get("version")))


async def validate(req: RestRequest) -> Response:
    plugin = req.params["plugin"]
    config = string_map(await req.json_body(), "request body")
    included = config.get("connector.class")
    if included is not None and not _normalized(included).endswith(_normalized(plugin)):
        raise BadRequest(f"Included connector type {included} does not match request type {plugin}")
    try:
        infos = req.herder.validate_connector_config(config)
    except (BadRequest, PluginNotFound) as e:
        # Kafka answers these user mistakes (no or unknown connector.class) with 500; we say 400, as on create.
        raise BadRequest(str(e)) from e
    except Exception as e:
        raise ConnectError(java_exception_text(e)) from e
    return E.json_response(infos)


ROUTES = [
    Route("/connector-plugins", {"GET": list_plugins}),
    Route("/connector-plugins/{plugin}/config", {"GET": plugin_config}),
    Route("/connector-plugins/{plugin}/config/validate", {"PUT": validate}),
]
