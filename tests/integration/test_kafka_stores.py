"""The topic-backed stores of distributed mode on a real broker, and against Apache Kafka Connect's JVM worker:
what one writes the other reads."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from miniconnect.distributed.state import SessionKey
from miniconnect.errors import ConfigError
from miniconnect.runtime.states import State, TargetState, TaskId
from miniconnect.storage.internal_topics import InternalTopic, ensure_topic
from miniconnect.storage.kafka_configs import KafkaConfigStore
from miniconnect.storage.kafka_offsets import KafkaOffsetStore
from miniconnect.storage.kafka_status import KafkaStatusStore
from miniconnect.storage.offsets import partition_key
from miniconnect.storage.status import Status
from miniconnect.transport.base import NewTopic
from miniconnect.transport.kafka import KafkaTransport

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
    b = KafkaConfigStore(
        bootstrap_servers=kafka_bootstrap, client_config={}, topic=topic, replication_factor=1, listener=rec
    )
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
    o1 = KafkaOffsetStore(
        bootstrap_servers=kafka_bootstrap, client_config={}, topic=otopic, partitions=3, replication_factor=1
    )
    o2 = KafkaOffsetStore(bootstrap_servers=kafka_bootstrap, client_config={}, topic=otopic)
    s1 = KafkaStatusStore(
        bootstrap_servers=kafka_bootstrap, client_config={}, topic=stopic, partitions=2, replication_factor=1
    )
    s2 = KafkaStatusStore(bootstrap_servers=kafka_bootstrap, client_config={}, topic=stopic)
    for store in (o1, o2, s1, s2):
        await store.start()
    try:
        p1, p2 = {"filename": "/tmp/a"}, {"table": "t", "protocol": "1"}
        await o1.put("src", {partition_key(p1): {"position": 10}, partition_key(p2): {"id": 5}})
        await o2.refresh()
        assert o2.get("src", [p1, p2, {"x": 1}]) == {
            partition_key(p1): {"position": 10},
            partition_key(p2): {"id": 5},
            partition_key({"x": 1}): None,
        }
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
        assert s2.get_connector("c") == Status(State.RUNNING, "w1:8083", None, 4)  # version unknown: null
        assert s2.tasks("c") == [(0, Status(State.FAILED, "w1:8083", "trace\nline", 4))]
        assert s2.topics("c") == ["t1"]
        s2.generation = 3  # a worker of an older generation must not overwrite the newer owner's status
        s2.put_task_safe(TaskId("c", 0), Status(State.UNASSIGNED, "w2:8083"))
        s2.put_connector_safe("c", Status(State.UNASSIGNED, "w1:8083"))  # the same worker may
        await s2.flush()
        await s1.refresh()
        assert s1.get_task(TaskId("c", 0)).state is State.FAILED
        assert s1.get_connector("c") == Status(State.UNASSIGNED, "w1:8083", None, 3)
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
            "'cleanup.policy=compact'."
        )
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


# -- against Apache Kafka Connect's own distributed worker ----------------------------------------------------------


def _jvm_props(bootstrap: str, group: str) -> dict[str, str]:
    return {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "config.storage.topic": f"{group}-configs",
        "offset.storage.topic": f"{group}-offsets",
        "status.storage.topic": f"{group}-status",
        "config.storage.replication.factor": "1",
        "offset.storage.replication.factor": "1",
        "status.storage.replication.factor": "1",
        "offset.storage.partitions": "3",
        "status.storage.partitions": "2",
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "offset.flush.interval.ms": "500",
        "scheduled.rebalance.max.delay.ms": "1000",
    }


async def _raw_records(bootstrap: str, topic: str, partitions: int = 1) -> list[tuple[bytes | None, bytes | None]]:
    """Every record of a topic, as (key, value) bytes, through a KafkaBasedLog of our own; each one is in the
    partition our producer would choose for its key (the JVM's murmur2 partitioner)."""
    from miniconnect.storage.kafka_log import KafkaBasedLog
    from miniconnect.transport.embedded.partitioner import partition_for_key

    out: list[tuple[bytes | None, bytes | None]] = []

    def consumed(key, value, partition, offset) -> None:
        assert partition_for_key(key, partitions) == partition, (topic, key)
        out.append((key, value))

    reader = KafkaBasedLog(topic=topic, bootstrap_servers=bootstrap, client_config={}, consumed=consumed)
    await reader.start()
    await reader.stop()
    return out


async def test_stores_read_what_the_jvm_worker_wrote_and_it_reads_ours(kafka_bootstrap, tmp_path):
    from jvm_connect import JvmConnectWorker, connect_libs

    from miniconnect.storage import kafka_configs as kc
    from miniconnect.storage import kafka_offsets as ko
    from miniconnect.storage import kafka_status as ks
    from miniconnect.storage.internal_format import decode

    assert connect_libs() is not None, "Kafka Connect's jars are missing: run scripts/test-deps.sh"
    group = _name("jvmstores")
    src_file, sink_file = tmp_path / "in.txt", tmp_path / "out.txt"
    src_file.write_text("".join(f"line {i}\n" for i in range(20)))
    topic = _name("lines")
    jvm = JvmConnectWorker(tmp_path / "jvm", _jvm_props(kafka_bootstrap, group))
    source = {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": str(src_file),
        "topic": topic,
        "note": '\u00e9 \u4e2d \U0001f600 \t\n " \\ / <&> \u0001\u001f \u2028',
    }  # escapes as Jackson's
    sink = {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "2",
        "file": str(sink_file),
        "topics": topic,
    }

    def ok(r):
        assert r.status_code < 300, r.text
        return r.json() if r.content else None

    def offsets_of(name):
        r = jvm.rest("GET", f"/connectors/{name}/offsets")
        return r.json()["offsets"] if r.status_code == 200 else None

    await asyncio.to_thread(jvm.start)
    try:

        def setup() -> None:
            ok(jvm.rest("POST", "/connectors", {"name": "src", "config": source}))
            ok(jvm.rest("POST", "/connectors", {"name": "sink-2", "config": sink}))
            ok(jvm.rest("POST", "/connectors", {"name": "gone", "config": dict(source, topic=topic + "-x")}))
            jvm.wait_running("src", 1, 90)
            jvm.wait_running("sink-2", 2, 90)
            jvm.wait_running("gone", 1, 90)
            jvm.wait_for(lambda: sink_file.exists() and sink_file.read_text().count("\n") == 20, 90, "sink output")
            ok(jvm.rest("PUT", "/connectors/sink-2/pause"))
            ok(jvm.rest("DELETE", "/connectors/gone"))
            ok(jvm.rest("PUT", "/connectors/src/stop"))
            jvm.wait_for(
                lambda: jvm.rest("GET", "/connectors/src/status").json()["connector"]["state"] == "STOPPED",
                60,
                "src STOPPED",
            )
            jvm.wait_for(
                lambda: jvm.rest("GET", "/connectors/sink-2/status").json()["connector"]["state"] == "PAUSED",
                60,
                "sink PAUSED",
            )
            jvm.wait_for(
                lambda: offsets_of("src") and offsets_of("src")[0]["offset"]["position"] > 0, 60, "src offsets"
            )

        await asyncio.to_thread(setup)
        rest = {
            name: {
                "config": ok(jvm.rest("GET", f"/connectors/{name}/config")),
                "tasks": ok(jvm.rest("GET", f"/connectors/{name}/tasks")),
                "status": ok(jvm.rest("GET", f"/connectors/{name}/status")),
                "topics": ok(jvm.rest("GET", f"/connectors/{name}/topics"))[name]["topics"],
            }
            for name in ("src", "sink-2")
        }
        jvm_offsets = offsets_of("src")
        assert sorted(ok(jvm.rest("GET", "/connectors"))) == ["sink-2", "src"]

        configs = KafkaConfigStore(bootstrap_servers=kafka_bootstrap, client_config={}, topic=f"{group}-configs")
        offsets = KafkaOffsetStore(bootstrap_servers=kafka_bootstrap, client_config={}, topic=f"{group}-offsets")
        status = KafkaStatusStore(bootstrap_servers=kafka_bootstrap, client_config={}, topic=f"{group}-status")
        for store in (configs, offsets, status):
            await store.start()
        try:
            # the JVM's state, read by our stores
            s = configs.snapshot()
            assert s.connectors() == ["sink-2", "src"]
            assert {n: s.target_state(n) for n in s.connectors()} == {
                "src": TargetState.STOPPED,
                "sink-2": TargetState.PAUSED,
            }
            assert s.session_key is not None and s.session_key.algorithm == "HmacSHA256"
            assert len(s.session_key.key) == 32
            for name in ("src", "sink-2"):
                assert s.connector_configs[name] == rest[name]["config"]
                assert [
                    {"id": {"connector": t.connector, "task": t.task}, "config": s.task_configs[t]}
                    for t in s.tasks(name)
                ] == rest[name]["tasks"]
                st = rest[name]["status"]
                assert status.get_connector(name).state.value == st["connector"]["state"]
                assert status.get_connector(name).worker_id == st["connector"]["worker_id"]
                assert [(n, x.state.value, x.worker_id) for n, x in status.tasks(name)] == [
                    (t["id"], t["state"], t["worker_id"]) for t in st["tasks"]
                ]
                assert status.topics(name) == sorted(rest[name]["topics"])
            assert not s.contains("gone") and status.get_connector("gone") is None
            assert [{"partition": p, "offset": o} for p, o in offsets.all("src")] == jvm_offsets

            # byte for byte: each record the JVM wrote is what our encoders make of its decoded value
            encoders = [
                ("connector-", lambda v: kc.connector_config_value(v["properties"])),
                ("task-", lambda v: kc.connector_config_value(v["properties"])),
                ("target-state-", lambda v: kc.target_state_value(TargetState(v["state.v2"]))),
                ("commit-", lambda v: kc.commit_value(v["tasks"])),
                ("session-key", lambda v: kc.session_key_value(configs.snapshot().session_key)),
            ]
            seen = set()
            for key, value in await _raw_records(kafka_bootstrap, f"{group}-configs"):
                prefix, encode_ = next((p, e) for p, e in encoders if key.decode().startswith(p))
                seen.add(prefix)
                if value is not None:
                    assert encode_(decode(value)) == value, (key, value)
            assert seen == {p for p, _ in encoders}
            for key, value in await _raw_records(kafka_bootstrap, f"{group}-offsets", 3):
                connector, partition = ko.parse_offset_key(key)
                assert ko.offset_key(connector, partition) == key
                assert value is None or ko.offset_value(decode(value)) == value
            for key, value in await _raw_records(kafka_bootstrap, f"{group}-status", 2):
                k = key.decode()
                if value is None:
                    continue
                if k.startswith("status-topic-"):
                    t = decode(value)["topic"]
                    assert (
                        ks.topic_status_value(
                            ks.TopicStatus(t["name"], t["connector"], t["task"], t["discoverTimestamp"])
                        )
                        == value
                    )
                else:
                    assert ks.status_value(ks.parse_status(decode(value)), -1) == value, value

            # what we write, the JVM worker shows
            await configs.put_target_state("sink-2", TargetState.STARTED)
            await configs.put_connector_config(
                "ours", dict(source, topic=topic + "-ours", name="ours"), TargetState.STOPPED
            )
            new_position = jvm_offsets[0]["offset"]["position"] + 1000
            await offsets.put("src", {partition_key(jvm_offsets[0]["partition"]): {"position": new_position}})

            def jvm_sees_ours() -> None:
                jvm.wait_for(
                    lambda: jvm.rest("GET", "/connectors/sink-2/status").json()["connector"]["state"] == "RUNNING",
                    60,
                    "sink-2 resumed by our target-state record",
                )
                last: list = []

                def ours_stopped() -> bool:
                    r = jvm.rest("GET", "/connectors/ours/status")
                    last[:] = [r.text]
                    return r.status_code == 200 and r.json()["connector"]["state"] == "STOPPED"

                try:
                    jvm.wait_for(ours_stopped, 60, "our connector, STOPPED")
                except TimeoutError:
                    raise AssertionError(f"status of ours: {last}\n{jvm.log()[-8000:]}") from None
                assert jvm.rest("GET", "/connectors/ours/config").json() == dict(
                    source, topic=topic + "-ours", name="ours"
                )
                assert offsets_of("src")[0]["offset"] == {"position": new_position}

            await asyncio.to_thread(jvm_sees_ours)

            # and a connector we delete (the tombstones Kafka writes) is gone from the JVM worker too
            await configs.remove_connector_config("ours")
            await asyncio.to_thread(
                jvm.wait_for, lambda: jvm.rest("GET", "/connectors/ours").status_code == 404, 60, "ours deleted"
            )
            assert sorted(ok(jvm.rest("GET", "/connectors"))) == ["sink-2", "src"]
            # our status store follows the JVM's reports as they come
            await _eventually(lambda: status.get_connector("sink-2").state is State.RUNNING, 60)
            await _eventually(lambda: status.get_connector("ours") is None, 60)
        finally:
            for store in (configs, offsets, status):
                await store.stop()
    finally:
        await asyncio.to_thread(jvm.stop)
