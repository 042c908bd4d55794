"""The internal topics' records, byte for byte as Apache Kafka Connect 4.1.1 writes them (its own classes serialize
the same values in a Java harness compiled at test time), and read back to the same values."""

from __future__ import annotations

import base64

import pytest
from javaharness.harness import JavaHarness

from miniconnect.distributed.state import SessionKey
from miniconnect.runtime.states import State, TargetState, TaskId
from miniconnect.storage import kafka_configs as kc
from miniconnect.storage import kafka_offsets as ko
from miniconnect.storage import kafka_status as ks
from miniconnect.storage.internal_format import decode
from miniconnect.storage.status import Status

ODD = 'é 中 \U0001f600 \t\n " \\ / <&> \u0001\u001f \u2028 \u007f'  # escapes, non-ASCII, beyond the BMP
CONFIG = {
    "connector.class": "FileStreamSource",
    "tasks.max": "3",
    "file": "/tmp/in.txt",
    "note": ODD,
    "empty": "",
    "nothing": None,
}
KEY = base64.b64decode("q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=")
PARTITIONS = [
    {"filename": "/tmp/in.txt"},
    {
        "protocol": "1",
        "table": "orders",
        "query": "q",
        "schema": "public",
        "database": "db",
        "topic": "t",
        "a": 1,
        "zz": ODD,
    },
    {"nested": {"b": [1, 2], "a": None}, "flag": True},
]
OFFSETS = [
    {"position": 1234},
    {"incrementing": 42, "timestamp_nanos": 0, "timestamp": 1700000000000},
    {"lsn": "0/16B3748", "ok": False},
]


@pytest.fixture(scope="module")
def kafka_bytes(tmp_path_factory: pytest.TempPathFactory):
    harness = JavaHarness("StoreFormatsHarness", tmp_path_factory.mktemp("store-formats-harness"))

    def run(cases: list[dict]) -> list[bytes | None]:
        return [None if b is None else base64.b64decode(b) for b in harness.run(cases)]

    return run


def test_config_topic_records(kafka_bytes) -> None:
    cases = [
        ({"kind": "connector", "config": CONFIG}, kc.connector_config_value(CONFIG)),
        ({"kind": "commit", "tasks": 3}, kc.commit_value(3)),
        ({"kind": "commit", "tasks": 0}, kc.commit_value(0)),
        *(({"kind": "target-state", "state": s.value}, kc.target_state_value(s)) for s in TargetState),
        (
            {
                "kind": "session-key",
                "key": base64.b64encode(KEY).decode(),
                "algorithm": "HmacSHA256",
                "created": 1733300000123,
            },
            kc.session_key_value(SessionKey(KEY, "HmacSHA256", 1733300000123)),
        ),
        (
            {"kind": "restart", "include_tasks": True, "only_failed": False},
            kc.restart_request_value(kc.RestartRequest("c", only_failed=False, include_tasks=True)),
        ),
        ({"kind": "task-count", "count": 7}, kc.task_count_value(7)),
    ]
    assert [ours for _, ours in cases] == kafka_bytes([case for case, _ in cases])
    # what the bytes say
    assert kc.target_state_value(TargetState.STOPPED) == b'{"state":"PAUSED","state.v2":"STOPPED"}'
    assert decode(kc.connector_config_value(CONFIG)) == {"properties": CONFIG}


def test_status_topic_records(kafka_bytes) -> None:
    cases = [
        (
            {
                "kind": "connector-status",
                "name": "c",
                "state": "RUNNING",
                "trace": None,
                "worker": "h:8083",
                "generation": 5,
                "version": "4.1.1",
            },
            ks.status_value(Status(State.RUNNING, "h:8083", None, 5, "4.1.1"), -1),
        ),
        (
            {
                "kind": "task-status",
                "name": "c",
                "state": "FAILED",
                "trace": "java.lang.Error: " + ODD,
                "worker": "h:8083",
                "generation": 0,
                "version": None,
            },
            ks.status_value(Status(State.FAILED, "h:8083", "java.lang.Error: " + ODD), 0),
        ),
        (
            {
                "kind": "task-status",
                "name": "c",
                "state": "UNASSIGNED",
                "trace": None,
                "worker": "h:1",
                "generation": 2,
                "version": None,
            },
            ks.status_value(Status(State.UNASSIGNED, "h:1"), 2),
        ),
        (
            {"kind": "topic-status", "topic": "orders", "name": "c", "task": 2, "timestamp": 1733300000123},
            ks.topic_status_value(ks.TopicStatus("orders", "c", 2, 1733300000123)),
        ),
    ]
    assert [ours for _, ours in cases] == kafka_bytes([case for case, _ in cases])
    assert ks.parse_status(decode(cases[1][1])) == Status(State.FAILED, "h:8083", "java.lang.Error: " + ODD, 0)


def test_offset_topic_records(kafka_bytes) -> None:
    """Kafka finds an offset by its key's bytes: partitions must serialize as a JVM task's HashMap does."""
    keys = [{"kind": "offset-key", "name": "conn-1", "partition": p} for p in PARTITIONS]
    values = [{"kind": "offset-value", "name": "conn-1", "offset": o} for o in OFFSETS]
    assert kafka_bytes(keys) == [ko.offset_key("conn-1", p) for p in PARTITIONS]
    assert kafka_bytes(values) == [ko.offset_value(o) for o in OFFSETS]
    assert ko.offset_value(None) is None
    for p in PARTITIONS:
        assert ko.parse_offset_key(ko.offset_key("conn-1", p)) == ("conn-1", p)
    assert ko.parse_offset_key(b'{"not":"a key"}') is None and ko.parse_offset_key(b"\xff") is None


def test_keys_with_dashes_parse_like_kafka() -> None:
    assert kc.parse_task_key("task-my-conn-12") == TaskId("my-conn", 12)
    assert kc.parse_task_key("task-x") is None and kc.parse_task_key("task-a-b") is None
    assert ks.parse_task_status_key("status-task-my-conn-3") == TaskId("my-conn", 3)
    assert ks.parse_task_status_key("status-task-x") is None
