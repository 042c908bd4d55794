"""ProtobufConverter's column reader (flat proto3 messages decoded for a whole batch at once) against its record path
(python protobuf's upb parser, a message per record), on records Confluent's ProtobufSerializer wrote: every scalar
type with edge values, Decimal/Timestamp/Date/TimeOfDay submessages, absent fields, proto3 `optional` nulls, flattened
oneofs, two-byte tags: the columns hold
what to_connect_data gives record by record; what the column reader cannot read exactly (fields out of order,
repeated or unknown, a cut record, invalid UTF-8, a uint64 beyond int64) is refused, and the sink runner then reads
the batch record by record, which raises the record's own error."""

from __future__ import annotations

import decimal
import math
import random

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from helpers.protobuf_client import converter, ctx, message_class
from helpers.sink_columns import batches

from miniconnect.converters.string import StringConverter
from miniconnect.data.columns import ColumnsRefused
from miniconnect.data.schema import STRING_SCHEMA, DataError, Schema, Struct, decimal_schema
from miniconnect.runtime.sink_columns import ColumnConverter
from miniconnect.schema_registry import proto_text

ROW = """
syntax = "proto3";
package colt;
message Row {
  int32 i32 = 1; int64 i64 = 2; uint32 u32 = 3; uint64 u64 = 4; sint32 s32 = 5; sint64 s64 = 6;
  fixed32 fx32 = 7; fixed64 fx64 = 8; sfixed32 sf32 = 9; sfixed64 sf64 = 10; bool flag = 11;
  float fl = 12; double db = 13; string text = 14; bytes raw = 15;
  optional string note = 16; optional int64 maybe = 17; int64 far = 2000;
}
"""
PAY = """
syntax = "proto3";
message Pay { string id = 1; oneof how { string card = 2; int64 voucher = 3; } }
"""
I32, I64 = (-(2**31), 2**31 - 1), (-(2**63), 2**63 - 1)


def written(registry_url: str, text: str, name: str, topic: str, rows: list[dict]) -> list[bytes]:
    fd, _ = proto_text.load(text, {})
    cls = message_class(fd, name)
    serializer = ProtobufSerializer(cls, SchemaRegistryClient({"url": registry_url}), {})
    return [serializer(cls(**r), ctx(topic)) for r in rows]


def edge(rng: random.Random, lo: int, hi: int) -> int:
    return (
        rng.choice([0, 1, -1, lo, hi, rng.randint(lo, hi), rng.randint(-300, 300)])
        if lo < 0
        else rng.choice([0, 1, hi, 127, 128, 16383, 16384, rng.randint(0, hi)])
    )


def random_rows(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = {
            "i32": edge(rng, *I32),
            "i64": edge(rng, *I64),
            "u32": edge(rng, -1, 2**32 - 1) % 2**32,
            "u64": edge(rng, 0, 2**63 - 1),
            "s32": edge(rng, *I32),
            "s64": edge(rng, *I64),
            "fx32": rng.choice([0, 2**32 - 1, rng.randint(0, 2**32 - 1)]),
            "fx64": rng.choice([0, 2**63 - 1, rng.randint(0, 2**63 - 1)]),
            "sf32": edge(rng, *I32),
            "sf64": edge(rng, *I64),
            "flag": rng.random() < 0.5,
            "fl": rng.choice([0.0, -0.0, 1.5, -3.25e38, math.inf, rng.uniform(-1e6, 1e6)]),
            "db": rng.choice([0.0, -1.7976931348623157e308, math.inf, 5e-324, rng.uniform(-1e300, 1e300)]),
            "text": rng.choice(["", "plain", "ünïcode ✓ 世界 \U0001f600", "x" * rng.randint(100, 400)]),
            "raw": bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 200]))),
            "far": i,
        }
        if rng.random() < 0.6:
            r["note"] = rng.choice(["", "n", "é" * 3])
        if rng.random() < 0.6:
            r["maybe"] = rng.choice([0, -5, 2**40])
        out.append(r)
    return out


def records(conv, topic: str, datas: list[bytes]) -> list:
    return [conv.to_connect_data(topic, d) for d in datas]


def test_columns_give_what_records_give(registry_url):
    datas = written(registry_url, ROW, "Row", "rows", random_rows(400))
    conv = converter(registry_url)
    reader = conv.column_reader("rows", datas[0])
    assert reader is not None
    table = reader.read(datas)
    expected = records(conv, "rows", datas)
    assert table.to_pylist() == [s.as_dict() for _, s in expected]
    types = {f.name: str(f.type) for f in table.schema}
    assert types["i32"] == types["u64"] == types["fx32"] == "int64" and types["fl"] == "double"
    assert types["flag"] == "bool" and types["text"] == "string" and types["raw"] == "binary"
    assert table.column("note").null_count > 0 and table.column("text").null_count == 0
    assert reader.schema == expected[0][0]
    gen = converter(registry_url, **{"generate.struct.for.nulls": "true"})  # an absent optional: its default
    assert gen.column_reader("rows", datas[0]).read(datas).to_pylist() == [
        s.as_dict() for _, s in records(gen, "rows", datas)
    ]
    columns = ColumnConverter(StringConverter(), conv)  # as the sink runner reads a batch
    units = columns.plan(batches("rows", datas))
    assert units is not None and columns.read(units)[0].values == table


TEMPORAL = """
syntax = "proto3";
import "google/protobuf/timestamp.proto";
import "google/type/date.proto";
import "google/type/timeofday.proto";
message When {
  string id = 1;
  google.protobuf.Timestamp ts = 2;
  google.type.Date day = 3;
  google.type.TimeOfDay at = 4;
}
"""


def test_timestamps_dates_and_times_are_columns(registry_url):
    rng = random.Random(11)
    rows = []
    for i in range(120):
        r: dict = {"id": f"w{i}"}
        if i % 4:
            r["ts"] = {
                "seconds": rng.choice([0, -1, 1700000000, -62135596800, 253402300799]),
                "nanos": rng.choice([0, 999_999_999, 5_000_000]),
            }
        if i % 5:
            r["day"] = {
                "year": rng.choice([1, 1970, 2024, 9999]),
                "month": rng.choice([1, 2, 12]),
                "day": rng.choice([1, 28, 31]),
            }
            if r["day"]["month"] == 2 and r["day"]["day"] == 31:
                r["day"]["day"] = 29 if r["day"]["year"] == 2024 else 28
        if i % 3:
            r["at"] = {"hours": i % 24, "minutes": i % 60, "seconds": (i * 7) % 60, "nanos": (i % 1000) * 1_000_000}
        rows.append(r)
    datas = written(registry_url, TEMPORAL, "When", "when", rows)
    for config in ({}, {"generate.struct.for.nulls": "true"}):
        conv = converter(registry_url, **config)
        reader = conv.column_reader("when", datas[0])
        assert reader is not None
        if config:  # an unset Date is no date: the record path fails on it, the columns are refused
            with pytest.raises(ColumnsRefused):
                reader.read(datas)
            with pytest.raises(DataError):
                conv.to_connect_data("when", datas[0])
            continue
        table = reader.read(datas)
        assert table.to_pylist() == [s.as_dict() for _, s in records(conv, "when", datas)]
        assert [str(f.type) for f in table.schema] == ["string", "timestamp[ms, tz=UTC]", "date32[day]", "time32[ms]"]
    # a date that does not exist, read by the record path's error
    bad = written(registry_url, TEMPORAL, "When", "when", [{"id": "x", "day": {"year": 2023, "month": 2, "day": 29}}])
    with pytest.raises(ColumnsRefused):
        converter(registry_url).column_reader("when", datas[0]).read([*datas[:3], *bad])
    with pytest.raises(DataError):
        converter(registry_url).to_connect_data("when", bad[0])


def test_decimals_of_the_schemas_scale_are_columns(registry_url):
    schema = Schema.struct([("id", STRING_SCHEMA), ("amount", decimal_schema(2, optional=True))], name="Priced")
    values = [decimal.Decimal(f"{v}E-2") for v in (0, 1, -1, 12345, -(10**30), 10**37, 255, -256, 32768)]
    conv = converter(registry_url, **{"optional.for.nullables": "true"})
    datas = [conv.from_connect_data("priced", schema, Struct(schema, [f"p{i}", v])) for i, v in enumerate(values)]
    datas += [conv.from_connect_data("priced", schema, Struct(schema, ["null", None]))]
    table = conv.column_reader("priced", datas[0]).read(datas)
    assert table.to_pylist() == [s.as_dict() for _, s in records(conv, "priced", datas)]
    assert str(table.schema.field("amount").type).startswith("decimal128(") and table.column("amount").null_count == 1
    # a value written with another scale (Decimal("1.5") in a scale-2 schema) reads as it is, record by record
    other = conv.from_connect_data("priced", schema, Struct(schema, ["x", decimal.Decimal("1.5")]))
    with pytest.raises(ColumnsRefused):
        conv.column_reader("priced", datas[0]).read([*datas, other])
    assert conv.to_connect_data("priced", other)[1].values[1].as_tuple().exponent == -1


def test_flattened_oneofs_are_columns(registry_url):
    rows = [
        {"id": f"p{i}", **({"card": f"c{i}"} if i % 3 == 0 else {"voucher": i} if i % 3 == 1 else {})}
        for i in range(60)
    ]
    datas = written(registry_url, PAY, "Pay", "pay", rows)
    assert converter(registry_url).column_reader("pay", datas[0]) is None  # a union struct: record by record
    flat = converter(registry_url, **{"flatten.unions": "true"})
    table = flat.column_reader("pay", datas[0]).read(datas)
    assert table.to_pylist() == [s.as_dict() for _, s in records(flat, "pay", datas)]
    assert table.to_pylist()[:3] == [
        {"card": "c0", "voucher": None, "id": "p0"},
        {"card": None, "voucher": 1, "id": "p1"},
        {"card": None, "voucher": None, "id": "p2"},
    ]


_varint = proto_text._varint  # records written by hand

HEAD = 6  # magic byte, schema id, the message-index list [0]
SPOILED = {
    # python protobuf reads these, the column reader cannot: refused, and read record by record
    "out-of-order": (lambda d: d[:HEAD] + _varint(2000 << 3) + _varint(9) + d[HEAD:], None),  # field 2000 first
    "unknown-field": (lambda d: d + b"\xf8\x01\x05", None),  # field 31, varint 5
    "repeated-field": (lambda d: d + b"\x08\x09", None),  # i32 again: the last one wins
    "uint64-beyond-int64": (lambda d: d + b"\x20" + _varint(2**64 - 1), None),
    # and these the record path refuses with the record's error
    "cut": (lambda d: d[:-1], DataError),
    "invalid-utf8": (lambda d: d + b"\x72\x02\xff\xfe", DataError),  # text = b"\xff\xfe"
}


@pytest.mark.parametrize("spoil", list(SPOILED))
def test_refused_and_read_record_by_record(registry_url, spoil):
    rows = random_rows(40, seed=3)
    for r in rows:
        r.pop("far")  # the last field on the wire is then raw (15) or an optional one
    datas = written(registry_url, ROW, "Row", "spoiled", rows)
    conv = converter(registry_url)
    make, error = SPOILED[spoil]
    bad = make(datas[5])
    spoiled = [*datas[:5], bad, *datas[6:]]
    reader = conv.column_reader("spoiled", datas[0])
    reader.read(datas)  # the unspoiled batch reads
    with pytest.raises(ColumnsRefused):
        reader.read(spoiled)
    columns = ColumnConverter(StringConverter(), conv)
    assert columns.read(columns.plan(batches("spoiled", spoiled))) is None  # the runner goes record by record
    if error is None:
        assert conv.to_connect_data("spoiled", bad)[1] is not None
    else:
        with pytest.raises(error, match="Protobuf"):
            conv.to_connect_data("spoiled", bad)
