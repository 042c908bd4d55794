"""Connect's internal topics: created compacted when missing, refused when an existing one is not compact-only.

Follows KafkaTopicBasedBackingStore.topicInitializer and TopicAdmin.verifyTopicCleanupPolicyOnlyCompact: a topic
this worker created is used as is; one that already existed must have `cleanup.policy=compact` exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..transport.base import NewTopic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InternalTopic:
    name: str
    worker_key: str  # the worker property that names it, e.g. config.storage.topic
    purpose: str  # KafkaConfigBackingStore.getTopicPurpose() & co., used in Kafka's messages
    partitions: int  # -1: the broker's default
    replication_factor: int  # -1: the broker's default
    settings: dict[str, str] = field(default_factory=dict)  # other <prefix>.* worker keys, as topic configs

    def new_topic(self) -> NewTopic:
        # TopicAdmin.defineTopic(topic).config(settings).compacted(): compaction overrides user settings
        return NewTopic(
            self.name, self.partitions, self.replication_factor, {**self.settings, "cleanup.policy": "compact"}
        )


PURPOSES = {
    "config.storage.topic": "connector configurations",
    "offset.storage.topic": "source connector offsets",
    "status.storage.topic": "connector and task statuses",
}


def cleanup_policy_error(topic: InternalTopic, policies: set[str]) -> str:
    """TopicAdmin.verifyTopicCleanupPolicyOnlyCompact's message."""
    return (
        f"Topic '{topic.name}' supplied via the '{topic.worker_key}' property is required to have "
        f"'cleanup.policy=compact' to guarantee consistency and durability of {topic.purpose}, but found the "
        f"topic currently has 'cleanup.policy={','.join(sorted(policies))}'. Continuing would likely result in "
        f"eventually losing {topic.purpose} and problems restarting this Connect cluster in the future. Change "
        f"the '{topic.worker_key}' property in the Connect worker configurations to use a topic with "
        f"'cleanup.policy=compact'."
    )


async def ensure_topic(transport: Any, topic: InternalTopic) -> bool:
    """Creates the topic if missing (True), else checks its cleanup policy (False); ConfigError if it is wrong.
    `transport` is a started KafkaTransport."""
    created = await transport.create_topics([topic.new_topic()])
    if topic.name in created:
        log.info("Created topic %s for %s", topic.name, topic.purpose)
        return True
    configs = await transport.describe_topic_configs(topic.name)
    policy = configs.get("cleanup.policy")
    policies = {p.strip().lower() for p in (policy or "").split(",") if p.strip()}
    if not policies:
        log.info("Unable to use admin client to verify the cleanup policy of '%s' topic is 'compact'", topic.name)
        return False
    if policies != {"compact"}:
        raise ConfigError(message=cleanup_policy_error(topic, policies))
    return False


async def ensure_internal_topics(config: Any, transport: Any = None) -> None:
    """The three internal topics of a distributed worker config (DistributedConfig): each created or checked.
    Without a transport, one is made from the worker's client settings for this and closed after."""
    from ..config.distributed_config import internal_topics

    own = transport is None
    if own:
        from ..config.distributed_config import internal_client_config
        from ..transport.kafka import KafkaTransport

        servers = config["bootstrap.servers"]
        client = internal_client_config(config)
        transport = KafkaTransport(
            ",".join(servers) if isinstance(servers, list) else servers,
            admin_config=client,
            consumer_config=client,
            producer_config=client,
            startup_timeout_s=60.0,
        )
        await transport.start()
    try:
        for topic in internal_topics(config):
            await ensure_topic(transport, topic)
    finally:
        if own:
            await transport.stop()


def topic_initializer(
    bootstrap_servers: str, client_config: Mapping[str, Any] | None, topic: InternalTopic
) -> Callable[[], Awaitable[None]]:
    """A KafkaBasedLog initializer that creates or checks one internal topic with a short-lived admin client
    (KafkaTopicBasedBackingStore.topicInitializer)."""

    async def initialize() -> None:
        from ..transport.kafka import KafkaTransport

        transport = KafkaTransport(bootstrap_servers, admin_config=client_config, startup_timeout_s=60.0)
        await transport.start()
        try:
            await ensure_topic(transport, topic)
        finally:
            await transport.stop()

    return initialize


def store_log(
    *,
    topic: str,
    worker_key: str,
    bootstrap_servers: str,
    client_config: Mapping[str, Any] | None,
    consumed: Any,
    partitions: int,
    replication_factor: int | None,
    topic_settings: Mapping[str, str] | None,
    client_id: str | None,
) -> Any:
    """The KafkaBasedLog of one store. With a replication_factor it creates its topic when missing and checks an
    existing one's cleanup policy on start (else internal_topics.ensure_internal_topics is expected to have done
    so). Producers without idempotence, as Kafka's stores have them."""
    from .kafka_log import KafkaBasedLog

    initializer = None
    if replication_factor is not None:
        initializer = topic_initializer(
            bootstrap_servers,
            client_config,
            InternalTopic(
                topic, worker_key, PURPOSES[worker_key], partitions, replication_factor, dict(topic_settings or {})
            ),
        )
    return KafkaBasedLog(
        topic=topic,
        bootstrap_servers=bootstrap_servers,
        client_config=client_config,
        consumed=consumed,
        initializer=initializer,
        producer_config={"enable.idempotence": "false"},
        client_id=client_id,
    )
