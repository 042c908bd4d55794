"""The registry's state (schemas, subjects and versions, compatibility and mode) and its log: every change is a
record of the compacted `_schemas` topic in Confluent's format, written before it is applied, and the state is
rebuilt by replaying the topic at start.

Record keys and values follow Confluent Schema Registry's (and Karapace's) `_schemas` topic:
  {"keytype":"SCHEMA","subject":S,"version":V,"magic":1} -> {"subject","version","id","schema","deleted",
                                                              "schemaType"?, "references"?}  (null: hard delete)
  {"keytype":"CONFIG","subject":S|null,"magic":0}         -> {"compatibilityLevel": L}     (null: reset)
  {"keytype":"MODE","subject":S|null,"magic":0}           -> {"mode": M}                   (null: reset)
Every registry serving a topic keeps following it (so each sees the others' writes); one of them writes it (the
others forward their writes, see forwarding.py). A write returns once the registry has read it back, as Confluent's
KafkaStore waits for its own offset: state changes only by what the topic says, in the topic's order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..connector import TopicPartition
from ..transport.base import NewTopic, ProducerRecord, Transport
from .errors import UnknownLeader

log = logging.getLogger(__name__)

WRITE_READ_BACK_S = 60.0  # a write not read back by then fails (the registry answers 500)

LEVELS = (
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
)
MODES = ("READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT")


@dataclass(frozen=True)
class StoredSchema:
    text: str
    schema_type: str  # AVRO, JSON or PROTOBUF
    references: tuple[tuple[str, str, int], ...] = ()  # (name, subject, version)

    def references_json(self) -> list[dict[str, Any]]:
        return [{"name": n, "subject": s, "version": v} for n, s, v in self.references]


@dataclass
class Version:
    id: int
    deleted: bool = False


@dataclass
class RegistryState:
    schemas: dict[int, StoredSchema] = field(default_factory=dict)
    ids: dict[StoredSchema, int] = field(default_factory=dict)
    subjects: dict[str, dict[int, Version]] = field(default_factory=dict)
    compatibility: dict[str | None, str] = field(default_factory=dict)  # None: the global level
    modes: dict[str | None, str] = field(default_factory=dict)

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """One record of `_schemas` (also the ones this registry just wrote)."""
        if key is None:
            return
        k = json.loads(key)
        kind = k.get("keytype")
        subject = k.get("subject")
        v = json.loads(value) if value is not None else None
        if kind == "SCHEMA":
            versions = self.subjects.setdefault(subject, {})
            if v is None:
                versions.pop(k["version"], None)
                if not versions:
                    del self.subjects[subject]
                return
            stored = StoredSchema(
                v["schema"],
                v.get("schemaType") or "AVRO",
                tuple((r["name"], r["subject"], r["version"]) for r in v.get("references") or ()),
            )
            self.schemas.setdefault(v["id"], stored)
            self.ids.setdefault(stored, v["id"])
            versions[v["version"]] = Version(v["id"], bool(v.get("deleted")))
        elif kind == "CONFIG":
            if v is None:
                self.compatibility.pop(subject, None)
            else:
                self.compatibility[subject] = v["compatibilityLevel"]
        elif kind == "MODE":
            if v is None:
                self.modes.pop(subject, None)
            else:
                self.modes[subject] = v["mode"]
        # NOOP, DELETE_SUBJECT (Confluent also marks each version deleted), CLEAR_SUBJECT: nothing to keep

    def next_id(self) -> int:
        return max(self.schemas, default=0) + 1


def schema_record(subject: str, version: int, schema_id: int, stored: StoredSchema | None, deleted: bool) -> tuple:
    key = {"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1}
    if stored is None:
        return key, None
    value: dict[str, Any] = {
        "subject": subject,
        "version": version,
        "id": schema_id,
        "schema": stored.text,
        "deleted": deleted,
    }
    if stored.schema_type != "AVRO":
        value["schemaType"] = stored.schema_type
    if stored.references:
        value["references"] = stored.references_json()
    return key, value


class SchemasTopic:
    """The `_schemas` topic on a transport (the embedded log or Kafka): replayed into a RegistryState at start and
    followed until stop(); write() appends and returns once the records were read back (and applied)."""

    def __init__(self, transport: Transport, topic: str, replication_factor: int = 1):
        self.transport, self.topic, self.replication_factor = transport, topic, replication_factor
        self.state = RegistryState()
        self.producer = transport.producer({"acks": "all"})
        self.lock = asyncio.Lock()  # one write (and its id choice) at a time
        self.position = 0  # the offset after the last record applied
        self._progress = asyncio.Condition()
        self._consumer: Any = None
        self._follower: asyncio.Task[None] | None = None
        # None, or why this registry may not write now (it is not the elected leader): write() refuses then
        self.not_writable: Callable[[], str | None] | None = None

    async def start(self) -> None:
        await self.transport.create_topics(
            [NewTopic(self.topic, 1, self.replication_factor, {"cleanup.policy": "compact"})]
        )
        await self.producer.start()
        self._consumer = self.transport.consumer(f"_schemas-reader-{uuid.uuid4()}", {"auto.offset.reset": "earliest"})
        await self._consumer.start()
        await self._consumer.subscribe([self.topic])
        self._follower = asyncio.create_task(self._follow(), name=f"follow-{self.topic}")
        await self.read_to_end()
        log.info(
            "Schema registry read %d schemas of %d subjects from topic %s",
            len(self.state.schemas),
            len(self.state.subjects),
            self.topic,
        )

    async def _follow(self) -> None:
        while True:
            try:
                records = await self._consumer.poll(5000, 1000)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the log away for a while: keep following (KafkaBasedLog.poll does the same)
                log.error("Error reading %s: %r", self.topic, e)
                await asyncio.sleep(0.5)
                continue
            for r in records:
                try:
                    self.state.apply(r.key, r.value)
                except (ValueError, KeyError, TypeError, AttributeError) as e:
                    log.error(
                        "Skipping a record of %s at offset %d that is not a registry record: %r",
                        self.topic,
                        r.offset,
                        e,
                    )
            if records:
                async with self._progress:
                    self.position = records[-1].offset + 1
                    self._progress.notify_all()

    async def read_to_end(self, timeout_s: float | None = None) -> None:
        """Returns once every record written before this call has been applied."""
        tp = TopicPartition(self.topic, 0)
        await self._wait_for((await self.transport.end_offsets([tp])).get(tp, 0), timeout_s)

    async def _wait_for(self, end: int, timeout_s: float | None) -> None:
        follower = self._follower
        assert follower is not None, "start() first"

        async def wait() -> None:
            async with self._progress:
                await self._progress.wait_for(lambda: self.position >= end or follower.done())

        await asyncio.wait_for(wait(), timeout_s)
        if follower.done():
            raise RuntimeError(f"The registry stopped following topic {self.topic}")

    async def stop(self) -> None:
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
        try:
            await self.producer.stop()
        finally:
            consumer, self._consumer = self._consumer, None
            if consumer is not None:
                await consumer.stop()

    async def write(self, records: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> None:
        """Appends the records (acknowledged by the log), and returns once they were read back and applied."""
        why = self.not_writable() if self.not_writable is not None else None
        if why is not None:
            raise UnknownLeader(why)
        encoded = [
            (
                json.dumps(k, separators=(",", ":")).encode(),
                None if v is None else json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode(),
            )
            for k, v in records
        ]
        written = await self.producer.send_batch([ProducerRecord(self.topic, k, v, 0) for k, v in encoded])
        await self._wait_for(written[-1].offset + 1, WRITE_READ_BACK_S)
