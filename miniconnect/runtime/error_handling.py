"""Error tolerance for a task's records, as Kafka's RetryWithToleranceOperator with its LogReporter and
DeadLetterQueueReporter: a conversion or transformation that raises a RetriableError is retried with back-off for
up to `errors.retry.timeout`; a record that still fails (or fails otherwise, or through the errant record reporter
in the sink's put) is logged if `errors.log.enable`, sent to the DLQ topic (sinks) with the `__connect.errors.*`
headers if asked, then skipped with `errors.tolerance=all` or fails the task with `none`."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..data.schema import DataError
from ..errors import ConfigError, ConnectError, RetriableError
from ..transport.base import NewTopic, ProducerRecord, Transport
from .states import TaskId

log = logging.getLogger(__name__)

HEADER_PREFIX = "__connect.errors."
KEY_CONVERTER, VALUE_CONVERTER, HEADER_CONVERTER = "KEY_CONVERTER", "VALUE_CONVERTER", "HEADER_CONVERTER"
TRANSFORMATION, TASK_PUT, TASK_POLL = "TRANSFORMATION", "TASK_PUT", "TASK_POLL"

RETRIES_DELAY_MIN_MS = 300  # RetryWithToleranceOperator.RETRIES_DELAY_MIN_MS

_JAVA_EXCEPTIONS = {
    DataError: "org.apache.kafka.connect.errors.DataException",
    RetriableError: "org.apache.kafka.connect.errors.RetriableException",
    ConfigError: "org.apache.kafka.common.config.ConfigException",
    ConnectError: "org.apache.kafka.connect.errors.ConnectException",
}


class ErrorPath(Exception):
    """Raised by a runner's batch fast path when a record fails: the batch is done again record by record, each
    stage through ErrorHandler.execute (the fast path itself never reports nor retries; its failed attempt is one
    more than Kafka makes, without back-off)."""


class Original(NamedTuple):
    """The consumed record as it came from Kafka (what the DLQ receives)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int | None
    headers: Any


def exception_class_name(e: BaseException) -> str:
    for cls in type(e).__mro__:
        if cls in _JAVA_EXCEPTIONS:
            return _JAVA_EXCEPTIONS[cls]
    return f"{type(e).__module__}.{type(e).__qualname__}"


class ErrorHandler:
    """One per task. `failed` is called on the error path only; nothing here runs for good records."""

    def __init__(self, task_id: TaskId, config: Mapping[str, str], sink: bool):
        self.task_id = task_id
        self.tolerate_all = (config.get("errors.tolerance") or "none").strip() == "all"
        self.log_enable = _bool(config.get("errors.log.enable"))
        self.include_messages = _bool(config.get("errors.log.include.messages"))
        self.dlq_topic = (config.get("errors.deadletterqueue.topic.name") or "").strip() if sink else ""
        self.dlq_replication = int(config.get("errors.deadletterqueue.topic.replication.factor") or 3)
        self.dlq_headers = _bool(config.get("errors.deadletterqueue.context.headers.enable"))
        self.retry_timeout_ms = int(config.get("errors.retry.timeout") or 0)  # -1: no limit
        self.retry_delay_max_ms = int(config.get("errors.retry.delay.max.ms") or 60_000)
        self.stopping = asyncio.Event()  # set when the task stops: back-off ends, the record is not retried
        self.pending: list[ProducerRecord] = []
        self.producer: Any = None
        # the counters of Kafka's ErrorHandlingMetrics, for the task metrics
        self.total_record_failures = 0
        self.total_record_errors = 0
        self.total_records_skipped = 0
        self.total_retries = 0
        self.deadletterqueue_produce_requests = 0
        self.deadletterqueue_produce_failures = 0
        self.total_errors_logged = 0
        self.last_error_timestamp = 0  # ms since the epoch, 0 before the first error

    async def start(self, transport: Transport, producer_config: Mapping[str, Any]) -> None:
        """DeadLetterQueueReporter.createAndSetup: the DLQ topic (1 partition) created if missing, a producer."""
        if not self.dlq_topic:
            return
        await transport.create_topics([NewTopic(self.dlq_topic, 1, self.dlq_replication)])
        self.producer = transport.producer(dict(producer_config))
        await self.producer.start()

    @property
    def handles_errors(self) -> bool:
        """Whether a failing record is anything but the end of the task (the runners' per-record error path)."""
        return self.tolerate_all or bool(self.dlq_topic) or self.log_enable or self.retry_timeout_ms != 0

    async def execute(
        self,
        operation: Callable[[], Any],
        stage: str,
        executing_class: str,
        original: Original | None = None,
        record: Any = None,
    ) -> tuple[bool, Any]:
        """RetryWithToleranceOperator.execute for one record's conversion or transformation stage: (True, result),
        or (False, None) when the record failed and is skipped; raises when tolerance is exceeded. A RetriableError
        is retried after a back-off doubling from 300 ms (past `errors.retry.delay.max.ms`: a random delay below
        it) until `errors.retry.timeout` has passed since the first attempt (-1: forever), then counts as a
        failure like any other (as in Kafka 4.1, KAFKA-18073: not silently dropped)."""
        attempt = 0
        deadline = time.monotonic() + self.retry_timeout_ms / 1000 if self.retry_timeout_ms >= 0 else None
        while True:
            attempt += 1
            try:
                return True, operation()
            except RetriableError as e:
                self.total_record_failures += 1
                if deadline is None or time.monotonic() < deadline:
                    if await self._backoff(attempt, deadline):
                        raise ConnectError(f"Task {self.task_id} stopped while retrying: {e}") from e
                    self.total_retries += 1
                    continue
                error: BaseException = e
            except Exception as e:
                error = e
            self.failed(stage, executing_class, error, original, record)
            return False, None

    async def _backoff(self, attempt: int, deadline: float | None) -> bool:
        """RetryWithToleranceOperator.backoff, ended early when the task stops; True if it is stopping."""
        seconds = retry_delay_ms(attempt, self.retry_delay_max_ms) / 1000
        if deadline is not None:
            seconds = max(0.0, min(seconds, deadline - time.monotonic()))
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except TimeoutError:
            pass
        return self.stopping.is_set()

    def failed(
        self, stage: str, executing_class: str, error: BaseException, original: Original | None, record: Any = None
    ) -> None:
        """One failed record: reported, then skipped (tolerance all) or raised as Kafka's 'Tolerance exceeded'."""
        self.total_record_failures += 1
        self.total_record_errors += 1
        self.last_error_timestamp = int(time.time() * 1000)
        if self.log_enable:
            self.total_errors_logged += 1
            log.error(
                "Error encountered in task %s. %s",
                self.task_id,
                self._describe(stage, executing_class, original, record),
                exc_info=error,
            )
        if self.dlq_topic and original is not None:
            self.deadletterqueue_produce_requests += 1
            self.pending.append(self._dlq_record(stage, executing_class, error, original))
        if not self.tolerate_all:
            raise ConnectError("Tolerance exceeded in error handler") from error
        self.total_records_skipped += 1

    def _describe(self, stage: str, executing_class: str, original: Original | None, record: Any) -> str:
        """ProcessingContext.toString(includeMessage), as LogReporter writes it: the record only with
        errors.log.include.messages."""
        text = f"Executing stage '{stage}' with class '{executing_class}'"
        if self.include_messages and record is not None and original is None:
            text += f", where source record is = {record!r}"
        elif self.include_messages and original is not None:
            text += (
                f", where consumed record is {{topic='{original.topic}', partition={original.partition}, "
                f"offset={original.offset}"
            )
            if original.timestamp is not None:
                text += f", timestamp={original.timestamp}, timestampType=CreateTime"
            text += "}"
        return text + "."

    def _dlq_record(self, stage: str, executing_class: str, error: BaseException, o: Original) -> ProducerRecord:
        headers = list(o.headers or ())
        if self.dlq_headers:
            trace = "".join(traceback.format_exception(error))
            headers += [
                (HEADER_PREFIX + "topic", o.topic.encode()),
                (HEADER_PREFIX + "partition", str(o.partition).encode()),
                (HEADER_PREFIX + "offset", str(o.offset).encode()),
                (HEADER_PREFIX + "connector.name", self.task_id.connector.encode()),
                (HEADER_PREFIX + "task.id", str(self.task_id.task).encode()),
                (HEADER_PREFIX + "stage", stage.encode()),
                (HEADER_PREFIX + "class.name", executing_class.encode()),
                (HEADER_PREFIX + "exception.class.name", exception_class_name(error).encode()),
                (HEADER_PREFIX + "exception.message", str(error).encode()),
                (HEADER_PREFIX + "exception.stacktrace", trace.encode()),
            ]
        return ProducerRecord(self.dlq_topic, o.key, o.value, None, o.timestamp, headers)

    async def flush(self) -> None:
        """Sends the DLQ records of failed records; called before the offsets past them are committed."""
        if not self.pending or self.producer is None:
            return
        batch, self.pending = self.pending, []
        try:
            await self.producer.send_batch(batch)
        except Exception as e:
            self.deadletterqueue_produce_failures += len(batch)
            log.error("Could not produce message to dead letter queue. topic=%s", self.dlq_topic, exc_info=e)

    async def stop(self) -> None:
        try:
            await self.flush()
        finally:
            if self.producer is not None:
                producer, self.producer = self.producer, None
                await producer.stop()


def retry_delay_ms(attempt: int, max_delay_ms: int) -> int:
    """The back-off after the attempt-th failed attempt: 300 ms doubled each time, and once that passes
    `errors.retry.delay.max.ms` a random delay below it (RetryWithToleranceOperator.backoff)."""
    delay = RETRIES_DELAY_MIN_MS << min(attempt - 1, 40)
    if delay > max_delay_ms:
        delay = random.randrange(max_delay_ms) if max_delay_ms > 0 else 0
    return delay


def _bool(value: Any) -> bool:
    return str(value or "").strip().lower() == "true"
