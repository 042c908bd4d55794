"""Restarts a worker's failed connectors and tasks by themselves: after an outage with back-off, after any other
failure on Strimzi's auto-restart schedule (the operator that adds this to Kafka Connect)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from ..retry import Backoff, describe, is_retriable

log = logging.getLogger(__name__)

# A connector or task that ran this long since its last (re)start begins the schedule again.
RESET_AFTER_S = 600.0
# Restarts after an outage (a database, Kafka, the disk): soon at first, at most every 30 s.
OUTAGE_BACKOFF = Backoff(initial=1.0, maximum=30.0)


@dataclass
class RestartSchedule:
    """Strimzi's KafkaConnector auto-restart: the n-th restart in a row (from 0) waits n*(n+1) units (0, 2, 6, 12,
    20 ... minutes), capped."""

    enabled: bool = True
    unit_s: float = 60.0
    max_s: float = 3600.0

    def delay(self, n: int) -> float:
        return min(n * (n + 1) * self.unit_s, self.max_s)

    @classmethod
    def from_worker_config(cls, config: Any) -> RestartSchedule:
        def get(key: str, default: Any) -> Any:
            try:
                return config[key]
            except (KeyError, TypeError):
                return default

        return cls(
            bool(get("auto.restart.enable", True)),
            int(get("auto.restart.backoff.ms", 60000)) / 1000,
            int(get("auto.restart.backoff.max.ms", 3600000)) / 1000,
        )


class Restarter:
    """Schedules one restart at a time per connector or task. `restarts` counts the restarts done (the hook for a
    metric); `pending` lists the ones waiting."""

    def __init__(self, schedule: RestartSchedule, outage: Backoff = OUTAGE_BACKOFF):
        self.schedule = schedule
        self.outage = outage
        self.restarts = 0  # auto-restarts done by this worker (connectors and tasks), for the metrics
        self._in_a_row: dict[Hashable, int] = {}
        self._pending: dict[Hashable, asyncio.Task[None]] = {}
        # Restarts under way (no longer pending): stop() cancels them too, else one could start a task again on a
        # worker that has just stopped.
        self._running: set[asyncio.Task[None]] = set()

    def plan(self, key: Hashable, error: BaseException, ran_s: float) -> tuple[float, bool] | None:
        """(delay, outage) for the next restart of `key` after `error`, or None when it stays FAILED."""
        outage = is_retriable(error)
        if not outage and not self.schedule.enabled:
            return None
        n = 0 if ran_s >= RESET_AFTER_S else self._in_a_row.get(key, 0)
        self._in_a_row[key] = n + 1
        return (self.outage.delay(n) if outage else self.schedule.delay(n)), outage

    def start(
        self, key: Hashable, what: str, error: BaseException, delay: float, restart: Callable[[], Awaitable[None]]
    ) -> None:
        self.cancel(key)
        n = self._in_a_row[key]
        log.warning("Auto-restart of %s in %.1f s (restart %d in a row) after: %s", what, delay, n, describe(error))

        async def later() -> None:
            await asyncio.sleep(delay)
            if self._pending.get(key) is not current:
                return
            del self._pending[key]
            self._running.add(current)
            self.restarts += 1
            log.info("Auto-restart of %s now (after: %s)", what, describe(error))
            try:
                await restart()
            except Exception as e:  # reported as the connector's or task's state by the restart itself
                log.error("Restart of %s failed: %s", what, describe(e))
            finally:
                self._running.discard(current)

        current = asyncio.get_running_loop().create_task(later(), name=f"restart-{key}")
        self._pending[key] = current

    def cancel(self, key: Hashable) -> None:
        t = self._pending.pop(key, None)
        if t is not None:
            t.cancel()

    def forget(self, key: Hashable) -> None:
        """Stopped or restarted by hand: no restart pending, the schedule starts again."""
        self.cancel(key)
        self._in_a_row.pop(key, None)

    async def stop(self) -> None:
        pending = [*self._pending.values(), *self._running]
        self._pending.clear()
        self._running.clear()
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.wait(pending)
