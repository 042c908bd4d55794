"""A herder-shaped driver of WorkerGroupMember for the group tests: keeps joining, "runs" what it is assigned,
rejoins after revocations and when the assignment's scheduled delay expires (as DistributedHerder does).

Run as a script it is one member in its own process (so a test can SIGKILL it): it prints one JSON line per
assignment on stdout. Args: bootstrap group url protocol delay_ms connectors-json.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from miniconnect.distributed.member import WorkerGroupMember
from miniconnect.distributed.protocol import ExtendedAssignment
from miniconnect.distributed.state import ClusterConfigState
from miniconnect.runtime.states import TaskId

SESSION_TIMEOUT_MS = 6000
HEARTBEAT_MS = 1000


def snapshot_of(connectors: dict[str, int], offset: int = 3) -> ClusterConfigState:
    return ClusterConfigState(
        offset=offset, connector_task_counts=dict(connectors), connector_configs={c: {} for c in connectors}
    )


class GroupWorker:
    def __init__(
        self,
        bootstrap: str,
        group: str,
        url: str,
        config: dict,
        *,
        protocol: str = "sessioned",
        delay_ms: int = 4000,
        on_assigned=None,
    ) -> None:
        self.url = url
        self.config = config  # {"snapshot": ClusterConfigState}, shared by a test's workers
        self.connectors: set[str] = set()
        self.tasks: set[TaskId] = set()
        self.starts: Counter[TaskId] = Counter()
        self.assignments: list[tuple[int, ExtendedAssignment]] = []
        self.revocations: list[tuple[list[str], list[TaskId]]] = []
        self._wake = asyncio.Event()
        self._rejoin_at: float | None = None
        self._on_assigned = on_assigned
        self._task: asyncio.Task | None = None
        self.member = WorkerGroupMember(
            bootstrap_servers=bootstrap,
            client_config={},
            group_id=group,
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=HEARTBEAT_MS,
            rebalance_timeout_ms=20000,
            scheduled_rebalance_max_delay_ms=delay_ms,
            protocol=protocol,
            url=url,
            config_snapshot=lambda: self.config["snapshot"],
            listener=self,
            on_rejoin_needed=self._wake.set,
        )

    # RebalanceListener
    async def on_revoked(self, leader: str, connectors: list[str], tasks: list[TaskId]) -> None:
        self.revocations.append((list(connectors), list(tasks)))
        self.connectors -= set(connectors)
        self.tasks -= set(tasks)

    async def on_assigned(self, assignment: ExtendedAssignment, generation: int) -> None:
        self.assignments.append((generation, assignment))
        for t in assignment.tasks:
            if t not in self.tasks:
                self.starts[t] += 1
        self.connectors, self.tasks = set(assignment.connectors), set(assignment.tasks)
        loop = asyncio.get_running_loop()
        self._rejoin_at = loop.time() + assignment.delay / 1000 if assignment.delay > 0 else None
        if assignment.revoked_connectors or assignment.revoked_tasks or assignment.failed():
            self.member.request_rejoin()
        if self._on_assigned is not None:
            self._on_assigned(self, generation, assignment)

    async def start(self) -> None:
        await self.member.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.member.ensure_active()
            if self.member.rejoin_needed():
                continue
            timeout = None if self._rejoin_at is None else max(0.0, self._rejoin_at - loop.time())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                self._rejoin_at = None
                self.member.request_rejoin()
            self._wake.clear()

    async def _halt(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            if self._task.done() and not self._task.cancelled() and self._task.exception() is not None:
                raise self._task.exception()  # type: ignore[misc]

    async def stop(self) -> None:
        await self._halt()
        await self.member.stop()

    async def crash(self) -> None:
        """Gone without LeaveGroup, as a killed process."""
        await self._halt()
        await self.member.abandon()


async def _main(bootstrap: str, group: str, url: str, protocol: str, delay_ms: int, connectors: str) -> None:
    def report(worker: GroupWorker, generation: int, a: ExtendedAssignment) -> None:
        print(
            json.dumps(
                {
                    "member_id": worker.member.member_id,
                    "generation": generation,
                    "tasks": sorted(str(t) for t in worker.tasks),
                }
            ),
            flush=True,
        )

    worker = GroupWorker(
        bootstrap,
        group,
        url,
        {"snapshot": snapshot_of(json.loads(connectors))},
        protocol=protocol,
        delay_ms=delay_ms,
        on_assigned=report,
    )
    await worker.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]))
