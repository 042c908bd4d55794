"""Client settings in Kafka's Java naming (`linger.ms`, `sasl.jaas.config`, ...) mapped to aiokafka keyword
arguments, in one place; settings aiokafka has no equivalent for are logged and ignored."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from ...errors import ConnectError

log = logging.getLogger(__name__)


def _int(v: Any) -> int:
    return int(v)


def _bool(v: Any) -> bool:
    return v if isinstance(v, bool) else str(v).strip().lower() == "true"


def _acks(v: Any) -> Any:
    s = str(v).strip().lower()
    return "all" if s in ("all", "-1") else int(s)


def _compression(v: Any) -> str | None:
    s = str(v).strip().lower()
    return None if s in ("none", "") else s


def assignors(v: Any) -> tuple:
    from aiokafka.coordinator.assignors.range import RangePartitionAssignor
    from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor

    names = v if isinstance(v, (list, tuple)) else str(v).split(",")
    out = []
    for name in names:
        simple = name.strip().rsplit(".", 1)[-1]
        cls = {
            "RangeAssignor": RangePartitionAssignor,
            "RoundRobinAssignor": RoundRobinPartitionAssignor,
            "StickyAssignor": StickyPartitionAssignor,
            "CooperativeStickyAssignor": StickyPartitionAssignor,
        }.get(simple)
        if cls is None:
            log.warning("Ignoring unsupported partition.assignment.strategy %s", name.strip())
        elif cls not in out:
            out.append(cls)
    return tuple(out) or (RangePartitionAssignor,)


COMMON_SETTINGS = {
    "client.id": ("client_id", str),
    "request.timeout.ms": ("request_timeout_ms", _int),
    "retry.backoff.ms": ("retry_backoff_ms", _int),
    "metadata.max.age.ms": ("metadata_max_age_ms", _int),
    "connections.max.idle.ms": ("connections_max_idle_ms", _int),
    "security.protocol": ("security_protocol", lambda v: str(v).upper()),
    "sasl.mechanism": ("sasl_mechanism", lambda v: str(v).upper()),
    "sasl.kerberos.service.name": ("sasl_kerberos_service_name", str),
}
PRODUCER_SETTINGS = {
    **COMMON_SETTINGS,
    "acks": ("acks", _acks),
    "linger.ms": ("linger_ms", _int),
    "batch.size": ("max_batch_size", _int),
    "compression.type": ("compression_type", _compression),
    "max.request.size": ("max_request_size", _int),
    "enable.idempotence": ("enable_idempotence", _bool),
    "transaction.timeout.ms": ("transaction_timeout_ms", _int),
}
CONSUMER_SETTINGS = {
    **COMMON_SETTINGS,
    "auto.offset.reset": ("auto_offset_reset", lambda v: str(v).lower()),
    "fetch.max.wait.ms": ("fetch_max_wait_ms", _int),
    "fetch.min.bytes": ("fetch_min_bytes", _int),
    "fetch.max.bytes": ("fetch_max_bytes", _int),
    "max.partition.fetch.bytes": ("max_partition_fetch_bytes", _int),
    "max.poll.interval.ms": ("max_poll_interval_ms", _int),
    "session.timeout.ms": ("session_timeout_ms", _int),
    "heartbeat.interval.ms": ("heartbeat_interval_ms", _int),
    "isolation.level": ("isolation_level", lambda v: str(v).lower()),
    "partition.assignment.strategy": ("partition_assignment_strategy", assignors),
    "client.rack": ("client_rack", str),
    "check.crcs": ("check_crcs", _bool),
    "exclude.internal.topics": ("exclude_internal_topics", _bool),
    "group.instance.id": ("group_instance_id", str),
}
ADMIN_SETTINGS = dict(COMMON_SETTINGS)

# Java settings that have no aiokafka equivalent or that we handle ourselves: ignored without a warning.
_QUIET = {
    "bootstrap.servers",
    "sasl.jaas.config",
    "sasl.login.class",
    "sasl.client.callback.handler.class",
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "group.id",
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "buffer.memory",
    "retries",
    "delivery.timeout.ms",
    "max.in.flight.requests.per.connection",
    "max.block.ms",
    "default.api.timeout.ms",
    "max.poll.records",
    "send.buffer.bytes",
    "receive.buffer.bytes",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
    "retry.backoff.max.ms",
    "interceptor.classes",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.sample.window.ms",
    "metrics.recording.level",
    "client.dns.lookup",
    "partitioner.class",
    "partitioner.ignore.keys",
    "partitioner.adaptive.partitioning.enable",
    "socket.connection.setup.timeout.ms",
    "socket.connection.setup.timeout.max.ms",
    "auto.include.jmx.reporter",
    "ssl.truststore.type",
    "ssl.keystore.type",
    "ssl.protocol",
    "ssl.enabled.protocols",
    "ssl.keymanager.algorithm",
    "ssl.trustmanager.algorithm",
    "ssl.secure.random.implementation",
    "ssl.provider",
    "ssl.engine.factory.class",
}
_warned: set[str] = set()

# send_batch hands aiokafka whole record batches, so lingering would only add latency. A poll's worth of records
# goes out as one batch of up to ~1 MB (Kafka's default max.message.bytes is 1048588): compared with 256 KiB
# batches this cut the broker's CPU per record by a third and the worker's by a tenth (bench_jdbc_source_e2e).
PRODUCER_DEFAULTS = {
    "acks": "all",
    "enable_idempotence": True,
    "linger_ms": 0,
    "max_batch_size": 1_000_000,
    "max_request_size": 1048576,
}
CONSUMER_DEFAULTS = {"auto_offset_reset": "earliest", "enable_auto_commit": False}


def _value(v: Any) -> Any:
    return getattr(v, "value", v) if type(v).__name__ == "Password" else v


# Both put username and password in the client's Subject, which is all PLAIN and SCRAM read (Kafka's
# SaslClientCallbackHandler), so either serves either mechanism, as in the Java client.
_SASL_MODULES = (
    "org.apache.kafka.common.security.plain.PlainLoginModule",
    "org.apache.kafka.common.security.scram.ScramLoginModule",
)


def _sasl_credentials(jaas: str) -> dict[str, str]:
    """sasl_plain_username/password from a Java client's `sasl.jaas.config`; the password joins the masked
    secrets."""
    from ...config.jaas import parse_jaas_config
    from ...secrets import remember

    module = parse_jaas_config(jaas)
    if module.name not in _SASL_MODULES:
        raise ConnectError(
            f"Unsupported login module {module.name} in sasl.jaas.config; miniconnect supports "
            f"{' and '.join(_SASL_MODULES)}"
        )
    user, password = module.options.get("username"), module.options.get("password")
    if user is None or password is None:
        raise ConnectError(f"sasl.jaas.config for {module.name} needs username and password options")
    remember([password])
    return {"sasl_plain_username": user, "sasl_plain_password": password}


def client_kwargs(
    config: Mapping[str, Any] | None, table: Mapping[str, tuple[str, Callable[[Any], Any]]], role: str
) -> dict[str, Any]:
    """Maps Java-named client settings to aiokafka keyword arguments; warns once about unknown ones.
    Security: `security.protocol` SSL/SASL_SSL get an SSL context from the `ssl.*` keys (PKCS12 or PEM stores),
    SASL_* get their credentials from `sasl.jaas.config`."""
    cfg = {k: _value(v) for k, v in (config or {}).items() if v is not None}
    out: dict[str, Any] = {}
    for key, raw in cfg.items():
        if key in table:
            name, conv = table[key]
            try:
                out[name] = conv(raw)
            except (TypeError, ValueError) as e:
                raise ConnectError(f"Invalid value {raw} for {role} configuration {key}: {e}") from None
        elif key.startswith("ssl.") or key in _QUIET:
            continue
        elif key not in _warned:
            _warned.add(key)
            log.warning("Ignoring %s setting %s: not supported by the Kafka client", role, key)
    protocol = out.get("security_protocol", "PLAINTEXT")
    if protocol not in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
        raise ConnectError(
            f"Invalid value {protocol} for {role} configuration security.protocol: String must be "
            f"one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"
        )
    if protocol.startswith("SASL_"):
        mechanism = out.setdefault("sasl_mechanism", "GSSAPI")
        if mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
            if not cfg.get("sasl.jaas.config"):
                raise ConnectError(f"{role} configuration sasl.jaas.config is required for sasl.mechanism {mechanism}")
            out.update(_sasl_credentials(str(cfg["sasl.jaas.config"])))
        elif mechanism != "GSSAPI":
            raise ConnectError(
                f"Unsupported sasl.mechanism {mechanism}: miniconnect supports PLAIN, SCRAM-SHA-256 "
                f"and SCRAM-SHA-512 (GSSAPI is handed to aiokafka as it is)"
            )
    if protocol in ("SSL", "SASL_SSL"):
        from ...config.tls import client_context

        try:
            out["ssl_context"] = client_context(cfg)
        except ConnectError as e:
            raise ConnectError(f"Invalid {role} SSL configuration: {e}") from None
    return out
