"""StandaloneHerder: one worker decides and runs everything; connector configs are kept in a local file."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from ..errors import AlreadyExists, ConnectError, NotFound
from ..storage.base import OffsetBackingStore
from ..storage.configs import FileConfigStore
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
from .states import State, TargetState, TaskId

log = logging.getLogger(__name__)


class StandaloneHerder(Herder):
    """Every change runs under one lock, so operations on a connector never interleave; a failure of one
    connector is turned into its FAILED state and never stops another."""

    def __init__(self, config: Any, worker: Any, plugins: Any, transport: Transport, offsets: OffsetBackingStore):
        super().__init__(config, worker, plugins, transport, offsets)
        self.configs = FileConfigStore(config["config.storage.file.filename"])
        self._lock = asyncio.Lock()
        self._ready = False
        self._stopped = False
        self._background: set[asyncio.Task[None]] = set()

    # -- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Loads the stored connectors and starts them (each in its target state) with their tasks."""
        await self.configs.start()
        await self.kafka_cluster_id()
        async with self._lock:
            for name in self.configs.connectors():
                try:
                    await self._start_stored(name)
                except Exception as e:
                    log.error("Failed to start connector %s", name, exc_info=e)
        self._ready = True
        log.info("Standalone herder started with %d connectors", len(self.configs.connectors()))

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._ready = False
        for t in list(self._background):
            t.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        async with self._lock:
            await self.worker.stop()
        await self.configs.stop()

    @property
    def ready(self) -> bool:
        return self._ready

    async def health_check(self) -> None:
        async with self._lock:  # a no-op through the request path: blocked while an operation hangs
            pass

    # -- reads --------------------------------------------------------------------------------------
    def raw_config(self, name: str) -> dict[str, str] | None:
        return self.configs.config(name)

    def connectors(self) -> list[str]:
        return self.configs.connectors()

    def _task_ids(self, name: str) -> list[TaskId]:
        return [TaskId(name, i) for i in range(len(self.configs.task_configs(name)))]

    def connector_info(self, name: str) -> ConnectorInfo:
        config = self._require_config(name)
        return ConnectorInfo(name, dict(config), self._task_ids(name), self.connector_type(config))

    def connector_config(self, name: str) -> dict[str, str]:
        return dict(self._require_config(name))

    def task_configs(self, name: str) -> list[TaskInfo]:
        self._require_config(name)
        return [TaskInfo(TaskId(name, i), dict(c)) for i, c in enumerate(self.configs.task_configs(name))]

    # -- configs ------------------------------------------------------------------------------------
    async def put_connector_config(
        self, name: str, config: dict[str, str], allow_replace: bool, initial_state: TargetState | None = None
    ) -> Created:
        """Validates first, then checks existence (409 unless allow_replace), stores and (re)starts."""
        config = dict(config)
        config.setdefault("name", name)
        self._validate_or_raise(config)
        async with self._lock:
            created = not self.configs.contains(name)
            if not created:
                if not allow_replace:
                    raise AlreadyExists(f"Connector {name} already exists")
                await self.worker.stop_connector(name)
            await self.configs.put_connector_config(name, config, initial_state if created else None)
            await self._start_connector(name)
            await self._update_connector_tasks(name)
            return Created(created, self.connector_info(name))

    async def patch_connector_config(self, name: str, patch: Mapping[str, str | None]) -> ConnectorInfo:
        merged = patched_config(self._require_config(name), patch)
        return (await self.put_connector_config(name, merged, allow_replace=True)).info

    async def delete_connector(self, name: str) -> None:
        async with self._lock:
            self._require_config(name)
            await self._remove_tasks(name)
            await self.worker.stop_connector(name)
            await self.configs.remove_connector(name)
            self.status.remove_connector(name)

    # -- target states ------------------------------------------------------------------------------
    async def pause_connector(self, name: str) -> None:
        async with self._lock:
            if not self.configs.contains(name):
                raise NotFound(f"Unknown connector {name}")
            await self._transition(name, TargetState.PAUSED)

    async def resume_connector(self, name: str) -> None:
        async with self._lock:
            if not self.configs.contains(name):
                raise NotFound(f"Unknown connector {name}")
            await self._transition(name, TargetState.STARTED)

    async def stop_connector(self, name: str) -> None:
        async with self._lock:
            if not self.configs.contains(name):
                raise ConnectError(f"No connector `{name}` configured")  # standalone's 500, as Kafka answers
            await self._transition(name, TargetState.STOPPED)

    async def _transition(self, name: str, target: TargetState) -> None:
        previous = self.configs.target_state(name)
        config = self.configs.config(name)
        assert config is not None
        if target == TargetState.STOPPED:
            # Stopping writes an empty task list first, so offsets can be modified safely afterwards.
            await self._remove_tasks(name)
            await self.configs.put_task_configs(name, [])
            await self.configs.put_target_state(name, target)
            await self.worker.stop_connector(name)
            await self._start_connector_quietly(name, config, target)
            return
        await self.configs.put_target_state(name, target)
        if previous == TargetState.STOPPED:
            await self._start_connector_quietly(name, config, target)
        else:
            await self.worker.set_target_state(name, target)
        if target == TargetState.STARTED:
            await self._update_connector_tasks(name)

    # -- restarts -----------------------------------------------------------------------------------
    async def restart_connector(self, name: str) -> None:
        async with self._lock:
            self._require_config(name)
            await self.worker.stop_connector(name)
            await self._start_connector(name)

    async def restart_connector_and_tasks(
        self, name: str, include_tasks: bool, only_failed: bool
    ) -> ConnectorStateInfo:
        async with self._lock:
            if not self.configs.contains(name):
                raise NotFound(f"Unknown connector: {name}")
            plan = self.restart_plan(name, include_tasks, only_failed)
            restart_connector, restart_ids = plan.restart_connector, plan.tasks
            if restart_connector:
                await self.worker.stop_connector(name)
                self.status.put_connector(name, Status(State.RESTARTING, self.worker_id))
            if restart_ids:
                await self.worker.stop_tasks(restart_ids)
                for tid in restart_ids:
                    self.status.put_task(tid, Status(State.RESTARTING, self.worker_id))
            if restart_connector:
                try:
                    await self._start_connector(name)
                except ConnectError as e:
                    log.error("Connector '%s' restart failed: %s", name, e)
            config = self.configs.config(name)
            assert config is not None
            target = self.configs.target_state(name) or TargetState.STARTED
            task_configs = self.configs.task_configs(name)
            for tid in restart_ids:
                if tid.task < len(task_configs):
                    await self.worker.start_task(tid, config, task_configs[tid.task], target)
            return plan.answer

    async def restart_task(self, task: TaskId) -> None:
        async with self._lock:
            config = self.configs.config(task.connector)
            if config is None:  # Kafka's standalone herder goes on to start the task and answers with that 500
                raise ConnectError(f"Failed to start task {task} since it is not a recognizable type (source or sink)")
            task_configs = self.configs.task_configs(task.connector)
            if not 0 <= task.task < len(task_configs):
                raise NotFound(f"Task {task} not found")
            await self.worker.stop_tasks([task])
            await self.worker.start_task(
                task, config, task_configs[task.task], self.configs.target_state(task.connector) or TargetState.STARTED
            )

    # -- offsets ------------------------------------------------------------------------------------
    def _check_stopped(self, name: str) -> dict[str, str]:
        config = self._require_config(name)
        check_offsets_modifiable(name, self.configs.target_state(name), len(self.configs.task_configs(name)))
        return config

    async def alter_connector_offsets(self, name: str, entries: OffsetEntries) -> str:
        async with self._lock:
            return await self._modify_offsets(name, self._check_stopped(name), entries)

    async def reset_connector_offsets(self, name: str) -> str:
        async with self._lock:
            return await self._modify_offsets(name, self._check_stopped(name), None)

    # -- reconfiguration ----------------------------------------------------------------------------
    def on_reconfigure_request(self, connector: str) -> None:
        if self._stopped:
            return
        t = asyncio.get_running_loop().create_task(self._reconfigure(connector), name=f"reconfigure-{connector}")
        self._background.add(t)
        t.add_done_callback(self._background.discard)

    async def _reconfigure(self, name: str) -> None:
        async with self._lock:
            if self.configs.contains(name):
                await self._update_connector_tasks(name)

    # -- internals (called with the lock held) ------------------------------------------------------
    async def _start_connector(self, name: str) -> None:
        """Starts the connector in its target state; raises ConnectError when its start() failed."""
        config = self.configs.config(name)
        target = self.configs.target_state(name)
        assert config is not None and target is not None
        await self.worker.start_connector(name, dict(config), target)

    async def _start_connector_quietly(self, name: str, config: dict[str, str], target: TargetState) -> None:
        try:
            await self.worker.start_connector(name, dict(config), target)
        except ConnectError as e:  # the FAILED state with its trace was reported
            log.error("Failed to start connector %s: %s", name, e)

    async def _start_stored(self, name: str) -> None:
        config = self.configs.config(name)
        target = self.configs.target_state(name)
        assert config is not None and target is not None
        await self._start_connector_quietly(name, config, target)
        if target == TargetState.STOPPED:
            return
        for i, task_config in enumerate(self.configs.task_configs(name)):
            await self.worker.start_task(TaskId(name, i), dict(config), dict(task_config), target)
        await self._update_connector_tasks(name)

    async def _update_connector_tasks(self, name: str) -> None:
        """Asks the running connector for its task configs; replaces the tasks only if the configs changed."""
        if self.configs.target_state(name) != TargetState.STARTED or not self.worker.is_running(name):
            return
        new = await self.generate_task_configs(name)
        if new is None:
            return
        if new == self.configs.task_configs(name) and len(self.worker.connector_tasks(name)) == len(new):
            return
        await self._remove_tasks(name)
        await self.configs.put_task_configs(name, new)
        config = self.configs.config(name)
        assert config is not None
        for i, task_config in enumerate(new):
            await self.worker.start_task(TaskId(name, i), dict(config), dict(task_config), TargetState.STARTED)

    async def _remove_tasks(self, name: str) -> None:
        """Stops every task of the connector and forgets their statuses."""
        ids = set(self.worker.connector_tasks(name)) | {TaskId(name, n) for n, _ in self.status.tasks(name)}
        if ids:
            await self.worker.stop_tasks(sorted(ids))
            for tid in ids:
                self.status.remove_task(tid)
