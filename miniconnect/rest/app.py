"""The Starlette app: Connect's REST resources, CORS, configured response headers, admin endpoints."""

from __future__ import annotations

import asyncio
import email.utils
import os
import re
import time
from functools import lru_cache
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import SERVER_VERSION
from ..config.http_headers import parse_header_rules
from ..runtime.herder import Herder
from ..runtime.seams import WorkerSettings
from . import connector_plugins, connectors, loggers
from . import entities as E
from .basic_auth import BasicAuth, BasicAuthMiddleware
from .metrics import metrics_route
from .routing import RestRequest, Route, Router

HEALTH_TIMEOUT_S = 10.0


@lru_cache(maxsize=1)
def build_commit() -> str:
    """The 16-character git id of this checkout, or "unknown" for an installed build."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    git = os.path.join(root, ".git")
    try:
        with open(os.path.join(git, "HEAD")) as f:
            head = f.read().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            path = os.path.join(git, ref)
            if os.path.exists(path):
                with open(path) as f:
                    head = f.read().strip()
            else:
                with open(os.path.join(git, "packed-refs")) as f:
                    head = next(line.split()[0] for line in f if line.rstrip().endswith(" " + ref))
        return head[:16] if re.fullmatch(r"[0-9a-f]{40,64}", head) else "unknown"
    except (OSError, StopIteration):
        return "unknown"


async def server_info(req: RestRequest) -> Response:
    return E.json_response(
        {"version": SERVER_VERSION, "commit": build_commit(), "kafka_cluster_id": await req.herder.kafka_cluster_id()}
    )


async def health(req: RestRequest) -> Response:
    herder = req.herder
    if not herder.ready:
        return E.json_response({"status": "starting", "message": "Worker is still starting up."}, 503)
    try:
        await asyncio.wait_for(herder.health_check(), HEALTH_TIMEOUT_S)
    except TimeoutError:
        if not herder.ready:
            return E.json_response({"status": "starting", "message": "Worker is still starting up."}, 503)
        return E.json_response(
            {
                "status": "unhealthy",
                "message": "Worker was unable to handle this request and may be unable to handle other requests.",
            },
            500,
        )
    return E.json_response(
        {"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}
    )


ROOT_ROUTES = [
    Route("/", {"GET": server_info}, consumes_json=False),
    Route("/health", {"GET": health}, consumes_json=False),
]


# -- response headers (response.http.headers.config) -------------------------------------------------------
class ResponseHeaders:
    """Applies the configured header rules to every response (Jetty's HeaderFilter)."""

    def __init__(self, app: ASGIApp, rules: list[tuple[str, str, str]]):
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                for action, name, value in self.rules:
                    if action.endswith("Date"):
                        value = email.utils.formatdate(time.time() + int(value) / 1000, usegmt=True)
                    raw = name.lower().encode("latin-1")
                    if not action.startswith("add"):  # Jetty's HeaderFilter: any other action sets
                        headers = [h for h in headers if h[0].lower() != raw]
                    headers.append((name.encode("latin-1"), value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- CORS (Jetty's CrossOriginFilter with Connect's settings) -----------------------------------------------
class CrossOrigin:
    """Adds Access-Control-* headers for allowed origins; pre-flight requests still go to the routes, so an
    OPTIONS on an unknown path is a 404 that carries the CORS headers, as with Connect."""

    ALLOWED_HEADERS: ClassVar[list[str]] = ["X-Requested-With", "Content-Type", "Accept", "Origin"]

    def __init__(self, app: ASGIApp, origins: str, methods: str | None):
        self.app = app
        self.origins = [o.strip() for o in origins.split(",") if o.strip()]
        self.any_origin = "*" in self.origins
        self.patterns = [re.compile(".*".join(re.escape(p) for p in o.split("*"))) for o in self.origins]
        self.methods = [m.strip() for m in (methods or "").split(",") if m.strip()] or ["GET", "POST", "HEAD"]

    def _origin_allowed(self, origin: str) -> bool:
        if self.any_origin:
            return True
        return any(p.fullmatch(o) for o in origin.split() for p in self.patterns)

    def _cors_headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        origin = headers.get(b"origin")
        if origin is None:
            return []
        origin_text = origin.decode("latin-1")
        if not self._origin_allowed(origin_text):
            return []
        request_method = headers.get(b"access-control-request-method")
        out = [(b"access-control-allow-origin", origin)]
        if not self.any_origin:
            out.append((b"vary", b"Origin"))
        out.append((b"access-control-allow-credentials", b"true"))
        if scope["method"] == "OPTIONS" and request_method is not None:  # pre-flight
            if request_method.decode("latin-1") not in self.methods:
                return []
            requested = [
                h.strip()
                for h in headers.get(b"access-control-request-headers", b"").decode("latin-1").split(",")
                if h.strip()
            ]
            allowed = {h.lower() for h in self.ALLOWED_HEADERS}
            if any(h.lower() not in allowed for h in requested):
                return []
            out.append((b"access-control-max-age", b"1800"))
            out.append((b"access-control-allow-methods", ",".join(self.methods).encode()))
            out.append((b"access-control-allow-headers", ",".join(self.ALLOWED_HEADERS).encode()))
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = self._cors_headers(scope)
        if not extra:
            return await self.app(scope, receive, send)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)


class _Endpoint:
    """The router as a plain ASGI app, so Starlette lets every method through to it."""

    def __init__(self, router: Router):
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.router(Request(scope, receive))
        await response(scope, receive, send)


def _get(config: Any, key: str, default: Any = None) -> Any:
    try:
        value = config[key]
    except KeyError:
        return default
    return default if value is None else value


def admin_enabled_on_main(config: Any) -> bool:
    """admin.listeners unset: admin endpoints on the normal listeners; "" or URLs: not there."""
    return _get(config, "admin.listeners") is None


def metrics_enabled_on_main(config: Any) -> bool:
    """metrics.listeners unset: GET /metrics on the normal listeners; "" or URLs: not there."""
    return _get(config, "metrics.listeners") is None


def create_app(
    herder: Herder,
    config: WorkerSettings,
    admin: bool | None = None,
    main: bool = True,
    auth: BasicAuth | None = None,
    metrics: bool | None = None,
) -> Starlette:
    """The REST app. admin: serve /admin/loggers (default: as `admin.listeners` says for the normal
    listeners); main=False gives an app with only the admin endpoints (for separate admin listeners);
    metrics: serve GET /metrics (default: as `metrics.listeners` says for the normal listeners);
    auth: the REST extension's authentication, checked after CORS and the response headers, as Jersey's
    filters run inside Jetty's."""
    if admin is None:
        admin = admin_enabled_on_main(config)
    if metrics is None:
        metrics = main and metrics_enabled_on_main(config)
    routes: list[Route] = []
    if main:
        routes += ROOT_ROUTES + connectors.ROUTES + connector_plugins.ROUTES
    if admin:
        routes += loggers.ROUTES
    router = Router(routes, herder)
    # /metrics is plain text for Prometheus, outside Connect's JSON routing (which answers 406 to text/plain)
    extra = [metrics_route(herder)] if metrics else []
    app = Starlette(routes=[*extra, StarletteRoute("/{path:path}", _Endpoint(router))])
    if auth is not None:
        app.add_middleware(BasicAuthMiddleware, auth=auth)
    rules = parse_header_rules(_get(config, "response.http.headers.config", ""))
    if rules:
        app.add_middleware(ResponseHeaders, rules=rules)
    origins = _get(config, "access.control.allow.origin", "")
    if origins and origins.strip():
        app.add_middleware(CrossOrigin, origins=origins, methods=_get(config, "access.control.allow.methods", ""))
    return app
