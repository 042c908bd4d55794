"""Routing as JAX-RS does it: match on the raw (still percent-encoded) path, then decode each segment.

Starlette's own routing matches on the decoded path, where a connector named `a/b` (sent as `a%2Fb`) would
already look like two segments. Also here: optional trailing slash, OPTIONS with Allow, HEAD for every GET,
405 for a known path with the wrong method, and 415/406 for a wrong request or accepted media type.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..data.javahash import string_hash
from ..errors import BadRequest
from .errors import HttpError, exception_response

Handler = Callable[["RestRequest"], Awaitable[Response]]
_JAVA_INT = re.compile(r"[+-]?[0-9]+")


def _java_hash_bucket(s: str) -> int:
    """Bucket of `s` in a default-sized java.util.HashSet: Jersey lists allowed methods in that order."""
    h = string_hash(s)
    return (h ^ (h >> 16)) & 15


@dataclass
class Route:
    pattern: str
    methods: dict[str, Handler]
    consumes_json: bool = True  # the resource declares @Consumes(application/json)

    def __post_init__(self) -> None:
        self.segments = [s for s in self.pattern.strip("/").split("/") if s] if self.pattern != "/" else []
        declared = list(self.methods)
        if "GET" in self.methods:
            declared.append("HEAD")
        declared.append("OPTIONS")
        self.allowed = sorted(declared, key=lambda m: (_java_hash_bucket(m), declared.index(m)))

    def match(self, raw_segments: list[str]) -> dict[str, str] | None:
        if len(raw_segments) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for want, got in zip(self.segments, raw_segments):
            got = got.split(";", 1)[0]  # JAX-RS matrix parameters are not part of the segment
            if want.startswith("{"):
                if not got:
                    return None
                params[want[1:-1].split(":")[0]] = unquote(got)
            elif unquote(got) != want:
                return None
        return params


class RestRequest:
    """What a route handler gets: the Starlette request, decoded path params and Connect-style helpers."""

    def __init__(self, request: Request, params: dict[str, str], herder: Any):
        self.request = request
        self.params = params
        self.herder = herder
        self.query = request.query_params

    def task_param(self) -> int:
        """`{task}` is a Java Integer: anything else is JAX-RS's plain 404."""
        value = self.params["task"]
        if not _JAVA_INT.fullmatch(value) or not -(1 << 31) <= int(value) < (1 << 31):
            raise HttpError(404, media_type="application/json")  # the resource method was chosen: JSON
        return int(value)

    def bool_param(self, name: str, default: bool) -> bool:
        """Java's Boolean parsing: only a case-insensitive "true" is true; missing or blank is the default."""
        value = self.query.get(name)
        if value is None or not value.strip():
            return default
        return value.lower() == "true"

    async def json_body(self) -> Any:
        """The parsed JSON body; 415 for another media type, 400 naming the problem for bad JSON."""
        body = await self.request.body()
        if "content-type" not in self.request.headers and body:
            raise HttpError(415)
        if not body.strip():
            raise BadRequest(
                f"Request body is empty: {self.request.method} {self.request.url.path} expects a JSON body"
            )
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise BadRequest(f"Invalid JSON in request body at line {e.lineno}, column {e.colno}: {e.msg}") from None


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _accepts_json(accept: str) -> bool:
    for item in accept.split(","):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        q = 1.0
        for p in parts[1:]:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 1.0
        if q > 0 and media in ("*/*", "application/*", "application/json", "*"):
            return True
    return False


class Router:
    """Dispatches to route handlers; every exception becomes Connect's error body here."""

    def __init__(self, routes: list[Route], herder: Any):
        self.routes = routes
        self.herder = herder

    async def __call__(self, request: Request) -> Response:
        try:
            return await self._dispatch(request)
        except Exception as e:
            return exception_response(e)

    @staticmethod
    def _raw_segments(request: Request) -> list[str]:
        raw = request.scope.get("raw_path")
        path = raw.decode("utf-8", "replace").split("?", 1)[0] if raw else request.scope["path"]
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        return path.split("/")[1:] if path != "/" else []

    async def _dispatch(self, request: Request) -> Response:
        segments = self._raw_segments(request)
        for route in self.routes:
            params = route.match(segments)
            if params is not None:
                break
        else:
            raise HttpError(404)
        method = request.method
        if method == "OPTIONS":
            return Response(
                ", ".join(route.allowed), 200, headers={"Allow": ",".join(route.allowed), "Content-Type": "text/plain"}
            )
        handler = route.methods.get("GET" if method == "HEAD" else method)
        if handler is None:
            raise HttpError(405)
        if route.consumes_json and method in ("POST", "PUT", "PATCH"):
            content_type = request.headers.get("content-type")
            if content_type is not None and _media_type(content_type) != "application/json":
                raise HttpError(415)
        accept = request.headers.get("accept")
        if accept and not _accepts_json(accept):
            raise HttpError(406)
        response = await handler(RestRequest(request, params, self.herder))
        if method == "HEAD":
            headers = dict(response.headers)
            return Response(b"", response.status_code, headers=headers)
        return response
