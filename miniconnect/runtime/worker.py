"""The Worker runs connectors and tasks; the herder decides which. Failures become states, never crashes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any, cast

from ..config.client_overrides import check_overrides, uses_clients, worker_policy
from ..config.configdef import ConfigType
from ..config.providers import load_providers, reverse_transform
from ..connector import (
    Connector,
    ConnectorContext,
    SinkConnector,
    SinkTask,
    SourceConnector,
    SourceConnectorContext,
    SourceTask,
)
from ..errors import ConnectError
from ..logcontext import connector_context, set_connector_context
from ..metrics.groups import WorkerMetrics
from ..metrics.stats import MetricWindow
from ..plugins import plugin_version
from ..retry import describe
from ..secrets import remember_config
from ..storage.base import OffsetBackingStore
from ..transport.base import Transport
from .converting import converter_for
from .restarts import Restarter, RestartSchedule
from .runner import TaskRunner, format_trace
from .seams import PluginRegistry, WorkerSettings
from .sink_task import SinkTaskRunner
from .source_task import SourceTaskRunner, StoreOffsetReader
from .states import State, StatusListener, TargetState, TaskId

log = logging.getLogger(__name__)


class _NullListener:
    def on_connector_state(self, connector: str, state: State, trace: str | None = None) -> None: ...
    def on_task_state(self, task: TaskId, state: State, trace: str | None = None) -> None: ...
    def on_topic_used(self, connector: str, topic: str, task: int = 0) -> None: ...
    def on_reconfigure_request(self, connector: str) -> None: ...


# How long start_connector waits for a connector's start() before answering and letting it finish in the
# background: a start() that returns at once (FileStream) is answered as Kafka's standalone worker answers, with
# its tasks; one that waits on an unreachable system (a JDBC connection with its retries) does not hold the REST
# request, and the connector then goes RUNNING with its tasks, or FAILED with the error as its trace.
START_WAIT_S = 0.2


class WorkerConnector:
    def __init__(
        self,
        name: str,
        config: dict[str, str],
        instance: Connector | None,
        context: ConnectorContext | None,
        target: TargetState,
    ):
        self.name, self.config, self.instance, self.context = name, config, instance, context
        self.target = target
        self.started = False
        self.detached = False  # start_connector stopped waiting: the start reports its outcome itself
        self.starting: asyncio.Task[None] | None = None
        self.watcher: asyncio.Task[None] | None = None
        self.started_at = time.monotonic()


class Worker:
    def __init__(
        self,
        config: WorkerSettings,
        plugins: PluginRegistry,
        transport: Transport,
        offsets: OffsetBackingStore,
        listener: StatusListener | None = None,
    ):
        self.config = config
        self.plugins = plugins
        self.transport = transport
        self.offsets = offsets
        self.metrics = WorkerMetrics(listener or _NullListener(), _metric_window(config))
        self.metrics.tasks = lambda: self.tasks
        self.started_at_ms = time.time() * 1000
        self.worker_id: str = config.worker_id_host_port()
        self.connectors: dict[str, WorkerConnector] = {}
        self.tasks: dict[TaskId, TaskRunner] = {}
        self.graceful_timeout = config["task.shutdown.graceful.timeout.ms"] / 1000
        self.restarter = Restarter(RestartSchedule.from_worker_config(config))
        self.override_policy = worker_policy(config)
        # the settings as given, before parsing (WorkerConfig.originals); a plain mapping serves as its own
        originals = cast(Mapping[str, Any], getattr(config, "originals", config))
        self.config_transformer = load_providers(originals, plugins.resolve_config_provider)
        remember_config(originals)

    @property
    def listener(self) -> StatusListener:
        """The herder's listener; the worker reports through self.metrics, which records and forwards to it."""
        return cast(StatusListener, self.metrics.delegate)

    @listener.setter
    def listener(self, listener: StatusListener | None) -> None:
        self.metrics.delegate = listener or _NullListener()

    async def start(self) -> None:
        log.info("Worker %s started", self.worker_id)

    async def stop(self) -> None:
        """Stops every task (flushing offsets and committing positions) and connector, within bounded time."""
        await self.restarter.stop()
        await self.stop_tasks(list(self.tasks))
        await asyncio.gather(*(self.stop_connector(n) for n in list(self.connectors)))
        self.config_transformer.close()

    def transform(self, config: Mapping[str, str | None], connector_class: type | None = None) -> dict[str, str]:
        """The config with its `${provider:path:key}` variables resolved; only ever handed to a running
        connector or task, never stored or shown. Its secrets are masked in this process's output from now on."""
        resolved = self.config_transformer.transform(config)
        config_def = getattr(connector_class, "config_def", None)
        keys = [k.name for k in config_def.keys.values() if k.type == ConfigType.PASSWORD] if config_def else []
        remember_config(resolved, keys)
        return resolved

    # -- reports from runners ----------------------------------------------------------------------
    def report_task(self, task: TaskId, state: State, trace: str | None = None) -> None:
        if task in self.tasks:
            self.metrics.on_task_state(task, state, trace)

    def topic_used(self, connector: str, topic: str, task: int = 0) -> None:
        self.metrics.on_topic_used(connector, topic, task)

    # -- auto-restarts ------------------------------------------------------------------------------
    def task_ended(self, runner: TaskRunner) -> None:
        """A task ended on an error: restarted after an outage with back-off (RUNNING meanwhile, its trace naming
        the outage), after any other failure on the auto-restart schedule (FAILED meanwhile), or left FAILED."""
        tid, error = runner.id, runner.error
        if error is None or self.tasks.get(tid) is not runner:
            return
        plan = self.restarter.plan(tid, error, time.monotonic() - runner.started_at)
        if plan is None:
            return
        delay, outage = plan
        if outage:
            self.metrics.on_task_state(
                tid, State.RUNNING, f"Waiting for an outage to end (task restarts in {delay:.1f} s): {describe(error)}"
            )
        connector_config, task_config, target = runner.restart_configs

        async def restart() -> None:
            if self.tasks.get(tid) is runner:
                await self.start_task(tid, connector_config, task_config, target, auto=True)

        self.restarter.start(tid, f"task {tid}", error, delay, restart)

    def _connector_failed(self, wc: WorkerConnector, error: BaseException) -> None:
        """As task_ended, for a connector whose start() failed or that raised an error in the background: it is
        restarted after an outage with back-off, after another failure on the auto-restart schedule."""
        if self.connectors.get(wc.name) is not wc:
            return
        plan = self.restarter.plan(wc.name, error, time.monotonic() - wc.started_at)
        if plan is None:
            return
        # A connector that did not start stays FAILED until it did (unlike a task, nothing of it runs meanwhile)
        delay, _ = plan

        async def restart() -> None:
            if self.connectors.get(wc.name) is wc:
                await self.start_connector(wc.name, wc.config, wc.target, wait=None, auto=True)
                self.metrics.on_reconfigure_request(wc.name)  # its task configs may have changed meanwhile

        self.restarter.start(wc.name, f"connector {wc.name}", error, delay, restart)

    # -- connectors ---------------------------------------------------------------------------------
    async def start_connector(
        self,
        name: str,
        config: dict[str, str],
        target: TargetState,
        wait: float | None = START_WAIT_S,
        auto: bool = False,
    ) -> bool:
        """Creates the connector and runs its start(), waiting up to `wait` s (None: until it ends). True when it
        started (or its target is STOPPED); False when start() still runs: it goes on in the background and then
        reports RUNNING (or PAUSED) and asks for task configs, or reports FAILED. Raises ConnectError when the
        connector could not be created or its start() failed within the wait."""
        if name in self.connectors:
            await self.stop_connector(name, auto=auto)
        if not auto:
            self.restarter.forget(name)
        if target != TargetState.STOPPED:
            self.metrics.connector_starting(name)
        try:
            cls = self.plugins.resolve_connector(config.get("connector.class", ""))
            instance: Connector = cls()
            if issubclass(cls, SourceConnector):
                context: ConnectorContext = SourceConnectorContext(name, StoreOffsetReader(self.offsets, name))
            else:
                context = ConnectorContext(name)
            instance.context = context
            resolved = self.transform(config, cls)
        except Exception as e:
            self.metrics.on_connector_state(name, State.FAILED, format_trace(e))
            raise ConnectError(f"Failed to start connector {name}: {e}") from e
        wc = WorkerConnector(name, dict(config), instance, context, target)
        self.connectors[name] = wc
        if target == TargetState.STOPPED:
            self.metrics.on_connector_state(name, State.STOPPED)
            return True
        wc.starting = asyncio.create_task(self._start_instance(wc, resolved), name=f"connector-start-{name}")
        if wait is not None:
            done, _ = await asyncio.wait({wc.starting}, timeout=wait)
            if not done:
                wc.detached = True
                wc.starting.add_done_callback(lambda t: t.cancelled() or t.exception())  # reported as FAILED
                log.info("Connector %s is still starting; it goes on in the background", name)
                self.metrics.on_connector_state(name, State.UNASSIGNED)  # not started yet, as Connect says
                return False
        await wc.starting
        return True

    async def _start_instance(self, wc: WorkerConnector, config: dict[str, str]) -> None:
        """Starts the connector with `config` (its config providers resolved)."""
        assert wc.instance is not None
        set_connector_context(wc.name)  # this asyncio task (and what the connector starts in it): [name|worker]
        try:
            await wc.instance.start(config)
        except Exception as e:
            log.error("Connector %s failed to start", wc.name, exc_info=e)
            if self.connectors.get(wc.name) is wc:
                self.metrics.on_connector_state(wc.name, State.FAILED, format_trace(e))
                self._connector_failed(wc, e)
            raise ConnectError(f"Failed to transition connector {wc.name} to state STARTED") from e
        wc.started = True
        wc.watcher = asyncio.create_task(self._watch(wc), name=f"connector-{wc.name}")
        paused = wc.target == TargetState.PAUSED
        log.info(
            "Connector %s (%s) started%s", wc.name, wc.config.get("connector.class"), " and paused" if paused else ""
        )
        self.metrics.on_connector_state(wc.name, State.PAUSED if paused else State.RUNNING)
        if wc.detached:  # nobody waits to generate the task configs
            self.metrics.on_reconfigure_request(wc.name)

    async def _watch(self, wc: WorkerConnector) -> None:
        """Forwards the connector's reconfiguration requests and background errors to the herder."""
        assert wc.context is not None
        set_connector_context(wc.name)
        while True:
            await wc.context.reconfiguration_requested.wait()
            wc.context.reconfiguration_requested.clear()
            if wc.context.error is not None:
                self.metrics.on_connector_state(wc.name, State.FAILED, format_trace(wc.context.error))
                self._connector_failed(wc, wc.context.error)
                return
            self.metrics.on_reconfigure_request(wc.name)

    async def stop_connector(self, name: str, auto: bool = False) -> None:
        if not auto:
            self.restarter.forget(name)
        wc = self.connectors.pop(name, None)
        if wc is None:
            return
        self.metrics.connector_removed(name)
        if wc.starting is not None and not wc.starting.done():
            wc.starting.cancel()
            await asyncio.wait({wc.starting})
        if wc.watcher is not None:
            wc.watcher.cancel()
        with connector_context(name):
            if wc.started and wc.instance is not None:
                try:
                    await asyncio.wait_for(wc.instance.stop(), self.graceful_timeout)
                except Exception as e:
                    log.error("Connector %s failed to stop cleanly", name, exc_info=e)
            log.info("Connector %s stopped", name)

    def is_running(self, name: str) -> bool:
        wc = self.connectors.get(name)
        return wc is not None and wc.started

    def connector_instance(self, name: str) -> Connector | None:
        wc = self.connectors.get(name)
        return wc.instance if wc else None

    def connector_version(self, name: str) -> str | None:
        """The version of the connector instance this worker runs under `name`; None when none is loaded."""
        wc = self.connectors.get(name)
        return plugin_version(type(wc.instance)) if wc is not None and wc.instance is not None else None

    def task_version(self, task: TaskId) -> str | None:
        runner = self.tasks.get(task)
        return plugin_version(type(runner.task)) if runner is not None else None

    async def task_configs(self, name: str) -> list[dict[str, str]]:
        wc = self.connectors.get(name)
        if wc is None or wc.instance is None or not wc.started:
            raise ConnectError(f"Connector {name} is not running")
        max_tasks = int(wc.config.get("tasks.max", "1"))
        with connector_context(name):
            configs = await wc.instance.task_configs(max_tasks)
        enforce = wc.config.get("tasks.max.enforce", "true").lower() != "false"
        if len(configs) > max_tasks and enforce:
            raise ConnectError(
                f"The connector {name} has generated {len(configs)} tasks, which is greater than "
                f"{max_tasks}, the maximum number of tasks it is configured to create. This "
                f"behaviour should be considered a bug and is disallowed. If necessary, it can be "
                f"permitted by reconfiguring the connector with 'tasks.max.enforce' set to false; "
                f"however, this option will be removed in a future release of Kafka Connect."
            )
        task_class = wc.instance.task_class.class_name
        return reverse_transform(
            wc.config, [{"task.class": task_class, **{k: str(v) for k, v in c.items()}} for c in configs]
        )

    def connector_tasks(self, name: str) -> list[TaskId]:
        return sorted(t for t in self.tasks if t.connector == name)

    def connector_type(self, connector_class: str) -> str:
        return self.plugins.connector_type(connector_class)

    async def set_target_state(self, name: str, target: TargetState) -> None:
        wc = self.connectors.get(name)
        if wc is not None:
            wc.target = target
        for tid in self.connector_tasks(name):
            runner = self.tasks[tid]
            runner.pause() if target == TargetState.PAUSED else runner.resume()
        if wc is not None and wc.started:
            self.metrics.on_connector_state(name, State.PAUSED if target == TargetState.PAUSED else State.RUNNING)

    # -- tasks --------------------------------------------------------------------------------------
    async def start_task(
        self,
        task: TaskId,
        connector_config: dict[str, str],
        task_config: dict[str, str],
        target: TargetState,
        auto: bool = False,
    ) -> None:
        """Starts (or restarts) the task; `auto`: an auto-restart, which keeps the restart schedule going."""
        if task in self.tasks:
            await self.stop_tasks([task], auto=auto)
        if not auto:
            self.restarter.forget(task)
        try:
            runner = self._build_runner(task, connector_config, task_config)
        except Exception as e:
            log.error("Failed to start task %s", task, exc_info=e)
            self.metrics.task_start_failed()
            self.metrics.on_task_state(task, State.FAILED, format_trace(e))
            return
        runner.restart_configs = (connector_config, task_config, target)
        self.tasks[task] = runner
        runner.start(paused=target == TargetState.PAUSED)
        log.info(
            "Task %s (%s) started%s",
            task,
            task_config.get("task.class"),
            " and paused" if target == TargetState.PAUSED else "",
        )

    def _build_runner(self, task: TaskId, connector_config: dict[str, str], task_config: dict[str, str]) -> TaskRunner:
        cls = self.plugins.resolve_connector(connector_config.get("connector.class", ""))
        connector_config, task_config = self.transform(connector_config, cls), self.transform(task_config, cls)
        check_overrides(self.override_policy, connector_config, uses_clients(cls.type, connector_config, self.config))
        instance = cls.task_class()
        from ..transforms.chain import build_chain

        chain = build_chain(self.plugins, connector_config)
        key_conv = converter_for(self.plugins, self.config, connector_config, "key")
        value_conv = converter_for(self.plugins, self.config, connector_config, "value")
        header_conv = converter_for(self.plugins, self.config, connector_config, "header")
        if isinstance(instance, SourceTask):
            producer_config = {
                **self.config.with_prefix("producer."),
                **_prefixed(connector_config, "producer.override."),
            }
            return SourceTaskRunner(
                task,
                instance,
                task_config,
                connector_config,
                self,
                key_conv,
                value_conv,
                self.transport,
                self.offsets,
                producer_config,
                self._topic_creation(connector_config),
                chain,
                header_conv,
            )
        if isinstance(instance, SinkTask):
            consumer_config = {
                **self.config.with_prefix("consumer."),
                **_prefixed(connector_config, "consumer.override."),
            }
            producer_config = {
                **self.config.with_prefix("producer."),
                **_prefixed(connector_config, "producer.override."),
            }
            return SinkTaskRunner(
                task,
                instance,
                task_config,
                connector_config,
                self,
                key_conv,
                value_conv,
                self.transport,
                consumer_config,
                chain,
                producer_config,
                header_conv,
            )
        raise ConnectError(f"{type(instance).__name__} is neither a SourceTask nor a SinkTask")

    def _topic_creation(self, connector_config: dict[str, str]) -> Any:
        try:
            from .topic_creation import TopicCreation
        except ImportError:
            return None
        return TopicCreation(bool(self.config["topic.creation.enable"]), connector_config)

    async def stop_tasks(self, tasks: list[TaskId], auto: bool = False) -> None:
        if not auto:
            for t in tasks:
                self.restarter.forget(t)
        runners = [self.tasks[t] for t in tasks if t in self.tasks]
        await asyncio.gather(*(r.stop(self.graceful_timeout) for r in runners))
        for t in tasks:
            if self.tasks.pop(t, None) is not None:
                log.info("Task %s stopped", t)


def _metric_window(config: Any) -> MetricWindow:
    """metrics.sample.window.ms and metrics.num.samples, Kafka's defaults when the config does not define them."""
    try:
        return MetricWindow(config["metrics.sample.window.ms"], config["metrics.num.samples"])
    except (KeyError, TypeError):
        return MetricWindow()


def _prefixed(config: dict[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)}


__all__ = ["SinkConnector", "SourceConnector", "Worker"]
