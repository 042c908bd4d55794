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
import zlib
from bisect import bisect_right
from collections.abc import Sequence

from ...errors import ConnectError
from ...files import fsync_dir
from ..base import ConsumerRecord, ProducerRecord, new_consumer_record
from .batch import _CRC_TAIL, _HKEY, _HVAL, BATCH, BATCH_SIZE, REC, REC_SIZE
from .recovery import Damage, check_partition, repair

INDEX_INTERVAL = 4096  # bytes between sparse index entries (like Kafka's index.interval.bytes)
READ_CHUNK = 1 << 20
SCAN_CHUNK = 4 << 20


class CorruptLog(ConnectError):
    """A batch failed its CRC check where the log should be intact."""


def encode_records(records: Sequence[ProducerRecord], now_ms: int) -> tuple[bytes, int]:
    """The records' body of a batch and its max timestamp."""
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


def _decode_into(
    out: list, topic: str, partition: int, buf: bytes, p: int, end: int, offset: int, first: int, limit: int
) -> int:
    """Appends the records of one batch body buf[p:end] (offsets from `offset`) that are >= first, at most
    `limit` of them; returns the number appended. The per-record hot path of every read."""
    unpack = REC.unpack_from
    append = out.append
    record = new_consumer_record
    n = 0
    while p < end:
        ts, kl, vl, hc = unpack(buf, p)
        p += REC_SIZE
        if kl >= 0:
            key = buf[p : p + kl]
            p += kl
        else:
            key = None
        if vl >= 0:
            value = buf[p : p + vl]
            p += vl
        else:
            value = None
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
        else:
            headers = ()
        if offset >= first:
            append(record((topic, partition, offset, ts, key, value, headers, "CreateTime")))
            n += 1
            if n >= limit:
                break
        offset += 1
    return n


class Segment:
    """One file of a partition, starting at `base`. `size` and `next_offset` cover complete batches only."""

    __slots__ = (
        "_idx_off",
        "_idx_pos",
        "_last_idx",
        "_rbuf",
        "_rbuf_pos",
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
        self._rbuf = b""
        self._rbuf_pos = 0

    def _indexed(self, base: int, pos: int) -> None:
        if pos - self._last_idx >= INDEX_INTERVAL:
            self._idx_off.append(base)
            self._idx_pos.append(pos)
            self._last_idx = pos

    def scan(self, validate: bool) -> bool:
        """Extends the view over complete batches found after `size`. Returns False when the bytes after the
        last good batch are not a good batch: a torn tail (or, unlocked, a batch still being written)."""
        end = os.fstat(self.fd).st_size
        pos = self.size
        while pos < end:
            buf = os.pread(self.fd, min(SCAN_CHUNK, end - pos), pos)
            p = 0
            n = len(buf)
            while p + BATCH_SIZE <= n:
                length, crc, base, count, max_ts = BATCH.unpack_from(buf, p)
                total = 4 + length
                if length < BATCH_SIZE - 4 or base != self.next_offset:
                    return False
                if p + total > n:
                    if p == 0:
                        if pos + total > end:
                            return False
                        buf = os.pread(self.fd, total, pos)  # one batch larger than the chunk
                        n = len(buf)
                        continue
                    break
                if validate and zlib.crc32(memoryview(buf)[p + 8 : p + total]) != crc:
                    return False
                self._indexed(base, pos + p)
                self.next_offset = base + count
                if max_ts > self.max_ts:
                    self.max_ts = max_ts
                p += total
                self.size = pos + p
            if p == 0:
                return False  # fewer bytes than a batch header: torn or in flight
            pos += p
        return True

    def append(self, body: bytes, count: int, max_ts: int) -> int:
        """Writes one batch (caller holds the partition lock and has refreshed); returns its base offset."""
        base = self.next_offset
        crc = zlib.crc32(body, zlib.crc32(_CRC_TAIL.pack(base, count, max_ts)))
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

    def read_into(self, out: list, topic: str, partition: int, first: int, limit: int, max_bytes: int) -> int:
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
                if zlib.crc32(memoryview(buf)[p + 8 : p + total]) != crc:
                    raise CorruptLog(f"CRC mismatch in {self.path} at byte {pos} (offset {base})")
                got += _decode_into(out, topic, partition, buf, p + BATCH_SIZE, p + total, base, first, limit - got)
            pos += total
            scanned += total
        self._rbuf, self._rbuf_pos = buf, bpos
        return got

    def truncate_tail(self) -> None:
        os.ftruncate(self.fd, self.size)
        os.fsync(self.fd)

    def fsync(self) -> None:
        if not self.closed:
            os.fdatasync(self.fd)  # data and file size; an mtime update is not worth a journal write

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)


class PartitionLog:
    """The segments of one partition, shared by every producer and consumer of this process."""

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
        self.segments: list[Segment] = []
        self._bases: list[int] = []
        self._names: list[str] = []
        self.closed = False
        with self.locked():
            self.damage = self._recover()
            self._sync_segments(locked=True)

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

    def _sync_segments(self, locked: bool) -> None:
        """Brings the segment list and the active segment's size up to date with the files on disk.
        Holding the lock, a torn tail (a writer crashed mid-batch) is cut off."""
        names = sorted(n for n in os.listdir(self.dir) if n.endswith(".log"))
        if names != self._names or not self.segments:
            known = {s.base: s for s in self.segments}
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
                seg.close()
            for seg in segs[:-1]:
                seg.scan(validate=False)  # older segments are complete (rolled after an fsync)
            if not segs:
                if not locked:
                    self._names = []
                    return
                segs = [Segment(self.dir, self.segments[-1].next_offset if self.segments else 0, create=True)]
                fsync_dir(self.dir)
                names = [os.path.basename(segs[0].path)]
            self.segments = segs
            self._bases = [s.base for s in segs]
            self._names = names
        if self.segments:
            active = self.segments[-1]
            if not active.scan(validate=locked) and locked:
                active.truncate_tail()

    def _sync_for_append(self) -> None:
        """The cheap form of _sync_segments for the hot path (lock held): batches another process appended to
        the active segment, and a full resync only when a segment starting at its end exists (it rolled)."""
        if not self.segments:
            self._sync_segments(locked=True)
            return
        active = self.segments[-1]
        if not active.scan(validate=True):
            active.truncate_tail()
        if active.next_offset != active.base and os.path.exists(
            os.path.join(self.dir, f"{active.next_offset:020d}.log")
        ):
            self._sync_segments(locked=True)

    def refresh(self) -> None:
        """Notices batches and segments written by other processes (unlocked: complete batches only)."""
        self._sync_segments(locked=False)

    # -- positions ----------------------------------------------------------------------------------------------

    @property
    def log_start(self) -> int:
        return self.segments[0].base if self.segments else 0

    @property
    def end(self) -> int:
        return self.segments[-1].next_offset if self.segments else 0

    # -- append -------------------------------------------------------------------------------------------------

    def append(self, body: bytes, count: int, max_ts: int, now_ms: int) -> tuple[int, Segment]:
        """Appends one batch; returns its base offset and the segment to fsync."""
        with self.locked():
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
        self.segments.append(seg)
        self._bases.append(seg.base)
        self._names.append(os.path.basename(seg.path))
        return seg

    # -- retention ----------------------------------------------------------------------------------------------

    def enforce_retention(self, now_ms: int) -> int:
        """Deletes whole old segments beyond the size or age bound; returns how many."""
        if self.retention_bytes is None and self.retention_ms is None:
            return 0
        with self.locked():
            self._sync_segments(locked=True)
            return self._enforce_retention(now_ms)

    def _enforce_retention(self, now_ms: int) -> int:
        deleted = 0
        segs = self.segments
        if self.retention_ms is not None:
            cutoff = now_ms - self.retention_ms
            while segs and segs[0].size and segs[0].max_ts < cutoff:
                if len(segs) == 1:
                    self._roll()  # every record is expired: start an empty segment, as Kafka rolls
                self._delete_oldest()
                deleted += 1
        if self.retention_bytes is not None:
            total = sum(s.size for s in segs)
            while len(segs) > 1 and total - segs[0].size >= self.retention_bytes:
                total -= segs[0].size
                self._delete_oldest()
                deleted += 1
        return deleted

    def _delete_oldest(self) -> None:
        seg = self.segments.pop(0)
        self._bases.pop(0)
        self._names.pop(0)
        os.unlink(seg.path)
        seg.close()

    # -- read ---------------------------------------------------------------------------------------------------

    def read(self, offset: int, max_records: int, max_bytes: int = READ_CHUNK) -> list[ConsumerRecord]:
        """Records from `offset` (>= log_start) on, at most max_records, roughly at most max_bytes."""
        out: list[ConsumerRecord] = []
        segs = self.segments
        i = max(bisect_right(self._bases, offset) - 1, 0)
        while i < len(segs) and len(out) < max_records:
            seg = segs[i]
            if offset < seg.next_offset:
                try:
                    seg.read_into(out, self.topic, self.partition, offset, max_records - len(out), max_bytes)
                except CorruptLog as e:
                    raise CorruptLog(
                        f"Embedded log {self.topic}-{self.partition}: {e}; `miniconnect topics "
                        f"WORKER.properties verify {self.topic}` reports the damage, and the "
                        f"partition is cut there when the worker opens it next"
                    ) from None
                if out:
                    offset = out[-1].offset + 1
                if offset < seg.next_offset:
                    break  # max_bytes reached inside this segment
            i += 1
        return out

    def close(self) -> None:
        if not self.closed:
            self.closed = True
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
