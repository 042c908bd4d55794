"""The seed JDBC source configs through a real worker on Kafka, stopped mid-stream (SIGTERM, or SIGKILL) and started
again on the same offsets file: every row arrives; after a graceful stop none arrives twice."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from helpers.source_e2e import SEED_1, SEED_2, TOPIC_1, TOPIC_2, end_offset, offsets, read, seed, sql, wait_end
from servers import DbServer
from worker_process import WorkerProcess

MORE = 500


def load(server: DbServer, table: str, id_col: str, first: int, last: int) -> None:
    """Rows first..last; ids from the table's sequence, join dates one ms apart from 2024-01-01."""
    if server.kind == "postgresql":
        if table == "test":
            sql(server, f"INSERT INTO test (name) SELECT 'n' || g FROM generate_series({first}, {last}) g")
        else:
            sql(
                server,
                "INSERT INTO tb_iv_member_join (mem_id, mem_join_date) SELECT 'm' || g, "
                f"timestamp '2024-01-01' + g * interval '1 millisecond' FROM generate_series({first}, {last}) g",
            )
    elif table == "test":
        sql(server, f"INSERT INTO test (name) SELECT CONCAT('n', seq) FROM seq_{first}_to_{last}")
    else:
        sql(
            server,
            "INSERT INTO tb_iv_member_join (mem_id, mem_join_date) SELECT CONCAT('m', seq), "
            f"TIMESTAMPADD(MICROSECOND, seq * 1000, '2024-01-01') FROM seq_{first}_to_{last}",
        )


CASES = {  # kind -> (seed, topic, table, id column, rows: enough for the stop to land mid-stream on the columnar read)
    "mariadb-incrementing": (SEED_1, TOPIC_1, "test", "id", 400_000),
    "postgresql-timestamp+incrementing": (SEED_2, TOPIC_2, "tb_iv_member_join", "mem_uno", 400_000),
}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
@pytest.mark.parametrize("case", list(CASES))
def test_restart_mid_stream(
    case: str, sig: int, kafka_bootstrap: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    connector, topic, table, id_col, rows = CASES[case]
    server: DbServer = request.getfixturevalue("mysql_db" if case.startswith("mariadb") else "pg_db")
    pg = server.kind == "postgresql"
    serial = "SERIAL PRIMARY KEY" if pg else "INT AUTO_INCREMENT PRIMARY KEY"
    if table == "test":
        sql(server, f"CREATE TABLE test (id {serial}, name VARCHAR(32) NOT NULL)")
    else:
        sql(
            server,
            f"CREATE TABLE tb_iv_member_join (mem_uno {serial}, mem_id VARCHAR(20) NOT NULL, "
            f"mem_join_date {'TIMESTAMP(3)' if pg else 'DATETIME(3)'} NOT NULL)",
        )
    load(server, table, id_col, 1, rows)
    start = end_offset(kafka_bootstrap, topic)
    name = connector["name"]
    worker = WorkerProcess(tmp_path, extra={"bootstrap.servers": kafka_bootstrap, "offset.flush.interval.ms": "200"})
    worker.start()
    try:
        assert worker.rest("POST", "/connectors", seed(connector, server)).status_code == 201
        worker.wait_for(lambda: offsets(worker, name), 60, "a first offset flush")
        assert worker.stop(sig) == (0 if sig == signal.SIGTERM else -signal.SIGKILL)
        at_stop = end_offset(kafka_bootstrap, topic) - start
        assert 0 < at_stop < rows, f"not stopped mid-stream: {at_stop} records"
        load(server, table, id_col, rows + 1, rows + MORE)  # written while the worker is down

        worker.start()  # same offsets file and connector config store: the connector comes back by itself
        worker.wait_running(name)
        wait_end(worker, kafka_bootstrap, topic, start + rows + MORE, timeout=180)
        time.sleep(1.5)  # a further poll and flush, to catch repeats that would come after the last row
        total = end_offset(kafka_bootstrap, topic) - start
        ids = [json.loads(v)["payload"][id_col] for _, v in read(kafka_bootstrap, topic, start, total, timeout=300)]
        # MariaDB's INSERT ... SELECT leaves gaps in AUTO_INCREMENT: compare with the table's own ids
        expected = [r[0] for r in sql(server, f"SELECT {id_col} FROM {table} ORDER BY {id_col}")]
        assert len(expected) == rows + MORE
        assert set(ids) == set(expected), f"{len(set(expected) - set(ids))} rows lost"
        if sig == signal.SIGTERM:
            assert total == rows + MORE and ids == expected, f"{total - rows - MORE} repeats after a graceful stop"
        else:
            # at-least-once: repeats only of rows after the last flushed offset, re-sent in order
            first_repeat = next(i for i in range(1, len(ids)) if ids[i] <= ids[i - 1]) if total > rows + MORE else None
            assert first_repeat is None or ids[first_repeat:] == sorted(ids[first_repeat:])
        worker.wait_for(
            lambda: offsets(worker, name)[0]["offset"]["incrementing"] == expected[-1],
            10,
            "the last row's offset flushed",
        )
    finally:
        worker.stop()
