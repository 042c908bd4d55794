"""Differential tests: the same records through Apache Kafka Connect 4.1.1's JVM worker and a miniconnect worker
(standalone, one broker).
- Bad records into a FileStreamSink with `errors.tolerance=all` and a dead letter queue with context headers: the DLQ
  records (key, value, timestamp, the original headers, every `__connect.errors.*` header but the Java or Python
  stack trace) and the lines the sink wrote must be the same.
- A file of awkward lines through a FileStreamSource: the records in the topic and the source offsets must be the
  same."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jvm_connect
import pytest
from aiokafka import AIOKafkaProducer
from helpers.kafka_topics import read_topic
from worker_process import WorkerProcess

pytestmark = pytest.mark.skipif(not jvm_connect.available(), reason="run scripts/test-deps.sh: no Connect jars")

ENVELOPE = '{"schema":%s,"payload":%s}'
STRUCT_A = '{"type":"struct","fields":[{"field":"a","type":"%s","optional":true}],"optional":false}'
# (key, value, headers): each converts, or fails in a converter or a transform, in Kafka's worker as in ours
RECORDS: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = [
    (None, (ENVELOPE % (STRUCT_A % "string", '{"a":"12"}')).encode(), [("h", b"1")]),  # Cast: "12" -> 12
    (None, (ENVELOPE % (STRUCT_A % "string", '{"a":"twelve"}')).encode(), [("h", b"2")]),  # Cast fails
    (None, b"not json", [("h", b"3")]),  # the value converter fails
    (b"not json either", (ENVELOPE % (STRUCT_A % "int32", '{"a":5}')).encode(), []),  # the key converter
    (None, b'{"payload":{"a":1}}', [("h", b"\xff\xfe")]),  # no schema: the envelope is refused
    (None, b'{"schema":{"type":"strung"},"payload":1}', []),  # an unknown schema type
    (None, (ENVELOPE % ('{"type":"string","optional":false}', '"whole"')).encode(), []),  # Cast: not a struct
    (None, (ENVELOPE % (STRUCT_A % "string", '{"a":null}')).encode(), []),  # a null field is cast to null
    (b"null", None, [("tomb", b"")]),  # a tombstone (its key the JSON null) passes Cast
    (None, (ENVELOPE % (STRUCT_A % "boolean", '{"a":true}')).encode(), []),  # Cast: true -> 1
    (None, (ENVELOPE % ('{"type":"int32","optional":false}', "null")).encode(), []),  # null for a required int
    (None, b'{"schema":null,"payload":{"a":"9"}}', []),  # schemaless in an envelope: Cast of a map field
    (None, (ENVELOPE % (STRUCT_A % "double", '{"a":1e3}')).encode(), []),  # Cast: 1000.0 -> 1000
    (None, (ENVELOPE % (STRUCT_A % "float64", "{}")).encode(), []),  # "float64" is no JSON schema type
    (None, b'{"schema":{"type":"int32"},"payload":1,"x":2}', []),  # an extra envelope field
]


async def _produce(bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for i, (key, value, headers) in enumerate(RECORDS):
            await producer.send_and_wait(
                topic, value, key=key, partition=0, timestamp_ms=1_700_000_000_000 + i, headers=headers
            )
    finally:
        await producer.stop()


def _connector(topic: str, dlq: str, out: Path) -> dict[str, str]:
    return {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "file": str(out),
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "transforms": "c",
        "transforms.c.type": "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.c.spec": "a:int32",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    }


def _described(record: Any, connector: str) -> dict[str, Any]:
    headers = [
        (
            k,
            None
            if v is None
            else (b"<name>" if k == "__connect.errors.connector.name" and v == connector.encode() else v),
        )
        for k, v in record.headers
        if k != "__connect.errors.exception.stacktrace"
    ]
    return {"key": record.key, "value": record.value, "timestamp": record.timestamp, "headers": headers}


@pytest.fixture(scope="module")
def workers(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, WorkerProcess]]:
    """Kafka's standalone worker and ours, on one broker, for the module's tests."""
    tmp = tmp_path_factory.mktemp("records-differential")
    common = {
        "bootstrap.servers": kafka_bootstrap,
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "offset.flush.interval.ms": "500",
    }
    jvm = jvm_connect.JvmConnectWorker(tmp / "jvm", common, mode="standalone")
    mini = WorkerProcess(tmp / "mini", common)
    try:
        jvm.start()
        mini.start(timeout=60)
        yield jvm, mini
    finally:
        mini.stop()
        jvm.stop()


def test_dead_letter_queue_records_match_kafka_connect(
    kafka_bootstrap: str, workers: tuple[Any, WorkerProcess], tmp_path: Path
) -> None:
    topic = f"dlq-in-{uuid.uuid4().hex[:8]}"
    asyncio.run(_produce(kafka_bootstrap, topic))
    jvm, mini = workers
    sides: dict[str, Any] = {}
    for side, worker in (("jvm", jvm), ("mini", mini)):
        name, dlq, out = f"dlq-{side}", f"{topic}-dlq-{side}", tmp_path / f"{side}.txt"
        answer = worker.rest("POST", "/connectors", {"name": name, "config": _connector(topic, dlq, out)})
        assert answer.status_code == 201, answer.text
        sides[side] = (name, dlq, out)
    expected_dlq = 10  # records 1-6, 8 (its key: a JSON null is no envelope), 10, 13 and 14
    deadline = time.monotonic() + 60
    for side, (name, dlq, out) in sides.items():
        got = read_topic(kafka_bootstrap, dlq)
        while len(got) < expected_dlq and time.monotonic() < deadline:
            time.sleep(0.5)
            got = read_topic(kafka_bootstrap, dlq)
        sides[side] = (name, [_described(r, name) for r in got], out)
    while time.monotonic() < deadline and not all(
        o.exists() and len(o.read_text().splitlines()) >= 5 for _, _, o in sides.values()
    ):
        time.sleep(0.2)
    status = {
        side: w.rest("GET", f"/connectors/dlq-{side}/status").json() for side, w in (("jvm", jvm), ("mini", mini))
    }
    (_, jvm_dlq, jvm_out), (_, mini_dlq, mini_out) = sides["jvm"], sides["mini"]
    assert [t["state"] for t in status["mini"]["tasks"]] == [t["state"] for t in status["jvm"]["tasks"]] == ["RUNNING"]
    assert len(jvm_dlq) == expected_dlq, jvm_dlq
    differences = [f"record {i}:\n  jvm  {j}\n  mini {m}" for i, (j, m) in enumerate(zip(jvm_dlq, mini_dlq)) if j != m]
    assert len(mini_dlq) == len(jvm_dlq) and not differences, "\n".join(differences) or mini_dlq
    assert mini_out.read_text() == jvm_out.read_text()


# \n, \r\n and a lone \r end lines; malformed UTF-8 is replaced as Java's decoder replaces it; a last line without
# its end is not read yet (nor one ending in \r, which a \n may follow)
SOURCE_TEXT = b"a\nb\r\nc\rd\n\n  spaced  \n\xe2\x82\n\xed\xa0\x80x\n\xff\xfe\r\nend\nlast\r"
LAST_POSITION = len(SOURCE_TEXT) - len(b"last\r")  # where the next line starts, in bytes


def _lines_and_offsets(worker: Any, bootstrap: str, name: str, topic: str, count: int) -> tuple[list[Any], Any]:
    deadline = time.monotonic() + 60
    got = read_topic(bootstrap, topic)
    while len(got) < count and time.monotonic() < deadline:
        time.sleep(0.5)
        got = read_topic(bootstrap, topic)
    offsets: Any = None
    while time.monotonic() < deadline:  # committed every offset.flush.interval.ms
        offsets = worker.rest("GET", f"/connectors/{name}/offsets").json()
        if offsets.get("offsets") and offsets["offsets"][0]["offset"]["position"] >= LAST_POSITION - 3:
            break
        time.sleep(0.5)
    return [(r.key, r.value) for r in got], offsets


def test_file_source_records_and_offsets_match_kafka_connect(
    kafka_bootstrap: str, workers: tuple[Any, WorkerProcess], tmp_path: Path
) -> None:
    jvm, mini = workers
    results = {}
    for side, worker in (("jvm", jvm), ("mini", mini)):
        source = tmp_path / f"{side}-in.txt"  # the offsets name the file: the same name on both sides
        source.write_bytes(SOURCE_TEXT)
        topic = f"lines-{side}-{uuid.uuid4().hex[:8]}"
        config = {"connector.class": "FileStreamSource", "tasks.max": "1", "file": str(source), "topic": topic}
        answer = worker.rest("POST", "/connectors", {"name": "lines", "config": config})
        assert answer.status_code == 201, answer.text
        results[side] = (worker, topic, source)
    results = {
        side: _lines_and_offsets(worker, kafka_bootstrap, "lines", topic, 10)
        for side, (worker, topic, source) in results.items()
    }
    (jvm_records, jvm_offsets), (mini_records, mini_offsets) = results["jvm"], results["mini"]
    assert len(jvm_records) == 10, jvm_records
    assert mini_records == jvm_records
    # The position is where to read on from after a restart: a byte position here; Kafka's task counts the characters
    # it decoded, so its position falls behind by each malformed byte that became part of one replacement character
    # (seven bytes, four characters here), and its restart skips too few bytes (README)
    for side, offsets, position in (("jvm", jvm_offsets, LAST_POSITION - 3), ("mini", mini_offsets, LAST_POSITION)):
        (entry,) = offsets["offsets"]
        assert entry == {"partition": {"filename": str(tmp_path / f"{side}-in.txt")}, "offset": {"position": position}}
