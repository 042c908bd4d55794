"""ColumnBatch: consumed records of one topic as columns (Arrow tables), what a sink task that writes columns gets
instead of a SinkRecord per record (see SinkTask.put_columns); and the Arrow forms of Connect's logical values that
the converters' column readers share. pyarrow is imported on first use."""

from __future__ import annotations

from typing import Any

from .schema import Schema

# Python's datetime/date span (years 1-9999), which to_connect_data's Date and Timestamp values must fit in
_MIN_DAYS, _MAX_DAYS = -719_162, 2_932_896
_MIN_MILLIS, _MAX_MILLIS = _MIN_DAYS * 86_400_000, (_MAX_DAYS + 1) * 86_400_000 - 1
_DAY_MILLIS = 86_400_000


class ColumnsRefused(Exception):
    """The batch cannot be read as columns with the same result as record by record."""


class ColumnBatch:
    """Records of one topic, in the order read (each partition's in offset order). `values` is a pyarrow Table, one
    column per field of `value_schema` (a struct); `keys` a Table of the key schema's fields (one column "k" for a
    primitive key schema), or None when every key is null."""

    __slots__ = ("key_schema", "keys", "offsets", "partitions", "timestamps", "topic", "value_schema", "values")

    def __init__(
        self,
        topic: str,
        partitions: list[int],
        offsets: list[int],
        timestamps: list[int],
        key_schema: Schema | None,
        keys: Any,
        value_schema: Schema,
        values: Any,
    ):
        self.topic, self.partitions, self.offsets, self.timestamps = topic, partitions, offsets, timestamps
        self.key_schema, self.keys, self.value_schema, self.values = key_schema, keys, value_schema, values

    def __len__(self) -> int:
        return len(self.offsets)

    def __repr__(self) -> str:
        return f"ColumnBatch({self.topic!r}, {len(self)} records)"


def temporal_column(kind: str, col: Any) -> Any:
    """Integers (days, or milliseconds) as the Arrow column of Connect's Date, Time or Timestamp (`kind`: "date",
    "time", "timestamp"): date32, time32[ms], timestamp[ms, UTC]; ColumnsRefused where a value has no Python
    date, time or datetime (what the record path would fail on)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lo, hi, target = {
        "date": (_MIN_DAYS, _MAX_DAYS, pa.date32()),
        "time": (0, _DAY_MILLIS - 1, pa.time32("ms")),
        "timestamp": (_MIN_MILLIS, _MAX_MILLIS, pa.timestamp("ms", tz="UTC")),
    }[kind]
    bounds = pc.min_max(col).as_py()
    if bounds["min"] is not None and (bounds["min"] < lo or bounds["max"] > hi):
        raise ColumnsRefused(f"{kind} out of range")
    return col.cast(pa.int32() if kind != "timestamp" else pa.int64()).view(target)


def decimal_column(values: list[Any], scale: int) -> Any:
    """Decimals (None for null) as an Arrow decimal128/256 column of the scale."""
    import pyarrow as pa

    digits = max((len(v.as_tuple().digits) for v in values if v is not None), default=1)
    precision = max(digits, scale, 1)
    if precision > 76 or scale < 0:
        raise ColumnsRefused("decimal beyond Arrow's decimal256")
    try:
        return pa.array(values, pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise ColumnsRefused("decimal") from None
