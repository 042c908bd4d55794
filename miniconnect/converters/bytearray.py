"""ByteArrayConverter: raw bytes pass through unchanged, with Kafka's BYTES-only checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import CONNECT_VERSION
from ..data.records import Headers
from ..data.schema import OPTIONAL_BYTES_SCHEMA, DataError, Schema, Type
from .base import Converter, converter_config_def


class ByteArrayConverter(Converter):
    class_name = "org.apache.kafka.connect.converters.ByteArrayConverter"
    version = CONNECT_VERSION  # a re-implementation of Kafka's own class reports its version, as Kafka does
    ignores_headers = True
    header_converter = True
    config_def = converter_config_def()

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        pass  # nothing to configure, as in Kafka

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if schema is not None and schema.type is not Type.BYTES:
            raise DataError(f"Invalid schema type for ByteArrayConverter: {schema.type.name}")
        if value is None or value.__class__ is bytes:
            return value
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        raise DataError(f"ByteArrayConverter is not compatible with objects of type {type(value)}")

    def to_connect_data(
        self, topic: str, data: bytes | None, headers: Headers | None = None
    ) -> tuple[Schema | None, Any]:
        return OPTIONAL_BYTES_SCHEMA, data
