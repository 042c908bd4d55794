"""miniconnect.retry: back-off bounds, which errors count as an outage (with the drivers' real exceptions), and the
retry loop (one log line per back-off step, status callbacks, giving up)."""

from __future__ import annotations

import asyncio
import errno
import logging

import aiomysql
import asyncpg
import pytest
from aiokafka import errors as kerrors

from miniconnect.errors import ConnectError
from miniconnect.retry import Backoff, ResourceUnavailable, describe, is_retriable, retry
from miniconnect.runtime.restarts import Restarter, RestartSchedule


def test_backoff_is_exponential_capped_and_jittered() -> None:
    b = Backoff(initial=1.0, maximum=10.0, jitter=0.2)
    for attempt, base in enumerate([1, 2, 4, 8, 10, 10, 10]):
        for _ in range(50):
            assert base * 0.8 <= b.delay(attempt) <= base * 1.2
    assert len({b.delay(3) for _ in range(20)}) > 1  # jitter spreads the retries
    assert Backoff(0.25, 60, jitter=0).delay(2) == 1.0
    assert Backoff(0.25, 60, jitter=0).delay(1000) == 60


def raised_from(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as e:
            raise outer from e
    except BaseException as e:
        return e


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        ConnectionRefusedError(errno.ECONNREFUSED, "refused"),
        TimeoutError(),
        ResourceUnavailable("database down"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        aiomysql.OperationalError(2013, "Lost connection to MySQL server during query"),
        aiomysql.OperationalError(2003, "Can't connect to MySQL server"),
        kerrors.KafkaConnectionError(),
        kerrors.NotLeaderForPartitionError(),
        raised_from(ConnectError("Write of records failed after 10 retries"), ConnectionResetError()),
    ],
    ids=repr,
)
def test_outages_are_retriable(error: BaseException) -> None:
    assert is_retriable(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad record"),
        ConnectError("Invalid value x for configuration y"),
        OSError(errno.EISDIR, "Is a directory"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        aiomysql.IntegrityError(1062, "Duplicate entry"),
        aiomysql.OperationalError(1213, "Deadlock found"),  # a statement failure: max.retries governs it
        kerrors.TopicAuthorizationFailedError(),
        raised_from(ConnectError("Write of records failed"), asyncpg.exceptions.NotNullViolationError("null")),
    ],
    ids=repr,
)
def test_other_failures_are_not(error: BaseException) -> None:
    assert not is_retriable(error)


def test_describe_names_the_chain() -> None:
    text = describe(raised_from(ConnectError("write failed"), ConnectionResetError("reset by peer")))
    assert text == "ConnectError: write failed; caused by ConnectionResetError: reset by peer"


async def test_retry_logs_once_per_step_and_reports_the_wait(caplog: pytest.LogCaptureFixture) -> None:
    calls, waits = [], []

    async def op() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "refused")
        return "ok"

    with caplog.at_level(logging.WARNING, "miniconnect.retry"):
        assert await retry(op, "the database", backoff=Backoff(0.001, 0.002), on_wait=waits.append) == "ok"
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(calls) == 4 and len(lines) == 3
    assert all(line.startswith("Waiting for the database: ") and "refused" in line for line in lines)
    assert waits[:3] == lines and waits[3] is None  # cleared once it worked


async def test_retry_gives_up_and_passes_other_errors() -> None:
    async def down() -> None:
        raise ConnectionRefusedError(errno.ECONNREFUSED, "refused")

    with pytest.raises(ConnectionRefusedError):
        await retry(down, "x", backoff=Backoff(0.001, 0.001), attempts=3)
    with pytest.raises(ConnectionRefusedError):
        await retry(down, "x", backoff=Backoff(0.01, 0.01), timeout_s=0.05)

    async def bad() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError):
        await retry(bad, "x")

    async def stop(_: float) -> bool:
        return True  # the task is stopping

    with pytest.raises(ConnectError, match="Stopped while waiting for x"):
        await retry(down, "x", sleep=stop)


def test_strimzi_schedule() -> None:
    s = RestartSchedule()
    assert [s.delay(n) / 60 for n in range(8)] == [0, 2, 6, 12, 20, 30, 42, 56]
    assert s.delay(8) == 3600  # capped at auto.restart.backoff.max.ms
    assert RestartSchedule(True, 1.0, 5.0).delay(2) == 5.0


async def test_restarter_plans_outages_apart_and_counts_restarts() -> None:
    r = Restarter(RestartSchedule(True, 60.0, 3600.0), Backoff(1.0, 30.0, jitter=0))
    bad = ValueError("bad record")
    assert r.plan("t", bad, ran_s=1) == (0, False)
    assert r.plan("t", bad, ran_s=1) == (120, False)
    assert r.plan("t", bad, ran_s=3600) == (0, False)  # it ran long enough: the schedule starts again
    assert r.plan("o", ResourceUnavailable("db"), ran_s=1) == (1.0, True)
    assert r.plan("o", ResourceUnavailable("db"), ran_s=1) == (2.0, True)
    assert Restarter(RestartSchedule(enabled=False)).plan("t", bad, 1) is None
    assert Restarter(RestartSchedule(enabled=False)).plan("o", ResourceUnavailable("db"), 1) is not None

    done = asyncio.Event()

    async def restart() -> None:
        done.set()

    r.start("t", "Task t", bad, 0.0, restart)
    await asyncio.wait_for(done.wait(), 5)
    await asyncio.sleep(0)
    assert r.restarts == 1


async def test_stop_cancels_a_restart_under_way() -> None:
    """A restart already running when the worker stops is cancelled and awaited: it cannot start the task again on
    a worker that has stopped (seen as a task of one test still running during the next)."""
    r = Restarter(RestartSchedule(True, 60.0, 3600.0))
    r.plan("t", ValueError("bad"), ran_s=1)
    began, finished = asyncio.Event(), []

    async def restart() -> None:
        began.set()
        await asyncio.sleep(30)  # the task's start, still under way
        finished.append(True)

    r.start("t", "Task t", ValueError("bad"), 0.0, restart)
    await asyncio.wait_for(began.wait(), 5)
    await asyncio.wait_for(r.stop(), 5)
    await asyncio.sleep(0.05)
    assert finished == [] and all(t.get_name() != "restart-t" or t.done() for t in asyncio.all_tasks())
