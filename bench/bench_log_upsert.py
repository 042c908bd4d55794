"""The PostgreSQL upsert of existing keys from Kafka and from the embedded log, in one PostgreSQL, cases in ABBA order,
with what PostgreSQL did in each (issue 23: bench_vs_jvm showed the embedded log 20-25 % slower on this case).

Run: python bench/bench_log_upsert.py [N] [--order kafka,embedded,embedded,kafka] [--profile DIR]
     (a case "kafka:embedded" fills the table from Kafka, then upserts the changed records from the embedded log)
Each case is a fresh `miniconnect standalone` worker: first the new-key upsert of N records into a fresh table
(untimed), then the timed upsert of the same N keys with other values (the bench_jdbc_sink_kafka case), followed by
the database's own counters for the timed part: CPU of the whole cluster (backends, checkpointer, autovacuum...),
WAL written, checkpoints, buffers written by the checkpointer / background writer / backends, blocks read and hit,
and what the upserting backends waited for (sampled every 20 ms: on CPU, or a wait event such as Lock:tuple or
IO:DataFileExtend). The records are
produced once per transport before the first case. --profile DIR: py-spy (on PATH or beside the interpreter) samples
the worker during each timed part, every thread, idle too, into DIR/<case>.txt (collapsed stacks).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench_jdbc_sink_kafka import Db, produce_embedded, produce_kafka, run_case, values
from servers import db_server, kafka_server
from worker_process import WorkerProcess

COUNTERS = (
    "SELECT (SELECT wal_bytes FROM pg_stat_wal), (SELECT wal_fpi FROM pg_stat_wal), "
    "checkpoints_timed + checkpoints_req, buffers_checkpoint, buffers_clean, buffers_backend, "
    "(SELECT blks_read FROM pg_stat_database WHERE datname = current_database()), "
    "(SELECT blks_hit FROM pg_stat_database WHERE datname = current_database()) FROM pg_stat_bgwriter"
)


async def counters(db: Db) -> tuple[Any, ...]:
    conn = await db.server.connect()
    try:
        return tuple(await conn.fetchrow(COUNTERS))
    finally:
        await conn.close()


class Waits:
    """Samples, every 20 ms, what the database's other client backends that run a statement wait for (pg_stat_activity;
    "CPU" when they wait for nothing): where the upserts' time goes on the server side."""

    SQL = (
        "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid() "
        "AND query NOT LIKE 'SELECT COUNT(*)%'"
    )

    def __init__(self, db: Db):
        self.db, self.seen = db, Counter[str]()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self.thread.start()

    async def _run(self) -> None:
        conn = await self.db.server.connect()
        try:
            while not self.stop.is_set():
                self.seen.update(r[0] for r in await conn.fetch(self.SQL))
                await asyncio.sleep(0.02)
        finally:
            await conn.close()

    def summary(self) -> str:
        self.stop.set()
        self.thread.join()
        total = sum(self.seen.values()) or 1
        return ", ".join(f"{k} {v / total:.0%}" for k, v in self.seen.most_common(6))


def profile(out: Path, worker: WorkerProcess, name: str) -> subprocess.Popen[bytes]:
    out.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    assert worker.proc is not None
    cmd = [spy, "record", "-p", str(worker.proc.pid), "--threads", "--idle", "-r", "250", "--format", "raw"]
    return subprocess.Popen(
        [*cmd, "-o", str(out / f"{name}.txt")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=500_000)
    ap.add_argument("--order", default="kafka,embedded,embedded,kafka")
    ap.add_argument("--profile", type=Path, help="py-spy samples of each timed part into this directory")
    args = ap.parse_args()
    n = args.n
    order = args.order.split(",")
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-log-upsert-") as tmp:
        db = Db("PostgreSQL", stack.enter_context(db_server("postgresql")))
        data, changed = values(n, False), values(n, False, changed=True)
        topic = f"orders_{uuid.uuid4().hex[:6]}"
        log_dir = Path(tmp) / "log"
        bootstrap = stack.enter_context(kafka_server()) if "kafka" in args.order else None
        for transport in dict.fromkeys(t for case in order for t in case.split(":")):
            secs = 0.0
            for t, d in ((topic, data), (f"{topic}_changed", changed)):
                if transport == "kafka":
                    secs += asyncio.run(produce_kafka(bootstrap, t, d))
                else:
                    secs += asyncio.run(produce_embedded(log_dir, t, d))
            print(f"{transport}: produced {2 * n:,} records in {secs:.1f} s", flush=True)

        def start(transport: str, name: str) -> WorkerProcess:
            extra = {"offset.flush.interval.ms": "10000", "embedded.log.dir": str(log_dir)}
            if transport == "kafka":
                extra["bootstrap.servers"] = str(bootstrap)
            worker = WorkerProcess(Path(tmp) / name, extra=extra)
            worker.start(30)
            return worker

        for i, case in enumerate(order):
            fill, _, transport = case.rpartition(":")
            fill = fill or transport
            label = f"{i + 1}. {transport}" + (f" (filled from {fill})" if fill != transport else "")
            worker = start(fill, f"w{i}-{fill}")
            try:
                table = run_case(worker, db, topic, n, "upsert", f"{label} upsert, new keys", keep=True)
                if fill != transport:
                    worker.stop()
                    worker = start(transport, f"w{i}-{transport}")
                spy = profile(args.profile, worker, f"{i + 1}-{transport}") if args.profile else None
                before, t0 = asyncio.run(counters(db)), time.perf_counter()
                waits = Waits(db)
                run_case(worker, db, f"{topic}_changed", n, "upsert-existing", f"{label} upsert, existing", table=table)
                after, secs = asyncio.run(counters(db)), time.perf_counter() - t0
                waited = waits.summary()
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(60)
            finally:
                worker.stop()
            d = [a - b for a, b in zip(after, before)]
            print(
                f"   {'':<47} WAL {d[0] / n:,.0f} B/row ({d[1]:,} full pages), {d[2]} checkpoints, buffers "
                f"written: checkpoint {d[3]:,}, bgwriter {d[4]:,}, backends {d[5]:,}; blocks read {d[6]:,}, "
                f"hit {d[7]:,} ({secs:.1f} s)\n   {'':<47} the upserting backends: {waited}",
                flush=True,
            )


if __name__ == "__main__":
    main()
