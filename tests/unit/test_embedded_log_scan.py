"""The embedded log's segment scans: batches appended by another process are found whatever their size (a scan
without CRC checks reads headers only), the CRC on disk is zlib's CRC-32, and one unchecked by a scan is checked by
the read."""

from __future__ import annotations

import os
import struct
import zlib

import pytest

from miniconnect.transport.base import NewTopic, ProducerRecord
from miniconnect.transport.embedded import EmbeddedLog
from miniconnect.transport.embedded.segment import HEADERS_CHUNK, CorruptLog

TOPIC = "scanned"
HEADER = struct.Struct(">IIqIq")  # length, crc, base offset, count, max timestamp (segment.py)


def batch_sizes() -> list[int]:
    """Records per batch: single records, batches far larger than a header read, and in between."""
    return [1, 1, 300, 2, 40, 1, 250, 7]


def value(offset: int) -> bytes:
    return b"%08d" % offset + b"x" * (offset % 997)


async def produce(log: EmbeddedLog) -> int:
    producer = log.producer()
    offset = 0
    for n in batch_sizes():
        await producer.send_batch([ProducerRecord(TOPIC, None, value(offset + i), partition=0) for i in range(n)])
        offset += n
    return offset


async def open_log(path, segment_bytes: int) -> EmbeddedLog:
    log = EmbeddedLog(str(path), segment_bytes=segment_bytes)
    await log.start()
    return log


def read_values(log: EmbeddedLog) -> list[bytes]:
    plog = log.partition(TOPIC, 0)
    plog.refresh()
    out: list[bytes] = []
    while plog.log_start + len(out) < plog.end:
        out += [r.value for r in plog.read(plog.log_start + len(out), 100_000)]
    return out


def segment_files(path) -> list[str]:
    d = os.path.join(str(path), "topics", TOPIC, "0")
    return sorted(os.path.join(d, n) for n in os.listdir(d) if n.endswith(".log"))


@pytest.mark.parametrize("segment_bytes", [64 << 20, 50_000])
async def test_batches_another_process_appends_are_all_found(tmp_path, segment_bytes):
    assert 250 * 997 // 2 > HEADERS_CHUNK  # the large batches span several header reads
    reader = await open_log(tmp_path, segment_bytes)
    writer = await open_log(tmp_path, segment_bytes)  # its own flocks and files: as another process
    try:
        await reader.create_topics([NewTopic(TOPIC, 1)])
        assert read_values(reader) == []
        writer.refresh_topics()
        total = await produce(writer)
        assert read_values(reader) == [value(i) for i in range(total)]  # found by the reader's unlocked scan
        if segment_bytes < 64 << 20:
            assert len(segment_files(tmp_path)) > 2  # rolled segments are scanned by their headers too
        reopened = await open_log(tmp_path, segment_bytes)  # recovered, then scanned without a second CRC pass
        try:
            assert read_values(reopened) == [value(i) for i in range(total)]
            assert reopened.partition(TOPIC, 0).end == total
        finally:
            await reopened.stop()
    finally:
        await writer.stop()
        await reader.stop()


async def test_the_crc_on_disk_is_zlibs_crc32(tmp_path):
    log = await open_log(tmp_path, 64 << 20)
    try:
        await log.create_topics([NewTopic(TOPIC, 1)])
        total = await produce(log)
    finally:
        await log.stop()
    [seg] = segment_files(tmp_path)
    data = open(seg, "rb").read()
    pos, offset = 0, 0
    while pos < len(data):
        length, crc, base, count, _ = HEADER.unpack_from(data, pos)
        assert base == offset and crc == zlib.crc32(data[pos + 8 : pos + 4 + length])
        pos, offset = pos + 4 + length, offset + count
    assert offset == total


async def test_a_batch_not_checked_by_the_scan_is_checked_by_the_read(tmp_path):
    reader = await open_log(tmp_path, 64 << 20)
    writer = await open_log(tmp_path, 64 << 20)
    try:
        await reader.create_topics([NewTopic(TOPIC, 1)])
        assert read_values(reader) == []
        writer.refresh_topics()
        await produce(writer)
        [seg] = segment_files(tmp_path)
        with open(seg, "r+b") as f:  # one byte of the third batch's records, after the writer's own checks
            f.seek(2 * (HEADER.size + 18 + 8) + HEADER.size + 400)
            byte = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte[0] ^ 0xFF]))
        with pytest.raises(CorruptLog, match="CRC mismatch"):
            read_values(reader)
    finally:
        await writer.stop()
        await reader.stop()
