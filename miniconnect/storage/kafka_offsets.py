"""KafkaOffsetBackingStore: source offsets in the offset topic, keyed and valued as Kafka Connect writes them.

Key: `["<connector>",{source partition}]`, value: the offset map (null: the partition's offset was removed), both
through the internal JSON converter with schemas off. Kafka looks offsets up by the key's bytes, so partition maps are
written in java.util.HashMap's key order (what a JVM task's HashMap serializes to); reading matches partitions by
value, so keys written in any order are found.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson

from ..errors import ConfigError
from .base import OffsetBackingStore
from .internal_format import decode, encode, java_map
from .internal_topics import store_log
from .offsets import partition_key

log = logging.getLogger(__name__)


def offset_key(connector: str, partition: Mapping[str, Any]) -> bytes:
    return encode([connector, java_map(dict(partition))])  # type: ignore[return-value]


def offset_value(offset: Mapping[str, Any] | None) -> bytes | None:
    return None if offset is None else encode(java_map(dict(offset)))


def parse_offset_key(key: bytes | None) -> tuple[str, dict[str, Any]] | None:
    """(connector, partition) of a key, or None when it is not in Connect's format (OffsetUtils.processPartitionKey)."""
    try:
        value = decode(key)
    except Exception:
        value = None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], str)
        or not isinstance(value[1], dict)
    ):
        log.warning("Ignoring offset partition key with an unexpected format: %r", key)
        return None
    return value[0], value[1]


class KafkaOffsetStore(OffsetBackingStore):
    """Same methods as FileOffsetStore, backed by the offset topic (shared by every worker of the cluster)."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        client_config: Mapping[str, Any] | None,
        topic: str,
        partitions: int | None = None,
        replication_factor: int | None = None,
        topic_settings: Mapping[str, str] | None = None,
        client_id: str | None = None,
    ):
        """partitions/replication_factor: create the topic when missing and check an existing one's cleanup policy
        (None: internal_topics.ensure_internal_topics did)."""
        if not topic or not topic.strip():
            raise ConfigError(message="Offset storage topic must be specified")
        self.topic = topic
        self._data: dict[str, dict[str, dict[str, Any]]] = {}  # connector -> partition_key -> offset
        self._log = store_log(
            topic=topic,
            worker_key="offset.storage.topic",
            bootstrap_servers=bootstrap_servers,
            client_config=client_config,
            consumed=self._consume,
            partitions=partitions or 25,
            replication_factor=replication_factor,
            topic_settings=topic_settings,
            client_id=client_id,
        )

    async def start(self) -> None:
        log.info("Starting KafkaOffsetBackingStore")
        await self._log.start()
        log.info("Finished reading offsets topic and starting KafkaOffsetBackingStore")

    async def stop(self) -> None:
        await self._log.stop()

    async def refresh(self, timeout_s: float | None = 30.0) -> None:
        """Reads to the end of the topic (Kafka's get() always does before answering)."""
        await self._log.read_to_end(timeout_s)

    def get(self, connector: str, partitions: list[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        stored = self._data.get(connector, {})
        return {k: stored.get(k) for k in map(partition_key, partitions)}

    def all(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(partition, offset) for every partition with an offset."""
        return [(orjson.loads(k), v) for k, v in self._data.get(connector, {}).items()]

    async def put(self, connector: str, offsets: Mapping[str, dict[str, Any] | None]) -> None:
        """offsets: partition key (offsets.partition_key) -> offset, None writes a tombstone. Durable (acknowledged
        by the broker) when this returns; the store sees them once its reader passes them."""
        if offsets:
            await self._log.send(
                [(offset_key(connector, orjson.loads(k)), offset_value(v)) for k, v in offsets.items()]
            )

    async def delete_connector(self, connector: str) -> None:
        """Tombstones for every partition of the connector."""
        await self.refresh()
        await self.put(connector, {k: None for k in self._data.get(connector, {})})

    def _consume(self, key: bytes | None, value: bytes | None, partition: int, offset: int) -> None:
        parsed = parse_offset_key(key)
        if parsed is None:
            return
        connector, source_partition = parsed
        pkey = partition_key(source_partition)
        if value is None:
            stored = self._data.get(connector)
            if stored is not None:
                stored.pop(pkey, None)
                if not stored:
                    del self._data[connector]
            return
        try:
            offset_map = decode(value)
        except Exception as e:
            log.error("Ignoring offset of %s %s that is not JSON: %s", connector, pkey, e)
            return
        if isinstance(offset_map, dict):
            self._data.setdefault(connector, {})[pkey] = offset_map
        else:
            log.error("Ignoring offset of %s %s that is not a map: %r", connector, pkey, offset_map)
