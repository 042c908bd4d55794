"""The backing-store interfaces (storage/base.py) behave the same whichever store implements them: the file and
memory stores of standalone mode, and the topic stores of distributed mode on a real broker."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from miniconnect.connector import partition_key
from miniconnect.runtime.states import State, TargetState, TaskId
from miniconnect.storage.base import ConfigBackingStore, OffsetBackingStore, StatusBackingStore
from miniconnect.storage.configs import FileConfigStore
from miniconnect.storage.kafka_configs import KafkaConfigStore
from miniconnect.storage.kafka_offsets import KafkaOffsetStore
from miniconnect.storage.kafka_status import KafkaStatusStore
from miniconnect.storage.offsets import FileOffsetStore
from miniconnect.storage.status import MemoryStatusStore, Status

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=["file", "kafka"])
def offset_stores(request: Any, tmp_path: Path) -> Callable[[], OffsetBackingStore]:
    """A factory of stores over the same storage (a file, or a topic), so a second one sees what the first wrote."""
    if request.param == "file":
        return lambda: FileOffsetStore(str(tmp_path / "offsets"))
    bootstrap, topic = request.getfixturevalue("kafka_bootstrap"), _topic("offsets")
    return lambda: KafkaOffsetStore(
        bootstrap_servers=bootstrap, client_config={}, topic=topic, partitions=3, replication_factor=1
    )


async def test_offset_store_contract(offset_stores: Callable[[], OffsetBackingStore]) -> None:
    p1, p2, p3 = {"table": "a"}, {"table": "b"}, {"table": "c"}
    store = offset_stores()
    await store.start()
    try:
        await store.put("conn", {partition_key(p1): {"pos": 1}, partition_key(p2): {"pos": 2}})
        await store.put("other", {partition_key(p1): {"pos": 9}})
        await store.refresh()
        assert store.get("conn", [p1, p2, p3]) == {
            partition_key(p1): {"pos": 1},
            partition_key(p2): {"pos": 2},
            partition_key(p3): None,
        }
        await store.put("conn", {partition_key(p1): None})  # None removes the partition's offset
        await store.refresh()
        assert store.all("conn") == [(p2, {"pos": 2})]
    finally:
        await store.stop()
    again = offset_stores()  # a restarted worker reads what was written
    await again.start()
    try:
        await again.refresh()
        assert again.all("conn") == [(p2, {"pos": 2})] and again.all("other") == [(p1, {"pos": 9})]
        await again.delete_connector("conn")
        await again.refresh()
        assert again.all("conn") == [] and again.all("other") == [(p1, {"pos": 9})]
    finally:
        await again.stop()


@pytest.fixture(params=["file", "kafka"])
def config_store(request: Any, tmp_path: Path) -> ConfigBackingStore:
    if request.param == "file":
        return FileConfigStore(str(tmp_path / "configs"))
    return KafkaConfigStore(
        bootstrap_servers=request.getfixturevalue("kafka_bootstrap"),
        client_config={},
        topic=_topic("configs"),
        replication_factor=1,
    )


async def test_config_store_contract(config_store: ConfigBackingStore) -> None:
    await config_store.start()
    try:
        assert not config_store.contains("c")
        await config_store.put_connector_config("c", {"connector.class": "X"}, TargetState.PAUSED)
        await config_store.put_task_configs("c", [{"t": "0"}, {"t": "1"}])
        await config_store.put_target_state("c", TargetState.STARTED)
        assert config_store.contains("c")
        await config_store.remove_connector("c")
        assert not config_store.contains("c")
    finally:
        await config_store.stop()


@pytest.fixture(params=["memory", "kafka"])
def status_store(request: Any) -> StatusBackingStore:
    if request.param == "memory":
        return MemoryStatusStore()
    return KafkaStatusStore(
        bootstrap_servers=request.getfixturevalue("kafka_bootstrap"),
        client_config={},
        topic=_topic("status"),
        partitions=2,
        replication_factor=1,
    )


async def test_status_store_contract(status_store: StatusBackingStore) -> None:
    await status_store.start()
    try:
        running, failed = Status(State.RUNNING, "w1:8083"), Status(State.FAILED, "w1:8083", "trace")
        status_store.put_connector("c", running)
        status_store.put_task(TaskId("c", 1), failed)
        status_store.put_task_safe(TaskId("c", 0), running)
        status_store.add_topic("c", "t2")
        status_store.add_topic("c", "t1")
        assert status_store.get_connector("c") == running
        assert status_store.tasks("c") == [(0, running), (1, failed)]
        assert status_store.topics("c") == ["t1", "t2"]
        status_store.remove_task(TaskId("c", 1))
        assert status_store.get_task(TaskId("c", 1)) is None
        status_store.reset_topics("c")
        assert status_store.topics("c") == []
        status_store.remove_connector("c")
        assert status_store.get_connector("c") is None and status_store.tasks("c") == []
    finally:
        await status_store.stop()
