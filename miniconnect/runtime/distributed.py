"""DistributedHerder: workers in one Kafka group share connectors and tasks; configs, offsets, statuses in topics.

The tick loop of Kafka's DistributedHerder (connect/runtime/.../distributed/DistributedHerder.java): read the
config topic to its end, stay in the group (WorkerGroupMember runs the join/sync and calls on_revoked /
on_assigned), start the assigned connectors and tasks on the Worker, then run the queued external requests and
apply config-topic updates. Only the leader writes connector and task configs; other workers answer with a
RequestTargetError naming the leader's URL and the REST layer forwards the request there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from ..distributed.member import GroupError
from ..distributed.signing import (
    MACS,
    SIGNATURE_ALGORITHM_HEADER,
    SIGNATURE_HEADER,
    check_signature,
    key_bytes,
    new_session_key,
    signature_headers,
)
from ..distributed.state import ClusterConfigState, SessionKey
from ..errors import (
    AlreadyExists,
    BadRequest,
    ConnectError,
    NotFound,
    RebalanceNeeded,
    RequestTargetError,
    ServiceUnavailable,
)
from ..metrics.groups import RebalanceMetrics
from ..retry import Backoff
from ..storage.status import Status
from ..transport.base import Transport
from .herder import (
    ConnectorInfo,
    ConnectorStateInfo,
    Created,
    Herder,
    OffsetEntries,
    TaskInfo,
    check_offsets_modifiable,
    patched_config,
)
from .runner import worker_metrics_window
from .states import State, TargetState, TaskId

log = logging.getLogger(__name__)
# Kafka's reconfigureConnectorTasksWithExponentialBackoffRetries: 250 ms doubling up to a minute, no jitter
RECONFIGURE_BACKOFF = Backoff(initial=0.25, maximum=60.0, jitter=0)

FORWARD_TIMEOUT_S = 90.0


@dataclass
class _Request:
    at: float
    action: Callable[[], Awaitable[Any]]
    future: asyncio.Future[Any] = field(repr=False)


_PROTOCOL_NAMES = {0: "EAGER", 1: "COMPATIBLE", 2: "SESSIONED"}  # ConnectProtocolCompatibility by version


def _setting(config: Any, key: str, default: Any) -> Any:
    try:
        value = config[key]
    except KeyError:
        return default
    return default if value is None else value


class DistributedHerder(Herder):
    """All work happens in one tick loop task, so the herder's state needs no locks: REST calls queue a request
    and await its result; the group member and the config store only set flags and wake the loop."""

    def __init__(
        self,
        config: Any,
        worker: Any,
        plugins: Any,
        transport: Transport,
        offsets: Any,
        *,
        configs_factory: Callable[[DistributedHerder], Any],
        status: Any,
        member_factory: Callable[[DistributedHerder], Any],
        url: str,
    ):
        """The factories get this herder, the listener of the config store and of the group member."""
        super().__init__(config, worker, plugins, transport, offsets)
        self.configs = configs_factory(self)
        self.status = status
        self.url = url
        self.member = member_factory(self)
        self._state = ClusterConfigState()
        self._assignment: Any = None
        self._generation = -1
        self._current_stage: str | None = None
        self._running_connectors: set[str] = set()
        self._running_tasks: set[TaskId] = set()
        self._running_targets: dict[str, TargetState] = {}
        self._tasks_to_restart: set[TaskId] = set()
        self._rebalance_resolved = True
        self._needs_reconfig_rebalance = False
        self._connector_updates: set[str] = set()
        self._target_state_changes: set[str] = set()
        self._task_updates: set[TaskId] = set()
        self._restart_requests: dict[str, Any] = {}
        self._reconfigure_requests: set[str] = set()
        self._reconfigure_attempts: dict[str, int] = {}  # failed task config writes in a row, per connector
        self._requests: deque[_Request] = deque()
        self._wake = asyncio.Event()
        self._can_read_configs = True
        self._scheduled_rebalance = float("inf")
        self._session_key: SessionKey | None = None
        self._key_expiration = float("inf")
        self._ready = False
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self.stopped = asyncio.Event()  # the tick loop ended: stopped, or `fatal` says why it could not go on
        self.fatal: BaseException | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self.sync_timeout_s = int(_setting(config, "worker.sync.timeout.ms", 3000)) / 1000
        self.unsync_backoff_s = int(_setting(config, "worker.unsync.backoff.ms", 300000)) / 1000
        self.key_ttl_ms = int(_setting(config, "inter.worker.key.ttl.ms", 3600000))
        self.key_algorithm = str(_setting(config, "inter.worker.key.generation.algorithm", "HmacSHA256"))
        self.rebalance_metrics = RebalanceMetrics(
            lambda: _PROTOCOL_NAMES.get(self.member.protocol_version, "SESSIONED"),
            self._leader_url,
            lambda: self._generation,
            worker_metrics_window(worker),
        )
        key_size = _setting(config, "inter.worker.key.size", None)
        self.key_size_bits = int(key_size) if key_size else None
        self.signature_algorithm = str(_setting(config, "inter.worker.signature.algorithm", "HmacSHA256"))
        verification = _setting(config, "inter.worker.verification.algorithms", ["HmacSHA256"])
        self.verification_algorithms = (
            [v.strip() for v in verification.split(",")] if isinstance(verification, str) else list(verification)
        )

    # -- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """startServices, then the tick loop in the background; `ready` once the first tick completed."""
        await self.status.start()
        await self.configs.start()
        self._state = self.configs.snapshot()
        await self.member.start()
        await self.kafka_cluster_id()
        self._loop_task = asyncio.get_running_loop().create_task(self._run(), name="herder-tick")

    async def _run(self) -> None:
        log.info("Herder starting")
        try:
            while not self._stopping:
                try:
                    await self._tick()
                except GroupError:
                    raise  # the coordinator refused this worker for good (e.g. the group.id is a consumer group's)
                except (ConnectError, OSError, TimeoutError) as e:
                    # Kafka or a store failed under us: go round again (rejoining if needed) after a pause.
                    log.error("Herder tick failed; retrying: %s", e, exc_info=e)
                    await asyncio.sleep(1.0)
                    continue
                if not self._ready and not self._stopping:
                    self._ready = True
                    log.info("Herder started")
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.critical("Uncaught exception in herder work thread, exiting: %s", e, exc_info=e)
            self.fatal = e
        finally:
            self.stopped.set()

    async def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self._ready = False
        self._wake.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        for t in list(self._background):
            t.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.worker.stop()  # flushes source offsets, commits sink positions
        self._fail_requests(ConnectError("Worker is shutting down"))
        for part in (self.member, self.status, self.configs):
            try:
                await part.stop()
            except Exception as e:
                log.error("Error while stopping %s: %s", type(part).__name__, e)

    @property
    def ready(self) -> bool:
        return self._ready

    async def health_check(self) -> None:
        await self._submit(self._noop)

    @staticmethod
    async def _noop() -> None:
        return None

    # -- the tick loop --------------------------------------------------------------------------------
    async def _tick(self) -> None:
        self.member.poll_heartbeat()
        if not self._can_read_configs:
            if await self._read_config_to_end(self.sync_timeout_s):
                self._can_read_configs = True
            else:
                return
        await self.member.ensure_active()  # may call on_revoked / on_assigned
        if not await self._handle_rebalance_completed():
            return
        now = _now_ms()
        if self._check_key_rotation(now):
            self._key_expiration = float("inf")
            key = new_session_key(self.key_algorithm, self.key_size_bits, now)
            try:
                await self.configs.put_session_key(key)
            except Exception as e:
                log.info(
                    "Failed to write new session key to config topic; forcing a read to the end of the config "
                    "topic before possibly retrying: %s",
                    e,
                )
                self._can_read_configs = False
                return
        scheduled: float | None = None
        while self._requests:
            head = self._requests[0]
            if head.at > time.monotonic():
                scheduled = head.at
                break
            self._requests.popleft()
            await self._run_request(head)
        await self._process_restart_requests()
        wait_s: float | None = None if scheduled is None else max(scheduled - time.monotonic(), 0.0)
        if self._scheduled_rebalance < float("inf"):
            self._rebalance_resolved = False
            wait_s = _min_wait(wait_s, (self._scheduled_rebalance - _now_ms()) / 1000)
        if self._is_leader() and self._request_signing_enabled() and self._key_expiration < float("inf"):
            wait_s = _min_wait(wait_s, (self._key_expiration - _now_ms()) / 1000)
        if await self._apply_config_updates():
            return
        for name in sorted(self._reconfigure_requests):
            self._reconfigure_requests.discard(name)
            await self._reconfigure(name)
        # member.poll(): the member heartbeats on its own; wake for requests, config updates or a needed rejoin.
        await self._wait(wait_s)

    async def _wait(self, timeout_s: float | None) -> None:
        poll = 0.2  # how often to notice that the member needs to rejoin (its heartbeat found a rebalance)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._wake.is_set() and not self.member.rejoin_needed() and not self._stopping:
            self.member.poll_heartbeat()
            left = poll if deadline is None else min(poll, deadline - time.monotonic())
            if left <= 0:
                break
            try:
                await asyncio.wait_for(self._wake.wait(), left)
            except TimeoutError:
                pass
        self._wake.clear()

    @contextmanager
    def _stage(self, description: str) -> Iterator[None]:
        """What the tick loop is doing (Kafka's TickThreadStage), named if the poll timeout expires meanwhile."""
        self._current_stage = description
        try:
            yield
        finally:
            self._current_stage = None

    def on_poll_timeout_expiry(self) -> None:
        log.warning(
            "worker poll timeout has expired. The last known action being performed by the worker is : %s and may "
            "contribute to the timeout. Please review the last action (if known) for any corrective actions. One of "
            "the ways of addressing this can be increasing the rebalance.timeout.ms configuration value. Please note "
            "that rebalance.timeout.ms also controls the maximum allowed time for each worker to join the group once "
            "a rebalance has begun so the set value should not be very high",
            self._current_stage or "not known",
        )

    def wakeup(self) -> None:
        """member.wakeup(): something for the tick loop to do (a request, a config update, a rebalance)."""
        self._wake.set()

    async def _handle_rebalance_completed(self) -> bool:
        if self._rebalance_resolved:
            return True
        a = self._assignment
        needs_read = needs_rejoin = False
        if a.failed():
            needs_rejoin = True
            if self._is_leader():
                log.warning(
                    "Join group completed, but assignment failed and we are the leader. Reading to end of "
                    "config and retrying."
                )
                needs_read = True
            elif self._state.offset < a.offset:
                log.warning(
                    "Join group completed, but assignment failed and we are lagging. Reading to end of "
                    "config and retrying."
                )
                needs_read = True
            else:
                log.warning("Join group completed, but assignment failed. We were up to date, so just retrying.")
        elif self._state.offset < a.offset:
            log.warning("Catching up to assignment's config offset.")
            needs_read = True
        if self._scheduled_rebalance <= _now_ms():
            log.debug("Requesting rebalance because scheduled rebalance timeout has been reached")
            needs_rejoin = True
            self._scheduled_rebalance = float("inf")
        if needs_read:
            if await self._read_config_to_end(self.sync_timeout_s):
                self._can_read_configs = True
            else:
                self._can_read_configs = False
                needs_rejoin = True
        if needs_rejoin:
            self.member.request_rejoin()
            return False
        if self._state.offset != a.offset:
            log.info(
                "Current config state offset %d does not match group assignment %d. Forcing rebalance.",
                self._state.offset,
                a.offset,
            )
            self.member.request_rejoin()
            return False
        await self._start_work()
        self.rebalance_metrics.succeeded()
        self._rebalance_resolved = True
        if a.revoked_connectors or a.revoked_tasks:
            a.revoked_connectors.clear()
            a.revoked_tasks.clear()
            self.member.request_rejoin()
            return False
        return True

    async def _read_config_to_end(self, timeout_s: float) -> bool:
        log.info("Reading to end of config log; current config state offset: %d", self._state.offset)
        if await self._refresh_config_snapshot(timeout_s):
            return True
        # Kafka's backoff(): a tenth of scheduled.rebalance.max.delay.ms in cooperative mode, so that we rejoin
        # before the leader gives our work away; worker.unsync.backoff.ms in eager mode.
        if self.member.protocol_version == 0:
            await asyncio.sleep(self.unsync_backoff_s)
        else:
            await asyncio.sleep(int(_setting(self.config, "scheduled.rebalance.max.delay.ms", 300000)) / 10000)
        return False

    async def _refresh_config_snapshot(self, timeout_s: float) -> bool:
        try:
            await self.configs.refresh(timeout_s)
        except TimeoutError:
            log.warning("Didn't reach end of config log quickly enough")
            self._can_read_configs = False
            return False
        self._state = self.configs.snapshot()
        log.info(
            "Finished reading to end of log and updated config snapshot, new config log offset: %d", self._state.offset
        )
        return True

    async def _start_work(self) -> None:
        a = self._assignment
        log.info("Starting connectors and tasks using config offset %d", a.offset)
        self._running_tasks -= self._tasks_to_restart
        self._tasks_to_restart.clear()
        for name in a.connectors:
            if name not in self._running_connectors:
                await self._start_connector(name)
        for task in a.tasks:
            if task not in self._running_tasks:
                await self._start_task(task)
        if self.member.protocol_version == 0:
            self._running_connectors, self._running_tasks = set(), set()
        else:
            self._running_connectors, self._running_tasks = set(a.connectors), set(a.tasks)
        log.info("Finished starting connectors and tasks")

    async def _apply_config_updates(self) -> bool:
        """updateConfigsWith{Eager,IncrementalCooperative} + process*: True when the tick must end (rejoin)."""
        if not (
            self._needs_reconfig_rebalance
            or self._connector_updates
            or self._target_state_changes
            or self._task_updates
        ):
            return False
        self._state = self.configs.snapshot()
        rejoin = False
        if self._needs_reconfig_rebalance:
            log.debug("Requesting rebalance due to reconfiguration of tasks")
            self.member.request_rejoin()
            self._needs_reconfig_rebalance = False
            rejoin = True
            if self.member.protocol_version == 0:
                self._connector_updates.clear()
                self._target_state_changes.clear()
                self._task_updates.clear()
                return True
        connectors, self._connector_updates = self._connector_updates, set()
        targets, self._target_state_changes = self._target_state_changes, set()
        tasks, self._task_updates = self._task_updates, set()
        owned = set(self._assignment.connectors) if self._assignment is not None else set()
        for name in sorted(connectors & owned):
            remains = self._state.contains(name)
            log.info(
                "Handling connector-only config update by %s connector %s",
                "restarting" if remains else "stopping",
                name,
            )
            await self.worker.stop_connector(name)
            self._running_targets.pop(name, None)
            if remains:
                await self._start_connector(name)
        for name in sorted(targets):
            if self._state.contains(name):
                await self._apply_target_state(name)
        if tasks and self.member.protocol_version > 0:
            reconfigured = {t.connector for t in tasks}
            local = [
                t
                for t in (self._assignment.tasks if self._assignment is not None else [])
                if t.connector in reconfigured
            ]
            if local:
                log.info(
                    "Handling task config update by stopping tasks %s, which will be restarted after "
                    "rebalance if still assigned to this worker",
                    [str(t) for t in local],
                )
                await self.worker.stop_tasks(local)
                self._tasks_to_restart.update(local)
        return rejoin

    async def _apply_target_state(self, name: str) -> None:
        target = self._state.target_state(name)
        assert target is not None
        owned = self._assignment is not None and name in self._assignment.connectors
        previous = self._running_targets.get(name)
        if owned and (target == TargetState.STOPPED or previous == TargetState.STOPPED):
            await self.worker.stop_connector(name)
            await self._start_connector(name)  # a stopped connector is instantiated but not started
        elif target == TargetState.STOPPED:
            return  # its tasks here go with the empty task configs written before the target state
        else:
            await self.worker.set_target_state(name, target)
            if owned:
                self._running_targets[name] = target
        if owned and target == TargetState.STARTED:
            self._reconfigure_requests.add(name)

    # -- starting work --------------------------------------------------------------------------------
    async def _start_connector(self, name: str) -> None:
        config = self._state.connector_configs.get(name)
        target = self._state.target_state(name)
        if config is None or target is None:
            return
        log.info("Starting connector %s", name)
        try:
            with self._stage(f"starting connector {name}"):
                await self.worker.start_connector(name, dict(config), target)
        except ConnectError as e:  # the FAILED state with its trace was reported
            log.error("Couldn't instantiate connector %s: %s", name, e)
            return
        self._running_targets[name] = target
        if target == TargetState.STARTED:
            await self._reconfigure(name)

    async def _start_task(self, task: TaskId) -> None:
        config = self._state.connector_configs.get(task.connector)
        task_config = self._state.task_configs.get(task)
        if config is None or task_config is None:
            log.warning("Skipping task %s: its config is not in the config topic snapshot", task)
            return
        log.info("Starting task %s", task)
        await self.worker.start_task(
            task, dict(config), dict(task_config), self._state.target_state(task.connector) or TargetState.STARTED
        )

    async def _reconfigure(self, name: str) -> None:
        """reconfigureConnector: the running connector's task configs, written by the leader or sent to it."""
        if self._state.target_state(name) != TargetState.STARTED or not self.worker.is_running(name):
            return
        with self._stage(f"generating task configs for connector {name}"):
            new = await self.generate_task_configs(name)
        if new is None:
            return
        if not self._task_configs_changed(name, new):
            self._reconfigure_attempts.pop(name, None)
            return
        if self._is_leader():
            try:
                await self._write_task_configs(name, new)
            except Exception as e:
                log.error("Failed to write task configs of connector %s: %s", name, e)
                self._retry_reconfigure(name)
            return
        self._spawn(self._forward_task_configs(name, new), f"forward-tasks-{name}")

    def _retry_reconfigure(self, name: str) -> None:
        """reconfigureConnectorTasksWithExponentialBackoffRetries: 250 ms doubling up to a minute."""
        attempt = self._reconfigure_attempts.get(name, 0)
        self._reconfigure_attempts[name] = attempt + 1
        delay = RECONFIGURE_BACKOFF.delay(attempt)

        async def later() -> None:
            await asyncio.sleep(delay)
            self.on_reconfigure_request(name)

        self._spawn(later(), f"reconfigure-retry-{name}")

    def _task_configs_changed(self, name: str, new: list[dict[str, str]]) -> bool:
        current = [self._state.task_configs.get(t) for t in self._state.tasks(name)]
        return current != new or self._state.task_count(name) != len(new)

    async def _write_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        if configs and self._state.target_state(name) == TargetState.STOPPED:
            raise BadRequest(f"Cannot submit non-empty set of task configs for stopped connector {name}")
        await self.configs.put_task_configs(name, configs)

    async def _forward_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        """A follower's connector produced new task configs: POST them to the leader (signed when sessioned).
        Not on the tick loop: waiting for the leader here could keep this worker from the next rebalance."""
        leader = self._leader_url()
        if not leader:
            log.error(
                "Request to leader to reconfigure connector tasks failed because the URL of the leader's "
                "REST interface is empty!"
            )
            self._retry_reconfigure(name)
            return
        url = f"{leader.rstrip('/')}/connectors/{_quote(name)}/tasks"
        try:
            await self.internal_request("POST", url, configs)
        except Exception as e:
            log.error("Request to leader to reconfigure connector tasks failed: %s", e)
            self._retry_reconfigure(name)

    async def internal_request(self, method: str, url: str, body: Any) -> httpx.Response:
        """RestClient.httpRequest for worker-to-worker calls, signed with the session key in `sessioned` mode."""
        data = orjson.dumps(body) if body is not None else None
        headers = {"Accept": "application/json", "User-Agent": "kafka-connect"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        key = self._session_key
        if key is not None and self._request_signing_enabled():
            headers.update(signature_headers(key.key, self.signature_algorithm, data))
        async with httpx.AsyncClient(timeout=FORWARD_TIMEOUT_S) as client:
            response = await client.request(method, url, content=data, headers=headers)
        if response.status_code >= 400:
            try:
                message = response.json().get("message")
            except ValueError:
                message = response.text
            raise ConnectError(f"{response.status_code}: {message}")
        return response

    # -- the group's callbacks (RebalanceListener), called from member.ensure_active() in the tick --------
    async def on_revoked(self, leader: str, connectors: list[str], tasks: list[TaskId]) -> None:
        if not (self._rebalance_resolved or self.member.protocol_version >= 1):
            log.info("Wasn't able to resume work after last rebalance, can skip stopping connectors and tasks")
            return
        log.info("Rebalance started; stopping %d connectors and %d tasks", len(connectors), len(tasks))
        with self._stage(f"stopping {len(connectors)} connectors and {len(tasks)} tasks for a rebalance"):
            await self.worker.stop_tasks(list(tasks))
            for name in connectors:
                await self.worker.stop_connector(name)
                self._running_targets.pop(name, None)
        self._running_connectors.difference_update(connectors)
        self._running_tasks.difference_update(tasks)
        flush = getattr(self.status, "flush", None)
        if flush is not None:
            result = flush()
            if asyncio.iscoroutine(result):
                await result
        log.info("Finished stopping tasks in preparation for rebalance")

    async def on_assigned(self, assignment: Any, generation: int) -> None:
        log.info(
            "Joined group at generation %d with protocol version %d and got assignment: %s with rebalance delay: %s",
            generation,
            self.member.protocol_version,
            assignment,
            assignment.delay,
        )
        self._assignment = assignment
        self._generation = generation
        if hasattr(self.status, "generation"):
            self.status.generation = generation  # stamped on the statuses this worker writes, as Kafka does
        self._scheduled_rebalance = _now_ms() + assignment.delay if assignment.delay > 0 else float("inf")
        self._rebalance_resolved = False
        self.rebalance_metrics.started()
        if self._is_leader():
            self._forget_deleted_statuses()
        self.wakeup()

    def _forget_deleted_statuses(self) -> None:
        """updateDeletedConnectorStatus / updateDeletedTaskStatus: tombstones for what the config topic lost."""
        state = self.configs.snapshot()
        for name in list(getattr(self.status, "connectors", lambda: [])()):
            if not state.contains(name):
                self.status.remove_connector(name)
        for name in state.connectors():
            count = state.task_count(name)
            for n, _ in self.status.tasks(name):
                if n >= count:
                    self.status.remove_task(TaskId(name, n))

    # -- the config store's callbacks (ConfigUpdateListener), from its read loop --------------------------
    def on_connector_config_update(self, name: str) -> None:
        log.info("Connector %s config updated", name)
        if not self._state.contains(name):
            self._needs_reconfig_rebalance = True
        else:
            self._connector_updates.add(name)
        self.wakeup()

    def on_connector_config_remove(self, name: str) -> None:
        log.info("Connector %s config removed", name)
        if self._state.contains(name):
            self._needs_reconfig_rebalance = True
        else:
            self._connector_updates.add(name)
        self.wakeup()

    def on_task_config_update(self, tasks: list[TaskId]) -> None:
        log.info("Tasks %s configs updated", [str(t) for t in tasks])
        self._needs_reconfig_rebalance = True
        self._task_updates.update(tasks)
        self.wakeup()

    def on_connector_target_state_change(self, name: str) -> None:
        log.info("Connector %s target state change", name)
        self._target_state_changes.add(name)
        self.wakeup()

    def on_session_key_update(self, key: SessionKey) -> None:
        log.info("Session key updated")
        self._session_key = key
        if self.key_ttl_ms > 0:
            self._key_expiration = key.creation_timestamp + self.key_ttl_ms

    def on_restart_request(self, request: Any) -> None:
        log.info("Received and enqueuing %s", request)
        self._restart_requests[_restart_connector(request)] = request
        self.wakeup()

    # -- session keys (KIP-507) -------------------------------------------------------------------------
    def _request_signing_enabled(self) -> bool:
        return self.member.protocol_version >= 2

    def _check_key_rotation(self, now: int) -> bool:
        if self._session_key is None and self._state.session_key is not None:
            self._session_key = self._state.session_key
            self._key_expiration = self._state.session_key.creation_timestamp + self.key_ttl_ms
        if not (self._request_signing_enabled() and self._is_leader()):
            return False
        key = self._session_key
        if key is None:
            log.debug(
                "Internal request signing is enabled but no session key has been distributed yet. "
                "Distributing new key now."
            )
            return True
        if self._key_expiration <= now:
            log.debug("Existing key has expired. Distributing new key now.")
            return True
        if key.algorithm != self.key_algorithm or len(key.key) != key_bytes(self.key_algorithm, self.key_size_bits):
            log.debug(
                "Previously-distributed key uses different algorithm/key size than required by current "
                "worker configuration. Distributing new key now."
            )
            return True
        return False

    def verify_signature(self, body: bytes, headers: Mapping[str, str]) -> None:
        """requestNotSignedProperly: raises the error Kafka answers an internal request with."""
        if not self._request_signing_enabled():
            return
        algorithm = headers.get(SIGNATURE_ALGORITHM_HEADER)
        signature = headers.get(SIGNATURE_HEADER)
        if algorithm is None or signature is None:
            raise BadRequest("Internal request missing required signature")
        if algorithm not in MACS:  # fromHeaders: Mac.getInstance fails first
            raise BadRequest(f"Algorithm {algorithm} not available")
        if algorithm not in self.verification_algorithms:
            raise BadRequest(
                f"This worker does not support the '{algorithm}' key signing algorithm used by other "
                f"workers. This worker is currently configured to use: "
                f"[{', '.join(self.verification_algorithms)}]. Check that all workers' configuration "
                f"files permit the same set of signature algorithms, and correct any misconfigured "
                f"worker and restart it."
            )
        key = self._session_key
        if key is None:
            raise ServiceUnavailable(
                "This worker is still starting up and has not been able to read a session key from the config topic yet"
            )
        check_signature(key.key, algorithm, signature, body)

    # -- requests -------------------------------------------------------------------------------------
    async def _submit(self, action: Callable[[], Awaitable[Any]], delay_s: float = 0.0) -> Any:
        """addRequest: runs `action` on the tick loop and returns its result (or raises its error)."""
        if self._stopping:
            raise ConnectError("Worker is shutting down")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        request = _Request(time.monotonic() + delay_s, action, future)
        self._requests.append(request)
        self.wakeup()
        return await future

    async def _run_request(self, request: _Request) -> None:
        if request.future.done():  # the caller went away
            return
        try:
            result = await request.action()
        except Exception as e:
            if not request.future.done():
                request.future.set_exception(e)
            return
        if not request.future.done():
            request.future.set_result(result)

    def _fail_requests(self, error: Exception) -> None:
        while self._requests:
            r = self._requests.popleft()
            if not r.future.done():
                r.future.set_exception(error)

    def _check_rebalance_needed(self) -> None:
        if self._needs_reconfig_rebalance:
            raise RebalanceNeeded()

    def _is_leader(self) -> bool:
        a = self._assignment
        return a is not None and a.leader == self.member.member_id

    def _leader_url(self) -> str | None:
        return self._assignment.leader_url if self._assignment is not None else None

    def _not_leader(self, message: str) -> RequestTargetError:
        return RequestTargetError(message, self._leader_url())

    # -- reads (from this worker's snapshot of the config topic) ---------------------------------------
    def raw_config(self, name: str) -> dict[str, str] | None:
        return self._state.connector_configs.get(name)

    def connectors(self) -> list[str]:
        self._check_rebalance_needed()
        return self._state.connectors()

    def connector_info(self, name: str) -> ConnectorInfo:
        self._check_rebalance_needed()
        config = self._state.connector_configs.get(name)
        if config is None:
            raise NotFound(f"Connector {name} not found")
        return ConnectorInfo(name, dict(config), self._state.tasks(name), self.connector_type(config))

    def connector_config(self, name: str) -> dict[str, str]:
        return dict(self.connector_info(name).config)

    def task_configs(self, name: str) -> list[TaskInfo]:
        self._check_rebalance_needed()
        if not self._state.contains(name):
            raise NotFound(f"Connector {name} not found")
        return [TaskInfo(t, dict(self._state.task_configs.get(t, {}))) for t in self._state.tasks(name)]

    def tasks_config(self, name: str) -> dict[TaskId, dict[str, str]]:
        self._check_rebalance_needed()
        if not self._state.contains(name):
            raise NotFound(f"Connector {name} not found")
        return {t: dict(self._state.task_configs.get(t, {})) for t in self._state.tasks(name)}

    # -- connector configs (leader only) --------------------------------------------------------------
    async def put_connector_config(
        self, name: str, config: dict[str, str], allow_replace: bool, initial_state: TargetState | None = None
    ) -> Created:
        config = dict(config)
        config.setdefault("name", name)
        self._validate_or_raise(config)  # off the tick loop, as Kafka validates on its own executor

        async def write() -> Created:
            if not self._is_leader():
                raise self._not_leader("Only the leader can set connector configs.")
            exists = self._state.contains(name)
            if not allow_replace and exists:
                raise AlreadyExists(f"Connector {name} already exists")
            await self.configs.put_connector_config(name, config, initial_state)
            return Created(
                not exists, ConnectorInfo(name, config, self._state.tasks(name), self.connector_type(config))
            )

        return await self._submit(write)

    async def patch_connector_config(self, name: str, patch: Mapping[str, str | None]) -> ConnectorInfo:
        async def current() -> dict[str, str]:
            if not self._is_leader():
                raise self._not_leader("Only the leader can set connector configs.")
            config = self._state.connector_configs.get(name)
            if config is None:
                raise NotFound(f"Connector {name} not found")
            return dict(config)

        merged = patched_config(await self._submit(current), patch)
        return (await self.put_connector_config(name, merged, allow_replace=True)).info

    async def delete_connector(self, name: str) -> None:
        async def delete() -> None:
            if not self._is_leader():
                raise self._not_leader("Only the leader can delete connector configs.")
            if not self._state.contains(name):
                raise NotFound(f"Connector {name} not found")
            await self.configs.remove_connector_config(name)

        await self._submit(delete)

    async def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        """Internal endpoint: a follower sends its connector's new task configs (signature checked by REST)."""

        async def write() -> None:
            if not self._is_leader():
                raise self._not_leader("Only the leader may write task configurations.")
            if not self._state.contains(name):
                raise NotFound(f"Connector {name} not found")
            await self._write_task_configs(name, configs)

        await self._submit(write)

    async def fence_zombies(self, name: str) -> None:
        raise ConnectError(
            "Exactly-once source support is not enabled on this worker "
            "(exactly.once.source.support is not available in miniconnect)"
        )

    # -- target states ----------------------------------------------------------------------------------
    async def pause_connector(self, name: str) -> None:
        await self._put_target_state(name, TargetState.PAUSED)

    async def resume_connector(self, name: str) -> None:
        await self._put_target_state(name, TargetState.STARTED)

    async def _put_target_state(self, name: str, target: TargetState) -> None:
        """AbstractHerder.pauseConnector/resumeConnector: any worker writes the target state."""
        if not self._state.contains(name):
            raise NotFound(f"Unknown connector {name}")
        await self.configs.put_target_state(name, target)

    async def stop_connector(self, name: str) -> None:
        async def stop() -> None:
            if not self._state.contains(name):
                raise NotFound(f"Unknown connector {name}")
            if not self._is_leader():
                raise self._not_leader("Only the leader can transition connectors to the STOPPED state.")
            # Task configs first: a RUNNING connector without tasks is healthier than a STOPPED one with tasks.
            await self._write_task_configs(name, [])
            await self.configs.put_target_state(name, TargetState.STOPPED)
            if not await self._refresh_config_snapshot(self.sync_timeout_s):
                log.warning(
                    "Failed to read to end of config topic after writing the STOPPED target state for connector %s",
                    name,
                )

        await self._submit(stop)

    # -- restarts -----------------------------------------------------------------------------------------
    async def restart_connector(self, name: str) -> None:
        async def restart() -> None:
            self._check_rebalance_needed()
            if not self._state.contains(name):
                raise NotFound(f"Unknown connector: {name}")
            if self._assignment is not None and name in self._assignment.connectors:
                await self.worker.stop_connector(name)
                await self._start_connector(name)
            elif self._is_leader():
                raise RequestTargetError(
                    "Cannot restart connector since it is not assigned to this member", self.member.owner_url(name)
                )
            else:
                raise self._not_leader("Only the leader can process restart requests.")

        await self._submit(restart)

    async def restart_connector_and_tasks(
        self, name: str, include_tasks: bool, only_failed: bool
    ) -> ConnectorStateInfo:
        async def restart() -> ConnectorStateInfo:
            self._check_rebalance_needed()
            if not self._is_leader():
                raise self._not_leader("Only the leader can process restart requests.")
            if not self._state.contains(name):
                raise NotFound(f"Unknown connector: {name}")
            plan = self.restart_plan(name, include_tasks, only_failed)
            await self.configs.put_restart_request(name, only_failed, include_tasks)
            return plan.answer

        return await self._submit(restart)

    async def _process_restart_requests(self) -> None:
        """Each worker restarts the instances of a restart request that it runs (processRestartRequests)."""
        requests, self._restart_requests = self._restart_requests, {}
        for name, request in requests.items():
            try:
                plan = self.restart_plan(
                    name, bool(getattr(request, "include_tasks", False)), bool(getattr(request, "only_failed", False))
                )
            except NotFound:
                continue
            owned_tasks = [t for t in plan.tasks if self._assignment is not None and t in self._assignment.tasks]
            restart_connector = (
                plan.restart_connector and self._assignment is not None and name in self._assignment.connectors
            )
            if restart_connector:
                await self.worker.stop_connector(name)
                self.status.put_connector(name, Status(State.RESTARTING, self.worker_id))
            if owned_tasks:
                await self.worker.stop_tasks(owned_tasks)
                for t in owned_tasks:
                    self.status.put_task(t, Status(State.RESTARTING, self.worker_id))
            if restart_connector:
                await self._start_connector(name)
            for t in owned_tasks:
                await self._start_task(t)

    async def restart_task(self, task: TaskId) -> None:
        async def restart() -> None:
            self._check_rebalance_needed()
            if not self._state.contains(task.connector):
                raise NotFound(f"Unknown connector: {task.connector}")
            if task not in self._state.task_configs:
                raise NotFound(f"Unknown task: {task}")
            if self._assignment is not None and task in self._assignment.tasks:
                await self.worker.stop_tasks([task])
                await self._start_task(task)
            elif self._is_leader():
                raise RequestTargetError(
                    "Cannot restart task since it is not assigned to this member", self.member.owner_url(task)
                )
            else:
                raise self._not_leader("Cannot restart task since it is not assigned to this member")

        await self._submit(restart)

    def on_connector_state(self, connector: str, state: State, trace: str | None = None) -> None:
        """A failure is written only if no worker of a newer generation owns the connector (AbstractHerder's
        onFailure uses putSafe); other states as the base herder writes them."""
        if state == State.FAILED and self.raw_config(connector) is not None:
            self.status.put_connector_safe(
                connector, self.reported(state, trace, self.worker.connector_version(connector))
            )
        else:
            super().on_connector_state(connector, state, trace)

    def on_task_state(self, task: TaskId, state: State, trace: str | None = None) -> None:
        if state == State.FAILED and self.raw_config(task.connector) is not None:
            self.status.put_task_safe(task, self.reported(state, trace, self.worker.task_version(task)))
        else:
            super().on_task_state(task, state, trace)

    def on_reconfigure_request(self, connector: str) -> None:
        """The connector asked for new task configs (requestTaskReconfiguration)."""
        if not self._stopping:
            self._reconfigure_requests.add(connector)
            self.wakeup()

    # -- offsets ----------------------------------------------------------------------------------------
    async def connector_offsets(self, name: str) -> list[dict[str, Any]]:
        async def read() -> list[dict[str, Any]]:
            return await Herder.connector_offsets(self, name)

        return await self._submit(read)

    async def _modify(self, name: str, entries: OffsetEntries | None) -> str:
        async def modify() -> str:
            self._check_rebalance_needed()
            if not self._is_leader():
                raise self._not_leader("Only the leader can process external offsets modification requests")
            if not await self._refresh_config_snapshot(self.sync_timeout_s):
                raise ConnectError("Failed to read to end of config topic before modifying connector offsets")
            config = self._state.connector_configs.get(name)
            if config is None:
                raise NotFound(f"Connector {name} not found")
            check_offsets_modifiable(name, self._state.target_state(name), self._state.task_count(name))
            return await self._modify_offsets(name, dict(config), entries)

        return await self._submit(modify)

    async def alter_connector_offsets(self, name: str, entries: OffsetEntries) -> str:
        return await self._modify(name, entries)

    async def reset_connector_offsets(self, name: str) -> str:
        return await self._modify(name, None)

    # -- helpers ----------------------------------------------------------------------------------------
    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        t = asyncio.ensure_future(coro)
        t.set_name(name)
        self._background.add(t)
        t.add_done_callback(self._background.discard)


def _restart_connector(request: Any) -> str:
    for attr in ("connector", "connector_name", "name"):
        value = getattr(request, attr, None)
        if isinstance(value, str):
            return value
    return str(request)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _min_wait(current: float | None, candidate: float) -> float:
    candidate = max(candidate, 0.0)
    return candidate if current is None else min(current, candidate)
