"""/connectors routes (Connect's ConnectorsResource): parse, call the herder, shape the answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from starlette.responses import Response

from ..errors import BadRequest, NotFound
from ..runtime.herder import OffsetEntries
from ..runtime.states import TargetState, TaskId
from . import entities as E
from .forwarding import forwarded
from .routing import RestRequest, Route

_INITIAL_STATES = {"RUNNING": TargetState.STARTED, "PAUSED": TargetState.PAUSED, "STOPPED": TargetState.STOPPED}


# -- body parsing -----------------------------------------------------------------------------------------
def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _scalar_str(value: Any) -> str | None:
    """Jackson's coercion of a JSON scalar into a Java String: numbers and booleans become their text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def string_map(value: Any, where: str) -> dict[str, str | None]:
    """A JSON object as Map<String, String>; nested objects/arrays are a 400 saying which key."""
    if not isinstance(value, dict):
        raise BadRequest(
            f"Invalid {where}: expected a JSON object of configuration keys to string values, got {_json_type(value)}"
        )
    out: dict[str, str | None] = {}
    for k, v in value.items():
        if isinstance(v, (dict, list)):
            raise BadRequest(
                f"Invalid {where}: the value of '{k}' is {_json_type(v)}; configuration values must "
                f"be strings, numbers, booleans or null"
            )
        out[k] = _scalar_str(v)
    return out


def _check_fields(body: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in body:
        if key not in known:
            names = ", ".join(f'"{k}"' for k in known)
            raise BadRequest(
                f'Unrecognized field "{key}" in {where}, not marked as ignorable ({len(known)} known '
                f"properties: {names})"
            )


def _java_trim(s: str) -> str:
    """String.trim(): strips every char <= U+0020 at both ends (Python's strip() differs)."""
    start, end = 0, len(s)
    while start < end and s[start] <= " ":
        start += 1
    while end > start and s[end - 1] <= " ":
        end -= 1
    return s[start:end]


def _put_name(name: str, config: dict[str, str | None]) -> None:
    """Connect's checkAndPutConnectorConfigName (its message says "URL" even for POST)."""
    included = config.get("name")
    if included is not None:
        if included != name:
            raise BadRequest(
                f"Connector name configuration ({included}) doesn't match connector name in the URL ({name})"
            )
    else:
        config["name"] = name


def _location(req: RestRequest, name: str) -> str:
    return f"{req.request.base_url}connectors/{quote(name, safe='/!$&()*+,;=:@~' + chr(39))}"


def _parse_offsets(body: Any) -> OffsetEntries:
    if not isinstance(body, dict):
        raise BadRequest(
            f"Invalid request body: expected a JSON object with an 'offsets' array, got {_json_type(body)}"
        )
    _check_fields(body, ("offsets",), "request body")
    offsets = body.get("offsets")
    if not offsets:
        raise BadRequest("Partitions / offsets need to be provided for an alter offsets request")
    if not isinstance(offsets, list):
        raise BadRequest(f"Invalid 'offsets' in request body: expected an array, got {_json_type(offsets)}")
    entries: OffsetEntries = []
    for i, item in enumerate(offsets):
        if not isinstance(item, dict):
            raise BadRequest(
                f"Invalid offsets[{i}] in request body: expected an object with 'partition' and "
                f"'offset', got {_json_type(item)}"
            )
        _check_fields(item, ("partition", "offset"), f"offsets[{i}]")
        for key in ("partition", "offset"):
            if item.get(key) is not None and not isinstance(item[key], dict):
                raise BadRequest(
                    f"Invalid offsets[{i}].{key} in request body: expected an object or null, got "
                    f"{_json_type(item[key])}"
                )
        entries.append((item.get("partition"), item.get("offset")))
    return entries


# -- handlers ---------------------------------------------------------------------------------------------
async def list_connectors(req: RestRequest) -> Response:
    herder = req.herder
    names = herder.connectors()
    if "expand" not in req.query:
        return E.json_response(names)
    expansions = req.query.getlist("expand")
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        expanded: dict[str, Any] = {}
        try:
            for expansion in expansions:
                if expansion == "status":
                    expanded["status"] = E.connector_state_info(herder.connector_status(name))
                elif expansion == "info":
                    try:
                        expanded["info"] = E.connector_info(herder.connector_info(name))
                    except NotFound:
                        expanded["info"] = None
        except NotFound:
            continue  # no status yet (or deleted meanwhile): left out, as Connect does
        out[name] = expanded
    return E.json_response(out)


async def create_connector(req: RestRequest) -> Response:
    body = await req.json_body()
    if not isinstance(body, dict):
        raise BadRequest(
            f"Invalid request body: expected a JSON object with 'name' and 'config', got {_json_type(body)}"
        )
    _check_fields(body, ("name", "config", "initial_state"), "request body")
    raw_name = body.get("name")
    if isinstance(raw_name, (dict, list)):
        raise BadRequest(f"Invalid 'name' in request body: expected a string, got {_json_type(raw_name)}")
    name = _java_trim(_scalar_str(raw_name) or "")
    if body.get("config") is None:
        raise BadRequest("Missing 'config' in request body: expected a JSON object with the connector's configuration")
    config = string_map(body["config"], "'config' in request body")
    initial = body.get("initial_state")
    target = None
    if initial is not None:
        target = (
            _INITIAL_STATES.get(str(_scalar_str(initial)).upper()) if not isinstance(initial, (dict, list)) else None
        )
        if target is None:
            raise BadRequest(
                f"Invalid 'initial_state' in request body: {orjson.dumps(initial).decode()}; expected one of "
                f"RUNNING, PAUSED, STOPPED"
            )
    _put_name(name, config)
    result = await req.herder.put_connector_config(name, config, allow_replace=False, initial_state=target)
    return E.json_response(E.connector_info(result.info), 201, headers={"Location": _location(req, name)})


async def get_connector(req: RestRequest) -> Response:
    return E.json_response(E.connector_info(req.herder.connector_info(req.params["connector"])))


async def delete_connector(req: RestRequest) -> Response:
    await req.herder.delete_connector(req.params["connector"])
    return E.empty_response(204)


async def get_config(req: RestRequest) -> Response:
    return E.json_response(req.herder.connector_config(req.params["connector"]))


async def put_config(req: RestRequest) -> Response:
    name = req.params["connector"]
    config = string_map(await req.json_body(), "request body")
    _put_name(name, config)
    result = await req.herder.put_connector_config(name, config, allow_replace=True)
    if result.created:
        return E.json_response(E.connector_info(result.info), 201, headers={"Location": _location(req, name)})
    return E.json_response(E.connector_info(result.info))


async def patch_config(req: RestRequest) -> Response:
    patch = string_map(await req.json_body(), "request body")
    info = await req.herder.patch_connector_config(req.params["connector"], patch)
    return E.json_response(E.connector_info(info))


async def get_status(req: RestRequest) -> Response:
    return E.json_response(E.connector_state_info(req.herder.connector_status(req.params["connector"])))


async def restart_connector(req: RestRequest) -> Response:
    name = req.params["connector"]
    include_tasks = req.bool_param("includeTasks", False)
    only_failed = req.bool_param("onlyFailed", False)
    if not include_tasks and not only_failed:
        await req.herder.restart_connector(name)
        return E.empty_response(204)
    plan = await req.herder.restart_connector_and_tasks(name, include_tasks, only_failed)
    return E.json_response(E.connector_state_info(plan), 202)


async def pause_connector(req: RestRequest) -> Response:
    await req.herder.pause_connector(req.params["connector"])
    return E.empty_response(202)


async def resume_connector(req: RestRequest) -> Response:
    await req.herder.resume_connector(req.params["connector"])
    return E.empty_response(202)


async def stop_connector(req: RestRequest) -> Response:
    await req.herder.stop_connector(req.params["connector"])
    return E.empty_response(204)


async def get_tasks(req: RestRequest) -> Response:
    return E.json_response([E.task_info(t) for t in req.herder.task_configs(req.params["connector"])])


async def _verify_signature(req: RestRequest) -> bool:
    """Internal (worker to worker) requests are signed with the session key in `sessioned` mode; False when the
    herder takes none (standalone)."""
    verify = getattr(req.herder, "verify_signature", None)
    if verify is None:
        return False
    verify(await req.request.body(), req.request.headers)
    return True


async def put_tasks(req: RestRequest) -> Response:
    """Internal (worker to worker) endpoint: signed with the session key in `sessioned` mode; standalone: 500."""
    configs: list[dict[str, str]] = []
    if await _verify_signature(req):
        body = await req.json_body()
        if not isinstance(body, list):
            raise BadRequest(
                f"Invalid request body: expected a JSON array of task configurations, got {_json_type(body)}"
            )
        configs = [{k: v for k, v in string_map(c, "task configuration").items() if v is not None} for c in body]
    await req.herder.put_task_configs(req.params["connector"], configs)
    return E.empty_response(204)


async def fence(req: RestRequest) -> Response:
    """Internal endpoint; DistributedHerder.fenceZombieSourceTasks checks the request's signature first."""
    await _verify_signature(req)
    await req.herder.fence_zombies(req.params["connector"])
    return E.empty_response(204)


async def get_task_status(req: RestRequest) -> Response:
    task = TaskId(req.params["connector"], req.task_param())
    return E.json_response(E.task_state(req.herder.task_status(task)))


async def restart_task(req: RestRequest) -> Response:
    await req.herder.restart_task(TaskId(req.params["connector"], req.task_param()))
    return E.empty_response(204)


async def get_topics(req: RestRequest) -> Response:
    name = req.params["connector"]
    return E.json_response({name: {"topics": req.herder.connector_active_topics(name)}})


async def reset_topics(req: RestRequest) -> Response:
    await req.herder.reset_connector_active_topics(req.params["connector"])
    return E.empty_response(202)


async def get_offsets(req: RestRequest) -> Response:
    return E.json_response({"offsets": await req.herder.connector_offsets(req.params["connector"])})


async def alter_offsets(req: RestRequest) -> Response:
    entries = _parse_offsets(await req.json_body())
    message = await req.herder.alter_connector_offsets(req.params["connector"], entries)
    return E.json_response({"message": message})


async def reset_offsets(req: RestRequest) -> Response:
    message = await req.herder.reset_connector_offsets(req.params["connector"])
    return E.json_response({"message": message})


ROUTES = [
    Route("/connectors", {"GET": list_connectors, "POST": forwarded(create_connector)}),
    Route("/connectors/{connector}", {"GET": get_connector, "DELETE": forwarded(delete_connector)}),
    Route(
        "/connectors/{connector}/config",
        {"GET": get_config, "PUT": forwarded(put_config), "PATCH": forwarded(patch_config)},
    ),
    Route("/connectors/{connector}/status", {"GET": get_status}),
    Route("/connectors/{connector}/restart", {"POST": forwarded(restart_connector)}),
    Route("/connectors/{connector}/pause", {"PUT": pause_connector}),
    Route("/connectors/{connector}/resume", {"PUT": resume_connector}),
    Route("/connectors/{connector}/stop", {"PUT": forwarded(stop_connector)}),
    Route("/connectors/{connector}/tasks", {"GET": get_tasks, "POST": forwarded(put_tasks)}),
    # /connectors/{connector}/tasks-config was removed in Connect 4.0 (KIP-970): a plain 404 here too
    Route("/connectors/{connector}/tasks/{task}/status", {"GET": get_task_status}),
    Route("/connectors/{connector}/tasks/{task}/restart", {"POST": forwarded(restart_task)}),
    Route("/connectors/{connector}/topics", {"GET": get_topics}),
    Route("/connectors/{connector}/topics/reset", {"PUT": reset_topics}),
    Route(
        "/connectors/{connector}/offsets",
        {"GET": get_offsets, "PATCH": forwarded(alter_offsets), "DELETE": forwarded(reset_offsets)},
    ),
    Route("/connectors/{connector}/fence", {"PUT": forwarded(fence)}),
]
