"""Confluent Schema Registry's REST API as a Starlette app: routes parse the request, call the Registry and
shape the answer; RegistryError becomes Confluent's {"error_code", "message"} body with its HTTP status."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import InvalidSchema, RegistryError, Unauthorized
from .registry import Registry

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
Handler = Callable[[Request, Registry], Awaitable[Any]]


def reply(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, media_type=CONTENT_TYPE)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as e:
        raise InvalidSchema(f"Invalid JSON in request body: {e}") from None
    if not isinstance(body, dict):
        raise InvalidSchema("The request body must be a JSON object")
    return body


def _schema_args(body: dict[str, Any]) -> tuple[Any, str, list[dict[str, Any]]]:
    if "schema" not in body:
        raise InvalidSchema("Empty schema")
    return body["schema"], body.get("schemaType") or "AVRO", body.get("references") or []


# -- routes ----------------------------------------------------------------------------------------------------
async def root(request: Request, reg: Registry) -> Any:
    return {}


async def schema_types(request: Request, reg: Registry) -> Any:
    return ["JSON", "PROTOBUF", "AVRO"]


async def contexts(request: Request, reg: Registry) -> Any:
    return ["."]  # the default context only


async def all_schemas(request: Request, reg: Registry) -> Any:
    """GET /schemas: the latest (or every, latestOnly=false) version of each subject, optionally by prefix."""
    latest_only = request.query_params.get("latestOnly", "false").lower() == "true"
    deleted = _flag(request, "deleted")
    out = []
    for subject in reg.subjects(deleted, request.query_params.get("subjectPrefix", "")):
        versions = reg.versions(subject, deleted)
        for n in versions[-1:] if latest_only else versions:
            out.append(reg.version_json(subject, *reg.version(subject, n, deleted)))
    return out


def _serialized(request: Request) -> bool:
    return request.query_params.get("format", "") == "serialized"


async def schema_by_id(request: Request, reg: Registry) -> Any:
    return reg.schema_json(int(request.path_params["id"]), _serialized(request))


def _raw(stored: Any) -> Any:
    return stored.text if stored.schema_type == "PROTOBUF" else json.loads(stored.text)


async def raw_schema_by_id(request: Request, reg: Registry) -> Any:
    return _raw(reg.schema(int(request.path_params["id"])))


async def subjects_by_id(request: Request, reg: Registry) -> Any:
    return sorted({s for s, _ in reg.subjects_of(int(request.path_params["id"]), _flag(request, "deleted"))})


async def versions_by_id(request: Request, reg: Registry) -> Any:
    pairs = reg.subjects_of(int(request.path_params["id"]), _flag(request, "deleted"))
    return [{"subject": s, "version": n} for s, n in pairs]


async def subjects(request: Request, reg: Registry) -> Any:
    return reg.subjects(_flag(request, "deleted"), request.query_params.get("subjectPrefix", ""))


async def versions(request: Request, reg: Registry) -> Any:
    return reg.versions(request.path_params["subject"], _flag(request, "deleted"))


async def register(request: Request, reg: Registry) -> Any:
    body = await _body(request)
    schema, kind, refs = _schema_args(body)
    schema_id = await reg.register(
        request.path_params["subject"],
        schema,
        kind,
        refs,
        body.get("id"),
        body.get("version"),
        _flag(request, "normalize"),
    )
    return {"id": schema_id}


async def lookup(request: Request, reg: Registry) -> Any:
    schema, kind, refs = _schema_args(await _body(request))
    subject = request.path_params["subject"]
    return reg.lookup(subject, schema, kind, refs, _flag(request, "deleted"), _flag(request, "normalize"))


async def delete_subject(request: Request, reg: Registry) -> Any:
    return await reg.delete_subject(request.path_params["subject"], _flag(request, "permanent"))


async def get_version(request: Request, reg: Registry) -> Any:
    subject = request.path_params["subject"]
    n, v = reg.version(subject, request.path_params["version"], _flag(request, "deleted"))
    return reg.version_json(subject, n, v, _serialized(request))


async def raw_version(request: Request, reg: Registry) -> Any:
    subject = request.path_params["subject"]
    _, v = reg.version(subject, request.path_params["version"], _flag(request, "deleted"))
    return _raw(reg.schema(v.id))


async def referenced_by(request: Request, reg: Registry) -> Any:
    return reg.referenced_by(request.path_params["subject"], request.path_params["version"])


async def delete_version(request: Request, reg: Registry) -> Any:
    p = request.path_params
    return await reg.delete_version(p["subject"], p["version"], _flag(request, "permanent"))


async def compatibility(request: Request, reg: Registry) -> Any:
    schema, kind, refs = _schema_args(await _body(request))
    messages = reg.check(request.path_params["subject"], request.path_params.get("version"), schema, kind, refs)
    out: dict[str, Any] = {"is_compatible": not messages}
    if _flag(request, "verbose"):
        out["messages"] = messages
    return out


async def get_config(request: Request, reg: Registry) -> Any:
    subject = request.path_params.get("subject")
    return {"compatibilityLevel": reg.compatibility(subject, _flag(request, "defaultToGlobal"))}


async def put_config(request: Request, reg: Registry) -> Any:
    body = await _body(request)
    return {"compatibility": await reg.set_compatibility(request.path_params.get("subject"), body.get("compatibility"))}


async def delete_config(request: Request, reg: Registry) -> Any:
    return {"compatibilityLevel": await reg.delete_compatibility(request.path_params.get("subject"))}


async def get_mode(request: Request, reg: Registry) -> Any:
    subject = request.path_params.get("subject")
    return {"mode": reg.mode(subject, _flag(request, "defaultToGlobal"))}


async def put_mode(request: Request, reg: Registry) -> Any:
    body = await _body(request)
    return {"mode": await reg.set_mode(request.path_params.get("subject"), body.get("mode"))}


async def delete_mode(request: Request, reg: Registry) -> Any:
    return {"mode": await reg.delete_mode(request.path_params["subject"])}


ROUTES: list[tuple[str, Handler, str]] = [
    ("/", root, "GET"),
    ("/contexts", contexts, "GET"),
    ("/schemas", all_schemas, "GET"),
    ("/schemas/types", schema_types, "GET"),
    ("/schemas/ids/{id:int}", schema_by_id, "GET"),
    ("/schemas/ids/{id:int}/schema", raw_schema_by_id, "GET"),
    ("/schemas/ids/{id:int}/subjects", subjects_by_id, "GET"),
    ("/schemas/ids/{id:int}/versions", versions_by_id, "GET"),
    ("/subjects", subjects, "GET"),
    ("/subjects/{subject}", lookup, "POST"),
    ("/subjects/{subject}", delete_subject, "DELETE"),
    ("/subjects/{subject}/versions", versions, "GET"),
    ("/subjects/{subject}/versions", register, "POST"),
    ("/subjects/{subject}/versions/{version}", get_version, "GET"),
    ("/subjects/{subject}/versions/{version}", delete_version, "DELETE"),
    ("/subjects/{subject}/versions/{version}/schema", raw_version, "GET"),
    ("/subjects/{subject}/versions/{version}/referencedby", referenced_by, "GET"),
    ("/compatibility/subjects/{subject}/versions", compatibility, "POST"),
    ("/compatibility/subjects/{subject}/versions/{version}", compatibility, "POST"),
    ("/config", get_config, "GET"),
    ("/config", put_config, "PUT"),
    ("/config", delete_config, "DELETE"),
    ("/config/{subject}", get_config, "GET"),
    ("/config/{subject}", put_config, "PUT"),
    ("/config/{subject}", delete_config, "DELETE"),
    ("/mode", get_mode, "GET"),
    ("/mode", put_mode, "PUT"),
    ("/mode/{subject}", get_mode, "GET"),
    ("/mode/{subject}", put_mode, "PUT"),
    ("/mode/{subject}", delete_mode, "DELETE"),
]


# the routes that change the registry: a follower forwards them to the leader (see forwarding.py)
WRITES = {register, delete_subject, delete_version, put_config, delete_config, put_mode, delete_mode}


def create_app(registry: Registry, users: dict[str, str] | None = None, forwarder: Any = None) -> Starlette:
    """users: basic-auth user -> password; None or empty: no authentication. forwarder: a LeaderForwarder when
    several registries share the topic (one of them, maybe this one, writes it)."""

    def authorized(request: Request) -> bool:
        if not users:
            return True
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(token).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return users.get(user) == password

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                if not authorized(request):
                    raise Unauthorized("Unauthorized")
                if forwarder is None:
                    return reply(await handler(request, registry))
                if handler in WRITES and not forwarder.leads():
                    return await forwarder.forward(request)  # type: ignore[no-any-return]
                try:
                    return reply(await handler(request, registry))
                except RegistryError as e:
                    if e.status != 404:
                        raise
                await forwarder.catch_up()  # written through another registry a moment ago?
                return reply(await handler(request, registry))
            except RegistryError as e:
                return reply(e.body(), e.status)
            except Exception as e:
                log.exception("Schema registry request %s %s failed", request.method, request.url.path)
                return reply({"error_code": 50001, "message": f"Error in the backend data store: {e}"}, 500)

        return run

    by_path: dict[str, dict[str, Handler]] = {}
    for path, handler, method in ROUTES:
        by_path.setdefault(path, {})[method] = handler
    routes = []
    for path, methods in by_path.items():
        for method, handler in methods.items():
            routes.append(Route(path, endpoint(handler), methods=[method]))
    return Starlette(routes=routes)
