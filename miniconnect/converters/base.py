"""The Converter contract: Connect data <-> the bytes stored in the log."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from ..config.configdef import ConfigDef, ConfigType, Importance, one_of
from ..data.records import Headers
from ..data.schema import Schema

CONVERTER_TYPE_CONFIG = "converter.type"


def converter_config_def() -> ConfigDef:
    """Kafka's ConverterConfig.newConfigDef(): the converter.type key every converter has."""
    return ConfigDef().define(
        CONVERTER_TYPE_CONFIG,
        ConfigType.STRING,
        validator=one_of("key", "value", "header", case_sensitive=True),
        importance=Importance.LOW,
        documentation="How this converter will be used.",
    )


class Converter(ABC):
    class_name: ClassVar[str]  # the Java name users configure, e.g. org.apache.kafka.connect.json.JsonConverter
    config_def: ClassVar[ConfigDef] = ConfigDef()
    # True in the body of a class whose own conversion methods never look at headers; inherited values do not count
    # (see reads_headers). Converter's batch methods only pass headers on.
    ignores_headers: ClassVar[bool] = True
    # What Kafka lists the class as in GET /connector-plugins: a converter, a header converter, or both
    converter: ClassVar[bool] = True
    header_converter: ClassVar[bool] = False

    @abstractmethod
    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        """configs: the converter's own options, the `key.converter.` / `value.converter.` prefix removed."""

    @abstractmethod
    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None: ...

    @abstractmethod
    def to_connect_data(
        self, topic: str, data: bytes | None, headers: Headers | None = None
    ) -> tuple[Schema | None, Any]: ...

    # -- as a header.converter (Kafka's HeaderConverter): a header value as a record's value would be -----------
    def from_connect_header(self, topic: str, key: str, schema: Schema | None, value: Any) -> bytes | None:
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, key: str, data: bytes | None) -> tuple[Schema | None, Any]:
        return self.to_connect_data(topic, data)

    def json_struct_envelope(self, topic: str, schema: Schema) -> tuple[bytes, bytes] | None:
        """(head, tail) such that head + payload + tail is what from_connect_data writes for a Struct of `schema`,
        when the payload is that Struct's compact JSON as JsonConverter writes it; None when this converter does
        not take payloads written elsewhere (then sources hand over records)."""
        return None

    def avro_struct_header(self, topic: str, schema: Schema) -> bytes | None:
        """The bytes before the Avro binary datum that from_connect_data writes for a Struct of `schema`, when that
        datum is the plain encoding of the fields written elsewhere (see AvroConverter); None when this converter
        does not take datums written elsewhere."""
        return None

    # -- batch fast paths (optional): converters with per-record setup to amortize override these ----------
    # headers: each record's headers, in order; the runners pass None when no record of the batch has any.
    def from_connect_batch(
        self,
        topic: str,
        schemas: Sequence[Schema | None],
        values: Sequence[Any],
        headers: Sequence[Headers] | None = None,
    ) -> list[bytes | None]:
        """from_connect_data for many values of one topic (schemas[i] is the schema of values[i]), in order."""
        if headers is not None:
            return [self.from_connect_data(topic, s, v, h) for s, v, h in zip(schemas, values, headers)]
        return [self.from_connect_data(topic, schema, value) for schema, value in zip(schemas, values)]

    def to_connect_batch(
        self, topic: str, datas: Iterable[bytes | None], headers: Sequence[Headers] | None = None
    ) -> list[tuple[Schema | None, Any]]:
        """to_connect_data for many serialized values of one topic, in order."""
        if headers is not None:
            return [self.to_connect_data(topic, data, h) for data, h in zip(datas, headers)]
        return [self.to_connect_data(topic, data) for data in datas]


_METHODS = ("to_connect_data", "to_connect_batch", "from_connect_data", "from_connect_batch")


def reads_headers(converter: Converter) -> bool:
    """Whether the runners must hand this converter the records' headers: False when each of its conversion methods
    comes from a class that says it ignores them (the bundled converters, as Kafka's ignore them; Converter's own
    batch methods only pass them on), so a subclass that overrides one of them gets the headers."""
    mro = type(converter).__mro__
    return not all(next(c for c in mro if m in c.__dict__).__dict__.get("ignores_headers", False) for m in _METHODS)
