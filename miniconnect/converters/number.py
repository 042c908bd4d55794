"""Kafka's primitive converters: BooleanConverter and the NumberConverters (Short, Integer, Long, Float, Double),
each value as the big-endian bytes of Kafka's serializers; also header converters, as in Kafka."""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from typing import Any

from ..data.records import Headers
from ..data.schema import (
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_FLOAT32_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT16_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    DataError,
    Schema,
    Type,
)
from ..data.values import java_class_name
from .base import Converter, converter_config_def


class BooleanConverter(Converter):
    class_name = "org.apache.kafka.connect.converters.BooleanConverter"
    ignores_headers = True
    header_converter = True
    config_def = converter_config_def()

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        pass

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if schema is not None and schema.type is not Type.BOOLEAN:
            raise DataError(f"Invalid schema type for BooleanConverter: {schema.type.name}")
        if value is None:
            return None
        if not isinstance(value, bool):
            raise DataError(f"BooleanConverter is not compatible with objects of type class {java_class_name(value)}")
        return b"\x01" if value else b"\x00"

    def to_connect_data(
        self, topic: str, data: bytes | None, headers: Headers | None = None
    ) -> tuple[Schema | None, Any]:
        if data is None:
            return OPTIONAL_BOOLEAN_SCHEMA, None
        if len(data) != 1:
            raise DataError("Failed to deserialize boolean: Size of data received by BooleanDeserializer is not 1")
        if data[0] not in (0, 1):
            raise DataError(
                f"Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: "
                f"{data[0] - 256 if data[0] > 127 else data[0]}"
            )
        return OPTIONAL_BOOLEAN_SCHEMA, data[0] == 1


class _NumberConverter(Converter):
    """NumberConverter: `type_name` as in Kafka's messages, `fmt` the struct format of Kafka's serializer."""

    ignores_headers = True
    header_converter = True
    config_def = converter_config_def()
    type_name: str
    fmt: str
    schema: Schema
    deserializer: str

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        self._codec = struct.Struct(self.fmt)

    def __init__(self) -> None:
        self._codec = struct.Struct(self.fmt)

    def _check(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise DataError(f"Failed to serialize to {self.type_name} (was class {java_class_name(value)}): ")
        return value

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        try:
            return self._codec.pack(self._check(value))
        except struct.error as e:
            raise DataError(f"Failed to serialize to {self.type_name} (was class {java_class_name(value)}): ") from e

    def to_connect_data(
        self, topic: str, data: bytes | None, headers: Headers | None = None
    ) -> tuple[Schema | None, Any]:
        if data is None:
            return self.schema, None
        if len(data) != self._codec.size:
            raise DataError(
                f"Failed to deserialize {self.type_name}: Size of data received by {self.deserializer} "
                f"is not {self._codec.size}"
            )
        return self.schema, self._codec.unpack(data)[0]


class _FloatingConverter(_NumberConverter):
    def _check(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, float):
            raise DataError(f"Failed to serialize to {self.type_name} (was class {java_class_name(value)}): ")
        if self.fmt == ">f" and not math.isinf(value) and abs(value) > 3.4028234663852886e38:
            return math.copysign(math.inf, value)  # Java's (float) narrowing
        return value


class ShortConverter(_NumberConverter):
    class_name = "org.apache.kafka.connect.converters.ShortConverter"
    type_name, fmt, schema, deserializer = "short", ">h", OPTIONAL_INT16_SCHEMA, "ShortDeserializer"


class IntegerConverter(_NumberConverter):
    class_name = "org.apache.kafka.connect.converters.IntegerConverter"
    type_name, fmt, schema, deserializer = "integer", ">i", OPTIONAL_INT32_SCHEMA, "IntegerDeserializer"


class LongConverter(_NumberConverter):
    class_name = "org.apache.kafka.connect.converters.LongConverter"
    type_name, fmt, schema, deserializer = "long", ">q", OPTIONAL_INT64_SCHEMA, "LongDeserializer"


class FloatConverter(_FloatingConverter):
    class_name = "org.apache.kafka.connect.converters.FloatConverter"
    type_name, fmt, schema, deserializer = "float", ">f", OPTIONAL_FLOAT32_SCHEMA, "FloatDeserializer"


class DoubleConverter(_FloatingConverter):
    class_name = "org.apache.kafka.connect.converters.DoubleConverter"
    type_name, fmt, schema, deserializer = "double", ">d", OPTIONAL_FLOAT64_SCHEMA, "DoubleDeserializer"
