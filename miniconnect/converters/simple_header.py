"""SimpleHeaderConverter, Kafka's default header.converter: header values as the text Values.convertToString
writes, read back with the schema and value Values.parseString finds in the text."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .. import CONNECT_VERSION
from ..config.configdef import ConfigDef
from ..data.records import Headers
from ..data.schema import BYTES_SCHEMA, STRING_SCHEMA, Schema
from ..data.values import convert_to_string_bytes
from ..data.values_parser import parse_string
from .base import Converter
from .charsets import java_utf8_decode

log = logging.getLogger(__name__)


class SimpleHeaderConverter(Converter):
    class_name = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
    version = CONNECT_VERSION  # a re-implementation of Kafka's own class reports its version, as Kafka does
    ignores_headers = True
    converter = False
    header_converter = True
    config_def = ConfigDef()  # SimpleHeaderConverter.config(): no keys

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        pass

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        return convert_to_string_bytes(schema, value)

    def to_connect_data(
        self, topic: str, data: bytes | None, headers: Headers | None = None
    ) -> tuple[Schema | None, Any]:
        return self.to_connect_header(topic, "", data)

    def to_connect_header(self, topic: str, key: str, data: bytes | None) -> tuple[Schema | None, Any]:
        if data is None:
            return None, None
        try:
            text = java_utf8_decode(data)  # new String(data, UTF_8): Java's replacements of malformed bytes
            return (STRING_SCHEMA, text) if not text else parse_string(text)
        except Exception as e:  # as Kafka: a value that does not parse is kept as bytes
            log.warning(
                "Failed to deserialize value for header '%s' on topic '%s', so using byte array", key, topic, exc_info=e
            )
            return BYTES_SCHEMA, data
