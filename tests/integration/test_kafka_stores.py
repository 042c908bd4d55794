"""The topic-backed stores of distributed mode on a real broker, and against Apache Kafka Connect's JVM worker:
what one writes the other reads."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from miniconnect.distributed.state import SessionKey
from miniconnect.errors import ConfigError
from miniconnect.log.base import NewTopic
from miniconnect.log.kafka import KafkaTransport
from miniconnect.runtime.states import State, TargetState, TaskId
from miniconnect.storage.internal_topics import InternalTopic, ensure_topic
from miniconnect.storage.kafka_configs import KafkaConfigStore
from miniconnect.storage.kafka_offsets import KafkaOffsetStore
from miniconnect.storage.kafka_status import KafkaStatusStore
from miniconnect.storage.offsets import partition_key
from miniconnect.storage.status import Status

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, name: str):
        if not name.startswith("on_"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, *args))


async def _eventually(check, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_config_store_round_trip_between_two_stores(kafka_bootstrap):
    topic = _name("configs")
    rec = Recorder()
    a = KafkaConfigStore(bootstrap_servers=kafka_bootstrap, client_config={}, topic=topic, replication_factor=1)
    b = KafkaConfigStore(bootstrap_servers=kafka_bootstrap, client_config={}, topic=topic, replication_factor=1,
                         listener=rec)
    await a.start()
    await b.start()
    try:
        await a.put_connector_config("c-1", {"connector.class": "X", "tasks.max": "2"}, TargetState.PAUSED)
        await a.put_task_configs("c-1", [{"t": "0"}, {"t": "1"}])
        await a.put_target_state("c-1", TargetState.STOPPED)
        key = SessionKey(b"\x01\x02secret", "HmacSHA256", 1700000000000)
        await a.put_session_key(key)
        await a.put_restart_request("c-1", only_failed=True, include_tasks=True)
        await b.refresh(10)
        s = b.snapshot()
        assert s.connector_configs == {"c-1": {"connector.class": "X", "tasks.max": "2"}}
        assert s.target_state("c-1") is TargetState.STOPPED
        assert s.tasks("c-1") == [TaskId("c-1", 0), TaskId("c-1", 1)]
        assert s.task_configs[TaskId("c-1", 1)] == {"t": "1"}
        assert s.session_key == key
        assert s.offset == a.snapshot().offset > 0
        names = [c[0] for c in rec.calls]
        assert names[:2] == ["on_connector_config_update", "on_task_config_update"]
        assert "on_connector_target_state_change" in names and "on_session_key_update" in names
        assert rec.calls[-1][0] == "on_restart_request" and rec.calls[-1][1].include_tasks
        await a.remove_connector_config("c-1")
        await b.refresh(10)
        assert not b.snapshot().contains("c-1") and b.snapshot().tasks("c-1") == []
        assert ("on_connector_config_remove", "c-1") in rec.calls
    finally:
        await a.stop()
        await b.stop()
        await a.stop()


async def test_offset_and_status_stores_share_state(kafka_bootstrap):
    otopic, stopic = _name("offsets"), _name("status")
    o1 = KafkaOffsetStore(bootstrap_servers=kafka_bootstrap, client_config={}, topic=otopic, partitions=3,
                          replication_factor=1)
    o2 = KafkaOffsetStore(bootstrap_servers=kafka_bootstrap, client_config={}, topic=otopic)
    s1 = KafkaStatusStore(bootstrap_servers=kafka_bootstrap, client_config={}, topic=stopic, partitions=2,
                          replication_factor=1)
    s2 = KafkaStatusStore(bootstrap_servers=kafka_bootstrap, client_config={}, topic=stopic)
    for store in (o1, o2, s1, s2):
        await store.start()
    try:
        p1, p2 = {"filename": "/tmp/a"}, {"table": "t", "protocol": "1"}
        await o1.put("src", {partition_key(p1): {"position": 10}, partition_key(p2): {"id": 5}})
        await o2.refresh()
        assert o2.get("src", [p1, p2, {"x": 1}]) == {partition_key(p1): {"position": 10},
                                                      partition_key(p2): {"id": 5}, partition_key({"x": 1}): None}
        await o1.put("src", {partition_key(p1): None})
        await o2.refresh()
        assert o2.all("src") == [(p2, {"id": 5})]
        await o1.delete_connector("src")
        await o2.refresh()
        assert o2.all("src") == []

        s1.generation = 4
        s1.put_connector("c", Status(State.RUNNING, "w1:8083"))
        s1.put_task(TaskId("c", 0), Status(State.FAILED, "w1:8083", "trace\nline"))
        s1.add_topic("c", "t1")
        await s1.flush()
        await s2.refresh()
        assert s2.get_connector("c") == Status(State.RUNNING, "w1:8083", None, 4)
        assert s2.tasks("c") == [(0, Status(State.FAILED, "w1:8083", "trace\nline", 4))]
        assert s2.topics("c") == ["t1"]
        s1.remove_connector("c")
        s1.reset_topics("c")
        await s1.flush()
        await s2.refresh()
        assert s2.get_connector("c") is None and s2.tasks("c") == [] and s2.topics("c") == []
    finally:
        for store in (o1, o2, s1, s2):
            await store.stop()


async def test_internal_topic_with_delete_policy_is_refused_with_kafkas_message(kafka_bootstrap):
    t = KafkaTransport(kafka_bootstrap)
    await t.start()
    try:
        name = _name("bad-status")
        await t.create_topics([NewTopic(name, 1, 1, {"cleanup.policy": "delete"})])
        topic = InternalTopic(name, "status.storage.topic", "connector and task statuses", 5, 1)
        with pytest.raises(ConfigError) as e:
            await ensure_topic(t, topic)
        assert str(e.value) == (
            f"Topic '{name}' supplied via the 'status.storage.topic' property is required to have "
            "'cleanup.policy=compact' to guarantee consistency and durability of connector and task statuses, but "
            "found the topic currently has 'cleanup.policy=delete'. Continuing would likely result in eventually "
            "losing connector and task statuses and problems restarting this Connect cluster in the future. Change "
            "the 'status.storage.topic' property in the Connect worker configurations to use a topic with "
            "'cleanup.policy=compact'.")
        created = _name("good")
        assert await ensure_topic(t, InternalTopic(created, "offset.storage.topic", "x", 2, 1)) is True
        assert (await t.describe_topic_configs(created))["cleanup.policy"] == "compact"
        assert (await t.list_topics())[created] == 2
        assert await ensure_topic(t, InternalTopic(created, "offset.storage.topic", "x", 2, 1)) is False
    finally:
        await t.stop()


async def test_config_topic_with_two_partitions_is_refused(kafka_bootstrap):
    t = KafkaTransport(kafka_bootstrap)
    await t.start()
    name = _name("configs2")
    try:
        await t.create_topics([NewTopic(name, 2, 1, {"cleanup.policy": "compact"})])
    finally:
        await t.stop()
    store = KafkaConfigStore(bootstrap_servers=kafka_bootstrap, client_config={}, topic=name)
    with pytest.raises(ConfigError, match="required to have a single partition .* but found 2 partitions"):
        await store.start()
    await store.stop()
