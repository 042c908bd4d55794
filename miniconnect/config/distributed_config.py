"""Distributed worker configuration: Kafka Connect's DistributedConfig keys (names, defaults, validation) on top of
the common worker keys, and what the internal topics and clients are made from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..distributed.signing import MACS
from ..errors import ConfigError
from .configdef import NO_DEFAULT, ConfigDef, ConfigType, Importance, between, custom, one_of
from .kafka_keys import with_kafka_keys
from .worker_config import WORKER_CONFIG, WorkerConfig

T, I = ConfigType, Importance

PROTOCOLS = ("eager", "compatible", "sessioned")  # ConnectProtocolCompatibility
# The MAC algorithms the inter-worker signing supports stand for "supported by the worker JVM" in Kafka's checks.
MAC_ALGORITHMS = MACS

_PARTITIONS_TEXT = "Positive number, or -1 to use the broker's default"
_RF_TEXT = (
    "Positive number not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default"
)


def _partitions(v: int) -> str | None:  # TopicCreationConfig.PARTITIONS_VALIDATOR
    return None if v == -1 or v >= 1 else "Number of partitions must be positive, or -1 to use the broker's default"


def _replication_factor(v: int) -> str | None:  # TopicCreationConfig.REPLICATION_FACTOR_VALIDATOR
    return (
        None
        if v == -1 or v >= 1
        else (
            "Replication factor must be positive and not larger than the number of "
            "brokers in the Kafka cluster, or -1 to use the broker's default"
        )
    )


def _unsupported(supported: list[str]) -> str:
    return f"the algorithm is not supported by this JVM; the supported algorithms are: [{', '.join(supported)}]"


def _mac(v: str) -> str | None:
    return None if v in MAC_ALGORITHMS else _unsupported(sorted(MAC_ALGORITHMS))


def _key_algorithm(v: str) -> str | None:
    return None if v in MAC_ALGORITHMS else _unsupported(sorted(MAC_ALGORITHMS))


def _verification(v: list[str]) -> str | None:
    if not v:
        return "At least one signature verification algorithm must be provided"
    return next((_mac(a) for a in v if _mac(a)), None)


def _connect_protocol(v: str) -> str | None:
    return None if v.lower() in PROTOCOLS else "Invalid Connect protocol compatibility"


def distributed_keys() -> ConfigDef:
    """The distributed worker's own keys, as written out here (DISTRIBUTED_CONFIG adds the common ones and those
    read from Kafka's classes)."""
    d = ConfigDef()
    d.define(
        "group.id",
        T.STRING,
        NO_DEFAULT,
        None,
        I.HIGH,
        "A unique string that identifies the Connect cluster group this worker belongs to.",
    )
    d.define(
        "session.timeout.ms",
        T.INT,
        10000,
        None,
        I.HIGH,
        "The timeout used to detect worker failures. The worker sends periodic heartbeats to indicate its "
        "liveness to the broker. If no heartbeats are received by the broker before the expiration of this "
        "session timeout, then the broker will remove the worker from the group and initiate a rebalance. Note "
        "that the value must be in the allowable range as configured in the broker configuration by "
        "<code>group.min.session.timeout.ms</code> and <code>group.max.session.timeout.ms</code>.",
    )
    d.define(
        "rebalance.timeout.ms",
        T.INT,
        60000,
        None,
        I.HIGH,
        "The maximum allowed time for each worker to join the group once a rebalance has begun. This is "
        "basically a limit on the amount of time needed for all tasks to flush any pending data and commit "
        "offsets. If the timeout is exceeded, then the worker will be removed from the group, which will cause "
        "offset commit failures.",
    )
    d.define(
        "heartbeat.interval.ms",
        T.INT,
        3000,
        None,
        I.HIGH,
        "The expected time between heartbeats to the group coordinator when using Kafka's group management "
        "facilities. Heartbeats are used to ensure that the worker's session stays active and to facilitate "
        "rebalancing when new members join or leave the group. The value must be set lower than "
        "<code>session.timeout.ms</code>, but typically should be set no higher than 1/3 of that value. It can "
        "be adjusted even lower to control the expected time for normal rebalances.",
    )
    d.define(
        "exactly.once.source.support",
        T.STRING,
        "disabled",
        one_of("disabled", "preparing", "enabled"),
        I.HIGH,
        "Whether to enable exactly-once support for source connectors in the cluster by using transactions to "
        "write source records and their source offsets, and by proactively fencing out old task generations "
        "before bringing up new ones. miniconnect: only 'disabled' is implemented.",
    )
    d.define(
        "worker.sync.timeout.ms",
        T.INT,
        3000,
        None,
        I.MEDIUM,
        "When the worker is out of sync with other workers and needs to resynchronize configurations, wait up to "
        "this amount of time before giving up, leaving the group, and waiting a backoff period before rejoining.",
    )
    d.define(
        "worker.unsync.backoff.ms",
        T.INT,
        300000,
        None,
        I.MEDIUM,
        "When the worker is out of sync with other workers and  fails to catch up within "
        "worker.sync.timeout.ms, leave the Connect cluster for this long before rejoining.",
    )
    partitions = custom(_partitions, _PARTITIONS_TEXT)
    rf = custom(_replication_factor, _RF_TEXT)
    d.define(
        "offset.storage.topic",
        T.STRING,
        NO_DEFAULT,
        None,
        I.HIGH,
        "The name of the Kafka topic where source connector offsets are stored",
    )
    d.define(
        "offset.storage.partitions",
        T.INT,
        25,
        partitions,
        I.LOW,
        "The number of partitions used when creating the offset storage topic",
    )
    d.define(
        "offset.storage.replication.factor",
        T.SHORT,
        3,
        rf,
        I.LOW,
        "Replication factor used when creating the offset storage topic",
    )
    d.define(
        "config.storage.topic",
        T.STRING,
        NO_DEFAULT,
        None,
        I.HIGH,
        "The name of the Kafka topic where connector configurations are stored",
    )
    d.define(
        "config.storage.replication.factor",
        T.SHORT,
        3,
        rf,
        I.LOW,
        "Replication factor used when creating the configuration storage topic",
    )
    d.define(
        "status.storage.topic",
        T.STRING,
        NO_DEFAULT,
        None,
        I.HIGH,
        "The name of the Kafka topic where connector and task status are stored",
    )
    d.define(
        "status.storage.partitions",
        T.INT,
        5,
        partitions,
        I.LOW,
        "The number of partitions used when creating the status storage topic",
    )
    d.define(
        "status.storage.replication.factor",
        T.SHORT,
        3,
        rf,
        I.LOW,
        "Replication factor used when creating the status storage topic",
    )
    d.define(
        "connect.protocol",
        T.STRING,
        "sessioned",
        custom(_connect_protocol, "[eager, compatible, sessioned]"),
        I.LOW,
        "Compatibility mode for Kafka Connect Protocol",
    )
    d.define(
        "scheduled.rebalance.max.delay.ms",
        T.INT,
        300000,
        between(0, 2**31 - 1),
        I.LOW,
        "The maximum delay that is scheduled in order to wait for the return of one or more departed workers "
        "before rebalancing and reassigning their connectors and tasks to the group. During this period the "
        "connectors and tasks of the departed workers remain unassigned",
    )
    d.define(
        "inter.worker.key.ttl.ms",
        T.INT,
        3600000,
        between(0, 2**31 - 1),
        I.LOW,
        "The TTL of generated session keys used for internal request validation (in milliseconds)",
    )
    d.define(
        "inter.worker.key.generation.algorithm",
        T.STRING,
        "HmacSHA256",
        custom(_key_algorithm, "Any KeyGenerator algorithm supported by the worker JVM"),
        I.LOW,
        "The algorithm to use for generating internal request keys. The algorithm 'HmacSHA256' will be used as a "
        "default on JVMs that support it; on other JVMs, no default is used and a value for this property must "
        "be manually specified in the worker config.",
    )
    d.define(
        "inter.worker.key.size",
        T.INT,
        None,
        None,
        I.LOW,
        "The size of the key to use for signing internal requests, in bits. If null, the default key size for "
        "the key generation algorithm will be used.",
    )
    d.define(
        "inter.worker.signature.algorithm",
        T.STRING,
        "HmacSHA256",
        custom(_mac, "Any MAC algorithm supported by the worker JVM"),
        I.LOW,
        "The algorithm used to sign internal requestsThe algorithm 'inter.worker.signature.algorithm' will be "
        "used as a default on JVMs that support it; on other JVMs, no default is used and a value for this "
        "property must be manually specified in the worker config.",
    )
    d.define(
        "inter.worker.verification.algorithms",
        T.LIST,
        "HmacSHA256",
        custom(_verification, "A list of one or more MAC algorithms, each supported by the worker JVM"),
        I.LOW,
        "A list of permitted algorithms for verifying internal requests, which must include the algorithm used "
        "for the inter.worker.signature.algorithm property. The algorithm(s) '[HmacSHA256]' will be used as a "
        "default on JVMs that provide them; on other JVMs, no default is used and a value for this property must "
        "be manually specified in the worker config.",
    )
    return d


DISTRIBUTED_CONFIG: ConfigDef = with_kafka_keys(distributed_keys().merge(WORKER_CONFIG), "distributed")


class DistributedConfig(WorkerConfig):
    """A distributed worker's properties (Kafka's DistributedConfig): required group.id and the three storage topics,
    Kafka's defaults, and the cross-key checks of its constructor."""

    def __init__(self, props: Mapping[str, Any], config_def: ConfigDef = DISTRIBUTED_CONFIG):
        super().__init__(props, config_def)
        signature = self["inter.worker.signature.algorithm"]
        if signature not in self["inter.worker.verification.algorithms"]:
            raise ConfigError(
                "inter.worker.signature.algorithm",
                signature,
                "Signature algorithm must be present in inter.worker.verification.algorithms list",
            )
        size = self["inter.worker.key.size"]
        if size is not None and (size <= 0 or size % 8):  # KeyGenerator.init refuses these for HMAC keys
            raise ConfigError(
                message=f"Unable to create key generator with algorithm "
                f"{self['inter.worker.key.generation.algorithm']} and key size {size}: "
                f"Key length must be a positive multiple of 8"
            )
        if self["exactly.once.source.support"] != "disabled":
            raise ConfigError(
                "exactly.once.source.support",
                self["exactly.once.source.support"],
                "exactly-once source support is not implemented by miniconnect",
            )

    @property
    def connect_protocol(self) -> str:
        return str(self["connect.protocol"]).lower()

    def topic_settings(self, prefix: str) -> dict[str, str]:
        """DistributedConfig.topicSettings: the other `<prefix>*` keys as topic configs (cleanup.policy dropped,
        compaction is always used)."""
        # keys that are worker settings themselves (offset.storage.file.filename, standalone's) are not topic configs
        out = {k: str(v) for k, v in self.with_prefix(prefix).items() if prefix + k not in self.config_def.keys}
        for key in ("topic", "replication.factor", "partitions", "cleanup.policy"):
            out.pop(key, None)
        return out


def internal_topics(config: Any) -> list[Any]:
    """The config, offset and status topics as InternalTopics (the config topic always has one partition)."""
    from ..storage.internal_topics import PURPOSES, InternalTopic

    settings = config.topic_settings if isinstance(config, DistributedConfig) else (lambda prefix: {})
    return [
        InternalTopic(
            config["config.storage.topic"],
            "config.storage.topic",
            PURPOSES["config.storage.topic"],
            1,
            int(config["config.storage.replication.factor"]),
            settings("config.storage."),
        ),
        InternalTopic(
            config["offset.storage.topic"],
            "offset.storage.topic",
            PURPOSES["offset.storage.topic"],
            int(config["offset.storage.partitions"]),
            int(config["offset.storage.replication.factor"]),
            settings("offset.storage."),
        ),
        InternalTopic(
            config["status.storage.topic"],
            "status.storage.topic",
            PURPOSES["status.storage.topic"],
            int(config["status.storage.partitions"]),
            int(config["status.storage.replication.factor"]),
            settings("status.storage."),
        ),
    ]


_CLIENT_PREFIXES = ("ssl.", "sasl.")
_CLIENT_KEYS = (
    "security.protocol",
    "client.dns.lookup",
    "request.timeout.ms",
    "retry.backoff.ms",
    "metadata.max.age.ms",
    "connections.max.idle.ms",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
)


def internal_client_config(config: WorkerConfig) -> dict[str, Any]:
    """The top-level client settings (security, timeouts) that Kafka's internal-topic clients take from the worker's
    originals; the rest of the worker keys are not client settings."""
    return {k: v for k, v in config.originals.items() if k in _CLIENT_KEYS or k.startswith(_CLIENT_PREFIXES)}
