"""The embedded log's batches: the documented on-disk layout (written and read), order and reads while the writer
thread appends, rolls segments and deletes them, and reads as RecordBatch columns."""

from __future__ import annotations

import asyncio
import os
import struct
import time
import zlib

import pytest

from miniconnect.connector import TopicPartition
from miniconnect.transport.base import NewTopic, ProducerRecord
from miniconnect.transport.embedded import EmbeddedLog

TP = TopicPartition
T0 = 1_700_000_000_000


async def open_log(path, **kw) -> EmbeddedLog:
    log = EmbeddedLog(str(path), **kw)
    await log.start()
    return log


def segment_files(path, topic: str, partition: int = 0) -> list[str]:
    d = os.path.join(str(path), "topics", topic, str(partition))
    return sorted(os.path.join(d, n) for n in os.listdir(d) if n.endswith(".log"))


# The layout as segment.py's docstring states it, written out independently of the code under test
def layout_record(ts: int, key: bytes | None, value: bytes | None, headers) -> bytes:
    out = struct.pack(">qiiH", ts, -1 if key is None else len(key), -1 if value is None else len(value), len(headers))
    out += (key or b"") + (value or b"")
    for name, hv in headers:
        nb = name.encode()
        out += struct.pack(">H", len(nb)) + nb + struct.pack(">i", -1 if hv is None else len(hv)) + (hv or b"")
    return out


def layout_batch(base: int, records: list[tuple[int, bytes | None, bytes | None, list]]) -> bytes:
    body = b"".join(layout_record(*r) for r in records)
    max_ts = max([-1, *(r[0] for r in records)])
    tail = struct.pack(">qIq", base, len(records), max_ts) + body
    return struct.pack(">II", len(tail) + 4, zlib.crc32(tail)) + tail


def parse_segment(data: bytes) -> list[tuple[int, list[tuple[int, bytes | None, bytes | None, list]]]]:
    """(base offset, records) of every batch, checking each batch's length, CRC, count and max timestamp."""
    batches = []
    pos = 0
    while pos < len(data):
        length, crc, base, count, max_ts = struct.unpack_from(">IIqIq", data, pos)
        end = pos + 4 + length
        assert zlib.crc32(data[pos + 8 : end]) == crc
        p = pos + 28
        records = []
        while p < end:
            ts, kl, vl, hc = struct.unpack_from(">qiiH", data, p)
            p += 18
            key = None if kl < 0 else data[p : p + kl]
            p += max(kl, 0)
            value = None if vl < 0 else data[p : p + vl]
            p += max(vl, 0)
            headers = []
            for _ in range(hc):
                (nl,) = struct.unpack_from(">H", data, p)
                name = data[p + 2 : p + 2 + nl].decode()
                p += 2 + nl
                (hl,) = struct.unpack_from(">i", data, p)
                p += 4
                headers.append((name, None if hl < 0 else data[p : p + hl]))
                p += max(hl, 0)
            records.append((ts, key, value, headers))
        assert p == end and count == len(records)
        assert max_ts == max([-1, *(r[0] for r in records)])
        assert data[pos:end] == layout_batch(base, records)  # nothing else in the batch
        batches.append((base, records))
        pos = end
    return batches


def kinds_of_batches(topic: str) -> list[list[ProducerRecord]]:
    """Every shape the producer encodes differently: no keys and no timestamps (a source's batch), keys and
    timestamps on every record, mixed, headers, tombstones, empty keys and values, negative timestamps."""
    return [
        [ProducerRecord(topic, None, b"row %d" % i, 0) for i in range(40)],
        [ProducerRecord(topic, b"k%d" % i, b"v" * i, 0, T0 + i) for i in range(40)],
        [ProducerRecord(topic, b"k" if i % 2 else None, b"v%d" % i, 0, T0 if i % 3 else None) for i in range(40)],
        [ProducerRecord(topic, None, b"v", 0, T0, [("h", b"x"), ("null", None)] if i == 5 else ()) for i in range(9)],
        [ProducerRecord(topic, b"key", None if i % 2 else b"v", 0) for i in range(9)],
        [ProducerRecord(topic, b"", b"", 0, -5 - i) for i in range(5)],
        [ProducerRecord(topic, None, b"\x00\xff" * 300, 0, -7)],
    ]


async def test_every_kind_of_batch_is_written_in_the_documented_layout(tmp_path):
    log = await open_log(tmp_path)
    try:
        producer = log.producer()
        sent = kinds_of_batches("fmt")
        before = int(time.time() * 1000)
        for batch in sent:
            await producer.send_batch(batch)
        after = int(time.time() * 1000)
        (seg,) = segment_files(tmp_path, "fmt")
        with open(seg, "rb") as f:
            written = parse_segment(f.read())
        assert [base for base, _ in written] == [sum(map(len, sent[:i])) for i in range(len(sent))]
        for batch, (_, records) in zip(sent, written, strict=True):
            assert [(r.key, r.value, list(r.headers)) for r in batch] == [(k, v, h) for _, k, v, h in records]
            now = {ts for r, (ts, *_) in zip(batch, records) if r.timestamp is None}
            assert len(now) <= 1 and all(before <= ts <= after for ts in now)  # one "now" per batch
            assert [r.timestamp for r in batch if r.timestamp is not None] == [
                ts for r, (ts, *_) in zip(batch, records) if r.timestamp is not None
            ]
    finally:
        await log.stop()


async def test_a_segment_written_in_the_documented_layout_is_read_back(tmp_path):
    """Files written before (by any version that followed the layout) read as they were written."""
    log = await open_log(tmp_path)
    await log.create_topics([NewTopic("old")])
    await log.stop()
    records = [(T0 + i, b"k%d" % i if i % 2 else None, None if i == 7 else b"v%d" % i, []) for i in range(20)]
    records[3] = (T0, None, b"v3", [("a", b"1"), ("b", None)])
    data = layout_batch(0, records[:12]) + layout_batch(12, records[12:])
    with open(os.path.join(tmp_path, "topics", "old", "0", f"{0:020d}.log"), "wb") as f:
        f.write(data)
    log = await open_log(tmp_path)
    try:
        consumer = log.consumer("g")
        await consumer.subscribe(topics=["old"])
        got = await consumer.poll(max_records=100, timeout_ms=5000)
        assert [(r.offset, r.timestamp, r.key, r.value, list(r.headers)) for r in got] == [
            (i, *r) for i, r in enumerate(records)
        ]
        metas = await log.producer().send_batch([ProducerRecord("old", None, b"new", 0)])
        assert metas[0].offset == 20
        await consumer.stop()
    finally:
        await log.stop()
    with open(os.path.join(tmp_path, "topics", "old", "0", f"{0:020d}.log"), "rb") as f:
        assert f.read(len(data)) == data  # the old batches stay as they were, the new one follows


async def test_batches_sent_without_waiting_land_in_call_order(tmp_path):
    log = await open_log(tmp_path, segment_bytes=4000)
    try:
        producer = log.producer()
        batches = [[ProducerRecord("order", None, b"%03d-%02d" % (b, i), 0) for i in range(25)] for b in range(40)]
        results = await asyncio.gather(*(producer.send_batch(b) for b in batches))
        assert [m.offset for r in results for m in r] == list(range(1000))
        consumer = log.consumer("g")
        await consumer.subscribe(topics=["order"])
        got = []
        while len(got) < 1000:
            got += await consumer.poll(max_records=300, timeout_ms=5000)
        assert [r.value for r in got] == [r.value for b in batches for r in b]
        await consumer.stop()
    finally:
        await log.stop()


@pytest.mark.parametrize("retention_bytes", [None, 20_000], ids=["kept", "retention"])
async def test_reads_while_appends_roll_and_delete_segments(tmp_path, retention_bytes):
    """Consumers read on the event loop while the writer thread appends, rolls segments every few batches and,
    with retention, deletes old ones: every record read is the one its offset was given to, in offset order."""
    log = await open_log(tmp_path, segment_bytes=3000, retention_bytes=retention_bytes)
    try:
        await log.create_topics([NewTopic("busy", partitions=2)])
        given: dict[tuple[int, int], bytes] = {}
        done = asyncio.Event()

        async def produce(pid: int) -> None:
            producer = log.producer()
            for b in range(60):
                batch = [ProducerRecord("busy", None, b"%d-%03d-%02d" % (pid, b, i), b % 2) for i in range(15)]
                for r, m in zip(batch, await producer.send_batch(batch)):
                    given[(m.partition, m.offset)] = r.value

        async def consume() -> list:
            consumer = log.consumer("reader")
            await consumer.subscribe(topics=["busy"])
            out: list = []
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                got = await consumer.poll(max_records=200, timeout_ms=50)
                out += got
                if done.is_set() and not got:
                    break  # caught up with everything sent
            await consumer.stop()
            return out

        reader = asyncio.ensure_future(consume())
        await asyncio.gather(*(produce(pid) for pid in range(4)))
        done.set()
        got = await reader
        assert len(given) == 3600
        for p in range(2):
            offsets = [r.offset for r in got if r.partition == p]
            assert offsets == sorted(set(offsets))
            if retention_bytes is None:
                assert offsets == list(range(1800))
        assert all(r.value == given[(r.partition, r.offset)] for r in got)
        if retention_bytes is not None:
            assert len(segment_files(tmp_path, "busy")) < 10  # retention deleted segments meanwhile
    finally:
        await log.stop()


async def test_poll_batches_gives_one_column_batch_per_partition(tmp_path):
    log = await open_log(tmp_path)
    try:
        await log.create_topics([NewTopic("cols", partitions=3)])
        records = [
            ProducerRecord("cols", b"k%d" % i if i % 4 else None, None if i == 6 else b"v%d" % i, i % 3, T0 + i)
            for i in range(30)
        ]
        records[4] = records[4]._replace(headers=[("h", b"x")])
        await log.producer().send_batch(records)
        consumer = log.consumer("g")
        await consumer.subscribe(topics=["cols"])
        batches = []
        while sum(map(len, batches)) < 30:
            batches += await consumer.poll_batches(max_records=100, timeout_ms=5000)
        assert sorted((b.topic, b.partition) for b in batches) == [("cols", p) for p in range(3)]
        for b in batches:
            mine = [r for r in records if r.partition == b.partition]
            assert b.offsets == list(range(10))
            assert b.keys == [r.key for r in mine] and b.values == [r.value for r in mine]
            assert b.timestamps == [r.timestamp for r in mine]
            assert [list(h) for h in b.headers] == [list(r.headers) for r in mine]
            assert list(b.types_column()) == ["CreateTime"] * 10
        await consumer.stop()
    finally:
        await log.stop()
