"""Consumed RecordBatches -> ColumnBatches (one per topic) for sink tasks that write columns (SinkTask.put_columns).

Split in two so that the parse runs on the other core: `plan` runs on the event loop and learns, from each topic's
first record, the column reader of its key and value (JsonConverter envelopes: converters/json/columns;
AvroConverter records of one schema id: converters/avro_columns; ProtobufConverter records of one flat message:
converters/protobuf_columns; StringConverter keys);
`read` is pure and runs in a worker thread (pyarrow and polars release the GIL while they parse; it also joins the
batches' columns, which the event loop then need not do). Either returns None when the batch has no column form that
gives exactly what record-by-record conversion gives; the runner then converts it as before. Set
MINICONNECT_SINK_COLUMNS=0 in the worker's environment to turn the column path off.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..converters.base import Converter
from ..converters.json import JsonConverter
from ..converters.string import StringConverter
from ..data.columns import ColumnBatch, ColumnsRefused
from ..data.schema import Schema, Type
from ..schema_registry.pending import SchemaNotCached
from ..transport.base import RecordBatch
from .runner import no_keys


def columns_enabled() -> bool:
    return os.environ.get("MINICONNECT_SINK_COLUMNS", "1").strip().lower() not in ("0", "false", "off", "no")


class _StringColumn:
    """StringConverter data as one column "k": the values to_connect_data gives (it needs no state)."""

    def __init__(self, converter: StringConverter, topic: str):
        self.converter, self.topic = converter, topic
        self.schema: Schema | None = converter.to_connect_data(topic, b"")[0]

    def read(self, datas: Sequence[Any]) -> Any:
        import pyarrow as pa

        to = self.converter.to_connect_data
        return pa.table({"k": pa.array([to(self.topic, d)[1] for d in datas], pa.string())})


class _Unit:
    """One topic's records of a put(): its RecordBatches and the readers of their keys and values. The batches'
    columns are joined in `read`, off the event loop."""

    __slots__ = ("batches", "key_reader", "topic", "value_reader")

    def __init__(self, topic: str):
        self.topic = topic
        self.batches: list[RecordBatch] = []
        self.key_reader: Any = None
        self.value_reader: Any = None

    def column(self, name: str) -> list[Any]:
        out: list[Any] = []
        for batch in self.batches:
            out += getattr(batch, name)
        return out


class ColumnConverter:
    """The key and value converters of a sink task, reading batches as columns where they can."""

    def __init__(self, key_converter: Converter, value_converter: Converter):
        self.key_converter, self.value_converter = key_converter, value_converter

    def plan(self, raw: list[RecordBatch]) -> list[_Unit] | None:
        """On the event loop: the batch grouped by topic, with the reader of each topic's keys and values."""
        units: dict[str, _Unit] = {}
        for batch in raw:
            if batch.offsets:
                unit = units.get(batch.topic)
                if unit is None:
                    unit = units[batch.topic] = _Unit(batch.topic)
                unit.batches.append(batch)
        for unit in units.values():
            unit.value_reader = self._reader(self.value_converter, unit.topic, unit.batches[0].values[0])
            if unit.value_reader is None or unit.value_reader.schema.type is not Type.STRUCT:
                return None
            keyed = [b for b in unit.batches if not no_keys(b.keys)]
            if keyed:
                first = next(k for b in keyed for k in b.keys if k)
                unit.key_reader = self._reader(self.key_converter, unit.topic, first)
                if unit.key_reader is None:
                    return None
        return list(units.values())

    @staticmethod
    def _reader(converter: Converter, topic: str, first: bytes | None) -> Any:
        if type(converter) is StringConverter:  # a subclass may convert otherwise
            return _StringColumn(converter, topic)
        if type(converter) is JsonConverter and first is not None:
            return converter.column_reader(topic, first)
        if type(converter).__name__ in ("AvroConverter", "ProtobufConverter") and first is not None:
            from ..converters.avro import AvroConverter  # imported already: the converter is one of them
            from ..converters.protobuf import ProtobufConverter

            if type(converter) in (AvroConverter, ProtobufConverter):
                try:
                    return converter.column_reader(topic, first)  # type: ignore[attr-defined]
                except SchemaNotCached:  # this batch goes record by record: the runner asks the registry off
                    return None  # the loop, and the next batch finds the schema cached
        return None

    @staticmethod
    def read(units: list[_Unit]) -> list[ColumnBatch] | None:
        """Pure, for a worker thread: the units' ColumnBatches, or None if any record has no column form."""
        out = []
        try:
            for u in units:
                values = u.value_reader.read(u.column("values"))
                keys = u.key_reader.read(u.column("keys")) if u.key_reader is not None else None
                key_schema = u.key_reader.schema if u.key_reader is not None else None
                partitions: list[int] = []
                for batch in u.batches:
                    partitions += [batch.partition] * len(batch)
                offsets, timestamps = u.column("offsets"), u.column("timestamps")
                out.append(
                    ColumnBatch(
                        u.topic, partitions, offsets, timestamps, key_schema, keys, u.value_reader.schema, values
                    )
                )
        except ColumnsRefused:
            return None
        return out
