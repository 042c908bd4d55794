"""Decoding: parsed JSON -> Connect values, through per-schema functions compiled once (generated code for
structs)."""

from __future__ import annotations

import base64
import binascii
import decimal
from collections.abc import Callable
from typing import Any

from ...data.schema import (
    DATE,
    DECIMAL,
    TIME,
    TIMESTAMP,
    DataError,
    Schema,
    Struct,
    Type,
    days_to_date,
    decimal_from_bytes,
    decimal_scale,
    millis_to_time,
    millis_to_timestamp,
)
from .encoders import INT_TYPES

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


class NeedExactNumbers(Exception):
    """A NUMERIC decimal arrived as a float: the payload must be re-parsed keeping exact decimal digits."""


Decoder = Callable[[Any], Any]


class Decoders:
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
                    raise NeedExactNumbers
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
        if t in INT_TYPES:

            def dec_int(v: Any) -> int:
                c = v.__class__
                if c is int:
                    return v
                if c is float or c is decimal.Decimal:
                    try:
                        return int(v)  # Jackson's intValue()/longValue() truncate
                    except OverflowError:  # 1e400: Kafka's BigDecimal takes it (and wraps it), a double cannot
                        raise DataError(f"Invalid value for {tname} field: a number beyond a double's range") from None
                raise DataError(f"Invalid value for {tname} field: {_node_type(v)}")

            return dec_int
        if t is Type.FLOAT32 or t is Type.FLOAT64:

            def dec_float(v: Any) -> float:
                c = v.__class__
                if c is float:
                    return v + 0.0  # Kafka reads -0.0 as 0.0 (BigDecimal has no negative zero)
                if c is int or c is decimal.Decimal:
                    return float(v) + 0.0
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
                elif fs.type in INT_TYPES:
                    check = f"v{i}.__class__ is not int"
                elif fs.type is Type.BOOLEAN:
                    check = f"v{i}.__class__ is not bool"
                elif fs.type in (Type.FLOAT32, Type.FLOAT64):  # -0.0 + 0.0 is 0.0, as Kafka reads it
                    lines.append(f"    v{i} = v{i} + 0.0 if v{i}.__class__ is float else d{i}(v{i})")
                    continue
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
