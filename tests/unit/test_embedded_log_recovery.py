"""The embedded log checks what it reads: damage is found, reported with its coordinates and cut off (kept aside),
offsets a group committed are never reused silently, and `topics verify` reports damage without changing it."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys

import pytest

from miniconnect.connector import TopicPartition
from miniconnect.transport.base import NewTopic, ProducerRecord
from miniconnect.transport.embedded import EmbeddedLog
from miniconnect.transport.embedded.segment import CorruptLog

TOPIC = "lines"
BATCH = 100  # records per batch
BATCHES = 20


async def write_log(path, batches: int = BATCHES, segment_bytes: int = 64 * 1024 * 1024) -> EmbeddedLog:
    log = EmbeddedLog(str(path), segment_bytes=segment_bytes)
    await log.start()
    await log.create_topics([NewTopic(TOPIC, partitions=1)])
    producer = log.producer()
    await producer.start()
    for b in range(batches):
        await producer.send_batch(
            [ProducerRecord(TOPIC, None, f"line {b * BATCH + i}".encode(), partition=0) for i in range(BATCH)]
        )
    await producer.stop()
    return log


async def commit(log: EmbeddedLog, group: str, offset: int) -> None:
    await log.alter_committed_offsets(group, {TopicPartition(TOPIC, 0): offset})


def partition_dir(path) -> str:
    return os.path.join(str(path), "topics", TOPIC, "0")


def segments(path) -> list[str]:
    d = partition_dir(path)
    return sorted(os.path.join(d, n) for n in os.listdir(d) if n.endswith(".log"))


async def reopen(path, **kw) -> EmbeddedLog:
    """The log as a worker opens it again; a partition is recovered when first used, as here."""
    log = EmbeddedLog(str(path), **kw)
    await log.start()
    log.partition(TOPIC, 0)
    return log


async def read_all(log: EmbeddedLog) -> list[str]:
    plog = log.partition(TOPIC, 0)
    out = []
    offset = plog.log_start
    while offset < plog.end:
        recs = plog.read(offset, 10_000)
        out.extend(r.value.decode() for r in recs)
        offset = recs[-1].offset + 1
    return out


async def append_one(log: EmbeddedLog) -> int:
    producer = log.producer()
    await producer.start()
    [meta] = await producer.send_batch([ProducerRecord(TOPIC, None, b"after", partition=0)])
    await producer.stop()
    return meta.offset


def batch_starts(path: str) -> list[int]:
    """Byte positions of the batches of one segment file."""
    from miniconnect.transport.embedded.batch import BATCH as HEADER

    data = open(path, "rb").read()
    pos, out = 0, []
    while pos < len(data):
        out.append(pos)
        pos += 4 + HEADER.unpack_from(data, pos)[0]
    return out


def recovery_messages(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.endswith("embedded.recovery")]


async def test_flipped_byte_mid_segment_is_reported_cut_and_kept_aside(tmp_path, caplog):
    log = await write_log(tmp_path)
    await commit(log, "connect-sink", BATCHES * BATCH)  # a sink had read everything
    await log.stop()
    [seg] = segments(tmp_path)
    starts = batch_starts(seg)
    bad = starts[10] + 40  # inside the 11th batch's records
    size = os.path.getsize(seg)
    with open(seg, "r+b") as f:
        f.seek(bad)
        byte = f.read(1)
        f.seek(bad)
        f.write(bytes([byte[0] ^ 0xFF]))

    caplog.set_level(logging.WARNING)
    log = await reopen(tmp_path)
    try:
        lines = await read_all(log)
        assert lines == [f"line {i}" for i in range(10 * BATCH)]
        [err] = recovery_messages(caplog)
        assert err.levelno == logging.ERROR
        text = err.getMessage()
        assert f"{TOPIC}-0" in text and seg in text and "CRC mismatch" in text
        assert f"first bad offset {10 * BATCH}" in text and f"{size - starts[10]} bytes dropped" in text
        kept = os.path.join(partition_dir(tmp_path), "damaged", f"{os.path.basename(seg)}.from-byte-{starts[10]}")
        assert os.path.getsize(kept) == size - starts[10]
        warn = [r.getMessage() for r in caplog.records if "committed offset" in r.getMessage()]
        assert warn and "connect-sink" in warn[0] and f"{BATCHES * BATCH}" in warn[0] and f"{10 * BATCH}" in warn[0]
        assert await append_one(log) == 10 * BATCH  # appends continue where the good log ends

        consumer = log.consumer("connect-sink")
        await consumer.start()
        await consumer.subscribe([TOPIC])
        caplog.clear()
        records = []
        for _ in range(20):
            records += await consumer.poll(max_records=5000, timeout_ms=100)
            if len(records) >= 10 * BATCH + 1:
                break
        await consumer.stop()
        assert [r.offset for r in records] == list(range(10 * BATCH + 1))  # reset to the start, said aloud
        reset = [r.getMessage() for r in caplog.records if "out of range" in r.getMessage()]
        assert reset and "connect-sink" in reset[0] and f"Fetch position {BATCHES * BATCH}" in reset[0]
    finally:
        await log.stop()


async def test_torn_tail_is_a_warning_and_appends_get_fresh_offsets(tmp_path, caplog):
    log = await write_log(tmp_path)
    await log.stop()
    [seg] = segments(tmp_path)
    last = batch_starts(seg)[-1]
    size = os.path.getsize(seg)
    with open(seg, "r+b") as f:
        f.truncate(last + 50)  # the last batch was cut short by a crash

    caplog.set_level(logging.WARNING)
    log = await reopen(tmp_path)
    try:
        [warn] = recovery_messages(caplog)
        assert warn.levelno == logging.WARNING
        assert (
            "incomplete batch" in warn.getMessage() and f"first bad offset {(BATCHES - 1) * BATCH}" in warn.getMessage()
        )
        assert os.path.getsize(seg) == last
        assert len(await read_all(log)) == (BATCHES - 1) * BATCH
        assert await append_one(log) == (BATCHES - 1) * BATCH
        assert size - last > 50
    finally:
        await log.stop()


async def test_appended_garbage_is_cut_off(tmp_path, caplog):
    log = await write_log(tmp_path)
    await log.stop()
    [seg] = segments(tmp_path)
    size = os.path.getsize(seg)
    with open(seg, "ab") as f:
        f.write(b"\x00\x00\x01\x00garbage; DROP TABLE x; --" * 10)

    caplog.set_level(logging.WARNING)
    log = await reopen(tmp_path)
    try:
        [msg] = recovery_messages(caplog)
        assert f"first bad offset {BATCHES * BATCH}" in msg.getMessage()
        assert os.path.getsize(seg) == size
        assert len(await read_all(log)) == BATCHES * BATCH
        assert await append_one(log) == BATCHES * BATCH
    finally:
        await log.stop()


@pytest.mark.parametrize("damage", ["zero-length", "missing"])
async def test_a_lost_middle_segment_cuts_the_log_at_the_gap(tmp_path, caplog, damage):
    log = await write_log(tmp_path, segment_bytes=4000)  # a segment every few batches
    await log.stop()
    segs = segments(tmp_path)
    assert len(segs) >= 4
    victim = segs[1]
    if damage == "zero-length":
        open(victim, "wb").close()
    else:
        os.unlink(victim)
    good_end = int(os.path.basename(victim)[:-4])  # the records before the lost segment survive

    caplog.set_level(logging.WARNING)
    log = await reopen(tmp_path, segment_bytes=4000)
    try:
        [msg] = recovery_messages(caplog)
        assert msg.levelno == logging.ERROR and "offset gap" in msg.getMessage()
        assert len(await read_all(log)) == good_end
        assert await append_one(log) == good_end
        kept = os.listdir(os.path.join(partition_dir(tmp_path), "damaged"))
        assert os.path.basename(segs[2]) in kept and os.path.basename(segs[-1]) in kept
    finally:
        await log.stop()


async def test_damage_found_while_reading_names_the_partition(tmp_path):
    log = await write_log(tmp_path)
    try:
        [seg] = segments(tmp_path)
        pos = batch_starts(seg)[5] + 40
        with open(seg, "r+b") as f:  # damaged under a running worker: the read fails loudly, nothing is skipped
            f.seek(pos)
            f.write(b"\xff\xff")
        plog = log.partition(TOPIC, 0)
        plog.segments[-1]._rbuf = b""
        with pytest.raises(CorruptLog, match=f"{TOPIC}-0: CRC mismatch in {seg}.*offset {5 * BATCH}.*verify"):
            plog.read(0, 100_000)
    finally:
        await log.stop()


async def test_an_intact_log_reopens_without_a_word(tmp_path, caplog):
    log = await write_log(tmp_path, segment_bytes=4000)
    await log.stop()
    caplog.set_level(logging.WARNING)
    log = await reopen(tmp_path, segment_bytes=4000)
    try:
        assert len(await read_all(log)) == BATCHES * BATCH
        assert not recovery_messages(caplog)
    finally:
        await log.stop()


def run_verify(tmp_path, *topics: str) -> subprocess.CompletedProcess:
    props = tmp_path / "worker.properties"
    props.write_text(f"embedded.log.dir={tmp_path}\noffset.storage.file.filename={tmp_path / 'offsets'}\n")
    return subprocess.run(
        [sys.executable, "-P", "-m", "miniconnect.cli", "topics", str(props), "verify", *topics],
        capture_output=True,
        text=True,
        timeout=60,
    )


def digest(path) -> str:
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(path)):
        for name in sorted(files):
            h.update(name.encode())
            h.update(open(os.path.join(root, name), "rb").read())
    return h.hexdigest()


async def test_topics_verify_reports_damage_and_changes_nothing(tmp_path):
    log = await write_log(tmp_path)
    await log.create_topics([NewTopic("other", partitions=2)])
    await log.stop()
    ok = run_verify(tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert f"{TOPIC}-0\tok\t{BATCHES * BATCH} records" in ok.stdout and "other-1\tok\t0 records" in ok.stdout

    [seg] = segments(tmp_path)
    with open(seg, "r+b") as f:
        f.seek(batch_starts(seg)[3] + 30)
        f.write(b"\x00")
    before = digest(tmp_path / "topics")
    bad = run_verify(tmp_path, TOPIC)
    assert bad.returncode == 1
    assert f"{TOPIC}-0\tdamaged\t{TOPIC}-0: CRC mismatch in segment {seg}" in bad.stdout
    assert f"first bad offset {3 * BATCH}" in bad.stdout
    assert digest(tmp_path / "topics") == before
    missing = run_verify(tmp_path, "nope")
    assert missing.returncode == 2 and "Topic nope does not exist" in missing.stderr
