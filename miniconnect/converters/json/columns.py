"""JsonConverter envelopes of one schema -> Arrow columns in one C++ parse (pyarrow.json), for sinks that write
columns instead of a Struct per record.

The batch's envelopes must all start with the same known `{"schema":S,"payload":` prefix (the bytes JsonConverter
itself remembers for S); only the payloads are parsed, joined one a line, against an explicit Arrow schema made from
S. Anything this parse could read differently from JsonConverter.to_connect_data is refused (None), and the caller
converts the batch record by record as before: a payload that is not one JSON object, a value of another
JSON type than its field's (a float for an integer, a number for a string, ...), a duplicate key, a null in a
required field, invalid UTF-8, an infinite float, a NaN, a logical value out of Java's or Python's range, and
schemas with nested, array, map or defaulted fields.
The payloads are joined one a line, but the JSON reader parses its one block as a stream of objects (a line break is
whitespace to it, so a payload may span lines), and an unclosed payload would take in the next line, a payload of
two objects give two rows: each line opens with the key ROW and its line's number, and the rows must carry 0..n-1
in order, so that row i is record i's payload. What is accepted gives the values to_connect_data gives, as columns:
integers int64, floats float64, Date date32, Time time32[ms], Timestamp timestamp[ms, UTC], Decimal decimal128/256
(from the base64 two's complement bytes), bytes binary. pyarrow is imported on first use, not at start-up.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from ...data.columns import ColumnsRefused, decimal_column, temporal_column
from ...data.schema import DATE, DECIMAL, TIME, TIMESTAMP, Field, Schema, Type, decimal_from_bytes, decimal_scale

_INTEGERS = {Type.INT8, Type.INT16, Type.INT32, Type.INT64}
ROW = "#"  # the line number's key (lengthened while a field has the name)
_NEGATIVE_ZERO = 1 << 63  # -0.0's bits


def _pa() -> Any:
    import pyarrow as pa

    return pa


class PayloadColumns:
    """Reads the payloads of envelopes with one prefix into an Arrow table, one column per schema field. Holds no
    state that changes: safe to use from a worker thread."""

    def __init__(self, prefix: bytes, schema: Schema):
        self.prefix, self.schema = prefix, schema
        # a primitive schema (a record key, say) is read as the one field of {"k": payload}
        self.wrap = schema.type is not Type.STRUCT
        self.fields = [Field("k", 0, schema)] if self.wrap else schema.fields
        # per field: how its parsed column becomes the Connect value column
        self.kinds: list[str] = [_field_kind(f.schema) for f in self.fields]
        self._parsed_schema: Any = None  # made on the first read, in the thread that parses (pyarrow's import too)
        self.required = [not f.schema.optional for f in self.fields]
        self.scales = [decimal_scale(f.schema) if k == "decimal" else 0 for f, k in zip(self.fields, self.kinds)]
        names = {f.name for f in self.fields}
        self.row = next(ROW * k for k in range(1, len(names) + 2) if ROW * k not in names)
        # what opens line i (the payload's own "{" is cut off with the prefix), made as far as a batch has needed
        self._open = b'{"%s":%%d,' % self.row.encode() + (b'"k":' if self.wrap else b"")
        self._lines: list[bytes] = []

    def read(self, datas: Sequence[Any]) -> Any:
        """A pyarrow Table of the payloads of `datas`, in order; raises ColumnsRefused."""
        import numpy as np
        import pyarrow.json as pj

        # a struct's payload must open an object (a bare `null` line would crash the reader): part of the prefix
        prefix = self.prefix if self.wrap else self.prefix + b"{"
        n = len(prefix)
        end = None if self.wrap else -1  # a primitive's line is closed by the envelope's brace, a struct's by its own
        try:
            payloads = [d[n:end] for d in datas if d.__class__ is bytes and d.startswith(prefix) and d[-1:] == b"}"]
        except TypeError:
            raise ColumnsRefused("not bytes") from None
        count = len(payloads)
        if count != len(datas):
            raise ColumnsRefused("not all envelopes of this schema")
        lines = self._lines_opening(count)
        parts: list[bytes] = [b""] * (2 * count)
        parts[::2] = lines[:count]
        parts[1::2] = payloads
        body = b"".join(parts)
        if not body.isascii():
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                raise ColumnsRefused("invalid UTF-8") from None
        pa = _pa()
        if self._parsed_schema is None:
            self._parsed_schema = pa.schema(
                [pa.field(f.name, _PARSED_AS[kind](pa)) for f, kind in zip(self.fields, self.kinds)]
                + [pa.field(self.row, pa.int64())]
            )
        try:
            table = pj.read_json(
                pa.BufferReader(body),
                read_options=pj.ReadOptions(use_threads=False, block_size=max(1 << 20, len(body) + 1)),
                parse_options=pj.ParseOptions(explicit_schema=self._parsed_schema, unexpected_field_behavior="ignore"),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise ColumnsRefused(str(e)) from None
        if table.num_rows != count:
            raise ColumnsRefused("row count")
        rows = table.column(len(self.fields))
        if rows.null_count or not (rows.to_numpy() == np.arange(count)).all():
            raise ColumnsRefused("a payload not one JSON object")
        return self._connect_columns(table, body)

    def _lines_opening(self, count: int) -> list[bytes]:
        """What opens each of `count` lines: `{"ROW":i,` (and `"k":` for a primitive), after a line break but the
        first."""
        lines = self._lines
        if len(lines) < count:
            lines += [(b"\n" if i else b"") + self._open % i for i in range(len(lines), count)]
        return lines

    def _connect_columns(self, table: Any, body: bytes) -> Any:
        import numpy as np
        import pyarrow.compute as pc

        pa = _pa()
        columns = []
        for i, (kind, required) in enumerate(zip(self.kinds, self.required)):
            col = table.column(i).combine_chunks()
            if required and col.null_count:
                raise ColumnsRefused("null in a required field")
            if kind in ("int", "plain", "bool"):
                pass
            elif kind == "float":  # JSON has neither, but the reader takes NaN and Infinity
                if pc.any(pc.invert(pc.is_finite(col))).as_py():
                    raise ColumnsRefused("infinite float or NaN")
                # JsonConverter reads a negative zero as 0.0 (as Kafka's, whose parser has none), the reader as -0.0
                bits = np.frombuffer(col.buffers()[1], np.uint64, len(col), 8 * col.offset)
                if (bits == _NEGATIVE_ZERO).any():
                    col = pc.add(col, pa.scalar(0.0))
            elif kind in ("date", "time", "timestamp"):
                col = temporal_column(kind, col)
            elif kind == "bytes":
                col = pa.array(_each(col, _b64), pa.binary())
            else:  # decimal
                scale = self.scales[i]
                values = _each(col, lambda v, s=scale: _decimal(_b64(v), s))
                col = decimal_column(values, scale)
            columns.append(col)
        return pa.Table.from_arrays(columns, names=[f.name for f in self.fields])


# the Arrow type a field of each kind is parsed as
_PARSED_AS: dict[str, Any] = {
    "decimal": lambda pa: pa.string(),
    "date": lambda pa: pa.int64(),
    "time": lambda pa: pa.int64(),
    "timestamp": lambda pa: pa.int64(),
    "int": lambda pa: pa.int64(),
    "float": lambda pa: pa.float64(),
    "bool": lambda pa: pa.bool_(),
    "plain": lambda pa: pa.string(),
    "bytes": lambda pa: pa.string(),
}


def _field_kind(s: Schema) -> str:
    """How a plain field is read (see _PARSED_AS), else ColumnsRefused."""
    if s.default is not None:
        raise ColumnsRefused("field with a default")
    if s.name == DECIMAL and s.type is Type.BYTES:
        return "decimal"
    if s.name in (DATE, TIME) and s.type is Type.INT32:
        return "date" if s.name == DATE else "time"
    if s.name == TIMESTAMP and s.type is Type.INT64:
        return "timestamp"
    if s.name is not None and s.name not in (DATE, TIME, TIMESTAMP, DECIMAL):
        pass  # another named schema: its values are those of its type
    elif s.name is not None:
        raise ColumnsRefused(f"logical type {s.name} on {s.type.name}")
    if s.type in _INTEGERS:
        return "int"
    if s.type in (Type.FLOAT32, Type.FLOAT64):
        return "float"
    if s.type is Type.BOOLEAN:
        return "bool"
    if s.type is Type.STRING:
        return "plain"
    if s.type is Type.BYTES:
        return "bytes"
    raise ColumnsRefused(f"{s.type.name} field")


def _b64(v: str) -> bytes:
    try:
        return base64.b64decode(v)
    except (binascii.Error, ValueError):
        raise ColumnsRefused("invalid base64") from None


def _decimal(raw: bytes, scale: int) -> Any:
    try:
        return decimal_from_bytes(raw, scale)
    except ValueError:  # no bytes
        raise ColumnsRefused("invalid Decimal bytes") from None


def _each(col: Any, fn: Any) -> list[Any]:
    return [None if v is None else fn(v) for v in col.to_pylist()]


def payload_columns(schema: Schema | None, prefix: bytes) -> PayloadColumns | None:
    """The column reader of a struct schema whose fields all have a column form, or of such a primitive schema,
    else None."""
    if schema is None or (schema.type is Type.STRUCT and not schema.fields):
        return None
    try:
        return PayloadColumns(prefix, schema)
    except ColumnsRefused:
        return None
