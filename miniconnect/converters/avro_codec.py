"""Avro binary encoding compiled per schema: Python source generated once for a (Avro schema, Connect schema) pair
and exec'd, so that each record costs straight-line code instead of a walk over the schema.

A decoder turns the bytes of one Confluent-framed record (magic byte, 4-byte id, Avro binary datum) into the Connect
value: Structs for records, Decimal / date / time / datetime for Connect's logical types. An encoder turns a Connect
value into the Avro binary datum of an Avro schema. Measured against fastavro (bench/bench_avro.py): fastavro's
per-call overhead makes it several times slower per record than this code and than the JSON converter."""

from __future__ import annotations

import datetime
import decimal
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..data.schema import (
    DATE,
    DECIMAL,
    EPOCH,
    EPOCH_DATE,
    EXACT,
    TIME,
    TIMESTAMP,
    DataError,
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
from .avro_data import UNION, avro_type, default_from_json, is_map_entry, resolve, union_member_name

HEADER_SIZE = 5
Decoder = Callable[[bytes], Any]
BatchDecoder = Callable[[list[bytes]], list[tuple[Schema, Any]]]
BatchEncoder = Callable[[Sequence[Any], bytes], list[bytes]]
Encoder = Callable[[Any, bytes], bytes]


def _read_long(b: bytes, pos: int) -> tuple[int, int]:
    """A long's varint, as Java's BinaryDecoder reads it: at most 10 bytes, the bits past the 64th dropped."""
    x = b[pos]
    pos += 1
    n = x & 0x7F
    shift = 7
    while x > 127:
        x = b[pos]
        pos += 1
        n |= (x & 0x7F) << shift
        shift += 7
        if shift > 70:
            raise DataError("Invalid Avro data: a varint longer than 10 bytes (invalid long encoding)")
    n &= 0xFFFF_FFFF_FFFF_FFFF
    return (n >> 1) ^ -(n & 1), pos


def _read_int32(b: bytes, pos: int) -> tuple[int, int]:
    """An int's varint, as Java's BinaryDecoder reads it: at most 5 bytes, the bits past the 32nd dropped."""
    x = b[pos]
    pos += 1
    n = x & 0x7F
    shift = 7
    while x > 127:
        if shift == 35:
            raise DataError("Invalid Avro data: an int's varint longer than 5 bytes (invalid int encoding)")
        x = b[pos]
        pos += 1
        n |= (x & 0x7F) << shift
        shift += 7
    n &= 0xFFFF_FFFF
    return (n >> 1) ^ -(n & 1), pos


def write_long(n: int) -> bytes:
    if not -(1 << 63) <= n < (1 << 63):
        raise DataError(f"Value {n} does not fit in an Avro long")
    n = (n << 1) ^ (n >> 63)
    if n < 0x200000:  # up to three bytes (values within +-2^20), without a loop
        if n < 0x4000:
            return bytes((n & 0x7F | 0x80, n >> 7)) if n > 0x7F else bytes((n,))
        return bytes((n & 0x7F | 0x80, n >> 7 & 0x7F | 0x80, n >> 14))
    if n < 1 << 42:  # four to six bytes (a timestamp's millis take six), without a loop either
        if n < 1 << 28:
            return bytes((n & 0x7F | 0x80, n >> 7 & 0x7F | 0x80, n >> 14 & 0x7F | 0x80, n >> 21))
        if n < 1 << 35:
            return bytes((n & 0x7F | 0x80, n >> 7 & 0x7F | 0x80, n >> 14 & 0x7F | 0x80, n >> 21 & 0x7F | 0x80, n >> 28))
        return bytes(
            (
                n & 0x7F | 0x80,
                n >> 7 & 0x7F | 0x80,
                n >> 14 & 0x7F | 0x80,
                n >> 21 & 0x7F | 0x80,
                n >> 28 & 0x7F | 0x80,
                n >> 35,
            )
        )
    out = bytearray()
    while n > 127:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL_MIN, _SMALL_MAX = -64, 8192
_SMALL = [write_long(i) for i in range(_SMALL_MIN, _SMALL_MAX)]  # varints of small ints, looked up not computed
# a zigzag value's varint by 14-bit groups: the last group's bytes (_LAST), and a group's two bytes when more follow
# (_MORE); a long up to 2^41 in magnitude (a timestamp's millis) is then three lookups, not a call to write_long
_LAST = [bytes((z,)) if z < 128 else bytes((z & 127 | 128, z >> 7)) for z in range(1 << 14)]
_MORE = [bytes((z & 127 | 128, z >> 7 | 128)) for z in range(1 << 14)]


def _new_struct(schema: Schema, values: list[Any]) -> Struct:
    s = object.__new__(Struct)
    s.schema = schema
    s.values = values
    return s


def _null(field: str) -> None:
    raise DataError(f'Invalid value: null used for required field: "{field}"')


def _bad_union(index: int) -> None:
    raise DataError(f"Invalid Avro data: union index {index} out of range")


def _negative_length(n: int) -> None:
    raise DataError(f"Invalid Avro data: negative length {n}")


def _end(size: int, pos: int) -> None:
    if pos > size:
        raise DataError(f"Invalid Avro data: the record ends {pos - size} bytes before its datum does (truncated?)")
    raise DataError(f"Invalid Avro data: {size - pos} bytes after the datum")


def _enum_symbol(symbols: Mapping[str, int], value: Any) -> int:
    try:
        return symbols[value]
    except KeyError:
        raise DataError(f"Enum symbol {value!r} is not one of {list(symbols)}") from None


_ZIGZAG1 = tuple((x >> 1) ^ -(x & 1) for x in range(128))  # one-byte varints decoded
_LENGTH1 = tuple(x >> 1 if x < 128 and not x & 1 else -1 for x in range(256))  # one-byte lengths, -1: not one
_BRANCH: dict[int, list[bytes]] = {}


def branch_table(index: int) -> list[bytes]:
    """Union branch index + each small int's varint, one lookup for an optional int or a string's length."""
    table = _BRANCH.get(index)
    if table is None:
        head = write_long(index)
        table = _BRANCH[index] = [head + v for v in _SMALL]
    return table


_ENV: dict[str, Any] = {
    "_Z": _ZIGZAG1,
    "_N": _LENGTH1,
    "_long": _read_long,
    "_int": _read_int32,
    "_wlong": write_long,
    "_S": _SMALL,
    "_L": _LAST,
    "_M": _MORE,
    "_mk": _new_struct,
    "_new": object.__new__,
    "_Struct": Struct,
    "_null": _null,
    "_bad_union": _bad_union,
    "_neg": _negative_length,
    "_enum": _enum_symbol,
    "_end": _end,
    "_uf": struct.Struct("<f").unpack_from,
    "_ud": struct.Struct("<d").unpack_from,
    "_pf": struct.Struct("<f").pack,
    "_pd": struct.Struct("<d").pack,
    "_d2b": decimal_to_bytes,
    "_Decimal": decimal.Decimal,
    "_EXACT": EXACT,
    "_EPOCH": EPOCH,
    "_EPOCH_NAIVE": EPOCH.replace(tzinfo=None),
    "_EPOCH_DATE": EPOCH_DATE,
    "_date": datetime.date,
    "_b2d": decimal_from_bytes,
    "_days": days_to_date,
    "_todays": date_to_days,
    "_mtime": millis_to_time,
    "_tomtime": time_to_millis,
    "_mts": millis_to_timestamp,
    "_tomts": timestamp_to_millis,
    "DataError": DataError,
}


class _Source:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.env = dict(_ENV)
        self.n = 0

    def var(self, prefix: str = "v") -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def const(self, value: Any) -> str:
        name = self.var("_k")
        self.env[name] = value
        return name

    def add(self, indent: int, *lines: str) -> None:
        self.lines += ["    " * indent + line for line in lines]

    def build(self, name: str) -> Any:
        exec("\n".join(self.lines), self.env)
        return self.env[name]


# -- decoding ---------------------------------------------------------------------------------------------------
def compile_decoder(avro: Any, named: Mapping[str, Any], connect: Schema) -> Decoder:
    """bytes of a framed record (header included) -> the Connect value of `connect` (made from this Avro schema by
    to_connect_schema). Raises IndexError/ValueError/DataError... on bad data; the caller names the record."""
    src = _Source()
    src.add(0, "def decode(b):", f"    pos = {HEADER_SIZE}")
    out = src.var()
    _read(src, 1, avro, named, connect, out)
    src.add(1, "if pos != len(b):", "    _end(len(b), pos)")
    src.add(1, f"return {out}")
    return src.build("decode")  # type: ignore[no-any-return]


def compile_batch_decoder(avro: Any, named: Mapping[str, Any], connect: Schema) -> BatchDecoder:
    """compile_decoder's code in a loop: framed records (header included, all of this schema) -> [(connect, the
    Connect value)], one call a batch instead of one a record. Raises as compile_decoder's decoder does."""
    src = _Source()
    src.add(0, "def decode_batch(datas):", "    out = []", "    a = out.append", "    for b in datas:")
    src.add(2, f"pos = {HEADER_SIZE}")
    out = src.var()
    _read(src, 2, avro, named, connect, out)
    src.add(2, "if pos != len(b):", "    _end(len(b), pos)", f"a(({src.const(connect)}, {out}))")
    src.add(1, "return out")
    return src.build("decode_batch")  # type: ignore[no-any-return]


def _at(off: int) -> str:
    return f"pos + {off}" if off else "pos"


def _read_int(src: _Source, ind: int, target: str, off: int = 0, reader: str = "_long") -> None:
    """A varint at pos + off into target; pos moved past it. reader: what reads one of 4 bytes or more (_int for an
    Avro int)."""
    x, y, z = src.var("x"), src.var("y"), src.var("z")
    src.add(
        ind,
        f"{x} = b[{_at(off)}]",
        f"if {x} < 128:",
        f"    {target} = _Z[{x}]",
        f"    pos += {off + 1}",
        "else:",
        f"    {y} = b[pos + {off + 1}]",
        f"    if {y} < 128:",  # two bytes: values up to 8191 in magnitude, inline
        f"        {y} = {x} & 127 | {y} << 7",
        f"        {target} = {y} >> 1 ^ -({y} & 1)",
        f"        pos += {off + 2}",
        "    else:",
        f"        {z} = b[pos + {off + 2}]",
        f"        if {z} < 128:",  # three bytes: up to 2^20, inline too
        f"            {z} = {x} & 127 | ({y} & 127) << 7 | {z} << 14",
        f"            {target} = {z} >> 1 ^ -({z} & 1)",
        f"            pos += {off + 3}",
        "        else:",
        f"            {target}, pos = {reader}(b, {_at(off)})",
    )


def _read_slice(src: _Source, ind: int, target: str, off: int = 0) -> None:
    """Length-prefixed bytes at pos + off into target; pos moved past them."""
    n, e = src.var("n"), src.var("e")
    src.add(
        ind,
        f"{n} = _N[b[{_at(off)}]]",
        f"if {n} >= 0:",
        f"    {e} = pos + {off + 1} + {n}",
        f"    {target} = b[pos + {off + 1}:{e}]",
        "else:",
        f"    {n}, pos = _long(b, {_at(off)})",
        f"    if {n} < 0:",
        f"        _neg({n})",
        f"    {e} = pos + {n}",
        f"    {target} = b[pos:{e}]",
        f"pos = {e}",
    )


def _read(
    src: _Source, ind: int, avro: Any, named: Mapping[str, Any], connect: Schema, target: str, off: int = 0
) -> None:
    """Code reading the value at pos + off (off: bytes already looked at, e.g. a union's branch) into target."""
    avro = resolve(avro, named)
    t = avro_type(avro)
    name = connect.name
    if off and t not in ("int", "long", "string", "bytes"):
        src.add(ind, f"pos += {off}")
        off = 0
    if t == "null":
        src.add(ind, f"{target} = None")
    elif t == "boolean":
        src.add(ind, f"{target} = b[pos] == 1", "pos += 1")
    elif t in ("int", "long"):
        _read_int(src, ind, target, off, "_int" if t == "int" else "_long")
        if name == DATE and t == "int":
            src.add(ind, f"{target} = _days({target})")
        elif name == TIME and t == "int":
            src.add(ind, f"{target} = _mtime({target})")
        elif name == TIMESTAMP and t == "long":
            src.add(ind, f"{target} = _mts({target})")
    elif t == "float":
        src.add(ind, f"{target} = _uf(b, pos)[0]", "pos += 4")
    elif t == "double":
        src.add(ind, f"{target} = _ud(b, pos)[0]", "pos += 8")
    elif t in ("string", "bytes", "fixed"):
        if t == "fixed":
            n = str(int(avro["size"]))
            src.add(ind, f"{target} = b[pos:pos + {n}]", f"pos += {n}")
        else:
            _read_slice(src, ind, target, off)
        if t == "string":
            src.add(ind, f"{target} = {target}.decode()")
        elif name == DECIMAL:
            src.add(ind, f"{target} = _b2d({target}, {decimal_scale(connect)})")
    elif t == "enum":
        i = src.var("i")
        _read_int(src, ind, i)
        src.add(ind, f"{target} = {src.const(tuple(avro['symbols']))}[{i}]")
    elif t == "array":
        items = resolve(avro["items"], named)
        if connect.type is Type.MAP and is_map_entry(items):
            fields = {f["name"]: f["type"] for f in items["fields"]}
            container, k, v = src.var("m"), src.var("k"), src.var("e")
            src.add(ind, f"{container} = {{}}")
            body = _blocks(src, ind, container)
            _read(src, body, fields["key"], named, connect.key_schema, k)  # type: ignore[arg-type]
            _read(src, body, fields["value"], named, connect.value_schema, v)  # type: ignore[arg-type]
            src.add(body, f"{container}[{k}] = {v}")
        else:
            container, item = src.var("l"), src.var("e")
            src.add(ind, f"{container} = []")
            body = _blocks(src, ind, container)
            _read(src, body, items, named, connect.value_schema, item)  # type: ignore[arg-type]
            src.add(body, f"{container}.append({item})")
        src.add(ind, f"{target} = {container}")
    elif t == "map":
        container, k, v = src.var("m"), src.var("k"), src.var("e")
        src.add(ind, f"{container} = {{}}")
        body = _blocks(src, ind, container)
        _read_slice(src, body, k)
        src.add(body, f"{k} = {k}.decode()")
        _read(src, body, avro["values"], named, connect.value_schema, v)  # type: ignore[arg-type]
        src.add(body, f"{container}[{k}] = {v}")
        src.add(ind, f"{target} = {container}")
    elif t in ("record", "error"):
        values = []
        for wf, cf in zip(avro["fields"], connect.fields, strict=True):
            v = src.var()
            _read(src, ind, wf["type"], named, cf.schema, v)
            values.append(v)
        # a tuple, as JsonConverter's: the collector stops tracking one that holds only strings and numbers
        src.add(
            ind,
            f"{target} = _new(_Struct)",
            f"{target}.schema = {src.const(connect)}",
            f"{target}.values = {_tuple(values)}",
        )
    elif (
        t == "union"
        and len(avro if isinstance(avro, list) else avro["type"]) == 2
        and "null" in (avro if isinstance(avro, list) else avro["type"])
    ):
        members = avro if isinstance(avro, list) else avro["type"]
        x = src.var("x")
        other = 1 - members.index("null")
        src.add(ind, f"{x} = b[pos]", f"if {x} == {2 * other}:")  # the branch index, one zigzag byte
        _read(src, ind + 1, members[other], named, connect, target, 1)
        src.add(
            ind,
            f"elif {x} == {2 * (1 - other)}:",
            f"    {target} = None",
            "    pos += 1",
            "else:",
            f"    _bad_union({x} >> 1)",
        )
    elif t == "union":
        members = avro if isinstance(avro, list) else avro["type"]
        i = src.var("i")
        _read_int(src, ind, i)
        general = connect.type is Type.STRUCT and connect.name == UNION
        positions = {f.name: f.index for f in connect.fields} if general else {}
        for j, m in enumerate(members):
            src.add(ind, f"{'if' if j == 0 else 'elif'} {i} == {j}:")
            if m == "null":
                src.add(ind + 1, f"{target} = None")
            elif general:
                fname = union_member_name(resolve(m, named), j, False)
                if fname not in positions:
                    fname = union_member_name(resolve(m, named), j, True)
                field = connect.fields[positions[fname]]
                v = src.var()
                _read(src, ind + 1, m, named, field.schema, v)
                slots = ["None"] * len(connect.fields)
                slots[field.index] = v
                src.add(ind + 1, f"{target} = _mk({src.const(connect)}, {_tuple(slots)})")
            else:
                _read(src, ind + 1, m, named, connect, target)
        src.add(ind, "else:", f"    _bad_union({i})")
    else:
        raise DataError(f"Unsupported Avro type {t}")


def _tuple(items: list[str]) -> str:
    """Source of a tuple of the expressions."""
    return f"({', '.join(items)},)" if items else "()"


def _blocks(src: _Source, ind: int, container: str) -> int:
    """The block loop of an array or map; returns the indentation of the per-item body."""
    c, skip = src.var("c"), src.var("s")
    src.add(ind, "while True:")
    _read_int(src, ind + 1, c)
    src.add(ind + 1, f"if {c} == 0:", "    break", f"if {c} < 0:", f"    {c} = -{c}")
    _read_int(src, ind + 2, skip)  # a negative count is followed by the block's size in bytes
    src.add(ind + 1, f"for _ in range({c}):")
    return ind + 2


# -- encoding ---------------------------------------------------------------------------------------------------
def compile_batch_encoder(avro: Any, named: Mapping[str, Any], connect: Schema | None) -> BatchEncoder:
    """compile_encoder's code in a loop: (Connect values, header bytes) -> [header + datum], one call a batch."""
    return _flat_encoder(avro, named, connect, True) or parts_encoder(avro, named, connect, True)


def compile_encoder(avro: Any, named: Mapping[str, Any], connect: Schema | None) -> Encoder:
    """(Connect value, header bytes) -> header + the Avro binary datum of `avro`. Struct fields are matched to the
    Avro record's fields by name (so an Avro schema other than the one made from `connect`, e.g. the registry's
    latest version, works when the names agree); a missing Connect field takes the Avro field's default."""
    return _flat_encoder(avro, named, connect) or parts_encoder(avro, named, connect)


def parts_encoder(avro: Any, named: Mapping[str, Any], connect: Schema | None, batch: bool = False) -> Any:
    """compile_encoder's general form: the datum's pieces appended to a list, then joined (`batch`: in a loop over
    a batch's values, as compile_batch_encoder)."""
    src = _Source()
    ind = _encode_head(src, batch)
    src.add(ind, "parts = [head]", "a = parts.append")
    _write(src, ind, avro, named, connect, "v", "value")
    src.add(ind, 'o(b"".join(parts))' if batch else 'return b"".join(parts)')
    return _encode_end(src, batch)


def _encode_head(src: _Source, batch: bool) -> int:
    """The encoder's first lines; returns the indentation of the code for one value `v`."""
    if not batch:
        src.add(0, "def encode(v, head):")
        return 1
    src.add(0, "def encode_batch(values, head):", "    out = []", "    o = out.append", "    for v in values:")
    return 2


def _encode_end(src: _Source, batch: bool) -> Any:
    if batch:
        src.add(1, "return out")
    return src.build("encode_batch" if batch else "encode")


def _flat_encoder(avro: Any, named: Mapping[str, Any], connect: Schema | None, batch: bool = False) -> Any:
    """The encoder of a record whose fields are each written as one or two pieces of bytes (primitives, logical
    types on them, unions of null and one of them): the pieces are kept in variables and joined once, a fifth less
    work a record than appending them to a list as _write's code does. None for other schemas."""
    record = resolve(avro, named)
    if avro_type(record) not in ("record", "error") or connect is None or connect.type is not Type.STRUCT:
        return None
    src = _Source()
    ind = _encode_head(src, batch)
    src.add(ind, "f = v.values")
    pieces = ["head"]
    for af in record["fields"]:
        cf = connect.field(af["name"])
        if cf is None:
            return None
        fv = src.var()
        src.add(ind, f"{fv} = f[{cf.index}]")
        if cf.schema.default is not None:
            src.add(ind, f"if {fv} is None:", f"    {fv} = {src.const(cf.schema.default)}")
        got = _flat_field(src, ind, af["type"], named, cf.schema, fv, af["name"])
        if got is None:
            return None
        pieces += got
    joined = f'b"".join(({", ".join(pieces)},))'
    src.add(ind, f"o({joined})" if batch else f"return {joined}")
    return _encode_end(src, batch)


def _flat_field(
    src: _Source, ind: int, avro: Any, named: Mapping[str, Any], connect: Schema, v: str, where: str
) -> Any:
    """Code setting the variables (returned) that hold the bytes of field value `v`, as _write writes them; None
    when the field's type is not one of _flat_encoder's."""
    avro = resolve(avro, named)
    branch = None
    if avro_type(avro) == "union":
        members = avro if isinstance(avro, list) else avro["type"]
        if len(members) != 2 or "null" not in members:
            return None
        branch = 1 - members.index("null")
        avro = resolve(members[branch], named)
    t, name = avro_type(avro), connect.name
    if connect.type in (Type.STRUCT, Type.ARRAY, Type.MAP):  # Connect's Union struct, say
        return None
    head = write_long(branch) if branch is not None else b""

    def long_of(x: str) -> str:  # source of the branch index (if any) and the varint of x, for larger values
        return f"{src.const(head)} + _wlong({x})" if head else f"_wlong({x})"

    code: list[str] = []
    if t in ("int", "long"):
        w = v
        if name in (DATE, TIME, TIMESTAMP):
            w = src.var("w")
            if name == TIMESTAMP:  # timestamp_to_millis inlined, as JsonConverter's encoder does
                d = src.var("d")
                code += [
                    f"{d} = {v} - (_EPOCH_NAIVE if {v}.tzinfo is None else _EPOCH)",
                    f"{w} = ({d}.days * 86400 + {d}.seconds) * 1000 + {d}.microseconds // 1000",
                ]
            elif name == DATE:  # date_to_days inlined for dates (a datetime is cut to its date first)
                code.append(f"{w} = ({v} - _EPOCH_DATE).days if {v}.__class__ is _date else _todays({v})")
            else:
                code.append(f"{w} = _tomtime({v})")
        table, p, z = src.const(branch_table(branch) if branch is not None else _SMALL), src.var("p"), src.var("z")
        then = f"{src.const(head)} + " if head else ""
        code += [
            f"if -64 <= {w} < {_SMALL_MAX + _SMALL_MIN}:",
            f"    {p} = {table}[{w} + 64]",
            "else:",  # the zigzag value; a w past a long's range gives one of 2^64 or more: write_long refuses it
            f"    {z} = ({w} << 1) ^ ({w} >> 63)",
            f"    if {z} < 16384:",
            f"        {p} = {then}_L[{z}]",
            f"    elif {z} < 268435456:",
            f"        {p} = {then}_M[{z} & 16383] + _L[{z} >> 14]",
            f"    elif {z} < 4398046511104:",
            f"        {p} = {then}_M[{z} & 16383] + _M[{z} >> 14 & 16383] + _L[{z} >> 28]",
            "    else:",
            f"        {p} = {long_of(w)}",
        ]
        pieces = [p]
    elif t in ("string", "bytes"):
        x, n, p = src.var("x"), src.var("n"), src.var("p")
        if t == "string":
            code.append(f"{x} = {v}.encode()")
        elif name == DECIMAL:  # decimal_to_bytes inlined for exact values: scaled, it is an integer
            u, scale = src.var("u"), decimal_scale(connect)
            code += [
                f"if {v}.__class__ is _Decimal:",
                f"    {u} = {v}.scaleb({scale}, _EXACT)",
                f"    {n} = int({u})",
                f"    {x} = {n}.to_bytes(({n} + ({n} < 0)).bit_length() // 8 + 1, 'big', signed=True) "
                f"if {n} == {u} else _d2b({v}, {scale})",
                "else:",
                f"    {x} = _d2b({v}, {scale})",
            ]
        else:
            code.append(f"{x} = {v} if {v}.__class__ is bytes else bytes({v})")
        table = src.const(branch_table(branch) if branch is not None else _SMALL)
        code += [
            f"{n} = len({x})",
            f"{p} = {table}[{n} + 64] if {n} < {_SMALL_MAX + _SMALL_MIN} else " + long_of(n),
        ]
        pieces = [p, x]
    elif t in ("boolean", "float", "double"):
        b, p = src.var("b"), src.var("p")
        value = {"boolean": f'b"\\x01" if {v} else b"\\x00"', "float": f"_pf({v})", "double": f"_pd({v})"}[t]
        code += [f"{b} = {src.const(head)}", f"{p} = {value}"]
        pieces = [b, p]
    else:
        return None
    if branch is None:
        src.add(ind, f"if {v} is None:", f"    _null({where!r})", *code)
    else:
        null = [f"    {pieces[0]} = {src.const(write_long(1 - branch))}"] + [f"    {x} = b''" for x in pieces[1:]]
        src.add(ind, f"if {v} is None:", *null, "else:", *["    " + line for line in code])
    return pieces


def _write_int(src: _Source, ind: int, value: str) -> None:
    src.add(ind, f"a(_S[{value} + 64] if -64 <= {value} < {_SMALL_MAX + _SMALL_MIN} else _wlong({value}))")


def _write(
    src: _Source, ind: int, avro: Any, named: Mapping[str, Any], connect: Schema | None, v: str, where: str
) -> None:
    avro = resolve(avro, named)
    t = avro_type(avro)
    name = connect.name if connect is not None else None
    if t == "union":
        members = avro if isinstance(avro, list) else avro["type"]
        null_index = members.index("null") if "null" in members else None
        others = [j for j, m in enumerate(members) if m != "null"]
        if null_index is not None:
            src.add(ind, f"if {v} is None:", f"    a({src.const(write_long(null_index))})", "else:")
            ind += 1
        else:
            src.add(ind, f"if {v} is None:", f"    _null({where!r})")
        if connect is not None and connect.type is Type.STRUCT and connect.name == UNION:
            vals = src.var("u")
            src.add(ind, f"{vals} = {v}.values")
            keyword = "if"
            for f in connect.fields:
                j = next((j for j in others if f.name in _member_names(members[j], named, j)), None)
                if j is None:
                    continue
                inner = src.var()
                src.add(
                    ind,
                    f"{keyword} {vals}[{f.index}] is not None:",
                    f"    a({src.const(write_long(j))})",
                    f"    {inner} = {vals}[{f.index}]",
                )
                _write(src, ind + 1, members[j], named, f.schema, inner, f"{where}.{f.name}")
                keyword = "elif"
            if keyword == "if":
                src.add(ind, f"_null({where!r})")
            else:
                src.add(ind, "else:", f"    _null({where!r})")
            return
        if len(others) != 1:
            raise DataError(f"Cannot write Connect data as the Avro union {avro}: more than one non-null branch")
        member = resolve(members[others[0]], named)
        mtype = avro_type(member)
        plain_int = mtype in ("int", "long") and (connect is None or connect.name is None)
        if (mtype == "string" or plain_int) and others[0] < 64:
            table, head = src.const(branch_table(others[0])), src.const(write_long(others[0]))
            n = v
            if mtype == "string":
                x, n = src.var("x"), src.var("n")
                src.add(ind, f"{x} = {v}.encode()", f"{n} = len({x})")
            src.add(ind, f"a({table}[{n} + 64] if -64 <= {n} < {_SMALL_MAX + _SMALL_MIN} else {head} + _wlong({n}))")
            if mtype == "string":
                src.add(ind, f"a({x})")
            return
        src.add(ind, f"a({src.const(write_long(others[0]))})")
        _write(src, ind, members[others[0]], named, connect, v, where)
        return
    if t == "null":
        return
    if t == "boolean":
        src.add(ind, f'a(b"\\x01" if {v} else b"\\x00")')
    elif t in ("int", "long"):
        if name == DATE:
            src.add(ind, f"{v} = _todays({v})")
        elif name == TIME:
            src.add(ind, f"{v} = _tomtime({v})")
        elif name == TIMESTAMP:
            src.add(ind, f"{v} = _tomts({v})")
        _write_int(src, ind, v)
    elif t == "float":
        src.add(ind, f"a(_pf({v}))")
    elif t == "double":
        src.add(ind, f"a(_pd({v}))")
    elif t == "string":
        x, n = src.var("x"), src.var("n")
        src.add(ind, f"{x} = {v}.encode()", f"{n} = len({x})")
        _write_int(src, ind, n)
        src.add(ind, f"a({x})")
    elif t in ("bytes", "fixed"):
        x = src.var("x")
        if name == DECIMAL:
            scale = decimal_scale(connect) if connect is not None else int(avro.get("scale", 0))
            src.add(ind, f"{x} = _d2b({v}, {scale})")
        else:
            src.add(ind, f"{x} = {v} if {v}.__class__ is bytes else bytes({v})")
        if t == "fixed":
            size = int(avro["size"])
            if name == DECIMAL:  # sign-extended to the fixed size
                src.add(ind, f"{x} = int.from_bytes({x}, 'big', signed=True).to_bytes({size}, 'big', signed=True)")
            src.add(
                ind,
                f"if len({x}) != {size}:",
                f"    raise DataError(f'{where}: fixed size {size} expected, got {{len({x})}} bytes')",
            )
        else:
            n = src.var("n")
            src.add(ind, f"{n} = len({x})")
            _write_int(src, ind, n)
        src.add(ind, f"a({x})")
    elif t == "enum":
        idx = src.const({s: i for i, s in enumerate(avro["symbols"])})
        i = src.var("i")
        src.add(ind, f"{i} = _enum({idx}, {v})")
        _write_int(src, ind, i)
    elif t == "array":
        items = resolve(avro["items"], named)
        if connect is not None and connect.type is Type.MAP and is_map_entry(items):
            fields = {f["name"]: f["type"] for f in items["fields"]}
            k, e = src.var("k"), src.var("e")
            src.add(ind, f"if {v}:", f"    a(_wlong(len({v})))", f"    for {k}, {e} in {v}.items():")
            _write(src, ind + 2, fields["key"], named, connect.key_schema, k, f"{where} key")
            _write(src, ind + 2, fields["value"], named, connect.value_schema, e, f"{where} value")
        else:
            e = src.var("e")
            src.add(ind, f"if {v}:", f"    a(_wlong(len({v})))", f"    for {e} in {v}:")
            _write(src, ind + 2, items, named, connect.value_schema if connect else None, e, f"{where} item")
        src.add(ind, 'a(b"\\x00")')
    elif t == "map":
        k, e = src.var("k"), src.var("e")
        src.add(ind, f"if {v}:", f"    a(_wlong(len({v})))", f"    for {k}, {e} in {v}.items():")
        _write(src, ind + 2, "string", named, None, k, f"{where} key")
        _write(src, ind + 2, avro["values"], named, connect.value_schema if connect else None, e, f"{where} value")
        src.add(ind, 'a(b"\\x00")')
    elif t in ("record", "error"):
        vals = src.var("f")
        src.add(ind, f"{vals} = {v}.values")
        for af in avro["fields"]:
            cf = connect.field(af["name"]) if connect is not None else None
            fv = src.var()
            if cf is None:
                if "default" not in af:
                    raise DataError(f"Field {af['name']} of the Avro schema is not in the Connect schema {connect}")
                src.add(ind, f"{fv} = {src.const(_avro_default(af['type'], named, af['default']))}")
                fschema = None
            else:
                src.add(ind, f"{fv} = {vals}[{cf.index}]")
                if cf.schema.default is not None:
                    src.add(ind, f"if {fv} is None:", f"    {fv} = {src.const(cf.schema.default)}")
                fschema = cf.schema
            if avro_type(resolve(af["type"], named)) not in ("union", "null"):
                src.add(ind, f"if {fv} is None:", f"    _null({af['name']!r})")
            _write(src, ind, af["type"], named, fschema, fv, af["name"])
    else:
        raise DataError(f"Unsupported Avro type {t}")


def _member_names(member: Any, named: Mapping[str, Any], index: int) -> tuple[str, str]:
    m = resolve(member, named)
    return union_member_name(m, index, False), union_member_name(m, index, True)


def _avro_default(avro: Any, named: Mapping[str, Any], value: Any) -> Any:
    from .avro_data import to_connect_schema

    schema = to_connect_schema(avro, named)
    return default_from_json(schema, value)
