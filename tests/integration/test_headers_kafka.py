"""header.converter on a real Kafka broker through a real `miniconnect standalone` worker: a FileStream source whose
InsertHeader / HeaderFrom headers reach Kafka as the header converter's bytes (default SimpleHeaderConverter, or the
connector's JsonConverter), and a FileStream sink whose header converter reads each record's headers (a header it
cannot read sends that record to the dead letter queue, stage HEADER_CONVERTER, as on a JVM worker)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from helpers.kafka_topics import read_records
from servers import run_async
from worker_process import WorkerProcess

HEADER_TRANSFORMS = {
    "transforms": "hoist,origin,copy",
    "transforms.hoist.type": "org.apache.kafka.connect.transforms.HoistField$Value",
    "transforms.hoist.field": "line",
    "transforms.origin.type": "InsertHeader",
    "transforms.origin.header": "origin",
    "transforms.origin.value.literal": "42",
    "transforms.copy.type": "org.apache.kafka.connect.transforms.HeaderFrom$Value",
    "transforms.copy.fields": "line",
    "transforms.copy.headers": "copied",
    "transforms.copy.operation": "copy",
}


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_file_source_headers_reach_kafka_as_the_header_converter_writes_them(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    uid = uuid.uuid4().hex[:8]
    src = tmp_path / "in.txt"
    src.write_text("".join(f"line {i}\n" for i in range(20)))
    worker = WorkerProcess(tmp_path, extra={"bootstrap.servers": kafka_bootstrap})
    worker.start()
    try:
        base = {
            "connector.class": "FileStreamSource",
            "file": str(src),
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            **HEADER_TRANSFORMS,
        }
        for name, extra in (
            (f"simple-{uid}", {}),
            (
                f"json-{uid}",
                {
                    "header.converter": "org.apache.kafka.connect.json.JsonConverter",
                    "header.converter.schemas.enable": "true",
                },
            ),
        ):
            r = worker.rest("POST", "/connectors", {"name": name, "config": {**base, "topic": name, **extra}})
            assert r.status_code == 201, r.text
            worker.wait_running(name)
        simple = read_records(kafka_bootstrap, f"simple-{uid}", 20)
        json_headers = read_records(kafka_bootstrap, f"json-{uid}", 20)
    finally:
        worker.stop()
    assert [r.value for r in simple] == [f'{{"line":"line {i}"}}'.encode() for i in range(20)]
    assert [list(r.headers) for r in simple] == [
        [("origin", b"42"), ("copied", f"line {i}".encode())] for i in range(20)
    ]
    assert list(json_headers[3].headers) == [
        ("origin", b'{"schema":{"type":"int8","optional":false},"payload":42}'),
        ("copied", b'{"schema":{"type":"string","optional":false},"payload":"line 3"}'),
    ]


def _produce(bootstrap: str, topic: str, records: list[tuple[bytes, list[tuple[str, bytes]]]]) -> None:
    async def go() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for value, headers in records:
                await producer.send_and_wait(topic, value, headers=headers)
        finally:
            await producer.stop()

    run_async(go)


def test_file_sink_reads_headers_with_its_header_converter(tmp_path: Path, kafka_bootstrap: str) -> None:
    uid = uuid.uuid4().hex[:8]
    topic, dlq, dst = f"hin-{uid}", f"hdlq-{uid}", tmp_path / "out.txt"
    records: list[tuple[bytes, list[tuple[str, bytes]]]] = [
        (f"v{i}".encode(), [("j", b"{not json" if i == 5 else str(i).encode())]) for i in range(10)
    ]
    _produce(kafka_bootstrap, topic, records)
    worker = WorkerProcess(tmp_path, extra={"bootstrap.servers": kafka_bootstrap})
    worker.start()
    try:
        config: dict[str, Any] = {
            "connector.class": "FileStreamSink",
            "file": str(dst),
            "topics": topic,
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            "header.converter": "org.apache.kafka.connect.json.JsonConverter",
            "header.converter.schemas.enable": "false",
            "errors.tolerance": "all",
            "errors.deadletterqueue.topic.name": dlq,
            "errors.deadletterqueue.topic.replication.factor": "1",
            "errors.deadletterqueue.context.headers.enable": "true",
        }
        r = worker.rest("PUT", f"/connectors/sink-{uid}/config", config)
        assert r.status_code == 201, r.text
        worker.wait_running(f"sink-{uid}")
        worker.wait_for(lambda: len(_lines(dst)) >= 9, timeout=60, what="the good records in the file")
        dead = read_records(kafka_bootstrap, dlq, 1)
    finally:
        worker.stop()
    assert _lines(dst) == [f"v{i}" for i in range(10) if i != 5]
    assert [r.value for r in dead] == [b"v5"]
    headers = dict(dead[0].headers)
    assert headers["j"] == b"{not json" and headers["__connect.errors.stage"] == b"HEADER_CONVERTER"
    assert headers["__connect.errors.class.name"] == b"org.apache.kafka.connect.json.JsonConverter"
