"""The leader's assignment of connectors and tasks to workers: Kafka's EagerAssignor (v0) and
IncrementalCooperativeAssignor (v1/v2, KIP-415), ported from Kafka 4.1's source.

Java's hash-based collections decide some tie-breaks there (which worker keeps an extra task, which tasks are
revoked first); java_order reproduces their iteration order so a Python leader decides as a JVM leader would.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..runtime.states import TaskId
from .java_order import hash_map_order, hash_set_copy_order
from .protocol import (
    CONFIG_MISMATCH,
    CONNECT_PROTOCOL_V2,
    NO_ERROR,
    ConnectProtocolCompatibility,
    ExtendedAssignment,
    ExtendedWorkerState,
    deserialize_metadata,
    serialize_assignment,
    serialize_assignment_v0,
)
from .state import ClusterConfigState

log = logging.getLogger(__name__)


@dataclass
class LeaderState:
    """The leader's view of the last full assignment: who owns what (WorkerCoordinator.LeaderState)."""

    members: dict[str, ExtendedWorkerState]
    connector_owners: dict[str, str]
    task_owners: dict[TaskId, str]

    @classmethod
    def of(
        cls,
        members: dict[str, ExtendedWorkerState],
        connectors: dict[str, Iterable[str]],
        tasks: dict[str, Iterable[TaskId]],
    ) -> LeaderState:
        return cls(
            members, {c: w for w, cs in connectors.items() for c in cs}, {t: w for w, ts in tasks.items() for t in ts}
        )

    def owner_url(self, what: str | TaskId) -> str | None:
        owner = (self.task_owners if isinstance(what, TaskId) else self.connector_owners).get(what)  # type: ignore[call-overload]
        return None if owner is None else self.members[owner].url


@dataclass
class AssignmentContext:
    """What the leader's coordinator gives the assignor (Kafka passes the WorkerCoordinator itself)."""

    snapshot: ClusterConfigState  # the config snapshot taken when this member built its JoinGroup metadata
    fresh_snapshot: Callable[[], ClusterConfigState]
    generation_id: int
    last_completed_generation_id: int
    leader_state: LeaderState | None = None  # set by the assignor


def _max_offset(configs: dict[str, ExtendedWorkerState]) -> int:
    return max(c.offset for c in configs.values())


def _ensure_leader_config(max_offset: int, ctx: AssignmentContext) -> int | None:
    """The offset to assign at, or None when this leader is behind a member and cannot catch up at once."""
    if ctx.snapshot.offset < max_offset:
        updated = ctx.fresh_snapshot()
        if updated.offset < max_offset:
            log.info(
                "Was selected to perform assignments, but do not have latest config found in sync request. "
                "Returning an empty configuration to trigger re-sync."
            )
            return None
        ctx.snapshot = updated
        return updated.offset
    return max_offset


def _member_configs(members: list[tuple[str, bytes]]) -> dict[str, ExtendedWorkerState]:
    return {member_id: deserialize_metadata(metadata) for member_id, metadata in members}


# --- eager (v0) --------------------------------------------------------------------------------------------


class EagerAssignor:
    """Everything is revoked at each rebalance; the leader deals connectors, then tasks, round robin."""

    def perform_assignment(
        self, leader_id: str, protocol: str, members: list[tuple[str, bytes]], ctx: AssignmentContext
    ) -> dict[str, bytes]:
        configs = _member_configs(members)
        max_offset = _max_offset(configs)
        leader_offset = _ensure_leader_config(max_offset, ctx)
        leader_url = configs[leader_id].url
        if leader_offset is None:
            return self._serialize(configs, CONFIG_MISMATCH, leader_id, leader_url, max_offset, {}, {})
        snapshot = ctx.snapshot
        members_sorted = sorted(configs)
        connectors: dict[str, list[str]] = {}
        tasks: dict[str, list[TaskId]] = {}
        turn = 0
        for connector in snapshot.connectors():
            connectors.setdefault(members_sorted[turn % len(members_sorted)], []).append(connector)
            turn += 1
        for connector in snapshot.connectors():
            for task in sorted(snapshot.tasks(connector)):
                tasks.setdefault(members_sorted[turn % len(members_sorted)], []).append(task)
                turn += 1
        ctx.leader_state = LeaderState.of(configs, connectors, tasks)
        return self._serialize(configs, NO_ERROR, leader_id, leader_url, leader_offset, connectors, tasks)

    @staticmethod
    def _serialize(
        configs: dict[str, ExtendedWorkerState],
        error: int,
        leader_id: str,
        leader_url: str,
        offset: int,
        connectors: dict[str, list[str]],
        tasks: dict[str, list[TaskId]],
    ) -> dict[str, bytes]:
        return {
            m: serialize_assignment_v0(
                ExtendedAssignment(0, error, leader_id, leader_url, offset, connectors.get(m, []), tasks.get(m, []))
            )
            for m in configs
        }


# --- incremental cooperative (v1, v2) ----------------------------------------------------------------------


@dataclass
class ConnectorsAndTasks:
    """Insertion-ordered sets of connectors and tasks (WorkerCoordinator.ConnectorsAndTasks)."""

    connectors: dict[str, None] = field(default_factory=dict)
    tasks: dict[TaskId, None] = field(default_factory=dict)

    @classmethod
    def of(cls, connectors: Iterable[str] = (), tasks: Iterable[TaskId] = ()) -> ConnectorsAndTasks:
        return cls(dict.fromkeys(connectors), dict.fromkeys(tasks))

    def add_all(self, other: ConnectorsAndTasks) -> ConnectorsAndTasks:
        self.connectors.update(other.connectors)
        self.tasks.update(other.tasks)
        return self

    def is_empty(self) -> bool:
        return not self.connectors and not self.tasks


@dataclass
class WorkerLoad:
    worker: str
    connectors: list[str] = field(default_factory=list)
    tasks: list[TaskId] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not self.connectors and not self.tasks


@dataclass
class ClusterAssignment:
    newly_assigned_connectors: dict[str, list[str]]
    newly_assigned_tasks: dict[str, list[TaskId]]
    newly_revoked_connectors: dict[str, list[str]]
    newly_revoked_tasks: dict[str, list[TaskId]]
    all_assigned_connectors: dict[str, list[str]]
    all_assigned_tasks: dict[str, list[TaskId]]


def _diff(base: ConnectorsAndTasks, *subtract: ConnectorsAndTasks) -> ConnectorsAndTasks:
    """base minus the others, sorted (Kafka's TreeSet)."""
    connectors = set(base.connectors)
    tasks = set(base.tasks)
    for s in subtract:
        connectors -= s.connectors.keys()
        tasks -= s.tasks.keys()
    return ConnectorsAndTasks.of(sorted(connectors), sorted(tasks))


def _diff_map(base: dict[str, list], subtract: dict[str, list]) -> dict[str, list]:
    out = {}
    for worker, values in base.items():
        gone = set(subtract.get(worker, ()))
        out[worker] = [v for v in values if v not in gone]
    return out


def _remove_all(loads: list[WorkerLoad], to_remove: dict[str, ConnectorsAndTasks]) -> None:
    for load in loads:
        r = to_remove.get(load.worker)
        if r is not None:
            load.connectors[:] = [c for c in load.connectors if c not in r.connectors]
            load.tasks[:] = [t for t in load.tasks if t not in r.tasks]


def _add_all(base: dict[str, ConnectorsAndTasks], to_add: dict[str, ConnectorsAndTasks]) -> None:
    for worker, ct in to_add.items():
        base.setdefault(worker, ConnectorsAndTasks()).add_all(ct)


def _intersection(ct: ConnectorsAndTasks, assignments: dict[str, ConnectorsAndTasks]) -> dict[str, ConnectorsAndTasks]:
    """Each worker's share of `ct`, in the order Kafka's `new HashSet<>(assigned).retainAll(ct)` leaves it."""
    return {
        w: ConnectorsAndTasks.of(
            [c for c in hash_set_copy_order(a.connectors) if c in ct.connectors],
            [t for t in hash_set_copy_order(a.tasks) if t in ct.tasks],
        )
        for w, a in assignments.items()
    }


class _Backoff:
    """Kafka's ExponentialBackoff without jitter."""

    def __init__(self, initial: int, multiplier: int, maximum: int):
        self.initial, self.multiplier, self.maximum = min(maximum, initial), multiplier, maximum
        self.exp_max = (math.log(maximum / max(initial, 1)) / math.log(multiplier)) if maximum > initial else 0.0

    def backoff(self, attempts: int) -> int:
        if self.exp_max == 0:
            return self.initial
        return min(int(self.initial * math.pow(self.multiplier, min(attempts, self.exp_max))), self.maximum)


def _wall_ms() -> int:
    return int(time.time() * 1000)


class IncrementalCooperativeAssignor:
    """KIP-415: keep what runs where it runs; revoke only what must move; hold lost work for
    `scheduled.rebalance.max.delay.ms` in case its worker comes back."""

    def __init__(self, max_delay_ms: int, now_ms: Callable[[], int] = _wall_ms):
        self.max_delay = max_delay_ms
        self.now_ms = now_ms
        self.previous_assignment = ConnectorsAndTasks()
        self.previous_revocation = ConnectorsAndTasks()
        self.revoked_in_previous = False
        self.candidate_workers_for_reassignment: dict[str, None] = {}
        self.scheduled_rebalance = 0
        self.delay = 0
        self.previous_generation_id = -1
        self.previous_members: set[str] = set()
        self.num_successive_revoking_rebalances = 0
        self._revoking_backoff = _Backoff(0 if max_delay_ms == 0 else 1, 40, max_delay_ms)

    def perform_assignment(
        self, leader_id: str, protocol: str, members: list[tuple[str, bytes]], ctx: AssignmentContext
    ) -> dict[str, bytes]:
        configs = _member_configs(members)
        max_offset = _max_offset(configs)
        version = ConnectProtocolCompatibility.from_protocol(protocol).version
        leader_offset = _ensure_leader_config(max_offset, ctx)
        leader_url = configs[leader_id].url
        if leader_offset is None:
            empty = ClusterAssignment({}, {}, {}, {}, {}, {})
            return self._serialize(
                self._fill(configs, CONFIG_MISMATCH, leader_id, leader_url, max_offset, empty, 0, version), version
            )
        member_assignments = {
            m: ConnectorsAndTasks.of(c.assignment.connectors, c.assignment.tasks)
            if c.assignment
            else ConnectorsAndTasks()
            for m, c in configs.items()
        }
        cluster = self.perform_task_assignment(
            ctx.snapshot, ctx.last_completed_generation_id, ctx.generation_id, member_assignments
        )
        ctx.leader_state = LeaderState.of(configs, cluster.all_assigned_connectors, cluster.all_assigned_tasks)
        return self._serialize(
            self._fill(configs, NO_ERROR, leader_id, leader_url, leader_offset, cluster, self.delay, version), version
        )

    def perform_task_assignment(
        self,
        snapshot: ClusterConfigState,
        last_completed_generation_id: int,
        current_generation_id: int,
        member_assignments: dict[str, ConnectorsAndTasks],
    ) -> ClusterAssignment:
        # Iterate members as Kafka's HashMap would, since the order decides tie-breaks below.
        member_assignments = {m: member_assignments[m] for m in hash_map_order(member_assignments)}
        if self.previous_generation_id != last_completed_generation_id:
            log.debug(
                "Clearing the view of previous assignments due to generation mismatch between previous "
                "generation ID %s and last completed generation ID %s",
                self.previous_generation_id,
                last_completed_generation_id,
            )
            self.previous_assignment = ConnectorsAndTasks()

        configured_connectors = sorted(snapshot.connectors())
        configured = ConnectorsAndTasks.of(
            configured_connectors, [t for c in configured_connectors for t in snapshot.tasks(c)]
        )
        active = ConnectorsAndTasks()
        for a in member_assignments.values():
            active.add_all(a)

        # A previous revocation did not take effect: reset and be ready to revoke again.
        if not self.previous_revocation.is_empty():
            if any(c in active.connectors for c in self.previous_revocation.connectors) or any(
                t in active.tasks for t in self.previous_revocation.tasks
            ):
                self.previous_assignment = active
            self.previous_revocation = ConnectorsAndTasks()

        deleted = _diff(self.previous_assignment, configured)
        duplicated = self._duplicated(member_assignments)
        lost = _diff(self.previous_assignment, active, deleted)
        created = _diff(configured, self.previous_assignment, active)
        log.debug("Deleted %s; lost %s; created %s", deleted, lost, created)

        current = [
            WorkerLoad(
                w,
                [c for c in a.connectors if c not in deleted.connectors],
                [t for t in a.tasks if t not in deleted.tasks],
            )
            for w, a in member_assignments.items()
        ]
        to_revoke: dict[str, ConnectorsAndTasks] = {}
        deleted_to_revoke = _intersection(deleted, member_assignments)
        _add_all(to_revoke, deleted_to_revoke)
        duplicated_to_revoke = _intersection(duplicated, member_assignments)
        _add_all(to_revoke, duplicated_to_revoke)

        nxt = [WorkerLoad(w, list(a.connectors), list(a.tasks)) for w, a in member_assignments.items()]
        _remove_all(nxt, deleted_to_revoke)
        _remove_all(nxt, duplicated_to_revoke)

        lost_to_reassign = ConnectorsAndTasks()
        self.handle_lost_assignments(lost, lost_to_reassign, nxt)

        # No revocations for balance while a delayed rebalance is active.
        if self.delay == 0:
            balancing = self._load_balancing_revocations(configured, nxt)
            if self.revoked_in_previous and balancing:
                self.num_successive_revoking_rebalances += 1
                self.delay = self._revoking_backoff.backoff(self.num_successive_revoking_rebalances)
                if self.delay != 0:
                    self.scheduled_rebalance = self.now_ms() + self.delay
                    log.debug("Skipping revocations in the current round with a delay of %sms", self.delay)
                else:
                    _add_all(to_revoke, balancing)
                    _remove_all(nxt, balancing)
            elif balancing:
                _add_all(to_revoke, balancing)
                _remove_all(nxt, balancing)
                self.revoked_in_previous = True
            elif self.revoked_in_previous:
                self.revoked_in_previous = False
                self.num_successive_revoking_rebalances = 0
        else:
            log.debug("Delayed rebalance is active. Delaying %sms before revoking connectors and tasks", self.delay)
            self.revoked_in_previous = False

        to_assign = ConnectorsAndTasks().add_all(created).add_all(lost_to_reassign)
        self.assign_connectors(nxt, list(to_assign.connectors))
        self.assign_tasks(nxt, list(to_assign.tasks))

        next_connectors = {w.worker: w.connectors for w in nxt}
        next_tasks = {w.worker: w.tasks for w in nxt}
        incremental_connectors = _diff_map(next_connectors, {w.worker: w.connectors for w in current})
        incremental_tasks = _diff_map(next_tasks, {w.worker: w.tasks for w in current})
        revoked_connectors = {w: list(ct.connectors) for w, ct in to_revoke.items()}
        revoked_tasks = {w: list(ct.tasks) for w, ct in to_revoke.items()}

        self.previous_assignment = self._compute_previous_assignment(to_revoke, next_connectors, next_tasks, lost)
        self.previous_generation_id = current_generation_id
        self.previous_members = set(member_assignments)
        return ClusterAssignment(
            incremental_connectors,
            incremental_tasks,
            revoked_connectors,
            revoked_tasks,
            _diff_map(next_connectors, revoked_connectors),
            _diff_map(next_tasks, revoked_tasks),
        )

    def _compute_previous_assignment(
        self,
        to_revoke: dict[str, ConnectorsAndTasks],
        connectors: dict[str, list[str]],
        tasks: dict[str, list[TaskId]],
        lost: ConnectorsAndTasks,
    ) -> ConnectorsAndTasks:
        previous = ConnectorsAndTasks.of(
            [c for cs in connectors.values() for c in cs], [t for ts in tasks.values() for t in ts]
        )
        for revoked in to_revoke.values():
            for c in revoked.connectors:
                previous.connectors.pop(c, None)
            for t in revoked.tasks:
                previous.tasks.pop(t, None)
            self.previous_revocation.add_all(revoked)
        return previous.add_all(lost)

    @staticmethod
    def _duplicated(member_assignments: dict[str, ConnectorsAndTasks]) -> ConnectorsAndTasks:
        seen_c: dict[str, int] = {}
        seen_t: dict[TaskId, int] = {}
        for a in member_assignments.values():
            for c in a.connectors:
                seen_c[c] = seen_c.get(c, 0) + 1
            for t in a.tasks:
                seen_t[t] = seen_t.get(t, 0) + 1
        return ConnectorsAndTasks.of([c for c, n in seen_c.items() if n > 1], [t for t, n in seen_t.items() if n > 1])

    def handle_lost_assignments(
        self, lost: ConnectorsAndTasks, to_reassign: ConnectorsAndTasks, complete: list[WorkerLoad]
    ) -> None:
        if lost.is_empty() and not self.revoked_in_previous:
            self._reset_delay()
            return
        now = self.now_ms()
        active_members = {w.worker for w in complete}
        if self.scheduled_rebalance <= 0 and active_members >= self.previous_members:
            log.debug(
                "No worker seems to have departed the group during the rebalance; reassigning missing "
                "connectors and tasks as new ones"
            )
            to_reassign.add_all(lost)
            return
        if self.max_delay == 0:
            to_reassign.add_all(lost)
            return
        if self.scheduled_rebalance > 0 and now >= self.scheduled_rebalance:
            log.debug("Delayed rebalance expired. Reassigning lost tasks")
            candidates: list[WorkerLoad] = []
            if self.candidate_workers_for_reassignment:
                by_worker = {w.worker: w for w in complete}
                candidates = [by_worker[w] for w in self.candidate_workers_for_reassignment if w in by_worker]
            if candidates:
                for i, connector in enumerate(lost.connectors):
                    candidates[i % len(candidates)].connectors.append(connector)
                for i, task in enumerate(lost.tasks):
                    candidates[i % len(candidates)].tasks.append(task)
            else:
                to_reassign.add_all(lost)
            self._reset_delay()
            self.revoked_in_previous = False
        else:
            for w in hash_map_order(w.worker for w in complete if w.is_empty()):
                self.candidate_workers_for_reassignment.setdefault(w)
            if now < self.scheduled_rebalance:
                self.delay = self._calculate_delay(now)
                log.debug(
                    "Delayed rebalance in progress. Task reassignment is postponed. New computed rebalance delay: %s",
                    self.delay,
                )
            else:
                self.delay = self.max_delay
                log.debug("Resetting rebalance delay to the max: %s", self.delay)
            self.scheduled_rebalance = now + self.delay

    def _reset_delay(self) -> None:
        self.candidate_workers_for_reassignment.clear()
        self.scheduled_rebalance = 0
        self.delay = 0

    def _calculate_delay(self, now: int) -> int:
        diff = self.scheduled_rebalance - now
        return min(diff, self.max_delay) if diff > 0 else 0

    def _load_balancing_revocations(
        self, configured: ConnectorsAndTasks, workers: list[WorkerLoad]
    ) -> dict[str, ConnectorsAndTasks]:
        if all(w.is_empty() for w in workers) or configured.is_empty():
            return {}
        result: dict[str, ConnectorsAndTasks] = {}
        for worker, revoked in _balancing(len(configured.connectors), workers, lambda w: w.connectors).items():
            result.setdefault(worker, ConnectorsAndTasks()).connectors.update(dict.fromkeys(revoked))
        for worker, revoked in _balancing(len(configured.tasks), workers, lambda w: w.tasks).items():
            result.setdefault(worker, ConnectorsAndTasks()).tasks.update(dict.fromkeys(revoked))
        return result

    @staticmethod
    def assign_connectors(workers: list[WorkerLoad], connectors: list[str]) -> None:
        _round_robin(workers, connectors, lambda w: w.connectors)

    @staticmethod
    def assign_tasks(workers: list[WorkerLoad], tasks: list[TaskId]) -> None:
        _round_robin(workers, tasks, lambda w: w.tasks)

    @staticmethod
    def _fill(
        configs: dict[str, ExtendedWorkerState],
        error: int,
        leader_id: str,
        leader_url: str,
        offset: int,
        cluster: ClusterAssignment,
        delay: int,
        version: int,
    ) -> dict[str, ExtendedAssignment]:
        return {
            m: ExtendedAssignment(
                version,
                error,
                leader_id,
                leader_url,
                offset,
                cluster.newly_assigned_connectors.get(m, []),
                cluster.newly_assigned_tasks.get(m, []),
                cluster.newly_revoked_connectors.get(m, []),
                cluster.newly_revoked_tasks.get(m, []),
                delay,
            )
            for m in configs
        }

    @staticmethod
    def _serialize(assignments: dict[str, ExtendedAssignment], version: int) -> dict[str, bytes]:
        sessioned = version >= CONNECT_PROTOCOL_V2
        return {m: serialize_assignment(a, sessioned) for m, a in assignments.items()}  # type: ignore[misc]


def _balancing(total: int, workers: list[WorkerLoad], allocation: Callable[[WorkerLoad], list]) -> dict[str, list]:
    """Which of each worker's connectors (or tasks) to revoke so that none runs more than a balanced share."""
    n = len(workers)
    minimum, extra = total // n, total % n
    sizes = [len(allocation(w)) for w in workers]
    at_min = sum(1 for s in sizes if s == minimum)
    at_extra = sum(1 for s in sizes if s == minimum + 1)
    if at_extra == extra and at_min + at_extra == n:
        return {}
    result: dict[str, list] = {}
    allocated_extras = 0
    for w, size in zip(workers, sizes):
        if size <= minimum:
            continue
        if allocated_extras < extra:
            allocated_extras += 1
            if size == minimum + 1:
                continue
            cap = minimum + 1
        else:
            cap = minimum
        result[w.worker] = list(allocation(w)[: size - cap])
    return result


def _round_robin(workers: list[WorkerLoad], items: list, allocation: Callable[[WorkerLoad], list]) -> None:
    """Deal items to the least loaded workers first, as Kafka's assignConnectors/assignTasks do."""
    workers.sort(key=lambda w: (len(allocation(w)), w.worker))
    if not items:
        return
    first = workers[0]
    it = iter(items)
    pending = len(items)
    while pending:
        first_load = len(allocation(first))
        up_to = next((i for i, w in enumerate(workers) if len(allocation(w)) > first_load), len(workers))
        for w in workers[:up_to]:
            allocation(w).append(next(it))
            pending -= 1
            if not pending:
                break
