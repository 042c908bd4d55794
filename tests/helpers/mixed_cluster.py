"""Worker properties shared by the clusters of miniconnect and JVM Kafka Connect workers."""

from __future__ import annotations


def _group_props(bootstrap: str, group: str, protocol: str) -> dict[str, str]:
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
        "status.storage.partitions": "1",
        "scheduled.rebalance.max.delay.ms": "5000",
        "heartbeat.interval.ms": "1000",
        "session.timeout.ms": "10000",
        "offset.flush.interval.ms": "500",
        "connect.protocol": protocol,
        "rest.advertised.host.name": "127.0.0.1",
        **STRING,
    }


STRING = {
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
}
