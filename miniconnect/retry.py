"""The one retry/back-off helper: capped exponential back-off with jitter, which errors are worth a retry, and a loop
that retries an operation while they last, logging once per back-off step."""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from .errors import ConnectError, RetriableError

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class Backoff:
    """Kafka's ExponentialBackoff: initial * multiplier**attempt, capped at `maximum`, then moved by up to `jitter`
    (a fraction) either way so that many tasks waiting on one resource do not all retry in the same instant."""

    initial: float = 0.5
    maximum: float = 10.0
    multiplier: float = 2.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the `attempt`-th failure in a row (0-based)."""
        base = min(self.initial * self.multiplier ** min(attempt, 64), self.maximum)
        if self.jitter and base:
            base *= 1 + random.uniform(-self.jitter, self.jitter)
        return base


class ResourceUnavailable(RetriableError):
    """An outside resource the task needs (a database, the Kafka cluster, the disk under the embedded log) cannot be
    used right now; the runtime retries with back-off instead of failing the task."""


# A database restarting or unreachable, by the drivers' codes. PostgreSQL SQLSTATE class 08 (connection exception),
# 57P01-57P03 (admin/crash shutdown, cannot connect now), 53300 (too many connections); MySQL/MariaDB client
# errors 2002/2003 (cannot connect), 2006 (server gone away), 2013 (lost connection), server 1040 (too many
# connections), 1053 (server shutdown), 1927 (MariaDB: connection killed), 1205/1213 are statement failures, not
# outages, and stay with max.retries.
_PG_STATES = ("08", "57P01", "57P02", "57P03", "53300")
_MYSQL_CODES = {1040, 1053, 1927, 2002, 2003, 2006, 2013, 2055}
_OUTAGE_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.ETIMEDOUT,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ENETDOWN,
}
# asyncpg's errors for a connection that was lost or never came up carry no SQLSTATE
_LOST_CONNECTION = {"ConnectionDoesNotExistError", "ConnectionFailureError", "InternalClientError"}


def _is_outage(e: BaseException) -> bool:
    if isinstance(e, ResourceUnavailable):
        return True
    if isinstance(e, (ConnectionError, TimeoutError)):
        return True
    if isinstance(e, OSError) and e.errno in _OUTAGE_ERRNOS:
        return True
    mod, name = type(e).__module__, type(e).__name__
    if mod.startswith("asyncpg"):
        state = getattr(e, "sqlstate", None) or ""
        return state.startswith(_PG_STATES) or name in _LOST_CONNECTION or "connection is closed" in str(e)
    if mod.startswith(("pymysql", "aiomysql")):
        return bool(e.args) and e.args[0] in _MYSQL_CODES
    if mod.startswith("aiokafka"):
        return bool(getattr(e, "retriable", False)) or name in ("KafkaConnectionError", "NoBrokersAvailable")
    return False


def is_retriable(exc: BaseException) -> bool:
    """Whether `exc` (or an error it was raised from) says a resource is temporarily unavailable: a database
    restarting or unreachable, a Kafka broker down or moving leadership, a full disk. A bad record, a bad config or a
    failing SQL statement is not (those keep the connector's own retry options, then fail the task)."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if _is_outage(e):
            return True
        e = e.__cause__ or e.__context__
    return False


def describe(exc: BaseException) -> str:
    """The error and what it was raised from, on one line (for logs and the status trace)."""
    parts: list[str] = []
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen and len(parts) < 4:
        seen.add(id(e))
        text = str(e) or type(e).__name__
        if not any(text in p for p in parts):
            parts.append(text if type(e).__name__ in text else f"{type(e).__name__}: {text}")
        e = e.__cause__ or e.__context__
    return "; caused by ".join(parts)


async def _sleep(seconds: float) -> bool:
    await asyncio.sleep(seconds)
    return False


async def retry(
    op: Callable[[], Awaitable[T]],
    what: str,
    *,
    backoff: Backoff | None = None,
    retriable: Callable[[BaseException], bool] = is_retriable,
    attempts: int | None = None,
    timeout_s: float | None = None,
    sleep: Callable[[float], Awaitable[bool]] | None = None,
    on_wait: Callable[[str | None], None] | None = None,
    logger: logging.Logger | None = None,
) -> T:
    """Runs `op` until it succeeds, retrying the errors `retriable` accepts with `backoff` between tries. Gives up
    after `attempts` tries or `timeout_s` seconds (None: never) and raises the last error. `sleep(seconds)` waits
    between tries and returns True to give up (a task context's `wait`, True once the task stops): the last error is
    then raised as a ConnectError. Logs one warning per back-off step naming `what` it waits for; `on_wait` gets the same text
    while waiting and None once `op` succeeded after a wait (the task status uses it)."""
    backoff = backoff or Backoff()
    logger = logger or log
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    attempt = 0
    while True:
        try:
            result = await op()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if not retriable(e):
                raise
            delay = backoff.delay(attempt)
            attempt += 1
            out_of_time = deadline is not None and time.monotonic() + delay > deadline
            if (attempts is not None and attempt >= attempts) or out_of_time:
                raise
            text = f"Waiting for {what}: {describe(e)}; retrying in {delay:.1f} s (attempt {attempt})"
            logger.warning("%s", text)
            if on_wait is not None:
                on_wait(text)
            if await (sleep or _sleep)(delay):
                raise ConnectError(f"Stopped while waiting for {what}: {describe(e)}") from e
            continue
        if attempt and on_wait is not None:
            on_wait(None)
        if attempt:
            logger.info("%s is back after %d retries", what[:1].upper() + what[1:], attempt)
        return result
