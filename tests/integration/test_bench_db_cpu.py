"""bench/bench_jdbc_sink_kafka.py's database CPU figure against a real PostgreSQL, when the session it asks for
the server's process exits at once (as a closed session's backend does, at its own pace)."""

from __future__ import annotations

import asyncio
import importlib.util
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_jdbc_sink_kafka.py"


def load_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_jdbc_sink_kafka", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _ClosingConnection:
    """An asyncpg connection whose close() returns only once its backend's process is gone."""

    def __init__(self, conn: Any):
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    async def close(self) -> None:
        backend = self._conn.get_server_pid()
        await self._conn.close()
        deadline = time.monotonic() + 30
        while os.path.exists(f"/proc/{backend}"):
            assert time.monotonic() < deadline, f"backend {backend} did not exit"
            await asyncio.sleep(0.01)


@dataclass
class _BackendsExitOnClose:
    server: Any
    kind: str = "postgresql"

    async def connect(self) -> _ClosingConnection:
        return _ClosingConnection(await self.server.connect())


def test_database_cpu_is_read_while_backends_exit(pg):
    bench = load_bench()
    db = bench.Db("postgresql", _BackendsExitOnClose(pg))
    before = db.server_cpu()  # before the fix: NaN, the backend asked for its parent had exited
    assert not math.isnan(before) and before > 0
    assert db.count("SELECT count(*) FROM generate_series(1, 200000)") == 200000
    after = db.server_cpu()
    assert after >= before
