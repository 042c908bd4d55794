"""Membership in a group on Kafka's group coordinator (Kafka's AbstractCoordinator): find the coordinator, join,
sync, heartbeat, leave. What the members say about themselves and how the group's leader assigns is a sub-protocol's
business: Connect's workers (member.py) and the Schema Registry's leader election (schema_registry/election.py)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiokafka import errors as kerrors
from aiokafka.client import AIOKafkaClient, ConnectionGroup, CoordinationType
from aiokafka.protocol.group import HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest

from ..errors import ConnectError
from ..transport.kafka.config import COMMON_SETTINGS, client_kwargs

log = logging.getLogger(__name__)

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


class GroupError(ConnectError):
    """The group coordinator refused this member for a reason retrying cannot fix."""


class _RejoinNow(Exception):
    """The current join round was overtaken (rebalance, fenced generation, moved coordinator): join again."""


class GroupMember:
    """The join/sync/heartbeat machinery; a sub-protocol overrides the hooks at the end (`metadata`,
    `on_leader_elected`, `on_join_prepare`, `on_join_complete`, ...)."""

    protocol_type = ""  # JoinGroup's protocol type: "connect", "sr"
    client_id_prefix = "group"

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        client_config: Mapping[str, Any],
        group_id: str,
        session_timeout_ms: int,
        heartbeat_interval_ms: int,
        rebalance_timeout_ms: int,
        retry_backoff_ms: int = 100,
        on_rejoin_needed: Callable[[], None] | None = None,
    ) -> None:
        """on_rejoin_needed: called (from the heartbeat task) when the group starts a rebalance, so an owner
        waiting on something else can wake up."""
        self.bootstrap_servers = bootstrap_servers
        self.client_config = dict(client_config)
        self.group_id = group_id
        self.session_timeout_ms = session_timeout_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.rebalance_timeout_ms = rebalance_timeout_ms
        self._retry_backoff_s = retry_backoff_ms / 1000
        self._on_rejoin_needed = on_rejoin_needed

        self.member_id: str = UNKNOWN_MEMBER_ID
        self.generation: int = NO_GENERATION
        self.leader_id: str | None = None
        self._needs_join = True  # AbstractCoordinator.rejoinNeeded
        self._needs_join_prepare = True
        self._client: AIOKafkaClient | None = None
        self._coordinator_id: int | None = None
        self._lock = asyncio.Lock()
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._joining = False  # between JoinGroup and SyncGroup's answer: no heartbeats then
        self._stopped = False
        self._last_poll = time.monotonic()

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._client is not None:
            return
        kwargs = client_kwargs(self.client_config, COMMON_SETTINGS, "worker")
        # member ids read <prefix>-<n>-<uuid>, as Kafka's (connect-1-...)
        kwargs.setdefault("client_id", f"{self.client_id_prefix}-{next(_CLIENT_IDS)}")
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
        """Closes without LeaveGroup, as a crashed member would (the coordinator expels it after the session
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
        """The owner is at its poll: resets the poll timer, as AbstractCoordinator.pollHeartbeat does. Away from
        it longer than rebalance.timeout.ms, the member leaves the group so that others take over."""
        self._last_poll = time.monotonic()

    # --- joining -------------------------------------------------------------------------------------------

    def rejoin_needed(self) -> bool:
        """AbstractCoordinator.rejoinNeededOrPending (a sub-protocol adds its own reasons)."""
        return self._needs_join

    async def ensure_active(self) -> None:
        """Joins and syncs if needed; returns once an assignment for the current generation was handed to
        on_join_complete."""
        self.poll_heartbeat()
        async with self._lock:
            while self.rejoin_needed():
                if self._client is None:
                    raise ConnectError("The group member is not started")
                await self._find_coordinator_or_give_up_work()
                if self._needs_join_prepare:
                    await self.on_join_prepare()
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
                await self.on_join_complete(protocol, assignment_bytes)
                return

    async def _find_coordinator_or_give_up_work(self) -> None:
        """WorkerCoordinator.poll: a member that cannot reach the coordinator within a heartbeat interval gives
        up its work (it may no longer be a member), then keeps looking."""
        if self._coordinator_id is not None:
            return
        try:
            await asyncio.wait_for(self._ensure_coordinator(), self.heartbeat_interval_ms / 1000)
            return
        except TimeoutError:
            pass
        await self.on_coordinator_unreachable()
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
        protocols = self.metadata()
        self.generation = NO_GENERATION
        while True:
            resp = await self._send(
                JoinGroupRequest(
                    self.group_id,
                    self.session_timeout_ms,
                    self.rebalance_timeout_ms,
                    self.member_id,
                    None,
                    self.protocol_type,
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
            group_assignment = list(self.on_leader_elected(protocol, members).items())
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
                f"consumer group): choose a group.id of its own for this group of {self.protocol_type} members"
            )
        if code == _GROUP_AUTHORIZATION_FAILED:
            return GroupError(f"Not authorized to access group: {self.group_id}")
        if code == _GROUP_MAX_SIZE_REACHED:
            return GroupError(f"Group {self.group_id} has reached its maximum size (group.max.size)")
        err = kerrors.for_code(code)
        return GroupError(f"{what} for group {self.group_id} failed: {err.__name__} ({code})")

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
                # WorkerCoordinator.handlePollTimeoutExpiry: tell the owner, then leave; it rejoins at its next poll.
                self.on_poll_timeout_expiry()
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

    # --- the sub-protocol ----------------------------------------------------------------------------------

    def metadata(self) -> list[tuple[str, bytes]]:
        """JoinGroup's protocols (name, this member's metadata), most preferred first."""
        raise NotImplementedError

    def on_leader_elected(self, protocol: str, members: list[tuple[str, bytes]]) -> dict[str, bytes]:
        """This member leads the group: every member's assignment from their (member id, metadata)."""
        raise NotImplementedError

    async def on_join_prepare(self) -> None:
        """A rebalance starts."""

    async def on_join_complete(self, protocol: str, assignment: bytes) -> None:
        """This member's assignment for the new generation."""
        raise NotImplementedError

    async def on_coordinator_unreachable(self) -> None:
        """No coordinator answered within a heartbeat interval: give up what only a member may do."""

    def on_poll_timeout_expiry(self) -> None:
        """The owner stayed away from its poll longer than rebalance.timeout.ms; the member leaves the group."""
