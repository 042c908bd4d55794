"""DistributedConfig: Kafka Connect's distributed worker keys, defaults and checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from miniconnect.cli import load_worker_config
from miniconnect.config.distributed_config import DistributedConfig, internal_client_config, internal_topics
from miniconnect.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
# The settings of Apache Kafka 4.1's config/connect-distributed.properties (its comments left out).
KAFKA_FILE = """bootstrap.servers=localhost:9092
group.id=connect-cluster
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.topic=connect-offsets
offset.storage.replication.factor=1
config.storage.topic=connect-configs
config.storage.replication.factor=1
status.storage.topic=connect-status
status.storage.replication.factor=1
offset.flush.interval.ms=10000
"""
REQUIRED = {"group.id": "g", "config.storage.topic": "c", "offset.storage.topic": "o", "status.storage.topic": "s"}


@pytest.mark.parametrize("source", ["kafka", "repo"])
def test_kafkas_and_our_properties_files_load_as_they_are(tmp_path: Path, source: str) -> None:
    path = tmp_path / "connect-distributed.properties"
    path.write_text(KAFKA_FILE) if source == "kafka" else path.write_text(
        (ROOT / "config/connect-distributed.properties").read_text()
    )
    config = load_worker_config(str(path), [], distributed=True)
    assert isinstance(config, DistributedConfig)
    assert (config["group.id"], config.connect_protocol) == ("connect-cluster", "sessioned")
    assert [(t.name, t.partitions, t.replication_factor) for t in internal_topics(config)] == [
        ("connect-configs", 1, 1),
        ("connect-offsets", 25, 1),
        ("connect-status", 5, 1),
    ]
    assert config["offset.flush.interval.ms"] == 10000


def test_kafkas_defaults() -> None:
    c = DistributedConfig(REQUIRED)
    assert {
        k: c[k]
        for k in (
            "session.timeout.ms",
            "heartbeat.interval.ms",
            "rebalance.timeout.ms",
            "scheduled.rebalance.max.delay.ms",
            "worker.sync.timeout.ms",
            "worker.unsync.backoff.ms",
            "offset.storage.partitions",
            "status.storage.partitions",
            "config.storage.replication.factor",
            "offset.storage.replication.factor",
            "status.storage.replication.factor",
            "connect.protocol",
            "inter.worker.key.ttl.ms",
            "inter.worker.key.generation.algorithm",
            "inter.worker.key.size",
            "inter.worker.signature.algorithm",
            "inter.worker.verification.algorithms",
            "offset.flush.interval.ms",
            "exactly.once.source.support",
        )
    } == {
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 3000,
        "rebalance.timeout.ms": 60000,
        "scheduled.rebalance.max.delay.ms": 300000,
        "worker.sync.timeout.ms": 3000,
        "worker.unsync.backoff.ms": 300000,
        "offset.storage.partitions": 25,
        "status.storage.partitions": 5,
        "config.storage.replication.factor": 3,
        "offset.storage.replication.factor": 3,
        "status.storage.replication.factor": 3,
        "connect.protocol": "sessioned",
        "inter.worker.key.ttl.ms": 3600000,
        "inter.worker.key.generation.algorithm": "HmacSHA256",
        "inter.worker.key.size": None,
        "inter.worker.signature.algorithm": "HmacSHA256",
        "inter.worker.verification.algorithms": ["HmacSHA256"],
        "offset.flush.interval.ms": 60000,
        "exactly.once.source.support": "disabled",
    }


@pytest.mark.parametrize(
    "props, message",
    [
        ({"group.id": None}, 'Missing required configuration "group.id" which has no default value.'),
        ({"status.storage.topic": None}, 'Missing required configuration "status.storage.topic" which has no default'),
        (
            {"offset.storage.partitions": "0"},
            "Invalid value 0 for configuration offset.storage.partitions: Number of "
            "partitions must be positive, or -1 to use the broker's default",
        ),
        (
            {"config.storage.replication.factor": "-2"},
            "Invalid value -2 for configuration config.storage.replication.factor: Replication factor must be positive",
        ),
        (
            {"connect.protocol": "fast"},
            "Invalid value fast for configuration connect.protocol: Invalid Connect protocol compatibility",
        ),
        ({"scheduled.rebalance.max.delay.ms": "-1"}, "scheduled.rebalance.max.delay.ms"),
        (
            {"inter.worker.signature.algorithm": "HmacSHA512"},
            "Signature algorithm must be present in inter.worker.verification.algorithms list",
        ),
        ({"inter.worker.key.generation.algorithm": "AES"}, "the algorithm is not supported by this JVM"),
        (
            {"inter.worker.verification.algorithms": ""},
            "At least one signature verification algorithm must be provided",
        ),
        ({"session.timeout.ms": "ten"}, "Not a number of type INT"),
    ],
)
def test_bad_values_are_refused_naming_the_key(props: dict, message: str) -> None:
    merged = {**REQUIRED, **props}
    with pytest.raises(ConfigError) as e:
        DistributedConfig({k: v for k, v in merged.items() if v is not None})
    assert message in str(e.value)


def test_protocols_and_minus_one_for_broker_defaults() -> None:
    for protocol in ("eager", "COMPATIBLE", "sessioned"):
        assert DistributedConfig({**REQUIRED, "connect.protocol": protocol}).connect_protocol == protocol.lower()
    c = DistributedConfig({**REQUIRED, "offset.storage.partitions": "-1", "status.storage.replication.factor": "-1"})
    assert [(t.partitions, t.replication_factor) for t in internal_topics(c)][1:] == [(-1, 3), (5, -1)]


def test_topic_settings_and_client_settings() -> None:
    c = DistributedConfig(
        {
            **REQUIRED,
            "offset.storage.segment.bytes": "1000000",
            "offset.storage.cleanup.policy": "delete",
            "offset.storage.file.filename": "/tmp/o",
            "config.storage.partitions": "4",
            "security.protocol": "SSL",
            "ssl.truststore.location": "/x",
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        }
    )
    topics = {t.worker_key: t for t in internal_topics(c)}
    assert topics["offset.storage.topic"].settings == {"segment.bytes": "1000000"}
    assert topics["offset.storage.topic"].new_topic().configs == {
        "segment.bytes": "1000000",
        "cleanup.policy": "compact",
    }
    assert topics["config.storage.topic"].partitions == 1  # always one, whatever config.storage.partitions says
    assert internal_client_config(c) == {"security.protocol": "SSL", "ssl.truststore.location": "/x"}
