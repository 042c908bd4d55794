"""AvroConverter records of one schema id -> Arrow columns in one read, for sinks that write columns instead of a
Struct per record, and (fields of plain types only) the record path's values of a large batch, made from those
columns: the records, headers and all, are wrapped into an in-memory Avro object container file (one uncompressed
block) that polars' Avro reader (Rust) decodes at once; its writer schema reads each record's 5-byte header (magic
byte and schema id) as a fixed field before the record's own fields.

Only flat records are read this way (or a primitive schema, as the one column "k"): fields of type int, long, float,
double, boolean, string or bytes, each optionally in a union with null, with Connect's Date, Time, Timestamp and
Decimal (on bytes) read as compile_decoder reads them. The reader is handed the same binary layout without logical
types or names; the columns are then made what to_connect_data gives (see ColumnBatch): integers int64, floats
float64, Date date32, Time time32[ms], Timestamp timestamp[ms, UTC], Decimal decimal128/256, strings, binary.

polars does not check that each datum ends where the next begins, so every row's encoded size is computed back from
its decoded values (for all fields at once, as one numpy matrix) and compared with its record's length, and it reads
any union branch but null's as the value, so each optional field's branch byte is checked too: a datum with trailing
bytes, a truncated one, a varint written longer than needed or a union branch out of range refuses the batch, as
does a header of another schema id or whatever the reader rejects (invalid UTF-8). The caller then converts it
record by record, which raises the record's own error. An int's or a long's varint with bits past its 32 or 64 (Java's
decoder and the record path drop them) refuses the batch too.
polars, pyarrow and numpy are imported on first use.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any

from ..data.columns import ColumnsRefused, decimal_column, temporal_column
from ..data.schema import (
    DATE,
    DECIMAL,
    TIME,
    TIMESTAMP,
    DataError,
    Schema,
    Struct,
    Type,
    decimal_from_bytes,
    decimal_scale,
)
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
    `schema`. Holds no state that changes after the first read: safe to use from a worker thread."""

    def __init__(self, header: bytes, avro: Any, named: Mapping[str, Any], schema: Schema):
        self.header, self.schema = header, schema
        record = resolve(avro, named)
        self.struct = avro_type(record) == "record" and schema.type is Type.STRUCT
        if self.struct:
            pairs = list(zip(record["fields"], schema.fields, strict=True))
            self.columns = [_column(af["type"], named, cf.schema) for af, cf in pairs]
            self.names = [cf.name for cf in schema.fields]
        else:  # a primitive schema (a record key, say): the one column "k"
            self.columns = [_column(avro, named, schema)]
            self.names = ["k"]
        if not self.columns:
            raise ColumnsRefused("a record without fields")
        # polars' values are the record path's as they are (a float32 widened alike) for these kinds
        self.plain = all(c.kind == c.avro for c in self.columns)
        fields = [{"name": "h", "type": {"type": "fixed", "name": "h", "size": HEADER_SIZE}}]
        fields += [{"name": f"c{i}", "type": c.reader_type()} for i, c in enumerate(self.columns)]
        meta = {"avro.schema": json.dumps({"type": "record", "name": "r", "fields": fields}).encode()}
        meta["avro.codec"] = b"null"
        self.file_header = b"".join(
            [b"Obj\x01", write_long(len(meta))]
            + [write_long(len(k)) + k.encode() + write_long(len(v)) + v for k, v in meta.items()]
            + [b"\x00", _SYNC]
        )
        self._shape: _Shape | None = None  # numpy's constants, made on the first read (in the reading thread)

    def records(self, datas: Sequence[Any]) -> list[tuple[Schema, Any]]:
        """to_connect_batch's answer for `datas`: (schema, value) of each record, the values taken from polars'
        columns (for fields of plain types only: the logical ones are refused); raises ColumnsRefused."""
        if not self.plain:
            raise ColumnsRefused("a field of a logical type")
        series, _ = self._checked(datas)
        columns = [s.to_list() for s in series]
        schema = self.schema
        values = Struct.many(schema, zip(*columns)) if self.struct else columns[0]
        return list(zip(repeat(schema), values))

    def read(self, datas: Sequence[Any]) -> Any:
        """A pyarrow Table of the values of `datas`, in order; raises ColumnsRefused."""
        import pyarrow as pa

        _, arrays = self._checked(datas)
        return pa.Table.from_arrays([_connect_column(c, a) for c, a in zip(self.columns, arrays)], names=self.names)

    def _checked(self, datas: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        """polars' value columns of `datas` (the headers' column left out), as Series and as Arrow arrays, every
        record checked to start with this reader's header and to be exactly its values as Avro writes them; raises
        ColumnsRefused. Fields are rows of the check's matrices: numpy works along the records."""
        import numpy as np
        import polars as pl

        n = len(datas)
        try:
            lengths = np.fromiter(map(len, datas), np.int64, n)
            head = self.file_header + write_long(n) + write_long(int(lengths.sum()))
            block = b"".join([head, *datas, _SYNC])
        except TypeError:  # a tombstone (None) or something else than bytes
            raise ColumnsRefused("a null record") from None
        ends = np.cumsum(lengths)
        total = int(ends[-1]) if n else 0
        if not n or len(block) != len(head) + total + len(_SYNC) or lengths.min() <= HEADER_SIZE:
            raise ColumnsRefused("not records of bytes")
        shape = self._shape or self._make_shape()
        try:
            frame = pl.read_avro(io.BytesIO(block))
        except (Exception, pl.exceptions.PanicException) as e:  # a panic: polars read past a datum's end
            raise ColumnsRefused(f"not read: {e}") from None
        series = frame.get_columns()
        if frame.height != n or len(series) != len(self.columns) + 1:
            raise ColumnsRefused("row count")
        newest = shape.compat_level
        headers = series[0].to_arrow(compat_level=newest)  # views of 16 bytes: the length 5, then the bytes inline
        if headers.type != shape.header_type:
            raise ColumnsRefused(f"polars gave {headers.type} for the header")
        # a view as two little-endian uint64: the length and 4 bytes, then the last byte (and zeros or not)
        views = np.frombuffer(headers.buffers()[1], "<u8", 2 * n, 16 * headers.offset)
        if (
            headers.null_count
            or not (views[::2] == shape.header_words[0]).all()
            or not ((views[1::2] & np.uint64(0xFF)) == shape.header_words[1]).all()
        ):
            raise ColumnsRefused("not all records of this schema id")
        arrays = [s.to_arrow(compat_level=newest) for s in series[1:]]
        m = len(arrays)
        varint = np.zeros((m, n), np.int64)  # the number whose zigzag varint each field writes (a string's length)
        extra = np.zeros((m, n), np.int64)  # the bytes after that varint (a string's)
        nulls = np.zeros((m, n), np.bool_) if shape.unions.size else None
        any_null = False
        for i, (c, a) in enumerate(zip(self.columns, arrays)):
            if a.type != shape.arrow_types[i]:
                raise ColumnsRefused(f"polars gave {a.type} for Avro {c.avro}")
            buffers = a.buffers()
            if c.avro in ("int", "long"):
                dtype = shape.int_types[i]
                varint[i] = np.frombuffer(buffers[1], dtype, n, a.offset * dtype.itemsize)
            elif c.avro in ("string", "bytes"):  # views of 16 bytes: the length, then the bytes or where they are
                varint[i] = extra[i] = np.frombuffer(buffers[1], np.int32, 4 * n, a.offset * 16)[::4]
            if nulls is not None and c.null_branch is not None and a.null_count:
                valid = np.unpackbits(np.frombuffer(buffers[0], np.uint8), count=a.offset + n, bitorder="little")
                nulls[i] = valid[a.offset :] == 0
                any_null = True
        # a field's bytes: its union branch (indexes 0 and 1 take one byte), varint, and what follows the varint
        varint_sizes = _varint_sizes(((varint << 1) ^ (varint >> 63)).view(np.uint64))
        sizes = varint_sizes + extra + shape.fixed_extra
        if any_null:
            sizes[nulls] = 1  # a null: its branch index only
        starts = np.empty((m, n), np.int64)  # where each field starts in the block's records (a row at a time:
        end = ends - lengths + HEADER_SIZE  # numpy's cumsum along 6 rows is slower)
        for i in range(m):
            starts[i] = end
            end = end + sizes[i]
        if not (end == ends).all():
            raise ColumnsRefused("a datum is not the size of its values")
        # now each field starts inside its record
        raw = np.frombuffer(block, np.uint8, total, len(head))  # the records, one after the other
        # an int's 5-byte varint or a long's 10-byte one may carry bits past the 32nd or 64th, which Java's decoder
        # (and the record path) drop, and polars may not: its last byte must hold none
        widest = varint_sizes == shape.widest  # (an int or long field's only: others' widest is 0)
        if widest.any():
            last = (starts + shape.branch + varint_sizes - 1)[widest]
            if (raw[last] > np.broadcast_to(shape.widest_top, widest.shape)[widest]).any():
                raise ColumnsRefused("a varint with bits past its type's")
        # polars reads any branch but null's as the value: check them
        if nulls is not None:
            u = shape.unions
            expected = np.where(nulls[u], shape.null_byte, shape.value_byte) if any_null else shape.value_byte
            if not (raw[starts[u]] == expected).all():
                raise ColumnsRefused("a union branch other than the value's")
        return series[1:], arrays

    def _make_shape(self) -> _Shape:
        self._shape = _Shape(self.header, self.columns)
        return self._shape


class _Shape:
    """The numpy and Arrow constants of a reader's checks."""

    def __init__(self, header: bytes, columns: list[_Column]):
        import numpy as np
        import polars as pl
        import pyarrow as pa

        start = HEADER_SIZE.to_bytes(4, "little") + header  # a view's first 9 bytes
        self.header_words = np.frombuffer(start[:8], "<u8")[0], np.uint64(start[8])
        self.header_type = pa.binary_view()
        self.arrow_types = [_ARROW_TYPES[c.avro](pa) for c in columns]
        self.int_types = [np.dtype(np.int32 if c.avro == "int" else np.int64) for c in columns]
        branch = np.array([[c.null_branch is not None] for c in columns], np.int64)
        self.branch = branch
        self.fixed_extra = np.array([[_FIXED_SIZE.get(c.avro, 1) - 1] for c in columns], np.int64) + branch
        # an int's varint at 5 bytes, a long's at 10: their last byte holds bits 28-31 (so up to 0x0F), bit 63 (0x01)
        self.widest = np.array([[{"int": 5, "long": 10}.get(c.avro, 0)] for c in columns], np.int64)
        self.widest_top = np.array([[0x0F if c.avro == "int" else 0x01] for c in columns], np.uint8)
        self.unions = np.array([i for i, c in enumerate(columns) if c.null_branch is not None], np.intp)
        branches = [columns[i].null_branch for i in self.unions]
        self.null_byte = np.array([[2 * b] for b in branches], np.uint8)  # as one zigzag byte
        self.value_byte = np.array([[2 * (1 - b)] for b in branches], np.uint8)
        self.compat_level = pl.CompatLevel.newest()  # string and binary views: no copy out of polars


_ARROW_TYPES: dict[str, Any] = {  # what polars' reader gives for each Avro type
    "int": lambda pa: pa.int32(),
    "long": lambda pa: pa.int64(),
    "float": lambda pa: pa.float32(),
    "double": lambda pa: pa.float64(),
    "boolean": lambda pa: pa.bool_(),
    "string": lambda pa: pa.string_view(),
    "bytes": lambda pa: pa.binary_view(),
}


def _varint_sizes(z: Any) -> Any:
    """Bytes of the varint of each unsigned 64-bit value: 1 + how many of 2^7, 2^14, ... it reaches (only the
    limits below the largest value are compared: most values take a byte or two)."""
    import numpy as np

    sizes = np.ones(z.shape, np.int64)
    top = int(z.max()) if z.size else 0
    for limit in _VARINT_LIMITS:
        if limit > top:
            break
        sizes += z >= np.uint64(limit)  # uint64 both: exact
    return sizes


def _connect_column(c: _Column, col: Any) -> Any:
    """The column as the Connect values to_connect_data gives (see ColumnBatch)."""
    import pyarrow as pa

    kind = c.kind
    if kind == "int":
        return col.cast(pa.int64())
    if kind == "float":
        return col.cast(pa.float64())  # exact: the record path widens the float too
    if kind in ("long", "double", "boolean"):
        return col
    if kind == "string":
        return col.cast(pa.string())
    if kind == "bytes":
        return col.cast(pa.binary())
    if kind in ("date", "time", "timestamp"):
        return temporal_column(kind, col)
    small = _small_decimals(col, c.scale)
    if small is not None:
        return small
    scale = c.scale  # decimal: the unscaled value's two's complement bytes
    try:
        values = [None if v is None else decimal_from_bytes(v, scale) for v in col.to_pylist()]
    except (ValueError, ArithmeticError) as e:
        raise ColumnsRefused(f"decimal: {e}") from None
    return decimal_column(values, scale)


def _small_decimals(col: Any, scale: int) -> Any:
    """Decimals of up to 8 bytes each (unscaled values within int64: most) as decimal_column makes them, with numpy
    instead of a Decimal per value; None for others. `col`: binary views, which hold up to 12 bytes inline."""
    import numpy as np
    import pyarrow as pa

    n = len(col)
    if col.offset or not 0 <= scale <= 38 or n == 0:
        return None
    views = np.frombuffer(col.buffers()[1], np.uint8, 16 * n).reshape(n, 16)
    lengths = views[:, :4].copy().view(np.int32).ravel()
    valid = col.is_valid().to_numpy(zero_copy_only=False) if col.null_count else np.ones(n, np.bool_)
    lengths = np.where(valid, lengths, 1)
    if lengths.max() > 8 or lengths.min() == 0:  # none: refused on the other path, as the record path refuses it
        return None
    # the bytes read as a big-endian int64 from the left, then shifted right (keeping the sign) by the bytes missing
    left = views[:, 4:12].copy().view(">i8").ravel().astype(np.int64)
    unscaled = left >> (64 - 8 * lengths)
    unscaled = np.where(valid, unscaled, 0)
    biggest = max(int(unscaled.max()), -int(unscaled.min()))
    precision = max(len(str(biggest)), scale, 1)
    data = np.empty((n, 2), np.int64)  # decimal128: 16 bytes little-endian, the high half the sign
    data[:, 0] = unscaled
    data[:, 1] = unscaled >> 63
    validity = col.buffers()[0] if col.null_count else None
    return pa.Array.from_buffers(pa.decimal128(precision, scale), n, [validity, pa.py_buffer(data)], col.null_count)


def avro_columns(header: bytes, avro: Any, named: Mapping[str, Any], schema: Schema) -> AvroColumns | None:
    """The column reader of a schema id whose fields all have a column form, else None."""
    try:
        return AvroColumns(header, avro, named, schema)
    except (ColumnsRefused, DataError, KeyError, TypeError):
        return None
