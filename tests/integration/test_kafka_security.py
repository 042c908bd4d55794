"""Kafka connections with security: a real broker with SASL_SSL, SSL (client certificates required) and
SASL_PLAINTEXT listeners (servers/kafka.py, secure=True), reached with the strings a Java client takes
(`sasl.jaas.config`, `ssl.truststore.*`, `ssl.keystore.*`, PEM and PKCS12); lz4 and snappy batches; a FileStream
pipeline through a real worker process on SASL_SSL with SCRAM-SHA-512, whose log never shows the SASL password."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from servers.certs import STORE_PASSWORD
from servers.kafka import SASL_USERS
from worker_process import WorkerProcess

from miniconnect.errors import ConnectError
from miniconnect.transport.base import NewTopic, ProducerRecord
from miniconnect.transport.kafka import KafkaTransport, client_kwargs
from miniconnect.transport.kafka.config import PRODUCER_SETTINGS

session_loop = pytest.mark.asyncio(loop_scope="session")


def _jaas(mechanism: str, user: str = "alice", password: str | None = None) -> str:
    module = (
        "org.apache.kafka.common.security.plain.PlainLoginModule"
        if mechanism == "PLAIN"
        else "org.apache.kafka.common.security.scram.ScramLoginModule"
    )
    return f'{module} required username="{user}" password="{password or SASL_USERS[user]}";'


def _security(kafka: Any, protocol: str, mechanism: str = "", **extra: str) -> dict[str, str]:
    props = {"security.protocol": protocol, **extra}
    if protocol.endswith("SSL"):
        props.update({"ssl.truststore.type": "PEM", "ssl.truststore.location": str(kafka.ca.cert_pem)})
    if protocol.startswith("SASL"):
        props.update(
            {"sasl.mechanism": mechanism, "sasl.jaas.config": extra.get("sasl.jaas.config") or _jaas(mechanism)}
        )
    return props


async def _round_trip(bootstrap: str, security: dict[str, str], compression: str) -> None:
    transport = KafkaTransport(
        bootstrap, {**security, "compression.type": compression}, security, security, startup_timeout_s=30
    )
    await transport.start()
    topic = f"sec-{uuid.uuid4().hex[:8]}"
    try:
        assert await transport.create_topics([NewTopic(topic, 1)]) == [topic]
        producer = transport.producer({**security, "compression.type": compression})
        await producer.start()
        try:
            await producer.send_batch([ProducerRecord(topic, None, f"v{i}".encode() * 20) for i in range(500)])
        finally:
            await producer.stop()
        consumer = transport.consumer(f"g-{topic}", {**security, "auto.offset.reset": "earliest"})
        await consumer.subscribe([topic])
        await consumer.start()
        got: list[Any] = []
        deadline = time.monotonic() + 60
        try:
            while len(got) < 500 and time.monotonic() < deadline:
                got += await consumer.poll(timeout_ms=500)
        finally:
            await consumer.stop()
        assert [r.value for r in got] == [f"v{i}".encode() * 20 for i in range(500)]
    finally:
        await transport.stop()


@pytest.mark.parametrize(
    "protocol,mechanism,compression",
    [
        ("SASL_SSL", "SCRAM-SHA-512", "lz4"),
        ("SASL_SSL", "PLAIN", "snappy"),
        ("SASL_PLAINTEXT", "SCRAM-SHA-256", "zstd"),
    ],
)
@session_loop
async def test_sasl_round_trips(kafka_secure, protocol: str, mechanism: str, compression: str) -> None:
    await _round_trip(kafka_secure.listeners[protocol], _security(kafka_secure, protocol, mechanism), compression)


@session_loop
async def test_ssl_with_client_certificate_from_pkcs12(kafka_secure) -> None:
    client = kafka_secure.ca.issue(f"client-{uuid.uuid4().hex[:6]}")
    security = _security(
        kafka_secure,
        "SSL",
        **{
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(client.p12),
            "ssl.keystore.password": STORE_PASSWORD,
            "ssl.key.password": STORE_PASSWORD,
        },
    )
    await _round_trip(kafka_secure.listeners["SSL"], security, "gzip")
    # the same identity as inline PEM strings, and the CA as an inline truststore
    pem = {
        "security.protocol": "SSL",
        "ssl.keystore.type": "PEM",
        "ssl.truststore.type": "PEM",
        "ssl.keystore.key": client.key_pem.read_text(),
        "ssl.keystore.certificate.chain": client.chain_pem.read_text(),
        "ssl.truststore.certificates": kafka_secure.ca.cert_pem.read_text(),
    }
    await _round_trip(kafka_secure.listeners["SSL"], pem, "none")


@session_loop
async def test_wrong_password_and_bad_settings_fail_clearly(kafka_secure, caplog) -> None:
    bad = _security(
        kafka_secure, "SASL_SSL", "SCRAM-SHA-512", **{"sasl.jaas.config": _jaas("SCRAM-SHA-512", password="wrong")}
    )
    transport = KafkaTransport(kafka_secure.listeners["SASL_SSL"], bad, bad, bad, startup_timeout_s=5)
    with pytest.raises(ConnectError, match="unreachable"):
        await asyncio.wait_for(transport.start(), 60)
    await transport.stop()
    assert (
        "SaslAuthenticationFailed: Authentication failed during authentication due to invalid credentials with "
        "SASL mechanism SCRAM-SHA-512" in caplog.text
    )
    no_cert = _security(kafka_secure, "SSL")  # the SSL listener requires a client certificate
    transport = KafkaTransport(kafka_secure.listeners["SSL"], no_cert, no_cert, no_cert, startup_timeout_s=3)
    with pytest.raises(Exception):  # noqa: B017 - refused during the handshake, as aiokafka reports it
        await asyncio.wait_for(transport.start(), 60)
    await transport.stop()
    with pytest.raises(ConnectError, match="Unsupported login module com.example.Login"):
        client_kwargs(
            {
                "security.protocol": "SASL_SSL",
                "sasl.mechanism": "SCRAM-SHA-256",
                "sasl.jaas.config": 'com.example.Login required username="a" password="b";',
            },
            PRODUCER_SETTINGS,
            "producer",
        )
    with pytest.raises(ConnectError, match="Unsupported sasl.mechanism OAUTHBEARER"):
        client_kwargs({"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER"}, PRODUCER_SETTINGS, "producer")
    with pytest.raises(ConnectError, match="sasl.jaas.config is required"):
        client_kwargs({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN"}, PRODUCER_SETTINGS, "producer")


def test_filestream_pipeline_over_sasl_ssl(tmp_path: Path, kafka_secure) -> None:
    security = _security(
        kafka_secure, "SASL_SSL", "SCRAM-SHA-512", **{"sasl.jaas.config": _jaas("SCRAM-SHA-512", "connect")}
    )
    props = {
        "bootstrap.servers": kafka_secure.listeners["SASL_SSL"],
        **security,
        **{f"{prefix}.{k}": v for prefix in ("producer", "consumer") for k, v in security.items()},
        "producer.compression.type": "lz4",
    }
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    lines = [f"line {i}" for i in range(50)]
    source.write_text("\n".join(lines) + "\n")
    topic = f"fs-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(tmp_path, props)
    worker.start(timeout=60)
    try:
        assert (
            worker.rest(
                "POST",
                "/connectors",
                {
                    "name": "src",
                    "config": {
                        "connector.class": "FileStreamSource",
                        "file": str(source),
                        "topic": topic,
                        "producer.override.compression.type": "snappy",
                    },
                },
            ).status_code
            == 201
        )
        assert (
            worker.rest(
                "POST",
                "/connectors",
                {"name": "dst", "config": {"connector.class": "FileStreamSink", "file": str(sink), "topics": topic}},
            ).status_code
            == 201
        )
        worker.wait_for(lambda: sink.exists() and sink.read_text().splitlines() == lines, 90, "all lines in out.txt")
    finally:
        worker.stop()
    assert SASL_USERS["connect"] not in worker.log()


def test_jdbc_pipeline_over_sasl_ssl(tmp_path: Path, kafka_secure, pg_db) -> None:
    """PostgreSQL -> Kafka (SASL_SSL, PLAIN for the worker, SCRAM-SHA-256 for the sink's consumer by connector
    override, the worker's consumer.* credentials being wrong) -> PostgreSQL, the database password from
    `${file:...}`."""
    from test_jdbc_source_e2e import sql

    worker_security = _security(kafka_secure, "SASL_SSL", "PLAIN", **{"sasl.jaas.config": _jaas("PLAIN", "connect")})
    props = {
        "bootstrap.servers": kafka_secure.listeners["SASL_SSL"],
        **worker_security,
        **{f"{prefix}.{k}": v for prefix in ("producer", "consumer") for k, v in worker_security.items()},
        "consumer.sasl.jaas.config": _jaas("PLAIN", "connect", "not-the-password"),
        "config.providers": "file",
        "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
    }
    secrets = tmp_path / "db.properties"
    secrets.write_text(f"password={pg_db.password}\n")
    sql(pg_db, "CREATE TABLE src (id serial PRIMARY KEY, name text NOT NULL)")
    db = {**pg_db.connection_config(), "connection.password": f"${{file:{secrets}:password}}"}
    topic_prefix = f"sec{uuid.uuid4().hex[:6]}_"
    worker = WorkerProcess(tmp_path, props)
    worker.start(timeout=60)
    try:
        assert (
            worker.rest(
                "PUT",
                "/connectors/src/config",
                {
                    "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
                    "mode": "incrementing",
                    "incrementing.column.name": "id",
                    "table.whitelist": "src",
                    "topic.prefix": topic_prefix,
                    "poll.interval.ms": "200",
                    "producer.override.compression.type": "lz4",
                    **db,
                },
            ).status_code
            == 201
        )
        assert (
            worker.rest(
                "PUT",
                "/connectors/dst/config",
                {
                    "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
                    "topics": f"{topic_prefix}src",
                    "auto.create": "true",
                    "table.name.format": "dst",
                    "consumer.override.sasl.mechanism": "SCRAM-SHA-256",
                    "consumer.override.sasl.jaas.config": _jaas("SCRAM-SHA-256", "alice"),
                    **db,
                },
            ).status_code
            == 201
        )
        sql(pg_db, "INSERT INTO src (name) SELECT 'r' || g FROM generate_series(1, 20) g")
        worker.wait_for(
            lambda: (
                sql(pg_db, "SELECT to_regclass('dst') IS NOT NULL")[0][0]
                and sql(pg_db, "SELECT count(*) FROM dst")[0][0] == 20
            ),
            90,
            "20 rows in dst",
        )
        assert sql(pg_db, "SELECT count(*) FROM src JOIN dst USING (id, name)")[0][0] == 20
    finally:
        worker.stop()
    log = worker.log()
    assert SASL_USERS["connect"] not in log and SASL_USERS["alice"] not in log
