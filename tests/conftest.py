"""Session fixtures for real servers (see tests/servers): each starts only when a test asks for it, in a temp
dir on a free loopback port, and stops at session end (also on failure).

- kafka_bootstrap -> "127.0.0.1:PORT" (single KRaft node). Override: MINICONNECT_TEST_KAFKA=host:port
- pg / mysql -> DbServer for the session server. Override: MINICONNECT_TEST_PG=postgresql://u:pw@host:port/db,
  MINICONNECT_TEST_MYSQL=mysql://u:pw@host:port/db
- kafka_secure -> KafkaServer with SASL_SSL, SSL (client certificates) and SASL_PLAINTEXT listeners besides
  PLAINTEXT (`listeners` by protocol, `ca` its certificate authority, users in servers.kafka.SASL_USERS).
- pg_tls -> PostgresServer with ssl=on (`server` its DbServer, `ca`, `client` a certificate of role mc_cert).
- mysql_tls -> MariaDbServer with TLS (`server`, `ca`, `client`).
- pg_db / mysql_db -> DbServer pointing at a fresh empty database, dropped after the test.
- pg_own / mysql_own / kafka_own -> PostgresServer / MariaDbServer / KafkaServer of one test's own (`server` its DbServer), which it may stop
  and start again (`halt`, `resume`) without disturbing other tests.
- registry_url -> the URL of a Schema Registry as the worker serves it (tests/registry_testkit.py, on an embedded
  log in a temp dir), one per test module.
Tests using them are marked `kafka`, `postgres`, `mysql` automatically (`-m "not kafka"` deselects them).
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from registry_testkit import running_registry
from servers import DbServer, KafkaServer, MariaDbServer, PostgresServer, db_server, kafka_server, run_async

_MARKERS = {
    "kafka_bootstrap": "kafka",
    "kafka_secure": "kafka",
    "pg_tls": "postgres",
    "pg_own": "postgres",
    "kafka_own": "kafka",
    "mysql_own": "mysql",
    "mysql_tls": "mysql",
    "pg": "postgres",
    "pg_db": "postgres",
    "mysql": "mysql",
    "mysql_db": "mysql",
}
_startup_times: dict[str, float] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        for fixture, marker in _MARKERS.items():
            if fixture in names and not item.get_closest_marker(marker):
                item.add_marker(marker)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if _startup_times:
        terminalreporter.write_line(
            "server start-up: " + ", ".join(f"{name} {secs:.1f}s" for name, secs in _startup_times.items())
        )


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    with kafka_server(_startup_times) as bootstrap:
        yield bootstrap


def _running(server, label: str):
    try:
        server.start()
        _startup_times[label] = server.startup_seconds
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kafka_secure() -> KafkaServer:
    yield from _running(KafkaServer(secure=True), "kafka (secure)")


@pytest.fixture(scope="session")
def pg_tls() -> PostgresServer:
    yield from _running(PostgresServer(tls=True), "postgresql (tls)")


@pytest.fixture(scope="session")
def mysql_tls() -> MariaDbServer:
    yield from _running(MariaDbServer(tls=True), "mariadb (tls)")


@pytest.fixture
def pg_own() -> PostgresServer:
    """A PostgreSQL server of the test's own, which it may stop and start again (`halt`, `resume`)."""
    yield from _running(PostgresServer(), "postgresql (own)")


@pytest.fixture
def mysql_own() -> MariaDbServer:
    """A MariaDB server of the test's own, which it may stop and start again (`halt`, `resume`)."""
    yield from _running(MariaDbServer(), "mariadb (own)")


@pytest.fixture
def kafka_own() -> KafkaServer:
    """A Kafka broker of the test's own (`bootstrap`), which it may stop and start again (`halt`, `resume`)."""
    yield from _running(KafkaServer(), "kafka (own)")


@pytest.fixture(scope="session")
def pg() -> DbServer:
    with db_server("postgresql", _startup_times) as db:
        yield db


@pytest.fixture(scope="session")
def mysql() -> DbServer:
    with db_server("mysql", _startup_times) as db:
        yield db


def _fresh_database(server: DbServer) -> DbServer:
    name = f"t_{uuid.uuid4().hex[:12]}"
    quote = '"' if server.kind == "postgresql" else "`"

    async def execute(sql: str) -> None:
        conn = await server.connect()
        try:
            if server.kind == "postgresql":
                await conn.execute(sql)
            else:
                async with conn.cursor() as cur:
                    await cur.execute(sql)
        finally:
            if server.kind == "postgresql":
                await conn.close()
            else:
                conn.close()

    run_async(lambda: execute(f"CREATE DATABASE {quote}{name}{quote}"))
    try:
        yield server.with_database(name)
    finally:
        force = " WITH (FORCE)" if server.kind == "postgresql" else ""
        run_async(lambda: execute(f"DROP DATABASE IF EXISTS {quote}{name}{quote}{force}"))


@pytest.fixture
def pg_db(pg: DbServer) -> DbServer:
    yield from _fresh_database(pg)


@pytest.fixture
def mysql_db(mysql: DbServer) -> DbServer:
    yield from _fresh_database(mysql)


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    with running_registry(tmp_path_factory.mktemp("registry") / "log") as server:
        yield server.urls[0]
