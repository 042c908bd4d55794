"""ProtobufConverter records of one schema id and message -> Arrow columns in one vectorized read (numpy), for sinks
that write columns instead of a Struct per record: the Protobuf binary of flat proto3 messages is decoded field by
field for all records at once, instead of a message object and an attribute read per field per record. (The record
path keeps python protobuf's parser: building the Structs from these columns measured no faster, since the Struct
and value objects, not the parse, dominate it.)

Only flat messages are read this way: every Connect field a proto3 scalar (int32/64, uint32/64, sint32/64,
fixed32/64, sfixed32/64, bool, float, double, string, bytes) or Connect's Timestamp, Date or Time (the
google.protobuf.Timestamp, google.type.Date and google.type.TimeOfDay submessages, decoded the same way), neither
repeated nor an enum, another message or a oneof group; Decimal too (confluent.type.Decimal), when every value
has the schema's scale (each carries its own). The
reader expects each message's fields in field-number order, each at most once, as every Protobuf serializer writes
them (upb, Java, Go): fields out of order, repeated, unknown, of another wire type, a varint longer than 10 bytes, a
length past the message's end, a string that is not UTF-8 or a date that does not exist refuse the batch, which is
then converted record by record (that raises the record's own error). An absent field is its type's default, or
null where to_connect_data reads null (proto3 `optional` and messages, unless generate.struct.for.nulls). Columns
are what to_connect_data gives (see ColumnBatch): integers int64, floats float64, bool, string, binary, date32,
time32[ms], timestamp[ms, UTC].
numpy and pyarrow are imported on first use."""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from typing import Any

from google.protobuf import descriptor_pb2 as pb

from ..data.columns import ColumnsRefused, decimal_column, temporal_column
from ..data.schema import DATE, DECIMAL, EXACT, TIME, TIMESTAMP, DataError, Schema, Type, decimal_scale
from .protobuf_data import (
    DATE_TYPE,
    DECIMAL_TYPE,
    TIME_TYPE,
    TIMESTAMP_TYPE,
    ProtobufDataConfig,
    Types,
    has_optional_keyword,
)

F = pb.FieldDescriptorProto
_VARINT = {F.TYPE_INT32, F.TYPE_INT64, F.TYPE_UINT32, F.TYPE_UINT64, F.TYPE_SINT32, F.TYPE_SINT64, F.TYPE_BOOL}
_FIXED = {
    F.TYPE_FIXED32: 4,
    F.TYPE_SFIXED32: 4,
    F.TYPE_FLOAT: 4,
    F.TYPE_FIXED64: 8,
    F.TYPE_SFIXED64: 8,
    F.TYPE_DOUBLE: 8,
}
_WIRE = {**dict.fromkeys(_VARINT, 0), F.TYPE_STRING: 2, F.TYPE_BYTES: 2, F.TYPE_MESSAGE: 2}
_WIRE.update({t: 5 if size == 4 else 1 for t, size in _FIXED.items()})
_FIXED_DTYPES = {
    F.TYPE_FIXED32: "<u4",
    F.TYPE_SFIXED32: "<i4",
    F.TYPE_FLOAT: "<f4",
    F.TYPE_FIXED64: "<u8",
    F.TYPE_SFIXED64: "<i8",
    F.TYPE_DOUBLE: "<f8",
}
# Connect's logical types as messages (protobuf_data's mapping): the columns' kind, and the submessage's fields
_LOGICAL = {
    (TIMESTAMP_TYPE, TIMESTAMP): "timestamp",
    (DATE_TYPE, DATE): "date",
    (TIME_TYPE, TIME): "time",
    (DECIMAL_TYPE, DECIMAL): "decimal",
}
_PARTS = {
    "decimal": [("value", F.TYPE_BYTES), ("precision", F.TYPE_UINT32), ("scale", F.TYPE_INT32)],
    "timestamp": [("seconds", F.TYPE_INT64), ("nanos", F.TYPE_INT32)],
    "date": [("year", F.TYPE_INT32), ("month", F.TYPE_INT32), ("day", F.TYPE_INT32)],
    "time": [("hours", F.TYPE_INT32), ("minutes", F.TYPE_INT32), ("seconds", F.TYPE_INT32), ("nanos", F.TYPE_INT32)],
}
_PAD = 16  # zero bytes after the records: a varint read at a record's last byte stays inside the buffer


class _Column:
    """One field: its scalar type (TYPE_MESSAGE for a logical type: `kind` and the submessage's own fields)."""

    __slots__ = ("kind", "name", "nullable", "number", "parts", "scale", "tag", "type")

    def __init__(self, name: str, type_: int, number: int, nullable: bool, kind: str = "", parts: list[_Column] = []):  # noqa: B006
        self.name, self.type, self.number, self.nullable = name, type_, number, nullable
        self.kind, self.parts, self.scale = kind, parts, 0
        tag = (number << 3) | _WIRE[type_]
        self.tag = bytes([tag]) if tag < 0x80 else bytes([(tag & 0x7F) | 0x80, tag >> 7])
        if tag >= 1 << 14:
            raise ColumnsRefused("a field number beyond 2047")


class ProtobufColumns:
    """Reads records that start with `prefix` (magic byte, schema id, message-index list) into an Arrow table, one
    column per field of `schema`. Holds no state that changes: safe to use from a worker thread."""

    def __init__(self, prefix: bytes, schema: Schema, types: Types, message: str, config: ProtobufDataConfig):
        if schema.type is not Type.STRUCT or not schema.fields or types.proto2[message]:
            raise ColumnsRefused("not a flat proto3 message")
        self.prefix, self.schema = prefix, schema
        by_name = {f.name: f for f in types.messages[message].field}
        columns = []
        for field in schema.fields:
            pf = by_name.get(field.name)
            fs = field.schema
            if pf is None or fs.type is Type.STRUCT:
                raise ColumnsRefused(f"field {field.name} is not a scalar")
            if pf.type not in _WIRE or pf.label == F.LABEL_REPEATED or fs.type in (Type.ARRAY, Type.MAP):
                raise ColumnsRefused(f"field {field.name} is not a plain scalar")
            kind = _LOGICAL.get((pf.type_name, fs.name or ""), "") if pf.type == F.TYPE_MESSAGE else ""
            if pf.type == F.TYPE_MESSAGE and not kind:
                raise ColumnsRefused(f"field {field.name} is a message")
            in_oneof = pf.HasField("oneof_index") and not pf.proto3_optional
            optional = pf.type == F.TYPE_MESSAGE or has_optional_keyword(pf, False)
            nullable = in_oneof or (not config.generate_struct_for_nulls and optional)
            parts = [_Column(name, t, i, False) for i, (name, t) in enumerate(_PARTS.get(kind, ()), 1)]
            columns.append(_Column(field.name, pf.type, pf.number, nullable, kind, parts))
            if kind == "decimal":
                columns[-1].scale = decimal_scale(fs)
        self.columns = sorted(columns, key=lambda c: c.number)  # the order serializers write them in
        self.names = [c.name for c in columns]

    def read(self, datas: Sequence[Any]) -> Any:
        """A pyarrow Table of the values of `datas`, in order; raises ColumnsRefused."""
        import numpy as np
        import pyarrow as pa

        n = len(datas)
        k = len(self.prefix)
        prefix = self.prefix
        try:
            if not all(d.__class__ is bytes for d in datas) or not all(d[:k] == prefix for d in datas):
                raise ColumnsRefused("not all records of this schema id and message")
        except TypeError:
            raise ColumnsRefused("a null record") from None
        if not n:
            raise ColumnsRefused("no records")
        body = b"".join([d[k:] for d in datas])
        buf = np.frombuffer(body + bytes(_PAD), np.uint8)
        ends = np.cumsum(np.fromiter(map(len, datas), np.int64, n) - k)
        starts = np.zeros(n, np.int64)
        starts[1:] = ends[:-1]
        found = _decode(buf, starts, ends, self.columns)
        arrays = [_column(c, n, *found[c.name], body) for c in self.columns]
        by_name = dict(zip([c.name for c in self.columns], arrays, strict=True))
        return pa.Table.from_arrays([by_name[name] for name in self.names], names=self.names)


def _decode(buf: Any, pos: Any, ends: Any, columns: list[_Column]) -> dict[str, tuple[Any, Any]]:
    """Each column's (rows where it is present, its values there) for the messages at [pos, ends) of `buf`: the
    fields in the columns' order, each at most once, nothing else."""
    import numpy as np

    pos = pos.copy()
    found = {}
    for c in columns:
        present = pos < ends
        for i, b in enumerate(c.tag):
            present &= buf[pos + i] == b
        rows = np.flatnonzero(present)
        at = pos[rows] + len(c.tag)
        if c.type in _FIXED:
            size = _FIXED[c.type]
            raw = buf[at[:, None] + np.arange(size)].copy().view("<u4" if size == 4 else "<u8").ravel()
            values: Any = raw.view(_FIXED_DTYPES[c.type])
            new = at + size
        elif c.type in _VARINT:
            raw, new = _varints(buf, at)
            values = _integers(c.type, raw)
        else:
            length, start = _varints(buf, at)
            if (length > (1 << 31)).any():
                raise ColumnsRefused("a length beyond 2 GiB")
            new = start + length.astype(np.int64)
            values = (start, new) if not c.kind else _logical(c, _decode(buf, start, new, c.parts), len(rows), buf)
        if (new > ends[rows]).any():
            raise ColumnsRefused("a field past its message's end")
        pos[rows] = new
        found[c.name] = (rows, values)
    if not np.array_equal(pos, ends):
        raise ColumnsRefused("fields out of order, repeated or unknown")
    return found


def _logical(c: _Column, parts: dict[str, tuple[Any, Any]], n: int, buf: Any = None) -> Any:
    """Timestamp, Date or TimeOfDay submessages (their fields `parts`, absent ones 0) as the milliseconds or days
    to_connect_data's values stand for, Decimal ones as Decimals; ColumnsRefused where it raises (a date that does
    not exist, a Decimal without a value) or gives what a column of the schema's scale cannot hold."""
    import numpy as np

    v = {p.name: np.zeros(n, np.int64) for p in c.parts if p.type != F.TYPE_BYTES}
    for name, (rows, values) in parts.items():
        if name in v:
            v[name][rows] = values
    if c.kind == "decimal":
        rows, (start, end) = parts.get("value", ((), ((), ())))
        if len(rows) < n:
            raise ColumnsRefused("a Decimal without a value")
        if (v["scale"] != c.scale).any():
            raise ColumnsRefused("a Decimal of another scale than the schema's")
        data = buf.base if isinstance(buf.base, bytes) else buf.tobytes()  # the records' bytes
        scale = -c.scale
        return [
            decimal.Decimal(int.from_bytes(data[a:b], "big", signed=True)).scaleb(scale, EXACT)
            for a, b in zip(start.tolist(), end.tolist(), strict=True)
        ]
    if c.kind == "timestamp":
        if (np.abs(v["seconds"]) > 10**15).any():
            raise ColumnsRefused("a timestamp beyond Python's datetime")
        return v["seconds"] * 1000 + v["nanos"] // 1_000_000
    if c.kind == "time":
        return ((v["hours"] * 60 + v["minutes"]) * 60 + v["seconds"]) * 1000 + v["nanos"] // 1_000_000
    y, m, d = v["year"], v["month"], v["day"]
    if ((y < 1) | (y > 9999) | (m < 1) | (m > 12) | (d < 1)).any():
        raise ColumnsRefused("not a date")
    months = (y - 1970) * 12 + m - 1
    days = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + d - 1
    if (days >= (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)).any():
        raise ColumnsRefused("a day beyond its month")
    return days


def _varints(buf: Any, at: Any) -> tuple[Any, Any]:
    """The unsigned 64-bit varints that start at `at`, and where each ends: byte k of all the varints still going
    at once (most are one or two bytes long)."""
    import numpy as np

    first = buf[at]
    values = (first & 0x7F).astype(np.uint64)
    going = np.flatnonzero(first >= 0x80)
    ends = at + 1
    k = 1
    while len(going):
        if k == 10:
            raise ColumnsRefused("a varint longer than 10 bytes")
        b = buf[at[going] + k]
        if k == 9 and (b > 1).any():
            raise ColumnsRefused("a varint beyond 64 bits")
        values[going] |= (b & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        ends[going] += 1
        going = going[b >= 0x80]
        k += 1
    return values, ends


def _integers(type_: int, raw: Any) -> Any:
    """Varints as the field's type reads them (python protobuf: int32 the low 32 bits, sint zigzag decoded)."""
    import numpy as np

    if type_ == F.TYPE_BOOL:
        return raw != 0
    if type_ == F.TYPE_INT32:
        return raw.astype(np.uint32).view(np.int32)
    if type_ == F.TYPE_UINT32:
        return raw.astype(np.uint32)
    if type_ == F.TYPE_SINT32:
        low = raw.astype(np.uint32)
        return ((low >> np.uint32(1)) ^ (np.uint32(0) - (low & np.uint32(1)))).view(np.int32)
    if type_ == F.TYPE_SINT64:
        return ((raw >> np.uint64(1)) ^ (np.uint64(0) - (raw & np.uint64(1)))).view(np.int64)
    if type_ == F.TYPE_UINT64:
        return raw
    return raw.view(np.int64)


def _column(c: _Column, n: int, rows: Any, values: Any, body: bytes) -> Any:
    """The Arrow column of the values found at `rows` (the others absent: the default, or null)."""
    import numpy as np
    import pyarrow as pa

    mask = None
    if c.nullable:
        mask = np.ones(n, bool)
        mask[rows] = False
    if c.kind == "decimal":
        if mask is None and len(rows) < n:
            raise ColumnsRefused("an unset Decimal")  # read as its default message, which the record path refuses
        decimals: list[Any] = [None] * n
        for r, d in zip(rows.tolist(), values, strict=True):
            decimals[r] = d
        return decimal_column(decimals, c.scale)
    if c.kind:  # absent (with generate.struct.for.nulls): the default submessage's value
        full = np.zeros(n, np.int64)
        if mask is None and len(rows) < n:
            full[:] = _logical(c, {}, 1)[0]
        full[rows] = values
        return temporal_column(c.kind, pa.array(full, mask=mask))
    if c.type in (F.TYPE_STRING, F.TYPE_BYTES):
        start, end = values
        lengths = np.zeros(n, np.int64)
        lengths[rows] = end - start
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        if offsets[-1] >= 1 << 31:
            raise ColumnsRefused("a column beyond 2 GiB")
        total = int(offsets[-1])
        src = np.zeros(n, np.int64)
        src[rows] = start
        index = np.repeat(src - offsets[:-1], lengths) + np.arange(total)
        data = np.frombuffer(body, np.uint8)[index]
        validity = None if mask is None else pa.py_buffer(np.packbits(~mask, bitorder="little"))
        type_ = pa.string() if c.type == F.TYPE_STRING else pa.binary()
        col = pa.Array.from_buffers(
            type_,
            n,
            [validity, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)],
            null_count=0 if mask is None else int(mask.sum()),
        )
        if c.type == F.TYPE_STRING:
            try:
                col.validate(full=True)  # UTF-8: the record path refuses a string that is not
            except pa.ArrowInvalid:
                raise ColumnsRefused("a string that is not UTF-8") from None
        return col
    if values.dtype == np.uint64 and (values >= np.uint64(1 << 63)).any():
        raise ColumnsRefused("a uint64 beyond int64")
    if values.dtype.kind == "b":
        full = np.zeros(n, bool)
    elif values.dtype.kind == "f":
        full = np.zeros(n, np.float64)
    else:
        full = np.zeros(n, np.int64)
    full[rows] = values
    return pa.array(full, mask=mask)


def protobuf_columns(
    prefix: bytes, schema: Schema, types: Types, message: str, config: ProtobufDataConfig
) -> ProtobufColumns | None:
    """The column reader of a flat proto3 message, else None."""
    try:
        return ProtobufColumns(prefix, schema, types, message, config)
    except (ColumnsRefused, DataError):
        return None
