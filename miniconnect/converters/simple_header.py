"""SimpleHeaderConverter, Kafka's default header.converter: header values as the text Values.convertToString
writes, read back with the schema inferred from the text (a subset of Values.parseString: booleans, integers,
decimals as float64, else the string)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..data.records import Headers
from ..data.schema import (
    BOOLEAN_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    STRING_SCHEMA,
    Schema,
)
from ..data.values import convert_to_string_bytes
from .base import Converter, converter_config_def

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INT_SCHEMAS = ((8, INT8_SCHEMA), (16, INT16_SCHEMA), (32, INT32_SCHEMA), (64, INT64_SCHEMA))


class SimpleHeaderConverter(Converter):
    class_name = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
    ignores_headers = True
    converter = False
    header_converter = True
    config_def = converter_config_def()

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        pass

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        return convert_to_string_bytes(schema, value)

    def to_connect_data(
        self, topic: str, data: bytes | None, headers: Headers | None = None
    ) -> tuple[Schema | None, Any]:
        if data is None:
            return None, None
        text = data.decode("utf-8", "replace")
        if text in ("true", "false"):
            return BOOLEAN_SCHEMA, text == "true"
        if _INTEGER.fullmatch(text):
            n = int(text)
            for bits, schema in _INT_SCHEMAS:
                if -(1 << (bits - 1)) <= n < 1 << (bits - 1):
                    return schema, n
        elif _NUMBER.fullmatch(text):
            return FLOAT64_SCHEMA, float(text)
        return STRING_SCHEMA, text
