"""The worker's metrics in Prometheus text format, under the names the JMX exporter gives Kafka Connect's MBeans.

Names follow the rules of confluentinc/jmx-monitoring-stacks (`shared-assets/jmx-exporter/kafka_connect.yml`,
read by its Grafana dashboard `kafka-connect-cluster.json`): `kafka.connect:type=<group>,connector=c,task=t`
attribute `<attr>` becomes `kafka_connect_<group>_<attr>{connector="c",task="t"}` with `-` as `_`; the worker's
own group carries `connector="aggregate"`; string attributes (statuses, classes, versions) become a label of a
sample worth 1. Attributes ending in `-total` are counters, everything else gauges; averages and maxima are NaN
until something was recorded, as Kafka reports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import Metric

from .. import SERVER_VERSION
from ..plugins import plugin_version
from ..runtime.states import State
from .groups import SinkTaskMetrics, SourceTaskMetrics, TaskMetrics, WorkerMetrics
from .stats import now_ms

PREFIX = "kafka_connect_"
_TASK_STATES = ("running", "paused", "failed", "unassigned", "destroyed", "restarting")


class _Families:
    """Samples gathered per metric name during one scrape."""

    def __init__(self) -> None:
        self.families: dict[str, Metric] = {}

    def add(self, group: str, attr: str, labels: dict[str, str], value: float) -> None:
        name = PREFIX + f"{group}_{attr}".replace("-", "_").replace(".", "_")
        counter = name.endswith("_total")
        family_name = name[: -len("_total")] if counter else name
        family = self.families.get(family_name)
        if family is None:
            family = Metric(family_name, f"Kafka Connect {group} {attr}", "counter" if counter else "gauge")
            self.families[family_name] = family
        family.add_sample(name, labels, float(value))

    def info(self, name: str, labels: dict[str, str], items: Iterable[tuple[str, Any]]) -> None:
        """String attributes as one gauge family: a sample worth 1 per attribute, its value in a label."""
        family = self.families.get(name)
        if family is None:
            family = self.families[name] = Metric(name, f"Kafka Connect {name[len(PREFIX) :]}", "gauge")
        for key, value in items:
            if value is not None:
                family.add_sample(name, {**labels, key: str(value)}, 1.0)


def _status(state: Any) -> str:
    return (state.value if isinstance(state, State) else str(state or "unassigned")).lower()


# (attribute, how to read it from the group's sensors at `now`)
_SOURCE: list[tuple[str, Callable[[Any, float], float]]] = [
    ("source-record-poll-rate", lambda m, now: m.poll.rate(now)),
    ("source-record-poll-total", lambda m, now: m.poll.total),
    ("source-record-write-rate", lambda m, now: m.write.rate(now)),
    ("source-record-write-total", lambda m, now: m.write.total),
    ("poll-batch-max-time-ms", lambda m, now: m.poll_time.max(now)),
    ("poll-batch-avg-time-ms", lambda m, now: m.poll_time.avg(now)),
    ("source-record-active-count", lambda m, now: m.active_count),
    ("source-record-active-count-max", lambda m, now: m.active.max(now)),
    ("source-record-active-count-avg", lambda m, now: m.active.avg(now)),
]
_SINK: list[tuple[str, Callable[[Any, float], float]]] = [
    ("sink-record-read-rate", lambda m, now: m.read.rate(now)),
    ("sink-record-read-total", lambda m, now: m.read.total),
    ("sink-record-send-rate", lambda m, now: m.send.rate(now)),
    ("sink-record-send-total", lambda m, now: m.send.total),
    ("sink-record-active-count", lambda m, now: m.active_count),
    ("sink-record-active-count-max", lambda m, now: m.active.max(now)),
    ("sink-record-active-count-avg", lambda m, now: m.active.avg(now)),
    ("partition-count", lambda m, now: m.partition_count),
    ("offset-commit-seq-no", lambda m, now: m.commit_seq_no),
    ("offset-commit-completion-rate", lambda m, now: m.commit_completion.rate(now)),
    ("offset-commit-completion-total", lambda m, now: m.commit_completion.total),
    ("offset-commit-skip-rate", lambda m, now: m.commit_skip.rate(now)),
    ("offset-commit-skip-total", lambda m, now: m.commit_skip.total),
    ("put-batch-max-time-ms", lambda m, now: m.put_time.max(now)),
    ("put-batch-avg-time-ms", lambda m, now: m.put_time.avg(now)),
]


class ConnectCollector:
    """A prometheus_client collector reading the herder's worker (and the distributed herder's rebalances)."""

    def __init__(self, herder: Any):
        self.herder = herder

    def collect(self) -> Iterator[Metric]:
        f = _Families()
        worker = self.herder.worker
        now = now_ms()
        self._app(f, worker)
        self._worker(f, worker)
        self._rebalance(f, getattr(self.herder, "rebalance_metrics", None), now)
        self._connectors(f, worker)
        for task_id, runner in sorted(worker.tasks.items()):
            labels = {"connector": task_id.connector, "task": str(task_id.task)}
            metrics = getattr(runner, "metrics", None)
            if isinstance(metrics, TaskMetrics):
                self._task(f, metrics, labels, now)
                self._task_info(f, worker, runner, labels)
            errors = getattr(runner, "errors", None)
            if errors is not None:
                self._errors(f, errors, labels)
            plugin = getattr(getattr(runner, "context", None), "metrics", None)
            if plugin is not None:
                for group, attr, extra, v in plugin.samples():
                    f.add(group, attr, {**labels, **extra}, v)
        yield from f.families.values()

    def _app(self, f: _Families, worker: Any) -> None:
        """app-info: `kafka_connect_app` as jmx_exporter 1.x names the `kafka_connect_app_info` rule's samples."""
        f.info(
            PREFIX + "app",
            {"client_id": worker.worker_id},
            [("version", SERVER_VERSION), ("commit_id", _commit()), ("start_time_ms", int(worker.started_at_ms))],
        )

    def _worker(self, f: _Families, worker: Any) -> None:
        wm: WorkerMetrics = worker.metrics
        group, agg = "connect-worker-metrics", {"connector": "aggregate"}
        f.add(group, "connector-count", agg, len(worker.connectors))
        f.add(group, "task-count", agg, len(worker.tasks))
        for kind, results in (("connector", wm.connector_results), ("task", wm.task_results)):
            attempts, successes, failures = wm.startup_totals(results)
            f.add(group, f"{kind}-startup-attempts-total", agg, attempts)
            f.add(group, f"{kind}-startup-success-total", agg, successes)
            f.add(group, f"{kind}-startup-failure-total", agg, failures)
            f.add(group, f"{kind}-startup-success-percentage", agg, results.frequency(True))
            f.add(group, f"{kind}-startup-failure-percentage", agg, results.frequency(False))
        # miniconnect's own: connectors and tasks restarted by the worker after a failure (Kafka has no auto-restart)
        f.add(group, "auto-restart-total", agg, worker.restarter.restarts)
        for connector in sorted({t.connector for t in worker.tasks}):
            states = [_status(s) for s in wm.task_states(connector)]
            labels = {"connector": connector}
            f.add(group, "connector-total-task-count", labels, len(states))
            for state in _TASK_STATES:
                f.add(group, f"connector-{state}-task-count", labels, states.count(state))

    def _rebalance(self, f: _Families, rm: Any, now: float) -> None:
        if rm is None:
            return
        group = "connect-worker-rebalance-metrics"
        f.add(group, "connect-protocol", {"connect_protocol": rm.protocol()}, 1)
        f.add(group, "leader-name", {"leader_name": rm.leader() or ""}, 1)
        f.add(group, "epoch", {}, rm.epoch())
        f.add(group, "completed-rebalances-total", {}, rm.completed.total)
        f.add(group, "rebalancing", {}, 1.0 if rm.rebalancing else 0.0)
        f.add(group, "rebalance-max-time-ms", {}, rm.time.max(now))
        f.add(group, "rebalance-avg-time-ms", {}, rm.time.avg(now))
        last = rm.last_completed
        f.add(group, "time-since-last-rebalance-ms", {}, float("inf") if last is None else now - last)

    def _connectors(self, f: _Families, worker: Any) -> None:
        states = worker.metrics.connector_states
        for name in sorted(worker.connectors):
            f.info(
                PREFIX + "connector_metrics",
                {"connector": name},
                [("status", _status(states.get(name))), *_connector_info(worker, name)],
            )

    def _task_info(self, f: _Families, worker: Any, runner: Any, labels: dict[str, str]) -> None:
        """connector-task-metrics' string attributes (Kafka 4.1, KIP-891), each a gauge with its value in a label:
        `kafka_connect_connector_task_metrics_task_class{connector, task, task_class}` 1."""
        group = PREFIX + "connector_task_metrics_"
        items = [
            *_connector_info(worker, labels["connector"]),
            *_plugin_info("task", runner.task),
            *_plugin_info("key_converter", getattr(runner, "key_converter", None)),
            *_plugin_info("value_converter", getattr(runner, "value_converter", None)),
        ]
        for key, value in items:
            f.info(group + key, labels, [(key, value)])

    def _task(self, f: _Families, m: TaskMetrics, labels: dict[str, str], now: float) -> None:
        group = "connector-task-metrics"
        f.add(group, "status", {**labels, "status": _status(m.state.state)}, 1)
        f.add(group, "running-ratio", labels, m.state.ratio(State.RUNNING, now))
        f.add(group, "pause-ratio", labels, m.state.ratio(State.PAUSED, now))
        f.add(group, "offset-commit-max-time-ms", labels, m.commit_time.max(now))
        f.add(group, "offset-commit-avg-time-ms", labels, m.commit_time.avg(now))
        f.add(group, "batch-size-max", labels, m.batch_size.max(now))
        f.add(group, "batch-size-avg", labels, m.batch_size.avg(now))
        f.add(group, "offset-commit-failure-percentage", labels, m.commit_results.frequency(False, now))
        f.add(group, "offset-commit-success-percentage", labels, m.commit_results.frequency(True, now))
        if isinstance(m, SourceTaskMetrics):
            for attr, read in _SOURCE:
                f.add("source-task-metrics", attr, labels, read(m, now))
        elif isinstance(m, SinkTaskMetrics):
            for attr, read in _SINK:
                f.add("sink-task-metrics", attr, labels, read(m, now))

    def _errors(self, f: _Families, e: Any, labels: dict[str, str]) -> None:
        group = "task-error-metrics"
        f.add(group, "total-record-failures", labels, e.total_record_failures)
        f.add(group, "total-record-errors", labels, e.total_record_errors)
        f.add(group, "total-records-skipped", labels, e.total_records_skipped)
        f.add(group, "total-retries", labels, e.total_retries)
        f.add(group, "total-errors-logged", labels, e.total_errors_logged)
        f.add(group, "deadletterqueue-produce-requests", labels, e.deadletterqueue_produce_requests)
        f.add(group, "deadletterqueue-produce-failures", labels, e.deadletterqueue_produce_failures)
        f.add(group, "last-error-timestamp", labels, e.last_error_timestamp)


def _plugin_info(kind: str, plugin: Any) -> list[tuple[str, Any]]:
    if plugin is None:
        return []
    cls = type(plugin)
    return [
        (f"{kind}_class", getattr(cls, "class_name", None) or cls.__qualname__),
        (f"{kind}_version", plugin_version(cls)),
    ]


def _connector_info(worker: Any, name: str) -> list[tuple[str, Any]]:
    """connector_class, connector_type, connector_version of a connector this worker runs."""
    wc = worker.connectors.get(name)
    if wc is None:
        return []
    configured = wc.config.get("connector.class", "")
    cls = type(wc.instance) if wc.instance is not None else None
    return [
        ("connector_class", getattr(cls, "class_name", None) or configured),
        ("connector_type", worker.connector_type(configured)),
        ("connector_version", plugin_version(cls) if cls is not None else None),
    ]


def _commit() -> str:
    from ..rest.app import build_commit

    return build_commit()


def metrics_registry(herder: Any) -> CollectorRegistry:
    """A registry of its own per REST app (never the global one): Connect's groups and the process's CPU/memory."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ConnectCollector(herder))
    ProcessCollector(registry=registry)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
