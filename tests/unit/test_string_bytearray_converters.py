"""StringConverter and ByteArrayConverter behave like Kafka's."""

from __future__ import annotations

import decimal

import pytest

from miniconnect.converters.bytearray import ByteArrayConverter
from miniconnect.converters.string import StringConverter
from miniconnect.data.schema import (
    BYTES_SCHEMA,
    INT32_SCHEMA,
    OPTIONAL_BYTES_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    DataError,
    Schema,
    Struct,
)
from miniconnect.errors import ConfigError


def string_conv(**configs: str) -> StringConverter:
    c = StringConverter()
    c.configure({k.replace("_", "."): v for k, v in configs.items()}, False)
    return c


@pytest.mark.parametrize(
    "value, expected",
    [
        ("héllo", "héllo".encode()),
        (42, b"42"),
        (True, b"true"),
        (False, b"false"),
        (1.0, b"1.0"),
        (1e20, b"1.0E20"),
        (decimal.Decimal("1.50"), b"1.50"),
        ([1, None, "a"], b"[1, null, a]"),
        ({"k": 1, "j": True}, b"{j=true, k=1}"),  # a HashMap: j hashes into the earlier bucket
        (b"\x00raw", b"\x00raw"),
    ],
)
def test_string_converter_writes_javas_to_string(value, expected):
    assert string_conv().from_connect_data("t", None, value) == expected


def test_string_converter_ignores_the_schema_and_prints_structs_like_java():
    s = Schema.struct([("a", INT32_SCHEMA), ("b", OPTIONAL_STRING_SCHEMA), ("c", OPTIONAL_STRING_SCHEMA)])
    assert string_conv().from_connect_data("t", s, Struct(s, [1, None, "x"])) == b"Struct{a=1,c=x}"
    assert string_conv().from_connect_data("t", STRING_SCHEMA, None) is None


def test_string_converter_reads_optional_strings():
    c = string_conv()
    assert c.to_connect_data("t", "héllo".encode()) == (OPTIONAL_STRING_SCHEMA, "héllo")
    assert c.to_connect_data("t", None) == (OPTIONAL_STRING_SCHEMA, None)
    assert c.to_connect_data("t", b"") == (OPTIONAL_STRING_SCHEMA, "")
    assert c.to_connect_data("t", b"a\xffb") == (OPTIONAL_STRING_SCHEMA, "a\ufffdb")  # Java replaces bad bytes


def test_string_converter_encoding():
    latin = string_conv(converter_encoding="ISO-8859-1")
    assert latin.from_connect_data("t", None, "é€") == b"\xe9?"  # unmappable -> '?', as Java's getBytes
    assert latin.to_connect_data("t", b"\xe9") == (OPTIONAL_STRING_SCHEMA, "é")
    utf16 = string_conv(converter_encoding="UTF-16BE")
    assert utf16.from_connect_data("t", None, "a") == b"\x00a"
    with pytest.raises(ConfigError, match="converter.encoding"):
        string_conv(converter_encoding="no-such-charset")


def test_string_converter_config_def():
    keys = StringConverter.config_def.keys
    assert list(keys) == ["converter.type", "converter.encoding"]
    info = keys["converter.encoding"].info()
    assert info["default_value"] == "UTF-8" and info["importance"] == "HIGH"
    assert info["documentation"] == "The name of the Java character set to use for encoding strings as byte arrays."
    assert StringConverter.class_name == "org.apache.kafka.connect.storage.StringConverter"


def test_byte_array_converter_passes_bytes_through():
    c = ByteArrayConverter()
    c.configure({}, True)
    assert c.from_connect_data("t", BYTES_SCHEMA, b"\x00\x01") == b"\x00\x01"
    assert c.from_connect_data("t", None, bytearray(b"ab")) == b"ab"
    assert c.from_connect_data("t", None, None) is None
    assert c.to_connect_data("t", b"\x00\x01") == (OPTIONAL_BYTES_SCHEMA, b"\x00\x01")
    assert c.to_connect_data("t", None) == (OPTIONAL_BYTES_SCHEMA, None)
    assert c.from_connect_batch("t", [None, BYTES_SCHEMA], [b"a", b"b"]) == [b"a", b"b"]
    assert c.to_connect_batch("t", [b"a", None]) == [(OPTIONAL_BYTES_SCHEMA, b"a"), (OPTIONAL_BYTES_SCHEMA, None)]


def test_byte_array_converter_rejects_everything_else():
    c = ByteArrayConverter()
    with pytest.raises(DataError, match="^ByteArrayConverter is not compatible with objects of type <class 'str'>$"):
        c.from_connect_data("t", None, "text")
    with pytest.raises(DataError, match="^Invalid schema type for ByteArrayConverter: STRING$"):
        c.from_connect_data("t", STRING_SCHEMA, b"x")
    assert list(ByteArrayConverter.config_def.keys) == ["converter.type"]
    assert ByteArrayConverter.class_name == "org.apache.kafka.connect.converters.ByteArrayConverter"
