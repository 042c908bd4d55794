"""Registry requests never run on the event loop: a converter whose caches miss raises SchemaNotCached there, and
`converted` makes the request in a thread, waits with back-off while the registry is down, and converts again.
Against a real registry on loopback (the worker's own, in a thread)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from registry_testkit import free_port, running_registry

from miniconnect.converters.avro import AvroConverter
from miniconnect.data.schema import INT32_SCHEMA, DataError, Schema, Struct
from miniconnect.errors import ConnectError
from miniconnect.schema_registry.pending import SchemaNotCached, converted, sleep
from miniconnect.schema_registry.server import SchemaRegistryServer
from miniconnect.transport.embedded import EmbeddedLog

SCHEMA = Schema.struct([("id", INT32_SCHEMA)], name="thing")


def converter(url: str) -> AvroConverter:
    conv = AvroConverter()
    conv.configure({"schema.registry.url": url, "retries.wait.ms": "50", "retries.max.wait.ms": "100"}, False)
    return conv


def test_on_the_loop_a_cache_miss_is_fetched_in_a_thread_once(tmp_path: Path) -> None:
    with running_registry(tmp_path) as registry:
        url = registry.urls[0]
        writer, reader = converter(url), converter(url)

        async def go() -> list[int]:
            with pytest.raises(SchemaNotCached):  # on the loop: no request made there
                writer.from_connect_data("t", SCHEMA, Struct(SCHEMA, [1]))
            assert writer.client.requests == 0
            values = [Struct(SCHEMA, [i]) for i in range(100)]
            data = await converted(lambda: writer.from_connect_batch("t", [SCHEMA] * 100, values), "t", sleep)
            assert writer.client.requests == 1
            decoded = await converted(lambda: reader.to_connect_batch("t", data), "t", sleep)
            # the schema by id, then its version under the subject: two requests for 100 records
            assert reader.client.requests == 2
            reader.to_connect_batch("t", data)  # cached now: no SchemaNotCached on the loop
            return [v.get("id") for _, v in decoded]

        assert asyncio.run(go()) == list(range(100))


def test_a_registry_down_is_waited_for_without_holding_the_loop(tmp_path: Path) -> None:
    port = free_port()
    conv = converter(f"http://127.0.0.1:{port}")
    traces: list[str | None] = []

    async def go() -> tuple[int, bytes | None]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        waits: list[float] = []

        async def wait(seconds: float) -> bool:
            waits.append(seconds)
            await asyncio.sleep(seconds)
            if len(waits) == 3:  # the registry comes up while the task waits
                await registry.start()
            return False

        registry = SchemaRegistryServer(f"http://127.0.0.1:{port}", lambda: EmbeddedLog(str(tmp_path)))
        try:
            data = await converted(
                lambda: conv.from_connect_data("t", SCHEMA, Struct(SCHEMA, [7])),
                "the record at t/0/5",
                wait,
                traces.append,
            )
        finally:
            await registry.stop()
        ticking.cancel()
        return ticks, data

    ticks, data = asyncio.run(go())
    assert data is not None and data[0] == 0 and ticks > 0
    assert len([t for t in traces if t]) >= 3 and traces[-1] is None
    assert "Waiting for the Schema Registry to convert the record at t/0/5" in traces[0]
    assert "unreachable" in traces[0]


def test_a_stopping_task_ends_the_wait(tmp_path: Path) -> None:
    conv = converter(f"http://127.0.0.1:{free_port()}")

    async def stopping(seconds: float) -> bool:
        return True

    async def go() -> None:
        await converted(lambda: conv.from_connect_data("t", SCHEMA, Struct(SCHEMA, [1])), "a record", stopping)

    with pytest.raises(ConnectError, match="Stopped while waiting for the Schema Registry"):
        asyncio.run(go())


def test_a_refusal_is_a_record_error_asked_once(tmp_path: Path) -> None:
    with running_registry(tmp_path) as registry:
        reader = converter(registry.urls[0])
        unknown = b"\x00\x00\x00\x7f\xff\x02"

        async def go() -> list[str]:
            errors = []
            for _ in range(5):
                try:
                    await converted(lambda: reader.to_connect_data("t", unknown), "t", sleep)
                except DataError as e:
                    errors.append(str(e))
            return errors

        errors = asyncio.run(go())
        assert len(errors) == 5 and "40403" in errors[0] and "schema for id 32767" in errors[0]
        assert reader.client.requests == 1
