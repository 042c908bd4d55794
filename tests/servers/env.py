"""The servers a run uses: the ones named by MINICONNECT_TEST_* if set, else throwaway ones started here and
stopped on exit. Shared by the pytest fixtures (tests/conftest.py) and the benchmarks (bench/)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from .db import DbServer, parse_db_url
from .kafka import KafkaServer
from .mariadb import MariaDbServer
from .postgres import PostgresServer

KAFKA_ENV = "MINICONNECT_TEST_KAFKA"
DB_ENV = {"postgresql": ("MINICONNECT_TEST_PG", PostgresServer), "mysql": ("MINICONNECT_TEST_MYSQL", MariaDbServer)}


@contextmanager
def kafka_server(startup_times: dict[str, float] | None = None) -> Iterator[str]:
    """host:port of $MINICONNECT_TEST_KAFKA, else of a single-node KRaft broker that lives as long as the block."""
    override = os.environ.get(KAFKA_ENV)
    if override:
        yield override
        return
    server = KafkaServer()
    try:
        bootstrap = server.start()
        if startup_times is not None:
            startup_times["kafka"] = server.startup_seconds
        yield bootstrap
    finally:
        server.stop()


@contextmanager
def db_server(kind: str, startup_times: dict[str, float] | None = None) -> Iterator[DbServer]:
    """kind "postgresql" or "mysql" (MariaDB): the server of its MINICONNECT_TEST_* URL, else a throwaway one."""
    env, server_cls = DB_ENV[kind]
    override = os.environ.get(env)
    if override:
        yield parse_db_url(override)
        return
    server = server_cls()
    try:
        db = server.start()
        if startup_times is not None:
            startup_times[db.kind] = server.startup_seconds
        yield db
    finally:
        server.stop()
