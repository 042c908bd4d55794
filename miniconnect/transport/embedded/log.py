"""EmbeddedLog: the Transport kept in a local directory (topics, partitions, groups), safe across processes.

Layout:
    meta.json                      cluster id
    topics/<topic>/topic.json      partition count and topic configs
    topics/<topic>/<p>/*.log       segments of partition p (see segment.py)
    groups/<group>.json            committed positions of a consumer group
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

from ...connector import TopicPartition
from ...data.value_column import ValueColumn
from ...errors import BadRequest, ConnectError
from ..base import Consumer, NewTopic, Producer, ProducerRecord, Transport
from .client import EmbeddedConsumer, EmbeddedProducer
from .group import GroupCoordinator, group_path, read_committed
from .segment import PartitionLog, Segment, fsync_dir

log = logging.getLogger(__name__)

_LEGAL_TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,249}")
RETENTION_CHECK_S = 30.0


class InvalidTopic(BadRequest):
    pass


class GroupCommit:
    """Durability for send_batch: callers arriving while an fsync runs share the next one (group commit)."""

    def __init__(self) -> None:
        self._pending: set[Segment] = set()
        self._next: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.rounds = 0  # fsync rounds done (each covers every segment written since the previous one)

    async def sync(self, segments: list[Segment]) -> None:
        if self._closed:  # its segments are closed or about to be: an fsync could no longer vouch for them
            raise ConnectError("The embedded log was stopped before these records were synced to disk")
        self._pending.update(segments)
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        fut = self._next
        if self._task is None:
            self._start()
        await asyncio.shield(fut)  # a cancelled caller must not cancel the fsync others wait for

    async def close(self) -> None:
        """Refuses new callers and returns once the rounds already asked for are done (the log stops next)."""
        self._closed = True
        while (task := self._task) is not None:
            await asyncio.wait([task])

    def _start(self) -> None:
        segments, fut = self._pending, self._next
        self._pending, self._next = set(), None
        self._task = asyncio.get_running_loop().create_task(self._run(segments, fut))

    async def _run(self, segments: set[Segment], fut: asyncio.Future[None]) -> None:
        try:
            await asyncio.to_thread(_fsync_all, segments)
            self.rounds += 1
            fut.set_result(None)
        except BaseException as exc:
            fut.set_exception(exc if isinstance(exc, Exception) else ConnectError("fsync cancelled"))
            fut.exception()  # retrieved: callers that gave up must not produce "never retrieved" noise
            if not isinstance(exc, Exception):
                raise
        finally:
            self._task = None
            if self._next is not None:
                self._start()


def _append_all(
    batches: list[tuple[PartitionLog, Sequence[ProducerRecord] | ValueColumn]], now_ms: int
) -> list[tuple[int, Segment]]:
    return [plog.append_records(records, now_ms) for plog, records in batches]


def _nothing() -> None:
    pass


def _fsync_all(segments: set[Segment]) -> None:
    for seg in segments:
        seg.fsync()


def _enforce_all(plogs: list[PartitionLog], now_ms: int) -> int:
    return sum(plog.enforce_retention(now_ms) for plog in plogs)


class _DirLock:
    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)

    def __enter__(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self.fd)


def _config_int(configs: Mapping[str, str], key: str, default: int | None) -> int | None:
    value = configs.get(key)
    if value is None:
        return default
    n = int(value)
    return None if n < 0 else n  # Kafka: -1 means unlimited


class EmbeddedLog(Transport):
    """Durable topics in `directory`. retention_* bound each partition (None: keep forever); topic configs
    retention.bytes, retention.ms and segment.bytes override them per topic."""

    kind = "embedded"

    def __init__(
        self,
        directory: str,
        retention_bytes: int | None = None,
        retention_ms: int | None = None,
        default_partitions: int = 1,
        segment_bytes: int = 64 * 1024 * 1024,
    ):
        self.directory = os.path.abspath(directory)
        self.retention_bytes = retention_bytes
        self.retention_ms = retention_ms
        self.default_partitions = default_partitions
        self.segment_bytes = segment_bytes
        self._topics_dir = os.path.join(self.directory, "topics")
        self._groups_dir = os.path.join(self.directory, "groups")
        self._tmp_dir = os.path.join(self.directory, "tmp")
        self._topics: dict[str, int] = {}
        self._topic_configs: dict[str, dict[str, str]] = {}
        self._partitions: dict[tuple[str, int], PartitionLog] = {}
        self._coordinators: dict[str, GroupCoordinator] = {}
        self._waiters: set[asyncio.Event] = set()
        self._group_commit = GroupCommit()
        self._lock: _DirLock | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._cluster_id: str | None = None
        self._retention_task: asyncio.Task[None] | None = None
        self._started = False

    # -- lifecycle ----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            return
        for d in (self.directory, self._topics_dir, self._groups_dir, self._tmp_dir):
            os.makedirs(d, exist_ok=True)
        self._lock = _DirLock(os.path.join(self.directory, ".lock"))
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="embedded-log-writer")
        self._group_commit = GroupCommit()  # a stopped log's one refuses to sync
        self._cluster_id = self._load_cluster_id()
        self.refresh_topics()
        self._started = True
        if (
            self.retention_bytes is not None
            or self.retention_ms is not None
            or any("retention.ms" in c or "retention.bytes" in c for c in self._topic_configs.values())
        ):
            self._retention_task = asyncio.get_running_loop().create_task(self._retention_loop())

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        if self._retention_task is not None:
            self._retention_task.cancel()
            try:
                await self._retention_task
            except asyncio.CancelledError:
                pass
            self._retention_task = None
        for ev in self._waiters:
            ev.set()
        if self._writer is not None:  # appends already handed to the writer end before the files close
            writer, self._writer = self._writer, None
            await asyncio.get_running_loop().run_in_executor(writer, _nothing)
            writer.shutdown(wait=False)
        await self._group_commit.close()  # the fsync rounds asked for end before the files close
        for plog in self._partitions.values():
            plog.close()
        self._partitions.clear()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # -- what producers and consumers use (client.PartitionedLog) --------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._started

    @property
    def topics(self) -> Mapping[str, int]:
        """Topic name -> partition count, as this process knows them (refresh_topics() looks for new ones)."""
        return self._topics

    def check_open(self) -> None:
        if not self._started:
            raise ConnectError("The embedded log is not started")

    async def append(
        self, batches: list[tuple[PartitionLog, Sequence[ProducerRecord] | ValueColumn]], now_ms: int
    ) -> list[tuple[int, Segment]]:
        """Encodes and appends each batch (records, or the values of keyless ones) to its partition; returns (base
        offset, segment to sync) of each. In the writer thread, so that the event loop goes on meanwhile (the CRC
        and the write release the GIL): one thread, taking the calls in order, keeps the order of batches sent to one
        partition."""
        if self._writer is None:
            raise ConnectError("The embedded log is not started")
        return await asyncio.get_running_loop().run_in_executor(self._writer, _append_all, batches, now_ms)

    async def sync(self, segments: list[Segment]) -> None:
        """Makes the appends to these segments durable (one fsync round shared by concurrent producers)."""
        await self._group_commit.sync(segments)

    def add_waiter(self, wakeup: asyncio.Event) -> None:
        """`wakeup` is set whenever records are appended (see notify)."""
        self._waiters.add(wakeup)

    def remove_waiter(self, wakeup: asyncio.Event) -> None:
        self._waiters.discard(wakeup)

    def _load_cluster_id(self) -> str:
        path = os.path.join(self.directory, "meta.json")
        with self._lock:
            try:
                with open(path, "rb") as f:
                    return json.loads(f.read())["cluster_id"]
            except FileNotFoundError:
                pass
            # Like Kafka's Uuid.randomUuid().toString(): 16 random bytes, base64url without padding
            cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(json.dumps({"cluster_id": cid}).encode())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            fsync_dir(self.directory)
            return cid

    # -- clients ------------------------------------------------------------------------------------------------

    def producer(self, config: Mapping[str, Any] | None = None) -> Producer:
        return EmbeddedProducer(self, config)

    def consumer(self, group_id: str, config: Mapping[str, Any] | None = None) -> Consumer:
        return EmbeddedConsumer(self, group_id, config)

    def notify(self) -> None:
        for ev in self._waiters:
            ev.set()

    # -- topics -------------------------------------------------------------------------------------------------

    def refresh_topics(self) -> bool:
        """Loads topics created by other processes; rebalances groups when there are new ones."""
        changed = False
        for name in os.listdir(self._topics_dir):
            if name not in self._topics and self._load_topic(name):
                changed = True
        if changed:
            self._topics_changed()
        return changed

    def _load_topic(self, name: str) -> bool:
        try:
            with open(os.path.join(self._topics_dir, name, "topic.json"), "rb") as f:
                meta = json.loads(f.read())
        except (FileNotFoundError, NotADirectoryError):
            return False
        self._topic_configs[name] = dict(meta.get("configs", {}))
        self._topics[name] = int(meta["partitions"])
        return True

    def _topics_changed(self) -> None:
        for coord in self._coordinators.values():
            coord.rebalance(self._topics)

    def ensure_topic(self, name: str) -> int:
        """Partition count of `name`, creating it with default_partitions first (auto.create.topics.enable)."""
        n = self._topics.get(name)
        if n is None:
            self._create_topic(name, self.default_partitions, {})
            n = self._topics[name]
        return n

    def _create_topic(self, name: str, partitions: int, configs: Mapping[str, str]) -> bool:
        if not _LEGAL_TOPIC.fullmatch(name) or name in (".", ".."):
            raise InvalidTopic(f"Invalid topic name {name!r}: up to 249 of [a-zA-Z0-9._-]")
        if partitions < 1:
            raise InvalidTopic(f"Topic {name} needs at least one partition, not {partitions}")
        final = os.path.join(self._topics_dir, name)
        with self._lock:  # another process may create the same topic at the same moment
            if self._load_topic(name):
                self._topics_changed()
                return False
            # Built aside and renamed into place, so other processes see a topic whole or not at all
            tmp = os.path.join(self._tmp_dir, f"{name}.{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            meta = {"partitions": partitions, "configs": dict(configs)}
            with open(os.path.join(tmp, "topic.json"), "wb") as f:
                f.write(json.dumps(meta).encode())
                f.flush()
                os.fsync(f.fileno())
            for p in range(partitions):
                os.mkdir(os.path.join(tmp, str(p)))
            fsync_dir(tmp)
            os.rename(tmp, final)
            fsync_dir(self._topics_dir)
        self._topic_configs[name] = dict(configs)
        self._topics[name] = partitions
        self._topics_changed()
        if self._retention_task is None and ("retention.ms" in configs or "retention.bytes" in configs):
            self._retention_task = asyncio.get_running_loop().create_task(self._retention_loop())
        return True

    def partition(self, topic: str, partition: int) -> PartitionLog:
        plog = self._partitions.get((topic, partition))
        if plog is None:
            configs = self._topic_configs.get(topic, {})
            plog = PartitionLog(
                os.path.join(self._topics_dir, topic, str(partition)),
                topic,
                partition,
                _config_int(configs, "segment.bytes", self.segment_bytes) or self.segment_bytes,
                _config_int(configs, "retention.bytes", self.retention_bytes),
                _config_int(configs, "retention.ms", self.retention_ms),
            )
            self._partitions[(topic, partition)] = plog
            self._warn_committed_beyond_end(plog)
        return plog

    def _warn_committed_beyond_end(self, plog: PartitionLog) -> None:
        """A group whose committed offset lies past the log end (the log was cut by recovery, or its files were
        removed) would see new records given offsets it has committed already: say so, naming everything."""
        tp = TopicPartition(plog.topic, plog.partition)
        end = plog.end
        for name in sorted(os.listdir(self._groups_dir)):
            if not name.endswith(".json"):
                continue
            committed = read_committed(os.path.join(self._groups_dir, name)).get(tp)
            if committed is not None and committed > end:
                log.warning(
                    "Consumer group %s has committed offset %d for %s-%d, beyond the log end %d: records "
                    "appended from now on get offsets %d..%d again, and the group's consumers reset their "
                    "position by auto.offset.reset when they fetch",
                    unquote(name[:-5]),
                    committed,
                    plog.topic,
                    plog.partition,
                    end,
                    end,
                    committed - 1,
                )

    # -- retention ----------------------------------------------------------------------------------------------

    async def enforce_retention(self) -> int:
        """Deletes the expired segments of every partition now; returns how many. Runs every 30 s anyway. In the
        writer thread, after the appends handed to it: the loop neither waits for an append's partition lock nor
        for the fsync of a time-based roll."""
        if self._writer is None:
            raise ConnectError("The embedded log is not started")
        now = int(time.time() * 1000)
        plogs = [self.partition(topic, p) for topic, n in list(self._topics.items()) for p in range(n)]
        deleted = await asyncio.get_running_loop().run_in_executor(self._writer, _enforce_all, plogs, now)
        for plog in plogs:
            plog._close_retired()
        return deleted

    async def _retention_loop(self) -> None:
        while True:
            await asyncio.sleep(RETENTION_CHECK_S)
            try:
                await self.enforce_retention()
            except Exception:  # a full or failing disk now must not end retention for the process's lifetime
                log.exception("Embedded log retention failed; retrying in %s s", RETENTION_CHECK_S)

    # -- admin --------------------------------------------------------------------------------------------------

    async def cluster_id(self) -> str | None:
        self.check_open()
        return self._cluster_id

    async def list_topics(self) -> dict[str, int]:
        self.check_open()
        self.refresh_topics()
        return dict(sorted(self._topics.items()))

    async def create_topics(self, topics: list[NewTopic]) -> list[str]:
        self.check_open()
        self.refresh_topics()
        created = []
        for t in topics:
            partitions = self.default_partitions if t.partitions == -1 else t.partitions  # -1: broker default
            if t.name not in self._topics and self._create_topic(t.name, partitions, t.configs):
                created.append(t.name)
        return created

    def coordinator(self, group_id: str) -> GroupCoordinator:
        coord = self._coordinators.get(group_id)
        if coord is None:
            coord = self._coordinators[group_id] = GroupCoordinator(group_id, group_path(self._groups_dir, group_id))
        return coord

    async def committed_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        self.check_open()
        coord = self._coordinators.get(group_id)
        if coord is not None:
            return dict(coord.committed)
        return read_committed(group_path(self._groups_dir, group_id))

    async def alter_committed_offsets(self, group_id: str, offsets: Mapping[TopicPartition, int | None]) -> None:
        self.check_open()
        coord = self.coordinator(group_id)
        coord.ensure_empty()
        await coord.commit(offsets)

    async def delete_group(self, group_id: str) -> None:
        self.check_open()
        coord = self._coordinators.get(group_id)
        if coord is not None:
            coord.ensure_empty()
            del self._coordinators[group_id]
        try:
            os.unlink(group_path(self._groups_dir, group_id))
        except FileNotFoundError:
            pass

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        """Next offset of each partition; partitions that do not exist are left out."""
        self.check_open()
        out: dict[TopicPartition, int] = {}
        for tp in partitions:
            n = self._topics.get(tp.topic)
            if n is None and self.refresh_topics():
                n = self._topics.get(tp.topic)
            if n is None or not 0 <= tp.partition < n:
                continue
            plog = self.partition(tp.topic, tp.partition)
            plog.refresh()
            out[tp] = plog.end
        return out

    async def beginning_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        """Log start offset of each existing partition (moves up as retention deletes segments)."""
        self.check_open()
        out: dict[TopicPartition, int] = {}
        for tp in partitions:
            if 0 <= tp.partition < self._topics.get(tp.topic, 0):
                plog = self.partition(tp.topic, tp.partition)
                plog.refresh()
                out[tp] = plog.log_start
        return out
