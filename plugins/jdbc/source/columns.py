"""Columnar JDBC source encoding: an Arrow record batch becomes the value converter's bytes per row, built by polars
from per-column JSON templates around the envelope (serialized once per schema), with no Python object per row.

A plan covers the common column types (integers, text, boolean, double, numeric up to 18 digits, date, timestamp);
a querier with any other column stays on the row path, which writes the same bytes (tests compare both).
"""

from __future__ import annotations

import base64
import decimal
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from miniconnect.converters.javatext import java_json_double
from miniconnect.converters.json.encoders import jackson_escapes
from miniconnect.data.schema import DATE, DECIMAL, TIMESTAMP, Schema, Type, decimal_scale, decimal_to_bytes
from miniconnect.data.value_column import ValueColumn

log = logging.getLogger(__name__)

_INT_TYPES = {Type.INT8, Type.INT16, Type.INT32, Type.INT64}
_THRESHOLDS = np.array([1 << (8 * k - 1) for k in range(1, 8)], dtype=np.int64)
_BYTE_POS = np.arange(8)

Fragment = Callable[[pa.Array], pl.Series]  # one column of a batch -> the JSON text of each value ("null" for null)


def _series(col: pa.Array) -> pl.Series:
    if isinstance(col.type, pa.BaseExtensionType):  # ADBC's opaque numeric: text in a string storage
        col = col.storage
    return pl.Series(values=col)


def _ints(col: pa.Array) -> pl.Series:
    return _series(col).cast(pl.String).fill_null("null")


def _bools(col: pa.Array) -> pl.Series:
    s = _series(col)
    return pl.select(pl.when(s).then(pl.lit("true")).when(s.not_()).then(pl.lit("false")).otherwise(pl.lit("null")))[
        :, 0
    ]


def _strings(col: pa.Array) -> pl.Series:
    # polars' JSON writer escapes like orjson; a one-field struct is the way to reach it for a column
    s = _series(col)
    return s.to_frame("v").select(
        pl.struct("v").struct.json_encode().str.strip_prefix('{"v":').str.strip_suffix("}").fill_null("null")
    )[:, 0]


def _double_text(v: float | None) -> str:
    if v is None:
        return "null"
    if 1e-3 <= v < 1e7 or -1e7 < v <= -1e-3 or v == 0.0:
        return float.__repr__(v)  # shortest digits, plain notation: what orjson writes too
    return java_json_double(v).decode()


def _doubles(col: pa.Array) -> pl.Series:
    s = _series(col)
    a = s.abs()
    if bool((((a >= 1e-3) & (a < 1e7)) | (s == 0.0)).fill_null(True).all()):
        return s.cast(pl.String).fill_null("null")
    return pl.Series(values=[_double_text(v) for v in s.to_list()], dtype=pl.String)  # 1.0E7, NaN: Java's text


def _timestamps(col: pa.Array) -> pl.Series:
    return _series(col).dt.epoch("ms").cast(pl.String).fill_null("null")  # epoch("ms") floors, like Connect


def _dates(col: pa.Array) -> pl.Series:
    return _series(col).cast(pl.Int32).cast(pl.String).fill_null("null")


def _decimal_shape(scale: int) -> re.Pattern[str]:
    """The text of a numeric of this scale that decimal_bytes reads."""
    return re.compile(rf"^-?[0-9]+\.[0-9]{{{scale}}}$" if scale else r"^-?[0-9]+$")


def decimal_bytes(s: pl.Series, scale: int, precision: int) -> pa.Array | None:
    """Connect's Decimal of numeric text (ADBC's) as the unscaled value's minimal two's-complement bytes, as
    decimal_to_bytes gives them (nulls as empty bytes); None when a value needs the slow path (more than 18 digits,
    or text of another scale)."""
    if precision > 18 or not bool(s.str.contains(_decimal_shape(scale).pattern).fill_null(True).all()):
        return None
    n = s.str.replace(".", "", literal=True).cast(pl.Int64).fill_null(0).to_numpy()
    m = n ^ (n >> 63)  # |n + 1| for negatives: what bit_length() sees for two's complement
    length = 1 + (m[:, None] >= _THRESHOLDS[None, :]).sum(axis=1)
    big = n.astype(">i8").view(np.uint8).reshape(-1, 8)
    data = big[_BYTE_POS[None, :] >= (8 - length)[:, None]]
    offsets = np.zeros(len(n) + 1, dtype=np.int32)
    np.cumsum(length, out=offsets[1:])
    return pa.Array.from_buffers(pa.binary(), len(n), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def decimal_bytes_slow(texts: list[str | None], scale: int) -> list[bytes | None]:
    return [None if t is None else decimal_to_bytes(decimal.Decimal(t), scale) for t in texts]


def _decimals(scale: int, precision: int) -> Fragment:
    """Connect's Decimal as JsonConverter's BASE64: the unscaled value's minimal two's-complement bytes."""

    def fragment(col: pa.Array) -> pl.Series:
        s = _series(col)
        raw = decimal_bytes(s, scale, precision)
        if raw is None:
            return pl.Series(
                values=[
                    "null" if b is None else f'"{base64.b64encode(b).decode()}"'
                    for b in decimal_bytes_slow(s.to_list(), scale)
                ],
                dtype=pl.String,
            )
        b64 = pl.Series(values=raw).bin.encode("base64")
        return pl.select(pl.when(s.is_null()).then(pl.lit("null")).otherwise(pl.lit('"') + b64 + pl.lit('"')))[:, 0]

    return fragment


def column_kind(field: Schema, conv: Any, arrow: pa.DataType) -> str | None:
    """How a column of this Arrow type becomes the field's values as the row path makes them ("date", "timestamp",
    "decimal", "int", "string", "bool", "double"), or None when only the row path knows."""
    if isinstance(arrow, pa.BaseExtensionType):
        arrow = arrow.storage_type
    name, t = field.name, field.type
    if name == DATE:
        return "date" if pa.types.is_date32(arrow) else None
    if conv is not None and not (getattr(conv, "keeps_ints", False) and pa.types.is_integer(arrow)):
        return None  # a per-value conversion the row path applies: only it knows the result
    if name == TIMESTAMP:
        return "timestamp" if pa.types.is_timestamp(arrow) else None
    if name == DECIMAL:
        precision = int((field.parameters or {}).get("connect.decimal.precision", 0) or 0)
        return "decimal" if pa.types.is_string(arrow) and precision else None
    if name is not None:
        return None
    if t in _INT_TYPES and pa.types.is_integer(arrow):
        return "int"
    if t is Type.STRING and (pa.types.is_string(arrow) or pa.types.is_large_string(arrow)):
        return "string"
    if t is Type.BOOLEAN and pa.types.is_boolean(arrow):
        return "bool"
    if t is Type.FLOAT64 and pa.types.is_float64(arrow):
        return "double"
    return None


def decimal_params(field: Schema) -> tuple[int, int]:
    """(scale, precision) of a Decimal field."""
    return decimal_scale(field), int((field.parameters or {}).get("connect.decimal.precision", 0) or 0)


_JSON_FRAGMENTS: dict[str, Fragment] = {
    "date": _dates,
    "timestamp": _timestamps,
    "int": _ints,
    "string": _strings,
    "bool": _bools,
    "double": _doubles,
}


def column_builders(
    schema: Schema,
    keep: list[int],
    convs: list[Any],
    arrow: pa.Schema,
    builders: Mapping[str, Any],
    decimals: Callable[[int, int], Any],
) -> list[Any] | None:
    """Per field of the schema, what encodes its column: builders[kind], or decimals(scale, precision) for a Decimal
    (see column_kind); None when a field has no columnar form (the querier then reads rows)."""
    out = []
    for f, i, conv in zip(schema.fields, keep, convs, strict=True):
        kind = column_kind(f.schema, conv, arrow.field(i).type)
        if kind is None:
            log.info(
                "Column %s (%s) has no columnar form: %s is read row by row", f.name, arrow.field(i).type, schema.name
            )
            return None
        out.append(decimals(*decimal_params(f.schema)) if kind == "decimal" else builders[kind])
    return out or None


class ColumnPlan:
    """One result shape: which batch columns make the payload, and the JSON text between them."""

    def __init__(self, keep: list[int], fragments: list[Fragment], literals: list[str], head: bytes, tail: bytes):
        self.keep, self.fragments, self.literals = keep, fragments, literals
        self.head, self.tail = head, tail

    @classmethod
    def build(
        cls, schema: Schema, keep: list[int], convs: list[Any], arrow: pa.Schema, head: bytes, tail: bytes
    ) -> ColumnPlan | None:
        """None when a field has no columnar form (the querier then reads rows)."""
        fragments = column_builders(schema, keep, convs, arrow, _JSON_FRAGMENTS, _decimals)
        if fragments is None:
            return None
        names = [orjson.dumps(f.name).decode() for f in schema.fields]
        if not names:
            return None
        literals = ["{" + names[0] + ":"]
        literals += [f",{n}:" for n in names[1:]]
        literals.append("}")
        return cls(keep, fragments, literals, head, tail)

    def encode(self, batch: pa.RecordBatch, as_column: bool = False) -> list[bytes] | ValueColumn:
        """The value bytes of every row of the batch, in order: a list, or a ValueColumn if `as_column`."""
        parts: list[Any] = []
        for lit, i, frag in zip(self.literals, self.keep, self.fragments, strict=False):
            parts += [pl.lit(lit), frag(batch.column(i))]
        parts.append(pl.lit(self.literals[-1]))
        out = pl.select(pl.concat_str(parts))[:, 0]
        head, tail = self.head, self.tail
        if bool(out.str.contains("\\u00", literal=True).any()):
            payloads = [jackson_escapes(v) for v in out.cast(pl.Binary).to_list()]  # \u001f -> \u001F
        elif as_column:
            # the envelope joined by Arrow (C++, outside the GIL): one copy of each value into one buffer
            column = out.to_arrow().cast(pa.large_binary())
            if head or tail:
                empty = pa.scalar(b"", pa.large_binary())
                column = pc.binary_join_element_wise(
                    pa.scalar(head, pa.large_binary()), column, pa.scalar(tail, pa.large_binary()), empty
                )
            return ValueColumn(column)
        else:
            payloads = out.cast(pl.Binary).to_list()
        if head:
            # the envelope joined here, not in polars: the schema is often most of the bytes, and one copy of each
            # value costs less than two more columns of them
            join = b"".join
            payloads = [join((head, p, tail)) for p in payloads]
        return ValueColumn.from_list(payloads) if as_column else payloads


def epoch_micros(batch: pa.RecordBatch, columns: list[int]) -> pl.Series:
    """The first non-null of the timestamp columns of each row (COALESCE), as epoch microseconds."""
    return pl.select(pl.coalesce([_series(batch.column(i)).dt.epoch("us") for i in columns]))[:, 0]


def is_timestamp(arrow: pa.DataType) -> bool:
    return pa.types.is_timestamp(arrow)


def is_integer(arrow: pa.DataType) -> bool:
    return pa.types.is_integer(arrow)
