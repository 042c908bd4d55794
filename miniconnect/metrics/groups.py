"""Kafka Connect's metric groups (ConnectMetricsRegistry): what the worker, its tasks and the distributed herder
record, and when. Each group mirrors the Java class named in its docstring; the task runners call the `record_*`
methods once per batch or commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..runtime.states import State, TaskId
from .stats import DEFAULT_WINDOW, MetricWindow, Sensor, StateTracker, now_ms


class TaskMetrics:
    """connector-task-metrics (WorkerTask.TaskMetricsGroup): state ratios, offset commits, batch sizes."""

    def __init__(self, task_id: TaskId, window: MetricWindow = DEFAULT_WINDOW):
        self.id = task_id
        self.window = window
        self.state = StateTracker()
        self.started = False  # reported RUNNING or PAUSED once: a later FAILED is no startup failure
        self.commit_time = Sensor(window)  # ms, successful commits only
        self.commit_results = Sensor(window)  # 1.0 success, 0.0 failure
        self.batch_size = Sensor(window)

    def record_commit(self, duration_ms: float, success: bool) -> None:
        if success:
            self.commit_time.record(duration_ms)
        self.commit_results.record(1.0 if success else 0.0)

    def record_batch(self, size: int) -> None:
        self.batch_size.record(size)


class SourceTaskMetrics(TaskMetrics):
    """source-task-metrics (AbstractWorkerSourceTask.SourceTaskMetricsGroup)."""

    def __init__(self, task_id: TaskId, window: MetricWindow = DEFAULT_WINDOW):
        super().__init__(task_id, window)
        self.poll = Sensor(window)
        self.write = Sensor(window)
        self.poll_time = Sensor(window)
        self.active = Sensor(window)
        self.active_count = 0

    def record_poll(self, size: int, duration_ms: float) -> None:
        now = now_ms()
        self.poll.record(size, now)
        self.poll_time.record(duration_ms, now)
        self.active_count += size
        self.active.record(self.active_count, now)

    def record_write(self, polled: int, written: int) -> None:
        """A batch of `polled` records is done: `written` were acknowledged, the rest dropped or skipped."""
        now = now_ms()
        self.write.record(written, now)
        self.active_count = max(0, self.active_count - polled)
        self.active.record(self.active_count, now)


class SinkTaskMetrics(TaskMetrics):
    """sink-task-metrics (WorkerSinkTask.SinkTaskMetricsGroup)."""

    def __init__(self, task_id: TaskId, window: MetricWindow = DEFAULT_WINDOW):
        super().__init__(task_id, window)
        self.read = Sensor(window)
        self.send = Sensor(window)
        self.put_time = Sensor(window)
        self.active = Sensor(window)
        self.active_count = 0
        self.partition_count = 0
        self.commit_seq_no = 0
        self.commit_completion = Sensor(window)
        self.commit_skip = Sensor(window)

    def record_read(self, size: int) -> None:
        self.read.record(size)

    def record_put(self, size: int, duration_ms: float) -> None:
        """put() returned for a batch: WorkerSinkTask.recordBatch (batch size and sends) and put-batch time."""
        now = now_ms()
        self.batch_size.record(size, now)
        self.send.record(size, now)
        self.put_time.record(duration_ms, now)

    def record_active(self, consumed: dict[Any, int], committed: dict[Any, int]) -> None:
        """computeSinkRecordLag: records consumed and not yet committed, over the partitions with a commit."""
        active = 0
        for tp, offset in committed.items():
            read = consumed.get(tp)
            if read is not None and read > offset:
                active += read - offset
        self.active_count = active
        self.active.record(active)

    def record_commit(self, duration_ms: float, success: bool) -> None:
        super().record_commit(duration_ms, success)
        self.commit_seq_no += 1
        if success:
            self.commit_completion.record(1.0)


class RebalanceMetrics:
    """connect-worker-rebalance-metrics (DistributedHerder.HerderMetrics): started when an assignment arrives,
    succeeded once the assigned work was started."""

    def __init__(
        self,
        protocol: Callable[[], str],
        leader: Callable[[], str | None],
        epoch: Callable[[], int],
        window: MetricWindow = DEFAULT_WINDOW,
    ):
        self.protocol, self.leader, self.epoch = protocol, leader, epoch
        self.completed = Sensor(window)
        self.time = Sensor(window)
        self.rebalancing = False
        self._started_at = 0.0
        self.last_completed: float | None = None

    def started(self) -> None:
        self._started_at = now_ms()
        self.rebalancing = True

    def succeeded(self) -> None:
        now = now_ms()
        self.rebalancing = False
        self.completed.record(1.0, now)
        self.time.record(max(0.0, now - self._started_at), now)
        self.last_completed = now


class WorkerMetrics:
    """connect-worker-metrics (WorkerMetricsGroup) and connector-metrics statuses, kept by wrapping the worker's
    status listener as Kafka's wrapStatusListener does: startups succeed at the first RUNNING/PAUSED report and
    fail at a FAILED report before it."""

    def __init__(self, delegate: Any, window: MetricWindow = DEFAULT_WINDOW):
        self.delegate = delegate
        self.window = window
        self.connector_results = Sensor(window)  # 1.0 success, 0.0 failure
        self.task_results = Sensor(window)
        self.connector_states: dict[str, State] = {}
        self._connector_started: dict[str, bool] = {}
        self.tasks: Callable[[], dict[TaskId, Any]] = dict

    # -- what the worker reports ------------------------------------------------------------------------------
    def connector_starting(self, name: str) -> None:
        self._connector_started[name] = False

    def connector_removed(self, name: str) -> None:
        self._connector_started.pop(name, None)
        self.connector_states.pop(name, None)

    def task_start_failed(self) -> None:
        self.task_results.record(0.0)

    def on_connector_state(self, connector: str, state: State, trace: str | None = None) -> None:
        self.connector_states[connector] = state
        started = self._connector_started.get(connector)
        if started is False and state in (State.RUNNING, State.PAUSED):
            self._connector_started[connector] = True
            self.connector_results.record(1.0)
        elif started is False and state == State.FAILED:
            self._connector_started.pop(connector)
            self.connector_results.record(0.0)
        self.delegate.on_connector_state(connector, state, trace)

    def on_task_state(self, task: TaskId, state: State, trace: str | None = None) -> None:
        runner = self.tasks().get(task)
        metrics: TaskMetrics | None = getattr(runner, "metrics", None)
        if metrics is not None:
            metrics.state.change(state)
            if not metrics.started and state in (State.RUNNING, State.PAUSED):
                metrics.started = True
                self.task_results.record(1.0)
            elif not metrics.started and state == State.FAILED:
                metrics.started = True  # counted once
                self.task_results.record(0.0)
        self.delegate.on_task_state(task, state, trace)

    def on_topic_used(self, connector: str, topic: str, task: int = 0) -> None:
        self.delegate.on_topic_used(connector, topic, task)

    def on_reconfigure_request(self, connector: str) -> None:
        self.delegate.on_reconfigure_request(connector)

    # -- what a scrape reads -----------------------------------------------------------------------------------
    @staticmethod
    def startup_totals(results: Sensor) -> tuple[float, float, float]:
        """(attempts, successes, failures) of a startup-results sensor: successes record 1.0, failures 0.0."""
        return results.events, results.total, results.events - results.total

    def task_states(self, connector: str) -> Iterable[State | None]:
        for task_id, runner in self.tasks().items():
            if task_id.connector == connector:
                metrics = getattr(runner, "metrics", None)
                yield metrics.state.state if metrics is not None else None
