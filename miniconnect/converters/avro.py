"""AvroConverter: Connect data <-> Avro with a schema registry, wire-compatible with Confluent's
io.confluent.connect.avro.AvroConverter (magic byte 0, the schema id as 4 bytes big-endian, the Avro binary datum).

Schemas map as Confluent's AvroData maps them (avro_data.py). Each Connect schema is registered (or looked up) once
and each schema id fetched once: the converter keeps both directions cached, so the registry sees one request per
new schema, never one per record. Records are encoded and decoded by code compiled per schema (avro_codec.py).

Differences from Confluent's converter: `use.latest.version` encodes with the latest version's schema without the
`latest.compatibility.strict` check; `basic.auth.credentials.source=SASL_INHERIT` and bearer sources other than
STATIC_TOKEN are refused; schemaless values (no Connect schema) are refused instead of written as the `Anything`
record."""

from __future__ import annotations

import json
import struct
import urllib.parse
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any, TypeVar

import fastavro

from ..config.configdef import ConfigDef, ConfigType, Importance
from ..config.tls import client_context
from ..data.columns import ColumnsRefused
from ..data.records import Headers
from ..data.schema import DataError, Schema, Type
from ..errors import ConfigError
from ..schema_registry.client import RegistryClientError, SchemaRegistryClient
from .avro_codec import (
    HEADER_SIZE,
    BatchDecoder,
    BatchEncoder,
    Decoder,
    Encoder,
    compile_batch_decoder,
    compile_batch_encoder,
    compile_decoder,
    compile_encoder,
)
from .avro_columns import AvroColumns, avro_columns
from .avro_data import ENUM, FIXED_SIZE, AvroDataConfig, avro_type, from_connect_schema, resolve, to_connect_schema
from .base import Converter

TOPIC_NAME_STRATEGY = "io.confluent.kafka.serializers.subject.TopicNameStrategy"
RECORD_NAME_STRATEGY = "io.confluent.kafka.serializers.subject.RecordNameStrategy"
TOPIC_RECORD_NAME_STRATEGY = "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"
_STRATEGIES = {s.rsplit(".", 1)[-1]: s for s in (TOPIC_NAME_STRATEGY, RECORD_NAME_STRATEGY, TOPIC_RECORD_NAME_STRATEGY)}
MAGIC = b"\x00"
_BYTES = {bytes}
# batches of at least this many records are read by polars (when their schema has a column form): below it, the
# generated decoder is faster (bench/bench_avro.py prints both)
COLUMN_BATCH = 256


def schema_registry_config_def() -> ConfigDef:
    """The keys of Confluent's AbstractKafkaSchemaSerDeConfig that these converters take."""
    T, Imp = ConfigType, Importance
    cd = ConfigDef()
    cd.define(
        "schema.registry.url",
        T.LIST,
        importance=Imp.HIGH,
        documentation="Comma-separated list of URLs for Schema Registry instances that can be used to register "
        "or look up schemas.",
    )
    cd.define("basic.auth.credentials.source", T.STRING, "URL", importance=Imp.MEDIUM, documentation="URL or USER_INFO")
    cd.define("basic.auth.user.info", T.PASSWORD, "", importance=Imp.MEDIUM, documentation="user:password")
    cd.define("schema.registry.basic.auth.user.info", T.PASSWORD, "", importance=Imp.MEDIUM, documentation="Deprecated")
    cd.define("bearer.auth.credentials.source", T.STRING, "STATIC_TOKEN", importance=Imp.MEDIUM, documentation="")
    cd.define("bearer.auth.token", T.PASSWORD, "", importance=Imp.MEDIUM, documentation="The bearer token")
    cd.define("auto.register.schemas", T.BOOLEAN, True, importance=Imp.MEDIUM, documentation="Register new schemas")
    cd.define("use.latest.version", T.BOOLEAN, False, importance=Imp.LOW, documentation="Serialize with the latest")
    cd.define("latest.compatibility.strict", T.BOOLEAN, True, importance=Imp.LOW, documentation="")
    cd.define("normalize.schemas", T.BOOLEAN, False, importance=Imp.LOW, documentation="")
    cd.define("key.subject.name.strategy", T.STRING, TOPIC_NAME_STRATEGY, importance=Imp.MEDIUM, documentation="")
    cd.define("value.subject.name.strategy", T.STRING, TOPIC_NAME_STRATEGY, importance=Imp.MEDIUM, documentation="")
    cd.define("schemas.cache.config", T.INT, 1000, importance=Imp.LOW, documentation="Size of the schema cache")
    # a worker's tasks wait for a registry that is down without limit, off their event loop (schema_registry/pending)
    cd.define("max.retries", T.INT, 3, importance=Imp.LOW, documentation="Retries of a registry request")
    cd.define("retries.wait.ms", T.INT, 1000, importance=Imp.LOW, documentation="First wait between retries")
    cd.define("retries.max.wait.ms", T.INT, 20000, importance=Imp.LOW, documentation="Longest wait between retries")
    cd.define("http.read.timeout.ms", T.INT, 60000, importance=Imp.LOW, documentation="Registry request timeout")
    return cd


def _avro_config_def() -> ConfigDef:
    T, Imp = ConfigType, Importance
    cd = schema_registry_config_def()
    cd.define("connect.meta.data", T.BOOLEAN, True, importance=Imp.LOW, documentation="Keep Connect's metadata")
    cd.define("enhanced.avro.schema.support", T.BOOLEAN, False, importance=Imp.LOW, documentation="Avro enums")
    cd.define("scrub.invalid.names", T.BOOLEAN, False, importance=Imp.LOW, documentation="Make names valid in Avro")
    return cd


def registry_client(parsed: Mapping[str, Any], originals: Mapping[str, Any]) -> SchemaRegistryClient:
    """The client a converter's configuration describes (Confluent's SchemaRegistryClientFactory)."""
    urls = [u.strip() for u in parsed["schema.registry.url"] if u.strip()]
    if not urls:
        raise ConfigError("schema.registry.url", "", "Missing Schema Registry URL")
    auth = None
    source = str(parsed["basic.auth.credentials.source"]).upper()
    if source == "USER_INFO":
        info = parsed["basic.auth.user.info"].value or parsed["schema.registry.basic.auth.user.info"].value or ""
        user, sep, password = info.partition(":")
        if not sep:
            raise ConfigError("basic.auth.user.info", "[hidden]", "expected user:password")
        auth = (user, password)
    elif source == "URL":
        clean = []
        for u in urls:
            p = urllib.parse.urlsplit(u)
            if p.username is not None:
                auth = (p.username, p.password or "")
                u = p._replace(netloc=p.hostname + (f":{p.port}" if p.port else "")).geturl()
            clean.append(u)
        urls = clean
    else:
        raise ConfigError("basic.auth.credentials.source", source, "only URL and USER_INFO are supported")
    token = parsed["bearer.auth.token"].value or None
    if token and str(parsed["bearer.auth.credentials.source"]).upper() != "STATIC_TOKEN":
        raise ConfigError(
            "bearer.auth.credentials.source", parsed["bearer.auth.credentials.source"], "only STATIC_TOKEN"
        )
    ssl_props = {k[len("schema.registry.") :]: v for k, v in originals.items() if k.startswith("schema.registry.ssl.")}
    return SchemaRegistryClient(
        urls,
        auth=auth,
        bearer_token=token,
        ssl_context=client_context(ssl_props) if ssl_props else None,
        timeout_s=parsed["http.read.timeout.ms"] / 1000,
        max_retries=parsed["max.retries"],
        retries_wait_ms=parsed["retries.wait.ms"],
        retries_max_wait_ms=parsed["retries.max.wait.ms"],
    )


def registered_id(converter: Any, subject: str, text: str, schema_type: str, topic: str) -> int:
    """The id a converter writes for a schema: the subject's latest (use.latest.version), the schema registered
    (auto.register.schemas) or looked up."""
    client = converter.client
    try:
        if converter.use_latest:
            return int(client.latest(subject)["id"])
        if converter.auto_register:
            return client.register(subject, text, converter.normalize, schema_type)
        return client.id_of(subject, text, converter.normalize, schema_type)
    except RegistryClientError as e:
        verb = "Error registering" if converter.auto_register and not converter.use_latest else "Error retrieving"
        raise DataError(f"{verb} {schema_type} schema of subject {subject} for topic {topic}: {e}") from e


def subject_strategy(parsed: Mapping[str, Any], is_key: bool) -> str:
    """The full class name of the configured key or value subject name strategy (short names accepted)."""
    key = "key.subject.name.strategy" if is_key else "value.subject.name.strategy"
    strategy = _STRATEGIES.get(parsed[key].rsplit(".", 1)[-1])
    if strategy is None:
        raise ConfigError(key, parsed[key], f"one of {', '.join(_STRATEGIES.values())}")
    return strategy


T = TypeVar("T")


def remember(cache: OrderedDict[Any, T], key: Any, value: T, limit: int) -> T:
    """Stores `value` under `key` in a converter's schema cache, dropping the oldest entry past `limit`
    (schemas.cache.config)."""
    cache[key] = value
    if len(cache) > limit:
        cache.popitem(last=False)
    return value


def configure_registry(converter: Any, parsed: Mapping[str, Any], originals: Mapping[str, Any], is_key: bool) -> None:
    """The settings every schema-registry converter (Avro, JSON Schema, Protobuf) takes from Confluent's common keys."""
    converter.is_key = is_key
    converter.client = registry_client(parsed, originals)
    converter.strategy = subject_strategy(parsed, is_key)
    converter.auto_register = parsed["auto.register.schemas"]
    converter.use_latest = parsed["use.latest.version"]
    converter.normalize = parsed["normalize.schemas"]
    converter.cache_size = max(1, parsed["schemas.cache.config"])


def subject_name(strategy: str, topic: str, is_key: bool, record_name: str | None) -> str:
    if strategy == TOPIC_NAME_STRATEGY:
        return f"{topic}-{'key' if is_key else 'value'}"
    if record_name is None:
        raise DataError(f"{strategy.rsplit('.', 1)[-1]} needs a named schema (a record)")
    return record_name if strategy == RECORD_NAME_STRATEGY else f"{topic}-{record_name}"


class AvroConverter(Converter):
    class_name = "io.confluent.connect.avro.AvroConverter"
    ignores_headers = True
    config_def = _avro_config_def()

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        parsed = self.config_def.parse(dict(configs))
        configure_registry(self, parsed, configs, is_key)
        self.data_config = AvroDataConfig(
            parsed["connect.meta.data"], parsed["enhanced.avro.schema.support"], parsed["scrub.invalid.names"]
        )
        self._encoders: OrderedDict[tuple[str, Schema], tuple[bytes, Encoder, BatchEncoder]] = OrderedDict()
        self._decoders: OrderedDict[tuple[str, bytes], tuple[Schema, Decoder, BatchDecoder]] = OrderedDict()
        self._column_readers: OrderedDict[tuple[str, bytes], AvroColumns | None] = OrderedDict()

    # -- Connect -> Avro ----------------------------------------------------------------------------------------
    def _encoder(self, topic: str, schema: Schema) -> tuple[bytes, Encoder, BatchEncoder]:
        """The header (magic byte, schema id) of records of `schema` on `topic`, their encoder and batch encoder
        (registered and compiled once per schema)."""
        key = (topic, schema)
        found = self._encoders.get(key)
        if found is not None:
            return found
        avro = from_connect_schema(schema, self.data_config)
        named: dict[str, Any] = {}
        parsed = fastavro.parse_schema(avro, named_schemas=named, _write_hint=False)
        record_name = parsed.get("name") if isinstance(parsed, dict) else None
        subject = subject_name(self.strategy, topic, self.is_key, record_name or _type_name(parsed))  # type: ignore[arg-type]
        text = json.dumps(avro, separators=(",", ":"), ensure_ascii=False)
        schema_id = registered_id(self, subject, text, "AVRO", topic)
        if self.use_latest:
            named = {}
            parsed = self._parse_registered(self.client.latest(subject), named)
        found = (
            MAGIC + schema_id.to_bytes(4, "big"),
            compile_encoder(parsed, named, schema),
            compile_batch_encoder(parsed, named, schema),
        )
        return remember(self._encoders, key, found, self.cache_size)

    def avro_struct_header(self, topic: str, schema: Schema) -> bytes | None:
        """The magic byte and schema id before the datum of a Struct of `schema` (registered as from_connect_data
        registers it), when that datum is the plain encoding of its fields that the JDBC source's columnar path
        writes (plugins/jdbc/source/avro_columns): the Avro schema AvroData makes of `schema`, not the latest
        version; fields without defaults, fixed-size bytes or enums (the plan refuses the types it cannot write).
        None otherwise (then sources hand over records)."""
        if (
            schema is None
            or schema.type is not Type.STRUCT
            or self.use_latest
            or type(self).from_connect_data is not AvroConverter.from_connect_data
        ):
            return None
        for f in schema.fields:  # what from_connect_schema writes otherwise: [T, "null"], a fixed, an enum
            s = f.schema
            if s.default is not None:
                return None
            if s.parameters and (FIXED_SIZE in s.parameters or (self.data_config.enhanced and ENUM in s.parameters)):
                return None
        try:
            return self._encoder(topic, schema)[0]
        except DataError:
            return None  # the record path fails with it

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        if schema is None:
            raise DataError(f"AvroConverter needs a schema to write a value of topic {topic}; got a schemaless value")
        header, encode, _ = self._encoder(topic, schema)
        try:
            return encode(value, header)
        except DataError as e:
            raise DataError(f"Failed to serialize Avro data from topic {topic}: {e}") from e
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError, IndexError, struct.error) as e:
            raise DataError(
                f"Failed to serialize Avro data from topic {topic}: a value does not fit the schema "
                f"({type(e).__name__}: {e})"
            ) from e

    def from_connect_batch(
        self,
        topic: str,
        schemas: Sequence[Schema | None],
        values: Sequence[Any],
        headers: Sequence[Headers] | None = None,
    ) -> list[bytes | None]:
        first = schemas[0] if schemas else None
        if first is not None and schemas.count(first) == len(schemas):  # the usual batch: one schema
            head, _, encode_batch = self._encoder(topic, first)
            try:
                return encode_batch(values, head)  # type: ignore[return-value]
            except Exception:  # a tombstone (None has no .values), a value that does not fit
                pass  # found again, with the record's message, below
        out: list[bytes | None] = []
        append = out.append
        last: Schema | None = None
        header, encode = b"", None  # type: ignore[assignment]
        for schema, value in zip(schemas, values, strict=True):
            if value is None or schema is None or schema is not last:
                append(self.from_connect_data(topic, schema, value))
                if value is not None and schema is not None:
                    last = schema
                    header, encode, _ = self._encoder(topic, schema)
                continue
            try:
                append(encode(value, header))  # type: ignore[misc]
            except Exception:
                append(self.from_connect_data(topic, schema, value))  # raises with the record's message
        return out

    # -- Avro -> Connect ----------------------------------------------------------------------------------------
    def _parse_registered(self, found: Mapping[str, Any], named: dict[str, Any]) -> Any:
        for text in self.client.references(list(found.get("references") or [])):
            fastavro.parse_schema(json.loads(text), named_schemas=named, _write_hint=False)
        return fastavro.parse_schema(json.loads(found["schema"]), named_schemas=named, _write_hint=False)

    def _decoder(self, topic: str, data: bytes) -> tuple[Schema, Decoder]:
        schema, decode, _ = self._decoders_of(topic, data)
        return schema, decode

    def _decoders_of(self, topic: str, data: bytes) -> tuple[Schema, Decoder, BatchDecoder]:
        """The Connect schema of the record's schema id, its decoder and its batch decoder (fetched and compiled
        once per id)."""
        if len(data) < HEADER_SIZE or data[0] != 0:
            raise DataError(
                f"Failed to deserialize data for topic {topic} to Avro: Unknown magic byte! (the record does not "
                f"start with Confluent's magic byte 0 and a schema id: {bytes(data[:HEADER_SIZE]).hex()})"
            )
        key = (topic, bytes(data[1:HEADER_SIZE]))
        found = self._decoders.get(key)
        if found is not None:
            return found
        schema_id = int.from_bytes(key[1], "big")
        try:
            registered = self.client.schema(schema_id)
            kind = registered.get("schemaType", "AVRO")
            if kind != "AVRO":
                raise DataError(f"Schema {schema_id} is a {kind} schema, not Avro")
            named: dict[str, Any] = {}
            parsed = self._parse_registered(registered, named)
            record_name = parsed.get("name") if isinstance(parsed, dict) else None
            version = None
            if self.data_config.connect_meta_data:
                subject = subject_name(self.strategy, topic, self.is_key, record_name or _type_name(parsed))  # type: ignore[arg-type]
                version = self.client.version_of(subject, schema_id)
        except RegistryClientError as e:
            raise DataError(
                f"Failed to deserialize data for topic {topic} to Avro: Error retrieving Avro "
                f"{'key' if self.is_key else 'value'} schema for id {schema_id}: {e}"
            ) from e
        connect = to_connect_schema(parsed, named, self.data_config, version)
        found = (connect, compile_decoder(parsed, named, connect), compile_batch_decoder(parsed, named, connect))
        return remember(self._decoders, key, found, self.cache_size)

    def column_reader(self, topic: str, data: bytes) -> AvroColumns | None:
        """What reads records of the schema id of `data` (a record of `topic`) as Arrow columns with the values
        to_connect_data gives (see avro_columns); None when they have no column form, or the id cannot be read
        (then the record path says why)."""
        if data.__class__ is not bytes or len(data) < HEADER_SIZE or data[0] != 0:
            return None
        key = (topic, data[:HEADER_SIZE])
        if key in self._column_readers:
            return self._column_readers[key]
        try:
            schema, _ = self._decoder(topic, data)
            named: dict[str, Any] = {}
            parsed = self._parse_registered(self.client.schema(int.from_bytes(key[1][1:], "big")), named)
        except (DataError, RegistryClientError):
            return None
        return remember(self._column_readers, key, avro_columns(key[1], parsed, named, schema), self.cache_size)

    def to_connect_data(
        self, topic: str, data: bytes | None, headers: Headers | None = None
    ) -> tuple[Schema | None, Any]:
        if data is None:
            return None, None
        if data.__class__ is not bytes:
            data = bytes(data)
        schema, decode = self._decoder(topic, data)
        try:
            return schema, decode(data)
        except DataError as e:
            raise DataError(f"Failed to deserialize data for topic {topic} to Avro: {e}") from e
        except (IndexError, ValueError, TypeError, KeyError, OverflowError, struct.error) as e:
            raise DataError(
                f"Failed to deserialize data for topic {topic} to Avro: the record's bytes do not match schema id "
                f"{int.from_bytes(data[1:5], 'big')} ({type(e).__name__}: {e})"
            ) from e

    def to_connect_batch(
        self, topic: str, datas: Iterable[bytes | None], headers: Sequence[Headers] | None = None
    ) -> list[tuple[Schema | None, Any]]:
        datas = datas if isinstance(datas, list) else list(datas)
        first = datas[0] if datas else None
        if len(datas) >= COLUMN_BATCH and first.__class__ is bytes:  # polars' Avro reader, checked, if it can
            reader = self.column_reader(topic, first)  # type: ignore[arg-type]
            if reader is not None and reader.plain:
                try:
                    return reader.records(datas)
                except ColumnsRefused:
                    pass  # read by the generated decoder, which raises with the record's message if need be
        if (
            first.__class__ is bytes
            and set(map(type, datas)) == _BYTES
            and all(map(bytes.startswith, datas, repeat(first[:HEADER_SIZE])))  # type: ignore[index]
        ):  # the usual batch: one schema id, no tombstones: its batch decoder, one call
            decode_batch = self._decoders_of(topic, first)[2]  # type: ignore[arg-type]
            try:
                return decode_batch(datas)  # type: ignore[arg-type,return-value]
            except Exception:
                pass  # found again, with the record's message, below
        out: list[tuple[Schema | None, Any]] = []
        append = out.append
        last = b""
        schema: Schema | None = None
        decode: Any = None
        for data in datas:
            if data is None or data.__class__ is not bytes or data[:HEADER_SIZE] != last:
                append(self.to_connect_data(topic, data))
                if data is not None and data.__class__ is bytes:
                    last = data[:HEADER_SIZE]
                    schema, decode = self._decoder(topic, data)
                continue
            try:
                append((schema, decode(data)))
            except Exception:
                append(self.to_connect_data(topic, data))  # raises with the record's message
        return out


def _type_name(parsed: Any) -> str:
    return avro_type(resolve(parsed, {})) if not isinstance(parsed, dict) or "name" not in parsed else parsed["name"]
