"""errors.retry.timeout / errors.retry.delay.max.ms on the real embedded log, as Kafka's RetryWithToleranceOperator:
a conversion or transformation that raises a RetriableError is retried with back-off and the record goes through
once it recovers; one that does not recover within the timeout ends in tolerance handling (the DLQ, or FAILED)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from helpers.worker import SINK, SINK_SEEN, SOURCE, Listener, eventually, produce, start_connector

from miniconnect.config.configdef import ConfigDef, ConfigType
from miniconnect.connector import TopicPartition
from miniconnect.converters.string import StringConverter
from miniconnect.errors import RetriableError
from miniconnect.runtime.error_handling import RETRIES_DELAY_MIN_MS, retry_delay_ms
from miniconnect.runtime.states import State, TaskId
from miniconnect.runtime.worker import Worker
from miniconnect.transforms import Transformation
from miniconnect.transport.base import ProducerRecord

RETRY = {"errors.retry.timeout": "60000", "errors.retry.delay.max.ms": "50"}
FAILED_CALLS: Counter[Any] = Counter()


class FlakyTransform(Transformation):
    """Raises a RetriableError for the record whose value is `value`, `times` times (-1: always); adds 1000."""

    class_name = "com.example.FlakyTransform"
    config_def = ConfigDef().define("value", ConfigType.INT, 7).define("times", ConfigType.INT, 2)

    def configure(self, props: Any) -> None:
        c = self.config_def.parse(props)
        self.value, self.times, self.calls = c["value"], c["times"], FAILED_CALLS

    def apply(self, record: Any) -> Any:
        if record.value == self.value and (self.times < 0 or self.calls[self.class_name] < self.times):
            self.calls[self.class_name] += 1
            raise RetriableError(f"the lookup for {record.value} is not available yet")
        return record._replace(value=record.value + 1000)


class FlakyConverter(StringConverter):
    """A value converter whose service is away: b"7" fails with a RetriableError `flaky.times` times (-1: always)."""

    class_name = "com.example.FlakyConverter"
    ignores_headers = True

    def configure(self, configs: Any, is_key: bool) -> None:
        super().configure({}, is_key)
        self.times, self.calls = int(configs.get("flaky.times", 2)), FAILED_CALLS

    def to_connect_data(self, topic: str, data: bytes | None, headers: Any = None) -> Any:
        if data == b"7" and (self.times < 0 or self.calls[self.class_name] < self.times):
            self.calls[self.class_name] += 1
            raise RetriableError("the schema service is not reachable")
        return super().to_connect_data(topic, data, headers)


async def _failed_trace(w: Worker, connector: str) -> str:
    listener: Listener = w.listener  # type: ignore[assignment]
    task = TaskId(connector, 0)
    await eventually(lambda: listener.tasks.get(task, (None,))[0] == State.FAILED, timeout=60)
    return listener.tasks[task][1] or ""


def setup_function() -> None:
    """A new count per test: an instance a previous test left behind (the session's event loop runs on) counts
    into its own test's Counter, which it took at configure()."""
    global FAILED_CALLS
    FAILED_CALLS = Counter()


def test_back_off_doubles_from_300_ms_then_is_random_below_the_maximum() -> None:
    assert [retry_delay_ms(n, 60_000) for n in (1, 2, 3, 4)] == [300, 600, 1200, 2400]
    assert RETRIES_DELAY_MIN_MS == 300
    assert all(0 <= retry_delay_ms(n, 1000) < 1000 for n in range(3, 60))
    assert retry_delay_ms(1, 1000) == 300 and retry_delay_ms(2, 1000) == 600


async def test_source_transform_that_recovers_is_retried_and_the_record_goes_through(worker: Worker) -> None:
    worker.plugins.register(FlakyTransform)
    config = {
        **SOURCE,
        "count": "20",
        "topic": "t",
        "transforms": "f",
        "transforms.f.type": "FlakyTransform",
        "transforms.f.times": "3",
        **RETRY,
    }
    await start_connector(worker, "src", config)
    await eventually(lambda: worker.offsets.all("src") == [({"source": "t"}, {"n": 20})], timeout=60)
    assert await worker.transport.end_offsets([TopicPartition("t", 0)]) == {TopicPartition("t", 0): 20}
    listener: Listener = worker.listener  # type: ignore[assignment]
    assert listener.tasks[TaskId("src", 0)] == (State.RUNNING, None)
    errors = worker.tasks[TaskId("src", 0)].errors  # type: ignore[attr-defined]
    # the batch's failed try (the runner then goes record by record), then two retries with back-off
    assert FAILED_CALLS["com.example.FlakyTransform"] == 3
    assert (errors.total_retries, errors.total_record_failures, errors.total_records_skipped) == (2, 2, 0)


async def test_source_transform_that_does_not_recover_fails_the_task_after_the_timeout(worker: Worker) -> None:
    worker.plugins.register(FlakyTransform)
    config = {
        **SOURCE,
        "count": "20",
        "topic": "t",
        "transforms": "f",
        "transforms.f.type": "FlakyTransform",
        "transforms.f.times": "-1",
        "errors.retry.timeout": "1000",
        "errors.retry.delay.max.ms": "100",
    }
    await start_connector(worker, "src", config)
    trace = await _failed_trace(worker, "src")
    assert "Tolerance exceeded in error handler" in trace and "the lookup for 7 is not available yet" in trace
    assert FAILED_CALLS["com.example.FlakyTransform"] >= 2  # retried before giving up
    assert worker.offsets.all("src") == []


async def test_retriable_failure_without_retry_timeout_is_not_retried(worker: Worker) -> None:
    """errors.retry.timeout defaults to 0: no retry, tolerance decides at once (here: skipped)."""
    worker.plugins.register(FlakyTransform)
    config = {
        **SOURCE,
        "count": "20",
        "topic": "t",
        "transforms": "f",
        "transforms.f.type": "FlakyTransform",
        "errors.tolerance": "all",
    }
    await start_connector(worker, "src", config)
    await eventually(lambda: worker.offsets.all("src") == [({"source": "t"}, {"n": 20})])
    assert FAILED_CALLS["com.example.FlakyTransform"] == 2  # the batch's try, then the record's one attempt
    assert worker.tasks[TaskId("src", 0)].errors.total_retries == 0  # type: ignore[attr-defined]
    assert await worker.transport.end_offsets([TopicPartition("t", 0)]) == {TopicPartition("t", 0): 19}


async def _sink_input(w: Worker) -> None:
    await produce(w, [ProducerRecord("numbers", str(n).encode(), str(n).encode()) for n in range(20)])


async def test_sink_converter_that_recovers_is_retried_and_put_gets_every_record(worker: Worker) -> None:
    worker.plugins.register(FlakyConverter)
    await _sink_input(worker)
    config = {**SINK, "value.converter": "com.example.FlakyConverter", **RETRY}
    await start_connector(worker, "sink", config)
    await eventually(lambda: len(SINK_SEEN) == 20, timeout=60)
    assert SINK_SEEN == [f"{n}={n}" for n in range(20)]
    errors = worker.tasks[TaskId("sink", 0)].errors  # type: ignore[attr-defined]
    assert errors.total_retries >= 1 and errors.total_records_skipped == 0


async def test_sink_converter_that_does_not_recover_goes_to_the_dlq(worker: Worker) -> None:
    worker.plugins.register(FlakyConverter)
    await _sink_input(worker)
    config = {
        **SINK,
        "value.converter": "com.example.FlakyConverter",
        "value.converter.flaky.times": "-1",
        "errors.retry.timeout": "800",
        "errors.retry.delay.max.ms": "100",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "dlq",
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    }
    await start_connector(worker, "sink", config)
    await eventually(lambda: len(SINK_SEEN) == 19, timeout=60)
    assert SINK_SEEN == [f"{n}={n}" for n in range(20) if n != 7]
    consumer = worker.transport.consumer("check-dlq", {})
    await consumer.start()
    try:
        await consumer.subscribe(["dlq"])
        got: list[Any] = []
        for _ in range(100):
            got += await consumer.poll(1000, 100)
            if got:
                break
    finally:
        await consumer.stop()
    assert [(r.key, r.value) for r in got] == [(b"7", b"7")]
    headers = dict(got[0].headers)
    assert headers["__connect.errors.stage"] == b"VALUE_CONVERTER"
    assert headers["__connect.errors.exception.class.name"] == b"org.apache.kafka.connect.errors.RetriableException"
    assert headers["__connect.errors.exception.message"] == b"the schema service is not reachable"
    assert FAILED_CALLS["com.example.FlakyConverter"] >= 2
    errors = worker.tasks[TaskId("sink", 0)].errors  # type: ignore[attr-defined]
    assert errors.total_records_skipped == 1 and errors.total_retries >= 1


async def test_sink_converter_that_does_not_recover_fails_the_task_with_tolerance_none(worker: Worker) -> None:
    worker.plugins.register(FlakyConverter)
    await _sink_input(worker)
    config = {
        **SINK,
        "value.converter": "com.example.FlakyConverter",
        "value.converter.flaky.times": "-1",
        "errors.retry.timeout": "500",
        "errors.retry.delay.max.ms": "100",
    }
    await start_connector(worker, "sink", config)
    trace = await _failed_trace(worker, "sink")
    assert "Tolerance exceeded in error handler" in trace and "the schema service is not reachable" in trace
    committed = await worker.transport.committed_offsets("connect-sink")
    assert committed.get(TopicPartition("numbers", 0), 0) <= 7
