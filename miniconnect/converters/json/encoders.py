"""Encoding: Connect values -> objects orjson serializes exactly as Jackson would, through per-schema functions
compiled once (generated code for structs), and the escapes that make orjson's bytes equal Jackson's."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from ...data.javahash import java_keys
from ...data.schema import (
    DATE,
    DECIMAL,
    EXACT,
    TIME,
    TIMESTAMP,
    DataError,
    Schema,
    Struct,
    Type,
    date_to_days,
    decimal_scale,
    decimal_to_bytes,
    time_to_millis,
    timestamp_to_millis,
)
from ...data.values import java_class_name
from ..javatext import java_json_double, java_json_float

_dumps = orjson.dumps
_Fragment = orjson.Fragment


INT_TYPES = (Type.INT8, Type.INT16, Type.INT32, Type.INT64)


def _java_class(v: Any, schema: Schema | None = None) -> str:
    """`class <the Java class Connect would hold>`, as Kafka's error texts name a value (a number by its schema)."""
    return "class " + java_class_name(v, schema)


_LOGICAL_TYPES = {  # a logical name: the type it stands on, the Java class Kafka's converter expects
    DECIMAL: (Type.BYTES, "BigDecimal"),
    DATE: (Type.INT32, "Date"),
    TIME: (Type.INT32, "Date"),
    TIMESTAMP: (Type.INT64, "Date"),
}


def _is_plain_float(v: float) -> bool:
    # orjson and Java print doubles identically in this range (shortest digits, plain notation, '.0' kept).
    return 1e-3 <= v < 1e7 or -1e7 < v <= -1e-3 or v == 0.0


Encoder = Callable[[Any], Any]
BatchEncoder = Callable[[Any, Callable[[bytes | None], None]], None]
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class Encoders:
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
        logical = _LOGICAL_TYPES.get(name)  # type: ignore[arg-type]
        if logical is not None and schema.type is not logical[0]:  # a Cast kept the name on another type

            def enc_mismatch(v: Any) -> Any:
                raise DataError(
                    f"Invalid type for {name.rsplit('.', 1)[1]}, expected {logical[1]} but was {_java_class(v, schema)}"
                )

            return enc_mismatch
        if name == DECIMAL:
            return self._decimal(schema)
        if name == DATE:

            def enc_date(v: Any) -> int:
                if not isinstance(v, dt.date):
                    raise DataError(f"Invalid type for Date, expected Date but was {_java_class(v, schema)}")
                return date_to_days(v)

            return enc_date
        if name == TIME:

            def enc_time(v: Any) -> int:
                if isinstance(v, dt.datetime):
                    v = v.time()
                if not isinstance(v, dt.time):
                    raise DataError(f"Invalid type for Time, expected Date but was {_java_class(v, schema)}")
                return time_to_millis(v)

            return enc_time
        if name == TIMESTAMP:

            def enc_timestamp(v: Any) -> int:
                if not isinstance(v, dt.datetime):
                    raise DataError(f"Invalid type for Timestamp, expected Date but was {_java_class(v, schema)}")
                return timestamp_to_millis(v)

            return enc_timestamp
        t = schema.type
        tname = t.name
        if t in INT_TYPES:

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
                raise DataError(f"Invalid type for Decimal, expected BigDecimal but was {_java_class(v, schema)}")
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
        bits = 32 if ks is not None and ks.type in (Type.INT8, Type.INT16, Type.INT32) else 64

        def enc_map(v: Any) -> Any:
            if not isinstance(v, Mapping):
                raise DataError(f"Invalid type for MAP: {_java_class(v)}")
            keys = java_keys(v, bits) if isinstance(v, dict) else v  # in its Java map's order, as Kafka's writes it
            if object_mode:
                return {_as_text(kenc(k)): venc(v[k]) for k in keys}
            return [[kenc(k), venc(v[k])] for k in keys]

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
        env.update(one=one, PREFIX=prefix, dumps=_dumps, esc=jackson_escapes, join=b"".join)
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
                elif fs.type in INT_TYPES:
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
            keys = java_keys(v) if isinstance(v, dict) else v  # in its Java map's order, as Kafka's writes it
            if all(isinstance(k, str) for k in v):
                return {k: self.schemaless(v[k]) for k in keys}
            return [[self.schemaless(k), self.schemaless(v[k])] for k in keys]
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


def jackson_escapes(json: bytes) -> bytes:
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
