"""The embedded log: durable topics in a directory, consumer groups in one process, other processes appending."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import pytest
from helpers.log_records import drain

from miniconnect.connector import TopicPartition
from miniconnect.transport.base import CommitFailed, GroupNotEmpty, NewTopic, ProducerRecord
from miniconnect.transport.embedded import EmbeddedLog, InvalidTopic, murmur2, partition_for_key

TP = TopicPartition


async def open_log(path, **kw) -> EmbeddedLog:
    log = EmbeddedLog(str(path), **kw)
    await log.start()
    return log


@pytest.fixture
async def log(tmp_path):
    log = await open_log(tmp_path / "log")
    yield log
    await log.stop()


def segment_files(path, topic: str, partition: int = 0) -> list[str]:
    d = os.path.join(str(path), "topics", topic, str(partition))
    return sorted(os.path.join(d, n) for n in os.listdir(d) if n.endswith(".log"))


# -- records ---------------------------------------------------------------------------------------------------


async def test_records_round_trip_in_order_with_dense_offsets(log):
    producer = log.producer()
    await producer.start()
    sent = []
    for b in range(3):
        batch = [
            ProducerRecord(
                "orders",
                f"k{b}-{i}".encode() if i % 3 else None,
                None if i == 4 else f"value {b}-{i}".encode(),
                partition=0,
                timestamp=1_700_000_000_000 + i if i % 2 else None,
                headers=[("h1", b"x"), ("empty", None)] if i == 2 else [],
            )
            for i in range(50)
        ]
        metas = await producer.send_batch(batch)
        assert [m.offset for m in metas] == list(range(b * 50, b * 50 + 50))
        sent.extend(batch)
    consumer = log.consumer("g")
    await consumer.subscribe(topics=["orders"])
    got = await drain(consumer, 150)
    assert [r.offset for r in got] == list(range(150))
    assert [(r.key, r.value, list(r.headers)) for r in got] == [(s.key, s.value, list(s.headers)) for s in sent]
    now_ms = time.time() * 1000
    for s, r in zip(sent, got):
        if s.timestamp is not None:
            assert r.timestamp == s.timestamp
        else:
            assert abs(r.timestamp - now_ms) < 60_000
    await consumer.stop()
    await producer.stop()


async def test_metadata_in_input_order_across_partitions(log):
    await log.create_topics([NewTopic("multi", partitions=3)])
    records = [ProducerRecord("multi", None, b"v%d" % i, partition=i % 3) for i in range(9)]
    metas = await log.producer().send_batch(records)
    assert [(m.partition, m.offset) for m in metas] == [(i % 3, i // 3) for i in range(9)]
    assert await log.end_offsets([TP("multi", p) for p in range(3)]) == {TP("multi", p): 3 for p in range(3)}


async def test_topic_auto_created_with_default_partitions(tmp_path):
    log = await open_log(tmp_path, default_partitions=4)
    try:
        await log.producer().send_batch([ProducerRecord("auto", b"k", b"v")])
        assert await log.list_topics() == {"auto": 4}
        with pytest.raises(InvalidTopic):
            await log.producer().send_batch([ProducerRecord("bad/name", None, b"v")])
        with pytest.raises(ValueError):
            await log.producer().send_batch([ProducerRecord("auto", None, b"v", partition=4)])
    finally:
        await log.stop()


async def test_create_topics_honours_partitions_and_creates_once(tmp_path):
    log = await open_log(tmp_path, default_partitions=2)
    try:
        created = await log.create_topics(
            [
                NewTopic("a", partitions=3, replication_factor=3, configs={"cleanup.policy": "delete"}),
                NewTopic("b"),
                NewTopic("c", partitions=-1, replication_factor=-1),
            ]
        )
        assert created == ["a", "b", "c"]
        assert await log.create_topics([NewTopic("a", partitions=7)]) == []
        assert await log.list_topics() == {"a": 3, "b": 1, "c": 2}
        with pytest.raises(InvalidTopic):
            await log.create_topics([NewTopic("d", partitions=0)])
    finally:
        await log.stop()


# -- partitioner -----------------------------------------------------------------------------------------------

# Kafka's UtilsTest.testMurmur2 vectors (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java)
KAFKA_MURMUR2 = {
    "21": -973932308,
    "foobar": -790332482,
    "a-little-bit-long-string": -985981536,
    "a-little-bit-longer-string": -1486304829,
    "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    "abc": 479470107,
}
# toPositive(murmur2(key)) as computed by Kafka's partitioner (vectors used by kafka_ex against Kafka)
KAFKA_POSITIVE = {
    "rule": 473888304,
    "monkey": 385264353,
    "hover": 164653822,
    "guest": 1235690374,
    "necklace": 1631936446,
    "storm": 393248174,
    "paint": 493731830,
    "agony": 989421259,
}


def test_murmur2_matches_kafka():
    for key, expected in KAFKA_MURMUR2.items():
        assert murmur2(key.encode()) == expected, key


async def test_keyed_records_land_in_kafkas_partition(log):
    await log.create_topics([NewTopic("keyed", partitions=7)])
    keys = list(KAFKA_POSITIVE) + list(KAFKA_MURMUR2)
    metas = await log.producer().send_batch([ProducerRecord("keyed", k.encode(), b"v") for k in keys])
    for key, meta in zip(keys, metas):
        positive = KAFKA_POSITIVE.get(key)
        if positive is None:
            positive = KAFKA_MURMUR2[key] & 0x7FFFFFFF
        assert meta.partition == positive % 7, key
        assert partition_for_key(key.encode(), 7) == positive % 7


async def test_null_keys_stick_to_one_partition_per_batch_and_spread(log):
    await log.create_topics([NewTopic("rr", partitions=3)])
    producer = log.producer()
    seen = set()
    for _ in range(6):
        metas = await producer.send_batch([ProducerRecord("rr", None, b"v") for _ in range(10)])
        assert len({m.partition for m in metas}) == 1
        seen.add(metas[0].partition)
    assert seen == {0, 1, 2}


# -- durability --------------------------------------------------------------------------------------------------


async def test_everything_survives_a_restart(tmp_path):
    log = await open_log(tmp_path)
    await log.create_topics([NewTopic("t", partitions=2, configs={"retention.ms": "-1"})])
    await log.producer().send_batch([ProducerRecord("t", None, b"r%d" % i, partition=i % 2) for i in range(10)])
    consumer = log.consumer("sink")
    await consumer.subscribe(topics=["t"])
    await drain(consumer, 10)
    await consumer.commit({TP("t", 0): 3, TP("t", 1): 5})
    cid = await log.cluster_id()
    await consumer.stop()
    await log.stop()

    log = await open_log(tmp_path)
    try:
        assert await log.cluster_id() == cid and len(cid) == 22
        assert await log.list_topics() == {"t": 2}
        assert await log.end_offsets([TP("t", 0), TP("t", 1)]) == {TP("t", 0): 5, TP("t", 1): 5}
        assert await log.committed_offsets("sink") == {TP("t", 0): 3, TP("t", 1): 5}
        consumer = log.consumer("sink")
        await consumer.subscribe(topics=["t"])
        got = await drain(consumer, 2)
        assert [(r.partition, r.offset, r.value) for r in got] == [(0, 3, b"r6"), (0, 4, b"r8")]
        metas = await log.producer().send_batch([ProducerRecord("t", None, b"new", partition=1)])
        assert metas[0].offset == 5
        await consumer.stop()
    finally:
        await log.stop()


async def test_torn_tail_is_truncated_on_open(tmp_path):
    log = await open_log(tmp_path)
    producer = log.producer()
    for b in range(2):
        await producer.send_batch([ProducerRecord("t", b"k", b"batch%d-%d" % (b, i)) for i in range(20)])
    await log.stop()
    seg = segment_files(tmp_path, "t")[-1]
    good_size = os.path.getsize(seg)
    with open(seg, "ab") as f:  # a crash in the middle of a third batch: a header promising more than there is
        f.write(b"\x00\x00\x10\x00" + os.urandom(100))

    log = await open_log(tmp_path)
    try:
        consumer = log.consumer("g")
        await consumer.subscribe(topics=["t"])
        got = await drain(consumer, 40)
        assert [r.value for r in got[:2]] == [b"batch0-0", b"batch0-1"] and got[-1].value == b"batch1-19"
        assert await consumer.poll(timeout_ms=100) == []
        assert os.path.getsize(seg) == good_size
        metas = await log.producer().send_batch([ProducerRecord("t", b"k", b"after")])
        assert metas[0].offset == 40
        assert [r.value for r in await drain(consumer, 1)] == [b"after"]
        await consumer.stop()
    finally:
        await log.stop()


async def test_complete_batch_with_bad_crc_is_cut_off(tmp_path):
    log = await open_log(tmp_path)
    await log.producer().send_batch([ProducerRecord("t", None, b"one")])
    await log.producer().send_batch([ProducerRecord("t", None, b"two")])
    await log.stop()
    seg = segment_files(tmp_path, "t")[-1]
    with open(seg, "r+b") as f:  # flip a byte in the value of the last batch
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 0xFF]))
    log = await open_log(tmp_path)
    try:
        assert await log.end_offsets([TP("t", 0)]) == {TP("t", 0): 1}
    finally:
        await log.stop()


async def test_concurrent_sends_share_fsyncs(log):
    producer = log.producer()
    batches = [[ProducerRecord("gc", None, b"x" * 100, partition=0) for _ in range(50)] for _ in range(20)]
    before = log._group_commit.rounds
    results = await asyncio.gather(*(producer.send_batch(b) for b in batches))
    rounds = log._group_commit.rounds - before
    assert rounds < 20  # group commit: waiting callers share one fsync
    offsets = sorted(m.offset for r in results for m in r)
    assert offsets == list(range(1000))


# -- consumer groups ---------------------------------------------------------------------------------------------


async def test_two_consumers_share_partitions_and_rebalance_with_callbacks(log):
    await log.create_topics([NewTopic("s", partitions=4)])
    await log.producer().send_batch([ProducerRecord("s", None, b"%d" % i, partition=i % 4) for i in range(40)])
    events: list[tuple] = []

    def callbacks(name):
        async def assigned(tps):
            events.append((name, "assigned", sorted(tps)))

        async def revoked(tps):
            await asyncio.sleep(0.05)  # the other member must wait for this
            events.append((name, "revoked", sorted(tps)))

        return {"on_assigned": assigned, "on_revoked": revoked}

    c1, c2 = log.consumer("sink-group"), log.consumer("sink-group")
    await c1.subscribe(topics=["s"], **callbacks("c1"))
    assert c1.assignment() == {TP("s", p) for p in range(4)}
    assert events == [("c1", "assigned", [TP("s", p) for p in range(4)])]
    got1 = await drain(c1, 40)
    assert len(got1) == 40

    await c2.subscribe(topics=["s"], **callbacks("c2"))
    await asyncio.gather(c1.poll(timeout_ms=500), c2.poll(timeout_ms=500))
    a1, a2 = c1.assignment(), c2.assignment()
    assert len(a1) == 2 and len(a2) == 2 and not a1 & a2 and a1 | a2 == {TP("s", p) for p in range(4)}
    revoked_at = events.index(("c1", "revoked", sorted(a2)))
    assert events.index(("c2", "assigned", sorted(a2))) > revoked_at
    with pytest.raises(CommitFailed):
        await c1.commit({next(iter(a2)): 1})

    # new records go to whoever owns the partition, once
    await log.producer().send_batch([ProducerRecord("s", None, b"new%d" % p, partition=p) for p in range(4)])
    r1, r2 = await asyncio.gather(c1.poll(timeout_ms=300), c2.poll(timeout_ms=300))
    assert {(r.topic, r.partition) for r in r1} == a1 and {(r.topic, r.partition) for r in r2} == a2

    events.clear()
    await c2.stop()
    assert events == [("c2", "revoked", sorted(a2))]
    await c1.poll(timeout_ms=100)
    assert c1.assignment() == {TP("s", p) for p in range(4)}
    assert events[-1] == ("c1", "assigned", sorted(a2))
    await c1.stop()


async def test_pattern_subscription_sees_topics_created_later(log):
    await log.create_topics([NewTopic("db.users"), NewTopic("other")])
    consumer = log.consumer("pat")
    await consumer.subscribe(pattern=r"db\..*")
    assert consumer.assignment() == {TP("db.users", 0)}
    await log.producer().send_batch(
        [ProducerRecord("db.orders", None, b"o1"), ProducerRecord("xdb.orders", None, b"no")]
    )
    got = await drain(consumer, 1)
    assert [(r.topic, r.value) for r in got] == [("db.orders", b"o1")]
    assert consumer.assignment() == {TP("db.users", 0), TP("db.orders", 0)}
    await consumer.stop()


async def test_committed_positions_are_per_group(log):
    await log.producer().send_batch([ProducerRecord("t", None, b"%d" % i) for i in range(5)])
    a, b = log.consumer("a"), log.consumer("b")
    await a.subscribe(topics=["t"])
    await b.subscribe(topics=["t"])
    await drain(a, 5)
    await a.commit({TP("t", 0): 5})
    assert len(await drain(b, 5)) == 5
    assert await log.committed_offsets("a") == {TP("t", 0): 5}
    assert await log.committed_offsets("b") == {}
    with pytest.raises(GroupNotEmpty):
        await log.alter_committed_offsets("a", {TP("t", 0): 1})
    with pytest.raises(GroupNotEmpty):
        await log.delete_group("a")
    await a.stop()
    await b.stop()
    await log.alter_committed_offsets("a", {TP("t", 0): 2})
    a = log.consumer("a")
    await a.subscribe(topics=["t"])
    assert [r.offset for r in await drain(a, 3)] == [2, 3, 4]
    await a.stop()
    await log.alter_committed_offsets("a", {TP("t", 0): None})
    assert await log.committed_offsets("a") == {}
    await log.delete_group("a")
    await log.delete_group("never-existed")


async def test_latest_reset_seek_and_pause(log):
    await log.producer().send_batch([ProducerRecord("t", None, b"old")])
    consumer = log.consumer("late", {"auto.offset.reset": "latest"})
    await consumer.subscribe(topics=["t"])
    assert await consumer.poll(timeout_ms=100) == []
    await log.producer().send_batch([ProducerRecord("t", None, b"new")])
    assert [r.value for r in await drain(consumer, 1)] == [b"new"]
    consumer.seek(TP("t", 0), 0)
    consumer.pause([TP("t", 0)])
    assert await consumer.poll(timeout_ms=100) == []
    consumer.resume([TP("t", 0)])
    assert [r.value for r in await drain(consumer, 2)] == [b"old", b"new"]
    await consumer.stop()
    await consumer.stop()


async def test_waiting_poll_wakes_on_append_without_busy_loop(log):
    consumer = log.consumer("w")
    await consumer.subscribe(topics=["t"])
    await log.producer().send_batch([ProducerRecord("t", None, b"first")])
    await drain(consumer, 1)

    async def later():
        await asyncio.sleep(0.05)
        await log.producer().send_batch([ProducerRecord("t", None, b"x")])

    task = asyncio.create_task(later())
    t0 = time.monotonic()
    got = await consumer.poll(timeout_ms=5000)
    assert [r.value for r in got] == [b"x"] and time.monotonic() - t0 < 2
    await task
    await consumer.stop()


# -- retention ---------------------------------------------------------------------------------------------------


async def test_retention_by_size_deletes_old_segments(tmp_path):
    log = await open_log(tmp_path, segment_bytes=2000, retention_bytes=6000)
    try:
        consumer = log.consumer("slow")
        await consumer.subscribe(topics=["t"])
        producer = log.producer()
        for i in range(50):
            await producer.send_batch([ProducerRecord("t", None, b"%05d" % i + b"x" * 200)])
        files = segment_files(tmp_path, "t")
        size = sum(os.path.getsize(f) for f in files)
        assert 6000 <= size < 6000 + 2 * 2000
        start = (await log.beginning_offsets([TP("t", 0)]))[TP("t", 0)]
        assert start > 0 and await log.end_offsets([TP("t", 0)]) == {TP("t", 0): 50}
        got = await drain(consumer, 50 - start)  # position 0 fell below the log start: continues there
        assert [r.offset for r in got] == list(range(start, 50))
        assert got[0].value.startswith(b"%05d" % start)
    finally:
        await log.stop()


async def test_retention_by_age_deletes_expired_records_and_offsets_continue(tmp_path):
    log = await open_log(tmp_path, segment_bytes=1000, retention_ms=60_000)
    try:
        old = int(time.time() * 1000) - 3_600_000
        producer = log.producer()
        for i in range(20):
            await producer.send_batch([ProducerRecord("t", None, b"y" * 100, timestamp=old + i)])
        await log.enforce_retention()
        assert await log.beginning_offsets([TP("t", 0)]) == {TP("t", 0): 20}
        metas = await producer.send_batch([ProducerRecord("t", None, b"fresh")])
        assert metas[0].offset == 20
        consumer = log.consumer("c")
        await consumer.subscribe(topics=["t"])
        assert [(r.offset, r.value) for r in await drain(consumer, 1)] == [(20, b"fresh")]
        await log.enforce_retention()
        assert await log.beginning_offsets([TP("t", 0)]) == {TP("t", 0): 20}
        await consumer.stop()
    finally:
        await log.stop()


# -- other processes ---------------------------------------------------------------------------------------------

CHILD = """
import asyncio, sys
from miniconnect.transport.embedded import EmbeddedLog
from miniconnect.transport.base import ProducerRecord

async def main():
    log = EmbeddedLog(sys.argv[1], segment_bytes=int(sys.argv[2]))
    await log.start()
    producer = log.producer()
    for b in range(10):
        await producer.send_batch([ProducerRecord("shared", None, b"ext-%d-%d" % (b, i), partition=0)
                                   for i in range(50)])
        await asyncio.sleep(0.01)
    await producer.send_batch([ProducerRecord("fromchild", None, b"hello")])
    await log.stop()

asyncio.run(main())
"""


@pytest.mark.parametrize("segment_bytes", [64 << 20, 3000], ids=["one-segment", "rolling-segments"])
async def test_another_process_appends_while_this_one_consumes_and_appends(tmp_path, segment_bytes):
    log = await open_log(tmp_path, segment_bytes=segment_bytes)
    try:
        await log.create_topics([NewTopic("shared")])
        consumer = log.consumer("worker")
        await consumer.subscribe(pattern="shared|fromchild")
        child = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD, str(tmp_path), str(segment_bytes))
        producer = log.producer()
        for b in range(10):
            await producer.send_batch(
                [ProducerRecord("shared", None, b"int-%d-%d" % (b, i), partition=0) for i in range(50)]
            )
            await asyncio.sleep(0.02)
        got = await drain(consumer, 1001, timeout=30)
        assert await child.wait() == 0
        shared = [r for r in got if r.topic == "shared"]
        assert [r.offset for r in shared] == list(range(1000))
        values = [r.value for r in shared]
        assert len(set(values)) == 1000
        ext = [v for v in values if v.startswith(b"ext-")]
        assert ext == sorted(ext, key=lambda v: tuple(int(x) for x in v.split(b"-")[1:]))
        assert [(r.topic, r.value) for r in got if r.topic == "fromchild"] == [("fromchild", b"hello")]
        await consumer.stop()
        if segment_bytes < 1 << 20:
            assert len(segment_files(tmp_path, "shared")) > 5
        reopened = await open_log(tmp_path)  # what both processes wrote reads back whole after a restart
        try:
            again = reopened.consumer("other")
            await again.subscribe(topics=["shared"])
            assert [r.value for r in await drain(again, 1000)] == values
            await again.stop()
        finally:
            await reopened.stop()
    finally:
        await log.stop()
