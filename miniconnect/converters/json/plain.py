"""The payload decoder of plain struct schemas: JSON bytes -> the field values, in C (msgspec).

A plain struct has only string, integer, boolean and floating-point fields, none with a logical type or a default:
the shape of most JSON envelopes written by services (the seed's orders, for one). msgspec parses the payload and
checks each field's type in one C call, about a third of the instructions of orjson's dict plus the generated
per-field checks (see JsonConverter._decoders). Anything it refuses (a null or missing required field, a float for
an integer, an integer beyond 64 bits, bad JSON or UTF-8) goes to the general decoder, which gives the result or
the error JsonConverter always gave, so the two paths cannot disagree on a value they both accept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

import msgspec

from ...data.schema import Schema, Type

# a JSON number that is a negative zero (-0, -0.0, -0e5): Jackson reads floats as BigDecimal, which has no sign for
# zero, so Kafka's JsonConverter reads them all as 0.0 (text such as "x-0," in a string matches too: harmless)
NEGATIVE_ZERO = re.compile(rb"-0(?:\.0+)?(?:[eE][-+]?[0-9]+)?(?![0-9.eE])")


def _unsigned(v: Any) -> Any:
    c = v.__class__
    if c is float:
        return v + 0.0  # -0.0 + 0.0 is 0.0
    if c is list:
        return [_unsigned(x) for x in v]
    if c is dict:
        return {k: _unsigned(x) for k, x in v.items()}
    return v


def positive_zeros(value: Any, data: bytes) -> Any:
    """A parsed schemaless value with its negative zeros made 0.0, as Kafka reads them (looked for only where the
    JSON text `data` holds one)."""
    return _unsigned(value) if NEGATIVE_ZERO.search(data) else value


def float_fields(schema: Schema | None) -> tuple[int, ...]:
    """The indexes of a struct schema's float fields, whose decoded values may be a negative zero."""
    if schema is None or schema.type is not Type.STRUCT:
        return ()
    return tuple(f.index for f in schema.fields if f.schema.type in (Type.FLOAT32, Type.FLOAT64))


def unsigned_zeros(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Field values with any -0.0 made 0.0, as Kafka reads JSON (its parser has no negative zero)."""
    return tuple(v + 0.0 if v.__class__ is float else v for v in values)


PlainDecoder = Callable[[bytes], Any]  # -> an object whose field values astuple() gives
# msgspec.DecodeError and ValidationError are ValueErrors, so is bad UTF-8; very deep nesting is a RecursionError
RefusedError = (ValueError, RecursionError)
astuple = msgspec.structs.astuple

_INT64 = Annotated[int, msgspec.Meta(ge=-(1 << 63), le=(1 << 63) - 1)]  # beyond: orjson's float, and its rules
_TYPES: dict[Type, Any] = {
    Type.STRING: str,
    Type.BOOLEAN: bool,
    Type.FLOAT32: float,
    Type.FLOAT64: float,
    Type.INT8: _INT64,
    Type.INT16: _INT64,
    Type.INT32: _INT64,
    Type.INT64: _INT64,
}


def plain_struct_decoder(schema: Schema) -> PlainDecoder | None:
    """payload bytes -> an object with the field values (astuple() gives them in field order) for a plain struct
    schema, raising RefusedError for anything the general decoder must judge; None when the schema is not plain."""
    if schema.type is not Type.STRUCT or not schema.fields:
        return None
    fields = []
    for f in schema.fields:
        fs = f.schema
        t = _TYPES.get(fs.type)
        if t is None or fs.name is not None or fs.default is not None:
            return None
        # positional attribute names, renamed to the JSON keys: any field name is a valid key
        fields.append((f"f{f.index}", t | None, None) if fs.optional else (f"f{f.index}", t))
    rename = {f"f{f.index}": f.name for f in schema.fields}
    payload_type = msgspec.defstruct("Payload", fields, rename=rename, kw_only=True)
    return msgspec.json.Decoder(payload_type).decode  # type: ignore[no-any-return]
