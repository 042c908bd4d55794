"""A Schema Registry served the way the worker serves it (its own thread, the `_schemas` topic of an embedded log in
a temp dir), for tests that talk to it over HTTP on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from miniconnect.schema_registry.server import SchemaRegistryServer
from miniconnect.transport.embedded import EmbeddedLog


@contextmanager
def running_registry(
    log_dir: Path, users: dict[str, str] | None = None, port: int = 0, **kwargs
) -> Iterator[SchemaRegistryServer]:
    server = SchemaRegistryServer(f"http://127.0.0.1:{port}", lambda: EmbeddedLog(str(log_dir)), users=users, **kwargs)
    asyncio.run(server.start())
    try:
        yield server
    finally:
        asyncio.run(server.stop())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
