"""KafkaTransport against a real broker."""

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from miniconnect.connector import TopicPartition
from miniconnect.data.value_column import ValueColumn
from miniconnect.errors import ConnectError, RetriableError
from miniconnect.transport.base import GroupNotEmpty, NewTopic, ProducerRecord, RecordBatch, records_of
from miniconnect.transport.kafka import KafkaTransport, client_kwargs
from miniconnect.transport.kafka import fetch as kafka_fetch
from miniconnect.transport.kafka import reader as kafka_reader
from miniconnect.transport.kafka.config import PRODUCER_SETTINGS

# The fixtures' clients live on the session loop, so the tests must run there too.
pytestmark = pytest.mark.asyncio(loop_scope="session")


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def transport(kafka_bootstrap):
    t = KafkaTransport(
        kafka_bootstrap, {"linger.ms": "2"}, {"session.timeout.ms": "6000", "heartbeat.interval.ms": "500"}, {}
    )
    await t.start()
    try:
        yield t
    finally:
        await t.stop()


async def _poll_until(consumer, count: int, timeout: float = 30) -> list:
    out: list = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        out += await consumer.poll(timeout_ms=500)
    return out


async def _reader_from_start(transport, topic: str):
    """A started consumer in a new group, subscribed to the topic from its first record."""
    consumer = transport.consumer(_name("g"), {"auto.offset.reset": "earliest"})
    await consumer.subscribe([topic])
    await consumer.start()
    return consumer


async def _create(transport, name: str, partitions: int = 1) -> None:
    assert await transport.create_topics([NewTopic(name, partitions)]) == [name]


async def test_send_batch_returns_metadata_in_order_and_records_are_consumed(transport):
    topic = _name("batch")
    await _create(transport, topic, partitions=3)
    producer = transport.producer({"compression.type": "gzip"})
    await producer.start()
    try:
        records = [
            ProducerRecord(topic, f"k{i % 5}".encode(), f"v{i}".encode(), headers=[("h", b"x")]) for i in range(200)
        ]
        records.append(ProducerRecord(topic, b"k0", None, partition=2, timestamp=1_700_000_000_000))
        meta = await producer.send_batch(records)
    finally:
        await producer.stop()
        await producer.stop()  # safe twice
    assert len(meta) == 201 and {m.topic for m in meta} == {topic}
    # Same key -> same partition; offsets grow per partition in input order.
    by_key: dict[bytes, set[int]] = {}
    for r, m in zip(records, meta):
        by_key.setdefault(r.key, set()).add(m.partition)
    assert all(len(parts) == 1 for k, parts in by_key.items() if k != b"k0")
    per_partition: dict[int, list[int]] = {}
    for m in meta:
        per_partition.setdefault(m.partition, []).append(m.offset)
    assert all(offs == sorted(offs) and len(set(offs)) == len(offs) for offs in per_partition.values())
    assert meta[-1].partition == 2

    consumer = transport.consumer(_name("g"))
    await consumer.subscribe([topic])
    await consumer.start()
    try:
        got = await _poll_until(consumer, 201)
    finally:
        await consumer.stop()
    assert sorted(r.value for r in got if r.value) == sorted(f"v{i}".encode() for i in range(200))
    tombstone = [r for r in got if r.value is None]
    assert len(tombstone) == 1 and tombstone[0].timestamp == 1_700_000_000_000 and tombstone[0].partition == 2
    assert got[0].headers == [("h", b"x")] and got[0].timestamp_type == "CreateTime"
    ends = await transport.end_offsets([TopicPartition(topic, p) for p in range(3)])
    assert sum(ends.values()) == 201


async def test_consumer_slices_whole_batches_without_losing_or_repeating_a_record(transport):
    """The consumer hands out records batch by batch (transport/kafka/fetch.py): polls smaller than a batch, a seek into
    the middle of one, headers and timestamps all come out as from aiokafka's own record-by-record path."""
    assert kafka_fetch.installed  # the aiokafka in use has the internals the batch path was written against
    from aiokafka.consumer import fetcher  # and fetched bytes are kept for the CRC-32C check (aiokafka's default)

    assert fetcher.MemoryRecords.__name__ == "KeptMemoryRecords"
    topic = _name("slices")
    await _create(transport, topic)
    producer = transport.producer()
    await producer.start()
    try:  # one batch of 1000, then one of 500 with headers
        await producer.send_batch([ProducerRecord(topic, None, f"a{i}".encode(), partition=0) for i in range(1000)])
        await producer.send_batch(
            [
                ProducerRecord(
                    topic,
                    b"k",
                    f"b{i}".encode(),
                    partition=0,
                    timestamp=1_000 + i,
                    headers=[("n", str(i).encode()), ("empty", None)],
                )
                for i in range(500)
            ]
        )
    finally:
        await producer.stop()
    consumer = await _reader_from_start(transport, topic)
    try:
        got: list = []
        deadline = time.monotonic() + 30
        while len(got) < 1500 and time.monotonic() < deadline:
            chunk = await consumer.poll(max_records=300, timeout_ms=500)
            assert len(chunk) <= 300
            got += chunk
        assert [r.offset for r in got] == list(range(1500))
        assert [r.value for r in got] == [f"a{i}".encode() for i in range(1000)] + [
            f"b{i}".encode() for i in range(500)
        ]
        last = got[-1]
        assert (last.key, last.timestamp, last.timestamp_type) == (b"k", 1_499, "CreateTime")
        assert list(last.headers) == [("n", b"499"), ("empty", None)] and list(got[0].headers) == []
        consumer.seek(TopicPartition(topic, 0), 437)  # inside the first batch
        again = await _poll_until(consumer, 1500 - 437)
        assert [r.offset for r in again] == list(range(437, 1500))
        consumer.seek(TopicPartition(topic, 0), 0)  # as a sink runner reads: columns of one partition each
        batches: list = []
        while sum(map(len, batches)) < 1500 and time.monotonic() < deadline + 30:
            chunk = await consumer.poll_batches(max_records=300, timeout_ms=500)
            assert all(isinstance(b, RecordBatch) and (b.topic, b.partition) == (topic, 0) for b in chunk)
            assert sum(map(len, chunk)) <= 300
            batches += chunk
        assert records_of(batches) == got
    finally:
        await consumer.stop()


async def test_megabyte_responses_come_through_the_chunked_reader_byte_for_byte(transport):
    """Fetch responses of megabytes arrive in many socket chunks; the connections read them with ChunkedReader
    (transport/kafka/reader.py), which joins each frame's chunks once: every value comes out exactly as sent."""
    import os

    assert kafka_reader.installed
    topic = _name("big")
    await _create(transport, topic, partitions=2)
    values = [os.urandom(3000 + i % 997) for i in range(4000)]  # ~14 MB in fetch responses of up to 1 MB/partition
    producer = transport.producer()
    await producer.start()
    try:
        for lo in range(0, len(values), 250):
            await producer.send_batch(
                [ProducerRecord(topic, None, v, partition=(lo // 250) % 2) for v in values[lo : lo + 250]]
            )
    finally:
        await producer.stop()
    consumer = await _reader_from_start(transport, topic)
    try:
        got = await _poll_until(consumer, len(values))
        conns = list(consumer._consumer._client._conns.values())
        assert conns and all(isinstance(c._reader, kafka_reader.ChunkedReader) for c in conns if c._reader)
    finally:
        await consumer.stop()
    by_partition = {p: [v for i, v in enumerate(values) if (i // 250) % 2 == p] for p in (0, 1)}
    for p in (0, 1):
        assert [r.value for r in got if r.partition == p] == by_partition[p]


async def test_log_append_time_and_aborted_transactions_are_honoured(transport, kafka_bootstrap):
    topic = _name("appendtime")
    assert await transport.create_topics([NewTopic(topic, 1, 1, {"message.timestamp.type": "LogAppendTime"})])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=_name("tx"))
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(topic, b"committed-1", timestamp_ms=1_000)
        await producer.begin_transaction()
        await producer.send_and_wait(topic, b"aborted", timestamp_ms=1_000)
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send_and_wait(topic, b"committed-2", timestamp_ms=1_000)
    finally:
        await producer.stop()
    for isolation, expected in (
        ("read_committed", [b"committed-1", b"committed-2"]),
        ("read_uncommitted", [b"committed-1", b"aborted", b"committed-2"]),
    ):
        consumer = transport.consumer(_name("g"), {"auto.offset.reset": "earliest", "isolation.level": isolation})
        await consumer.subscribe([topic])
        await consumer.start()
        try:
            got = await _poll_until(consumer, len(expected))
            await asyncio.sleep(0.5)
            got += await consumer.poll(timeout_ms=200)  # nothing more: the control records are not handed out
        finally:
            await consumer.stop()
        assert [r.value for r in got] == expected, isolation
        assert all(r.timestamp_type == "LogAppendTime" and r.timestamp > 1_000 for r in got)


@pytest.mark.parametrize(
    "batch_size, tombstone, headers",
    [
        ("4096", False, False),  # split across producer batches
        ("1000000", False, False),  # one batch, appended all at once (KafkaProducer._fits_whole)
        ("1000000", True, False),  # a null value and headers take the record-by-record path
        ("1000000", False, True),
    ],
)
async def test_keyless_batch_keeps_order_in_one_partition(transport, batch_size, tombstone, headers):
    topic = _name("keyless")
    await _create(transport, topic, partitions=2)
    producer = transport.producer({"batch.size": batch_size})
    await producer.start()
    try:
        records = [
            ProducerRecord(
                topic,
                None,
                b"%05d" % i + b"x" * 200,
                timestamp=1_000 + i,
                headers=[("h", b"%d" % i)] if headers else (),
            )
            for i in range(300)
        ]
        if tombstone:
            records[150] = ProducerRecord(topic, None, None, timestamp=1_150)
        meta = await producer.send_batch(records)
    finally:
        await producer.stop()
    assert len({m.partition for m in meta}) == 1  # one sticky partition per call
    assert [m.offset for m in meta] == list(range(meta[0].offset, meta[0].offset + 300))
    consumer = transport.consumer(_name("g"))
    await consumer.subscribe([topic])
    await consumer.start()
    try:
        got = await _poll_until(consumer, 300)
    finally:
        await consumer.stop()
    assert [r.value for r in got] == [r.value for r in records]
    assert [r.offset for r in got] == [m.offset for m in meta]
    assert [r.timestamp for r in got] == list(range(1_000, 1_300))
    assert [list(r.headers) for r in got] == [list(r.headers) for r in records]


@pytest.mark.parametrize(
    "batch_size, compression",
    [("4096", None), ("1000000", None), ("16384", "gzip"), ("1000000", "zstd")],
)
async def test_prepared_values_arrive_in_order_as_keyless_records(transport, batch_size, compression):
    """Values framed off the loop (prepare_values) by the idempotent producer: one call's records in one partition,
    in order, each batch's sequence following the last (the broker refuses a gap); sending a prepared set again
    (what a retry after an outage does) sends the same records again."""
    topic = _name("prepared")
    await _create(transport, topic, partitions=2)
    config = {"batch.size": batch_size, **({"compression.type": compression} if compression else {})}
    producer = transport.producer(config)
    await producer.start()
    values = [b"%05d" % i + b"x" * (i % 300) for i in range(2_000)]
    column = ValueColumn.from_list(values)
    try:
        first = await producer.prepare_values(topic, column[:1_200])
        second = await producer.prepare_values(topic, column[1_200:])
        assert (len(first), len(second)) == (1_200, 800)
        for prepared in (first, first, second):
            await producer.send_prepared(prepared)
    finally:
        await producer.stop()
    consumer = transport.consumer(_name("g"))
    await consumer.subscribe([topic])
    await consumer.start()
    try:
        got = await _poll_until(consumer, 3_200)
    finally:
        await consumer.stop()
    assert len(got) == 3_200
    by_partition: dict[int, list] = {}
    for r in got:
        by_partition.setdefault(r.partition, []).append(r)
    for rs in by_partition.values():
        assert [r.offset for r in rs] == list(range(rs[0].offset, rs[0].offset + len(rs)))
        assert all(r.key is None and not list(r.headers) for r in rs)
    # calls go round the partitions: the first and third call in one (in that order), the second in the other
    runs = sorted(([r.value for r in rs] for rs in by_partition.values()), key=len)
    assert runs == [values[:1_200], values]


async def test_batch_over_the_topics_max_message_bytes_fails_with_a_clear_error(transport):
    topic = _name("small")
    assert await transport.create_topics([NewTopic(topic, 1, configs={"max.message.bytes": "2000"})]) == [topic]
    producer = transport.producer({})
    await producer.start()
    try:
        await producer.send_batch([ProducerRecord(topic, None, b"x" * 500)])  # one small record fits
        with pytest.raises(
            ConnectError,
            match=r"batch of 10 records \(\d+ bytes\) for topic .* too large.*"
            r"max.message.bytes.*producer.batch.size",
        ):
            await producer.send_batch([ProducerRecord(topic, None, b"x" * 500) for _ in range(10)])
    finally:
        await producer.stop()


async def test_group_commit_is_read_back_and_next_member_resumes_there(transport):
    topic, group = _name("commit"), _name("g")
    await _create(transport, topic)
    producer = transport.producer()
    await producer.start()
    await producer.send_batch([ProducerRecord(topic, None, f"v{i}".encode()) for i in range(10)])
    await producer.stop()

    consumer = transport.consumer(group)
    await consumer.subscribe([topic])
    await consumer.start()
    try:
        got = await _poll_until(consumer, 10)
        assert [r.offset for r in got] == list(range(10))
        await consumer.commit({TopicPartition(topic, 0): 4})
        assert consumer.assignment() == {TopicPartition(topic, 0)}
    finally:
        await consumer.stop()
    assert await transport.committed_offsets(group) == {TopicPartition(topic, 0): 4}

    again = transport.consumer(group)
    await again.subscribe([topic])
    await again.start()
    try:
        got = await _poll_until(again, 6)
        assert [r.value for r in got] == [f"v{i}".encode() for i in range(4, 10)]
        again.seek(TopicPartition(topic, 0), 8)
        assert [r.offset for r in await _poll_until(again, 2)] == [8, 9]
        again.pause([TopicPartition(topic, 0)])
        again.seek(TopicPartition(topic, 0), 0)
        assert await again.poll(timeout_ms=300) == []
        again.resume([TopicPartition(topic, 0)])
        assert (await _poll_until(again, 1))[0].offset == 0
    finally:
        await again.stop()


async def test_pattern_subscription_matches_whole_names_including_new_topics(kafka_bootstrap):
    transport = KafkaTransport(kafka_bootstrap, {}, {"metadata.max.age.ms": "500"}, {})
    await transport.start()
    prefix = _name("pat")
    await _create(transport, f"{prefix}.a")
    await _create(transport, f"{prefix}.a-extra.x")  # only a prefix match: must not be consumed
    producer = transport.producer()
    await producer.start()
    consumer = transport.consumer(_name("g"))
    await consumer.subscribe(pattern=rf"{prefix}\.[a-z]")
    await consumer.start()
    try:
        await producer.send_batch(
            [ProducerRecord(f"{prefix}.a", None, b"1"), ProducerRecord(f"{prefix}.a-extra.x", None, b"no")]
        )
        got = await _poll_until(consumer, 1)
        await consumer.commit({TopicPartition(f"{prefix}.a", 0): 1})  # the rebalance below resumes there
        await _create(transport, f"{prefix}.b")  # created after subscribing
        await producer.send_batch([ProducerRecord(f"{prefix}.b", None, b"2")])
        got += await _poll_until(consumer, 1)
        got += await consumer.poll(timeout_ms=500)
        assert sorted((r.topic, r.value) for r in got) == [(f"{prefix}.a", b"1"), (f"{prefix}.b", b"2")]
    finally:
        await consumer.stop()
        await producer.stop()
        await transport.stop()


async def test_two_members_rebalance_with_callbacks(transport):
    topic, group = _name("rebal"), _name("g")
    await _create(transport, topic, partitions=4)
    events: list[tuple[str, str, frozenset]] = []

    def callbacks(name):
        async def assigned(tps):
            events.append((name, "assigned", frozenset(tps)))

        async def revoked(tps):
            await asyncio.sleep(0.05)  # awaited: the rebalance waits for us
            events.append((name, "revoked", frozenset(tps)))

        return assigned, revoked

    a, b = transport.consumer(group), transport.consumer(group)
    a_assigned, a_revoked = callbacks("a")
    await a.subscribe([topic], on_assigned=a_assigned, on_revoked=a_revoked)
    await a.start()
    all_tps = {TopicPartition(topic, p) for p in range(4)}
    try:
        deadline = time.monotonic() + 30
        while a.assignment() != all_tps and time.monotonic() < deadline:
            await a.poll(timeout_ms=200)
        assert a.assignment() == all_tps
        b_assigned, b_revoked = callbacks("b")
        await b.subscribe([topic], on_assigned=b_assigned, on_revoked=b_revoked)
        await b.start()
        deadline = time.monotonic() + 30
        while (len(a.assignment()) != 2 or len(b.assignment()) != 2) and time.monotonic() < deadline:
            await asyncio.gather(a.poll(timeout_ms=200), b.poll(timeout_ms=200))
        assert a.assignment() | b.assignment() == all_tps and not a.assignment() & b.assignment()
        assert ("a", "revoked", frozenset(all_tps)) in events
        revoked_at = events.index(("a", "revoked", frozenset(all_tps)))
        assert ("a", "assigned", frozenset(a.assignment())) in events[revoked_at:]
        with pytest.raises(GroupNotEmpty):
            await transport.delete_group(group)
        with pytest.raises(GroupNotEmpty):
            await transport.alter_committed_offsets(group, {TopicPartition(topic, 0): 1})
        b_had = b.assignment()
        await b.stop()
        assert events[-1] == ("b", "revoked", frozenset(b_had))
    finally:
        await a.stop()
        await b.stop()


async def test_create_topics_with_partitions_and_config(transport):
    topic = _name("created")
    new = NewTopic(
        topic, partitions=3, replication_factor=1, configs={"cleanup.policy": "compact", "retention.ms": "123456"}
    )
    assert await transport.create_topics([new]) == [topic]
    assert await transport.create_topics([new]) == []  # already exists: fine, nothing created
    assert (await transport.list_topics())[topic] == 3
    configs = await transport.describe_topic_configs(topic)
    assert configs["cleanup.policy"] == "compact" and configs["retention.ms"] == "123456"
    assert await transport.cluster_id()
    broker_default = _name("brokerdefault")
    assert await transport.create_topics([NewTopic(broker_default, -1, -1)]) == [broker_default]
    assert (await transport.list_topics())[broker_default] == 1  # the test broker's num.partitions


async def test_alter_and_delete_group_offsets(transport):
    topic, group = _name("offs"), _name("g")
    await _create(transport, topic, partitions=2)
    tp0, tp1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
    await transport.alter_committed_offsets(group, {tp0: 5, tp1: 7})
    assert await transport.committed_offsets(group) == {tp0: 5, tp1: 7}
    await transport.alter_committed_offsets(group, {tp0: None})
    assert await transport.committed_offsets(group) == {tp1: 7}
    await transport.delete_group(group)
    assert await transport.committed_offsets(group) == {}
    await transport.delete_group(group)  # a group that does not exist is fine


async def test_unreachable_cluster_is_retried_then_reported():
    transport = KafkaTransport("127.0.0.1:1", {}, {}, {"request.timeout.ms": "1000"}, startup_timeout_s=1.5)
    started = time.monotonic()
    with pytest.raises(RetriableError, match="unreachable"):
        await transport.start()
    assert time.monotonic() - started < 15
    await transport.stop()


async def test_start_waits_for_a_broker_that_comes_up_later(kafka_bootstrap, caplog):
    # A forwarder on a free port stands in for a broker that is still down when the worker starts.
    host, port = kafka_bootstrap.rsplit(":", 1)

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def forward(client_reader, client_writer):
        broker_reader, broker_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(pipe(client_reader, broker_writer), pipe(broker_reader, client_writer))

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        late_port = s.getsockname()[1]
    transport = KafkaTransport(f"127.0.0.1:{late_port}", {}, {}, {"request.timeout.ms": "2000"}, startup_timeout_s=60)
    starting = asyncio.create_task(transport.start())
    await asyncio.sleep(1.5)
    assert not starting.done()
    server = await asyncio.start_server(forward, "127.0.0.1", late_port)
    try:
        await asyncio.wait_for(starting, 30)
        assert await transport.cluster_id()
        assert "not reachable" in caplog.text
    finally:
        await transport.stop()
        server.close()


async def test_java_client_settings_map_to_aiokafka():
    kwargs = client_kwargs(
        {
            "acks": "1",
            "linger.ms": "10",
            "batch.size": "32768",
            "compression.type": "none",
            "client.id": "c",
            "security.protocol": "sasl_plaintext",
            "sasl.mechanism": "PLAIN",
            "sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule "
            'required username="u" password="p\\"w";',
            "key.serializer": "x",
            "no.such.setting": "y",
        },
        PRODUCER_SETTINGS,
        "producer",
    )
    assert kwargs == {
        "acks": 1,
        "linger_ms": 10,
        "max_batch_size": 32768,
        "compression_type": None,
        "client_id": "c",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "u",
        "sasl_plain_password": 'p"w',
    }
