"""KafkaTransport: the transport/base.py Transport over aiokafka (admin operations, producers and consumers)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as AioTP
from aiokafka import errors as kerrors
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin import NewTopic as AioNewTopic
from aiokafka.protocol.admin import DeleteGroupsRequest
from aiokafka.protocol.commit import OffsetCommitRequest

from ...connector import TopicPartition
from ...errors import ConnectError
from ..base import Consumer, GroupNotEmpty, NewTopic, Producer, Transport
from .config import ADMIN_SETTINGS, CONSUMER_SETTINGS, client_kwargs
from .consumer import KafkaConsumer
from .outage import _retry
from .producer import KafkaProducer
from .protocol import (
    GROUP_ID_NOT_FOUND,
    GROUP_SUBSCRIBED_TO_TOPIC,
    ILLEGAL_GENERATION,
    NON_EMPTY_GROUP,
    TOPIC_ALREADY_EXISTS,
    UNKNOWN_MEMBER_ID,
    OffsetDeleteRequest,
)

log = logging.getLogger(__name__)


def _by_topic(partitions: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for item in partitions:
        out.setdefault(item[0][0], []).append(item)
    return out


def _aio_new_topic(t: NewTopic) -> AioNewTopic:
    nt = AioNewTopic(t.name, 1, 1, topic_configs={k: str(v) for k, v in t.configs.items()})
    # -1 asks for the broker default (KIP-464); aiokafka's constructor only allows it with explicit replicas.
    nt.num_partitions, nt.replication_factor = t.partitions, t.replication_factor
    return nt


class KafkaTransport(Transport):
    kind = "kafka"

    def __init__(
        self,
        bootstrap_servers: str,
        producer_config: Mapping[str, Any] | None = None,
        consumer_config: Mapping[str, Any] | None = None,
        admin_config: Mapping[str, Any] | None = None,
        *,
        startup_timeout_s: float | None = None,
    ):
        """startup_timeout_s: how long start() keeps retrying an unreachable cluster (None: until it answers)."""
        self.bootstrap = bootstrap_servers
        self.producer_config = dict(producer_config or {})
        self.consumer_config = dict(consumer_config or {})
        self.admin_config = dict(admin_config or {})
        self.startup_timeout_s = startup_timeout_s
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets_client: AIOKafkaConsumer | None = None  # group-less consumer answering end_offsets
        self._lock = asyncio.Lock()

    # lifecycle

    async def start(self) -> None:
        if self._admin is not None:
            return
        kwargs = client_kwargs(self.admin_config, ADMIN_SETTINGS, "admin")

        async def attempt() -> AIOKafkaAdminClient:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, **kwargs)
            try:
                await admin.start()
                await admin.describe_cluster()  # bootstrap alone may succeed against a half-started broker
            except BaseException:
                await admin.close()
                raise
            return admin

        self._admin = await _retry("worker", self.bootstrap, attempt, self.startup_timeout_s)
        log.info("Connected to Kafka at %s (cluster %s)", self.bootstrap, await self.cluster_id())

    async def stop(self) -> None:
        admin, self._admin = self._admin, None
        offsets, self._offsets_client = self._offsets_client, None
        if offsets is not None:
            await offsets.stop()
        if admin is not None:
            await admin.close()

    def _require(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            raise ConnectError("Kafka transport is not started")
        return self._admin

    # clients

    def producer(self, config: Mapping[str, Any] | None = None) -> Producer:
        return KafkaProducer(self.bootstrap, {**self.producer_config, **(config or {})})

    def consumer(self, group_id: str, config: Mapping[str, Any] | None = None) -> Consumer:
        return KafkaConsumer(self.bootstrap, group_id, {**self.consumer_config, **(config or {})})

    # admin

    async def cluster_id(self) -> str | None:
        return (await self._require().describe_cluster()).get("cluster_id")

    async def list_topics(self) -> dict[str, int]:
        topics = await self._require().describe_topics()
        return {t["topic"]: len(t["partitions"]) for t in topics if not t.get("is_internal")}

    async def describe_topic_configs(self, topic: str) -> dict[str, str]:
        """Effective configs of a topic (an addition to the Transport interface, for checks and tooling)."""
        from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

        responses = await self._require().describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        out: dict[str, str] = {}
        for resp in responses:
            for resource in resp.resources:
                error_code, error_message = resource[0], resource[1]
                if error_code:
                    raise kerrors.for_code(error_code)(error_message)
                for entry in resource[4]:
                    out[entry[0]] = entry[1]
        return out

    async def create_topics(self, topics: list[NewTopic]) -> list[str]:
        if not topics:
            return []
        resp = await self._require().create_topics([_aio_new_topic(t) for t in topics])
        created: list[str] = []
        for item in resp.topic_errors:
            name, code = item[0], item[1]
            message = item[2] if len(item) > 2 else None
            if code == 0:
                created.append(name)
            elif code != TOPIC_ALREADY_EXISTS:
                raise ConnectError(
                    f"Could not create topic {name}: {kerrors.for_code(code).__name__}"
                    f"{': ' + message if message else ''}"
                )
        await self._await_visible(created)
        return created

    async def _await_visible(self, names: list[str], timeout_s: float = 10.0) -> None:
        """Metadata reaches the brokers after CreateTopics answers: wait (bounded) until the new topics are listed,
        so that what a caller does next (list, describe, produce) sees them, as with the embedded log."""
        deadline = time.monotonic() + timeout_s
        delay = 0.02
        while names:
            listed = await self.list_topics()
            names = [n for n in names if n not in listed]
            if not names or time.monotonic() > deadline:
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        if names:
            log.warning("Topics %s created but not yet visible in the cluster metadata after %.0f s", names, timeout_s)

    async def committed_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        offsets = await self._require().list_consumer_group_offsets(group_id)
        return {TopicPartition(tp.topic, tp.partition): om.offset for tp, om in offsets.items() if om.offset >= 0}

    async def _group_members(self, group_id: str) -> int:
        for resp in await self._require().describe_consumer_groups([group_id]):
            for group in resp.groups:
                # (error_code, group_id, state, protocol_type, protocol, members, ...)
                if group[1] == group_id:
                    return len(group[5])
        return 0

    async def alter_committed_offsets(self, group_id: str, offsets: Mapping[TopicPartition, int | None]) -> None:
        admin = self._require()
        if await self._group_members(group_id):
            raise GroupNotEmpty(f"Consumer group {group_id} has active members")
        coordinator = await admin.find_coordinator(group_id)
        to_set = [(tp, off) for tp, off in offsets.items() if off is not None]
        to_delete = [tp for tp, off in offsets.items() if off is None]
        if to_set:
            # A commit outside the group's generation is accepted only while the group is empty.
            topics = [(t, [(tp[1], off, "") for tp, off in items]) for t, items in _by_topic(to_set).items()]
            req = OffsetCommitRequest(
                group_id,
                OffsetCommitRequest.DEFAULT_GENERATION_ID,
                "",
                OffsetCommitRequest.DEFAULT_RETENTION_TIME,
                topics,
            )
            resp = await admin._send_request(req, coordinator)
            for topic, partitions in resp.topics:
                for partition, code in partitions:
                    self._raise_group_error(group_id, code, f"{topic}-{partition}")
        if to_delete:
            topics = [(t, [p for _, p in items]) for t, items in _by_topic([(tp, tp[1]) for tp in to_delete]).items()]
            resp = await admin._send_request(OffsetDeleteRequest(group_id, topics), coordinator)
            if resp.error_code != GROUP_ID_NOT_FOUND:
                self._raise_group_error(group_id, resp.error_code, group_id)
            for topic, partitions in resp.topics:
                for partition, code in partitions:
                    self._raise_group_error(group_id, code, f"{topic}-{partition}")

    @staticmethod
    def _raise_group_error(group_id: str, code: int, what: str) -> None:
        if code == 0:
            return
        if code in (NON_EMPTY_GROUP, GROUP_SUBSCRIBED_TO_TOPIC, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION):
            raise GroupNotEmpty(f"Consumer group {group_id} has active members")
        raise ConnectError(f"Offset change for {what} in group {group_id} failed: {kerrors.for_code(code).__name__}")

    async def delete_group(self, group_id: str) -> None:
        admin = self._require()
        coordinator = await admin.find_coordinator(group_id)
        resp = await admin._send_request(DeleteGroupsRequest([group_id]), coordinator)
        for gid, code in resp.results:
            if code in (0, GROUP_ID_NOT_FOUND):
                continue
            if code == NON_EMPTY_GROUP:
                raise GroupNotEmpty(f"Consumer group {gid} has active members")
            raise ConnectError(f"Deleting consumer group {gid} failed: {kerrors.for_code(code).__name__}")

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        if not partitions:
            return {}
        async with self._lock:
            if self._offsets_client is None:
                kwargs = client_kwargs(self.consumer_config, CONSUMER_SETTINGS, "consumer")
                kwargs.pop("group_instance_id", None)
                c = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, **kwargs)
                await c.start()
                self._offsets_client = c
        ends = await self._offsets_client.end_offsets([AioTP(tp[0], tp[1]) for tp in partitions])
        return {TopicPartition(tp.topic, tp.partition): off for tp, off in ends.items()}
