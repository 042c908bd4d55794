"""Kafka v2 record batches framed from a ValueColumn at once (numpy and Arrow, which release the GIL) instead of one
builder call per record: keyless, headerless records with offset deltas 0..n-1 per batch and one create timestamp,
split where aiokafka's builder splits, compressed if configured; the event loop only writes each header and its
CRC-32C when aiokafka's sender takes the batch (the producer state is known only then).

Record layout (Kafka's DefaultRecord, every varint zigzag-encoded): length, attributes 0, timestamp delta 0,
offset delta, key length -1, value length, value, header count 0. Tests compare the bytes with aiokafka's builder.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import crc32c

from ...data.value_column import ValueColumn

# DefaultRecordBatch's header: base offset, length, partition leader epoch, magic, CRC, attributes, last offset delta,
# first and max timestamp, producer id and epoch, base sequence, record count
HEADER = struct.Struct(">qiibIhiqqqhii")
CRC_OFFSET = 17
ATTRIBUTES_OFFSET = 21  # the CRC covers the batch from here on
LENGTH_OFFSET = 12
CODECS = {"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}  # attribute bits 0-2
_MIN_RECORD = 7  # a record of an empty value: length 1 + attributes, delta, offset, key, value length, headers
_MAX_VARINT = 5  # 32-bit lengths and deltas, zigzag-encoded


@dataclass
class RecordSet:
    """One batch's records after HEADER.size bytes left for its header; `size` the batch's bytes."""

    buffer: memoryview | bytearray
    count: int
    attributes: int
    timestamp: int
    claimed: bool = False

    @property
    def size(self) -> int:
        return len(self.buffer)

    def take(self) -> memoryview | bytearray:
        """The buffer for a batch to write its header into: this one the first time, a copy for a batch sent again
        (an earlier one may still hold the first)."""
        if self.claimed:
            return bytearray(self.buffer)
        self.claimed = True
        return self.buffer


def _varint_sizes(u: Any) -> Any:
    import numpy as np

    n = np.ones(len(u), dtype=np.int64)
    for k in range(1, _MAX_VARINT):
        n += u >= (1 << (7 * k))
    return n


def _varints(u: Any) -> tuple[Any, Any]:
    """Unsigned varints of `u` (already zigzag-encoded) as an (n, 5) byte matrix and the mask of the bytes used."""
    import numpy as np

    sizes = _varint_sizes(u)
    k = np.arange(_MAX_VARINT)
    groups = (u[:, None] >> (7 * k)) & 0x7F
    more = k[None, :] < (sizes - 1)[:, None]
    return (groups | (more.astype(np.int64) << 7)).astype(np.uint8), k[None, :] < sizes[:, None]


def _body_sizes(lengths: Any, deltas: Any) -> Any:
    """Bytes of each record after its length varint: four one-byte fields, offset delta, value length, value."""
    return 4 + _varint_sizes(2 * deltas) + _varint_sizes(2 * lengths) + lengths


def _batch_starts(lengths: Any, batch_size: int) -> list[int]:
    """Where each batch starts (and len at the end): a record joins the batch while the batch stays below
    batch_size, the first always (the append of aiokafka's C DefaultRecordBatchBuilder, which its producer uses)."""
    import numpy as np

    n, start, starts = len(lengths), 0, [0]
    most = batch_size // _MIN_RECORD + 1  # no batch holds more records
    window = 1024  # records looked at for the next batch: doubled while they all fit, so the work stays linear
    while start < n:
        while True:
            part = lengths[start : start + window]
            body = _body_sizes(part, np.arange(len(part), dtype=np.int64))
            total = HEADER.size + np.cumsum(_varint_sizes(2 * body) + body)
            fit = int(np.searchsorted(total, batch_size, side="left"))
            if fit < len(part) or start + len(part) >= n or window >= most:
                break
            window *= 2
        start += max(1, fit)
        starts.append(start)
    return starts


def _prefixes(lengths: Any, deltas: Any) -> Any:
    """Each record's bytes before its value, as a pyarrow large_binary array; a batch's first record's start with
    room for the batch header, so that each batch lies in one piece of the framed buffer."""
    import numpy as np
    import pyarrow as pa

    n = len(lengths)
    body = _body_sizes(lengths, deltas)
    record_len, record_len_used = _varints(2 * body)
    delta, delta_used = _varints(2 * deltas)
    value_len, value_len_used = _varints(2 * lengths)
    header = np.zeros((n, HEADER.size), dtype=np.uint8)
    fixed = np.zeros((n, 2), dtype=np.uint8)  # attributes, timestamp delta
    null_key = np.ones((n, 1), dtype=np.uint8)  # zigzag(-1)
    matrix = np.concatenate([header, record_len, fixed, delta, null_key, value_len], axis=1)
    used = np.concatenate(
        [
            np.broadcast_to((deltas == 0)[:, None], (n, HEADER.size)),
            record_len_used,
            np.ones((n, 2), dtype=bool),
            delta_used,
            np.ones((n, 1), dtype=bool),
            value_len_used,
        ],
        axis=1,
    )
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(used.sum(axis=1), out=offsets[1:])
    data = matrix[used]  # row by row: each record's bytes in order
    return pa.Array.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def record_sets(values: ValueColumn, batch_size: int, compression: str | None, timestamp_ms: int) -> list[RecordSet]:
    """The values as keyless, headerless records in batches below batch_size bytes (uncompressed, as aiokafka
    counts), each compressed if `compression` names a codec. Runs on a worker thread. Every record gets
    `timestamp_ms`, the time of sending: the values are EncodedRecords, which carry no timestamp, and WorkerSourceTask
    leaves a null one to the producer, which stamps it at send (records with their own take the record path)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(values):
        return []
    offsets, _ = values.offsets_and_data()
    lengths = np.diff(offsets)
    starts = _batch_starts(lengths, batch_size)
    bounds = np.asarray(starts, dtype=np.int64)
    deltas = np.arange(len(lengths), dtype=np.int64) - np.repeat(bounds[:-1], np.diff(bounds))
    empty = pa.scalar(b"", pa.large_binary())
    framed = ValueColumn(
        pc.binary_join_element_wise(
            _prefixes(lengths, deltas), values.array, pa.scalar(b"\x00", pa.large_binary()), empty
        )
    )
    record_offsets, data = framed.offsets_and_data()
    view = memoryview(data).cast("B")  # Arrow made this buffer for us alone: the headers are written into it
    out = []
    for start, end in pairwise(starts):
        batch: memoryview | bytearray = view[record_offsets[start] : record_offsets[end]]
        attributes = 0
        if compression:  # as aiokafka's C builder: compressed whatever the result's size
            compressed = _compress(compression, batch[HEADER.size :])  # type: ignore[index]
            batch, attributes = bytearray(HEADER.size) + compressed, CODECS[compression]
        out.append(RecordSet(batch, end - start, attributes, timestamp_ms))
    return out


def _compress(compression: str, data: memoryview) -> bytes:
    from aiokafka import codec

    encode = {
        "gzip": codec.gzip_encode,
        "snappy": codec.snappy_encode,
        "lz4": codec.lz4_encode,
        "zstd": codec.zstd_encode,
    }[compression]
    return bytes(encode(bytes(data)))


class PrebuiltBatch:
    """aiokafka's BatchBuilder interface over a RecordSet (what AIOKafkaProducer.send_batch and its accumulator and
    sender call): closed from the start; the accumulator sets the producer state, the sender builds it once."""

    def __init__(self, records: RecordSet):
        self._records = records
        self._state = (-1, -1, 0)  # no producer id, epoch, sequence: what aiokafka's BatchBuilder starts with
        self._buffer: memoryview | bytearray | None = None

    def append(self, **_: Any) -> None:
        return None  # full: aiokafka then starts a batch of its own

    def close(self) -> None:
        pass

    def closed(self) -> bool:
        return True

    def record_count(self) -> int:
        return self._records.count

    def size(self) -> int:
        return self._records.size

    def _set_producer_state(self, producer_id: int, producer_epoch: int, base_sequence: int) -> None:
        self._state = (producer_id, producer_epoch, base_sequence)

    def _build(self) -> memoryview | bytearray:
        if self._buffer is None:
            r = self._records
            buffer = r.take()
            HEADER.pack_into(
                buffer,
                0,
                0,  # base offset: the broker assigns it
                len(buffer) - LENGTH_OFFSET,
                -1,  # partition leader epoch
                2,  # magic
                0,  # the CRC, below
                r.attributes,
                r.count - 1,
                r.timestamp,
                r.timestamp,
                *self._state,
                r.count,
            )
            struct.pack_into(">I", buffer, CRC_OFFSET, crc32c.crc32c(memoryview(buffer)[ATTRIBUTES_OFFSET:]))
            self._buffer = buffer
        return self._buffer
