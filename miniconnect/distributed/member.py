"""A worker's membership in the Connect group on Kafka's group coordinator (Kafka's WorkerGroupMember and
WorkerCoordinator over AbstractCoordinator): join, sync, heartbeat, leave; the elected leader runs the assignor."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aiokafka import errors as kerrors
from aiokafka.client import AIOKafkaClient, ConnectionGroup, CoordinationType
from aiokafka.protocol.group import HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest

from ..errors import ConnectError
from ..runtime.states import TaskId
from ..transport.kafka.config import COMMON_SETTINGS, client_kwargs
from .assignor import AssignmentContext, EagerAssignor, IncrementalCooperativeAssignor, LeaderState
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
_CLIENT_IDS = itertools.count(1)
UNKNOWN_MEMBER_ID = ""
NO_GENERATION = -1

# Kafka error codes the join/sync/heartbeat loop reacts to.
_NONE = 0
_COORDINATOR_LOAD_IN_PROGRESS = 14
_COORDINATOR_NOT_AVAILABLE = 15
_NOT_COORDINATOR = 16
_ILLEGAL_GENERATION = 22
_INCONSISTENT_GROUP_PROTOCOL = 23
_UNKNOWN_MEMBER_ID = 25
_REBALANCE_IN_PROGRESS = 27
_GROUP_AUTHORIZATION_FAILED = 30
_MEMBER_ID_REQUIRED = 79
_GROUP_MAX_SIZE_REACHED = 81


class RebalanceListener(Protocol):
    """What the herder does when the group takes work away or hands it out (WorkerRebalanceListener)."""

    async def on_revoked(self, leader: str, connectors: list[str], tasks: list[TaskId]) -> None: ...

    async def on_assigned(self, assignment: ExtendedAssignment, generation: int) -> None: ...

    def on_poll_timeout_expiry(self) -> None:
        """The herder stayed away from its poll longer than rebalance.timeout.ms; the member leaves the group."""


class GroupError(ConnectError):
    """The group coordinator refused this worker for a reason retrying cannot fix."""


class _RejoinNow(Exception):
    """The current join round was overtaken (rebalance, fenced generation, moved coordinator): join again."""


class WorkerGroupMember:
    def __init__(
        self,
        *,
        bootstrap_servers: str,
        client_config: Mapping[str, Any],
        group_id: str,
        session_timeout_ms: int,
        heartbeat_interval_ms: int,
        rebalance_timeout_ms: int,
        scheduled_rebalance_max_delay_ms: int,
        protocol: str,
        url: str,
        config_snapshot: Callable[[], ClusterConfigState],
        listener: RebalanceListener,
        retry_backoff_ms: int = 100,
        on_rejoin_needed: Callable[[], None] | None = None,
    ) -> None:
        """protocol: `connect.protocol` (eager | compatible | sessioned). on_rejoin_needed: called (from the
        heartbeat task) when the group starts a rebalance, so a herder waiting on something else can wake up."""
        self.bootstrap_servers = bootstrap_servers
        self.client_config = dict(client_config)
        self.group_id = group_id
        self.session_timeout_ms = session_timeout_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.rebalance_timeout_ms = rebalance_timeout_ms
        self.url = url
        self.compatibility = ConnectProtocolCompatibility.from_config(protocol)
        self._config_snapshot = config_snapshot
        self._listener = listener
        self._retry_backoff_s = retry_backoff_ms / 1000
        self._on_rejoin_needed = on_rejoin_needed
        self._eager_assignor = EagerAssignor()
        self._incremental_assignor = IncrementalCooperativeAssignor(scheduled_rebalance_max_delay_ms)

        self.member_id: str = UNKNOWN_MEMBER_ID
        self.generation: int = NO_GENERATION
        self.leader_id: str | None = None
        self.protocol_version: int = self.compatibility.version
        self.last_completed_generation: int = NO_GENERATION
        self.assignment: ExtendedAssignment | None = None  # the full current assignment (Kafka's assignmentSnapshot)
        self._current_protocol = self.compatibility
        self._leader_state: LeaderState | None = None
        self._join_snapshot: ClusterConfigState | None = None
        self._rejoin_requested = False
        self._needs_join = True  # AbstractCoordinator.rejoinNeeded
        self._needs_join_prepare = True
        self._client: AIOKafkaClient | None = None
        self._coordinator_id: int | None = None
        self._lock = asyncio.Lock()
        self._heartbeat_task: asyncio.Task | None = None
        self._joining = False  # between JoinGroup and SyncGroup's answer: no heartbeats then
        self._stopped = False
        self._last_poll = time.monotonic()

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._client is not None:
            return
        kwargs = client_kwargs(self.client_config, COMMON_SETTINGS, "worker")
        kwargs.setdefault("client_id", f"connect-{next(_CLIENT_IDS)}")  # member ids read connect-<n>-<uuid>, as Kafka's
        # The coordinator holds a JoinGroup until every member rejoined, up to the rebalance timeout
        # (Kafka's AbstractCoordinator gives JoinGroup rebalance.timeout.ms + 5 s).
        kwargs["request_timeout_ms"] = max(kwargs.get("request_timeout_ms", 40000), self.rebalance_timeout_ms + 5000)
        client = AIOKafkaClient(bootstrap_servers=self.bootstrap_servers, **kwargs)
        try:
            await client.bootstrap()
        except kerrors.KafkaError as e:
            await client.close()
            raise ConnectError(
                f"Could not reach Kafka at {self.bootstrap_servers} to join group {self.group_id}: {e}"
            ) from e
        except BaseException:
            await client.close()
            raise
        self._client = client
        self._stopped = False
        self._heartbeat_task = asyncio.create_task(self._heartbeat_loop(), name=f"heartbeat-{self.group_id}")

    async def stop(self) -> None:
        """Leaves the group (the coordinator rebalances the others at once) and closes; safe twice."""
        await self._close(leave=True)

    async def abandon(self) -> None:
        """Closes without LeaveGroup, as a crashed worker would (the coordinator expels it after the session
        timeout). For tests and emergencies."""
        await self._close(leave=False)

    async def _close(self, *, leave: bool) -> None:
        self._stopped = True
        task, self._heartbeat_task = self._heartbeat_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if leave:
                await self._leave(client, "the consumer is being closed")
        finally:
            self._reset_generation(lose_member_id=True)
            self._coordinator_id = None
            await client.close()

    async def _leave(self, client: AIOKafkaClient, reason: str) -> None:
        """AbstractCoordinator.maybeLeaveGroup: LeaveGroup if this member has an id and knows its coordinator."""
        if self.member_id == UNKNOWN_MEMBER_ID or self._coordinator_id is None:
            return
        log.info(
            "Member %s sending LeaveGroup request to coordinator %s due to %s",
            self.member_id,
            self._coordinator_id,
            reason,
        )
        try:
            resp = await asyncio.wait_for(
                client.send(
                    self._coordinator_id,
                    LeaveGroupRequest(self.group_id, self.member_id),
                    group=ConnectionGroup.COORDINATION,
                ),
                timeout=5,
            )
            log.info("Member %s left group %s (error code %s)", self.member_id, self.group_id, resp.error_code)
        except (TimeoutError, kerrors.KafkaError, OSError) as e:
            log.warning("Could not leave group %s cleanly: %s", self.group_id, e)

    def poll_heartbeat(self) -> None:
        """The herder is at its poll (between ticks, or waiting for work): resets the poll timer, as
        AbstractCoordinator.pollHeartbeat does. Away from it longer than rebalance.timeout.ms (a connector's
        start or task_configs hanging on its database), the member leaves the group so that others take over."""
        self._last_poll = time.monotonic()

    # --- state ---------------------------------------------------------------------------------------------

    def request_rejoin(self) -> None:
        self._rejoin_requested = True

    def rejoin_needed(self) -> bool:
        """WorkerCoordinator.rejoinNeededOrPending."""
        a = self.assignment
        return self._needs_join or a is None or a.failed() or self._rejoin_requested

    def is_leader(self) -> bool:
        a = self.assignment
        return a is not None and self.member_id != UNKNOWN_MEMBER_ID and a.leader == self.member_id

    def owner_url(self, connector_or_task: str | TaskId) -> str | None:
        """Who runs a connector or task, from the last full assignment; only the leader knows (else None)."""
        if self.rejoin_needed() or not self.is_leader() or self._leader_state is None:
            return None
        return self._leader_state.owner_url(connector_or_task)

    # --- joining -------------------------------------------------------------------------------------------

    async def ensure_active(self) -> None:
        """Joins and syncs if needed; returns once an assignment for the current generation reached the listener."""
        self.poll_heartbeat()
        async with self._lock:
            while self.rejoin_needed():
                if self._client is None:
                    raise ConnectError("The group member is not started")
                await self._find_coordinator_or_revoke()
                if self._needs_join_prepare:
                    await self._on_join_prepare()
                    self._needs_join_prepare = False
                self._joining = True
                try:
                    assignment_bytes, protocol = await self._join_and_sync()
                except _RejoinNow:
                    await asyncio.sleep(self._retry_backoff_s)
                    continue
                finally:
                    self._joining = False
                self._needs_join = False
                self._needs_join_prepare = True
                await self._on_join_complete(protocol, assignment_bytes)
                return

    async def _find_coordinator_or_revoke(self) -> None:
        """WorkerCoordinator.poll: a worker that cannot reach the coordinator within a heartbeat interval stops
        its work (it may no longer be a member), then keeps looking."""
        if self._coordinator_id is not None:
            return
        try:
            await asyncio.wait_for(self._ensure_coordinator(), self.heartbeat_interval_ms / 1000)
            return
        except TimeoutError:
            pass
        a = self.assignment
        if a is not None and not a.failed():
            log.info(
                "Group coordinator was unreachable for %sms; revoking the previous assignment to avoid running "
                "tasks while not a member of the group",
                self.heartbeat_interval_ms,
            )
            self.assignment = None
            await self._listener.on_revoked(a.leader or "", list(a.connectors), list(a.tasks))
        await self._ensure_coordinator()

    async def _ensure_coordinator(self) -> None:
        assert self._client is not None
        while self._coordinator_id is None:
            try:
                node = await self._client.coordinator_lookup(CoordinationType.GROUP, self.group_id)
            except kerrors.GroupAuthorizationFailedError:
                raise GroupError(f"Not authorized to access group: {self.group_id}") from None
            except (kerrors.KafkaError, OSError) as e:
                if isinstance(e, kerrors.KafkaError) and not e.retriable:
                    raise
                log.debug("Group coordinator lookup for %s failed: %s", self.group_id, e)
                await self._client.force_metadata_update()
                await asyncio.sleep(self._retry_backoff_s)
                continue
            if await self._client.ready(node, group=ConnectionGroup.COORDINATION):
                self._coordinator_id = node
                log.info("Discovered group coordinator %s for group %s", node, self.group_id)
            else:
                await asyncio.sleep(self._retry_backoff_s)

    async def _send(self, request: Any) -> Any:
        assert self._client is not None
        if self._coordinator_id is None:
            raise _RejoinNow()
        try:
            return await self._client.send(self._coordinator_id, request, group=ConnectionGroup.COORDINATION)
        except (kerrors.KafkaError, OSError) as e:
            log.warning(
                "Request %s to group coordinator %s failed: %s; marking it unknown",
                type(request).__name__,
                self._coordinator_id,
                e,
            )
            self._coordinator_id = None
            raise _RejoinNow() from e

    def _coordinator_error(self, code: int) -> bool:
        if code in (_COORDINATOR_NOT_AVAILABLE, _NOT_COORDINATOR):
            self._coordinator_id = None
            return True
        return code == _COORDINATOR_LOAD_IN_PROGRESS

    def _reset_generation(self, *, lose_member_id: bool) -> None:
        self.generation = NO_GENERATION
        if lose_member_id:
            self.member_id = UNKNOWN_MEMBER_ID
        self._needs_join = True

    async def _join_and_sync(self) -> tuple[bytes, str]:
        snapshot = self._config_snapshot()
        self._join_snapshot = snapshot
        state = ExtendedWorkerState(self.url, snapshot.offset, self.assignment)
        protocols = metadata_request(state, self.compatibility)
        self.generation = NO_GENERATION
        while True:
            resp = await self._send(
                JoinGroupRequest(
                    self.group_id,
                    self.session_timeout_ms,
                    self.rebalance_timeout_ms,
                    self.member_id,
                    None,
                    PROTOCOL_TYPE,
                    protocols,
                )
            )
            code = resp.error_code
            if code == _MEMBER_ID_REQUIRED:  # KIP-394: join again with the id the coordinator gave us
                self.member_id = resp.member_id
                continue
            if code == _NONE:
                break
            if code == _UNKNOWN_MEMBER_ID:
                self._reset_generation(lose_member_id=True)
                raise _RejoinNow()
            if code == _REBALANCE_IN_PROGRESS or self._coordinator_error(code):
                raise _RejoinNow()
            raise self._fatal(code, "JoinGroup")
        self.member_id, self.generation, self.leader_id = resp.member_id, resp.generation_id, resp.leader_id
        protocol = resp.group_protocol
        log.info(
            "Joined group %s at generation %s as %s (leader %s, protocol %s)",
            self.group_id,
            self.generation,
            self.member_id,
            self.leader_id,
            protocol,
        )
        group_assignment: list[tuple[str, bytes]] = []
        if self.member_id == self.leader_id:
            members = [(m[0], m[-1]) for m in resp.members]
            group_assignment = list(self._on_leader_elected(protocol, members).items())
        sync = await self._send(
            SyncGroupRequest(self.group_id, self.generation, self.member_id, None, group_assignment)
        )
        code = sync.error_code
        if code == _NONE:
            return sync.member_assignment, protocol
        if code in (_UNKNOWN_MEMBER_ID, _ILLEGAL_GENERATION):
            self._reset_generation(lose_member_id=code == _UNKNOWN_MEMBER_ID)
            raise _RejoinNow()
        if code == _REBALANCE_IN_PROGRESS or self._coordinator_error(code):
            raise _RejoinNow()
        raise self._fatal(code, "SyncGroup")

    def _fatal(self, code: int, what: str) -> ConnectError:
        if code == _INCONSISTENT_GROUP_PROTOCOL:
            return GroupError(
                f"Group {self.group_id} is already used by members of another protocol type (e.g. a "
                f"consumer group): choose a group.id of its own for this Connect cluster"
            )
        if code == _GROUP_AUTHORIZATION_FAILED:
            return GroupError(f"Not authorized to access group: {self.group_id}")
        if code == _GROUP_MAX_SIZE_REACHED:
            return GroupError(f"Group {self.group_id} has reached its maximum size (group.max.size)")
        err = kerrors.for_code(code)
        return GroupError(f"{what} for group {self.group_id} failed: {err.__name__} ({code})")

    def _on_leader_elected(self, protocol: str, members: list[tuple[str, bytes]]) -> dict[str, bytes]:
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

    async def _on_join_prepare(self) -> None:
        log.info("Rebalance started")
        self._leader_state = None
        a = self.assignment
        if self._current_protocol is ConnectProtocolCompatibility.EAGER and a is not None and not a.failed():
            await self._listener.on_revoked(a.leader or "", list(a.connectors), list(a.tasks))

    async def _on_join_complete(self, protocol: str, data: bytes) -> None:
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

    # --- heartbeats ----------------------------------------------------------------------------------------

    def _rejoin_now(self) -> None:
        self._needs_join = True
        if self._on_rejoin_needed is not None:
            self._on_rejoin_needed()

    async def _heartbeat_loop(self) -> None:
        interval = self.heartbeat_interval_ms / 1000
        last_ok = time.monotonic()
        while not self._stopped:
            await asyncio.sleep(interval)
            if self._joining or self._needs_join or self.generation == NO_GENERATION:
                last_ok = time.monotonic()
                continue
            if time.monotonic() - self._last_poll > self.rebalance_timeout_ms / 1000 and self._client is not None:
                # WorkerCoordinator.handlePollTimeoutExpiry: tell the herder, then leave; it rejoins at its next poll.
                expired = getattr(self._listener, "on_poll_timeout_expiry", None)
                if expired is not None:
                    expired()
                await self._leave(self._client, "worker poll timeout has expired.")
                self._reset_generation(lose_member_id=True)
                continue
            if time.monotonic() - last_ok > self.session_timeout_ms / 1000:
                # The coordinator has expelled us by now: find it again and rejoin (AbstractCoordinator's
                # heartbeat thread marks the coordinator unknown on session expiry).
                log.warning(
                    "No heartbeat of %s reached group %s's coordinator within the session timeout; rejoining",
                    self.member_id,
                    self.group_id,
                )
                self._coordinator_id = None
                self._rejoin_now()
                continue
            if self._coordinator_id is None:
                try:
                    await asyncio.wait_for(self._ensure_coordinator(), interval)
                except TimeoutError:
                    continue
                except ConnectError as e:
                    log.error("%s", e)
                    continue
            started = time.monotonic()
            try:
                resp = await self._send(HeartbeatRequest(self.group_id, self.generation, self.member_id))
            except _RejoinNow:
                continue
            code = resp.error_code
            if code == _NONE:
                last_ok = time.monotonic()
                continue
            log.info(
                "Heartbeat of %s in group %s answered error %s after %.3fs; rejoining",
                self.member_id,
                self.group_id,
                code,
                time.monotonic() - started,
            )
            if code in (_UNKNOWN_MEMBER_ID, _ILLEGAL_GENERATION):
                self._reset_generation(lose_member_id=code == _UNKNOWN_MEMBER_ID)
            elif self._coordinator_error(code):
                continue
            self._rejoin_now()
