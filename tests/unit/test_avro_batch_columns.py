"""AvroConverter's record path on large batches: records of one flat schema id of plain types are read by polars'
Avro reader (the column path's checked read) and made into the values to_connect_data gives, type for type; any
record polars could read otherwise sends the batch back to the generated decoder, which gives the record path's
values or its error, word for word."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest

from miniconnect.converters.avro import COLUMN_BATCH, AvroConverter
from miniconnect.converters.avro_columns import AvroColumns
from miniconnect.data.columns import ColumnsRefused
from miniconnect.data.schema import (
    BOOLEAN_SCHEMA,
    BYTES_SCHEMA,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_BYTES_SCHEMA,
    OPTIONAL_FLOAT32_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    DataError,
    Schema,
    Struct,
    date_schema,
    decimal_schema,
)

N = COLUMN_BATCH + 45
PLAIN = Schema.struct(
    [
        ("i8", INT8_SCHEMA),
        ("i16", INT16_SCHEMA),
        ("i32", INT32_SCHEMA),
        ("i64", INT64_SCHEMA),
        ("f32", FLOAT32_SCHEMA),
        ("f64", FLOAT64_SCHEMA),
        ("flag", BOOLEAN_SCHEMA),
        ("s", STRING_SCHEMA),
        ("b", BYTES_SCHEMA),
        ("o_i32", OPTIONAL_INT32_SCHEMA),
        ("o_i64", OPTIONAL_INT64_SCHEMA),
        ("o_f32", OPTIONAL_FLOAT32_SCHEMA),
        ("o_f64", OPTIONAL_FLOAT64_SCHEMA),
        ("o_flag", OPTIONAL_BOOLEAN_SCHEMA),
        ("o_s", OPTIONAL_STRING_SCHEMA),
        ("o_b", OPTIONAL_BYTES_SCHEMA),
    ],
    name="com.acme.Plain",
)
LONGS = [0, 1, -1, 63, -64, 64, 8191, -8192, 8192, 2**31 - 1, -(2**31), 2**62, 2**63 - 1, -(2**63)]
TEXTS = ["", "a", "héllo, 世界 \U0001f600", "x" * 127, "y" * 128, "z" * 20000, "quote ' \\ ; DROP TABLE t"]


def plain(i: int) -> Struct:
    gap = i % 3 == 1  # the optional fields null in a third of the records
    i32 = LONGS[i % 10] if abs(LONGS[i % 10]) < 2**31 else i
    return Struct(
        PLAIN,
        [
            (i % 256) - 128,
            -(2**15) + i,
            i32,
            LONGS[i % len(LONGS)],
            [1.5, -0.0, float("inf"), 3.4e38, 1e-45][i % 5],
            [-1.7976931348623157e308, 0.1, -0.0, float("-inf")][i % 4],
            i % 2 == 0,
            TEXTS[i % len(TEXTS)],
            bytes(range(i % 256)),
            None if gap else -i32,
            None if gap else LONGS[-1 - i % len(LONGS)],
            None if gap else 2.5,
            None if gap else 1 / 3,
            None if gap else i % 4 == 0,
            None if gap else TEXTS[-1 - i % len(TEXTS)],
            None if gap else b"\x00\xff" * (i % 5),
        ],
    )


@pytest.fixture
def read_by_polars(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What became of each batch that reached polars: "read", or why it was refused."""
    seen: list[str] = []
    records = AvroColumns.records

    def spy(self: AvroColumns, datas: Any) -> Any:
        try:
            out = records(self, datas)
        except ColumnsRefused as e:
            seen.append(f"refused: {e}")
            raise
        seen.append("read")
        return out

    monkeypatch.setattr(AvroColumns, "records", spy)
    return seen


def converter(url: str, is_key: bool = False) -> AvroConverter:
    c = AvroConverter()
    c.configure({"schema.registry.url": url}, is_key)
    return c


def exactly(decoded: list[tuple[Schema | None, Any]]) -> list[Any]:
    """The values with their types (True is not 1, -0.0 not 0.0) and the schema objects."""
    out = []
    for schema, value in decoded:
        values = value.values if isinstance(value, Struct) else [value]
        out.append((id(schema), type(value), [(type(v), repr(v)) for v in values]))
    return out


def test_large_batches_give_what_record_by_record_gives(registry_url: str, read_by_polars: list[str]) -> None:
    ours = converter(registry_url)
    datas = ours.from_connect_batch("plain", [PLAIN] * N, [plain(i) for i in range(N)])
    one_by_one = [ours.to_connect_data("plain", d) for d in datas]
    assert exactly(ours.to_connect_batch("plain", datas)) == exactly(one_by_one)
    assert read_by_polars == ["read"]
    assert [s.values for _, s in one_by_one[:2]] == [tuple(plain(i).values) for i in range(2)]
    assert exactly(ours.to_connect_batch("plain", datas[: COLUMN_BATCH - 1])) == exactly(one_by_one[: COLUMN_BATCH - 1])
    assert read_by_polars == ["read"]  # a small batch: the generated decoder, which is faster there


def test_keys_of_a_primitive_schema(registry_url: str, read_by_polars: list[str]) -> None:
    keys = converter(registry_url, is_key=True)
    datas = [keys.from_connect_data("keys", STRING_SCHEMA, TEXTS[i % len(TEXTS)] + str(i)) for i in range(N)]
    decoded = keys.to_connect_batch("keys", datas)
    assert exactly(decoded) == exactly([keys.to_connect_data("keys", d) for d in datas])
    assert [v for _, v in decoded[:2]] == [TEXTS[0] + "0", TEXTS[1] + "1"]
    assert read_by_polars == ["read"]


def test_a_record_of_one_field_named_like_the_key_column(registry_url: str, read_by_polars: list[str]) -> None:
    schema = Schema.struct([("k", STRING_SCHEMA)], name="k")
    ours = converter(registry_url)
    datas = ours.from_connect_batch("one", [schema] * N, [Struct(schema, [f"v{i}"]) for i in range(N)])
    decoded = ours.to_connect_batch("one", datas)
    assert exactly(decoded) == exactly([ours.to_connect_data("one", d) for d in datas])
    assert decoded[1][1].values == ("v1",) and read_by_polars == ["read"]


def test_logical_types_stay_with_the_generated_decoder(registry_url: str, read_by_polars: list[str]) -> None:
    schema = Schema.struct([("id", INT32_SCHEMA), ("day", date_schema())], name="days")
    ours = converter(registry_url)
    values = [Struct(schema, [i, dt.date(2024, 1, 1) + dt.timedelta(days=i)]) for i in range(N)]
    datas = ours.from_connect_batch("days", [schema] * N, values)
    assert [list(v.values) for _, v in ours.to_connect_batch("days", datas)] == [v.values for v in values]
    assert read_by_polars == []


SPOILS = {
    "trailing-byte": lambda d: d + b"\x00",
    "truncated": lambda d: d[:-1],
    "invalid-utf8": lambda d: d.replace("世".encode(), b"\xff\xfe\xfd"),
    "unknown-schema-id": lambda d: d[:1] + (99999).to_bytes(4, "big") + d[5:],
    "bad-magic": lambda d: b"\x07" + d[1:],
    "bad-branch": lambda d: d[:-1] + b"\x04",  # o_b's branch: 2 of ["null", "bytes"]
}


@pytest.mark.parametrize("spoil", SPOILS.values(), ids=SPOILS.keys())
def test_a_spoiled_record_gives_the_record_paths_error(
    registry_url: str, read_by_polars: list[str], spoil: Any
) -> None:
    ours = converter(registry_url)
    datas = ours.from_connect_batch("spoiled", [PLAIN] * N, [plain(i) for i in range(N)])
    at = next(i for i in range(N) if i % 3 == 1 and "世" in TEXTS[i % len(TEXTS)])  # o_b null, a "世" in s
    assert datas[at].endswith(b"\x00")  # o_b's null branch
    bad = spoil(datas[at])
    with pytest.raises(DataError) as record_error:
        ours.to_connect_data("spoiled", bad)
    with pytest.raises(DataError) as batch_error:
        ours.to_connect_batch("spoiled", [*datas[:at], bad, *datas[at + 1 :]])
    assert str(batch_error.value) == str(record_error.value)
    assert len(read_by_polars) == 1 and read_by_polars[0].startswith("refused")


def test_records_polars_reads_alike_but_avro_writes_otherwise(registry_url: str, read_by_polars: list[str]) -> None:
    """A varint written longer than needed and a tombstone are refused by the checked read, then read record by
    record as to_connect_data reads them; a record in a bytearray is read as its bytes are."""
    ours = converter(registry_url)
    datas = ours.from_connect_batch("odd", [PLAIN] * N, [plain(i) for i in range(N)])
    at = 3  # o_b not null: its length, one byte, written as two
    assert plain(at).values[-1] == b"\x00\xff" * 3 and datas[at].endswith(b"\x02\x0c" + b"\x00\xff" * 3)
    longer = datas[at][:-7] + b"\x8c\x00" + b"\x00\xff" * 3
    assert ours.to_connect_data("odd", longer) == ours.to_connect_data("odd", datas[at])
    for odd, expected in (
        (longer, ours.to_connect_data("odd", datas[at])),
        (None, (None, None)),
        (bytearray(datas[at]), ours.to_connect_data("odd", datas[at])),
    ):
        batch = ours.to_connect_batch("odd", [*datas[:at], odd, *datas[at + 1 :]])
        assert exactly([batch[at]]) == exactly([expected])
        others = ours.to_connect_batch("odd", datas[:at] + datas[at + 1 :])
        assert exactly(batch[:at] + batch[at + 1 :]) == exactly(others)
    refused = [seen for seen in read_by_polars if seen != "read"]
    assert refused == ["refused: a datum is not the size of its values", "refused: a null record"]


def test_varints_past_their_types_bits_read_as_javas_decoder_reads_them(
    registry_url: str, read_by_polars: list[str]
) -> None:
    """Java's BinaryDecoder reads an int from at most 5 bytes and a long from at most 10, dropping the bits past the
    32nd and 64th: so does the record path. polars may read such a varint otherwise, so the checked read refuses it
    and the batch is read record by record."""
    schema = Schema.struct([("i", INT32_SCHEMA), ("l", INT64_SCHEMA)], name="com.acme.Wide")
    ours = converter(registry_url)
    good = ours.from_connect_data("wide", schema, Struct(schema, [2**31 - 1, 2**63 - 1]))
    head, i_max, l_max = good[:5], bytes.fromhex("feffffff0f"), bytes.fromhex("feffffffffffffffff01")
    assert good == head + i_max + l_max
    for datum, values in (
        (bytes.fromhex("feffffff7f") + l_max, (2**31 - 1, 2**63 - 1)),  # bits 32-34 set: dropped
        (i_max + bytes.fromhex("feffffffffffffffff7f"), (2**31 - 1, 2**63 - 1)),  # bits 64-69 set
        (bytes.fromhex("ffffffff7f") + bytes.fromhex("ffffffffffffffffff03"), (-(2**31), -(2**63))),
    ):
        assert ours.to_connect_data("wide", head + datum)[1].values == values
        batch = [good] * (N - 1) + [head + datum]
        assert [v.values for _, v in ours.to_connect_batch("wide", batch)] == [(2**31 - 1, 2**63 - 1)] * (N - 1) + [
            values
        ]
        assert read_by_polars.pop().startswith("refused")
    for datum, error in (
        (bytes.fromhex("ffffffff8f01") + l_max, "invalid int encoding"),  # an int of 6 bytes
        (i_max + bytes.fromhex("ffffffffffffffffff8101"), "invalid long encoding"),  # a long of 11
    ):
        with pytest.raises(DataError, match=error):
            ours.to_connect_data("wide", head + datum)


def test_a_datum_cut_inside_a_float_or_double_is_a_data_error(registry_url: str) -> None:
    schema = Schema.struct([("f", FLOAT32_SCHEMA), ("d", FLOAT64_SCHEMA)], name="com.acme.Floats")
    ours = converter(registry_url)
    good = ours.from_connect_data("floats", schema, Struct(schema, [1.5, 2.5]))
    for cut in (good[:7], good[:-3]):
        with pytest.raises(DataError, match="do not match schema id"):
            ours.to_connect_data("floats", cut)
        with pytest.raises(DataError, match="do not match schema id"):
            ours.to_connect_batch("floats", [good, cut])


def test_a_decimal_of_no_bytes_is_a_data_error(registry_url: str) -> None:
    """Java's BigInteger refuses zero bytes, and so Connect's Decimal.toLogical: the record path raises, the column
    read refuses the batch."""
    schema = Schema.struct([("id", INT32_SCHEMA), ("d", decimal_schema(2, optional=True))], name="com.acme.Dec")
    ours = converter(registry_url)
    good = ours.from_connect_data("dec", schema, Struct(schema, [1, decimal.Decimal("1.25")]))
    assert good.endswith(b"\x02\x02\x7d")  # the union's branch, one byte, 125
    empty = good[:-2] + b"\x00"
    with pytest.raises(DataError, match="Zero length BigInteger"):
        ours.to_connect_data("dec", empty)
    reader = ours.column_reader("dec", good)
    assert reader is not None and reader.read([good] * 3).column(1).to_pylist() == [decimal.Decimal("1.25")] * 3
    with pytest.raises(ColumnsRefused):
        reader.read([good, empty, good])
