"""ColumnBatch: consumed records of one topic as columns (Arrow tables), what a sink task that writes columns gets
instead of a SinkRecord per record (see SinkTask.put_columns)."""

from __future__ import annotations

from typing import Any

from .schema import Schema


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
