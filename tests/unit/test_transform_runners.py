"""The runners with transforms and error tolerance on the embedded log: a Python transformation plugin, records it
fails on skipped (tolerance all) or failing the task (none), dropped records' source offsets still stored, and a
chain that costs nothing when a connector has none."""

from __future__ import annotations

from typing import Any

from helpers.worker import SOURCE, Listener, eventually, start_connector

from miniconnect.config.configdef import ConfigDef, ConfigType
from miniconnect.connector import TopicPartition
from miniconnect.data.schema import DataError
from miniconnect.runtime.states import State, TaskId
from miniconnect.runtime.worker import Worker
from miniconnect.transforms import Transformation


class FailEvery(Transformation):
    """A Python transformation plugin: fails on every n-th value, adds 1000 to the others."""

    class_name = "com.example.FailEvery"
    config_def = ConfigDef().define("every", ConfigType.INT, 50)

    def configure(self, props: Any) -> None:
        self.every = self.config_def.parse(props)["every"]

    def apply(self, record: Any) -> Any:
        if record.value % self.every == 0:
            raise DataError(f"no multiples of {self.every}: {record.value}")
        return record._replace(value=record.value + 1000)


async def _values(w: Worker, topic: str, n: int) -> list[bytes]:
    consumer = w.transport.consumer(f"check-{topic}", {})
    await consumer.start()
    try:
        await consumer.subscribe([topic])
        got: list[Any] = []
        for _ in range(100):
            got += await consumer.poll(1000, 100)
            if len(got) >= n:
                break
        return [r.value for r in got]
    finally:
        await consumer.stop()


async def test_source_tolerates_a_failing_transform_and_still_stores_the_offsets(worker: Worker) -> None:
    worker.plugins.register(FailEvery)
    await start_connector(
        worker,
        "src",
        {
            **SOURCE,
            "count": "250",
            "topic": "t",
            "transforms": "f",
            "transforms.f.type": "com.example.FailEvery",
            "transforms.f.every": "50",
            "errors.tolerance": "all",
        },
    )
    await eventually(lambda: worker.offsets.all("src") == [({"source": "t"}, {"n": 250})])
    values = await _values(worker, "t", 245)
    expected = [n + 1000 for n in range(250) if n % 50]
    assert values == [f'{{"schema":{{"type":"int64","optional":false}},"payload":{v}}}'.encode() for v in expected]
    assert await worker.transport.end_offsets([TopicPartition("t", 0)]) == {TopicPartition("t", 0): 245}


async def test_source_fails_on_a_failing_transform_with_tolerance_none(worker: Worker) -> None:
    listener: Listener = worker.listener  # type: ignore[assignment]
    worker.plugins.register(FailEvery)
    await start_connector(
        worker,
        "src",
        {
            **SOURCE,
            "count": "250",
            "topic": "t",
            "transforms": "f",
            "transforms.f.type": "FailEvery",
            "transforms.f.every": "120",
        },
    )
    await eventually(lambda: listener.tasks.get(TaskId("src", 0), (None,))[0] == State.FAILED)
    trace = listener.tasks[TaskId("src", 0)][1]
    assert "Tolerance exceeded in error handler" in trace and "no multiples of 120: 0" in trace
    assert worker.offsets.all("src") == []


async def test_filter_drops_records_and_their_offsets_count(worker: Worker) -> None:
    await start_connector(
        worker,
        "src",
        {**SOURCE, "count": "300", "topic": "all-dropped", "transforms": "drop", "transforms.drop.type": "Filter"},
    )
    await eventually(lambda: worker.offsets.all("src") == [({"source": "all-dropped"}, {"n": 300})])
    assert await worker.transport.end_offsets([TopicPartition("all-dropped", 0)]) in (
        {},
        {TopicPartition("all-dropped", 0): 0},
    )


def test_no_transforms_no_chain() -> None:
    from miniconnect.plugins import Plugins
    from miniconnect.transforms.chain import build_chain

    assert build_chain(Plugins(plugin_path=[]), {"transforms": ""}) is None
    assert build_chain(Plugins(plugin_path=[]), {}) is None


def test_a_transformation_and_a_predicate_from_plugin_path(tmp_path: Any) -> None:
    from miniconnect.data.records import SinkRecord
    from miniconnect.plugins import Plugins
    from miniconnect.transforms.chain import build_chain

    (tmp_path / "my_smts.py").write_text(
        "from miniconnect.transforms import Predicate, Transformation\n"
        "class UpperTopic(Transformation):\n"
        "    class_name = 'com.example.UpperTopic'\n"
        "    def apply(self, record):\n"
        "        return record._replace(topic=record.topic.upper())\n"
        "class IsOdd(Predicate):\n"
        "    class_name = 'com.example.IsOdd'\n"
        "    def test(self, record):\n"
        "        return record.kafka_offset % 2 == 1\n"
    )
    plugins = Plugins(plugin_path=[str(tmp_path)])
    infos = {i["class"]: i["type"] for i in plugins.plugin_infos(connectors_only=False)}
    assert infos["com.example.UpperTopic"] == "transformation" and infos["com.example.IsOdd"] == "predicate"
    chain = build_chain(
        plugins,
        {
            "transforms": "up",
            "transforms.up.type": "UpperTopic",
            "transforms.up.predicate": "odd",
            "predicates": "odd",
            "predicates.odd.type": "com.example.IsOdd",
        },
    )
    assert chain is not None
    records = [SinkRecord("t", 0, None, None, None, i, i) for i in range(4)]
    assert [r.topic for r in chain.apply_batch(records, lambda i, t, e: None)] == ["t", "T", "t", "T"]
