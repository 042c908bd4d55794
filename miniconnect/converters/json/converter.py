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

import base64
import binascii
import datetime as dt
import decimal
import json as stdjson
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from ... import CONNECT_VERSION
from ...config.configdef import ConfigDef, ConfigType, Importance, Width, one_of
from ...data.records import Headers
from ...data.schema import (
    DATE,
    DECIMAL,
    EXACT,
    TIME,
    TIMESTAMP,
    DataError,
    Field,
    Schema,
    Struct,
    Type,
    date_to_days,
    days_to_date,
    decimal_from_bytes,
    decimal_scale,
    decimal_to_bytes,
    millis_to_time,
    millis_to_timestamp,
    time_to_millis,
    timestamp_to_millis,
)
from ..base import Converter
from ..javatext import java_json_double, java_json_float
from .plain import PlainDecoder, RefusedError, astuple, plain_struct_decoder

CONVERTER_TYPE_CONFIG = "converter.type"
SCHEMAS_ENABLE_CONFIG = "schemas.enable"
SCHEMAS_CACHE_SIZE_CONFIG = "schemas.cache.size"
DECIMAL_FORMAT_CONFIG = "decimal.format"
REPLACE_NULL_WITH_DEFAULT_CONFIG = "replace.null.with.default"


def converter_config_def() -> ConfigDef:
    """Kafka's ConverterConfig.newConfigDef(): the converter.type key every converter has."""
    return ConfigDef().define(
        CONVERTER_TYPE_CONFIG,
        ConfigType.STRING,
        validator=one_of("key", "value", "header", case_sensitive=True),
        importance=Importance.LOW,
        documentation="How this converter will be used.",
    )


def _json_config_def() -> ConfigDef:
    cd = converter_config_def()
    cd.define(
        SCHEMAS_ENABLE_CONFIG,
        ConfigType.BOOLEAN,
        True,
        importance=Importance.HIGH,
        documentation="Include schemas within each of the serialized values and keys.",
        group="Schemas",
        order_in_group=0,
        width=Width.MEDIUM,
        display_name="Enable Schemas",
    )
    cd.define(
        SCHEMAS_CACHE_SIZE_CONFIG,
        ConfigType.INT,
        1000,
        importance=Importance.HIGH,
        documentation="The maximum number of schemas that can be cached in this converter instance.",
        group="Schemas",
        order_in_group=1,
        width=Width.MEDIUM,
        display_name="Schema Cache Size",
    )
    cd.define(
        DECIMAL_FORMAT_CONFIG,
        ConfigType.STRING,
        "BASE64",
        validator=one_of("BASE64", "NUMERIC"),
        importance=Importance.LOW,
        documentation="Controls which format this converter will serialize decimals in. This value is case "
        "insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
        group="Serialization",
        order_in_group=0,
        width=Width.MEDIUM,
        display_name="Decimal Format",
    )
    cd.define(
        REPLACE_NULL_WITH_DEFAULT_CONFIG,
        ConfigType.BOOLEAN,
        True,
        importance=Importance.LOW,
        documentation="Whether to replace fields that have a default value and that are null to the default "
        "value. When set to true, the default value is used, otherwise null is used.",
        group="Serialization",
        order_in_group=1,
        width=Width.MEDIUM,
        display_name="Replace null with default",
    )
    return cd


ENVELOPE_ERROR = (
    'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain '
    "additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in "
    "your converter configuration."
)
_DESER_ERROR = "Converting byte[] to Kafka Connect data failed due to serialization error: "

# Connect type <-> the type names in the JSON schema (float32/float64 are "float"/"double" there).
_JSON_TYPE_NAME = {
    Type.INT8: "int8",
    Type.INT16: "int16",
    Type.INT32: "int32",
    Type.INT64: "int64",
    Type.FLOAT32: "float",
    Type.FLOAT64: "double",
    Type.BOOLEAN: "boolean",
    Type.STRING: "string",
    Type.BYTES: "bytes",
    Type.ARRAY: "array",
    Type.MAP: "map",
    Type.STRUCT: "struct",
}
_TYPE_BY_JSON_NAME = {v: k for k, v in _JSON_TYPE_NAME.items()}
_INT_TYPES = (Type.INT8, Type.INT16, Type.INT32, Type.INT64)

_loads = orjson.loads
_dumps = orjson.dumps
_Fragment = orjson.Fragment
_JSONDecodeError = orjson.JSONDecodeError
_new_struct = object.__new__


def _node_type(v: Any) -> str:
    """Jackson's JsonNodeType name of a parsed JSON value, for error texts."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "BOOLEAN"
    if isinstance(v, (int, float, decimal.Decimal)):
        return "NUMBER"
    if isinstance(v, str):
        return "STRING"
    if isinstance(v, list):
        return "ARRAY"
    if isinstance(v, dict):
        return "OBJECT"
    return type(v).__name__.upper()


def _java_class(v: Any) -> str:
    if isinstance(v, (dt.date, dt.time)):
        return "class java.util.Date"  # what Connect's logical temporal values are in Java
    return (
        f"class {type(v).__module__}.{type(v).__qualname__}"
        if type(v).__module__ != "builtins"
        else f"class {type(v).__name__}"
    )


class _NeedExactNumbers(Exception):
    """A NUMERIC decimal arrived as a float: the payload must be re-parsed keeping exact decimal digits."""


def _is_plain_float(v: float) -> bool:
    # orjson and Java print doubles identically in this range (shortest digits, plain notation, '.0' kept).
    return 1e-3 <= v < 1e7 or -1e7 < v <= -1e-3 or v == 0.0


# ---------------------------------------------------------------------------------------------------------------
# Encoding: Connect value -> objects orjson serializes exactly as Jackson would (str, int, bool, None, list, dict,
# plain-range floats, Fragment for everything whose text orjson would spell differently).
# ---------------------------------------------------------------------------------------------------------------
Encoder = Callable[[Any], Any]
BatchEncoder = Callable[[Any, Callable[[bytes | None], None]], None]
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class _Encoders:
    """Per-configuration factory and cache of compiled encoders, keyed by Schema."""

    def __init__(self, numeric_decimals: bool, replace_null_with_default: bool):
        self.numeric_decimals = numeric_decimals
        self.replace_null = replace_null_with_default
        self._cache: dict[Schema, Encoder] = {}

    def get(self, schema: Schema) -> Encoder:
        enc = self._cache.get(schema)
        if enc is None:
            enc = self._build(schema)
            if len(self._cache) > 10_000:  # nested schemas of many top-level schemas: bound memory
                self._cache.clear()
            self._cache[schema] = enc
        return enc

    # -- building ----------------------------------------------------------------------------------------------
    def _build(self, schema: Schema) -> Encoder:
        conv = self._non_null(schema)
        if schema.default is not None and self.replace_null:
            null_result = conv(schema.default)  # encoded once; orjson never mutates it
        elif schema.optional:
            null_result = None
        else:

            def conv_required(v: Any) -> Any:
                if v is None:
                    raise DataError("Conversion error: null value for field that is required and has no default value")
                return conv(v)

            return conv_required

        def conv_nullable(v: Any) -> Any:
            return null_result if v is None else conv(v)

        return conv_nullable

    def _non_null(self, schema: Schema) -> Encoder:
        name = schema.name
        if name == DECIMAL:
            return self._decimal(schema)
        if name == DATE:

            def enc_date(v: Any) -> int:
                if not isinstance(v, dt.date):
                    raise DataError(f"Invalid type for Date, expected date but was {_java_class(v)}")
                return date_to_days(v)

            return enc_date
        if name == TIME:

            def enc_time(v: Any) -> int:
                if isinstance(v, dt.datetime):
                    v = v.time()
                if not isinstance(v, dt.time):
                    raise DataError(f"Invalid type for Time, expected time but was {_java_class(v)}")
                return time_to_millis(v)

            return enc_time
        if name == TIMESTAMP:

            def enc_timestamp(v: Any) -> int:
                if not isinstance(v, dt.datetime):
                    raise DataError(f"Invalid type for Timestamp, expected datetime but was {_java_class(v)}")
                return timestamp_to_millis(v)

            return enc_timestamp
        t = schema.type
        tname = t.name
        if t in _INT_TYPES:

            def enc_int(v: Any) -> int:
                if v.__class__ is int:
                    return v
                if isinstance(v, int) and not isinstance(v, bool):
                    return int(v)
                raise DataError(f"Invalid type for {tname}: {_java_class(v)}")

            return enc_int
        if t is Type.FLOAT64 or t is Type.FLOAT32:
            text = java_json_float if t is Type.FLOAT32 else java_json_double

            def enc_float(v: Any) -> Any:
                if isinstance(v, bool) or not isinstance(v, (float, int)):
                    raise DataError(f"Invalid type for {tname}: {_java_class(v)}")
                v = float(v)
                if t is Type.FLOAT64 and _is_plain_float(v):
                    return v
                return _Fragment(text(v))

            return enc_float
        if t is Type.BOOLEAN:

            def enc_bool(v: Any) -> bool:
                if v is True or v is False:
                    return v
                raise DataError(f"Invalid type for {tname}: {_java_class(v)}")

            return enc_bool
        if t is Type.STRING:

            def enc_str(v: Any) -> str:
                if isinstance(v, str):
                    return v
                raise DataError(f"Invalid type for {tname}: {_java_class(v)}")

            return enc_str
        if t is Type.BYTES:
            return _enc_bytes
        if t is Type.ARRAY:
            elem = self.get(schema.value_schema) if schema.value_schema is not None else self.schemaless

            def enc_array(v: Any) -> list:
                if not isinstance(v, (list, tuple, set, frozenset)):
                    raise DataError(f"Invalid type for {tname}: {_java_class(v)}")
                return [elem(x) for x in v]

            return enc_array
        if t is Type.MAP:
            return self._map(schema)
        if t is Type.STRUCT:
            return self._struct(schema)
        raise DataError(f"Couldn't translate unsupported schema type {schema!r}.")

    def _decimal(self, schema: Schema) -> Encoder:
        scale = decimal_scale(schema)
        numeric = self.numeric_decimals

        def enc_decimal(v: Any) -> Any:
            if isinstance(v, int) and not isinstance(v, bool):
                v = decimal.Decimal(v)
            elif not isinstance(v, decimal.Decimal):
                raise DataError(f"Invalid type for Decimal, expected Decimal but was {_java_class(v)}")
            if not v.is_finite():
                raise DataError(f"Decimal value {v} cannot be represented in JSON")
            if numeric:
                if v.is_zero() and v.is_signed():
                    v = v.copy_abs()  # BigDecimal has no negative zero
                return _Fragment(str(v).encode())  # BigDecimal.toString() and Decimal.__str__ agree
            return base64.b64encode(decimal_to_bytes(v, scale)).decode("ascii")

        return enc_decimal

    def _map(self, schema: Schema) -> Encoder:
        ks, vs = schema.key_schema, schema.value_schema
        kenc = self.get(ks) if ks is not None else self.schemaless
        venc = self.get(vs) if vs is not None else self.schemaless
        object_mode = ks is not None and ks.type is Type.STRING

        def enc_map(v: Any) -> Any:
            if not isinstance(v, Mapping):
                raise DataError(f"Invalid type for MAP: {_java_class(v)}")
            if object_mode:
                return {_as_text(kenc(k)): venc(x) for k, x in v.items()}
            return [[kenc(k), venc(x)] for k, x in v.items()]

        return enc_map

    def _struct(self, schema: Schema) -> Encoder:
        """Generates a function that turns a Struct of exactly this schema into a dict, checking each field's type
        inline and handing anything unusual (None, subclasses, nesting) to the field's encoder."""
        env, lines, body = self._struct_code(schema)
        code = [
            "def enc_struct(s):",
            "    if s.__class__ is not Struct and not isinstance(s, Struct):",
            "        raise DataError(f'Invalid type for STRUCT: {_java_class(s)}')",
            "    if s.schema is not SCHEMA and s.schema != SCHEMA:",
            "        raise DataError('Mismatching schema.')",
            *("    " + line for line in lines),
            f"    return {body}",
        ]
        exec("\n".join(code), env)
        return env["enc_struct"]

    def struct_batch(self, schema: Schema, prefix: bytes, one: Callable[[Any], bytes | None]) -> BatchEncoder:
        """Generates the converter's batch loop for a top-level struct schema: each Struct of exactly this schema
        is encoded inline (no call per record or per field on the usual types) and serialized with its envelope
        prefix; anything else goes through `one`, the single-value path."""
        env, lines, body = self._struct_code(schema)
        env.update(one=one, PREFIX=prefix, dumps=_dumps, esc=_jackson_escapes, join=b"".join)
        out = "join((PREFIX, p, b'}'))" if prefix else "p"  # one copy where + makes two
        code = [
            "def enc_batch(values, append):",
            "    for s in values:",
            "        if s.__class__ is not Struct or s.schema is not SCHEMA:",
            "            append(one(s))",
            "            continue",
            *("        " + line for line in lines),
            f"        p = dumps({body})",
            "        if b'\\\\u00' in p:",
            "            p = esc(p)",
            f"        append({out})",
        ]
        exec("\n".join(code), env)
        return env["enc_batch"]

    def _struct_code(self, schema: Schema) -> tuple[dict[str, Any], list[str], str]:
        """The statements that turn `s.values` into locals v0..vN ready for orjson, and the dict literal of them."""
        fields = schema.fields
        env: dict[str, Any] = {
            "Struct": Struct,
            "SCHEMA": schema,
            "DataError": DataError,
            "_java_class": _java_class,
            "datetime": dt.datetime,
            "date": dt.date,
            "Decimal": decimal.Decimal,
            "EPOCH_NAIVE": _EPOCH_NAIVE,
            "EPOCH_UTC": _EPOCH_UTC,
            "EPOCH_ORDINAL": _EPOCH_ORDINAL,
            "EXACT": EXACT,
            "b64": binascii.b2a_base64,
        }
        lines: list[str] = []
        if fields:
            lines.append(f"{', '.join(f'v{f.index}' for f in fields)}, = s.values")
        for f in fields:
            i, fs = f.index, f.schema
            env[f"e{i}"] = self.get(fs)
            v = f"v{i}"
            check, inline = None, None
            if fs.name is None:
                if fs.type is Type.STRING:
                    check = f"{v}.__class__ is not str"
                elif fs.type in _INT_TYPES:
                    check = f"{v}.__class__ is not int"
                elif fs.type is Type.BOOLEAN:
                    check = f"{v}.__class__ is not bool"
                elif fs.type is Type.FLOAT64:
                    check = (
                        f"{v}.__class__ is not float or not (1e-3 <= {v} < 1e7 or -1e7 < {v} <= -1e-3 or {v} == 0.0)"
                    )
            elif fs.name == TIMESTAMP and fs.type is Type.INT64:
                # timestamp_to_millis inlined: naive = UTC
                inline = (
                    f"{v}.__class__ is datetime",
                    [
                        f"d = {v} - (EPOCH_NAIVE if {v}.tzinfo is None else EPOCH_UTC)",
                        f"{v} = (d.days * 86400 + d.seconds) * 1000 + d.microseconds // 1000",
                    ],
                )
            elif fs.name == DATE and fs.type is Type.INT32:
                inline = (f"{v}.__class__ is date", [f"{v} = {v}.toordinal() - EPOCH_ORDINAL"])
            elif fs.name == DECIMAL and fs.type is Type.BYTES and not self.numeric_decimals:
                # decimal_to_bytes + base64 inlined; inexact (more digits than the scale) and non-finite values
                # take the field encoder's path
                env[f"s{i}"] = decimal_scale(fs)
                inline = (
                    f"{v}.__class__ is Decimal and {v}.is_finite()",
                    [
                        f"u = {v}.scaleb(s{i}, EXACT)",
                        "n = int(u)",
                        f"if n != u: {v} = e{i}({v})",
                        f"else: {v} = b64(n.to_bytes((n + (n < 0)).bit_length() // 8 + 1, 'big', signed=True), "
                        f"newline=False).decode()",
                    ],
                )
            if check:
                lines.append(f"if {check}: {v} = e{i}({v})")
            elif inline:
                cond, stmts = inline
                lines.append(f"if {cond}:")
                lines += ["    " + st for st in stmts]
                lines.append(f"else: {v} = e{i}({v})")
            else:
                lines.append(f"{v} = e{i}({v})")
        body = "{" + ", ".join(f"{f.name!r}: v{f.index}" for f in fields) + "}"
        return env, lines, body

    # -- no schema: the value's Python type decides, like ConnectSchema.schemaType(value.getClass()) --------------
    def schemaless(self, v: Any) -> Any:
        if v is None or v is True or v is False:
            return v
        c = v.__class__
        if c is str or c is int:
            return v
        if c is float:
            return v if _is_plain_float(v) else _Fragment(java_json_double(v))
        if c is dict or isinstance(v, Mapping):
            if all(isinstance(k, str) for k in v):
                return {k: self.schemaless(x) for k, x in v.items()}
            return [[self.schemaless(k), self.schemaless(x)] for k, x in v.items()]
        if c is list or isinstance(v, (list, tuple)):
            return [self.schemaless(x) for x in v]
        if isinstance(v, (bytes, bytearray, memoryview)):
            return _enc_bytes(v)
        if isinstance(v, str):
            return str(v)
        if isinstance(v, int):
            return int(v)
        if isinstance(v, float):
            return self.schemaless(float(v))
        if isinstance(v, Struct):
            raise DataError("Mismatching schema.")  # Kafka: a Struct needs its schema to be converted
        raise DataError(f"Java class {_java_class(v)} does not have corresponding schema type.")


# orjson writes control characters as \u001f, Jackson as \u001F. The pattern consumes escaped backslashes first so
# that a literal backslash followed by "u00.." in a string is left alone.
_ESCAPES = re.compile(rb"\\\\|\\u00([01][0-9a-f])")


def _jackson_escapes(json: bytes) -> bytes:
    """Upper-cases the hex digits of u00XX escapes; only ever needed when a string holds a control character."""
    return _ESCAPES.sub(lambda m: b"\\u00" + m.group(1).upper() if m.group(1) else m.group(0), json)


_SUPPLEMENTARY = re.compile(rb"[\xf0-\xf4][\x80-\xbf]{3}")


def jackson_supplementary_escapes(json: bytes) -> bytes:
    """Jackson writes a character beyond the BMP (an emoji) as its UTF-16 surrogate pair escaped, \\uD83D\\uDE00,
    where orjson writes its UTF-8 bytes. Used where bytes must equal Kafka's (Connect's internal topics); the record
    path does not apply it (see the dist-stores notes)."""

    def escape(m: re.Match) -> bytes:
        cp = ord(m.group(0).decode("utf-8")) - 0x10000
        return b"\\u%04X\\u%04X" % (0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF))

    return _SUPPLEMENTARY.sub(escape, json)


def _enc_bytes(v: Any) -> str:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return base64.b64encode(v).decode("ascii")
    raise DataError(f"Invalid type for bytes type: {_java_class(v)}")


def _as_text(key: Any) -> str:
    """JsonNode.asText() of an encoded map key."""
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, _Fragment):
        return orjson.dumps(key).decode().strip('"')
    return orjson.dumps(key).decode()


# ---------------------------------------------------------------------------------------------------------------
# Schema <-> JSON schema
# ---------------------------------------------------------------------------------------------------------------
def schema_to_json(schema: Schema, encoders: _Encoders) -> dict[str, Any]:
    """The JSON schema object with Kafka's key order: type, items|keys,values|fields, optional, name, version, doc,
    parameters, default. Struct field entries are the field's schema followed by "field"."""
    t = schema.type
    out: dict[str, Any] = {"type": _JSON_TYPE_NAME[t]}
    if t is Type.ARRAY:
        out["items"] = schema_to_json(schema.value_schema, encoders) if schema.value_schema is not None else None
    elif t is Type.MAP:
        out["keys"] = schema_to_json(schema.key_schema, encoders) if schema.key_schema is not None else None
        out["values"] = schema_to_json(schema.value_schema, encoders) if schema.value_schema is not None else None
    elif t is Type.STRUCT:
        fields = []
        for f in schema.fields:
            fj = schema_to_json(f.schema, encoders)
            fj["field"] = f.name
            fields.append(fj)
        out["fields"] = fields
    out["optional"] = bool(schema.optional)
    if schema.name is not None:
        out["name"] = schema.name
    if schema.version is not None:
        out["version"] = schema.version
    if schema.doc is not None:
        out["doc"] = schema.doc
    if schema.parameters is not None:
        out["parameters"] = dict(schema.parameters)
    if schema.default is not None:
        out["default"] = encoders.get(schema)(schema.default)
    return out


def json_to_schema(js: Any, replace_null_with_default: bool = True) -> Schema | None:
    """Kafka's asConnectSchema: a parsed JSON schema object -> Schema (None for JSON null)."""
    if js is None:
        return None
    t = js.get("type") if isinstance(js, dict) else None
    if not isinstance(t, str):
        raise DataError("Schema must contain 'type' field")
    stype = _TYPE_BY_JSON_NAME.get(t)
    if stype is None:
        raise DataError(f"Unknown schema type: {t}")
    kw: dict[str, Any] = {}
    if stype is Type.ARRAY:
        items = js.get("items")
        if items is None:
            raise DataError("Array schema did not specify the element type")
        kw["value_schema"] = json_to_schema(items, replace_null_with_default)
    elif stype is Type.MAP:
        if "keys" not in js:
            raise DataError("Map schema did not specify the key type")
        if "values" not in js:
            raise DataError("Map schema did not specify the value type")
        kw["key_schema"] = json_to_schema(js["keys"], replace_null_with_default)
        kw["value_schema"] = json_to_schema(js["values"], replace_null_with_default)
    elif stype is Type.STRUCT:
        fields_js = js.get("fields")
        if not isinstance(fields_js, list):
            raise DataError('Struct schema\'s "fields" argument is not an array.')
        fields: list[Field] = []
        seen: set[str] = set()
        for fj in fields_js:
            fname = fj.get("field") if isinstance(fj, dict) else None
            if not isinstance(fname, str):
                raise DataError("Struct schema's field name not specified properly")
            if fname in seen:
                raise DataError(f"Cannot create field because of field name duplication {fname}")
            seen.add(fname)
            field_schema = json_to_schema(fj, replace_null_with_default)
            fields.append(Field(fname, len(fields), field_schema))  # type: ignore[arg-type]
        kw["fields"] = fields
    optional = js.get("optional")
    kw["optional"] = optional is True
    name = js.get("name")
    if isinstance(name, str):
        kw["name"] = name
    version = js.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        kw["version"] = version
    doc = js.get("doc")
    if isinstance(doc, str):
        kw["doc"] = doc
    params = js.get("parameters")
    if isinstance(params, dict):
        for v in params.values():
            if not isinstance(v, str):
                raise DataError("Schema parameters must have string values.")
        kw["parameters"] = params
    schema = Schema(stype, **kw)
    if "default" in js:
        default = _Decoders(replace_null_with_default).get(schema)(js["default"])
        if default is not None:
            schema = schema.with_(default=default)
    return schema


# ---------------------------------------------------------------------------------------------------------------
# Decoding: parsed JSON -> Connect value, per-schema compiled functions
# ---------------------------------------------------------------------------------------------------------------
Decoder = Callable[[Any], Any]


class _Decoders:
    def __init__(self, replace_null_with_default: bool):
        self.replace_null = replace_null_with_default
        self._cache: dict[Schema, Decoder] = {}

    def get(self, schema: Schema) -> Decoder:
        dec = self._cache.get(schema)
        if dec is None:
            dec = self._build(schema)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[schema] = dec
        return dec

    def _build(self, schema: Schema) -> Decoder:
        conv = self._non_null(schema)
        default = schema.default
        if default is not None and self.replace_null:

            def dec_default(v: Any) -> Any:
                return default if v is None else conv(v)

            return dec_default
        if schema.type is Type.STRUCT:  # the null check goes inside the generated decoder: one call less per record
            return self._struct(schema, "None" if schema.optional else None)
        if schema.optional:

            def dec_optional(v: Any) -> Any:
                return None if v is None else conv(v)

            return dec_optional
        tname = schema.type.name

        def dec_required(v: Any) -> Any:
            if v is None:
                raise DataError(f"Invalid null value for required {tname} field")
            return conv(v)

        return dec_required

    def _non_null(self, schema: Schema) -> Decoder:
        name = schema.name
        if name == DECIMAL:
            scale = decimal_scale(schema)

            def dec_decimal(v: Any) -> decimal.Decimal:
                c = v.__class__
                if c is float:
                    raise _NeedExactNumbers
                if c is decimal.Decimal:
                    return v
                if c is int:
                    return decimal.Decimal(v)
                if c is str:
                    try:
                        return decimal_from_bytes(base64.b64decode(v), scale)
                    except (binascii.Error, ValueError) as e:
                        raise DataError("Invalid bytes for Decimal field") from e
                raise DataError(
                    "Invalid type for Decimal, underlying representation should be numeric or bytes "
                    f"but was {_node_type(v)}"
                )

            return dec_decimal
        if name in (DATE, TIME, TIMESTAMP):
            label = {DATE: "Date", TIME: "Time", TIMESTAMP: "Timestamp"}[name]
            kind = "integral" if name == TIMESTAMP else "integer"
            limit = 2**63 if name == TIMESTAMP else 2**31
            to_logical = {DATE: days_to_date, TIME: millis_to_time, TIMESTAMP: millis_to_timestamp}[name]

            def dec_temporal(v: Any) -> Any:
                if v.__class__ is not int or not -limit <= v < limit:
                    raise DataError(
                        f"Invalid type for {label}, underlying representation should be {kind} but was {_node_type(v)}"
                    )
                try:
                    return to_logical(v)
                except OverflowError as e:
                    raise DataError(f"{label} value {v} is out of range") from e

            return dec_temporal
        t = schema.type
        tname = t.name
        if t in _INT_TYPES:

            def dec_int(v: Any) -> int:
                c = v.__class__
                if c is int:
                    return v
                if c is float or c is decimal.Decimal:
                    return int(v)  # Jackson's intValue()/longValue() truncate
                raise DataError(f"Invalid value for {tname} field: {_node_type(v)}")

            return dec_int
        if t is Type.FLOAT32 or t is Type.FLOAT64:

            def dec_float(v: Any) -> float:
                c = v.__class__
                if c is float:
                    return v
                if c is int or c is decimal.Decimal:
                    return float(v)
                raise DataError(f"Invalid value for {tname} field: {_node_type(v)}")

            return dec_float
        if t is Type.BOOLEAN:

            def dec_bool(v: Any) -> bool:
                if v is True or v is False:
                    return v
                raise DataError(f"Invalid value for {tname} field: {_node_type(v)}")

            return dec_bool
        if t is Type.STRING:

            def dec_str(v: Any) -> str:
                if v.__class__ is str:
                    return v
                raise DataError(f"Invalid value for {tname} field: {_node_type(v)}")

            return dec_str
        if t is Type.BYTES:

            def dec_bytes(v: Any) -> bytes:
                if v.__class__ is str:
                    try:
                        return base64.b64decode(v)
                    except (binascii.Error, ValueError) as e:
                        raise DataError("Invalid bytes field") from e
                raise DataError("Invalid bytes field")

            return dec_bytes
        if t is Type.ARRAY:
            elem = self.get(schema.value_schema) if schema.value_schema is not None else _identity

            def dec_array(v: Any) -> list:
                if v.__class__ is not list:
                    raise DataError(f"Arrays should be encoded as JSON arrays, but found {_node_type(v)}")
                return [elem(x) for x in v]

            return dec_array
        if t is Type.MAP:
            ks, vs = schema.key_schema, schema.value_schema
            kdec = self.get(ks) if ks is not None else _identity
            vdec = self.get(vs) if vs is not None else _identity
            if ks is None or ks.type is Type.STRING:

                def dec_object_map(v: Any) -> dict:
                    if v.__class__ is not dict:
                        raise DataError(
                            f"Maps with string fields should be encoded as JSON objects, but found {_node_type(v)}"
                        )
                    return {k: vdec(x) for k, x in v.items()}

                return dec_object_map

            def dec_pair_map(v: Any) -> dict:
                if v.__class__ is not list:
                    raise DataError(
                        "Maps with non-string fields should be encoded as JSON array of tuples, but "
                        f"found {_node_type(v)}"
                    )
                out = {}
                for entry in v:
                    if entry.__class__ is not list:
                        raise DataError(f"Found invalid map entry instead of array tuple: {_node_type(entry)}")
                    if len(entry) != 2:
                        raise DataError(f"Found invalid map entry, expected length 2 but found :{len(entry)}")
                    key = kdec(entry[0])
                    try:
                        out[key] = vdec(entry[1])
                    except TypeError as e:  # an unhashable key (array or struct keys)
                        raise DataError(f"Map key {key!r} cannot be used as a Python dict key") from e
                return out

            return dec_pair_map
        if t is Type.STRUCT:
            return self._struct(schema)
        raise DataError(f"Unknown schema type: {t}")

    def _struct(self, schema: Schema, null: str | None = "") -> Decoder:
        """Generates dict -> Struct for this schema: plain field types are checked inline; anything else (None,
        defaults, logical types, nesting, coercions) goes through the field's decoder. `null` is what a null
        becomes: an expression, or None for a required struct (an error); "" leaves nulls to the caller."""
        fields = schema.fields
        env: dict[str, Any] = {
            "Struct": Struct,
            "SCHEMA": schema,
            "new": _new_struct,
            "DataError": DataError,
            "_node_type": _node_type,
        }
        lines = ["def dec_struct(p):", "    if p.__class__ is not dict:"]
        if null is None:
            lines.append("        if p is None: raise DataError('Invalid null value for required STRUCT field')")
        elif null:
            lines.append(f"        if p is None: return {null}")
        lines += [
            "        raise DataError(f'Structs should be encoded as JSON objects, but found {_node_type(p)}')",
            "    g = p.get",
        ]
        for f in fields:
            i, fs = f.index, f.schema
            env[f"d{i}"] = self.get(fs)
            lines.append(f"    v{i} = g({f.name!r})")
            check = None
            if fs.name is None:
                if fs.type is Type.STRING:
                    check = f"v{i}.__class__ is not str"
                elif fs.type in _INT_TYPES:
                    check = f"v{i}.__class__ is not int"
                elif fs.type is Type.BOOLEAN:
                    check = f"v{i}.__class__ is not bool"
                elif fs.type in (Type.FLOAT32, Type.FLOAT64):
                    check = f"v{i}.__class__ is not float"
            lines.append(f"    if {check}: v{i} = d{i}(v{i})" if check else f"    v{i} = d{i}(v{i})")
        lines += [
            "    s = new(Struct)",
            "    s.schema = SCHEMA",
            f"    s.values = [{', '.join(f'v{f.index}' for f in fields)}]",
            "    return s",
        ]
        exec("\n".join(lines), env)
        return env["dec_struct"]


def _identity(v: Any) -> Any:
    return v


# ---------------------------------------------------------------------------------------------------------------
# The converter
# ---------------------------------------------------------------------------------------------------------------
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
    config_def = _json_config_def()

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
        self._encoders = _Encoders(self.decimal_format == "NUMERIC", self.replace_null_with_default)
        self._decoders = _Decoders(self.replace_null_with_default)
        # encode side: Schema -> serialized envelope prefix + compiled payload encoder (LRU, schemas.cache.size)
        self._from_cache: OrderedDict[Schema, _Compiled] = OrderedDict()
        self._last_schema: Schema | None = None
        self._last_compiled: _Compiled | None = None
        # decode side: serialized schema JSON -> (Schema, decoder, plain decoder or None: see json.plain) (LRU), and
        # known envelope prefixes with the same
        self._to_cache: OrderedDict[bytes, tuple[Schema, Decoder, PlainDecoder | None]] = OrderedDict()
        self._prefixes: list[tuple[bytes, int, Schema, Decoder, PlainDecoder | None]] = []

    # -- public schema helpers (Kafka's asJsonSchema / asConnectSchema) --------------------------------------------
    def as_json_schema(self, schema: Schema | None) -> dict[str, Any] | None:
        if schema is None:
            return None
        return orjson.loads(self._compiled(schema).prefix[len(_ENVELOPE_HEAD) : -len(_ENVELOPE_MID)])

    def as_connect_schema(self, json_schema: Any) -> Schema | None:
        return json_to_schema(json_schema, self.replace_null_with_default)

    # -- encode ------------------------------------------------------------------------------------------------
    def _compiled(self, schema: Schema) -> _Compiled:
        cache = self._from_cache
        c = cache.get(schema)
        if c is None:
            schema_json = _dumps(schema_to_json(schema, self._encoders))
            if b"\\u00" in schema_json:
                schema_json = _jackson_escapes(schema_json)
            c = _Compiled(_ENVELOPE_HEAD + schema_json + _ENVELOPE_MID, self._encoders.get(schema))
            cache[schema] = c
            if len(cache) > self.cache_size:
                cache.popitem(last=False)
        else:
            cache.move_to_end(schema)
        self._last_schema, self._last_compiled = schema, c
        return c

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
                payload = _jackson_escapes(payload)
            return _NULL_SCHEMA_PREFIX + payload + b"}" if self.schemas_enable else payload
        c = self._last_compiled if schema is self._last_schema else self._compiled(schema)
        try:
            payload = _dumps(c.encode(value))  # type: ignore[union-attr]
        except orjson.JSONEncodeError as e:
            raise DataError(f"Converting Kafka Connect data to byte[] failed due to serialization error: {e}") from e
        if b"\\u00" in payload:
            payload = _jackson_escapes(payload)
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
                payload = _jackson_escapes(payload)
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
                return None, _loads(data)
            except _JSONDecodeError as e:
                raise DataError(_DESER_ERROR + str(e)) from e
        if data[-1:] == b"}":
            for prefix, n, schema, dec, _ in self._prefixes:
                if data.startswith(prefix):
                    try:
                        payload = _loads(data[n:-1])  # copying ~payload bytes beats a memoryview here
                    except _JSONDecodeError:
                        break  # not exactly {"schema":S,"payload":P}: let the full parse report it
                    try:
                        return schema, dec(payload)
                    except _NeedExactNumbers:
                        return schema, dec(_exact_loads(data)["payload"])
        return self._decode_slow(data)

    def to_connect_batch(self, topic: str, datas: Any, headers: Any = None) -> list[tuple[Schema | None, Any]]:
        if not self.schemas_enable:
            return [self.to_connect_data(topic, d) for d in datas]
        out: list[tuple[Schema | None, Any]] = []
        append = out.append
        new = _new_struct
        prefix, n, schema, dec, plain = b"\x00", 0, None, None, None
        for data in datas:
            if data.__class__ is bytes and data.startswith(prefix) and data[-1:] == b"}":
                if plain is not None:
                    try:
                        values = astuple(plain(data[n:-1]))
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
                except (_JSONDecodeError, _NeedExactNumbers):
                    pass
            append(self.to_connect_data(topic, data))
            if self._prefixes:
                prefix, n, schema, dec, plain = self._prefixes[0]
        return out

    def _decode_slow(self, data: bytes) -> tuple[Schema | None, Any]:
        if not data:
            raise DataError(ENVELOPE_ERROR)
        try:
            env = _loads(data)
        except _JSONDecodeError as e:
            raise DataError(_DESER_ERROR + str(e)) from e
        if env.__class__ is not dict or len(env) != 2 or "schema" not in env or "payload" not in env:
            raise DataError(ENVELOPE_ERROR)
        js = env["schema"]
        if js is None:
            return None, env["payload"]
        key = _dumps(js)
        cache = self._to_cache
        entry = cache.get(key)
        if entry is None:
            # parse the schema from exact numbers, so that NUMERIC decimal defaults keep their digits
            schema = json_to_schema(_exact_loads(data)["schema"], self.replace_null_with_default)
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
        except _NeedExactNumbers:
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


def _exact_loads(data: bytes) -> Any:
    """Parses keeping non-integral numbers as Decimal (Kafka's USE_BIG_DECIMAL_FOR_FLOATS)."""
    try:
        return stdjson.loads(data, parse_float=decimal.Decimal)
    except ValueError as e:
        raise DataError(_DESER_ERROR + str(e)) from e
