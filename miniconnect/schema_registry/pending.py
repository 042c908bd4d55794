"""Schema Registry requests never run on the worker's event loop. A registry client asked, on the loop, for something
its caches do not hold raises SchemaNotCached instead of waiting; `converted` (for the task runners) then makes that
request in a thread of its own, waits with back-off while the registry is down, and converts again, so that the
first record of a new schema, or a registry that is down, holds only the task that needs it."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ..errors import ConnectError
from ..retry import Backoff, describe

T = TypeVar("T")
log = logging.getLogger(__name__)

# Registry requests of every task of the worker. Threads of their own: a registry that does not answer (each request
# may wait http.read.timeout.ms) must not take the default executor's threads from other work.
_IO = ThreadPoolExecutor(max_workers=4, thread_name_prefix="schema-registry-io")


class SchemaNotCached(BaseException):
    """Raised on the event loop by a registry client whose caches miss: `fetch()` (blocking, for a thread) makes the
    request and keeps its answer, or the registry's refusal, for the next try; it raises while the registry cannot
    be reached. A BaseException, like asyncio.CancelledError: it is no error of a record, and it must pass the
    `except Exception` of converters, error handlers and runners on its way out."""

    def __init__(self, fetch: Callable[[], None], what: str, wait_ms: int, max_wait_ms: int):
        super().__init__(what)
        self.fetch, self.what = fetch, what
        self.backoff = Backoff(initial=wait_ms / 1000, maximum=max(wait_ms, max_wait_ms) / 1000)


async def fetched(pending: SchemaNotCached) -> None:
    """Makes the request `pending` needs in the registry's own threads (raises while the registry cannot be reached)."""
    await asyncio.get_running_loop().run_in_executor(_IO, pending.fetch)


def on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def converted(
    convert: Callable[[], T | Awaitable[T]],
    where: str,
    wait: Callable[[float], Awaitable[bool]],
    on_wait: Callable[[str | None], None] | None = None,
) -> T:
    """convert(), tried again after each registry request it needed was made off the loop. While the registry cannot
    be reached, waits with the client's back-off (retries.wait.ms doubling up to retries.max.wait.ms), without limit:
    nothing is converted, so nothing past the record is sent or committed; `on_wait` gets a status trace naming
    `where` (the records' topic, partition and offset), then None once it works again. `wait(seconds)` returns True
    when the task is stopping (then ConnectError)."""
    failures = 0
    while True:
        try:
            result = convert()
            if inspect.isawaitable(result):
                result = await result
        except SchemaNotCached as pending:
            try:
                await fetched(pending)
            except Exception as e:
                delay = pending.backoff.delay(failures)
                failures += 1
                what = (
                    f"Waiting for the Schema Registry to convert {where} (attempt {failures}, next in {delay:.1f} s): "
                    f"{describe(e)}"
                )
                log.warning("%s", what)
                if on_wait is not None:
                    on_wait(what)
                if await wait(delay):
                    raise ConnectError(f"Stopped while waiting for the Schema Registry to convert {where}: {e}") from e
            continue
        if failures:
            log.info("The Schema Registry answers again: %s converted after %d retries", where, failures)
            if on_wait is not None:
                on_wait(None)
        return result


async def sleep(seconds: float) -> bool:
    """`wait` for callers without a task to stop (the test harness)."""
    await asyncio.sleep(seconds)
    return False
