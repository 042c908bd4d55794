"""StringConverter: any value -> its string form in bytes; bytes -> (OPTIONAL_STRING_SCHEMA, str). Kafka's semantics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import CONNECT_VERSION
from ..config.configdef import ConfigType, Importance, Width
from ..data.records import Headers
from ..data.schema import OPTIONAL_STRING_SCHEMA, DataError, Schema
from ..errors import ConfigError
from .base import CONVERTER_TYPE_CONFIG, Converter, converter_config_def
from .charsets import java_charset
from .javatext import java_to_string

ENCODING_CONFIG = "converter.encoding"


def _string_config_def():
    return converter_config_def().define(
        ENCODING_CONFIG,
        ConfigType.STRING,
        "UTF-8",
        importance=Importance.HIGH,
        documentation="The name of the Java character set to use for encoding strings as byte arrays.",
        width=Width.MEDIUM,
        display_name="Encoding",
    )


class StringConverter(Converter):
    """Encodes str(value) (Java's toString: true/false, 1.0E20, Struct{a=1}) ignoring the schema; decodes to an optional
    string. Undecodable bytes become U+FFFD and unencodable characters '?', as Java's String/getBytes do."""

    class_name = "org.apache.kafka.connect.storage.StringConverter"
    version = CONNECT_VERSION  # a re-implementation of Kafka's own class reports its version, as Kafka does
    ignores_headers = True
    header_converter = True
    config_def = _string_config_def()

    def __init__(self) -> None:
        self.configure({}, False)

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        props = dict(configs)
        props[CONVERTER_TYPE_CONFIG] = "key" if is_key else "value"
        parsed = self.config_def.parse(props)
        encoding = parsed[ENCODING_CONFIG]
        try:
            self.charset = java_charset(encoding)
        except LookupError:
            raise ConfigError(ENCODING_CONFIG, encoding, "Unsupported encoding") from None
        self._utf8 = self.charset.name == "UTF-8"

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)  # already bytes: pass them through rather than print "b'...'"
        text = value if value.__class__ is str else java_to_string(value, schema)
        try:
            return text.encode() if self._utf8 and text.isascii() else self.charset.encode(text)
        except Exception as e:
            raise DataError(f"Failed to serialize to a string: {e}") from e

    def to_connect_data(
        self, topic: str, data: bytes | None, headers: Headers | None = None
    ) -> tuple[Schema | None, Any]:
        if data is None:
            return OPTIONAL_STRING_SCHEMA, None
        try:
            return OPTIONAL_STRING_SCHEMA, (
                data.decode() if self._utf8 and data.__class__ is bytes else self.charset.decode(bytes(data))
            )
        except UnicodeDecodeError:
            return OPTIONAL_STRING_SCHEMA, self.charset.decode(bytes(data))
        except Exception as e:
            raise DataError(f"Failed to deserialize string: {e}") from e
