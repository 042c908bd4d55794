"""While the cluster cannot be reached: aiokafka's repeated log lines thinned out, startup calls retried."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka import errors as kerrors

from ...errors import RetriableError

log = logging.getLogger(__name__)
T = TypeVar("T")


class RepeatFilter(logging.Filter):
    """aiokafka logs each failed reconnect, metadata, fetch and produce attempt (hundreds of lines a second
    while a broker restarts). Lets each distinct warning or error through once per `window_s`, and notes how
    often it repeated meanwhile, so an outage reads as a few clear lines."""

    def __init__(self, window_s: float = 10.0):
        super().__init__()
        self.window_s = window_s
        self._seen: dict[tuple, list] = {}  # key -> [last emitted (monotonic), suppressed count]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        if record.msg == _UNKNOWN_TOPIC and record.levelno == logging.ERROR:
            # a topic being created or not created yet: Kafka's Java client says so at WARN, not ERROR
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        key = (record.name, record.msg, str(record.args))
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self.window_s:
            seen[1] += 1
            return False
        if seen is not None and seen[1]:
            record.msg = f"{record.getMessage()} (repeated {seen[1]} times in the last {now - seen[0]:.0f}s)"
            record.args = None
        if len(self._seen) > 1000:
            self._seen.clear()
        self._seen[key] = [now, 0]
        return True


_UNKNOWN_TOPIC = "Topic %s not found in cluster metadata"  # aiokafka.cluster's ERROR line
_REPEATS = RepeatFilter()
for _name in (
    "aiokafka",
    "aiokafka.conn",
    "aiokafka.cluster",
    "aiokafka.admin.client",
    "aiokafka.producer.producer",
    "aiokafka.producer.sender",
    "aiokafka.consumer.consumer",
    "aiokafka.consumer.fetcher",
    "aiokafka.consumer.group_coordinator",
):
    logging.getLogger(_name).addFilter(_REPEATS)


async def _retry(what: str, bootstrap: str, fn: Callable[[], Awaitable[T]], timeout_s: float | None) -> T:
    """Retries `fn` while the cluster cannot be reached, with backoff capped at 4 s (a broker that comes up is
    used within seconds); gives up after timeout_s (None: never). Other errors propagate at once."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    delay, attempt = 0.5, 1
    while True:
        try:
            return await fn()
        except (
            kerrors.KafkaConnectionError,
            kerrors.KafkaTimeoutError,
            kerrors.NoBrokersAvailable,
            kerrors.NodeNotReadyError,
            kerrors.GroupCoordinatorNotAvailableError,
            kerrors.CoordinatorNotAvailableError,
            kerrors.RequestTimedOutError,
            OSError,
        ) as e:
            if deadline is not None and time.monotonic() + delay > deadline:
                raise RetriableError(f"{what}: Kafka at {bootstrap} unreachable after {timeout_s:g}s: {e!r}") from e
            log.warning(
                "%s: Kafka at %s not reachable (attempt %d: %r); retrying in %.1fs", what, bootstrap, attempt, e, delay
            )
            await asyncio.sleep(delay)
            delay, attempt = min(delay * 2, 4.0), attempt + 1
