"""Kafka's primitive converters and SimpleHeaderConverter: bytes as Kafka's serializers write them, schemas as
Kafka's converters return them, and their listing as converters and header converters."""

from __future__ import annotations

import decimal
import math

import pytest

from miniconnect.converters.number import (
    BooleanConverter,
    DoubleConverter,
    FloatConverter,
    IntegerConverter,
    LongConverter,
    ShortConverter,
)
from miniconnect.converters.simple_header import SimpleHeaderConverter
from miniconnect.data import schema as S
from miniconnect.data.schema import DataError, Schema, Struct


@pytest.mark.parametrize(
    "cls, value, data, schema",
    [
        (ShortConverter, -2, b"\xff\xfe", S.OPTIONAL_INT16_SCHEMA),
        (IntegerConverter, 258, b"\x00\x00\x01\x02", S.OPTIONAL_INT32_SCHEMA),
        (LongConverter, -1, b"\xff" * 8, S.OPTIONAL_INT64_SCHEMA),
        (FloatConverter, 1.5, b"\x3f\xc0\x00\x00", S.OPTIONAL_FLOAT32_SCHEMA),
        (DoubleConverter, -2.0, b"\xc0\x00\x00\x00\x00\x00\x00\x00", S.OPTIONAL_FLOAT64_SCHEMA),
        (BooleanConverter, True, b"\x01", S.OPTIONAL_BOOLEAN_SCHEMA),
        (BooleanConverter, False, b"\x00", S.OPTIONAL_BOOLEAN_SCHEMA),
    ],
)
def test_round_trip(cls, value, data, schema):
    conv = cls()
    conv.configure({}, False)
    assert conv.from_connect_data("t", None, value) == data
    assert conv.to_connect_data("t", data) == (schema, value)
    assert conv.from_connect_data("t", None, None) is None
    assert conv.to_connect_data("t", None) == (schema, None)


def test_errors_as_kafka_words_them():
    with pytest.raises(
        DataError,
        match=r"^Failed to deserialize integer: Size of data received by "
        r"IntegerDeserializer is not 4$",
    ):
        IntegerConverter().to_connect_data("t", b"\x00")
    with pytest.raises(DataError, match=r"^Failed to serialize to integer \(was class java.lang.String\): $"):
        IntegerConverter().from_connect_data("t", None, "1")
    with pytest.raises(DataError, match="^Invalid schema type for BooleanConverter: STRING$"):
        BooleanConverter().from_connect_data("t", S.STRING_SCHEMA, True)
    with pytest.raises(DataError, match="Unexpected byte received by BooleanDeserializer: 2"):
        BooleanConverter().to_connect_data("t", b"\x02")
    assert math.isinf(FloatConverter().to_connect_data("t", FloatConverter().from_connect_data("t", None, 1e300))[1])


def test_simple_header_converter_writes_values_text_and_infers_schemas():
    c = SimpleHeaderConverter()
    struct_schema = Schema.struct([("a", S.INT32_SCHEMA), ("b", S.OPTIONAL_STRING_SCHEMA)])
    assert c.from_connect_data("t", struct_schema, Struct(struct_schema, [1, 'x"y'])) == b'{"a":1,"b":"x\\"y"}'
    assert c.from_connect_data("t", None, [1, "a", True]) == b'[1,"a",true]'
    assert c.from_connect_data("t", None, {"k": 1.0}) == b'{"k":1.0}'
    assert c.from_connect_data("t", None, decimal.Decimal("1E+3")) == b"1E+3"
    assert c.from_connect_data("t", None, b"\x00\x01") == b"AAE="
    assert c.from_connect_data("t", None, None) is None
    assert c.to_connect_data("t", b"42") == (S.INT8_SCHEMA, 42)
    assert c.to_connect_data("t", b"70000") == (S.INT32_SCHEMA, 70000)
    assert c.to_connect_data("t", b"true") == (S.BOOLEAN_SCHEMA, True)
    assert c.to_connect_data("t", b"2.5") == (S.FLOAT32_SCHEMA, 2.5)  # Values.parseString: float32 when it fits
    assert c.to_connect_data("t", b"hello") == (S.STRING_SCHEMA, "hello")
    assert c.to_connect_data("t", None) == (None, None)


def test_listed_like_kafka_4_1():
    """The converter and header converter entries of Kafka 4.1.1's GET /connector-plugins?connectorsOnly=false (as
    its Plugins lists them with no plugin.path), plus Confluent's AvroConverter, JsonSchemaConverter and ProtobufConverter
    (converters, not header converters), which miniconnect bundles."""
    from miniconnect.plugins import Plugins

    infos = Plugins(plugin_path=[]).plugin_infos(connectors_only=False)
    conv = [i["class"].rsplit(".", 1)[1] for i in infos if i["type"] == "converter"]
    header = [i["class"].rsplit(".", 1)[1] for i in infos if i["type"] == "header_converter"]
    assert conv == [
        "AvroConverter",
        "JsonSchemaConverter",
        "ProtobufConverter",
        "BooleanConverter",
        "ByteArrayConverter",
        "DoubleConverter",
        "FloatConverter",
        "IntegerConverter",
        "LongConverter",
        "ShortConverter",
        "JsonConverter",
        "StringConverter",
    ]
    assert header == [
        "BooleanConverter",
        "ByteArrayConverter",
        "DoubleConverter",
        "FloatConverter",
        "IntegerConverter",
        "LongConverter",
        "ShortConverter",
        "JsonConverter",
        "SimpleHeaderConverter",
        "StringConverter",
    ]
