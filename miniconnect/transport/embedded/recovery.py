"""Log recovery for the embedded log: find the first damaged batch of a partition, and cut the log there.

Like Kafka's LogLoader.recoverLog: every batch is checked (header, dense offsets, length, CRC); at the first bad one
the segment is truncated and every later segment dropped, so the log ends with the last good batch. Unlike Kafka,
nothing is deleted: the dropped bytes are moved to the partition's `damaged/` directory, and all of it is logged.
`check_partition` only reads, so `miniconnect topics ... verify` uses it to report damage without repairing it.
"""

from __future__ import annotations

import logging
import mmap
import os
import shutil
from dataclasses import dataclass, field

from ...files import fsync_dir
from .batch import BATCH, BATCH_SIZE, crc32

log = logging.getLogger(__name__)

DAMAGED_DIR = "damaged"


@dataclass(slots=True)
class Damage:
    segment: str  # the segment file holding the first bad batch
    position: int  # where the good bytes of that file end
    offset: int  # the first offset that is not recovered
    reason: str
    torn: bool  # an incomplete batch at the very end of the log (a write cut short), not corruption
    dropped_bytes: int = 0  # from `position` to the end of the file, plus every later segment
    later_segments: list[str] = field(default_factory=list)
    drop_segment: bool = False  # the whole file goes (it starts after a gap in the offsets)

    def describe(self, topic: str, partition: int) -> str:
        later = f" and {len(self.later_segments)} later segment(s)" if self.later_segments else ""
        return (
            f"{topic}-{partition}: {self.reason} in segment {self.segment} at byte {self.position}; "
            f"first bad offset {self.offset}, {self.dropped_bytes} bytes dropped{later}"
        )


def segment_files(directory: str) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n.endswith(".log"))


def check_partition(directory: str) -> tuple[int, Damage | None]:
    """(the offset after the last good batch, the first damage or None). Reads only."""
    names = segment_files(directory)
    paths = [os.path.join(directory, n) for n in names]
    expected: int | None = None
    for i, path in enumerate(paths):
        base = int(names[i][:-4])
        if expected is not None and base != expected:
            damage = Damage(
                path,
                0,
                expected,
                f"offset gap: the segment starts at offset {base}, the one before it ends at {expected}",
                torn=False,
                drop_segment=True,
            )
            return expected, _account(damage, paths[i:])
        end, damage = _check_segment(path, base, last=i == len(paths) - 1)
        if damage is not None:
            return end, _account(damage, paths[i + 1 :])
        expected = end
    return (expected if expected is not None else 0), None


def _account(damage: Damage, rest: list[str]) -> Damage:
    """Fills in what a repair would drop: the damaged file's tail (or all of it) and `rest` after it."""
    size = os.path.getsize(damage.segment)
    later = [p for p in rest if p != damage.segment]
    damage.later_segments = later
    damage.dropped_bytes = size - damage.position + sum(os.path.getsize(p) for p in later)
    return damage


def _check_segment(path: str, base: int, last: bool) -> tuple[int, Damage | None]:
    """(offset after the last good batch of the file, its first damage or None)."""
    with open(path, "rb") as f:
        end = os.fstat(f.fileno()).st_size
        if end == 0:
            return base, None
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            pos = 0
            expected = base
            while pos < end:
                if pos + BATCH_SIZE > end:
                    return expected, Damage(path, pos, expected, "incomplete batch header", torn=last)
                length, crc, batch_base, count, _ = BATCH.unpack_from(buf, pos)
                total = 4 + length
                if length < BATCH_SIZE - 4:
                    return expected, Damage(path, pos, expected, f"invalid batch length {length}", torn=False)
                if batch_base != expected:
                    return expected, Damage(
                        path, pos, expected, f"batch offset {batch_base} where {expected} was expected", torn=False
                    )
                if pos + total > end:
                    return expected, Damage(
                        path, pos, expected, f"incomplete batch ({end - pos} of {total} bytes)", torn=last
                    )
                with memoryview(buf)[pos + 8 : pos + total] as body:
                    good = crc32(body) == crc
                if not good:
                    return expected, Damage(path, pos, expected, "CRC mismatch", torn=False)
                expected = batch_base + count
                pos += total
    return expected, None


def repair(directory: str, topic: str, partition: int, damage: Damage) -> None:
    """Cuts the log at `damage` (caller holds the partition lock); the dropped bytes go to `damaged/`."""
    keep = os.path.join(directory, DAMAGED_DIR)
    os.makedirs(keep, exist_ok=True)
    name = os.path.basename(damage.segment)
    if damage.drop_segment:
        os.rename(damage.segment, os.path.join(keep, name))
    else:
        with open(damage.segment, "r+b") as f:
            f.seek(damage.position)
            with open(os.path.join(keep, f"{name}.from-byte-{damage.position}"), "wb") as out:
                shutil.copyfileobj(f, out)
                out.flush()
                os.fsync(out.fileno())
            f.truncate(damage.position)
            f.flush()
            os.fsync(f.fileno())
    for path in damage.later_segments:
        os.rename(path, os.path.join(keep, os.path.basename(path)))
    fsync_dir(keep)
    fsync_dir(directory)
    text = damage.describe(topic, partition)
    if damage.torn:
        log.warning(
            "Embedded log recovery %s (a write was cut short); the log now ends at offset %d; the dropped "
            "bytes are kept in %s",
            text,
            damage.offset,
            keep,
        )
    else:
        log.error(
            "Embedded log recovery %s; the log is truncated there and now ends at offset %d; the dropped "
            "bytes are kept in %s",
            text,
            damage.offset,
            keep,
        )


def verify_log(directory: str, topics: list[str] | None = None) -> list[tuple[str, int, int, Damage | None]]:
    """(topic, partition, offset after the last good batch, damage) for every partition of `topics` (all when
    None) under the embedded log `directory`. Reads only: nothing is repaired."""
    topics_dir = os.path.join(directory, "topics")
    names = sorted(topics) if topics else sorted(os.listdir(topics_dir)) if os.path.isdir(topics_dir) else []
    out = []
    for topic in names:
        tdir = os.path.join(topics_dir, topic)
        if not os.path.isdir(tdir):
            raise FileNotFoundError(f"Topic {topic} does not exist in the embedded log {directory}")
        for p in sorted(int(d) for d in os.listdir(tdir) if d.isdigit()):
            end, damage = check_partition(os.path.join(tdir, str(p)))
            out.append((topic, p, end, damage))
    return out
