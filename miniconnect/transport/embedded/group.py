"""Consumer groups inside one process: durable committed positions and an in-process coordinator.

Several consumers of one group (a sink connector's tasks) share the partitions of the topics they subscribe.
Rebalances are cooperative: a member gives up the partitions it loses in its next poll (after its on_revoked
callback), and only then may another member take them (on_assigned, also run inside that member's poll).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
from collections.abc import Mapping
from urllib.parse import quote

from ...connector import TopicPartition
from ...files import write_atomically
from ..base import GroupNotEmpty, RebalanceCallback


def group_path(directory: str, group_id: str) -> str:
    return os.path.join(directory, quote(group_id, safe="-_.") + ".json")


def read_committed(path: str) -> dict[TopicPartition, int]:
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read() or b"{}")
    except FileNotFoundError:
        return {}
    return {TopicPartition(t, int(p)): int(o) for t, parts in data.items() for p, o in parts.items()}


def write_committed(path: str, offsets: Mapping[TopicPartition, int]) -> None:
    """Atomic replace: a crash leaves either the old or the new file, never a mix."""
    data: dict[str, dict[str, int]] = {}
    for tp, off in sorted(offsets.items()):
        data.setdefault(tp.topic, {})[str(tp.partition)] = off
    write_atomically(path, json.dumps(data).encode())


class Member:
    __slots__ = ("id", "on_assigned", "on_revoked", "owned", "pattern", "target", "topics", "wakeup")

    def __init__(self, member_id: int, wakeup: asyncio.Event):
        self.id = member_id
        self.topics: frozenset[str] = frozenset()
        self.pattern: re.Pattern[str] | None = None
        self.on_assigned: RebalanceCallback | None = None
        self.on_revoked: RebalanceCallback | None = None
        self.owned: set[TopicPartition] = set()
        self.target: set[TopicPartition] = set()
        self.wakeup = wakeup

    def matches(self, topic: str) -> bool:
        if self.pattern is not None:
            return self.pattern.fullmatch(topic) is not None
        return topic in self.topics

    @property
    def settled(self) -> bool:
        return self.owned == self.target


class GroupCoordinator:
    """The members and committed positions of one group id."""

    _ids = itertools.count(1)

    def __init__(self, group_id: str, path: str):
        self.group_id = group_id
        self.path = path
        self.members: dict[int, Member] = {}
        self.owners: dict[TopicPartition, int] = {}
        self.committed: dict[TopicPartition, int] = read_committed(path)
        self._write_lock = asyncio.Lock()

    def new_member(self, wakeup: asyncio.Event) -> Member:
        return Member(next(self._ids), wakeup)

    def join(self, member: Member, partitions: Mapping[str, int]) -> None:
        self.members[member.id] = member
        self.rebalance(partitions)

    def leave(self, member: Member, partitions: Mapping[str, int]) -> None:
        for tp in member.owned:
            if self.owners.get(tp) == member.id:
                del self.owners[tp]
        member.owned = set()
        member.target = set()
        if self.members.pop(member.id, None) is not None:
            self.rebalance(partitions)

    def rebalance(self, partitions: Mapping[str, int]) -> None:
        """New targets for every member: round robin over the partitions, among the members subscribed to
        each topic (ordered by join), then wake them so their next poll moves partitions."""
        members = sorted(self.members.values(), key=lambda m: m.id)
        targets: dict[int, set[TopicPartition]] = {m.id: set() for m in members}
        turn: dict[tuple[int, ...], int] = {}
        for topic in sorted(partitions):
            eligible = tuple(m.id for m in members if m.matches(topic))
            if not eligible:
                continue
            n = turn.get(eligible, 0)
            for p in range(partitions[topic]):
                targets[eligible[n % len(eligible)]].add(TopicPartition(topic, p))
                n += 1
            turn[eligible] = n
        for m in members:
            if m.target != targets[m.id]:
                m.target = targets[m.id]
                m.wakeup.set()

    def release(self, member: Member, partitions: set[TopicPartition]) -> None:
        member.owned -= partitions
        for tp in partitions:
            if self.owners.get(tp) == member.id:
                del self.owners[tp]
        for m in self.members.values():  # whoever waits for these partitions can take them now
            if m is not member and not m.settled:
                m.wakeup.set()

    def claim(self, member: Member) -> set[TopicPartition]:
        """The target partitions of `member` that nobody else holds any more; marks them owned."""
        gained = {tp for tp in member.target - member.owned if tp not in self.owners}
        for tp in gained:
            self.owners[tp] = member.id
        member.owned |= gained
        return gained

    def ensure_empty(self) -> None:
        if self.members:
            raise GroupNotEmpty(f"Consumer group {self.group_id} has {len(self.members)} active member(s)")

    async def commit(self, offsets: Mapping[TopicPartition, int | None]) -> None:
        for tp, off in offsets.items():
            if off is None:
                self.committed.pop(tp, None)
            else:
                self.committed[tp] = off
        async with self._write_lock:  # one writer at a time; each writes the latest full snapshot
            await asyncio.to_thread(write_committed, self.path, dict(self.committed))
