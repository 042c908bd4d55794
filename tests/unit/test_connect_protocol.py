"""The Connect group protocol's bytes equal those of Kafka's own ConnectProtocol and
IncrementalCooperativeConnectProtocol (a Java harness compiled against Kafka Connect 4.1.1's jars), both ways."""

from __future__ import annotations

import random
from dataclasses import asdict

import pytest
from javaharness.harness import JavaHarness

from miniconnect.distributed.java_order import hash_map_order, hash_set_copy_order
from miniconnect.distributed.protocol import (
    ConnectProtocolCompatibility,
    ExtendedAssignment,
    ExtendedWorkerState,
    deserialize_assignment,
    deserialize_metadata,
    metadata_request,
    serialize_assignment,
    serialize_assignment_v0,
    serialize_metadata,
    serialize_metadata_v0,
)
from miniconnect.runtime.states import TaskId

NAMES = [
    "jdbc-source",
    "file-sink",
    "a",
    "b",
    "connector-10",
    "Zürich-ümlaut",
    "名前",
    "emoji-\U0001f600",
    "",
    "x" * 300,
    "orders",
    "orders-v2",
    "Aa",
    "BB",
]  # "Aa" and "BB" share Java's String.hashCode


def _assignment(rng: random.Random, version: int) -> ExtendedAssignment:
    names = rng.sample(NAMES, rng.randint(0, 6)) + [f"conn-{rng.randint(0, 10**6)}" for _ in range(rng.randint(0, 30))]
    connectors = [n for n in names if rng.random() < 0.6]
    tasks = [TaskId(rng.choice(names), rng.randint(0, 40)) for _ in range(rng.randint(0, 40))] if names else []
    revoked_c = [n for n in names if rng.random() < 0.2] if version else []
    revoked_t = (
        [TaskId(rng.choice(names), rng.randint(0, 9)) for _ in range(rng.randint(0, 8))] if names and version else []
    )
    return ExtendedAssignment(
        version,
        rng.choice([0, 1]),
        f"connect-1-{rng.randint(0, 999)}",
        rng.choice(["http://w1:8083/", "https://h\u00e9:443/"]),
        rng.randint(-1, 2**40),
        connectors,
        tasks,
        revoked_c,
        revoked_t,
        rng.choice([0, 1, 300000, 2**31 - 1]) if version else 0,
    )


def _json(a: ExtendedAssignment | None) -> dict | None:
    if a is None:
        return None
    d = asdict(a)
    for key in ("tasks", "revoked_tasks"):
        d[key] = [[t["connector"], t["task"]] for t in d[key]]
    return d


@pytest.fixture(scope="module")
def kafka_protocol(tmp_path_factory: pytest.TempPathFactory) -> JavaHarness:
    return JavaHarness("ConnectProtocolHarness", tmp_path_factory.mktemp("connect-protocol-harness"))


def _cases(seed: int) -> tuple[list[dict], list[bytes]]:
    rng = random.Random(seed)
    cases: list[dict] = []
    ours: list[bytes] = []
    for i in range(60):
        url = rng.choice(["http://worker-1:8083/", "http://127.0.0.1:18083/", "https://wörker:8443/"])
        offset = rng.choice([-1, 0, 7, 2**40])
        ours.append(serialize_metadata_v0(ExtendedWorkerState(url, offset)))
        cases.append({"op": "encode_metadata_v0", "url": url, "offset": offset})
        for sessioned in (False, True):
            version = 2 if sessioned else 1
            a = None if i % 5 == 0 else _assignment(rng, version)
            ours.append(serialize_metadata(ExtendedWorkerState(url, offset, a), sessioned))
            cases.append(
                {"op": "encode_metadata", "url": url, "offset": offset, "assignment": _json(a), "sessioned": sessioned}
            )
            a = _assignment(rng, version)
            ours.append(serialize_assignment(a, sessioned))
            cases.append({"op": "encode_assignment", "assignment": _json(a), "sessioned": sessioned})
        a = _assignment(rng, 0)
        ours.append(serialize_assignment_v0(a))
        cases.append({"op": "encode_assignment_v0", "assignment": _json(a)})
    return cases, ours


def test_python_encodes_exactly_as_kafka(kafka_protocol: JavaHarness) -> None:
    cases, ours = _cases(14)
    theirs = kafka_protocol.run(cases)
    for case, mine, kafka in zip(cases, ours, theirs):
        assert mine.hex() == kafka["hex"], case


def test_each_side_decodes_what_the_other_encoded(kafka_protocol: JavaHarness) -> None:
    cases, ours = _cases(15)
    encoded_by_kafka = kafka_protocol.run(cases)
    decode_in_java: list[dict] = []
    expected: list[dict] = []
    for case, mine, kafka in zip(cases, ours, encoded_by_kafka):
        data = bytes.fromhex(kafka["hex"])
        op = case["op"]
        if op == "encode_metadata_v0":
            state = deserialize_metadata(data)
            assert (state.url, state.offset, state.assignment) == (case["url"], case["offset"], None)
            decode_in_java.append({"op": "decode_metadata_v0", "hex": mine.hex()})
            expected.append({"url": case["url"], "offset": case["offset"]})
        elif op == "encode_metadata":
            state = deserialize_metadata(data)
            assert (state.url, state.offset) == (case["url"], case["offset"])
            _assert_same_assignment(state.assignment, case["assignment"])
            decode_in_java.append({"op": "decode_metadata", "hex": mine.hex()})
            expected.append({"url": case["url"], "offset": case["offset"], "assignment": case["assignment"]})
        else:
            _assert_same_assignment(deserialize_assignment(data), case["assignment"])
            decode_in_java.append({"op": op.replace("encode", "decode"), "hex": mine.hex()})
            expected.append({"assignment": case["assignment"]})
    for want, got in zip(expected, kafka_protocol.run(decode_in_java)):
        assert got.keys() == want.keys()
        assert (got.get("url"), got.get("offset")) == (want.get("url"), want.get("offset"))
        if "assignment" in want:
            _assert_same_json_assignment(got["assignment"], want["assignment"])


def _canonical(d: dict | None) -> dict | None:
    """An assignment as a receiver sees it: grouped by connector, so compare as multisets."""
    if d is None:
        return None
    out = dict(d)
    for key in ("connectors", "revoked_connectors"):
        out[key] = sorted(set(d[key])) if key == "connectors" else sorted(dict.fromkeys(d[key]))
    for key in ("tasks", "revoked_tasks"):
        out[key] = sorted(map(tuple, d[key]))
    return out


def _assert_same_assignment(got: ExtendedAssignment | None, want: dict | None) -> None:
    assert _canonical(_json(got)) == _canonical(want)


def _assert_same_json_assignment(got: dict | None, want: dict | None) -> None:
    if want is not None and got is not None and got["version"] in (0, -1):
        got = {**got, "version": want["version"]}
    assert _canonical(got) == _canonical(want)


def test_join_group_protocols_in_kafkas_order(kafka_protocol: JavaHarness) -> None:
    rng = random.Random(3)
    cases, ours = [], []
    for mode in ("eager", "compatible", "sessioned"):
        for a in (None, _assignment(rng, 1)):
            state = ExtendedWorkerState("http://w:8083/", 42, a)
            ours.append(
                [
                    [name, meta.hex()]
                    for name, meta in metadata_request(state, ConnectProtocolCompatibility.from_config(mode))
                ]
            )
            cases.append(
                {"op": "metadata_request", "mode": mode, "url": state.url, "offset": 42, "assignment": _json(a)}
            )
    for mine, kafka in zip(ours, kafka_protocol.run(cases)):
        assert mine == kafka["protocols"]
    assert [p for p, _ in metadata_request(ExtendedWorkerState("u", 1), ConnectProtocolCompatibility.SESSIONED)] == [
        "sessioned",
        "compatible",
        "default",
    ]


def test_java_hash_orders() -> None:
    # "Aa" and "BB" both hash to 2112 (bucket 0 of 16, in insertion order); "a" is 97 (bucket 1), "b" 98 (bucket 2).
    assert hash_set_copy_order(["b", "a", "Aa", "BB"]) == ["Aa", "BB", "a", "b"]
    assert hash_set_copy_order(["BB", "Aa"]) == ["BB", "Aa"]
    assert hash_map_order([f"w{i}" for i in range(3)]) == ["w0", "w1", "w2"]


def test_malformed_bytes_are_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not enough bytes"):
        deserialize_assignment(b"\x00\x01\x00")
    with pytest.raises(ValueError, match="Unsupported subscription version: -1"):
        deserialize_metadata(b"\xff\xff\x00\x00")
