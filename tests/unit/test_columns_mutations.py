"""The column readers of JsonConverter, AvroConverter and ProtobufConverter against their record paths, on batches in
which one or two records are spoiled at random: a byte changed, dropped or added, bytes moved across the border of
two neighbours, one record's head joined to another's tail. Whatever the spoiled batch is, a column read either
refuses it or gives, row for row, exactly what to_connect_data gives record for record; where a record fails
record by record, the column read must refuse (so that the runner's record path raises that record's error)."""

from __future__ import annotations

import datetime as dt
import decimal
import random
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from helpers.protobuf_client import converter as protobuf_converter
from helpers.protobuf_client import ctx, message_class

from miniconnect.converters.avro import COLUMN_BATCH, AvroConverter
from miniconnect.converters.json import JsonConverter
from miniconnect.data.columns import ColumnsRefused
from miniconnect.data.schema import (
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_BYTES_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    DataError,
    Schema,
    Struct,
    decimal_schema,
    timestamp_schema,
)
from miniconnect.schema_registry import proto_text

SCHEMA = Schema.struct(
    [
        ("id", STRING_SCHEMA),
        ("n", OPTIONAL_INT32_SCHEMA),
        ("big", OPTIONAL_INT64_SCHEMA),
        ("x", OPTIONAL_FLOAT64_SCHEMA),
        ("ok", OPTIONAL_BOOLEAN_SCHEMA),
        ("note", OPTIONAL_STRING_SCHEMA),
        ("raw", OPTIONAL_BYTES_SCHEMA),
    ],
    name="spoil.Row",
)
LOGICAL = Schema.struct(
    [("id", STRING_SCHEMA), ("at", timestamp_schema(optional=True)), ("price", decimal_schema(2, optional=True))],
    name="spoil.Priced",
)
TEXTS = ["", "a", "é世\U0001f600", '"}{\n', "\\", "x" * 130]
# bytes that mean something to the JSON reader, and to varints and union branches
TOKENS = b'{}[],:"\n 0-1.eE\\\x00\x01\x02\x7f\x80\xff'
ROUNDS = int(__import__("os").environ.get("SPOIL_ROUNDS", "120"))
SEED = int(__import__("os").environ.get("SPOIL_SEED", "0"))


def row(i: int) -> Struct:
    gap = i % 4 == 3
    return Struct(
        SCHEMA,
        [
            f"id-{i}",
            None if gap else [0, 1, -1, 2**31 - 1, -(2**31), 64, -65][i % 7],
            None if gap else [0, 2**63 - 1, -(2**63), 8191, -8192][i % 5],
            None if gap else [0.5, -0.0, 1e300, -2.5e-300][i % 4],
            None if gap else i % 2 == 0,
            None if gap else TEXTS[i % len(TEXTS)],
            None if gap else bytes(range(i % 20)),
        ],
    )


def priced(i: int) -> Struct:
    at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=i * 86_399_999)
    return Struct(LOGICAL, [f"p{i}", at if i % 3 else None, decimal.Decimal(i * 7919 - 40_000).scaleb(-2)])


def spoil(rng: random.Random, datas: list[bytes]) -> list[bytes]:
    """The batch with one or two records spoiled."""
    out = list(datas)
    for _ in range(rng.choice((1, 1, 2))):
        i = rng.randrange(len(out))
        d = out[i]
        at = rng.randrange(len(d) + 1)
        token = bytes([rng.choice(TOKENS) if rng.random() < 0.7 else rng.randrange(256)])
        how = rng.randrange(6)
        if how == 0 and d:
            out[i] = d[: min(at, len(d) - 1)] + token + d[min(at, len(d) - 1) + 1 :]
        elif how == 1 and d:
            out[i] = d[: min(at, len(d) - 1)] + d[min(at, len(d) - 1) + 1 :]
        elif how == 2:
            out[i] = d[:at] + token + d[at:]
        elif how == 3 and i + 1 < len(out):  # the border of two neighbours moved by k bytes, either way
            k = rng.randint(1, 6)
            if rng.random() < 0.5:
                out[i], out[i + 1] = d[:-k], d[-k:] + out[i + 1]
            else:
                out[i], out[i + 1] = d + out[i + 1][:k], out[i + 1][k:]
        elif how == 4:
            other = out[rng.randrange(len(out))]
            out[i] = d[:at] + other[rng.randrange(len(other) + 1) :]
        else:
            out[i] = d[:at]
    return out


def exactly(values: list[Any]) -> list[Any]:
    """Values with their types (True is not 1, -0.0 not 0.0, Decimal('1.0') not Decimal('1.00')); a timestamp in
    UTC whichever tzinfo says so."""
    return [[(type(v), v.isoformat() if isinstance(v, dt.datetime) else repr(v)) for v in vs] for vs in values]


def check(rng: random.Random, datas: list[bytes], by_records: Callable, by_columns: Callable) -> dict[str, int]:
    """ROUNDS spoiled batches: each refused, or read exactly as record by record. Counts what happened."""
    seen = {"refused": 0, "read": 0, "bad record refused": 0}
    for _ in range(ROUNDS):
        batch = spoil(rng, datas)
        try:
            want: list[Any] | None = [by_records(d) for d in batch]
        except DataError:
            want = None
        try:
            got = by_columns(batch)
        except ColumnsRefused:
            seen["bad record refused" if want is None else "refused"] += 1
            continue
        assert want is not None, f"read a batch that fails record by record: {batch!r}"
        assert exactly(got) == exactly(want), batch
        seen["read"] += 1
    return seen


def table_rows(table: Any) -> list[list[Any]]:
    return [list(r.values()) for r in table.to_pylist()]


@pytest.mark.parametrize("schema,make", [(SCHEMA, row), (LOGICAL, priced)], ids=["plain", "logical"])
def test_json_columns(schema: Schema, make: Callable[[int], Struct]) -> None:
    conv = JsonConverter()
    conv.configure({"schemas.enable": "true"}, False)
    datas = [conv.from_connect_data("t", schema, make(i)) for i in range(30)]
    reader = conv.column_reader("t", datas[0])
    assert reader is not None
    seen = check(
        random.Random(11 + SEED),
        datas,
        lambda d: list(conv.to_connect_data("t", d)[1].values),
        lambda batch: table_rows(reader.read(batch)),
    )
    assert seen["bad record refused"] > ROUNDS // 3 and seen["read"] > 0, seen


@pytest.mark.parametrize("schema,make", [(SCHEMA, row), (LOGICAL, priced)], ids=["plain", "logical"])
def test_avro_columns_and_large_batches(registry_url: str, schema: Schema, make: Callable[[int], Struct]) -> None:
    conv = AvroConverter()
    conv.configure({"schema.registry.url": registry_url}, False)
    topic = f"spoil-{schema.name}"
    datas = conv.from_connect_batch(topic, [schema] * 40, [make(i) for i in range(40)])
    reader = conv.column_reader(topic, datas[0])
    assert reader is not None

    def one(d: bytes) -> list[Any]:
        return list(conv.to_connect_data(topic, d)[1].values)

    seen = check(random.Random(12 + SEED), datas, one, lambda batch: table_rows(reader.read(batch)))
    assert seen["bad record refused"] > ROUNDS // 3 and seen["read"] > 0, seen
    if schema is not SCHEMA:
        return  # the record path reads large batches of plain types only with polars
    large = conv.from_connect_batch(topic, [schema] * COLUMN_BATCH, [make(i) for i in range(COLUMN_BATCH)])
    rng = random.Random(13 + SEED)
    for _ in range(ROUNDS // 4):
        batch = spoil(rng, large)
        try:
            want: Any = exactly([one(d) for d in batch])
        except DataError as e:
            want = str(e)
        try:
            got: Any = exactly([list(v.values) for _, v in conv.to_connect_batch(topic, batch)])
        except DataError as e:
            got = str(e)
        assert got == want


PROTO = """
syntax = "proto3";
package spoil;
message Row {
  string id = 1; int32 n = 2; int64 big = 3; double x = 4; bool ok = 5;
  optional string note = 6; bytes raw = 7; sint64 s = 8; fixed32 f = 9;
}
"""


def test_protobuf_columns(registry_url: str) -> None:
    fd, _ = proto_text.load(PROTO, {})
    cls = message_class(fd, "Row")
    serializer = ProtobufSerializer(cls, SchemaRegistryClient({"url": registry_url}), {})
    datas = []
    for i in range(30):
        r = row(i).values
        fields = {"id": r[0], "n": r[1] or 0, "big": r[2] or 0, "x": r[3] or 0.0, "ok": bool(r[4])}
        fields |= {"raw": r[6] or b"", "s": -i * 1000, "f": i * 77}
        if r[5] is not None:
            fields["note"] = r[5]
        datas.append(serializer(cls(**fields), ctx("spoil-proto")))
    conv = protobuf_converter(registry_url)
    reader = conv.column_reader("spoil-proto", datas[0])
    assert reader is not None
    seen = check(
        random.Random(14 + SEED),
        datas,
        lambda d: list(conv.to_connect_data("spoil-proto", d)[1].values),
        lambda batch: table_rows(reader.read(batch)),
    )
    assert seen["bad record refused"] > 0 and seen["read"] > 0, seen
