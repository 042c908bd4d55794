"""Records from fetched batches (transport/kafka/fetch.py) without a broker: slicing, fetch positions, v0/v1 sets, CRCs."""

import pytest
from aiokafka.consumer import fetcher
from aiokafka.errors import CorruptRecordException
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.legacy_records import LegacyRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.structs import TopicPartition

from miniconnect.transport.base import ConsumerRecord, RecordBatch, batches_of, records_of
from miniconnect.transport.kafka import fetch as kafka_fetch

TP = TopicPartition("t", 3)


def _v2(base: int, n: int, log_append: bool = False) -> bytes:
    b = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, 10**6)
    for i in range(n):
        b.append(i, 1_000 + base + i, b"k" if i % 2 else None, b"v%d" % (base + i), [("h", b"%d" % i)] if i else [])
    data = bytearray(b.build())
    data[0:8] = base.to_bytes(8, "big")  # the broker assigns the base offset
    if log_append:
        data[22] |= 0x08  # attributes bit 3: timestamp type LogAppendTime (the CRC covers it: not checked here)
    return bytes(data)


def _records(data: bytes, position: int, check_crcs: bool = False, stock: bool = False):
    """As the fetcher builds them (its MemoryRecords keeps the bytes once installed), or from aiokafka's own."""
    assert kafka_fetch.install()
    records = MemoryRecords(data) if stock else fetcher.MemoryRecords(data)
    return fetcher.PartitionRecords(TP, records, [], position, None, None, check_crcs, 0)


def take(pr, n: int) -> tuple[list[ConsumerRecord], bool]:
    """PartitionRecords.take, its RecordBatch as ConsumerRecords."""
    batch, used_up = pr.take(n)
    assert isinstance(batch, RecordBatch) and batch.topic == TP.topic and batch.partition == TP.partition
    return batch.records(), used_up


def test_take_slices_batches_and_tracks_the_fetch_position():
    pr = _records(_v2(0, 5) + _v2(5, 5), 0)
    first, used_up = take(pr, 3)
    assert [r.offset for r in first] == [0, 1, 2] and not used_up and pr.next_fetch_offset == 3
    rest, used_up = take(pr, 100)
    assert [r.offset for r in rest] == list(range(3, 10)) and used_up and pr.next_fetch_offset == 10
    r = rest[3]
    assert r == ConsumerRecord("t", 3, 6, 1_006, b"k", b"v6", [("h", b"1")], "CreateTime")
    assert list(first[0].headers) == []


def test_records_without_headers_share_one_empty_tuple_and_the_others_keep_theirs():
    b = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, 10**6)
    for i in range(4):
        b.append(i, 1_000 + i, None, b"v%d" % i, [])
    bare = b.build()
    batch, _ = _records(bytes(bare) + _v2(4, 3), 0).take(100)
    assert batch.headers[:4] == [kafka_fetch.NO_HEADERS] * 4 and all(
        h is kafka_fetch.NO_HEADERS for h in batch.headers[:4]
    )
    # a batch with headers on some records: aiokafka's own decoding of each, empty ones included
    stock = list(MemoryRecords(_v2(4, 3)).next_batch())
    assert batch.headers[4:] == [r.headers for r in stock] == [[], [("h", b"1")], [("h", b"2")]]
    assert batch.offsets == list(range(7)) and batch.values == [b"v%d" % i for i in range(7)]


def test_a_fetch_from_inside_a_batch_starts_at_the_position():
    records, used_up = take(_records(_v2(0, 5) + _v2(5, 5), 7), 100)
    assert [r.offset for r in records] == [7, 8, 9] and used_up


def test_log_append_time_is_named():
    records, _ = take(_records(_v2(0, 2, log_append=True), 0), 10)
    assert {r.timestamp_type for r in records} == {"LogAppendTime"}


def test_a_take_over_batches_of_both_timestamp_types_names_each_record():
    pr = _records(_v2(0, 2) + _v2(2, 2, log_append=True) + _v2(4, 1), 0)
    batch, used_up = pr.take(100)
    assert batch.timestamp_types == ["CreateTime"] * 2 + ["LogAppendTime"] * 2 + ["CreateTime"] and used_up
    assert [r.timestamp_type for r in batch.records()] == batch.timestamp_types
    whole = _records(_v2(0, 2) + _v2(2, 3), 0).take(100)[0]
    assert whole.timestamp_types == "CreateTime" and len(whole) == 5  # one name for all: no list per record
    assert [r.offset for r in whole.slice(1, 4).records()] == [1, 2, 3]


def test_record_batches_from_consumer_records_and_back():
    records = [
        ConsumerRecord("a", 0, 5, 1, None, b"x"),
        ConsumerRecord("a", 0, 6, 2, b"k", b"y"),
        ConsumerRecord("a", 1, 0, 3, None, b"z", [("h", b"1")], "LogAppendTime"),
        ConsumerRecord("a", 0, 7, 4, None, None),
    ]
    batches = batches_of(records)
    assert [(b.topic, b.partition, b.offsets) for b in batches] == [("a", 0, [5, 6]), ("a", 1, [0]), ("a", 0, [7])]
    assert records_of(batches) == records


def test_message_format_v1_sets_are_read_too():
    b = LegacyRecordBatchBuilder(1, 0, 10**6)
    for i in range(5):
        b.append(i, 1_000 + i, None, b"v%d" % i)
    pr = _records(bytes(b.build()), 2)
    records, used_up = take(pr, 10)
    assert [(r.offset, r.value, r.timestamp_type) for r in records] == [
        (2, b"v2", "CreateTime"),
        (3, b"v3", "CreateTime"),
        (4, b"v4", "CreateTime"),
    ]
    assert used_up and pr.next_fetch_offset == 5


def test_crcs_of_every_batch_are_checked_by_crc32c_and_a_corrupt_one_is_refused():
    good = _v2(0, 3) + _v2(3, 4) + _v2(7, 2)
    records, used_up = take(_records(good, 0, check_crcs=True), 100)
    assert [r.offset for r in records] == list(range(9)) and used_up
    for where in (len(_v2(0, 3)) + 30, len(good) - 1):  # in the second batch's header part, in the last record
        data = bytearray(good)
        data[where] ^= 0xFF
        pr = _records(bytes(data), 0, check_crcs=True)
        with pytest.raises(CorruptRecordException):
            take(pr, 100)
        assert len(take(_records(bytes(data), 0, check_crcs=False), 100)[0]) == 9  # check.crcs=false: not looked at


def test_crcs_without_the_kept_bytes_and_of_v1_sets_are_aiokafkas():
    data = bytearray(_v2(0, 3))
    data[-1] ^= 0xFF
    with pytest.raises(CorruptRecordException):
        take(_records(bytes(data), 0, check_crcs=True, stock=True), 10)
    b = LegacyRecordBatchBuilder(1, 0, 10**6)
    for i in range(3):
        b.append(i, 1_000 + i, None, b"v%d" % i)
    v1 = bytes(b.build())
    assert len(take(_records(v1, 0, check_crcs=True), 10)[0]) == 3
    bad = bytearray(v1)
    bad[-1] ^= 0xFF
    with pytest.raises(CorruptRecordException):
        take(_records(bytes(bad), 0, check_crcs=True), 10)


def test_used_up_records_are_freed_without_the_cyclic_gc():
    """No reference cycle keeps the fetched bytes: aiokafka's unstarted record generator held one."""
    import gc
    import weakref

    gc.disable()
    try:
        pr = _records(_v2(0, 5), 0)
        take(pr, 100)
        gone = weakref.ref(pr)
        del pr
        assert gone() is None
    finally:
        gc.enable()


def test_the_stock_iteration_still_works():
    pr = _records(_v2(0, 3) + _v2(3, 2), 1)
    assert [r.offset for r in pr] == [1, 2, 3, 4]


def test_aiokafka_records_make_a_batch_where_the_batch_path_is_not_installed():
    from aiokafka.structs import ConsumerRecord as AioRecord

    from miniconnect.transport.kafka.consumer import _stock_batch

    stock = [
        AioRecord(
            "t",
            3,
            10 + i,
            1_000 + i,
            i % 2,
            b"k" if i else None,
            b"v%d" % i,
            None,
            1,
            2,
            [("h", b"1")] if i == 2 else (),
        )
        for i in range(3)
    ]
    batch = _stock_batch(stock)
    assert batch.records() == [
        ConsumerRecord("t", 3, 10, 1_000, None, b"v0", (), "CreateTime"),
        ConsumerRecord("t", 3, 11, 1_001, b"k", b"v1", (), "LogAppendTime"),
        ConsumerRecord("t", 3, 12, 1_002, b"k", b"v2", [("h", b"1")], "CreateTime"),
    ]
