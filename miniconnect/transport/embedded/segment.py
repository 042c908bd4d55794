"""One partition on disk: append-only segment files of CRC-checked record batches.

Batch layout (big endian):
    length u32 (bytes after this field) | crc u32 (of everything after it) | base_offset i64 | count u32 |
    max_timestamp i64 | records...
Record: timestamp i64 | key_len i32 (-1: null) | value_len i32 (-1: null) | header_count u16 | key | value |
    headers (name_len u16, name utf-8, value_len i32 (-1: null), value)*
Offsets are implicit (base_offset + index), so they stay dense. A batch is visible once all its bytes are
in the file; a writer appends under an exclusive flock of the partition so other processes can append too.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import threading
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import countOf, itemgetter

from ...data.value_column import ValueColumn
from ...errors import ConnectError
from ...files import fsync_dir
from ..base import ConsumerRecord, ProducerRecord, RecordBatch
from .batch import _CRC_TAIL, _HKEY, _HVAL, BATCH, BATCH_SIZE, REC, REC_DTYPE, REC_SIZE, crc32
from .recovery import Damage, check_partition, repair

INDEX_INTERVAL = 4096  # bytes between sparse index entries (like Kafka's index.interval.bytes)
READ_CHUNK = 1 << 20
_KEY, _VALUE, _TIMESTAMP, _HEADERS = itemgetter(1), itemgetter(2), itemgetter(4), itemgetter(5)  # of a ProducerRecord
_TS_KEY, _VALUE_HC = struct.Struct(">qi"), struct.Struct(">iH")  # REC in two parts
SCAN_CHUNK = 4 << 20
HEADERS_CHUNK = 16 << 10  # a scan without CRC checks reads this much from each batch on (small batches: many)


class CorruptLog(ConnectError):
    """A batch failed its CRC check where the log should be intact."""


def encode_records(records: Sequence[ProducerRecord], now_ms: int) -> tuple[bytes, int]:
    """The records' body of a batch and its max timestamp."""
    if not records:
        return b"", -1
    encoded = _encode_columns(records, now_ms)
    return encoded if encoded is not None else _encode_rows(records, now_ms)


def _encode_columns(records: Sequence[ProducerRecord], now_ms: int) -> tuple[bytes, int] | None:
    """The body from the batch's columns, without Python code per record, for the usual batch (no headers, no
    tombstones, every key or none, every timestamp or none); None for other batches. The same bytes as
    _encode_rows."""
    n = len(records)
    if any(map(_HEADERS, records)):
        return None
    values = list(map(_VALUE, records))
    if not all(values) and countOf(values, None):  # all(): the cheap look, true without empty values
        return None
    no_keys = countOf(map(_KEY, records), None)
    no_ts = countOf(map(_TIMESTAMP, records), None)
    if no_keys == n and no_ts == n:  # a source's batch: one prefix for every record
        parts = [_TS_KEY.pack(now_ms, -1)] * (3 * n)
        parts[1::3] = list(map(_VALUE_HC.pack, map(len, values), repeat(0)))
        parts[2::3] = values
        return b"".join(parts), max(now_ms, -1)  # slices of a list join faster than chained iterators
    if no_keys == n:
        key_lens: Iterable[int] = repeat(-1)
        keys: list[bytes | None] = []
    elif no_keys == 0:
        keys = list(map(_KEY, records))
        key_lens = map(len, keys)  # type: ignore[arg-type]
    else:
        return None
    if no_ts == n:
        ts: Iterable[int] = repeat(now_ms)
        max_ts = now_ms
    elif no_ts == 0:
        ts = list(map(_TIMESTAMP, records))
        max_ts = max(ts)
    else:
        return None
    heads = list(map(REC.pack, ts, key_lens, map(len, values), repeat(0)))
    if not keys:
        parts = [b""] * (2 * n)
        parts[0::2], parts[1::2] = heads, values
    else:
        parts = [b""] * (3 * n)
        parts[0::3], parts[1::3], parts[2::3] = heads, keys, values
    return b"".join(parts), max(max_ts, -1)


def encode_value_column(values: ValueColumn, now_ms: int) -> memoryview:
    """The body of a batch of keyless, headerless records of these values, all stamped now_ms (encode_records'
    bytes), framed by Arrow without a Python object per record: each record's REC header joined to its value."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    offsets, _ = values.offsets_and_data()
    n = len(values)
    heads = np.empty(n, dtype=REC_DTYPE)
    heads["ts"], heads["kl"], heads["vl"], heads["hc"] = now_ms, -1, np.diff(offsets), 0
    prefixes = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(np.arange(0, REC_SIZE * (n + 1), REC_SIZE)), pa.py_buffer(heads)]
    )
    empty = pa.scalar(b"", pa.large_binary())
    framed = ValueColumn(pc.binary_join_element_wise(prefixes, values.array, empty, empty))
    record_offsets, data = framed.offsets_and_data()
    return memoryview(data).cast("B")[record_offsets[0] : record_offsets[-1]]


def _encode_rows(records: Sequence[ProducerRecord], now_ms: int) -> tuple[bytes, int]:
    """encode_records for any batch, record by record."""
    parts: list[bytes] = []
    append = parts.append
    pack = REC.pack
    max_ts = -1
    for r in records:
        ts = r.timestamp
        if ts is None:
            ts = now_ms
        if ts > max_ts:
            max_ts = ts
        k = r.key
        v = r.value
        h = r.headers
        if h:
            append(pack(ts, -1 if k is None else len(k), -1 if v is None else len(v), len(h)))
        else:
            append(pack(ts, -1 if k is None else len(k), -1 if v is None else len(v), 0))
        if k:
            append(k)
        if v:
            append(v)
        if h:
            for name, hv in h:
                nb = name.encode()
                append(_HKEY.pack(len(nb)))
                append(nb)
                if hv is None:
                    append(_HVAL.pack(-1))
                else:
                    append(_HVAL.pack(len(hv)))
                    append(hv)
    return b"".join(parts), max_ts


class ReadColumns:
    """Records read from one partition, from offset `first` on (offsets are dense), as RecordBatch columns."""

    __slots__ = ("first", "headers", "keys", "timestamps", "values")

    def __init__(self, first: int):
        self.first = first
        self.timestamps: list[int] = []
        self.keys: list[bytes | None] = []
        self.values: list[bytes | None] = []
        self.headers: list[Sequence[tuple[str, bytes | None]]] = []

    def __len__(self) -> int:
        return len(self.values)

    @property
    def next_offset(self) -> int:
        return self.first + len(self.values)

    def batch(self, topic: str, partition: int) -> RecordBatch:
        first = self.first
        return RecordBatch(
            topic,
            partition,
            list(range(first, first + len(self.values))),
            self.timestamps,
            self.keys,
            self.values,
            self.headers,
            "CreateTime",
        )


def _decode_into(cols: ReadColumns, buf: bytes, p: int, end: int, offset: int, first: int, limit: int) -> int:
    """Appends the records of one batch body buf[p:end] (offsets from `offset`) that are >= first, at most
    `limit` of them, to the columns; returns the number appended. The per-record hot path of every read."""
    unpack = REC.unpack_from
    add_ts, add_key, add_value, add_headers = (
        cols.timestamps.append,
        cols.keys.append,
        cols.values.append,
        cols.headers.append,
    )
    if offset < first:  # skip what was read already: walk the lengths only
        while p < end and offset < first:
            _, kl, vl, hc = unpack(buf, p)
            p += REC_SIZE + max(kl, 0) + max(vl, 0)
            for _ in range(hc):
                (nl,) = _HKEY.unpack_from(buf, p)
                p += 2 + nl
                (hl,) = _HVAL.unpack_from(buf, p)
                p += 4 + max(hl, 0)
            offset += 1
    n = 0
    while p < end and n < limit:  # records without key and headers (a source's): two columns to fill
        ts, kl, vl, hc = unpack(buf, p)
        if kl >= 0 or hc:
            break
        p += REC_SIZE
        if vl >= 0:
            add_value(buf[p : p + vl])
            p += vl
        else:
            add_value(None)
        add_ts(ts)
        n += 1
    cols.keys.extend(repeat(None, n))
    cols.headers.extend(repeat((), n))
    while p < end and n < limit:
        ts, kl, vl, hc = unpack(buf, p)
        p += REC_SIZE
        if kl >= 0:
            add_key(buf[p : p + kl])
            p += kl
        else:
            add_key(None)
        if vl >= 0:
            add_value(buf[p : p + vl])
            p += vl
        else:
            add_value(None)
        if hc:
            headers = []
            for _ in range(hc):
                (nl,) = _HKEY.unpack_from(buf, p)
                p += 2
                name = buf[p : p + nl].decode()
                p += nl
                (hl,) = _HVAL.unpack_from(buf, p)
                p += 4
                if hl >= 0:
                    headers.append((name, buf[p : p + hl]))
                    p += hl
                else:
                    headers.append((name, None))
            add_headers(headers)
        else:
            add_headers(())
        add_ts(ts)
        n += 1
    return n


class Segment:
    """One file of a partition, starting at `base`. `size` and `next_offset` cover complete batches only."""

    __slots__ = (
        "_guard",
        "_idx_off",
        "_idx_pos",
        "_last_idx",
        "_rbuf",
        "_rbuf_pos",
        "_syncing",
        "base",
        "closed",
        "fd",
        "max_ts",
        "next_offset",
        "path",
        "size",
    )

    def __init__(self, directory: str, base: int, create: bool = False):
        self.base = base
        self.path = os.path.join(directory, f"{base:020d}.log")
        flags = os.O_RDWR | os.O_APPEND | (os.O_CREAT if create else 0)
        self.fd = os.open(self.path, flags, 0o644)
        self.size = 0
        self.next_offset = base
        self.max_ts = -1
        self._idx_off: list[int] = []
        self._idx_pos: list[int] = []
        self._last_idx = -INDEX_INTERVAL
        self.closed = False
        self._guard = threading.Lock()  # the descriptor's life against fsync() in another thread
        self._syncing = 0
        self._rbuf = b""
        self._rbuf_pos = 0

    def _indexed(self, base: int, pos: int) -> None:
        if pos - self._last_idx >= INDEX_INTERVAL:
            self._idx_pos.append(pos)  # before the offset: a reader in another thread bisects _idx_off
            self._idx_off.append(base)
            self._last_idx = pos

    def scan(self, validate: bool) -> bool:
        """Extends the view over complete batches found after `size`. Returns False when the bytes after the
        last good batch are not a good batch: a torn tail (or, unlocked, a batch still being written)."""
        end = os.fstat(self.fd).st_size
        pos = self.size
        chunk = SCAN_CHUNK if validate else HEADERS_CHUNK
        while pos < end:
            buf = os.pread(self.fd, min(chunk, end - pos), pos)
            p = 0
            n = len(buf)
            while p + BATCH_SIZE <= n:
                length, crc, base, count, max_ts = BATCH.unpack_from(buf, p)
                total = 4 + length
                if length < BATCH_SIZE - 4 or base != self.next_offset:
                    return False
                if not validate:  # the header is all it needs: the next pread starts at the next batch
                    if pos + p + total > end:
                        return False
                elif p + total > n:
                    if p == 0:
                        if pos + total > end:
                            return False
                        buf = os.pread(self.fd, total, pos)  # one batch larger than the chunk
                        n = len(buf)
                        continue
                    break
                if validate and crc32(memoryview(buf)[p + 8 : p + total]) != crc:
                    return False
                self._indexed(base, pos + p)
                p += total
                self.size = pos + p  # before next_offset: a reader that sees the offset finds the bytes
                self.next_offset = base + count
                if max_ts > self.max_ts:
                    self.max_ts = max_ts
            if p == 0:
                return False  # fewer bytes than a batch header: torn or in flight
            pos += p
        return True

    def append(self, body: bytes | memoryview, count: int, max_ts: int) -> int:
        """Writes one batch (caller holds the partition lock and has refreshed); returns its base offset."""
        base = self.next_offset
        crc = crc32(body, crc32(_CRC_TAIL.pack(base, count, max_ts)))
        header = BATCH.pack(BATCH_SIZE - 4 + len(body), crc, base, count, max_ts)
        total = BATCH_SIZE + len(body)
        try:
            written = os.writev(self.fd, (header, body))
        except OSError:
            os.ftruncate(self.fd, self.size)  # nothing of a failed batch stays: the next append starts clean
            raise
        if written != total:  # a short write to a regular file means the disk is full: undo it
            os.ftruncate(self.fd, self.size)
            raise OSError(errno.ENOSPC, f"No space left on device (short write to {self.path})")
        self._indexed(base, self.size)
        self.size += total
        self.next_offset = base + count
        if max_ts > self.max_ts:
            self.max_ts = max_ts
        return base

    def read_into(self, cols: ReadColumns, first: int, limit: int, max_bytes: int) -> int:
        """Appends records with offset >= first (at most `limit`); returns how many. Reads go through a chunk
        buffer kept between calls, so a consumer polling 500 records at a time costs one pread per chunk."""
        i = bisect_right(self._idx_off, first) - 1
        pos = self._idx_pos[i] if i >= 0 else 0
        end = self.size
        got = 0
        scanned = 0
        buf, bpos = self._rbuf, self._rbuf_pos
        while pos < end and got < limit and scanned < max_bytes:
            p = pos - bpos
            if p < 0 or p + BATCH_SIZE > len(buf):
                buf, bpos, p = os.pread(self.fd, min(READ_CHUNK, end - pos), pos), pos, 0
            length, crc, base, count, _ = BATCH.unpack_from(buf, p)
            total = 4 + length
            if p + total > len(buf):  # the batch continues past the buffer
                buf, bpos, p = os.pread(self.fd, max(total, min(READ_CHUNK, end - pos)), pos), pos, 0
            if base + count > first:
                if crc32(memoryview(buf)[p + 8 : p + total]) != crc:
                    raise CorruptLog(f"CRC mismatch in {self.path} at byte {pos} (offset {base})")
                got += _decode_into(cols, buf, p + BATCH_SIZE, p + total, base, first, limit - got)
            pos += total
            scanned += total
        self._rbuf, self._rbuf_pos = buf, bpos
        return got

    def truncate_tail(self) -> None:
        os.ftruncate(self.fd, self.size)
        os.fsync(self.fd)

    def fsync(self) -> None:
        """Any thread. A close() meanwhile (retention, on the event loop) leaves the descriptor to this call to
        close, so the fsync never meets a closed or reused descriptor; a segment closed before is skipped (it
        was deleted, or the log stopped after its last fsync round)."""
        with self._guard:
            if self.closed:
                return
            self._syncing += 1
        try:
            os.fdatasync(self.fd)  # data and file size; an mtime update is not worth a journal write
        finally:
            with self._guard:
                self._syncing -= 1
                last = self.closed and not self._syncing
            if last:
                os.close(self.fd)

    def close(self) -> None:
        """Closes the file now, or when the fsync in flight ends: the caller never waits for one."""
        with self._guard:
            if self.closed:
                return
            self.closed = True
            if self._syncing:
                return
        os.close(self.fd)


class PartitionLog:
    """The segments of one partition, shared by every producer and consumer of this process.

    Appends run in the log's writer thread (EmbeddedLog.append), reads on the event loop. What changes the
    partition's state (append, refresh, retention) holds `_mutex`; reads take no lock: they see the segment list
    and its bases as one tuple that is replaced, never changed in place, a segment's size before its next offset,
    and segments dropped by an append stay open until the event loop closes them (`_close_retired`)."""

    def __init__(
        self,
        directory: str,
        topic: str,
        partition: int,
        segment_bytes: int,
        retention_bytes: int | None,
        retention_ms: int | None,
    ):
        self.dir = directory
        self.topic = topic
        self.partition = partition
        self.segment_bytes = segment_bytes
        self.retention_bytes = retention_bytes
        self.retention_ms = retention_ms
        os.makedirs(directory, exist_ok=True)
        self._lock_fd = os.open(os.path.join(directory, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        self._mutex = threading.Lock()
        self._view: tuple[list[Segment], list[int]] = ([], [])  # the segments and their base offsets
        self._names: list[str] = []
        self._retired: list[Segment] = []
        self.closed = False
        with self.locked():
            self.damage = self._recover()
            self._sync_segments(locked=True, recovered=True)

    @property
    def segments(self) -> list[Segment]:
        return self._view[0]

    def _set_segments(self, segs: list[Segment]) -> None:
        self._view = (segs, [s.base for s in segs])

    def _retire(self, seg: Segment) -> None:
        self._retired.append(seg)

    def _close_retired(self) -> None:
        """Closes the segments the writer thread dropped (event loop only, where reads run)."""
        retired = self._retired
        while retired:
            retired.pop().close()

    def _recover(self) -> Damage | None:
        """Checks every batch of the partition once per process, as Kafka's log recovery does after an unclean
        stop (a process cannot tell whether another one stopped cleanly), and cuts the log at the first bad one."""
        _, damage = check_partition(self.dir)
        if damage is not None:
            repair(self.dir, self.topic, self.partition, damage)
        return damage

    # -- locking and syncing with other processes --------------------------------------------------------------

    def locked(self) -> _Flock:
        return _Flock(self._lock_fd)

    def _sync_segments(self, locked: bool, recovered: bool = False) -> None:
        """Brings the segment list and the active segment's size up to date with the files on disk.
        Holding the lock, a torn tail (a writer crashed mid-batch) is cut off. `recovered`: recovery has just
        checked every batch under this lock, so their CRCs are not computed a second time."""
        names = sorted(n for n in os.listdir(self.dir) if n.endswith(".log"))
        current = self.segments
        if names != self._names or not current:
            known = {s.base: s for s in current}
            segs = []
            for name in names:
                base = int(name[:-4])
                seg = known.pop(base, None)
                if seg is None:
                    try:
                        seg = Segment(self.dir, base)
                    except FileNotFoundError:  # deleted by retention in another process meanwhile
                        continue
                segs.append(seg)
            for seg in known.values():
                self._retire(seg)
            for seg in segs[:-1]:
                seg.scan(validate=False)  # older segments are complete (rolled after an fsync)
            if not segs:
                if not locked:
                    self._names = []
                    return
                segs = [Segment(self.dir, current[-1].next_offset if current else 0, create=True)]
                fsync_dir(self.dir)
                names = [os.path.basename(segs[0].path)]
            self._set_segments(segs)
            self._names = names
        segs = self.segments
        if segs:
            active = segs[-1]
            if not active.scan(validate=locked and not recovered) and locked:
                active.truncate_tail()

    def _sync_for_append(self) -> None:
        """The cheap form of _sync_segments for the hot path (lock held): batches another process appended to
        the active segment, and a full resync only when a segment starting at its end exists (it rolled)."""
        segs = self.segments
        if not segs:
            self._sync_segments(locked=True)
            return
        active = segs[-1]
        if not active.scan(validate=True):
            active.truncate_tail()
        if active.next_offset != active.base and os.path.exists(
            os.path.join(self.dir, f"{active.next_offset:020d}.log")
        ):
            self._sync_segments(locked=True)

    def refresh(self) -> None:
        """Notices batches and segments written by other processes (unlocked: complete batches only)."""
        with self._mutex:
            self._sync_segments(locked=False)
        self._close_retired()

    # -- positions ----------------------------------------------------------------------------------------------

    @property
    def log_start(self) -> int:
        segs = self.segments
        return segs[0].base if segs else 0

    @property
    def end(self) -> int:
        segs = self.segments
        return segs[-1].next_offset if segs else 0

    # -- append -------------------------------------------------------------------------------------------------

    def append_records(self, records: Sequence[ProducerRecord] | ValueColumn, now_ms: int) -> tuple[int, Segment]:
        """Encodes and appends one batch of records, or of keyless records of a ValueColumn's values (the writer
        thread's whole job for them)."""
        if type(records) is ValueColumn:
            return self.append(encode_value_column(records, now_ms), len(records), now_ms, now_ms)
        body, max_ts = encode_records(records, now_ms)  # type: ignore[arg-type]
        return self.append(body, len(records), max_ts, now_ms)

    def append(self, body: bytes | memoryview, count: int, max_ts: int, now_ms: int) -> tuple[int, Segment]:
        """Appends one batch; returns its base offset and the segment to fsync. Runs in the writer thread."""
        with self._mutex, self.locked():
            self._sync_for_append()
            active = self.segments[-1]
            if active.size >= self.segment_bytes:
                active = self._roll()
            base = active.append(body, count, max_ts)
            if self.retention_bytes is not None or self.retention_ms is not None:
                self._enforce_retention(now_ms)
            return base, active

    def _roll(self) -> Segment:
        old = self.segments[-1]
        old.fsync()  # older segments are trusted without a CRC scan on open
        seg = Segment(self.dir, old.next_offset, create=True)
        fsync_dir(self.dir)
        self._set_segments([*self.segments, seg])
        self._names = [*self._names, os.path.basename(seg.path)]
        return seg

    # -- retention ----------------------------------------------------------------------------------------------

    def enforce_retention(self, now_ms: int) -> int:
        """Deletes whole old segments beyond the size or age bound; returns how many. Runs in the writer thread
        (it may roll and fsync, and waits for an append in progress): the event loop closes the deleted
        segments afterwards (`_close_retired`)."""
        if self.retention_bytes is None and self.retention_ms is None:
            return 0
        with self._mutex, self.locked():
            self._sync_segments(locked=True)
            return self._enforce_retention(now_ms)

    def _enforce_retention(self, now_ms: int) -> int:
        deleted = 0
        if self.retention_ms is not None:
            cutoff = now_ms - self.retention_ms
            while self.segments and self.segments[0].size and self.segments[0].max_ts < cutoff:
                if len(self.segments) == 1:
                    self._roll()  # every record is expired: start an empty segment, as Kafka rolls
                self._delete_oldest()
                deleted += 1
        if self.retention_bytes is not None:
            segs = self.segments
            total = sum(s.size for s in segs)
            while len(segs) > 1 and total - segs[0].size >= self.retention_bytes:
                total -= segs[0].size
                self._delete_oldest()
                segs = self.segments
                deleted += 1
        return deleted

    def _delete_oldest(self) -> None:
        seg = self.segments[0]
        self._set_segments(self.segments[1:])
        self._names = self._names[1:]
        os.unlink(seg.path)
        self._retire(seg)

    # -- read ---------------------------------------------------------------------------------------------------

    def read(self, offset: int, max_records: int, max_bytes: int = READ_CHUNK) -> list[ConsumerRecord]:
        """Records from `offset` (>= log_start) on, at most max_records, roughly at most max_bytes."""
        return self.read_columns(offset, max_records, max_bytes).batch(self.topic, self.partition).records()

    def read_columns(self, offset: int, max_records: int, max_bytes: int = READ_CHUNK) -> ReadColumns:
        """read(), as the columns of a RecordBatch."""
        if self._retired:
            self._close_retired()
        segs, bases = self._view
        if segs and offset < segs[0].base:  # retention in the writer thread went past it meanwhile
            offset = segs[0].base
        cols = ReadColumns(offset)
        i = max(bisect_right(bases, offset) - 1, 0)
        while i < len(segs) and len(cols) < max_records:
            seg = segs[i]
            if offset < seg.next_offset:
                try:
                    seg.read_into(cols, offset, max_records - len(cols), max_bytes)
                except CorruptLog as e:
                    raise CorruptLog(
                        f"Embedded log {self.topic}-{self.partition}: {e}; `miniconnect topics "
                        f"WORKER.properties verify {self.topic}` reports the damage, and the "
                        f"partition is cut there when the worker opens it next"
                    ) from None
                offset = cols.next_offset
                if offset < seg.next_offset:
                    break  # max_bytes reached inside this segment
            i += 1
        return cols

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._close_retired()
            for seg in self.segments:
                seg.close()
            os.close(self._lock_fd)


class _Flock:
    __slots__ = ("fd",)

    def __init__(self, fd: int):
        self.fd = fd

    def __enter__(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
