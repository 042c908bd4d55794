"""JsonConverter: Connect data <-> JSON bytes, byte-compatible with Kafka's org.apache.kafka.connect.json.JsonConverter.

Hot paths are compiled once per schema and cached: the schema's envelope prefix
(b'{"schema":<schema json>,"payload":') is serialized once, each value is turned into orjson-ready objects by a
generated per-schema function, and decoding recognises a known envelope prefix so that only the payload is parsed
(for plain structs, straight into the field values by msgspec: see json.plain).

Known differences from Kafka (Jackson), all at the edges:
- doubles are printed like JDK 19+ Double.toString (shortest round-trip digits); older JDKs sometimes print more.
- float32 payloads decode to the Python float of the JSON text, not rounded to float32.
- decode is strict where Jackson coerces silently (a string for an int32 field is a DataError, not 0); numbers are
  still coerced between int and float like Jackson's intValue()/doubleValue().
- BASE64 decimals whose scale differs from the schema's are rescaled (half up) where Kafka raises.
- replace.null.with.default=false also keeps nulls of struct fields (some Kafka versions still apply the default
  there through Struct.get).
- schemaless integers beyond 64 bits decode as floats (orjson); map entries keep insertion order.
"""

from __future__ import annotations

import decimal
import json as stdjson
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from ... import CONNECT_VERSION
from ...data.records import Headers
from ...data.schema import DataError, Schema, Struct, Type
from ..base import CONVERTER_TYPE_CONFIG, Converter
from . import schema as _schema  # looked up on each (cache-missing) call, so tests can count the calls
from .columns import PayloadColumns, payload_columns
from .config import (
    DECIMAL_FORMAT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    SCHEMAS_CACHE_SIZE_CONFIG,
    SCHEMAS_ENABLE_CONFIG,
    json_config_def,
)
from .decoders import Decoder, Decoders, NeedExactNumbers
from .encoders import BatchEncoder, Encoder, Encoders, jackson_escapes
from .plain import (
    PlainDecoder,
    RefusedError,
    astuple,
    float_fields,
    plain_struct_decoder,
    positive_zeros,
    unsigned_zeros,
)

ENVELOPE_ERROR = (
    'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain '
    "additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in "
    "your converter configuration."
)
_DESER_ERROR = "Converting byte[] to Kafka Connect data failed due to serialization error: "

_loads = orjson.loads
_dumps = orjson.dumps
_JSONDecodeError = orjson.JSONDecodeError
_new_struct = object.__new__


_ENVELOPE_HEAD = b'{"schema":'
_ENVELOPE_MID = b',"payload":'
_NULL_SCHEMA_PREFIX = b'{"schema":null,"payload":'
_MAX_PREFIXES = 8  # envelope prefixes tried on the decode fast path (most recent first)


class _Compiled:
    """Everything cached for one schema on the encode side."""

    __slots__ = ("batch", "encode", "prefix")

    def __init__(self, prefix: bytes, encode: Encoder):
        self.prefix, self.encode = prefix, encode
        self.batch: BatchEncoder | None = None  # built on the first batch of a struct schema


class JsonConverter(Converter):
    class_name = "org.apache.kafka.connect.json.JsonConverter"
    version = CONNECT_VERSION  # a re-implementation of Kafka's own class reports its version, as Kafka does
    ignores_headers = True
    header_converter = True
    config_def = json_config_def()

    def __init__(self) -> None:
        self.configure({}, False)

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        props = dict(configs)
        props[CONVERTER_TYPE_CONFIG] = "key" if is_key else "value"
        parsed = self.config_def.parse(props)
        self.is_key = is_key
        self.schemas_enable: bool = parsed[SCHEMAS_ENABLE_CONFIG]
        self.cache_size: int = max(1, parsed[SCHEMAS_CACHE_SIZE_CONFIG])
        self.decimal_format: str = parsed[DECIMAL_FORMAT_CONFIG].upper()
        self.replace_null_with_default: bool = parsed[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        self._encoders = Encoders(self.decimal_format == "NUMERIC", self.replace_null_with_default)
        self._decoders = Decoders(self.replace_null_with_default)
        # encode side: Schema -> serialized envelope prefix + compiled payload encoder (LRU, schemas.cache.size)
        self._from_cache: OrderedDict[Schema, _Compiled] = OrderedDict()
        self._last_schema: Schema | None = None
        self._last_compiled: _Compiled | None = None
        # decode side: serialized schema JSON -> (Schema, decoder, plain decoder or None: see json.plain) (LRU), and
        # known envelope prefixes with the same
        self._to_cache: OrderedDict[bytes, tuple[Schema, Decoder, PlainDecoder | None]] = OrderedDict()
        self._prefixes: list[tuple[bytes, int, Schema, Decoder, PlainDecoder | None]] = []
        self._column_readers: dict[bytes, PayloadColumns | None] = {}  # envelope prefix -> its column reader

    # -- public schema helpers (Kafka's asJsonSchema / asConnectSchema) --------------------------------------------
    def as_json_schema(self, schema: Schema | None) -> dict[str, Any] | None:
        if schema is None:
            return None
        return orjson.loads(self._compiled(schema).prefix[len(_ENVELOPE_HEAD) : -len(_ENVELOPE_MID)])

    def as_connect_schema(self, json_schema: Any) -> Schema | None:
        return _schema.json_to_schema(json_schema, self.replace_null_with_default)

    # -- encode ------------------------------------------------------------------------------------------------
    def _compiled(self, schema: Schema) -> _Compiled:
        cache = self._from_cache
        c = cache.get(schema)
        if c is None:
            schema_json = _dumps(_schema.schema_to_json(schema, self._encoders))
            if b"\\u00" in schema_json:
                schema_json = jackson_escapes(schema_json)
            c = _Compiled(_ENVELOPE_HEAD + schema_json + _ENVELOPE_MID, self._encoders.get(schema))
            cache[schema] = c
            if len(cache) > self.cache_size:
                cache.popitem(last=False)
        else:
            cache.move_to_end(schema)
        self._last_schema, self._last_compiled = schema, c
        return c

    def json_struct_envelope(self, topic: str, schema: Schema) -> tuple[bytes, bytes] | None:
        """The envelope around a struct's compact JSON payload (the columnar JDBC source writes the payload); None
        where the payload would not be the plain JSON of the fields (NUMERIC decimals, defaults, a subclass)."""
        if (
            schema is None
            or schema.type is not Type.STRUCT
            or self.decimal_format != "BASE64"
            or type(self).from_connect_data is not JsonConverter.from_connect_data
            or any(f.schema.default is not None for f in schema.fields)
        ):
            return None
        return (self._compiled(schema).prefix, b"}") if self.schemas_enable else (b"", b"")

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if schema is None:
            if value is None:
                return None
            try:
                payload = _dumps(self._encoders.schemaless(value))
            except orjson.JSONEncodeError as e:
                raise DataError(
                    f"Converting Kafka Connect data to byte[] failed due to serialization error: {e}"
                ) from e
            if b"\\u00" in payload:
                payload = jackson_escapes(payload)
            return _NULL_SCHEMA_PREFIX + payload + b"}" if self.schemas_enable else payload
        c = self._last_compiled if schema is self._last_schema else self._compiled(schema)
        try:
            payload = _dumps(c.encode(value))  # type: ignore[union-attr]
        except orjson.JSONEncodeError as e:
            raise DataError(f"Converting Kafka Connect data to byte[] failed due to serialization error: {e}") from e
        if b"\\u00" in payload:
            payload = jackson_escapes(payload)
        return c.prefix + payload + b"}" if self.schemas_enable else payload  # type: ignore[union-attr]

    def from_connect_batch(
        self, topic: str, schemas: Sequence[Schema | None], values: Sequence[Any], headers: Any = None
    ) -> list[bytes | None]:  # JsonConverter ignores headers, as Kafka's
        out: list[bytes | None] = []
        schema = schemas[0] if schemas else None
        if schema is not None and schema.type is Type.STRUCT and schemas.count(schema) == len(schemas):
            c = self._last_compiled if schema is self._last_schema else self._compiled(schema)
            batch = c.batch  # type: ignore[union-attr]
            if batch is None:
                batch = c.batch = self._encoders.struct_batch(  # type: ignore[union-attr]
                    schema,
                    c.prefix if self.schemas_enable else b"",  # type: ignore[union-attr]
                    lambda v: self.from_connect_data("", schema, v),
                )  # the topic plays no part
            try:
                batch(values, out.append)
            except orjson.JSONEncodeError as e:
                raise DataError(
                    f"Converting Kafka Connect data to byte[] failed due to serialization error: {e}"
                ) from e
            return out
        append = out.append
        last_schema: Any = object()
        prefix, encode = b"", None
        envelope = self.schemas_enable
        for schema, value in zip(schemas, values):
            if schema is None:
                append(self.from_connect_data(topic, None, value))
                continue
            if schema is not last_schema:
                c = self._compiled(schema)
                last_schema, prefix, encode = schema, c.prefix, c.encode
            try:
                payload = _dumps(encode(value))  # type: ignore[misc]
            except orjson.JSONEncodeError as e:
                raise DataError(
                    f"Converting Kafka Connect data to byte[] failed due to serialization error: {e}"
                ) from e
            if b"\\u00" in payload:
                payload = jackson_escapes(payload)
            append(prefix + payload + b"}" if envelope else payload)
        return out

    # -- decode ------------------------------------------------------------------------------------------------
    def to_connect_data(
        self, topic: str, data: bytes | None, headers: Headers | None = None
    ) -> tuple[Schema | None, Any]:
        if data is None:
            return None, None
        if data.__class__ is not bytes:
            data = bytes(data)
        if not self.schemas_enable:
            if not data:
                return None, None
            try:
                return None, positive_zeros(_loads_wide(data), data)
            except _JSONDecodeError as e:
                raise DataError(_DESER_ERROR) from e  # Kafka's text; the parser's is the cause
        if data[-1:] == b"}":
            for prefix, n, schema, dec, _ in self._prefixes:
                if data.startswith(prefix):
                    try:
                        payload = _loads(data[n:-1])  # copying ~payload bytes beats a memoryview here
                    except _JSONDecodeError:
                        break  # not exactly {"schema":S,"payload":P}: let the full parse report it
                    try:
                        return schema, dec(payload)
                    except NeedExactNumbers:
                        return schema, dec(_exact_loads(data)["payload"])
        return self._decode_slow(data)

    def column_reader(self, topic: str, data: bytes) -> PayloadColumns | None:
        """What reads the payloads of envelopes like `data` (the same schema, written the same way) as Arrow columns
        (see columns), learning the envelope's prefix from `data` if it is new; None when they have no column form
        or `data` does not convert (to_connect_data then says why)."""
        if not self.schemas_enable or data.__class__ is not bytes:
            return None
        try:
            schema, _ = self.to_connect_data(topic, data)
        except Exception:
            return None
        for prefix, _n, known, *_ in self._prefixes:
            if known is schema and data.startswith(prefix):
                readers = self._column_readers
                if prefix not in readers:
                    if len(readers) >= self.cache_size:
                        readers.clear()
                    readers[prefix] = payload_columns(schema, prefix)
                return readers[prefix]
        return None

    def to_connect_batch(self, topic: str, datas: Any, headers: Any = None) -> list[tuple[Schema | None, Any]]:
        if not self.schemas_enable:
            return [self.to_connect_data(topic, d) for d in datas]
        out: list[tuple[Schema | None, Any]] = []
        append = out.append
        new = _new_struct
        prefix, n, schema, dec, plain = b"\x00", 0, None, None, None
        floats: tuple[int, ...] = ()
        for data in datas:
            if data.__class__ is bytes and data.startswith(prefix) and data[-1:] == b"}":
                if plain is not None:
                    try:
                        values = astuple(plain(data[n:-1]))
                        for i in floats:  # a zero may be a negative one, which Kafka reads as 0.0
                            if values[i] == 0.0:
                                values = unsigned_zeros(values)
                                break
                        s = new(Struct)
                        s.schema, s.values = schema, values
                        append((schema, s))
                        continue
                    except RefusedError:
                        pass
                try:
                    payload = _loads(data[n:-1])
                    append((schema, dec(payload)))  # type: ignore[misc]
                    continue
                except (_JSONDecodeError, NeedExactNumbers):
                    pass
            append(self.to_connect_data(topic, data))
            if self._prefixes:
                prefix, n, schema, dec, plain = self._prefixes[0]
                floats = float_fields(schema)
        return out

    def _decode_slow(self, data: bytes) -> tuple[Schema | None, Any]:
        if not data:
            raise DataError(ENVELOPE_ERROR)
        try:
            env = _loads_wide(data)
        except _JSONDecodeError as e:
            raise DataError(_DESER_ERROR) from e  # Kafka's text; the parser's is the cause
        if env.__class__ is not dict or len(env) != 2 or "schema" not in env or "payload" not in env:
            raise DataError(ENVELOPE_ERROR)
        js = env["schema"]
        if js is None:
            return None, positive_zeros(env["payload"], data)
        key = _dumps(js)
        cache = self._to_cache
        entry = cache.get(key)
        if entry is None:
            # parse the schema from exact numbers, so that NUMERIC decimal defaults keep their digits
            schema = _schema.json_to_schema(_exact_loads(data)["schema"], self.replace_null_with_default)
            entry = (schema, self._decoders.get(schema), plain_struct_decoder(schema))  # type: ignore[arg-type]
            cache[key] = entry
            if len(cache) > self.cache_size:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        schema, dec, plain = entry
        prefix = _ENVELOPE_HEAD + key + _ENVELOPE_MID
        if data.startswith(prefix):  # written compactly, like Kafka and we do: decode later ones by prefix
            self._remember_prefix(prefix, schema, dec, plain)
        else:  # written with other spacing (Python's json.dumps, pretty printers): remember those bytes instead
            raw = _raw_prefix(data, js)
            if raw is not None:
                self._remember_prefix(raw, schema, dec, plain)
        try:
            return schema, dec(env["payload"])
        except NeedExactNumbers:
            return schema, dec(_exact_loads(data)["payload"])

    def _remember_prefix(self, prefix: bytes, schema: Schema, dec: Decoder, plain: PlainDecoder | None) -> None:
        ps = [p for p in self._prefixes if p[0] != prefix]
        ps.insert(0, (prefix, len(prefix), schema, dec, plain))
        del ps[_MAX_PREFIXES:]
        self._prefixes = ps


_JSON_SPACE = (b" ", b"\t", b"\n", b"\r")


def _raw_prefix(data: bytes, schema_json: Any) -> bytes | None:
    """The exact bytes before the payload value of an envelope {"schema": S, "payload": P} written with any
    spacing, or None. A candidate "payload" key is accepted only if what precedes it parses as {"schema": S}, so
    a "payload" string inside the schema cannot be taken for the key."""
    start = 0
    for _ in range(8):
        i = data.find(b'"payload"', start)
        if i < 0:
            return None
        start = i + 1
        head = data[:i].rstrip()
        if not head.endswith(b","):
            continue
        try:
            if _loads(head[:-1] + b"}") != {"schema": schema_json}:
                continue
        except _JSONDecodeError:
            continue
        j = i + len(b'"payload"')
        while data[j : j + 1] in _JSON_SPACE:
            j += 1
        if data[j : j + 1] != b":":
            return None
        j += 1
        while data[j : j + 1] in _JSON_SPACE:
            j += 1
        return data[:j]
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")


def _loads_wide(data: bytes) -> Any:
    """orjson's parse, but a number beyond a double's range (which orjson refuses) is read as Jackson's
    BigDecimal.doubleValue() reads it: +-Infinity."""
    try:
        return _loads(data)
    except _JSONDecodeError as e:
        if "infinity" not in str(e):
            raise
        try:
            return stdjson.loads(data, parse_constant=_refuse_constant)
        except ValueError:
            raise e from None


def _exact_loads(data: bytes) -> Any:
    """Parses keeping non-integral numbers as Decimal (Kafka's USE_BIG_DECIMAL_FOR_FLOATS)."""
    try:
        return stdjson.loads(data, parse_float=decimal.Decimal)
    except ValueError as e:
        raise DataError(_DESER_ERROR) from e  # Kafka's text; the parser's is the cause
