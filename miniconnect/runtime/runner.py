"""The lifecycle shared by source and sink task runners: start, pause/resume, bounded stop, failure traces."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterable
from itertools import repeat
from operator import is_not
from typing import Any

from ..connector import Task, TaskContext
from ..logcontext import connector_context, set_task_context
from ..metrics.groups import TaskMetrics
from ..metrics.stats import DEFAULT_WINDOW, MetricWindow
from ..retry import describe, is_retriable
from ..secrets import mask
from .states import State, TaskId

log = logging.getLogger(__name__)


GC_GEN0_THRESHOLD = 50_000


def relax_gc() -> None:
    """Raises the cyclic GC's generation-0 threshold from CPython's default 700 (left alone if someone changed it).
    A task keeps thousands of records in flight (reader queue, batch being converted, batch being acked):
    at 700 net allocations the GC ran every ~100 rows and re-traversed every buffered record into the older
    generations, about a quarter of the worker's CPU on a JDBC source. Records hold no cycles and die by refcount."""
    t0, t1, t2 = gc.get_threshold()
    if t0 == 700:
        gc.set_threshold(GC_GEN0_THRESHOLD, t1, t2)


def all_null(items: Iterable[Any]) -> bool:
    """Whether every item is None, checked in C (the runners' test for a keyless batch)."""
    return not any(map(is_not, items, repeat(None)))


def no_keys(keys: list[bytes | None]) -> bool:
    """Whether a consumed batch's raw keys are all null: list.count meets None by identity and bytes never equal it,
    ~40x faster than all_null on a keyless batch."""
    return not keys or (keys[0] is None and keys.count(None) == len(keys))


def worker_metrics_window(worker: Any) -> MetricWindow:
    """The worker's sampling settings (metrics.sample.window.ms, metrics.num.samples) for a task's sensors."""
    metrics = getattr(worker, "metrics", None)
    return getattr(metrics, "window", DEFAULT_WINDOW)


def format_trace(exc: BaseException) -> str:
    return mask("".join(traceback.format_exception(exc)).rstrip())


class TaskRunner(ABC):
    metrics: TaskMetrics

    def __init__(self, task_id: TaskId, task: Task, task_config: dict[str, str], worker: Any):
        self.id = task_id
        self.task = task
        self.task_config = task_config
        self.worker = worker
        self.context = self.make_context()
        task.context = self.context  # type: ignore[attr-defined]
        self.resumed = asyncio.Event()
        self.resumed.set()
        self._main: asyncio.Task[None] | None = None
        self.failed = False
        self.error: BaseException | None = None  # what ended the task, if anything did
        self.started_at = time.monotonic()
        self._waiting: str | None = None  # the status trace while waiting for a resource
        self.context.on_wait = self.waiting
        self.restart_configs: tuple[Any, ...] = ()  # what the worker started it with, for an auto-restart

    @abstractmethod
    def make_context(self) -> TaskContext: ...

    @abstractmethod
    async def execute(self) -> None:
        """The task's main loop; returns when context.stopping is set."""

    async def shutdown(self) -> None:
        """Final flush/commit after the loop ended (also after a failure)."""

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self, paused: bool) -> None:
        if paused:
            self.resumed.clear()
        self._main = asyncio.create_task(self._run(), name=f"task-{self.id}")

    async def _run(self) -> None:
        set_task_context(self.id.connector, self.id.task)  # this asyncio task's log lines: [name|task-N]
        try:
            relax_gc()
            await self.task.start(dict(self.task_config))
            self.report(State.PAUSED if not self.resumed.is_set() else State.RUNNING)
            await self.execute()
        except asyncio.CancelledError:
            raise
        except BaseException as e:
            self.failed = True
            self.error = e
            if is_retriable(e):  # an outage: the worker restarts the task with back-off, the status says why
                log.warning("Task %s stopped by an outage, to be restarted: %s", self.id, describe(e))
            else:
                log.error("Task %s threw an uncaught and unrecoverable exception", self.id, exc_info=e)
                self.report(State.FAILED, format_trace(e))
        finally:
            await self._finish()
            if self.error is not None:
                self.worker.task_ended(self)

    async def _finish(self) -> None:
        try:
            await self.shutdown()
        except Exception as e:
            log.error("Task %s failed during shutdown", self.id, exc_info=e)
        try:
            await self.task.stop()
        except Exception as e:
            log.error("Task %s failed in stop()", self.id, exc_info=e)

    def report(self, state: State, trace: str | None = None) -> None:
        self.worker.report_task(self.id, state, trace)

    def waiting(self, what: str | None) -> None:
        """While the task waits for a resource it stays RUNNING with `what` as its trace (Connect's status has no
        waiting state); None: it works again. Reported on changes only."""
        if what == self._waiting:
            return
        self._waiting = what
        if self.resumed.is_set() and not self.failed:
            self.report(State.RUNNING, what)

    async def wait_if_paused(self) -> bool:
        """Blocks while paused; False when the task is being stopped."""
        if self.resumed.is_set():
            return True
        stop = asyncio.ensure_future(self.context.stopping.wait())
        resume = asyncio.ensure_future(self.resumed.wait())
        try:
            await asyncio.wait({stop, resume}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            resume.cancel()
        return not self.context.stopping.is_set()

    def pause(self) -> None:
        if self.resumed.is_set():
            self.resumed.clear()
            self.on_pause()
            if not self.failed:
                self.report(State.PAUSED)

    def resume(self) -> None:
        if not self.resumed.is_set():
            self.resumed.set()
            self.on_resume()
            if not self.failed:
                self.report(State.RUNNING)

    def on_pause(self) -> None:
        pass

    def on_resume(self) -> None:
        pass

    async def stop(self, timeout: float) -> None:
        """Signals the task to stop, waits up to `timeout` s for a graceful end, then cancels it."""
        self.context.stopping.set()
        self.resumed.set()
        if self._main is None:
            return
        done, _ = await asyncio.wait({self._main}, timeout=timeout)
        if not done:
            with connector_context(self.id.connector, self.id.task):
                log.warning("Graceful stop of task %s failed within %.1f s; cancelling it", self.id, timeout)
            self._main.cancel()
            await asyncio.wait({self._main}, timeout=max(timeout, 1.0))
