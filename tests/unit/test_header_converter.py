"""header.converter applied as Kafka does, on the real embedded log: a source record's Connect headers (from the
task, InsertHeader, HeaderFrom) are written as the header converter's bytes (default SimpleHeaderConverter); a sink
record's header bytes reach transforms and put() as Connect values with schemas."""

from __future__ import annotations

import decimal
from typing import Any

from helpers.worker import SINK, eventually, produce, start_connector

from miniconnect.connector import SinkConnector, SinkTask, SourceConnector, SourceTask
from miniconnect.data.records import Header, SinkRecord, SourceRecord
from miniconnect.data.schema import (
    BYTES_SCHEMA,
    FLOAT32_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    Struct,
    Type,
    decimal_schema,
)
from miniconnect.runtime.worker import Worker
from miniconnect.transport.base import ProducerRecord

SEEN_HEADERS: list[list[Any]] = []
PERSON = Schema.struct([("id", INT64_SCHEMA), ("name", STRING_SCHEMA)])


class HeaderSourceTask(SourceTask):
    """One record with Connect headers of several types, then nothing."""

    async def start(self, props: dict[str, str]) -> None:
        self.topic, self.sent = props["topic"], False

    async def poll(self) -> list[SourceRecord] | None:
        if self.sent:
            await self.context.wait(0.05)
            return None
        self.sent = True
        headers = [
            Header("int", 42, INT8_SCHEMA),
            Header("long", 1 << 40, INT64_SCHEMA),
            Header("text", "héllo", STRING_SCHEMA),
            Header("schemaless", {"a": [1, 2]}),
            Header("dec", decimal.Decimal("12.50"), decimal_schema(2)),
            Header("none", None, OPTIONAL_STRING_SCHEMA),
            ("raw", b"\x00already bytes"),  # a plain (key, bytes) pair is written as it is
        ]
        value = Struct(PERSON, [7, "ann"])
        return [SourceRecord({"p": 1}, {"o": 1}, self.topic, None, None, None, PERSON, value, headers=headers)]


class HeaderSource(SourceConnector):
    task_class = HeaderSourceTask

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]


class HeaderSinkTask(SinkTask):
    async def start(self, props: dict[str, str]) -> None:
        pass

    async def put(self, records: list[SinkRecord]) -> None:
        SEEN_HEADERS.extend(list(r.headers) for r in records)


class HeaderSink(SinkConnector):
    task_class = HeaderSinkTask

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]


async def _raw_headers(w: Worker, topic: str) -> list[tuple[str, bytes | None]]:
    consumer = w.transport.consumer(f"check-{topic}", {})
    await consumer.start()
    try:
        await consumer.subscribe([topic])
        for _ in range(100):
            got = await consumer.poll(1000, 100)
            if got:
                return list(got[0].headers)
        raise AssertionError("no record")
    finally:
        await consumer.stop()


def _setup(w: Worker) -> None:
    SEEN_HEADERS.clear()
    w.plugins.register(HeaderSource)
    w.plugins.register(HeaderSink)


SOURCE_WITH_TRANSFORMS = {
    "connector.class": "HeaderSource",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "transforms": "ins,from",
    "transforms.ins.type": "InsertHeader",
    "transforms.ins.header": "inserted",
    "transforms.ins.value.literal": "[1, 2.5]",
    "transforms.from.type": "org.apache.kafka.connect.transforms.HeaderFrom$Value",
    "transforms.from.fields": "id,name",
    "transforms.from.headers": "id,name",
    "transforms.from.operation": "copy",
}


async def test_source_headers_are_written_by_the_default_simple_header_converter(worker: Worker) -> None:
    _setup(worker)
    await start_connector(worker, "src", {**SOURCE_WITH_TRANSFORMS, "topic": "h1"})
    assert await _raw_headers(worker, "h1") == [
        ("int", b"42"),
        ("long", b"1099511627776"),
        ("text", "héllo".encode()),
        ("schemaless", b'{"a":[1,2]}'),
        ("dec", b"12.50"),
        ("none", None),
        ("raw", b"\x00already bytes"),
        ("inserted", b"[1.0,2.5]"),
        ("id", b"7"),
        ("name", b"ann"),
    ]


async def test_source_headers_follow_the_connectors_header_converter(worker: Worker) -> None:
    _setup(worker)
    config = {
        **SOURCE_WITH_TRANSFORMS,
        "topic": "h2",
        "header.converter": "org.apache.kafka.connect.json.JsonConverter",
        "header.converter.schemas.enable": "false",
    }
    await start_connector(worker, "src", config)
    headers = dict(await _raw_headers(worker, "h2"))
    assert headers["int"] == b"42" and headers["text"] == '"héllo"'.encode() and headers["name"] == b'"ann"'
    assert headers["inserted"] == b"[1.0,2.5]" and headers["raw"] == b"\x00already bytes"


HEADERS_IN = [("n", b"42"), ("big", b"70000"), ("s", b"hello"), ("f", b"1.5"), ("l", b"[1,2]"), ("nul", None)]


async def test_sink_gets_connect_headers_from_the_default_header_converter(worker: Worker) -> None:
    _setup(worker)
    await produce(worker, [ProducerRecord("hin", None, b"1", headers=HEADERS_IN), ProducerRecord("hin", None, b"2")])
    config = {
        **SINK,
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "connector.class": "HeaderSink",
        "topics": "hin",
        "transforms": "ins",
        "transforms.ins.type": "InsertHeader",
        "transforms.ins.header": "added",
        "transforms.ins.value.literal": "true",
    }
    await start_connector(worker, "sink", config)
    await eventually(lambda: len(SEEN_HEADERS) == 2)
    first, second = SEEN_HEADERS
    assert first[:5] == [
        Header("n", 42, INT8_SCHEMA),
        Header("big", 70000, Schema(Type.INT32)),
        Header("s", "hello", STRING_SCHEMA),
        Header("f", 1.5, FLOAT32_SCHEMA),
        Header("l", [1, 2], Schema.array(INT8_SCHEMA)),
    ]
    assert first[5] == Header("nul", None, None) and first[6].key == "added" and first[6].value is True
    assert [h.key for h in second] == ["added"]


async def test_sink_headers_follow_the_connectors_header_converter(worker: Worker) -> None:
    _setup(worker)
    await produce(worker, [ProducerRecord("hin2", None, b"1", headers=HEADERS_IN[:2])])
    config = {
        **SINK,
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "connector.class": "HeaderSink",
        "topics": "hin2",
        "header.converter": "org.apache.kafka.connect.storage.StringConverter",
    }
    await start_connector(worker, "sink", config)
    await eventually(lambda: len(SEEN_HEADERS) == 1)
    assert SEEN_HEADERS[0] == [
        Header("n", "42", OPTIONAL_STRING_SCHEMA),
        Header("big", "70000", OPTIONAL_STRING_SCHEMA),
    ]


async def test_a_header_the_converter_cannot_read_goes_to_the_dlq_as_kafka_does(worker: Worker) -> None:
    _setup(worker)
    bad = [("j", b"{not json")]
    await produce(
        worker,
        [
            ProducerRecord("hin3", None, b"1"),
            ProducerRecord("hin3", None, b"2", headers=bad),
            ProducerRecord("hin3", None, b"3"),
        ],
    )
    config = {
        **SINK,
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "connector.class": "HeaderSink",
        "topics": "hin3",
        "header.converter": "org.apache.kafka.connect.json.JsonConverter",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "hdlq",
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    }
    await start_connector(worker, "sink", config)
    await eventually(lambda: len(SEEN_HEADERS) == 2)
    dlq = dict(await _raw_headers(worker, "hdlq"))
    assert dlq["j"] == b"{not json" and dlq["__connect.errors.stage"] == b"HEADER_CONVERTER"
    assert dlq["__connect.errors.class.name"] == b"org.apache.kafka.connect.json.JsonConverter"


def test_simple_header_converter_keeps_bytes_it_cannot_read_as_bytes() -> None:
    from miniconnect.converters.simple_header import SimpleHeaderConverter

    assert SimpleHeaderConverter().to_connect_header("t", "k", b"") == (STRING_SCHEMA, "")
    assert SimpleHeaderConverter().to_connect_header("t", "k", None) == (None, None)
    assert BYTES_SCHEMA.type == Type.BYTES and INT16_SCHEMA.type == Type.INT16
