"""A worker's membership in the Connect group on Kafka's group coordinator (Kafka's WorkerGroupMember and
WorkerCoordinator): Connect's sub-protocol over group.py's join/sync/heartbeat; the elected leader runs the assignor."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from ..errors import ConnectError
from ..runtime.states import TaskId
from .assignor import AssignmentContext, EagerAssignor, IncrementalCooperativeAssignor, LeaderState
from .group import UNKNOWN_MEMBER_ID, GroupError, GroupMember
from .protocol import (
    ConnectProtocolCompatibility,
    ExtendedAssignment,
    ExtendedWorkerState,
    deserialize_assignment,
    metadata_request,
)
from .state import ClusterConfigState

log = logging.getLogger(__name__)

PROTOCOL_TYPE = "connect"
__all__ = ["PROTOCOL_TYPE", "GroupError", "RebalanceListener", "WorkerGroupMember"]


class RebalanceListener(Protocol):
    """What the herder does when the group takes work away or hands it out (WorkerRebalanceListener)."""

    async def on_revoked(self, leader: str, connectors: list[str], tasks: list[TaskId]) -> None: ...

    async def on_assigned(self, assignment: ExtendedAssignment, generation: int) -> None: ...

    def on_poll_timeout_expiry(self) -> None:
        """The herder stayed away from its poll longer than rebalance.timeout.ms; the member leaves the group."""


class WorkerGroupMember(GroupMember):
    protocol_type = PROTOCOL_TYPE
    client_id_prefix = "connect"

    def __init__(
        self,
        *,
        scheduled_rebalance_max_delay_ms: int,
        protocol: str,
        url: str,
        config_snapshot: Callable[[], ClusterConfigState],
        listener: RebalanceListener,
        **group: Any,
    ) -> None:
        """protocol: `connect.protocol` (eager | compatible | sessioned). group: GroupMember's keyword arguments
        (bootstrap_servers, client_config, group_id, timeouts; on_rejoin_needed wakes the herder when the group
        starts a rebalance)."""
        super().__init__(**group)
        self.url = url
        self.compatibility = ConnectProtocolCompatibility.from_config(protocol)
        self._config_snapshot = config_snapshot
        self._listener = listener
        self._eager_assignor = EagerAssignor()
        self._incremental_assignor = IncrementalCooperativeAssignor(scheduled_rebalance_max_delay_ms)
        self.protocol_version: int = self.compatibility.version
        self.last_completed_generation: int = -1
        self.assignment: ExtendedAssignment | None = None  # the full current assignment (Kafka's assignmentSnapshot)
        self._current_protocol = self.compatibility
        self._leader_state: LeaderState | None = None
        self._join_snapshot: ClusterConfigState | None = None
        self._rejoin_requested = False

    # --- state ---------------------------------------------------------------------------------------------

    def request_rejoin(self) -> None:
        self._rejoin_requested = True

    def rejoin_needed(self) -> bool:
        """WorkerCoordinator.rejoinNeededOrPending."""
        a = self.assignment
        return super().rejoin_needed() or a is None or a.failed() or self._rejoin_requested

    def is_leader(self) -> bool:
        a = self.assignment
        return a is not None and self.member_id != UNKNOWN_MEMBER_ID and a.leader == self.member_id

    def owner_url(self, connector_or_task: str | TaskId) -> str | None:
        """Who runs a connector or task, from the last full assignment; only the leader knows (else None)."""
        if self.rejoin_needed() or not self.is_leader() or self._leader_state is None:
            return None
        return self._leader_state.owner_url(connector_or_task)

    # --- Connect's sub-protocol ----------------------------------------------------------------------------

    async def on_coordinator_unreachable(self) -> None:
        a = self.assignment
        if a is not None and not a.failed():
            log.info(
                "Group coordinator was unreachable for %sms; revoking the previous assignment to avoid running "
                "tasks while not a member of the group",
                self.heartbeat_interval_ms,
            )
            self.assignment = None
            await self._listener.on_revoked(a.leader or "", list(a.connectors), list(a.tasks))

    def metadata(self) -> list[tuple[str, bytes]]:
        snapshot = self._config_snapshot()
        self._join_snapshot = snapshot
        return metadata_request(ExtendedWorkerState(self.url, snapshot.offset, self.assignment), self.compatibility)

    def on_leader_elected(self, protocol: str, members: list[tuple[str, bytes]]) -> dict[str, bytes]:
        assert self._join_snapshot is not None and self.leader_id is not None
        ctx = AssignmentContext(
            self._join_snapshot, self._config_snapshot, self.generation, self.last_completed_generation
        )
        assignor = (
            self._eager_assignor
            if ConnectProtocolCompatibility.from_protocol(protocol) is ConnectProtocolCompatibility.EAGER
            else self._incremental_assignor
        )
        assignments = assignor.perform_assignment(self.leader_id, protocol, members, ctx)
        self._leader_state = ctx.leader_state
        return assignments

    async def on_join_prepare(self) -> None:
        log.info("Rebalance started")
        self._leader_state = None
        a = self.assignment
        if self._current_protocol is ConnectProtocolCompatibility.EAGER and a is not None and not a.failed():
            await self._listener.on_revoked(a.leader or "", list(a.connectors), list(a.tasks))

    async def on_join_complete(self, protocol: str, data: bytes) -> None:
        new = deserialize_assignment(data)
        if new is None:
            raise ConnectError(f"The leader of group {self.group_id} sent no assignment")
        self._current_protocol = ConnectProtocolCompatibility.from_protocol(protocol)
        self.protocol_version = self._current_protocol.version
        self._rejoin_requested = False
        if self._current_protocol is not ConnectProtocolCompatibility.EAGER:
            if new.revoked_connectors or new.revoked_tasks:
                await self._listener.on_revoked(new.leader or "", list(new.revoked_connectors), list(new.revoked_tasks))
            old = self.assignment
            if old is not None:
                revoked_c, revoked_t = set(new.revoked_connectors), set(new.revoked_tasks)
                new.connectors += [c for c in old.connectors if c not in revoked_c]
                new.tasks += [t for t in old.tasks if t not in revoked_t]
        self.assignment = new
        self.last_completed_generation = self.generation
        await self._listener.on_assigned(new, self.generation)

    def on_poll_timeout_expiry(self) -> None:
        expired = getattr(self._listener, "on_poll_timeout_expiry", None)
        if expired is not None:
            expired()
