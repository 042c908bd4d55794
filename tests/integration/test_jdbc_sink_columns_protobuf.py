"""The JDBC sink's column path for ProtobufConverter records (a flat message of one schema id decoded for the whole
batch at once) against its record path, with the real Schema Registry the worker serves: the same records written
both ways leave identical rows on PostgreSQL, MariaDB and SQLite, for every scalar type, Decimal, Date, Time and Timestamp
(confluent.type.Decimal, google.type.Date, google.type.TimeOfDay, google.protobuf.Timestamp submessages), NULLs (proto3 `optional`), unicode
and a field name Protobuf only takes scrubbed; messages with other submessages stay on the record path."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from helpers.jdbc_sink_db import Db, db_for
from helpers.sink_columns import ALL_TYPES, batches, table_rows, value, write_by_columns, write_by_records

from miniconnect.converters.protobuf import ProtobufConverter
from miniconnect.converters.string import StringConverter
from miniconnect.data.schema import Schema, Struct

FLAT = Schema.struct([(f.name, f.schema) for f in ALL_TYPES.fields], name="flat")
CONFIG = {"optional.for.nullables": "true", "scrub.invalid.names": "true"}


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def db(request: pytest.FixtureRequest, tmp_path: Any) -> Db:
    return db_for(request, tmp_path)


def protobuf(url: str, **config: str) -> ProtobufConverter:
    conv = ProtobufConverter()
    conv.configure({"schema.registry.url": url, **CONFIG, **config}, False)
    return conv


def encoded(url: str, n: int) -> list[bytes]:
    conv = protobuf(url)
    rows = [Struct(FLAT, [value(i).values[ALL_TYPES.field(f.name).index] for f in FLAT.fields]) for i in range(n)]
    return [conv.from_connect_data("t", FLAT, r) for r in rows]


async def test_every_type_the_same_both_ways(db: Db, registry_url: str) -> None:
    raw = batches("t", await asyncio.to_thread(encoded, registry_url, 200))
    kc, vc = StringConverter(), protobuf(registry_url)
    await write_by_records(db, "by_records", raw, kc, vc)
    assert await write_by_columns(db, "by_columns", raw, kc, vc)
    expected = await table_rows(db, "by_records")
    assert len(expected) == 200 and any(None in r for r in expected)
    assert await table_rows(db, "by_columns") == expected
    assert await db.columns("by_columns") == await db.columns("by_records")


async def test_nested_messages_stay_on_the_record_path(db: Db, registry_url: str) -> None:
    inner = Schema.struct([("x", FLAT.fields[1].schema)], name="inner", optional=True)
    nested = Schema.struct([("id", FLAT.fields[0].schema), ("inner", inner)], name="nested")
    conv = protobuf(registry_url)
    data = await asyncio.to_thread(
        lambda: [conv.from_connect_data("n", nested, Struct(nested, [f"i{i}", Struct(inner, [i])])) for i in range(50)]
    )
    back = await asyncio.to_thread(conv.to_connect_batch, "n", data)
    assert back[3][1].values[1].values == [3]
    assert not await write_by_columns(db, "nested", batches("n", data), StringConverter(), conv)
