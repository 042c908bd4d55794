"""/admin/loggers routes (Connect's LoggingResource); served only where admin.listeners allows."""

from __future__ import annotations

import logging

from starlette.responses import Response

from ..errors import BadRequest, NotFound
from ..runtime.loggers import parse_level
from . import entities as E
from .connectors import string_map
from .routing import RestRequest, Route

log = logging.getLogger(__name__)


async def all_levels(req: RestRequest) -> Response:
    return E.json_response({n: E.logger_level(lv) for n, lv in req.herder.all_logger_levels().items()})


async def get_level(req: RestRequest) -> Response:
    return E.json_response(E.logger_level(req.herder.logger_level(req.params["logger"])))


async def set_level(req: RestRequest) -> Response:
    namespace = req.params["logger"]
    body = string_map(await req.json_body(), "request body")
    level = body.get("level")
    if level is None:
        raise BadRequest("Desired 'level' parameter was not specified in request.")
    if parse_level(level) is None:
        raise NotFound(f"invalid log level '{level}'.")
    scope = req.query.get("scope", "worker")
    if scope.lower() == "cluster":
        req.herder.set_cluster_logger_level(namespace, level)
        return E.empty_response(204)
    if scope.lower() != "worker":
        log.warning("Received invalid scope '%s' in request to adjust logging level; will default to worker", scope)
    return E.json_response(req.herder.set_worker_logger_level(namespace, level))


ROUTES = [
    Route("/admin/loggers", {"GET": all_levels}),
    Route("/admin/loggers/{logger}", {"GET": get_level, "PUT": set_level}),
]
