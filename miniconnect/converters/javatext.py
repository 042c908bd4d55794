"""Java's text for numbers and values (Double.toString, Float.toString, Object.toString), so our bytes match Kafka's."""

from __future__ import annotations

import datetime
import decimal
import struct as _struct
from typing import Any

from ..data.javahash import java_keys
from ..data.schema import Schema, Struct, Type

_pack_f = _struct.Struct("<f")


def _java_from_digits(negative: bool, digits: str, exp: int) -> str:
    """Java's layout for the decimal digits*10**exp: plain in [1e-3, 1e7), else d.dddE±n; always a '.'."""
    if digits == "0":
        return "-0.0" if negative else "0.0"
    sci = len(digits) - 1 + exp
    sign = "-" if negative else ""
    if -3 <= sci < 7:
        point = sci + 1  # digits before the decimal point
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{sign}{digits}{'0' * (point - len(digits))}.0"
        return f"{sign}{digits[:point]}.{digits[point:]}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{sci}"


def _split(text: str) -> tuple[bool, str, int]:
    sign, digits, exp = decimal.Decimal(text).as_tuple()
    ds = "".join(map(str, digits))
    stripped = ds.rstrip("0")
    return bool(sign), stripped or "0", int(exp) + (len(ds) - len(stripped) if stripped else 0)


def java_double(x: float) -> str:
    """Double.toString(x) (JDK 19+, shortest digits); NaN/Infinity as Java spells them, unquoted."""
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    a = abs(x)
    if a == 0.0 or 1e-3 <= a < 1e7:
        return repr(x)  # Python's repr is already plain with a '.0' in this range
    neg, digits, exp = _split(repr(x))
    return _java_from_digits(neg, digits, exp)


_F32_MAX = 3.4028234663852886e38
_F32_OVERFLOW = 2.0**128 - 2.0**103  # from here on a double rounds to float32 infinity (half an ulp past the max)


def to_float32(x: float) -> float:
    """The nearest float32, as a Python float (OverflowError beyond float32's range). Doubles just past the largest
    float32 round to it, as Java's (float) cast does (struct refuses them)."""
    try:
        return _pack_f.unpack(_pack_f.pack(x))[0]
    except OverflowError:
        if abs(x) < _F32_OVERFLOW:
            return _F32_MAX if x > 0 else -_F32_MAX
        raise


def java_float(x: float) -> str:
    """Float.toString(x): the shortest digits that round-trip through float32."""
    if x != x or x in (float("inf"), float("-inf")):
        return java_double(x)
    try:
        f = to_float32(x)
    except OverflowError:
        return "Infinity" if x > 0 else "-Infinity"
    if f == 0.0:
        return repr(f)
    for precision in range(9):  # float32 never needs more than 9 significant digits
        text = f"{f:.{precision}e}"
        try:
            if to_float32(float(text)) == f:
                break
        except OverflowError:  # rounded up past the largest float32
            pass
    neg, digits, exp = _split(text)
    return _java_from_digits(neg, digits, exp)


def java_json_double(x: float) -> bytes:
    """A double as Jackson writes it in JSON: Double.toString, with NaN/Infinity quoted."""
    text = java_double(x)
    return f'"{text}"'.encode() if text[-1] in "Ny" else text.encode()


def java_json_float(x: float) -> bytes:
    text = java_float(x)
    return f'"{text}"'.encode() if text[-1] in "Ny" else text.encode()


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EPOCH_DAY = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def java_date_string(moment: datetime.datetime) -> str:
    """java.util.Date.toString() ("EEE MMM dd HH:mm:ss zzz yyyy") in this process's time zone, as a JVM on this
    machine prints it in its default one."""
    local = (moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)).astimezone()
    return (
        f"{_DAYS[local.weekday()]} {_MONTHS[local.month - 1]} {local.day:02d} "
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {local.tzname()} {local.year}"
    )


def _as_moment(value: datetime.date | datetime.time) -> datetime.datetime:
    """The instant of the java.util.Date that Connect holds for a Date, Time or Timestamp value."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.UTC)
    return datetime.datetime.combine(_EPOCH_DAY.date(), value.replace(tzinfo=None), datetime.UTC)


def java_to_string(value: Any, schema: Schema | None = None) -> str:
    """Object.toString() of the Java value Connect would hold: true/false, 1.0E20 (a float32 as a Float), [a, b],
    {k=v} in HashMap order, Struct{a=1,b=x}, a Date's "Thu Jan 01 00:00:00 UTC 1970", a byte array's [B@..."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_float(value) if schema is not None and schema.type is Type.FLOAT32 else java_double(value)
    if isinstance(value, Struct):
        parts = [
            f"{f.name}={java_to_string(value.values[f.index], f.schema)}"
            for f in value.schema.fields
            if value.values[f.index] is not None
        ]
        return "Struct{" + ",".join(parts) + "}"
    if isinstance(value, (list, tuple)):
        items = schema.value_schema if schema is not None and schema.type is Type.ARRAY else None
        return "[" + ", ".join(java_to_string(v, items) for v in value) + "]"
    if isinstance(value, dict):
        keys = values = None
        if schema is not None and schema.type is Type.MAP:
            keys, values = schema.key_schema, schema.value_schema
        bits = 32 if keys is not None and keys.type in (Type.INT8, Type.INT16, Type.INT32) else 64
        order = java_keys(value, bits)
        return "{" + ", ".join(f"{java_to_string(k, keys)}={java_to_string(value[k], values)}" for k in order) + "}"
    if isinstance(value, (datetime.date, datetime.time)):
        return java_date_string(_as_moment(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"[B@{id(value) & 0x7FFFFFFF:x}"  # Java prints the array's identity hash: nothing to match
    return str(value)
