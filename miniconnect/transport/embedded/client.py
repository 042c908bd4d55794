"""Producer and consumer of the embedded log."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Mapping, Sequence
from itertools import repeat
from operator import countOf, itemgetter
from typing import Any, Protocol

from ...connector import TopicPartition
from ...data.value_column import ValueColumn
from ..base import (
    CommitFailed,
    Consumer,
    ConsumerRecord,
    Producer,
    ProducerRecord,
    RebalanceCallback,
    RecordBatch,
    RecordMetadata,
    new_record_metadata,
    records_of,
)
from .group import GroupCoordinator
from .partitioner import partition_for_key
from .segment import PartitionLog, Segment

logger = logging.getLogger(__name__)

POLL_INTERVAL = 0.15  # how often a waiting consumer looks for data appended by another process
TOPIC_REFRESH = 1.0  # how often it looks for topics created by another process
_TOPIC, _KEY, _PARTITION = itemgetter(0), itemgetter(1), itemgetter(3)  # of a ProducerRecord


class PartitionedLog(Protocol):
    """What producers and consumers use of the log that owns the partitions and groups (EmbeddedLog)."""

    @property
    def is_open(self) -> bool: ...

    @property
    def topics(self) -> Mapping[str, int]: ...

    def check_open(self) -> None: ...

    def ensure_topic(self, name: str) -> int: ...

    def refresh_topics(self) -> bool: ...

    def partition(self, topic: str, partition: int) -> PartitionLog: ...

    async def append(
        self, batches: list[tuple[PartitionLog, Sequence[ProducerRecord] | ValueColumn]], now_ms: int
    ) -> list[tuple[int, Segment]]: ...

    async def sync(self, segments: list[Segment]) -> None: ...

    def notify(self) -> None: ...

    def add_waiter(self, wakeup: asyncio.Event) -> None: ...

    def remove_waiter(self, wakeup: asyncio.Event) -> None: ...

    def coordinator(self, group_id: str) -> GroupCoordinator: ...


class PreparedValues:
    """Keyless, headerless records of one topic from a ValueColumn (prepare_values), framed by the log's writer
    thread as it appends them (send_prepared)."""

    __slots__ = ("topic", "values")

    def __init__(self, topic: str, values: ValueColumn):
        self.topic, self.values = topic, values

    def __len__(self) -> int:
        return len(self.values)


class EmbeddedProducer(Producer):
    frames_values = True  # prepare_values/send_prepared: keyless records framed from a ValueColumn off the loop

    def __init__(self, log: PartitionedLog, config: Mapping[str, Any] | None = None):
        self._log = log
        self._sticky: dict[str, int] = {}

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass  # send_batch returns only once durable: nothing is buffered

    def _keyless_partition(self, topic: str, n: int) -> int:
        # Kafka's sticky partitioner: records without key fill one partition per batch, then move on
        if n == 1:
            return 0
        p = self._sticky.get(topic)
        p = random.randrange(n) if p is None else (p + 1) % n
        self._sticky[topic] = p
        return p

    async def prepare_values(self, topic: str, values: ValueColumn) -> PreparedValues:
        return PreparedValues(topic, values)

    async def send_prepared(self, prepared: PreparedValues) -> None:
        """Appends the records to one partition (the sticky choice of send_batch for keyless records) as one
        batch; returns once it is durable."""
        if not len(prepared):
            return
        log = self._log
        log.check_open()
        topic = prepared.topic
        p = self._keyless_partition(topic, log.ensure_topic(topic))
        ((_, seg),) = await log.append([(log.partition(topic, p), prepared.values)], int(time.time() * 1000))
        await log.sync([seg])
        log.notify()

    async def send_batch(self, records: list[ProducerRecord]) -> list[RecordMetadata]:
        if not records:
            return []
        log = self._log
        log.check_open()
        now = int(time.time() * 1000)
        target = self._one_partition(records)
        if target is not None:  # the usual batch, decided without Python code per record
            topic, p = target
            ((base, seg),) = await log.append([(log.partition(topic, p), records)], now)
            await log.sync([seg])
            log.notify()
            return list(map(new_record_metadata, zip(repeat(topic), repeat(p), range(base, base + len(records)))))
        groups = self._groups(records)
        appended = await log.append(
            [(log.partition(topic, p), [records[i] for i in idx]) for (topic, p), idx in groups.items()], now
        )
        metas: list[RecordMetadata] = [None] * len(records)  # type: ignore[list-item]
        for ((topic, p), idx), (base, _) in zip(groups.items(), appended):
            for off, i in enumerate(idx, base):
                metas[i] = RecordMetadata(topic, p, off)
        await log.sync([seg for _, seg in appended])
        log.notify()
        return metas

    def _one_partition(self, records: list[ProducerRecord]) -> tuple[str, int] | None:
        """(topic, partition) when every record goes to the same one: one topic, and one given partition or none
        given and no keys (the sticky partition) or a topic of one partition. None otherwise."""
        n = len(records)
        first = records[0]
        topic = first.topic
        if countOf(map(_TOPIC, records), topic) != n:
            return None
        count = self._log.ensure_topic(topic)
        p = first.partition
        if countOf(map(_PARTITION, records), p) != n:
            return None
        if p is not None:
            if not 0 <= p < count:
                raise ValueError(f"Partition {p} of topic {topic} does not exist ({count} partitions)")
            return topic, p
        if count != 1 and countOf(map(_KEY, records), None) != n:
            return None
        return topic, self._keyless_partition(topic, count)

    def _groups(self, records: list[ProducerRecord]) -> dict[tuple[str, int], list[int]]:
        """The indexes of the records going to each (topic, partition), in input order."""
        log = self._log
        groups: dict[tuple[str, int], list[int]] = {}
        counts: dict[str, int] = {}
        sticky: dict[str, int] = {}
        cur_topic: str | None = None
        cur_p = -1
        cur: list[int] = []
        n = 0
        sticky_p: int | None = None
        for i, r in enumerate(records):
            topic = r.topic
            if topic != cur_topic:
                n = counts.get(topic)  # type: ignore[assignment]
                if n is None:
                    n = counts[topic] = log.ensure_topic(topic)
                sticky_p = sticky.get(topic)
            p = r.partition
            if p is None:
                key = r.key
                if key is None:
                    if sticky_p is None:
                        sticky_p = sticky[topic] = self._keyless_partition(topic, n)
                    p = sticky_p
                else:
                    p = partition_for_key(key, n)
            elif not 0 <= p < n:
                raise ValueError(f"Partition {p} of topic {topic} does not exist ({n} partitions)")
            if p != cur_p or topic != cur_topic:  # runs of one partition skip the dict
                cur = groups.get((topic, p))  # type: ignore[assignment]
                if cur is None:
                    cur = groups[(topic, p)] = []
                cur_topic, cur_p = topic, p
            cur.append(i)
        return groups


class EmbeddedConsumer(Consumer):
    def __init__(self, log: PartitionedLog, group_id: str, config: Mapping[str, Any] | None = None):
        config = config or {}
        self._log = log
        self._group_id = group_id
        self._latest = str(config.get("auto.offset.reset", "earliest")).lower() == "latest"
        self._wakeup = asyncio.Event()
        self._coord = None
        self._member = None
        self._positions: dict[TopicPartition, int] = {}
        self._paused: set[TopicPartition] = set()
        self._order: list[TopicPartition] = []
        self._rr = 0
        self._last_topic_refresh = 0.0
        self._stopped = False

    async def start(self) -> None:
        self._log.check_open()

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        m, coord = self._member, self._coord
        if m is None:
            return
        try:
            if m.owned and m.on_revoked is not None:
                await m.on_revoked(sorted(m.owned))
        finally:
            coord.leave(m, self._log.topics)
            self._log.remove_waiter(self._wakeup)
            self._member = None
            self._order = []

    async def subscribe(
        self,
        topics: list[str] | None = None,
        pattern: str | None = None,
        on_assigned: RebalanceCallback | None = None,
        on_revoked: RebalanceCallback | None = None,
    ) -> None:
        log = self._log
        log.check_open()
        if self._member is None:
            self._coord = log.coordinator(self._group_id)
            self._member = self._coord.new_member(self._wakeup)
            log.add_waiter(self._wakeup)
        m = self._member
        m.topics = frozenset(topics or ())
        m.pattern = re.compile(pattern) if pattern is not None else None
        m.on_assigned = on_assigned
        m.on_revoked = on_revoked
        if pattern is not None or not m.topics.issubset(log.topics):
            log.refresh_topics()
        self._coord.join(m, log.topics)
        await self._sync_group()  # alone in its group a member owns its partitions (and positions) right away

    # -- group membership ---------------------------------------------------------------------------------------

    async def _sync_group(self) -> None:
        """Moves partitions as the coordinator decided: revoke first (callback awaited), then take what is free."""
        m = self._member
        if m is None or m.settled:
            return
        revoke = m.owned - m.target
        if revoke:
            try:
                if m.on_revoked is not None:
                    await m.on_revoked(sorted(revoke))
            finally:  # even if the callback failed: the other members must get these partitions
                self._coord.release(m, revoke)
                for tp in revoke:
                    self._positions.pop(tp, None)
                    self._paused.discard(tp)
        gained = self._coord.claim(m)
        self._order = sorted(m.owned)
        if gained:
            if m.on_assigned is not None:
                await m.on_assigned(sorted(gained))
            for tp in gained:  # the callback may have seeked; else committed position or auto.offset.reset
                if tp not in self._positions and tp in m.owned:
                    self._positions[tp] = self._initial_position(tp)

    def _initial_position(self, tp: TopicPartition) -> int:
        committed = self._coord.committed.get(tp) if self._coord is not None else None
        if committed is not None:
            return committed
        plog = self._log.partition(tp.topic, tp.partition)
        plog.refresh()
        return plog.end if self._latest else plog.log_start

    # -- fetching -----------------------------------------------------------------------------------------------

    async def poll(self, max_records: int = 500, timeout_ms: int = 1000) -> list[ConsumerRecord]:
        return records_of(await self.poll_batches(max_records, timeout_ms))

    async def poll_batches(self, max_records: int = 500, timeout_ms: int = 1000) -> list[RecordBatch]:
        """Read as columns straight from the segments: no ConsumerRecord per record."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000
        while True:
            if not self._log.is_open:  # the log is shutting down under us
                return []
            self._wakeup.clear()  # before looking, so an append during the fetch still wakes the wait below
            await self._sync_group()
            batches = self._fetch(max_records)
            if batches:
                return batches
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stopped:
                return []
            try:
                await asyncio.wait_for(self._wakeup.wait(), min(remaining, POLL_INTERVAL))
            except TimeoutError:
                self._refresh_from_disk(loop.time())

    def _refresh_from_disk(self, now: float) -> None:
        """Data, segments and topics written by another process (a `topics produce` CLI) become visible."""
        log = self._log
        for tp in self._order:
            log.partition(tp.topic, tp.partition).refresh()
        if now - self._last_topic_refresh >= TOPIC_REFRESH:
            self._last_topic_refresh = now
            log.refresh_topics()

    def _fetch(self, max_records: int) -> list[RecordBatch]:
        order = self._order
        n = len(order)
        if not n:
            return []
        log = self._log
        positions = self._positions
        paused = self._paused
        out: list[RecordBatch] = []
        got = 0
        start = self._rr % n  # fairness: start at the next partition each poll
        self._rr += 1
        for k in range(n):
            tp = order[(start + k) % n]
            if tp in paused:
                continue
            plog = log.partition(tp.topic, tp.partition)
            pos = positions.get(tp)
            if pos is None:
                pos = self._initial_position(tp)
            if pos < plog.log_start:  # retention removed what was not read yet: continue at the log start
                pos = plog.log_start
            elif pos > plog.end:
                plog.refresh()
                if pos > plog.end:  # out of range (log truncated): auto.offset.reset, said as Kafka's client does
                    reset = plog.end if self._latest else plog.log_start
                    logger.warning(
                        "Fetch position %d is out of range for partition %s-%d of group %s (log start %d, "
                        "end %d), resetting offset to %d (auto.offset.reset=%s)",
                        pos,
                        tp.topic,
                        tp.partition,
                        self._group_id,
                        plog.log_start,
                        plog.end,
                        reset,
                        "latest" if self._latest else "earliest",
                    )
                    pos = reset
            positions[tp] = pos
            if pos >= plog.end:
                continue
            cols = plog.read_columns(pos, max_records - got)
            if cols:
                positions[tp] = cols.next_offset
                out.append(cols.batch(tp.topic, tp.partition))
                got += len(cols)
                if got >= max_records:
                    break
        return out

    # -- positions ----------------------------------------------------------------------------------------------

    def assignment(self) -> set[TopicPartition]:
        return set(self._member.owned) if self._member is not None else set()

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        m = self._member
        if m is None:
            raise CommitFailed(f"Consumer of group {self._group_id} is not subscribed")
        lost = [tp for tp in offsets if tp not in m.owned]
        if lost:
            raise CommitFailed(
                f"Partitions {sorted(lost)} are not assigned to this member of group "
                f"{self._group_id} any more (rebalanced)"
            )
        await self._coord.commit(offsets)

    def position(self, tp: TopicPartition) -> int | None:
        return self._positions.get(tp)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._positions[tp] = offset

    def pause(self, partitions: list[TopicPartition]) -> None:
        self._paused.update(partitions)

    def resume(self, partitions: list[TopicPartition]) -> None:
        self._paused.difference_update(partitions)
        if partitions:
            self._wakeup.set()
