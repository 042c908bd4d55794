"""The Worker on the real embedded log: states, offsets only after acks, commits only after flush, isolation."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest
from helpers.worker import (
    FLUSHED,
    SINK,
    SINK_KEYS,
    SINK_SEEN,
    SOURCE,
    CountingSource,
    CountingSourceTask,
    Listener,
    eventually,
    produce,
    start_connector,
)

from miniconnect.connector import SinkConnector, SinkTask, TopicPartition
from miniconnect.converters.string import StringConverter
from miniconnect.data.records import SinkRecord, SourceRecord
from miniconnect.data.schema import OPTIONAL_STRING_SCHEMA
from miniconnect.runtime.states import State, TargetState, TaskId
from miniconnect.runtime.worker import Worker
from miniconnect.transport.base import ProducerRecord


async def test_source_to_sink_with_offsets_and_commits(worker: Worker) -> None:
    listener: Listener = worker.listener  # type: ignore[assignment]
    await start_connector(worker, "src", SOURCE)
    await start_connector(worker, "sink", SINK)
    assert listener.connectors["src"][0] == State.RUNNING
    await eventually(lambda: len(SINK_SEEN) == 1000)
    assert SINK_SEEN == [f"{n}={n}" for n in range(1000)]
    assert SINK_KEYS == {(OPTIONAL_STRING_SCHEMA, str(n)) for n in range(1000)}
    await eventually(lambda: worker.offsets.all("src") == [({"source": "numbers"}, {"n": 1000})])
    committed = await worker.transport.committed_offsets("connect-sink")
    await eventually(lambda: FLUSHED and FLUSHED[-1].get(TopicPartition("numbers", 0)) == 1000)
    committed = await worker.transport.committed_offsets("connect-sink")
    assert committed[TopicPartition("numbers", 0)] <= 1000
    assert ("src", "numbers") in listener.topics and ("sink", "numbers") in listener.topics
    assert {("src", "numbers", 0), ("sink", "numbers", 0)} <= listener.topic_tasks  # the reporting task's id
    assert listener.tasks[TaskId("src", 0)] == (State.RUNNING, None)


@pytest.mark.parametrize(
    "key_converter, expected",
    [
        ("org.apache.kafka.connect.storage.StringConverter", (OPTIONAL_STRING_SCHEMA, None)),
        ("org.apache.kafka.connect.json.JsonConverter", (None, None)),
    ],
)
async def test_keyless_records_get_the_key_converters_null(worker: Worker, key_converter: str, expected: Any) -> None:
    await start_connector(worker, "src", {**SOURCE, "count": "300", "keyless": "true"})
    await start_connector(worker, "sink", {**SINK, "key.converter": key_converter})
    await eventually(lambda: len(SINK_SEEN) == 300)
    assert SINK_KEYS == {expected}


class HeaderTagConverter(StringConverter):
    """Appends the names of the record's headers it is given ("-" for none) to every value it converts."""

    class_name = "test.HeaderTagConverter"

    @staticmethod
    def tag(headers: Any) -> str:
        return ",".join(k for k, _ in headers) if headers else "-"

    def from_connect_data(self, topic: str, schema: Any, value: Any, headers: Any = None) -> bytes | None:
        return None if value is None else f"{value}|{self.tag(headers)}".encode()

    def to_connect_data(self, topic: str, data: bytes | None, headers: Any = None) -> tuple[Any, Any]:
        if data is None:
            return OPTIONAL_STRING_SCHEMA, f"null|{self.tag(headers)}" if headers else None
        return OPTIONAL_STRING_SCHEMA, f"{data.decode()}|{self.tag(headers)}"


async def test_converters_get_each_records_headers_in_batches(worker: Worker) -> None:
    """As Kafka's runners call Converter.fromConnectData/toConnectData with the record's headers, the batch paths
    hand each record's headers on (a converter may read them); batches without any take the header-less path."""
    worker.plugins.register(HeaderTagConverter)
    tagged = {"key.converter": "test.HeaderTagConverter", "value.converter": "test.HeaderTagConverter"}
    await start_connector(worker, "src", {**SOURCE, **tagged, "count": "300", "keyless": "true", "headers": "true"})
    await start_connector(worker, "sink", {**SINK, **tagged})
    await eventually(lambda: len(SINK_SEEN) == 300)
    assert SINK_SEEN == [f"null|h={n}|h|h" if n >= 100 and n % 2 == 0 else f"None={n}|-|-" for n in range(300)]


def test_only_converters_that_may_read_headers_are_given_them() -> None:
    from miniconnect.converters.base import reads_headers
    from miniconnect.converters.bytearray import ByteArrayConverter
    from miniconnect.converters.json import JsonConverter

    class QuietJson(JsonConverter):  # changes nothing that converts: still header-blind
        class_name = "test.QuietJson"

    class OwnBatch(ByteArrayConverter):  # its own batch method may look at them
        def to_connect_batch(self, topic: str, datas: Any, headers: Any = None) -> list[tuple[Any, Any]]:
            return super().to_connect_batch(topic, datas, headers)

    assert not any(reads_headers(c()) for c in (StringConverter, ByteArrayConverter, JsonConverter, QuietJson))
    assert reads_headers(HeaderTagConverter()) and reads_headers(OwnBatch())


async def test_source_resumes_from_stored_offsets(worker: Worker) -> None:
    await start_connector(worker, "src", {**SOURCE, "count": "300"})
    await eventually(lambda: worker.offsets.all("src") == [({"source": "numbers"}, {"n": 300})])
    await worker.stop_tasks(worker.connector_tasks("src"))
    await worker.stop_connector("src")
    await start_connector(worker, "src", {**SOURCE, "count": "500"})
    await eventually(lambda: worker.offsets.all("src") == [({"source": "numbers"}, {"n": 500})])
    assert (await worker.transport.end_offsets([TopicPartition("numbers", 0)]))[TopicPartition("numbers", 0)] == 500


async def test_failing_task_is_isolated_and_reports_a_trace(worker: Worker) -> None:
    listener: Listener = worker.listener  # type: ignore[assignment]
    await start_connector(worker, "bad", {**SOURCE, "topic": "other", "fail": "start"})
    await start_connector(worker, "src", SOURCE)
    await eventually(lambda: listener.tasks.get(TaskId("bad", 0), (None,))[0] == State.FAILED)
    _state, trace = listener.tasks[TaskId("bad", 0)]
    assert trace and "RuntimeError: boom in start" in trace
    await eventually(lambda: worker.offsets.all("src") == [({"source": "numbers"}, {"n": 1000})])
    assert listener.tasks[TaskId("src", 0)][0] == State.RUNNING


async def test_sink_failure_commits_nothing_after_the_bad_record(worker: Worker) -> None:
    listener: Listener = worker.listener  # type: ignore[assignment]
    await start_connector(worker, "src", SOURCE)
    await start_connector(worker, "sink", {**SINK, "fail.at": "500"})
    await eventually(lambda: listener.tasks.get(TaskId("sink", 0), (None,))[0] == State.FAILED)
    assert "cannot write topic 'numbers', partition 0, offset 500" in listener.tasks[TaskId("sink", 0)][1]
    committed = await worker.transport.committed_offsets("connect-sink")
    assert committed.get(TopicPartition("numbers", 0), 0) <= 500


async def test_pause_and_resume(worker: Worker) -> None:
    listener: Listener = worker.listener  # type: ignore[assignment]
    await start_connector(worker, "src", {**SOURCE, "count": "1000000000"})
    await worker.set_target_state("src", TargetState.PAUSED)
    assert listener.connectors["src"][0] == State.PAUSED
    assert listener.tasks[TaskId("src", 0)][0] == State.PAUSED
    tp = TopicPartition("numbers", 0)
    await asyncio.sleep(0.2)
    before = (await worker.transport.end_offsets([tp])).get(tp, 0)
    await asyncio.sleep(0.3)
    assert (await worker.transport.end_offsets([tp])).get(tp, 0) == before
    await worker.set_target_state("src", TargetState.STARTED)
    assert listener.tasks[TaskId("src", 0)][0] == State.RUNNING
    await eventually(lambda: listener.tasks[TaskId("src", 0)][0] == State.RUNNING)
    await asyncio.sleep(0.2)
    assert (await worker.transport.end_offsets([tp]))[tp] > before


async def test_stop_is_bounded_for_a_task_that_ignores_stop(worker: Worker) -> None:
    class StuckTask(CountingSourceTask):
        async def poll(self) -> list[SourceRecord] | None:
            await asyncio.sleep(3600)
            return None

    class Stuck(CountingSource):
        task_class = StuckTask

    worker.plugins.register(Stuck)
    ids = await start_connector(worker, "stuck", {**SOURCE, "connector.class": "Stuck"})
    await asyncio.sleep(0.1)
    t0 = asyncio.get_running_loop().time()
    await worker.stop_tasks(ids)
    assert asyncio.get_running_loop().time() - t0 < 5


async def test_sink_fails_on_a_record_it_cannot_convert_and_names_it(worker: Worker) -> None:
    listener: Listener = worker.listener  # type: ignore[assignment]
    await produce(
        worker,
        [ProducerRecord("raw", b"k", b'{"schema":null,"payload":1}'), ProducerRecord("raw", b"k", b'{"not json')],
    )
    await start_connector(worker, "sink", {**SINK, "topics": "raw"})
    await eventually(lambda: listener.tasks.get(TaskId("sink", 0), (None,))[0] == State.FAILED)
    trace = listener.tasks[TaskId("sink", 0)][1]
    assert "Failed to convert the value of the record at topic 'raw', partition 0, offset 1" in trace
    assert SINK_SEEN == []
    assert await worker.transport.committed_offsets("connect-sink") == {}


class TopicRecordingSinkTask(SinkTask):
    """Keeps (topic, offset, key schema, key, value schema, value) of every record, and whether a put mixed topics."""

    seen: list[tuple[Any, ...]] = []
    mixed_puts = 0

    async def start(self, props: dict[str, str]) -> None:
        pass

    async def put(self, records: list[SinkRecord]) -> None:
        TopicRecordingSinkTask.mixed_puts += len({r.topic for r in records}) > 1
        TopicRecordingSinkTask.seen += [
            (r.topic, r.kafka_offset, r.key_schema, r.key, r.value_schema, r.value) for r in records
        ]


class TopicRecordingSink(SinkConnector):
    task_class = TopicRecordingSinkTask

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{}]


async def test_a_batch_of_several_topics_converts_each_record_as_alone(worker: Worker) -> None:
    """Records of several topics in one batch are converted one batch call per topic and put back in order: each
    record ends up with exactly what converting it alone gives (two envelopes per topic, keys only in one topic)."""
    from miniconnect.converters.json import JsonConverter

    def env(field: str, kind: str, value: Any) -> bytes:
        schema = {"type": "struct", "fields": [{"type": kind, "optional": True, "field": field}], "optional": False}
        return json.dumps({"schema": schema, "payload": {field: value}}).encode()

    records = []
    for i in range(400):
        records.append(
            ProducerRecord("ta", f'"k{i}"'.encode(), env("n", "int32", i) if i % 3 else env("s", "string", str(i)))
        )
        records.append(ProducerRecord("tb", None, env("x", "string", f"b{i}") if i % 2 else env("y", "int64", i)))
    await produce(worker, records)
    worker.plugins.register(TopicRecordingSink)
    TopicRecordingSinkTask.seen, TopicRecordingSinkTask.mixed_puts = [], 0
    await start_connector(
        worker,
        "sink",
        {
            "connector.class": "TopicRecordingSink",
            "topics": "ta,tb",
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "key.converter.schemas.enable": "false",
        },
    )
    await eventually(lambda: len(TopicRecordingSinkTask.seen) == 800)
    assert TopicRecordingSinkTask.mixed_puts > 0
    keys, values = JsonConverter(), JsonConverter()
    keys.configure({"schemas.enable": "false"}, True)
    values.configure({}, False)
    by_topic = {"ta": [r for r in records if r.topic == "ta"], "tb": [r for r in records if r.topic == "tb"]}
    for topic, offset, key_schema, key, value_schema, value in TopicRecordingSinkTask.seen:
        sent = by_topic[topic][offset]
        assert (key_schema, key) == keys.to_connect_data(topic, sent.key)
        assert (value_schema, value) == values.to_connect_data(topic, sent.value)
    for topic in ("ta", "tb"):
        assert [o for t, o, *_ in TopicRecordingSinkTask.seen if t == topic] == list(range(400))


class SteeringSinkTask(SinkTask):
    """Slow puts (the runner reads the next batch meanwhile) that rewind once and pause once, like a sink that
    resets its position or applies back-pressure from inside put()."""

    seen: list[int] = []

    async def start(self, props: dict[str, str]) -> None:
        self.puts = 0

    async def put(self, records: list[SinkRecord]) -> None:
        self.puts += 1
        SteeringSinkTask.seen += [r.value for r in records]
        tp = TopicPartition(records[0].topic, records[0].kafka_partition)
        await asyncio.sleep(0.05)  # the read-ahead poll runs now
        if self.puts == 2:
            self.context.offset({tp: 100})
        if self.puts == 4:
            self.context.pause(tp)

            async def resume_later() -> None:
                await asyncio.sleep(0.3)
                self.context.resume(tp)

            asyncio.get_running_loop().create_task(resume_later())


class OneTaskSink(SinkConnector):
    """A sink connector that runs its task_class once, with the connector's own config."""

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]


class SteeringSink(OneTaskSink):
    task_class = SteeringSinkTask


async def test_records_read_ahead_during_put_respect_rewinds_and_pauses_from_put(worker: Worker) -> None:
    SteeringSinkTask.seen = []
    worker.plugins.register(SteeringSink)
    await produce(worker, [ProducerRecord("steer", None, str(i).encode()) for i in range(10000)])
    await start_connector(
        worker,
        "steer",
        {
            "connector.class": "SteeringSink",
            "topics": "steer",
            "consumer.override.max.poll.records": "200",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
        },
    )
    # to the rewind (from inside the 2nd put), then from 100 to the end, through the pause (from the 4th)
    seen = SteeringSinkTask.seen
    await eventually(lambda: seen.count(100) == 2 and seen[-1] == 9999, timeout=20)  # to the end, rewound, again
    await asyncio.sleep(0.3)
    restart = seen.index(100, seen.index(100) + 1)  # the rewind: 100 delivered again right after the 2nd put
    assert seen[:restart] == list(range(len(seen[:restart])))
    assert seen[restart:] == list(range(100, 10000))  # after it: no gap, no repeat, pause or not


class CountingConverter(StringConverter):
    """Counts the values the runner converts, so that a sink can see how far the read-ahead got."""

    class_name = "test.CountingConverter"
    converted = 0

    def to_connect_batch(self, topic: str, datas: Any, headers: Any = None) -> list[tuple[Any, Any]]:
        CountingConverter.converted += len(datas)
        return super().to_connect_batch(topic, datas, headers)


class RoundTripSinkTask(SinkTask):
    """A put() made of many small round trips, like a database transaction; notes how many records the runner had
    converted at each of them."""

    steps: list[int] = []

    async def start(self, props: dict[str, str]) -> None:
        pass

    async def put(self, records: list[SinkRecord]) -> None:
        loop = asyncio.get_running_loop()
        start = CountingConverter.converted
        for _ in range(200):  # until the runner reads ahead (it has nothing left to read after the last batch)
            if CountingConverter.converted != start:
                break
            await asyncio.sleep(0.001)
        for _ in range(20):
            reply = loop.create_future()
            loop.call_soon(reply.set_result, None)  # answered at once, like a fast database
            await reply
            RoundTripSinkTask.steps.append(CountingConverter.converted)
        RoundTripSinkTask.steps.append(-1)  # end of this put


class RoundTripSink(OneTaskSink):
    task_class = RoundTripSinkTask


async def test_read_ahead_leaves_room_for_the_round_trips_of_put(
    worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next batch is converted in slices while put() runs: each of put()'s round trips waits for at most
    about one slice of conversion, not for the whole read-ahead (a poll that finds records does not yield)."""
    from miniconnect.runtime import sink_task
    from miniconnect.runtime.sink_task import READ_AHEAD_SLICE

    monkeypatch.setattr(sink_task, "PUT_BATCH_POLLS", 8)  # put() batches of 4,000: several in 12,000 records

    RoundTripSinkTask.steps, CountingConverter.converted = [], 0
    worker.plugins.register(RoundTripSink)
    worker.plugins.register(CountingConverter)
    await produce(worker, [ProducerRecord("trips", None, str(i).encode()) for i in range(12000)])
    await start_connector(
        worker,
        "trips",
        {"connector.class": "RoundTripSink", "topics": "trips", "value.converter": "test.CountingConverter"},
    )
    await eventually(
        lambda: CountingConverter.converted >= 12000 and RoundTripSinkTask.steps.count(-1) >= 3, timeout=20
    )
    steps = RoundTripSinkTask.steps
    jumps = [b - a for a, b in itertools.pairwise(steps) if a >= 0 and b >= 0]
    assert max(jumps) <= 2 * READ_AHEAD_SLICE, jumps
    assert sum(jumps) >= 1000  # and the read-ahead did go on while put() ran
