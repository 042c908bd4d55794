"""ProtobufConverter: Connect data <-> Protobuf with a schema registry, wire-compatible with Confluent's
io.confluent.connect.protobuf.ProtobufConverter: magic byte 0, the schema id as 4 bytes big-endian, the message-index
list (zigzag varints: the count, then the indexes; the single byte 0 for the file's first message), the Protobuf
binary.

Schemas map as Confluent's ProtobufData maps them (protobuf_data.py), values through python `protobuf`'s message
classes (protobuf_codec.py); `protobuf` is imported when the first converter is configured, not at start-up. Like
AvroConverter, each Connect schema is registered once and each (schema id, message index) resolved once.
Supported ProtobufDataConfig keys: optional.for.nullables, optional.for.proto2, wrapper.for.nullables,
wrapper.for.raw.primitives, generate.index.for.unions, flatten.unions, generate.struct.for.nulls,
enhanced.protobuf.schema.support, int.for.enums, scrub.invalid.names, ignore.default.for.nullables,
generalized.sum.type.support. Not done: Connect defaults (proto3 has none), recursive messages; `use.latest.version`
writes the latest id with the descriptor derived from the Connect schema."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..config.configdef import ConfigDef, ConfigType, Importance
from ..data.records import Headers
from ..data.schema import DataError, Schema
from ..schema_registry.client import RegistryClientError
from .avro import MAGIC, configure_registry, registered_id, remember, schema_registry_config_def, subject_name
from .base import Converter

if TYPE_CHECKING:
    from .protobuf_columns import ProtobufColumns

_DATA_KEYS = {
    "optional.for.nullables": ("optional_for_nullables", False, "Nullable fields as proto3 `optional` fields"),
    "wrapper.for.nullables": ("wrapper_for_nullables", False, "Nullable fields as google.protobuf wrapper messages"),
    "wrapper.for.raw.primitives": ("wrapper_for_raw_primitives", True, "Wrapper messages read as primitives"),
    "generate.index.for.unions": ("generate_index_for_unions", True, "Suffix union field names with an index"),
    "enhanced.protobuf.schema.support": ("enhanced_schema_support", False, "Full names for messages and enums"),
    "int.for.enums": ("int_for_enums", False, "Enums as int32 instead of strings"),
    "scrub.invalid.names": ("scrub_invalid_names", False, "Names made valid Protobuf names"),
    "optional.for.proto2": ("optional_for_proto2", True, "Unset proto2 optional fields read as null"),
    "generate.struct.for.nulls": ("generate_struct_for_nulls", False, "Unset messages read as their defaults"),
    "flatten.unions": ("flatten_unions", False, "Oneof members read as fields of the message"),
    "ignore.default.for.nullables": ("ignore_default_for_nullables", False, "A null is written as null"),
    "generalized.sum.type.support": ("generalized_sum_type_support", False, "Connect's Enum and Union names"),
}


def _config_def() -> ConfigDef:
    cd = schema_registry_config_def()
    for key, (_, default, doc) in _DATA_KEYS.items():
        cd.define(key, ConfigType.BOOLEAN, default, importance=Importance.LOW, documentation=doc)
    return cd


def write_indexes(indexes: list[int]) -> bytes:
    if indexes == [0]:
        return b"\x00"
    out = bytearray()
    for n in [len(indexes), *indexes]:
        z = (n << 1) ^ (n >> 63)
        while z > 0x7F:
            out.append((z & 0x7F) | 0x80)
            z >>= 7
        out.append(z)
    return bytes(out)


def read_indexes(data: bytes, pos: int) -> tuple[list[int], int]:
    """The message-index list starting at `pos`, and where the message starts."""
    from ..schema_registry.proto_text import read_varint

    def zigzag(at: int) -> tuple[int, int]:
        z, at = read_varint(data, at)
        return (z >> 1) ^ -(z & 1), at

    count, pos = zigzag(pos)
    if count == 0:
        return [0], pos
    if not 0 < count <= 100:
        raise ValueError(f"invalid message-index count {count}")
    out = []
    for _ in range(count):
        n, pos = zigzag(pos)
        if n < 0:
            raise ValueError(f"negative message index {n}")
        out.append(n)
    return out, pos


class ProtobufConverter(Converter):
    class_name = "io.confluent.connect.protobuf.ProtobufConverter"
    ignores_headers = True
    config_def = _config_def()

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        from .protobuf_data import ProtobufDataConfig

        parsed = self.config_def.parse(dict(configs))
        configure_registry(self, parsed, configs, is_key)
        self.data_config = ProtobufDataConfig(**{attr: parsed[key] for key, (attr, _, _) in _DATA_KEYS.items()})
        self._encoders: OrderedDict[tuple[str, Schema], tuple[bytes, Any, Any]] = OrderedDict()
        self._decoders: OrderedDict[tuple[str, bytes], tuple[Schema, Any, Any, ProtobufColumns | None]] = OrderedDict()

    # -- Connect -> Protobuf ------------------------------------------------------------------------------------
    def _encoder(self, topic: str, schema: Schema) -> tuple[bytes, Any, Any]:
        key = (topic, schema)
        found = self._encoders.get(key)
        if found is not None:
            return found
        from ..schema_registry.proto_text import to_text
        from .protobuf_codec import Encoders, message_class
        from .protobuf_data import Types, from_connect_schema

        proto = from_connect_schema(schema, self.data_config)
        subject = subject_name(self.strategy, topic, self.is_key, proto.message.lstrip("."))
        schema_id = registered_id(self, subject, to_text(proto.file), "PROTOBUF", topic)
        cls = message_class(proto, proto.message)
        if schema.type.name == "STRUCT":
            fill = Encoders(Types(proto), self.data_config).struct(schema, proto.message)
        else:
            fill = _wrap_primitive(schema)
        found = (MAGIC + schema_id.to_bytes(4, "big") + write_indexes(proto.indexes), cls, fill)
        return remember(self._encoders, key, found, self.cache_size)

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        if schema is None:
            raise DataError(f"ProtobufConverter needs a schema to write a value of topic {topic}")
        header, cls, fill = self._encoder(topic, schema)
        try:
            msg = cls()
            fill(msg, value)
            return header + msg.SerializeToString()  # type: ignore[no-any-return]
        except DataError as e:
            raise DataError(f"Failed to serialize Protobuf data from topic {topic}: {e}") from e
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError, IndexError) as e:
            raise DataError(
                f"Failed to serialize Protobuf data from topic {topic}: a value does not fit the schema "
                f"({type(e).__name__}: {e})"
            ) from e

    # -- Protobuf -> Connect ------------------------------------------------------------------------------------
    def _fetch(self, key: str) -> tuple[str, dict[str, str]]:
        subject, _, version = key.rpartition("\x00")
        found = self.client.subject_version(subject, int(version))
        return found["schema"], _references(found)

    def _decoder(self, topic: str, data: bytes) -> tuple[Schema, Any, Any, ProtobufColumns | None, int]:
        """The Connect schema, message class, reader and column reader (flat messages) of the record `data`, and
        where its message starts."""
        if len(data) < 6 or data[0] != 0:
            raise DataError(
                f"Failed to deserialize data for topic {topic} to Protobuf: Unknown magic byte! (the record does not "
                f"start with Confluent's magic byte 0 and a schema id: {bytes(data[:5]).hex()})"
            )
        try:
            indexes, start = read_indexes(data, 5)
        except ValueError as e:
            raise DataError(
                f"Failed to deserialize data for topic {topic} to Protobuf: corrupt message-index list after schema "
                f"id {int.from_bytes(data[1:5], 'big')} ({e})"
            ) from None
        key = (topic, bytes(data[1:start]))
        found = self._decoders.get(key)
        if found is not None:
            return (*found, start)
        from ..schema_registry.proto_text import ProtoSyntaxError, load
        from .protobuf_codec import Decoders, message_class
        from .protobuf_columns import protobuf_columns
        from .protobuf_data import ProtoSchema, Types, message_at, to_connect_schema

        schema_id = int.from_bytes(data[1:5], "big")
        try:
            registered = self.client.schema(schema_id)
            kind = registered.get("schemaType", "AVRO")
            if kind != "PROTOBUF":
                raise DataError(f"Schema {schema_id} is a {kind} schema, not Protobuf")
            fd, imports = load(registered["schema"], _references(registered), self._fetch)
            proto = ProtoSchema(fd, imports, "", indexes)
            message = message_at(proto, indexes)
            subject = subject_name(self.strategy, topic, self.is_key, message.lstrip("."))
            version = self.client.version_of(subject, schema_id, schema_type="PROTOBUF")
        except RegistryClientError as e:
            raise DataError(
                f"Failed to deserialize data for topic {topic} to Protobuf: Error retrieving Protobuf "
                f"{'key' if self.is_key else 'value'} schema for id {schema_id}: {e}"
            ) from e
        except ProtoSyntaxError as e:
            raise DataError(f"Failed to deserialize data for topic {topic}: schema {schema_id} is invalid: {e}") from e
        except DataError as e:
            raise DataError(f"Failed to deserialize data for topic {topic} to Protobuf: {e}") from e
        types = Types(proto)
        connect = to_connect_schema(types, message, self.data_config, version)
        cls = message_class(proto, message)
        if connect.type.name == "STRUCT":
            read = Decoders(types, self.data_config).struct(connect, message)
        else:
            read = _unwrap_primitive
        found = (connect, cls, read, protobuf_columns(data[:start], connect, types, message, self.data_config))
        return (*remember(self._decoders, key, found, self.cache_size), start)

    def to_connect_data(
        self, topic: str, data: bytes | None, headers: Headers | None = None
    ) -> tuple[Schema | None, Any]:
        if data is None:
            return None, None
        if data.__class__ is not bytes:
            data = bytes(data)
        schema, cls, read, _, start = self._decoder(topic, data)
        try:
            return schema, read(cls.FromString(data[start:]))
        except DataError as e:
            raise DataError(f"Failed to deserialize data for topic {topic} to Protobuf: {e}") from e
        except Exception as e:  # google.protobuf.message.DecodeError and friends
            raise DataError(
                f"Failed to deserialize data for topic {topic} to Protobuf: the record's bytes do not match schema "
                f"id {int.from_bytes(data[1:5], 'big')} ({type(e).__name__}: {e})"
            ) from e

    def to_connect_batch(
        self, topic: str, datas: Iterable[bytes | None], headers: Sequence[Headers] | None = None
    ) -> list[tuple[Schema | None, Any]]:
        out: list[tuple[Schema | None, Any]] = []
        append = out.append
        head = b"-"  # the framing of the last record read (first message of its schema): the next ones reuse it
        schema: Any = None
        cls: Any = None
        read: Any = None
        for data in datas:
            if data.__class__ is bytes and data[:6] == head:
                try:
                    append((schema, read(cls.FromString(data[6:]))))
                    continue
                except Exception:
                    pass  # found again, with the record's message, below
            append(self.to_connect_data(topic, data))
            if data.__class__ is bytes and data[5:6] == b"\x00":
                head = data[:6]
                schema, cls, read, _, _ = self._decoder(topic, data)
        return out

    def column_reader(self, topic: str, data: bytes) -> ProtobufColumns | None:
        """What reads records of the schema id and message of `data` (a record of `topic`) as Arrow columns with the
        values to_connect_data gives (see protobuf_columns); None for messages that are not flat, or when the id
        cannot be read (then the record path says why)."""
        if data.__class__ is not bytes:
            return None
        try:
            return self._decoder(topic, data)[3]
        except DataError:
            return None


def _references(registered: Mapping[str, Any]) -> dict[str, str]:
    return {str(r["name"]): f"{r['subject']}\x00{int(r['version'])}" for r in registered.get("references") or []}


def _wrap_primitive(schema: Schema) -> Any:
    def fill(msg: Any, value: Any) -> None:
        msg.value = value if schema.type.name != "BYTES" or value.__class__ is bytes else bytes(value)

    return fill


def _unwrap_primitive(msg: Any) -> Any:
    return msg.value
