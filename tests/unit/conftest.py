"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from helpers.worker import started_worker

from miniconnect.runtime.worker import Worker


@pytest.fixture
async def worker(tmp_path: Path) -> AsyncIterator[Worker]:
    """A started Worker on the embedded log (see helpers.worker)."""
    async with started_worker(tmp_path) as w:
        yield w
