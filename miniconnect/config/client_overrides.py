"""A connector's client overrides (`producer.override.*`, `consumer.override.*`, `admin.override.*`) as Kafka's
worker takes them: the worker's `connector.client.config.override.policy` (All, None or Principal) allows or refuses
each one, `config/validate` lists them with the clients' own key definitions (AbstractHerder.validateClientOverrides),
and a task whose overrides the policy refuses fails to start (Worker.connectorClientConfigOverrides).

The definitions are Kafka's ProducerConfig, ConsumerConfig and AdminClientConfig (see kafka_keys)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..data.javahash import hash_map_copy_order, hash_map_order, hash_map_presized_order
from ..errors import ConfigError, ConnectError
from .configdef import ConfigType, ConfigValue, java_trim, parse_type
from .kafka_keys import client_config_def
from .worker_config import worker_group, worker_setting

PRODUCER, CONSUMER, ADMIN = "producer", "consumer", "admin"
PREFIXES = {PRODUCER: "producer.override.", CONSUMER: "consumer.override.", ADMIN: "admin.override."}
_POLICY_PACKAGE = "org.apache.kafka.connect.connector.policy."
_POLICY_SUFFIX = "ConnectorClientConfigOverridePolicy"


class OverridePolicy:
    """AbstractConnectorClientConfigOverridePolicy: one ConfigValue per override, with an error if not allowed."""

    name = "All"
    allowed: frozenset[str] | None = None  # None: every key

    @property
    def class_name(self) -> str:
        return f"{_POLICY_PACKAGE}{self.name}{_POLICY_SUFFIX}"

    def allows(self, key: str) -> bool:
        return self.allowed is None or key in self.allowed

    def validate(self, overrides: Mapping[str, Any]) -> list[ConfigValue]:
        return [
            ConfigValue(
                key,
                value,
                [],
                []
                if self.allows(key)
                else [
                    f"The '{self.name}' policy does not allow '{key}' to be overridden in the connector configuration."
                ],
            )
            for key, value in overrides.items()
        ]


class _NonePolicy(OverridePolicy):
    name = "None"
    allowed = frozenset()


class _PrincipalPolicy(OverridePolicy):
    name = "Principal"
    allowed = frozenset({"sasl.jaas.config", "sasl.mechanism", "security.protocol"})


_POLICIES = {p.name: p for p in (OverridePolicy(), _NonePolicy(), _PrincipalPolicy())}


def override_policy(name: str | None) -> OverridePolicy:
    """The policy a worker's `connector.client.config.override.policy` names: its class name, simple class name or
    alias (All, None, Principal), as Kafka's plugin lookup finds it; ConfigError for any other."""
    text = java_trim(name or "All")
    short = text.removeprefix(_POLICY_PACKAGE).removesuffix(_POLICY_SUFFIX)
    policy = _POLICIES.get(short)
    if policy is None or text not in (policy.name, policy.name + _POLICY_SUFFIX, policy.class_name):
        names = ", ".join(p.class_name for p in _POLICIES.values())
        raise ConfigError(
            message=f"Failed to find any class that implements {_POLICY_SUFFIX} and which name matches {text}, "
            f"available policies are: {names}"
        )
    return policy


def worker_policy(worker_config: Any) -> OverridePolicy:
    """The policy of a worker config (All where it names none)."""
    return override_policy(worker_setting(worker_config, "connector.client.config.override.policy", "All"))


def overrides(props: Mapping[str, Any], client: str) -> dict[str, Any]:
    """The connector's overrides of one client, prefix removed, in the order Kafka's validation lists them: the
    connector config goes through the HashMaps of ConfigTransformer (a copy), Utils.castToStringObjectMap
    (presized), AbstractConfig.resolveConfigVariables (a putAll, then ResolvingMap's copy), and the overrides
    through those of Utils.entriesWithPrefix, originalsWithPrefix's RecordingMap (a putAll) and
    validateClientOverrides."""
    prefix = PREFIXES[client]
    if not any(k.startswith(prefix) for k in props):
        return {}
    originals = hash_map_copy_order(props)
    originals = hash_map_copy_order(hash_map_copy_order(hash_map_presized_order(originals, len(originals))))
    stripped = [k[len(prefix) :] for k in originals if k.startswith(prefix) and len(k) > len(prefix)]
    return {k: props[prefix + k] for k in hash_map_order(hash_map_copy_order(hash_map_order(stripped)))}


def parsed_overrides(props: Mapping[str, Any], client: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The overrides parsed by their client key's type (unknown keys as they are), and the parse errors by key
    (Kafka's ConfigException texts; there they make validation a 500)."""
    given = overrides(props, client)
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if not given:  # the usual case: the definitions are not even loaded
        return parsed, errors
    keys = client_config_def(client).keys
    for name, value in given.items():
        key = keys.get(name)
        if key is None or key.type is ConfigType.CLASS:  # a Java class cannot be loaded here: its name stays
            parsed[name] = java_trim(value) if isinstance(value, str) and key is not None else value
            continue
        try:
            parsed[name] = parse_type(name, value, key.type)
        except ConfigError as e:
            parsed[name], errors[name] = value, str(e)
    return parsed, errors


def uses_clients(connector_type: str, props: Mapping[str, Any], worker_config: Any) -> list[str]:
    """AbstractHerder.connectorUses{Producer,Consumer,Admin}, and DistributedHerder's: a source's offsets have
    clients of their own where a distributed worker has exactly-once source support or the source names an offsets
    topic. The clients' names, in the order Kafka lists their overrides."""
    separate_offsets_clients = worker_group(worker_config) is not None and (
        worker_setting(worker_config, "exactly.once.source.support", "disabled") == "enabled"
        or bool(java_trim(str(props.get("offsets.storage.topic") or "")))
    )
    dlq = bool(java_trim(str(props.get("errors.deadletterqueue.topic.name") or "")))
    if connector_type == "source":
        admin = any(k.startswith("topic.creation.") for k in props) or separate_offsets_clients
        uses = {PRODUCER: True, CONSUMER: separate_offsets_clients, ADMIN: admin}
    else:
        uses = {PRODUCER: dlq, CONSUMER: True, ADMIN: dlq}
    return [c for c in (PRODUCER, CONSUMER, ADMIN) if uses[c]]


def check_overrides(policy: OverridePolicy, props: Mapping[str, Any], clients: list[str]) -> None:
    """Worker.connectorClientConfigOverrides for each client a task creates: ConnectError if the policy refuses
    an override."""
    for client in clients:
        refused = [v for v in policy.validate(overrides(props, client)) if v.errors]
        if refused:
            raise ConnectError(f"Client Config Overrides not allowed [{', '.join(map(config_value_text, refused))}]")


def config_value_text(v: ConfigValue) -> str:
    """ConfigValue.toString."""
    value = "null" if v.value is None else v.value
    return f"[{v.name},{value},[],[{', '.join(v.errors)}],{'true' if v.visible else 'false'}]"
