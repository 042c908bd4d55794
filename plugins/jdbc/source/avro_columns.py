"""Columnar JDBC source encoding for AvroConverter: an Arrow record batch becomes each row's Confluent-framed Avro
record (magic byte, schema id, datum) with no Python object per value: every column is encoded for all rows at once
(varints with numpy, strings and bytes as length + bytes, an optional field's union branch byte in front), and the
columns are joined per row in C++ (pyarrow.compute.binary_join_element_wise).

The datum is the one AvroConverter writes for a Struct of the schema when its Avro schema is the one AvroData makes
of it (AvroConverter.avro_struct_header says when): the fields in order, an optional field as the union
["null", T] (branch 0 for null, 1 for a value), int8/16/32 and Date as int, int64 and Timestamp as long, double,
boolean, string, and Decimal as bytes. The column types covered are those of the JSON plan (columns.column_kind);
a querier with any other column stays on the row path, which writes the same bytes (tests compare both).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from miniconnect.data.schema import DataError, Schema
from miniconnect.data.value_column import ValueColumn

from .columns import _series, column_builders, decimal_bytes, decimal_bytes_slow

Encoder = Callable[[pa.Array], pa.Array]  # a column -> the Avro binary of each non-null value (binary, no nulls)

_GROUPS = np.arange(10)
_SHIFTS = (_GROUPS * 7).astype(np.uint64)
_LIMITS = np.array([1 << (7 * k) for k in range(1, 10)], dtype=np.uint64)
_NULL_BRANCH = pa.scalar(b"\x00", pa.binary())
_VALUE_BRANCH = pa.scalar(b"\x02", pa.binary())
_EMPTY = pa.scalar(b"", pa.binary())


def _binary(data: np.ndarray, lengths: np.ndarray) -> pa.Array:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.binary(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def varints(values: np.ndarray) -> pa.Array:
    """Avro's zigzag varint of each int64, as a binary array."""
    z = ((values << 1) ^ (values >> 63)).view(np.uint64)
    sizes = 1 + (z[:, None] >= _LIMITS[None, :]).sum(axis=1)
    groups = ((z[:, None] >> _SHIFTS[None, :]) & np.uint64(0x7F)).astype(np.uint8)
    groups |= np.where(_GROUPS[None, :] < (sizes - 1)[:, None], np.uint8(0x80), np.uint8(0))
    return _binary(groups[_GROUPS[None, :] < sizes[:, None]], sizes)


def _int64s(col: pa.Array) -> Any:
    return col.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)


def _ints(col: pa.Array) -> pa.Array:
    return varints(_int64s(col))


def _dates(col: pa.Array) -> pa.Array:
    return varints(_int64s(col.cast(pa.int32())))


def _timestamps(col: pa.Array) -> pa.Array:
    millis = _series(col).dt.epoch("ms").fill_null(0).to_numpy()  # epoch("ms") floors, like Connect
    return varints(millis.astype(np.int64))


def _doubles(col: pa.Array) -> pa.Array:
    values = col.fill_null(0.0).to_numpy(zero_copy_only=False).astype("<f8")
    return _binary(values.view(np.uint8), np.full(len(values), 8, np.int64))


def _bools(col: pa.Array) -> pa.Array:
    return pc.if_else(col.fill_null(False), pa.scalar(b"\x01", pa.binary()), pa.scalar(b"\x00", pa.binary()))


def _length_prefixed(data: pa.Array) -> pa.Array:
    lengths = pc.binary_length(data).cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    return pc.binary_join_element_wise(varints(lengths), data.fill_null(b""), _EMPTY)


def _strings(col: pa.Array) -> pa.Array:
    return _length_prefixed(col.cast(pa.binary()))


def _decimals(scale: int, precision: int) -> Encoder:
    def encode(col: pa.Array) -> pa.Array:
        s = _series(col)
        raw = decimal_bytes(s, scale, precision)
        if raw is None:
            raw = pa.array(decimal_bytes_slow(s.to_list(), scale), pa.binary())
        return _length_prefixed(raw)

    return encode


_ENCODERS: dict[str, Encoder] = {
    "date": _dates,
    "timestamp": _timestamps,
    "int": _ints,
    "string": _strings,
    "bool": _bools,
    "double": _doubles,
}


class AvroColumnPlan:
    """One result shape: which batch columns make the datum, and how each is encoded."""

    def __init__(self, keep: list[int], encoders: list[Encoder], schema: Schema, header: bytes):
        self.keep, self.encoders, self.schema = keep, encoders, schema
        self.header = pa.scalar(header, pa.binary())

    @classmethod
    def build(
        cls, schema: Schema, keep: list[int], convs: list[Any], arrow: pa.Schema, header: bytes
    ) -> AvroColumnPlan | None:
        """None when a field has no columnar form (the querier then reads rows)."""
        encoders = column_builders(schema, keep, convs, arrow, _ENCODERS, _decimals)
        if encoders is None:
            return None
        return cls(keep, encoders, schema, header)

    def encode(self, batch: pa.RecordBatch, as_column: bool = False) -> list[bytes] | ValueColumn:
        """The record bytes of every row of the batch, in order: a list, or a ValueColumn if `as_column`."""
        parts = [self.header]
        for f, i, enc in zip(self.schema.fields, self.keep, self.encoders, strict=True):
            col = batch.column(i)
            if isinstance(col.type, pa.BaseExtensionType):
                col = col.storage
            values = enc(col)
            if f.schema.optional:
                values = pc.if_else(
                    col.is_null(), _NULL_BRANCH, pc.binary_join_element_wise(_VALUE_BRANCH, values, _EMPTY)
                )
            elif col.null_count:
                raise DataError(f'Invalid value: null used for required field: "{f.name}"')
            parts.append(values)
        joined = pc.binary_join_element_wise(*parts, _EMPTY)
        if as_column:
            return ValueColumn(joined.cast(pa.large_binary()))
        return joined.to_pylist()  # type: ignore[no-any-return]
