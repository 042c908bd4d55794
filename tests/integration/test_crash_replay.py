"""SQLite -> embedded log -> SQLite through a real worker started from the shipped config/connect-standalone.properties,
SIGKILLed three times mid-stream (100,000 rows) and started again: no row is lost, and the rows written twice are at most the
batches in flight at each kill (source offsets are committed once the log synced the records, sink positions once
the database committed them)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from pipelines import copy_sink, items_source, sqlite, sqlite_counts
from worker_process import WorkerProcess, free_port

from miniconnect.runtime.sink_task import PUT_BATCH_POLLS

ROWS = 100_000  # the 50,000 finished between two progress checks once the pipeline got faster
KILLS = 3
SOURCE_BATCH = 500  # batch.max.rows
MAX_POLL = 500  # the sink consumer's max.poll.records (Kafka's default)
CONFIG = Path(__file__).parents[2] / "config" / "connect-standalone.properties"


def shipped_worker(tmp_path: Path) -> WorkerProcess:
    """A WorkerProcess whose properties are the shipped file with its /tmp/miniconnect paths and port moved."""
    worker = WorkerProcess(tmp_path / "worker")
    port = free_port()
    text = CONFIG.read_text().replace("/tmp/miniconnect", str(tmp_path / "data")).replace(":8083", f":{port}")
    worker.props.write_text(text)
    worker.port, worker.url = port, f"http://127.0.0.1:{port}"
    return worker


def test_sigkill_three_times_replays_only_batches_in_flight(tmp_path: Path) -> None:
    src, dst = tmp_path / "src.db", tmp_path / "dst.db"
    with sqlite3.connect(src) as con:  # one transaction
        con.execute("CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, qty INTEGER)")
        con.executemany("INSERT INTO items (name, qty) VALUES (?, ?)", ((f"item-{i}", i % 97) for i in range(ROWS)))
    con.close()
    source = items_source(sqlite(src), "crash_", **{"batch.max.rows": str(SOURCE_BATCH), "poll.interval.ms": "200"})
    sink = copy_sink(sqlite(dst), "crash_items", **{"table.name.format": "items"})
    worker = shipped_worker(tmp_path)
    worker.start()
    try:
        assert worker.rest("PUT", "/connectors/src/config", source).status_code == 201
        assert worker.rest("PUT", "/connectors/dst/config", sink).status_code == 201
        before = 0
        for _ in range(KILLS):
            # kill while rows are flowing: some thousands more than at the last kill, far from the end
            target = before + 3_000
            # (distinct ids: the rows replayed after earlier kills do not count as progress)
            worker.wait_for(lambda t=target: sqlite_counts(dst, "items")[1] >= t, 120, f"{target} ids in the sink")
            assert worker.stop(9) == -9
            rows, distinct = sqlite_counts(dst, "items")
            assert distinct < ROWS, f"not killed mid-stream: {distinct} ids"
            before = distinct
            worker.start()
            worker.wait_for(
                lambda r=distinct: sqlite_counts(dst, "items")[1] > r + 1000 or sqlite_counts(dst, "items")[1] == ROWS,
                120,
                "progress",
            )
        worker.wait_for(lambda: sqlite_counts(dst, "items")[1] == ROWS, 300, f"all {ROWS} ids in the sink")
        time.sleep(2)  # anything replayed late would show now
        rows, distinct = sqlite_counts(dst, "items")
        dupes = rows - distinct
        print(f"\nSIGKILL x{KILLS}: {rows} rows for {distinct} ids, {dupes} duplicates ({dupes / KILLS:.0f} per kill)")
        assert distinct == ROWS  # nothing lost
        # At most the batches in flight at each kill: the sink's put() batch (PUT_BATCH_POLLS polls), its read ahead
        # and the batch put while the last commit (spaced at most 10 a second) was on its way; the source's batch
        # being sent and the one polled meanwhile.
        bound = KILLS * (3 * PUT_BATCH_POLLS * MAX_POLL + 2 * SOURCE_BATCH)
        assert dupes <= bound, f"{dupes} duplicates > {bound}"
    finally:
        worker.stop()
