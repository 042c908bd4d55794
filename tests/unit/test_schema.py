"""Connect's data model: schemas as cache keys, Struct access and validation, logical type conversions."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from miniconnect.data.schema import (
    INT32_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    DataError,
    Schema,
    Struct,
    Type,
    date_schema,
    date_to_days,
    days_to_date,
    decimal_from_bytes,
    decimal_scale,
    decimal_schema,
    decimal_to_bytes,
    millis_to_time,
    millis_to_timestamp,
    time_to_millis,
    timestamp_to_millis,
    validate_value,
)

D = decimal.Decimal
UTC = dt.UTC


def test_equal_schemas_are_equal_and_hash_equal():
    a = Schema.struct([("id", INT32_SCHEMA), ("name", OPTIONAL_STRING_SCHEMA)], name="t")
    b = Schema.struct([("id", INT32_SCHEMA), ("name", OPTIONAL_STRING_SCHEMA)], name="t")
    assert a is not b and a == b and hash(a) == hash(b)
    assert {a: 1}[b] == 1
    assert a != a.with_(optional=True)
    assert a != a.with_(doc="documented")  # doc is not hashed but still compared
    assert Schema(Type.INT32, default=1) != Schema(Type.INT32, default=2)
    assert Schema(Type.MAP, key_schema=STRING_SCHEMA, value_schema=Schema.array(INT32_SCHEMA)) == Schema.map(
        STRING_SCHEMA, Schema.array(INT32_SCHEMA)
    )


def test_unhashable_defaults_do_not_break_hashing():
    s = Schema.array(INT32_SCHEMA).with_(default=[1, 2])
    assert hash(s) == hash(Schema.array(INT32_SCHEMA).with_(default=[1, 2]))
    assert s == Schema.array(INT32_SCHEMA).with_(default=[1, 2])


def test_struct_access_and_defaults():
    s = Schema.struct([("a", Schema(Type.STRING, default="x")), ("b", INT32_SCHEMA)])
    st = Struct(s).put("b", 3)
    assert st.get("a") == "x" and st["b"] == 3
    assert st.values == [None, 3]  # the default is not stored
    assert st.as_dict() == {"a": None, "b": 3}
    with pytest.raises(DataError, match="c is not a valid field name"):
        st.put("c", 1)
    with pytest.raises(DataError, match="Not a struct schema"):
        Struct(INT32_SCHEMA)
    assert Struct(s, [None, 3]) == st
    assert repr(st) == "Struct{a=None, b=3}"


def test_validation_messages():
    s = Schema.struct([("name", STRING_SCHEMA)])
    with pytest.raises(DataError, match='null used for required field for field: "name", schema type: STRING'):
        Struct(s).validate()
    with pytest.raises(DataError, match="Invalid Java object for schema with type INT32: bool"):
        validate_value(INT32_SCHEMA, True)
    with pytest.raises(DataError, match="INT32"):
        validate_value(Schema.array(INT32_SCHEMA), [1, "2"])
    validate_value(date_schema(), dt.date(2020, 1, 1))
    validate_value(Schema(Type.FLOAT64), 3)


@pytest.mark.parametrize(
    "value, scale, raw",
    [
        (D("1.56"), 2, b"\x00\x9c"),  # BigInteger(156).toByteArray() == {0, -100}
        (D("-1.56"), 2, b"\xff\x64"),
        (D("0"), 0, b"\x00"),
        (D("1.27"), 2, b"\x7f"),
        (D("-1.28"), 2, b"\x80"),
        (D("-1.29"), 2, b"\xff\x7f"),
        (D("12345678901234567890.123"), 3, (12345678901234567890123).to_bytes(10, "big", signed=True)),
        # beyond the default context's 28 digits: nothing may be rounded away (PostgreSQL numeric holds 1000)
        (
            D("1234567890123456789012345678901234.56"),
            2,
            (123456789012345678901234567890123456).to_bytes(15, "big", signed=True),
        ),
        (D("-" + "9" * 60 + "." + "1" * 40), 40, (-int("9" * 60 + "1" * 40)).to_bytes(42, "big", signed=True)),
    ],
)
def test_decimal_bytes_are_javas_big_integer_bytes(value, scale, raw):
    assert decimal_to_bytes(value, scale) == raw
    assert decimal_from_bytes(raw, scale) == value
    assert decimal_from_bytes(raw, scale).as_tuple().exponent == -scale


def test_decimal_schema_carries_its_scale():
    s = decimal_schema(3, precision=10)
    assert s.parameters == {"scale": "3", "connect.decimal.precision": "10"} and s.version == 1
    assert decimal_scale(s) == 3
    with pytest.raises(DataError, match="scale parameter not found"):
        decimal_scale(Schema(Type.BYTES, name="org.apache.kafka.connect.data.Decimal"))


def test_temporal_conversions():
    assert date_to_days(dt.date(1997, 5, 19)) == 10000 and days_to_date(10000) == dt.date(1997, 5, 19)
    assert date_to_days(dt.date(1969, 12, 31)) == -1
    assert time_to_millis(dt.time(4, 0, 0, 999)) == 14400000 and millis_to_time(14400000) == dt.time(4)
    with pytest.raises(DataError):
        millis_to_time(86_400_000)
    ts = dt.datetime(1970, 2, 16, 7, 6, 40, 123456, tzinfo=UTC)
    assert timestamp_to_millis(ts) == 4000000123
    assert timestamp_to_millis(dt.datetime(1970, 2, 16, 7, 6, 40)) == 4000000000  # naive means UTC
    assert timestamp_to_millis(dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)) == -1
    assert millis_to_timestamp(-1) == dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    cet = dt.timezone(dt.timedelta(hours=1))
    assert timestamp_to_millis(dt.datetime(1970, 1, 1, 1, 0, tzinfo=cet)) == 0
