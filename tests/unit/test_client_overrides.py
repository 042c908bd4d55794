"""Connector client overrides against Kafka's own classes (tests/javaharness/ParseHarness): the producer, consumer
and admin key definitions shipped in kafka_keys.json, the parse of override values, the override policies'
verdicts; and the policy in the worker, where a task whose overrides it refuses fails to start. (The REST answers
are compared with a JVM worker's in tests/integration/test_rest_differential.py.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from helpers.worker import SINK, SOURCE, Listener, eventually, start_connector, started_worker
from javaharness.harness import JavaHarness

from miniconnect.config.client_overrides import (
    PREFIXES,
    client_config_def,
    config_value_text,
    override_policy,
    parsed_overrides,
    uses_clients,
)
from miniconnect.config.configdef import ConfigType, render_value
from miniconnect.errors import ConfigError
from miniconnect.runtime.states import State, TaskId

ROOT = Path(__file__).resolve().parent.parent.parent
_spec = importlib.util.spec_from_file_location("gen_kafka_keys", ROOT / "scripts" / "gen_kafka_keys.py")
assert _spec is not None and _spec.loader is not None
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


@pytest.fixture(scope="module")
def java(tmp_path_factory: pytest.TempPathFactory) -> JavaHarness:
    return JavaHarness("ParseHarness", tmp_path_factory.mktemp("client-harness"))


@pytest.fixture(scope="module")
def kafkas(java: JavaHarness) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    return gen.kafka_keys(java)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def kafka_keys(kafkas: Any) -> dict[str, list[dict[str, Any]]]:
    return kafkas[0]  # type: ignore[no-any-return]


def test_the_shipped_definitions_are_kafkas(kafkas: Any) -> None:
    """kafka_keys.json is what Kafka's classes give now, for the keys written out by hand now."""
    text = gen.file_text(*kafkas, gen.written_out())
    assert text == gen.OUT.read_text(encoding="utf-8"), "run scripts/gen_kafka_keys.py"


def test_definitions_are_listed_as_kafka_lists_them(kafka_keys: dict[str, list[dict[str, Any]]]) -> None:
    """Each key's ConfigKeyInfo (AbstractHerder.convertConfigKey) from our ConfigDef, in Kafka's order."""
    for client, keys in kafka_keys.items():
        ours = client_config_def(client).keys
        assert list(ours) == [k["name"] for k in keys]
        for k in keys:
            info = ours[k["name"]].info()
            assert info == {
                "name": k["name"],
                "type": k["type"],
                "required": "default" not in k,
                "default_value": k.get("default"),
                "importance": k["importance"],
                "documentation": k["documentation"],
                "group": k["group"],
                "width": k["width"],
                "display_name": k["display_name"],
                "dependents": k["dependents"],
                "order": k["order"],
            }, k["name"]


VALUES = ["1", " 2 ", "-1", "x", "", " ", "2147483648", "32768", "1.5", "1e3", "1E400", "0x10", "-0.0", "NaN"]
VALUES += ["true", " FALSE ", "yes", "a, b", "a,,b", " a ,b ", "9223372036854775808", "\u00a01", "1\t"]


def test_override_values_parse_as_kafkas(java: JavaHarness) -> None:
    """Each override is parsed by its client key's type (AbstractHerder.validateClientOverrides): the same value
    shown, or the same error."""
    cases, ours = [], []
    for client, cls in gen.CLIENTS.items():
        for key in client_config_def(client).keys.values():
            if key.type is ConfigType.CLASS:  # loaded as a Java class there: not comparable
                continue
            for value in VALUES:
                cases.append({"kind": "clientparse", "class": cls, "name": key.name, "value": value})
                parsed, errors = parsed_overrides({PREFIXES[client] + key.name: value}, client)
                if errors:
                    ours.append({"error": errors[key.name]})
                else:
                    ours.append({"value": render_value(parsed[key.name], key.type)})
    theirs = java.run(cases)
    differences = [
        f"{c} ours {o} kafka {t}"
        for c, o, t in zip(cases, ours, theirs, strict=True)
        if o != {k: v for k, v in t.items() if k != "class"}
    ]
    assert len(cases) > 5000
    assert not differences, f"{len(differences)} of {len(cases)} differ:\n" + "\n".join(differences[:20])


def test_policies_give_kafkas_verdicts(java: JavaHarness) -> None:
    overrides = {"sasl.jaas.config": "x", "sasl.mechanism": "PLAIN", "security.protocol": "SSL", "batch.size": "5"}
    overrides |= {"": "e", "SASL.MECHANISM": "x", "sasl.mechanism ": "y", "it's; DROP": "'\\"}
    for name in ("All", "None", "Principal"):
        policy = override_policy(name)
        (theirs,) = java.run([{"kind": "policy", "class": policy.class_name, "props": overrides}])
        assert [config_value_text(v) for v in policy.validate(overrides)] == theirs["values"], name


def test_policy_names() -> None:
    for name in ("All", "None", "Principal"):
        for given in (
            name,
            f" {name} ",
            f"{name}ConnectorClientConfigOverridePolicy",
            override_policy(name).class_name,
        ):
            assert override_policy(given).name == name
    assert override_policy(None).name == "All"
    for wrong in ("all", "Nope", "org.apache.kafka.connect.connector.policy.All", "NoneConnector"):
        with pytest.raises(ConfigError, match=f"which name matches {wrong}, available policies are: "):
            override_policy(wrong)


def test_the_clients_whose_overrides_count() -> None:
    """AbstractHerder.connectorUses{Producer,Consumer,Admin} and DistributedHerder's offsets clients."""
    distributed = {"group.id": "g", "exactly.once.source.support": "disabled"}
    assert uses_clients("sink", {}, None) == ["consumer"]
    assert uses_clients("sink", {"errors.deadletterqueue.topic.name": " "}, None) == ["consumer"]
    assert uses_clients("sink", {"errors.deadletterqueue.topic.name": "dlq"}, None) == ["producer", "consumer", "admin"]
    assert uses_clients("source", {}, None) == ["producer"]
    assert uses_clients("source", {"topic.creation.x": ""}, None) == ["producer", "admin"]
    assert uses_clients("source", {"offsets.storage.topic": "o"}, None) == ["producer"]  # standalone: no such clients
    assert uses_clients("source", {"offsets.storage.topic": "o"}, distributed) == ["producer", "consumer", "admin"]
    assert uses_clients("source", {"offsets.storage.topic": " "}, distributed) == ["producer"]
    eos = distributed | {"exactly.once.source.support": "enabled"}
    assert uses_clients("source", {}, eos) == ["producer", "consumer", "admin"]


async def test_a_task_whose_overrides_the_policy_refuses_fails_to_start(tmp_path: Path) -> None:
    """Worker.connectorClientConfigOverrides: validation refuses such a config first, but one stored before the
    policy changed still reaches the worker."""
    async with started_worker(tmp_path, **{"connector.client.config.override.policy": "Principal"}) as worker:
        listener: Listener = worker.listener  # type: ignore[assignment]
        await start_connector(worker, "refused", {**SINK, "consumer.override.max.poll.records": "7"})
        await start_connector(worker, "principal", {**SINK, "consumer.override.sasl.mechanism": "PLAIN"})
        # a sink without a dead letter queue makes no producer: its producer overrides are not looked at
        await start_connector(worker, "unused", {**SINK, "producer.override.batch.size": "5"})
        await start_connector(worker, "source", {**SOURCE, "producer.override.acks": "all"})
        await eventually(lambda: len(listener.tasks) == 4)
        state, trace = listener.tasks[TaskId("refused", 0)]
        assert state == State.FAILED and trace is not None
        assert (
            "Client Config Overrides not allowed [[max.poll.records,7,[],[The 'Principal' policy does not allow "
            "'max.poll.records' to be overridden in the connector configuration.],true]]"
        ) in trace
        assert listener.tasks[TaskId("principal", 0)][0] == State.RUNNING
        assert listener.tasks[TaskId("unused", 0)][0] == State.RUNNING
        state, trace = listener.tasks[TaskId("source", 0)]
        assert state == State.FAILED and "'acks' to be overridden" in str(trace)


def test_every_client_password_key_is_masked() -> None:
    """secrets.CLIENT_PASSWORD_KEYS (what log lines and traces mask) holds every PASSWORD key of the clients."""
    from miniconnect.secrets import CLIENT_PASSWORD_KEYS

    for client in PREFIXES:
        for key in client_config_def(client).keys.values():
            if key.type is ConfigType.PASSWORD:
                assert key.name in CLIENT_PASSWORD_KEYS, key.name
