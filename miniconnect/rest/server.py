"""RestServer: uvicorn servers in the current event loop, one per listener (plus admin listeners)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import uvicorn

from ..config.tls import server_context, with_prefix_all_or_nothing
from ..config.worker_config import parse_listeners
from .app import create_app
from .basic_auth import rest_extensions

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the CLI owns SIGINT/SIGTERM; uvicorn must not take them over


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class RestServer:
    """Serves the REST API on every `listeners` entry (default http://:8083, all interfaces); admin endpoints
    follow `admin.listeners` and GET /metrics `metrics.listeners` (unset: on the normal listeners, "": nowhere,
    URLs: only there)."""

    def __init__(self, herder: Any, config: Any):
        self.herder = herder
        self.config = config
        self._servers: list[tuple[_Server, asyncio.Task[None]]] = []
        self._bound: list[tuple[str, str, int]] = []  # (scheme, host, actual port)

    def _plan(self) -> list[tuple[Any, tuple[str, str, int], str]]:
        """(app, listener, prefix of its ssl.* keys) for every listener. Like Kafka's RestServer, REST extensions
        (authentication) apply to the main listeners only, not to separate admin listeners."""
        listeners = parse_listeners(self.config["listeners"])
        admin_value = self.config["admin.listeners"]
        admin = None if admin_value is None else parse_listeners(admin_value)
        main_app = create_app(self.herder, self.config, admin=admin is None, auth=rest_extensions(self.config))
        plan = [(main_app, listener, "listeners.https.") for listener in listeners]
        if admin:
            admin_app = create_app(self.herder, self.config, admin=True, main=False)
            plan += [(admin_app, listener, "admin.listeners.https.") for listener in admin]
        metrics_value = self.config["metrics.listeners"]
        if metrics_value:  # GET /metrics only, on listeners of its own
            metrics_app = create_app(self.herder, self.config, admin=False, main=False, metrics=True)
            plan += [(metrics_app, listener, "metrics.listeners.https.") for listener in parse_listeners(metrics_value)]
        return plan

    def _ssl(self, prefix: str) -> ssl.SSLContext:
        """SSLUtils.createServerSideSslContextFactory: the listener's `<prefix>ssl.*` keys if there is any, else
        the worker's `ssl.*` keys."""
        return server_context(with_prefix_all_or_nothing(getattr(self.config, "originals", self.config), prefix))

    async def start(self) -> None:
        if self._servers:
            return
        try:
            for app, (scheme, host, port), ssl_prefix in self._plan():
                context = self._ssl(ssl_prefix) if scheme == "https" else None
                sock = _bind(host or "0.0.0.0", port)
                actual_port = sock.getsockname()[1]
                config = uvicorn.Config(
                    app, lifespan="off", log_config=None, access_log=False, server_header=False, date_header=True
                )
                config.load()
                config.ssl = context  # uvicorn serves TLS with any SSLContext set after load()
                server = _Server(config)
                task = asyncio.get_running_loop().create_task(
                    server.serve(sockets=[sock]), name=f"rest-{host}:{actual_port}"
                )
                self._servers.append((server, task))
                while not server.started and not task.done():  # noqa: ASYNC110 (uvicorn sets a flag, no event)
                    await asyncio.sleep(0.01)
                if task.done():
                    task.result()  # raises the startup failure
                self._bound.append((scheme, host, actual_port))
                log.info("REST server listening at %s://%s:%d/", scheme, host or "0.0.0.0", actual_port)
        except BaseException:
            await self.stop()
            raise

    @property
    def advertised_url(self) -> str:
        """The URL other workers and users are given (`rest.advertised.*`, else the first listener)."""
        url = self.config.rest_url()
        if self._bound and url.rstrip("/").endswith(":0"):
            url = f"{url.rstrip('/')[:-2]}:{self._bound[0][2]}/"
        return url

    @property
    def ports(self) -> list[int]:
        return [p for _, _, p in self._bound]

    async def stop(self) -> None:
        servers, self._servers = self._servers, []
        for server, _ in servers:
            server.should_exit = True
        for _, task in servers:
            try:
                await asyncio.wait_for(task, 10)
            except (Exception, asyncio.CancelledError) as e:
                log.debug("REST server stopped with %r", e)
        self._bound.clear()
