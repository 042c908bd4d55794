"""Text of Connect values as Kafka's org.apache.kafka.connect.data.Values writes it (convertToString, used by
SimpleHeaderConverter and the Cast transform), and the Java class names Kafka's error messages give values."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from typing import Any

from ..converters.javatext import java_double, java_float
from .schema import Schema, Struct, Type, date_to_days, time_to_millis, timestamp_to_millis
from .timeformat import SimpleDateFormat

_NUMBER_CLASSES = {
    "INT8": "java.lang.Byte",
    "INT16": "java.lang.Short",
    "INT32": "java.lang.Integer",
    "INT64": "java.lang.Long",
    "FLOAT32": "java.lang.Float",
    "FLOAT64": "java.lang.Double",
}


def java_class_name(value: Any, schema: Schema | None = None) -> str:
    """The Java class Kafka's data API would hold for a Python value, as error messages name it; with the value's
    schema, a number's class is its type's (an int16 a Short)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, (int, float)) and schema is not None and schema.type.name in _NUMBER_CLASSES:
        return _NUMBER_CLASSES[schema.type.name]
    if isinstance(value, int):
        return "java.lang.Long"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "[B"
    if isinstance(value, decimal.Decimal):
        return "java.math.BigDecimal"
    if isinstance(value, (dt.date, dt.time)):
        return "java.util.Date"
    if isinstance(value, dict):
        return "java.util.HashMap"
    if isinstance(value, (list, tuple)):
        return "java.util.ArrayList"
    if isinstance(value, Struct):
        return "org.apache.kafka.connect.data.Struct"
    return type(value).__name__


def big_decimal_str(d: decimal.Decimal) -> str:
    """BigDecimal.toString: plain unless the exponent is positive or the adjusted exponent below -6."""
    sign, digits, exp = d.as_tuple()
    unscaled = "".join(map(str, digits))
    adjusted = len(unscaled) - 1 + int(exp)
    if int(exp) <= 0 and adjusted >= -6:
        return ("-" if sign else "") + format(abs(d), "f")
    mantissa = unscaled[0] + ("." + unscaled[1:] if len(unscaled) > 1 else "")
    return ("-" if sign else "") + mantissa + "E" + ("+" if adjusted > 0 else "") + str(adjusted)


DATE_FORMATS = {
    n: SimpleDateFormat(p)
    for n, p in (("time", "HH:mm:ss.SSS'Z'"), ("date", "yyyy-MM-dd"), ("timestamp", "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"))
}


def date_millis(value: Any) -> int:
    if isinstance(value, dt.datetime):
        return timestamp_to_millis(value)
    if isinstance(value, dt.date):
        return date_to_days(value) * 86_400_000
    return time_to_millis(value)


def date_text(value: Any) -> str:
    """Values.dateFormatFor(date).format(date): a time of day, a date, or a timestamp (UTC)."""
    millis = date_millis(value)
    kind = "time" if millis < 86_400_000 else "date" if millis % 86_400_000 == 0 else "timestamp"
    return DATE_FORMATS[kind].format(millis)


def append_text(out: list[str], value: Any, embedded: bool, schema: Schema | None = None) -> None:
    """Values.append: the text SimpleHeaderConverter writes for a value."""
    if value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, float):
        float32 = value.__class__ is not float or (schema is not None and schema.type == Type.FLOAT32)  # JavaFloat
        out.append(java_float(value) if float32 else java_double(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, decimal.Decimal):
        out.append(big_decimal_str(value))
    elif isinstance(value, str):
        out.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' if embedded else value)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text = base64.b64encode(bytes(value)).decode()
        out.append(f'"{text}"' if embedded else text)
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            append_text(out, v, True, schema.value_schema if schema is not None else None)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            if i:
                out.append(",")
            append_text(out, k, True, schema.key_schema if schema is not None else None)
            out.append(":")
            append_text(out, v, True, schema.value_schema if schema is not None else None)
        out.append("}")
    elif isinstance(value, Struct):
        out.append("{")
        for i, f in enumerate(value.schema.fields):
            if i:
                out.append(",")
            append_text(out, f.name, True)
            out.append(":")
            append_text(out, value.get(f.name), True, f.schema)
        out.append("}")
    elif isinstance(value, (dt.date, dt.time)):
        out.append(date_text(value))  # not quoted, even inside a list or map (Values.append)
    else:
        out.append(str(value))


def convert_to_string_bytes(schema: Schema | None, value: Any) -> bytes | None:
    """SimpleHeaderConverter.fromConnectHeader: Values.convertToString of the value, UTF-8; None for null."""
    if value is None:
        return None
    out: list[str] = []
    append_text(out, value, False, schema)
    return "".join(out).encode()
