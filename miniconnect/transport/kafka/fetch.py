"""miniconnect RecordBatches straight from aiokafka's fetched record batches.

aiokafka hands records out one by one: a generator step, a Python call and a dataclass per record, which a sink then
copied into our ConsumerRecord. Here a fetched batch is decoded by aiokafka's C batch reader in one go and its
records' fields are copied into the columns of a RecordBatch with C-level maps, so no Python code runs per record,
and a sink runner builds its SinkRecords from those columns without a ConsumerRecord per record. The batch-level
rules (CRC check, control batches, aborted transactions under read_committed) are aiokafka's own, repeated from
PartitionRecords. The CRC-32C of v2 batches is checked with the `crc32c` package (SSE 4.2 / ARMv8 instructions,
~25 ns per 573-byte record) instead of aiokafka's table-driven code (~340 ns): the fetched bytes are kept beside
aiokafka's MemoryRecords.

install() replaces aiokafka's PartitionRecords and FetchResult.getall in the fetcher module; when aiokafka's
internals are not the ones this was written against it installs nothing, and KafkaConsumer converts records the
slow way (see `installed`).
"""

from __future__ import annotations

import sys
from itertools import repeat
from operator import attrgetter
from typing import Any

from crc32c import crc32c

from ..base import RecordBatch

try:
    import aiokafka.errors as _errors
    from aiokafka.consumer import fetcher as _fetcher
except ImportError:  # pragma: no cover - aiokafka is a dependency
    _fetcher = None

_LENGTH_AT, _CRC_FROM, _LOG_OVERHEAD = 8, 21, 12  # a v2 batch: length field, CRC-covered part, offset + length

TIMESTAMP_TYPES = ("CreateTime", "LogAppendTime")
NO_HEADERS: Any = ()  # the headers of every record without any
_OFFSET = attrgetter("offset")
_TIMESTAMP = attrgetter("timestamp")
_KEY = attrgetter("key")
_VALUE = attrgetter("value")
_HEADERS = attrgetter("headers")
_REQUIRED = ("PartitionRecords", "FetchResult", "READ_COMMITTED", "MemoryRecords")
_REQUIRED_RECORDS = ("_consume_aborted_up_to", "_contains_abort_marker")

installed = False


def _extend(batch: RecordBatch, chunk: list[Any], types: str | list[str]) -> None:
    """Appends aiokafka records (of one record batch, whose timestamp type is `types` or one per record)."""
    n = len(batch.offsets)
    batch.offsets += map(_OFFSET, chunk)
    batch.timestamps += map(_TIMESTAMP, chunk)
    batch.keys += map(_KEY, chunk)
    batch.values += map(_VALUE, chunk)
    headers = list(map(_HEADERS, chunk))
    # records without headers share one empty tuple (as consumer._stock_batch gives them): aiokafka's list per
    # record would live as long as the batch, a tracked object the cyclic GC walks over and over
    batch.headers += headers if any(headers) else repeat(NO_HEADERS, len(chunk))
    have = batch.timestamp_types
    if not n:
        batch.timestamp_types = types if types.__class__ is str else list(types)
    elif have.__class__ is not str or types != have:  # types that differ within one take: one per record
        if have.__class__ is str:
            batch.timestamp_types = have = [have] * n  # type: ignore[assignment]
        have += [types] * len(chunk) if types.__class__ is str else types  # type: ignore[operator]


def install() -> bool:
    """Puts the batch path in place (once per process); True when it is in use."""
    global installed
    if installed:
        return True
    if (
        _fetcher is None
        or not all(hasattr(_fetcher, n) for n in _REQUIRED)
        or not all(hasattr(_fetcher.PartitionRecords, n) for n in _REQUIRED_RECORDS)
        or not hasattr(_fetcher.FetchResult, "getall")
    ):
        return False
    stock_getall = _fetcher.FetchResult.getall
    base = _fetcher.PartitionRecords
    read_committed = _fetcher.READ_COMMITTED

    class KeptMemoryRecords(_fetcher.MemoryRecords):  # type: ignore[misc, name-defined]
        """aiokafka's MemoryRecords, keeping the fetched bytes for the CRC check."""

        def __init__(self, data: bytes):
            super().__init__(data)
            self.data = data

    class BatchPartitionRecords(base):  # type: ignore[misc, valid-type]
        """PartitionRecords that also hands out slices of whole batches (take)."""

        def __init__(self, tp: Any, *args: Any, **kwargs: Any):
            super().__init__(tp, *args, **kwargs)
            self._pending: list[Any] = []  # records of the current batch not handed out yet
            self._batch_end = 0  # next_offset of the current batch
            self._types: str | list[str] = ""  # the current batch's timestamp type, or one per record (v0/v1)
            self.plain = self._key_deserializer is None and self._value_deserializer is None
            data = getattr(self._records, "data", None)
            self._view = memoryview(data) if data.__class__ is bytes else None  # type: ignore[arg-type]
            self._pos = 0  # where the next batch starts in it
            # aiokafka's record generator holds self in a reference cycle until it is exhausted, and take() never
            # runs it: every fetched megabyte then waited for a full collection (a sink worker grew to 580 MB over
            # 1M records). It is made only if someone iterates these records the stock way.
            self._records_iterator = None
            self._lazy = True

        def __next__(self) -> Any:
            if self._lazy:
                self._lazy = False
                self._records_iterator = self._unpack_records()
            return super().__next__()

        def take(self, n: int) -> tuple[RecordBatch, bool]:
            """Up to n records from the fetch position on, and whether the fetched data is used up."""
            tp = self._tp
            out = RecordBatch(tp.topic, tp.partition, [], [], [], [], [], "")
            while True:
                pending, types = self._pending, self._types
                if pending:
                    need = n - len(out)
                    if need < len(pending):
                        chunk, self._pending = pending[:need], pending[need:]
                        if types.__class__ is list:
                            types, self._types = types[:need], types[need:]
                        self.next_fetch_offset = chunk[-1].offset + 1
                    else:
                        chunk, self._pending = pending, []
                        self.next_fetch_offset = self._batch_end
                    _extend(out, chunk, types)
                    if len(out) >= n:
                        return out, not self._pending and not self._records.has_next()
                if not self._load_batch():
                    return out, True

        def _crc_ok(self, batch: Any, start: int, end: int) -> bool:
            view = self._view
            if view is not None and getattr(batch, "magic", 0) >= 2:
                return crc32c(view[start + _CRC_FROM : end]) == batch.crc
            return batch.validate_crc()  # v0/v1 message sets, or records built without the fetched bytes

        def _load_batch(self) -> bool:
            """The next batch with data for this consumer into _pending; False at the end of the fetched data."""
            records = self._records
            view = self._view
            while records.has_next():
                batch = records.next_batch()
                start = self._pos
                if view is not None:  # where the batch ends in the fetched bytes: its length field says
                    self._pos += _LOG_OVERHEAD + int.from_bytes(view[start + _LENGTH_AT : start + _LOG_OVERHEAD], "big")
                if self._check_crcs and not self._crc_ok(batch, start, self._pos):
                    raise _errors.CorruptRecordException(f"Invalid CRC - {self._tp}")
                if self._isolation_level == read_committed and batch.producer_id is not None:
                    self._consume_aborted_up_to(batch.base_offset)
                    if batch.is_control_batch and self._contains_abort_marker(batch):
                        self._aborted_producers.discard(batch.producer_id)
                    if batch.is_transactional and batch.producer_id in self._aborted_producers:
                        self.next_fetch_offset = batch.next_offset
                        continue
                if batch.is_control_batch:
                    self.next_fetch_offset = batch.next_offset
                    continue
                recs = list(batch)
                first = self.next_fetch_offset
                if recs and recs[0].offset < first:  # a fetch from inside a batch, or a compressed v0/v1 set
                    recs = [r for r in recs if r.offset >= first]
                self._batch_end = batch.next_offset
                if not recs:  # all before the fetch position: skip the batch, never moving the position back
                    self.next_fetch_offset = max(first, batch.next_offset)
                    continue
                if getattr(batch, "magic", 0) >= 2:  # v0/v1 batches (LegacyRecordBatch) may not say
                    self._types = TIMESTAMP_TYPES[batch.timestamp_type]
                else:  # message format v0/v1: the type is per record (None in v0)
                    self._types = [TIMESTAMP_TYPES[r.timestamp_type or 0] for r in recs]
                self._pending = recs
                return True
            return False

    def getall(self: Any, max_records: int | None = None) -> list[Any] | RecordBatch:
        records = self._partition_records
        if records is None or not getattr(records, "plain", False):
            return stock_getall(self, max_records)
        if not self.check_assignment(self._topic_partition) or not self.has_more():
            return []
        out, used_up = records.take(max_records or sys.maxsize)
        self._update_position()
        if used_up:
            self._partition_records = None
        return out

    _fetcher.PartitionRecords = BatchPartitionRecords
    _fetcher.MemoryRecords = KeptMemoryRecords
    _fetcher.FetchResult.getall = getall
    installed = True
    return True
