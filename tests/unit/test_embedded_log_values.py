"""The embedded log takes keyless records as a column of values (prepare_values / send_prepared, as the Kafka producer
does): framed by Arrow in the writer thread into the same bytes as record by record, one sticky partition per send,
read back in order after a restart."""

from __future__ import annotations

import time

import pytest
from helpers.log_records import drain

from miniconnect.connector import TopicPartition
from miniconnect.data.value_column import ValueColumn
from miniconnect.transport.base import NewTopic, ProducerRecord
from miniconnect.transport.embedded import EmbeddedLog
from miniconnect.transport.embedded.segment import encode_records, encode_value_column

VALUES = [b"", b"a", b"with \x00 and \xff bytes", "h\u00e9llo \u2603".encode() * 40, b'{"id":1}' * 2000]


async def open_log(path) -> EmbeddedLog:
    log = EmbeddedLog(str(path))
    await log.start()
    return log


@pytest.mark.parametrize("lo,hi", [(0, len(VALUES)), (1, 4), (3, 4), (2, 2)])
def test_column_framing_is_the_record_framing(lo, hi):
    column = ValueColumn.from_list(VALUES)[lo:hi]  # a slice: Arrow offsets that do not start at 0
    expected, max_ts = encode_records([ProducerRecord("t", None, v) for v in VALUES[lo:hi]], 1_700_000_000_123)
    assert bytes(encode_value_column(column, 1_700_000_000_123)) == expected
    assert max_ts == (1_700_000_000_123 if hi > lo else -1)


async def test_prepared_values_land_in_one_sticky_partition_each_and_read_back_after_a_restart(tmp_path):
    log = await open_log(tmp_path)
    await log.create_topics([NewTopic("src", partitions=3)])
    producer = log.producer()
    assert producer.frames_values
    sends = [[f"{s}-{i}".encode() for i in range(200)] for s in range(6)]
    for values in sends:
        prepared = await producer.prepare_values("src", ValueColumn.from_list(values))
        assert len(prepared) == 200
        await producer.send_prepared(prepared)
    await producer.send_prepared(await producer.prepare_values("src", ValueColumn.from_list([])))  # nothing
    await log.stop()

    log = await open_log(tmp_path)  # durable: send_prepared returned after the fsync
    try:
        consumer = log.consumer("g")
        await consumer.subscribe(topics=["src"])
        got = await drain(consumer, 1200)
        by_partition: dict[int, list] = {}
        for r in got:
            by_partition.setdefault(r.partition, []).append(r)
        assert set(by_partition) == {0, 1, 2}
        for records in by_partition.values():  # dense offsets, every send whole and in order within its partition
            assert [r.offset for r in records] == list(range(len(records)))
            assert all(r.key is None and not r.headers for r in records)
        assert sorted(r.value for r in got) == sorted(v for values in sends for v in values)
        for values in sends:
            where = {r.partition for r in got if r.value in set(values)}
            assert len(where) == 1
        assert all(abs(r.timestamp - time.time() * 1000) < 60_000 for r in got)
        await consumer.stop()
    finally:
        await log.stop()


async def test_prepared_values_sent_twice_are_appended_twice(tmp_path):
    """What the source runner does after a failed send (at least once): the prepared batch goes again whole."""
    log = await open_log(tmp_path)
    try:
        producer = log.producer()
        prepared = await producer.prepare_values("one", ValueColumn.from_list(VALUES))
        await producer.send_prepared(prepared)
        await producer.send_prepared(prepared)
        consumer = log.consumer("g")
        await consumer.subscribe(topics=["one"])
        got = await drain(consumer, 2 * len(VALUES))
        assert {r.partition for r in got} == {0}
        assert [r.value for r in got] == VALUES + VALUES
        assert [r.offset for r in got] == list(range(2 * len(VALUES)))
        assert consumer.assignment() == {TopicPartition("one", 0)}
        await consumer.stop()
    finally:
        await log.stop()
