"""The Avro encoder of flat records (each field's bytes kept in variables, joined once) writes byte for byte what the
general encoder (pieces appended to a list) writes, for every primitive and logical type, optional or not, with
defaults, nulls, varints of every length and long strings; and what it writes decodes to the same values."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import fastavro
import pytest

from miniconnect.converters.avro_codec import (
    compile_batch_encoder,
    compile_decoder,
    compile_encoder,
    parts_encoder,
    write_long,
)
from miniconnect.converters.avro_data import from_connect_schema
from miniconnect.data.schema import (
    BOOLEAN_SCHEMA,
    BYTES_SCHEMA,
    FLOAT64_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_BYTES_SCHEMA,
    OPTIONAL_FLOAT32_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT8_SCHEMA,
    OPTIONAL_INT16_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    Struct,
    date_schema,
    decimal_schema,
    time_schema,
    timestamp_schema,
)

FLAT = Schema.struct(
    [
        ("s", STRING_SCHEMA),
        ("os", OPTIONAL_STRING_SCHEMA),
        ("i32", INT32_SCHEMA),
        ("i64", INT64_SCHEMA),
        ("o8", OPTIONAL_INT8_SCHEMA),
        ("o16", OPTIONAL_INT16_SCHEMA),
        ("o32", OPTIONAL_INT32_SCHEMA),
        ("o64", OPTIONAL_INT64_SCHEMA),
        ("f64", FLOAT64_SCHEMA),
        ("of32", OPTIONAL_FLOAT32_SCHEMA),
        ("of64", OPTIONAL_FLOAT64_SCHEMA),
        ("flag", BOOLEAN_SCHEMA),
        ("oflag", OPTIONAL_BOOLEAN_SCHEMA),
        ("raw", BYTES_SCHEMA),
        ("oraw", OPTIONAL_BYTES_SCHEMA),
        ("amount", decimal_schema(2, optional=True)),
        ("day", date_schema(optional=True)),
        ("at", time_schema(optional=True)),
        ("ts", timestamp_schema()),
        ("dflt", OPTIONAL_INT32_SCHEMA.with_(default=7)),  # written as ["int", "null"]
        ("sdflt", STRING_SCHEMA.with_(default="x")),
    ],
    name="flat",
)
INTS = [0, 1, -1, 63, -64, 64, 8127, 8128, 8191, 8192, -8193, 2**20 - 1, 2**20, -(2**20) - 1, 2**31 - 1, -(2**31)]


def row(i: int) -> Struct:
    n = INTS[i % len(INTS)]
    text = ["", "plain", "ünïcödé ✓ 😀", "x" * 8200, "y" * 70000][i % 5]
    values: list[Any] = [
        text,
        text if i % 3 else None,
        n,
        n * 2**32 + 5 if i % 2 else -(2**63),
        (n % 256) - 128 if i % 4 else None,
        n % 65536 - 32768 if i % 4 != 1 else None,
        n if i % 4 != 2 else None,
        n * 2**30 if i % 4 != 3 else None,
        [0.0, -1.5, 1e308, 0.1 + 0.2][i % 4],
        [0.0, -1.5, 3.25, None][i % 4],
        [None, 1e-300, -0.0, 1 / 3][i % 4],
        i % 2 == 0,
        [True, False, None][i % 3],
        bytes([i % 256]) * (i % 9),
        None if i % 5 == 0 else b"\x00\xff" * (i % 5000),
        None if i % 6 == 0 else decimal.Decimal(n * 997 - 3).scaleb(-2),
        None if i % 7 == 0 else dt.date(1970, 1, 1) + dt.timedelta(days=n % 100000 - 50000),
        None if i % 8 == 0 else dt.time(i % 24, i % 60, i % 60, (i % 1000) * 1000),
        dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=n * 1000 + i),
        None if i % 2 else i,
        f"s{i}",
    ]
    return Struct(FLAT, values)


def codecs(schema: Schema) -> tuple[Any, Any, Any, Schema]:
    named: dict[str, Any] = {}
    parsed = fastavro.parse_schema(from_connect_schema(schema), named_schemas=named, _write_hint=False)
    return compile_encoder(parsed, named, schema), parts_encoder(parsed, named, schema), parsed, named  # type: ignore[return-value]


def test_flat_records_are_written_as_the_general_encoder_writes_them() -> None:
    flat, general, parsed, named = codecs(FLAT)
    assert "parts" not in flat.__code__.co_varnames and "parts" in general.__code__.co_varnames
    decode = compile_decoder(parsed, named, FLAT)
    head = b"\x00\x00\x00\x00\x01"
    for i in range(200):
        value = row(i)
        data = flat(value, head)
        assert data == general(value, head), i
        back = decode(data).values
        expected = list(value.values)
        expected[-2] = 7 if expected[-2] is None else expected[-2]  # a null written as the field's default
        assert list(back[:9]) + list(back[11:]) == expected[:9] + expected[11:]


def test_varints_of_every_length() -> None:
    from miniconnect.converters.avro_codec import _read_long

    edges = [s * (1 << b) + d for b in range(20, 63) for s in (1, -1) for d in (-1, 0, 1)]  # each length's ends
    for v in [*range(-70_000, 70_000, 7), *edges, 1_700_000_000_123, 2**63 - 1, -(2**63)]:
        data = write_long(v)
        z = (v << 1) ^ (v >> 63)
        assert _read_long(data, 0) == (v, len(data)) and len(data) == max(1, (z.bit_length() + 6) // 7)


def _errors(encoders: tuple[Any, ...], value: Struct) -> list[tuple[type, str]]:
    """What each encoder raises for `value` (each must raise): the exception's type and message."""
    errors = []
    for encode in encoders:
        with pytest.raises(Exception) as e:
            encode(value, b"")
        errors.append((type(e.value), str(e.value)))
    return errors


def test_the_flat_encoder_writes_longs_of_every_length_as_write_long_does() -> None:
    """Its 14-bit group tables (up to 2^41 in magnitude), required and optional fields, and write_long past them;
    past a long's range both encoders refuse the value alike."""
    flat, general, _, _ = codecs(FLAT)
    edges = [s * (1 << b) + d for b in range(5, 64) for s in (1, -1) for d in (-1, 0, 1)]
    for value in [*range(-20_000, 20_000, 3), *edges, 1_700_000_000_123]:
        v = row(5)
        v.put("o64", value)
        if -(2**63) <= value < 2**63:
            v.put("i64", value)
            assert flat(v, b"") == general(v, b""), value
            continue
        for field in ("i64", "o64"):
            w = row(5)
            w.put(field, value)
            flat_error, general_error = _errors((flat, general), w)
            assert flat_error == general_error, (field, value)


NESTED = Schema.struct([("id", INT64_SCHEMA), ("inner", FLAT), ("tags", Schema.array(STRING_SCHEMA))], name="nested")


@pytest.mark.parametrize("schema", [FLAT, NESTED], ids=["flat", "nested"])
def test_batch_encoders_write_what_the_record_encoders_write(schema: Schema) -> None:
    named: dict[str, Any] = {}
    parsed = fastavro.parse_schema(from_connect_schema(schema), named_schemas=named, _write_hint=False)
    one, batch = compile_encoder(parsed, named, schema), compile_batch_encoder(parsed, named, schema)
    values = [row(i) if schema is FLAT else Struct(NESTED, [i, row(i), ["a"] * (i % 3)]) for i in range(60)]
    assert batch(values, b"\x00head") == [one(v, b"\x00head") for v in values]
    assert batch([], b"") == []
    with pytest.raises(AttributeError):  # a tombstone: the converter encodes that batch record by record
        batch([values[0], None], b"")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ts", dt.datetime(2024, 5, 6, 7, 8, 9, 123456)),  # naive: UTC
        ("ts", dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=dt.timezone(dt.timedelta(hours=-5)))),
        ("day", dt.datetime(2024, 5, 6, 23, 59, tzinfo=dt.UTC)),  # a datetime for a date: its date
        ("amount", decimal.Decimal("1.005")),  # more digits than the scale: rounded half up
        ("amount", decimal.Decimal("-0.00")),
        ("amount", decimal.Decimal("1E+30")),
    ],
)
def test_logical_values_the_flat_encoder_inlines_are_written_as_before(field: str, value: Any) -> None:
    flat, general, _, _ = codecs(FLAT)
    v = row(3)
    v.put(field, value)
    assert flat(v, b"") == general(v, b"")


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("s", None),
        ("i32", "1"),
        ("raw", "text"),
        ("amount", "1.5"),
        ("ts", 5),
        ("amount", decimal.Decimal("NaN")),
        ("amount", decimal.Decimal("Infinity")),
        ("amount", 5),
        ("day", "2024"),
    ],
)
def test_a_value_that_does_not_fit_fails_as_in_the_general_encoder(field: str, bad: Any) -> None:
    flat, general, _, _ = codecs(FLAT)
    v = row(3)
    v.put(field, bad)
    flat_error, general_error = _errors((flat, general), v)
    assert flat_error == general_error
