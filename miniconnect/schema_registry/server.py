"""SchemaRegistryServer: Confluent's Schema Registry API served by the worker (`schema.registry.listeners`, http or
https with the `schema.registry.ssl.*` keys), stored in the `_schemas` topic of the worker's log (embedded or Kafka).

It runs in a thread of its own, with its own event loop and its own client of the log, so that the worker's loop
and its tasks' registry requests (made in threads, see pending.py) do not wait for each other."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

import uvicorn

from ..config.tls import server_context
from ..config.worker_config import parse_listeners
from .app import create_app
from .election import ElectionResult, LeaderElector, RegistryIdentity
from .forwarding import LeaderForwarder
from .registry import Registry
from .store import SchemasTopic

log = logging.getLogger(__name__)

FIRST_ELECTION_S = 30.0


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        pass

    def capture_signals(self) -> Any:  # the worker owns SIGINT/SIGTERM
        import contextlib

        return contextlib.nullcontext()


class SchemaRegistryServer:
    """start() returns once the registry has replayed `_schemas` and listens; stop() is safe twice."""

    def __init__(
        self,
        listeners: str,
        make_transport: Callable[[], Any],
        topic: str = "_schemas",
        replication_factor: int = 1,
        users: dict[str, str] | None = None,
        default_level: str = "BACKWARD",
        ssl_props: Mapping[str, Any] | None = None,
        leader_url: str = "",
        election: Mapping[str, Any] | None = None,
    ):
        """ssl_props: the `ssl.*` keys of https listeners (as the REST listeners take them), also trusted when
        forwarding to an https leader. leader_url: the registry that writes the topic, when not this one.
        election: on Kafka without a leader_url, the leader is elected in a group: GroupMember's keyword
        arguments, with `host_name` (advertised to the others; empty: the listener's host, else this machine's
        name), `leader_eligibility` and `sticky` (leader.election.sticky)."""
        self.leader_url = leader_url
        self.election = dict(election) if election and not leader_url else None
        self.listeners = parse_listeners(listeners)
        self.ssl_props = dict(ssl_props or {})
        self.make_transport = make_transport
        self.topic = topic
        self.replication_factor = replication_factor
        self.users = users
        self.default_level = default_level
        self.ports: list[int] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    async def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="schema-registry", daemon=True)
        self._thread.start()
        await asyncio.get_running_loop().run_in_executor(None, self._ready.wait)
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error

    @property
    def urls(self) -> list[str]:
        return [
            f"{scheme}://{host or '127.0.0.1'}:{port}"
            for (scheme, host, _), port in zip(self.listeners, self.ports, strict=False)
        ]

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:
            if not self._ready.is_set():
                self._error = e
            else:
                log.exception("Schema registry stopped")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        transport = self.make_transport()
        await transport.start()
        store = SchemasTopic(transport, self.topic, self.replication_factor)
        servers: list[tuple[_Server, asyncio.Task[None]]] = []
        forwarder = (
            LeaderForwarder(store, self.ssl_props, self.leader_url) if self.leader_url or self.election else None
        )
        elector: LeaderElector | None = None
        try:
            await store.start()
            app = create_app(Registry(store, self.default_level), self.users, forwarder)
            for scheme, host, port in self.listeners:
                config = uvicorn.Config(
                    app, host=host or "0.0.0.0", port=port, lifespan="off", log_config=None, access_log=False
                )
                config.load()
                config.ssl = server_context(self.ssl_props) if scheme == "https" else None  # as rest/server.py
                server = _Server(config)
                task = asyncio.create_task(server.serve())
                while not server.started and not task.done():  # noqa: ASYNC110 (uvicorn sets a flag, no event)
                    await asyncio.sleep(0.01)
                if task.done():
                    task.result()
                    raise OSError(f"Schema registry could not listen on {host}:{port}")
                servers.append((server, task))
                self.ports.append(server.servers[0].sockets[0].getsockname()[1])
                log.info("Schema registry listening at %s://%s:%d/", scheme, host or "0.0.0.0", self.ports[-1])
            if forwarder is not None and self.election is not None:
                elector = await self._elect(forwarder)
            self._ready.set()
            await self._stop.wait()
        finally:
            if elector is not None:
                await elector.stop()
            for server, _ in servers:
                server.should_exit = True
            for _, task in servers:
                await asyncio.gather(task, return_exceptions=True)
            if forwarder is not None:
                await forwarder.stop()
            await store.stop()
            await transport.stop()

    async def _elect(self, forwarder: LeaderForwarder) -> LeaderElector:
        """Joins the registries' group; returns after the first election, or FIRST_ELECTION_S (writes wait)."""
        assert self.election is not None
        group = dict(self.election)
        scheme, host, _ = self.listeners[0]
        # Confluent's host.name defaults to this machine's name; a wildcard listener address is not one to reach
        advertised = group.pop("host_name", "") or (host if host not in ("", "0.0.0.0", "::") else socket.getfqdn())
        me = RegistryIdentity(advertised, self.ports[0], bool(group.pop("leader_eligibility", True)), scheme)
        elected = asyncio.Event()

        async def on_elected(result: ElectionResult) -> None:
            await forwarder.set_leader(result, me)
            elected.set()

        sticky = bool(group.pop("sticky", False))
        elector = LeaderElector(me, on_elected, forwarder.revoke, sticky, **group)
        await elector.start()
        try:
            await asyncio.wait_for(elected.wait(), FIRST_ELECTION_S)
        except TimeoutError:
            log.warning(
                "No schema registry leader elected in group %s yet; writes are refused (50004) until one is",
                elector.group_id,
            )
        return elector

    async def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass
        await asyncio.get_running_loop().run_in_executor(None, thread.join, 15)
