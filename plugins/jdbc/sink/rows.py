"""Row values checked and converted for the driver, column by column, as a Plan's binding says."""

from __future__ import annotations

import datetime as dt
import decimal
from operator import itemgetter
from typing import Any

from miniconnect.data.schema import DATE, DECIMAL, TIME, TIMESTAMP, DataError, Type

_INT = (int,)
_NONE = type(None)
CLASSES: dict[Any, tuple[type, ...]] = {
    Type.INT8: _INT,
    Type.INT16: _INT,
    Type.INT32: _INT,
    Type.INT64: _INT,
    Type.FLOAT32: (float, int),
    Type.FLOAT64: (float, int),
    Type.BOOLEAN: (bool,),
    Type.STRING: (str,),
    Type.BYTES: (bytes, bytearray, memoryview),
    DECIMAL: (decimal.Decimal,),
    DATE: (dt.date,),
    TIME: (dt.time,),
    TIMESTAMP: (dt.datetime,),
}


def check_classes(rows: list[Any], checks: list[tuple[int, tuple[type, ...]]]) -> None:
    """A DataError naming the first value (in row order) whose class does not suit its column. The classes of each
    column are collected by C-level maps; only a batch with a wrong one is walked value by value."""
    for i, classes in checks:
        if any(
            k is not _NONE and k not in classes and not issubclass(k, classes)
            for k in set(map(type, map(itemgetter(i), rows)))
        ):
            break
    else:
        return
    for row in rows:
        for i, classes in checks:
            v = row[i]
            if v is not None and v.__class__ not in classes and not isinstance(v, classes):
                raise DataError(f"value {v!r} of class {type(v).__name__} in column {i + 1}")


def convert_rows(rows: list[Any], convs: list[tuple[int, Any, Any]]) -> list[Any]:
    out = []
    append = out.append
    for row in rows:
        row = list(row)
        for i, conv, default in convs:
            v = row[i]
            if v is None:
                row[i] = default
            elif conv is not None:
                row[i] = conv(v)
        append(row)
    return out
