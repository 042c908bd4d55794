"""JsonSchemaConverter: Connect data <-> JSON with a JSON Schema in a schema registry, wire-compatible with Confluent's
io.confluent.connect.json.JsonSchemaConverter (magic byte 0, the 4-byte schema id, the JSON document).

Schemas map as JsonSchemaData maps them (json_schema_data.py); payloads are JsonConverter's JSON without envelope
(json_schema_values.py). Like AvroConverter, each schema is registered once and each id fetched once.
`$ref`s to other subjects (the schema's references, by name) are resolved when reading (json_schema_refs.py).
Not done: `use.optional.for.nonrequired`,
`generalized.sum.type.support`; payloads are not validated against the schema (Confluent's `json.fail.invalid.schema`
is false by default too)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import orjson

from ..config.configdef import ConfigDef, ConfigType, Importance, one_of
from ..data.records import Headers
from ..data.schema import DataError, Schema
from ..schema_registry.client import RegistryClientError
from .avro import (
    MAGIC,
    configure_registry,
    registered_id,
    remember,
    schema_registry_config_def,
    subject_name,
)
from .avro_codec import HEADER_SIZE
from .base import Converter
from .json_schema_data import from_connect_schema, to_connect_schema
from .json_schema_refs import inline_references
from .json_schema_values import SchemaDecoders, SchemaEncoders


def _config_def() -> ConfigDef:
    cd = schema_registry_config_def()
    cd.define(
        "decimal.format",
        ConfigType.STRING,
        "BASE64",
        validator=one_of("BASE64", "NUMERIC"),
        importance=Importance.LOW,
        documentation="How decimals are written: BASE64 strings (default) or NUMERIC JSON numbers",
    )
    cd.define(
        "object.additional.properties",
        ConfigType.BOOLEAN,
        True,
        importance=Importance.LOW,
        documentation="Whether object schemas allow properties they do not list",
    )
    return cd


class JsonSchemaConverter(Converter):
    class_name = "io.confluent.connect.json.JsonSchemaConverter"
    ignores_headers = True
    config_def = _config_def()

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        parsed = self.config_def.parse(dict(configs))
        configure_registry(self, parsed, configs, is_key)
        self.numeric = parsed["decimal.format"].upper() == "NUMERIC"
        self.additional = parsed["object.additional.properties"]
        self._encoders = SchemaEncoders(self.numeric, True)
        self._decoders = SchemaDecoders(True)
        self._ids: OrderedDict[tuple[str, Schema], bytes] = OrderedDict()
        self._schemas: OrderedDict[bytes, Schema] = OrderedDict()

    def _header(self, topic: str, schema: Schema) -> bytes:
        key = (topic, schema)
        header = self._ids.get(key)
        if header is not None:
            return header
        document = from_connect_schema(schema, self.numeric, self.additional)
        subject = subject_name(self.strategy, topic, self.is_key, schema.name)  # type: ignore[arg-type]
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        schema_id = registered_id(self, subject, text, "JSON", topic)
        return remember(self._ids, key, MAGIC + schema_id.to_bytes(4, "big"), self.cache_size)

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        if schema is None:
            raise DataError(f"JsonSchemaConverter needs a schema to write a value of topic {topic}")
        header = self._header(topic, schema)
        try:
            return header + orjson.dumps(self._encoders.get(schema)(value))
        except (DataError, TypeError, ValueError, orjson.JSONEncodeError) as e:
            raise DataError(
                f"Converting Kafka Connect data to byte[] failed due to serialization error of topic {topic}: {e}"
            ) from e

    def _schema(self, topic: str, data: bytes) -> Schema:
        if len(data) < HEADER_SIZE or data[0] != 0:
            raise DataError(f"Failed to deserialize data for topic {topic} to JSON schema: Unknown magic byte!")
        key = bytes(data[1:HEADER_SIZE])
        schema = self._schemas.get(key)
        if schema is None:
            schema_id = int.from_bytes(key, "big")
            try:
                registered = self.client.schema(schema_id)
                document = json.loads(registered["schema"])
                if registered.get("schemaType", "AVRO") != "JSON":
                    raise DataError(f"Schema {schema_id} is not a JSON schema")
                if registered.get("references"):
                    texts = self.client.references_by_name(registered["references"])
                    document = inline_references(document, {n: json.loads(t) for n, t in texts.items()})
                title = document.get("title") if isinstance(document, dict) else None
                subject = subject_name(self.strategy, topic, self.is_key, title)  # type: ignore[arg-type]
                version = self.client.version_of(subject, schema_id, schema_type="JSON")
            except RegistryClientError as e:
                raise DataError(
                    f"Failed to deserialize data for topic {topic} to JSON schema: Error retrieving JSON schema for "
                    f"id {schema_id}: {e}"
                ) from e
            schema = remember(self._schemas, key, to_connect_schema(document, version), self.cache_size)
        return schema

    def to_connect_data(
        self, topic: str, data: bytes | None, headers: Headers | None = None
    ) -> tuple[Schema | None, Any]:
        if data is None:
            return None, None
        data = bytes(data)
        schema = self._schema(topic, data)
        try:
            return schema, self._decoders.get(schema)(orjson.loads(data[HEADER_SIZE:]))
        except (DataError, ValueError, TypeError, KeyError, AttributeError) as e:
            raise DataError(f"Failed to deserialize data for topic {topic} to JSON schema: {e}") from e
