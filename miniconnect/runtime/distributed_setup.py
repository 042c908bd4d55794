"""Builds a distributed worker: internal topics, the topic-backed stores, the Worker, the group member, the herder."""

from __future__ import annotations

from typing import Any

from .distributed import DistributedHerder
from .worker import Worker


def _servers(config: Any) -> str:
    servers = config["bootstrap.servers"]
    return ",".join(servers) if isinstance(servers, list) else servers


async def build_distributed(config: Any, plugins: Any, transport: Any) -> tuple[DistributedHerder, Any]:
    """(herder, offset store); the caller starts the REST server, then the herder, and stops both."""
    from ..config.distributed_config import internal_client_config
    from ..distributed.member import WorkerGroupMember
    from ..storage.internal_topics import ensure_internal_topics
    from ..storage.kafka_configs import KafkaConfigStore
    from ..storage.kafka_offsets import KafkaOffsetStore
    from ..storage.kafka_status import KafkaStatusStore

    servers = _servers(config)
    client_config = internal_client_config(config)  # the worker's top-level security settings, as Kafka's stores use
    await ensure_internal_topics(config, transport)
    offsets = KafkaOffsetStore(
        bootstrap_servers=servers, client_config=client_config, topic=config["offset.storage.topic"]
    )
    await offsets.start()
    worker = Worker(config, plugins, transport, offsets)
    url = config.rest_url()
    status = KafkaStatusStore(
        bootstrap_servers=servers, client_config=client_config, topic=config["status.storage.topic"]
    )

    def configs(herder: DistributedHerder) -> Any:
        return KafkaConfigStore(
            bootstrap_servers=servers,
            client_config=client_config,
            topic=config["config.storage.topic"],
            worker_id=worker.worker_id,
            listener=herder,
        )

    def member(herder: DistributedHerder) -> Any:
        return WorkerGroupMember(
            bootstrap_servers=servers,
            client_config=client_config,
            group_id=config["group.id"],
            session_timeout_ms=config["session.timeout.ms"],
            heartbeat_interval_ms=config["heartbeat.interval.ms"],
            rebalance_timeout_ms=config["rebalance.timeout.ms"],
            scheduled_rebalance_max_delay_ms=config["scheduled.rebalance.max.delay.ms"],
            protocol=config.connect_protocol,
            url=url,
            config_snapshot=herder.configs.snapshot,
            listener=herder,
            on_rejoin_needed=herder.wakeup,
        )

    herder = DistributedHerder(
        config,
        worker,
        plugins,
        transport,
        offsets,
        configs_factory=configs,
        status=status,
        member_factory=member,
        url=url,
    )
    return herder, offsets
