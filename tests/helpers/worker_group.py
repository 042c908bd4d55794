"""Polling with a deadline for the worker group tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

DEADLINE_S = 90


async def eventually(what: str, check: Callable[[], bool], timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.1)
