"""Which registry writes the `_schemas` topic on Kafka: the members join a Kafka group of protocol type "sr" (Confluent's
`schema.registry.group.id`), each carrying its identity as JSON; the group's leader names the registry leader in
every member's assignment. The wire format is Confluent's (SchemaRegistryCoordinator, SchemaRegistryProtocol,
SchemaRegistryIdentity), so that a miniconnect registry can share a group with Confluent's."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..distributed.group import GroupMember

log = logging.getLogger(__name__)

PROTOCOL_TYPE = "sr"
SUBPROTOCOL_V0 = "v0"
IDENTITY_VERSION = ASSIGNMENT_VERSION = 1
NO_ERROR, DUPLICATE_URLS = 0, 1


@dataclass(frozen=True, slots=True)
class RegistryIdentity:
    """SchemaRegistryIdentity: where a registry listens for the others, and whether it may lead."""

    host: str
    port: int
    leader_eligibility: bool = True
    scheme: str = "http"
    leader: bool = field(default=False, compare=False)  # the sticky election's "I lead now", not part of who it is

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def to_json(self) -> dict[str, Any]:
        # Jackson's order (creator properties first)
        return {
            "host": self.host,
            "port": self.port,
            "master_eligibility": self.leader_eligibility,
            "scheme": self.scheme,
            "version": IDENTITY_VERSION,
            "leader": self.leader,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> RegistryIdentity:
        return cls(
            value["host"],
            int(value["port"]),
            bool(value["master_eligibility"]),
            value.get("scheme") or "http",
            bool(value.get("leader", False)),
        )


@dataclass(frozen=True, slots=True)
class ElectionResult:
    """SchemaRegistryProtocol.Assignment: the leader's group member id and identity (None: no member may lead)."""

    error: int
    leader: str | None
    leader_identity: RegistryIdentity | None

    def to_bytes(self) -> bytes:
        value: dict[str, Any] = {"error": self.error}  # Jackson's NON_EMPTY: no null fields
        if self.leader is not None:
            value["master"] = self.leader
        if self.leader_identity is not None:
            value["master_identity"] = self.leader_identity.to_json()
        value["version"] = ASSIGNMENT_VERSION
        return json.dumps(value, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> ElectionResult:
        value = json.loads(data)
        identity = value.get("master_identity")
        return cls(
            int(value.get("error", NO_ERROR)),
            value.get("master"),
            RegistryIdentity.from_json(identity) if identity else None,
        )


def elect(members: list[tuple[str, bytes]], sticky: bool = False) -> ElectionResult:
    """SchemaRegistryCoordinator.onLeaderElected: the eligible member with the smallest URL leads; with `sticky`
    (leader.election.sticky) the one eligible member saying it leads now stays leader (several saying so: the smallest
    URL again). Members advertising one URL twice cannot forward to each other (DUPLICATE_URLS)."""
    identities = {member: RegistryIdentity.from_json(json.loads(metadata)) for member, metadata in members}
    eligible = sorted((i.url, m) for m, i in identities.items() if i.leader_eligibility)
    leader = eligible[0][1] if eligible else None
    leading = [m for _, m in eligible if identities[m].leader]
    if sticky and len(leading) == 1:
        leader = leading[0]
    urls = {i.url for i in identities.values()}
    error = DUPLICATE_URLS if len(urls) != len(identities) else NO_ERROR
    return ElectionResult(error, leader, identities[leader] if leader is not None else None)


class LeaderElector(GroupMember):
    """KafkaGroupLeaderElector: stays in the group until stop(), and hands every election's result to
    `on_elected` (awaited before the member answers the group again). Not `sticky`, a rebalance revokes the leader
    (`on_revoked`: writes wait) until the new assignment names one; `sticky`, the leader keeps writing through the
    rebalance and stays leader unless it left the group, as Confluent's leader.election.sticky=true."""

    protocol_type = PROTOCOL_TYPE
    client_id_prefix = "sr"

    def __init__(
        self,
        identity: RegistryIdentity,
        on_elected: Callable[[ElectionResult], Awaitable[None]],
        on_revoked: Callable[[], Awaitable[None]],
        sticky: bool = False,
        **group: Any,
    ) -> None:
        """group: GroupMember's keyword arguments (bootstrap_servers, client_config, group_id, timeouts)."""
        self._wakeup = asyncio.Event()
        super().__init__(on_rejoin_needed=self._wakeup.set, **group)
        self.identity = identity
        self.sticky = sticky
        self._on_elected = on_elected
        self._on_revoked = on_revoked
        self.result: ElectionResult | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await super().start()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"leader-election-{self.group_id}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await super().stop()

    async def _run(self) -> None:
        """SchemaRegistryCoordinator.poll in a loop: rejoin whenever the group rebalances."""
        while True:
            try:
                await self.ensure_active()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the coordinator refused us, Kafka away: keep trying, as the Java loop does
                log.error("Schema registry leader election in group %s failed: %s", self.group_id, e)
                await asyncio.sleep(self._retry_backoff_s * 10)
                continue
            self._wakeup.clear()
            while not self.rejoin_needed():
                self.poll_heartbeat()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), self.heartbeat_interval_ms / 1000)
                except TimeoutError:
                    pass
                self._wakeup.clear()

    def rejoin_needed(self) -> bool:
        return super().rejoin_needed() or self.result is None

    def metadata(self) -> list[tuple[str, bytes]]:
        identity = replace(self.identity, leader=self.sticky and self.leading())
        return [(SUBPROTOCOL_V0, json.dumps(identity.to_json(), separators=(",", ":")).encode())]

    def leading(self) -> bool:
        """Whether the last election named this member the leader."""
        chosen = self.result.leader_identity if self.result is not None else None
        return chosen is not None and chosen == self.identity

    def on_leader_elected(self, protocol: str, members: list[tuple[str, bytes]]) -> dict[str, bytes]:
        result = elect(members, self.sticky)
        log.info(
            "Schema registry group %s: leader %s of %d members", self.group_id, result.leader_identity, len(members)
        )
        data = result.to_bytes()
        return {member: data for member, _ in members}

    async def on_join_prepare(self) -> None:
        if self.sticky:  # the leader writes on until the new assignment says otherwise
            return
        if self.result is not None:
            self.result = None
            await self._on_revoked()

    async def on_join_complete(self, protocol: str, assignment: bytes) -> None:
        result = ElectionResult.from_bytes(assignment)
        log.info("Schema registry group %s elected %s (error %d)", self.group_id, result.leader_identity, result.error)
        await self._on_elected(result)
        self.result = result

    async def on_coordinator_unreachable(self) -> None:
        if self.result is not None:  # maybe no longer a member: stop writing as the leader
            self.result = None
            await self._on_revoked()
