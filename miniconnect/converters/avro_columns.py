"""AvroConverter records of one schema id -> Arrow columns in one read, for sinks that write columns instead of a
Struct per record: the datums (the 5-byte header stripped) are wrapped into an in-memory Avro object container file
(the writer schema in its header, one uncompressed block) that polars' Avro reader (Rust) decodes at once.

Only flat records are read this way (or a primitive schema, as the one column "k"): fields of type int, long, float,
double, boolean, string or bytes, each optionally in a union with null, with Connect's Date, Time, Timestamp and
Decimal (on bytes) read as compile_decoder reads them. The reader is handed the same binary layout without logical
types or names; the columns are then made what to_connect_data gives (see ColumnBatch): integers int64, floats
float64, Date date32, Time time32[ms], Timestamp timestamp[ms, UTC], Decimal decimal128/256, strings, binary.

polars does not check that each datum ends where the next begins, so every row's encoded size is computed back from
its decoded values and compared with its datum's length, and it reads any union branch but null's as the value, so
each optional field's branch byte is checked too: a datum with trailing bytes, a truncated one, a varint written
longer than needed or a union branch out of range refuses the batch, as does whatever the reader rejects (invalid
UTF-8). The caller then converts it record by record, which raises the record's own error. (Not caught: an "int"
varint beyond 32 bits, which no Avro writer writes and which the record path reads as the larger number.) polars, pyarrow and
numpy are imported on first use.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..data.columns import ColumnsRefused, decimal_column, temporal_column
from ..data.schema import DATE, DECIMAL, TIME, TIMESTAMP, DataError, Schema, Type, decimal_from_bytes, decimal_scale
from .avro_codec import HEADER_SIZE, write_long
from .avro_data import avro_type, resolve

_PLAIN = {"int", "long", "float", "double", "boolean", "string", "bytes"}
_FIXED_SIZE = {"float": 4, "double": 8, "boolean": 1}
_VARINT_LIMITS = [1 << (7 * k) for k in range(1, 10)]  # a varint of 7k+1 bits or more takes k+1 bytes
_SYNC = b"miniconnect-avro"  # the container's 16-byte sync marker: any bytes do, the block is ours


class _Column:
    """One field: its Avro type, whether it is a union with null (and null's branch), and the Connect value kind."""

    __slots__ = ("avro", "kind", "null_branch", "scale")

    def __init__(self, avro: str, null_branch: int | None, kind: str, scale: int):
        self.avro, self.null_branch, self.kind, self.scale = avro, null_branch, kind, scale

    def reader_type(self) -> Any:
        if self.null_branch is None:
            return self.avro
        return ["null", self.avro] if self.null_branch == 0 else [self.avro, "null"]


def _column(avro: Any, named: Mapping[str, Any], connect: Schema) -> _Column:
    """The field's column form (as compile_decoder's _read decodes it), else ColumnsRefused."""
    avro = resolve(avro, named)
    null_branch = None
    if avro_type(avro) == "union":
        members = avro if isinstance(avro, list) else avro["type"]
        if len(members) != 2 or "null" not in members:
            raise ColumnsRefused("a union other than [null, T]")
        null_branch = members.index("null")
        avro = resolve(members[1 - null_branch], named)
    t = avro_type(avro)
    if t not in _PLAIN:
        raise ColumnsRefused(f"Avro {t} field")
    name, kind, scale = connect.name, t, 0
    if t == "int" and name == DATE:
        kind = "date"
    elif t == "int" and name == TIME:
        kind = "time"
    elif t == "long" and name == TIMESTAMP:
        kind = "timestamp"
    elif t == "bytes" and name == DECIMAL:
        kind, scale = "decimal", decimal_scale(connect)
    return _Column(t, null_branch, kind, scale)


class AvroColumns:
    """Reads the records of one schema id (`header`: magic byte + id) into an Arrow table, one column per field of
    `schema`. Holds no state that changes: safe to use from a worker thread."""

    def __init__(self, header: bytes, avro: Any, named: Mapping[str, Any], schema: Schema):
        self.header, self.schema = header, schema
        record = resolve(avro, named)
        if avro_type(record) == "record" and schema.type is Type.STRUCT:
            pairs = list(zip(record["fields"], schema.fields, strict=True))
            self.columns = [_column(af["type"], named, cf.schema) for af, cf in pairs]
            self.names = [cf.name for cf in schema.fields]
        else:  # a primitive schema (a record key, say): the one column "k"
            self.columns = [_column(avro, named, schema)]
            self.names = ["k"]
        if not self.columns:
            raise ColumnsRefused("a record without fields")
        reader = {
            "type": "record",
            "name": "r",
            "fields": [{"name": f"c{i}", "type": c.reader_type()} for i, c in enumerate(self.columns)],
        }
        meta = {"avro.schema": json.dumps(reader).encode(), "avro.codec": b"null"}
        self.file_header = b"".join(
            [b"Obj\x01", write_long(len(meta))]
            + [write_long(len(k)) + k.encode() + write_long(len(v)) + v for k, v in meta.items()]
            + [b"\x00", _SYNC]
        )

    def read(self, datas: Sequence[Any]) -> Any:
        """A pyarrow Table of the values of `datas`, in order; raises ColumnsRefused."""
        import numpy as np
        import polars as pl
        import pyarrow as pa

        header = self.header
        try:
            if not all(d[:HEADER_SIZE] == header for d in datas) or not all(d.__class__ is bytes for d in datas):
                raise ColumnsRefused("not all records of this schema id")
        except TypeError:
            raise ColumnsRefused("a null record") from None
        body = b"".join([d[HEADER_SIZE:] for d in datas])
        block = b"".join((self.file_header, write_long(len(datas)), write_long(len(body)), body, _SYNC))
        try:
            table = pl.read_avro(io.BytesIO(block)).to_arrow(compat_level=pl.CompatLevel.newest())
        except (Exception, pl.exceptions.PanicException) as e:  # a panic: polars read past a datum's end
            raise ColumnsRefused(f"not read: {e}") from None
        if table.num_rows != len(datas) or table.num_columns != len(self.columns):
            raise ColumnsRefused("row count")
        lengths = np.fromiter(map(len, datas), np.int64, len(datas)) - HEADER_SIZE
        at = np.zeros(len(datas), np.int64)  # each row's next field, as an offset into body
        np.cumsum(lengths[:-1], out=at[1:])
        raw = np.frombuffer(body, np.uint8)
        if not len(raw):
            raise ColumnsRefused("empty datums")
        out = []
        for c, col in zip(self.columns, table.columns, strict=True):
            col = col.combine_chunks()
            if c.avro in ("string", "bytes"):  # views (what polars holds, handed over without a copy) -> offsets
                col = col.cast(pa.string() if c.avro == "string" else pa.binary())
            nulls = None
            if c.null_branch is not None:  # polars takes any branch but null's for the value: only 0 and 1 are
                nulls = col.is_null().to_numpy(zero_copy_only=False)
                branch = np.where(nulls, c.null_branch, 1 - c.null_branch) * 2  # as one zigzag byte
                if not np.array_equal(raw[np.minimum(at, len(raw) - 1)], branch):
                    raise ColumnsRefused("a union branch other than the value's")
            at += _encoded_sizes(c, col, nulls)
            out.append(_connect_column(c, col))
        if not np.array_equal(at, np.cumsum(lengths)):
            raise ColumnsRefused("a datum is not the size of its values")
        return pa.Table.from_arrays(out, names=self.names)


def _varint_sizes(z: Any) -> Any:
    """Bytes of the varint of each unsigned 64-bit value: 1 + how many of 2^7, 2^14, ... it reaches."""
    import numpy as np

    return np.searchsorted(np.array(_VARINT_LIMITS, np.uint64), z, side="right") + 1  # uint64 both: exact


def _encoded_sizes(c: _Column, col: Any, nulls: Any) -> Any:
    """The Avro binary size of each value of the column as written canonically (`nulls`: the union's null rows, or
    None when the field is not a union; its branch byte is counted)."""
    import numpy as np

    n = len(col)
    if c.avro in _FIXED_SIZE:
        sizes = np.full(n, _FIXED_SIZE[c.avro], np.int64)
    elif c.avro in ("int", "long"):
        v = (col.fill_null(0) if col.null_count else col).to_numpy(zero_copy_only=False).astype(np.int64)
        sizes = _varint_sizes(((v << 1) ^ (v >> 63)).view(np.uint64))
    else:  # string, bytes (offsets of 32 bits): the length's varint, then the bytes
        offsets = np.frombuffer(col.buffers()[1], np.int32, n + 1, col.offset * 4)
        lengths = np.diff(offsets).astype(np.int64)
        sizes = _varint_sizes((lengths << 1).view(np.uint64)) + lengths
    if nulls is None:
        return sizes
    return np.where(nulls, 0, sizes) + 1  # branch indexes 0 and 1 are one byte each


def _connect_column(c: _Column, col: Any) -> Any:
    """The column as the Connect values to_connect_data gives (see ColumnBatch)."""
    import pyarrow as pa

    kind = c.kind
    if kind in ("int", "long"):
        return col.cast(pa.int64())
    if kind == "float":
        return col.cast(pa.float64())  # exact: the record path widens the float too
    if kind in ("double", "boolean"):
        return col
    if kind == "string":
        return col.cast(pa.string())
    if kind == "bytes":
        return col.cast(pa.binary())
    if kind in ("date", "time", "timestamp"):
        return temporal_column(kind, col)
    scale = c.scale  # decimal: the unscaled value's two's complement bytes
    try:
        values = [None if v is None else decimal_from_bytes(v, scale) for v in col.to_pylist()]
    except (ValueError, ArithmeticError) as e:
        raise ColumnsRefused(f"decimal: {e}") from None
    return decimal_column(values, scale)


def avro_columns(header: bytes, avro: Any, named: Mapping[str, Any], schema: Schema) -> AvroColumns | None:
    """The column reader of a schema id whose fields all have a column form, else None."""
    try:
        return AvroColumns(header, avro, named, schema)
    except (ColumnsRefused, DataError, KeyError, TypeError):
        return None
