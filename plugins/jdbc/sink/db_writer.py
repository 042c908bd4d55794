"""JdbcDbWriter: one transaction per put (Confluent's JdbcDbWriter), in three steps so that MySQL's implicitly
committing DDL never splits a data transaction:
  1. the RecordBuffer turns the records into per-table batches (nothing is written if one does not fit);
  2. the DbStructure creates or evolves the tables for every schema seen;
  3. one transaction writes every batch, in runs of upserts/deletes that keep record order, at most
     `batch.size` rows per statement, then commits; any failure rolls it back. A PostgreSQL upsert put is split by
     key over several connections, one transaction each, all committed before the put returns (see lanes)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from miniconnect.data.records import SinkRecord
from miniconnect.errors import ConnectError

from ..sqltext import UnsafeSql
from .buffer import RecordBuffer
from .config import SinkConfig
from .errors import RecordError, is_data_error, locate
from .lanes import Lanes, split_segments
from .plan import TableBatch
from .rows import check_classes, convert_rows
from .structure import DbStructure
from .writer import Writer

log = logging.getLogger(__name__)


class JdbcDbWriter:
    def __init__(self, cfg: SinkConfig, writer: Writer, tz: ZoneInfo, nanos: bool):
        self.cfg: SinkConfig | None = cfg
        self.writer: Writer | None = writer
        self.buffer = RecordBuffer(cfg, writer)
        self.structure = DbStructure(cfg, writer, tz, nanos)
        # rows committed per (table, statement kind: insert, upsert, update, delete), for the task's metrics;
        # counted per statement into the open transaction's tally, added up once it committed
        self.rows_written: dict[tuple[str, str], int] = {}
        self.lanes = Lanes(writer, cfg.upsert_connections if cfg.insert_mode == "upsert" else 1)

    def forget_tables(self) -> None:
        """Table metadata and plans are read again (after a failure they may be stale)."""
        self.buffer.tables.clear()

    async def write(self, records: list[SinkRecord], wait: Callable[[float], Any] | None) -> None:
        """One transaction for the records, rolled back if any of them fails (split by key: one per lane, see lanes)."""
        writer = self.writer
        assert self.cfg is not None and writer is not None
        try:
            await writer.connect(wait)
            segments = self.buffer.batches(records)
            for seg_plan in {id(s.plan): s for s in segments}.values():
                try:
                    await self.structure.ensure_table(seg_plan.table, seg_plan.plan)
                except UnsafeSql as e:  # a schema default with no safe literal: never sent
                    first = seg_plan.records[0]
                    raise RecordError(f"{e} (record at {first.coordinates})", first) from e
            if not await self._write_lanes(segments, len(records), wait):
                tally: dict[tuple[str, str], int] = {}
                await writer.begin()
                for seg in segments:
                    await self._write_segment(seg, seg is segments[-1], writer, tally)
                await writer.commit()
                self.count(tally)
        except BaseException:
            await self._rollback()
            raise

    async def _write_lanes(self, segments: list[TableBatch], rows: int, wait: Callable[[float], Any] | None) -> bool:
        """The segments split by key over the lanes and written, each lane's rows counted once it committed (see
        lanes); False when the put is not split (then nothing was written)."""
        if not self.lanes.wanted(rows):
            return False
        writers = await self.lanes.writers(wait)
        parts = split_segments(segments, len(writers)) if len(writers) > 1 else None
        if parts is None:
            return False
        tallies: list[dict[tuple[str, str], int]] = [{} for _ in writers]

        async def work(i: int, w: Writer) -> None:
            mine = parts[i]
            for j, seg in enumerate(mine, 1):  # the lane's last statement carries its COMMIT
                await self._write_segment(seg, j == len(mine), w, tallies[i])

        await self.lanes.run(writers, work, lambda i: self.count(tallies[i]))
        return True

    def count(self, tally: dict[tuple[str, str], int]) -> None:
        """Committed rows into the rows-written-total gauge."""
        written = self.rows_written
        for key, n in tally.items():
            written[key] = written.get(key, 0) + n

    async def close(self) -> None:
        await self.lanes.close()
        if self.writer is not None:
            await self.writer.close()

    async def _rollback(self) -> None:
        try:
            if self.writer is not None and self.writer.conn is not None:
                await self.writer.rollback()
        except Exception as e:
            log.debug("rollback failed: %s", e)

    async def _write_segment(self, seg: TableBatch, last: bool, w: Writer, tally: dict[tuple[str, str], int]) -> None:
        """last: the put's last segment, whose last statement may commit the transaction (see Writer.upsert).
        Rows written are counted into tally."""
        plan = seg.plan
        if plan.skip:
            return
        if not seg.has_deletes:
            await self._write_run(seg, 0, len(seg.rows), False, last, w, tally)
            return
        ops = seg.ops
        start = 0
        for i in range(1, len(ops) + 1):
            if i == len(ops) or ops[i] != ops[start]:
                await self._write_run(seg, start, i, ops[start], last and i == len(ops), w, tally)
                start = i

    async def _write_run(
        self, seg: TableBatch, start: int, end: int, delete: bool, last: bool, w: Writer, tally: dict[Any, int]
    ) -> None:
        cfg, plan, st = self.cfg, seg.plan, seg.table
        assert cfg is not None and st.info is not None
        size = cfg.batch_size or (end - start) or 1
        nkeys = len(plan.keys)
        keys, values = plan.db_cols[:nkeys], plan.db_cols[nkeys:]
        counted = (st.name, "delete" if delete else cfg.insert_mode)
        for lo in range(start, end, size):
            hi = min(end, lo + size)
            rows = seg.rows[lo:hi] if (lo, hi) != (0, len(seg.rows)) else seg.rows
            try:
                if delete:
                    if plan.key_convs:
                        rows = convert_rows(rows, plan.key_convs)
                    await w.executemany(w.delete_sql(st.tid, keys), rows)
                    tally[counted] = tally.get(counted, 0) + len(rows)
                    continue
                if plan.checks:
                    check_classes(rows, plan.checks)
                if plan.convs:
                    rows = convert_rows(rows, plan.convs)
                mode = cfg.insert_mode
                if mode == "insert":
                    await w.insert(st.tid, plan.db_cols, rows, st.info)
                elif mode == "upsert":
                    if not keys:
                        raise ConnectError(
                            f"Write to table '{w.display(st.tid)}' in UPSERT mode requires key field "
                            f"names to be known, check the primary key configuration"
                        )
                    await w.upsert(st.tid, plan.db_cols, nkeys, rows, st.info, last and hi == end)
                else:
                    await w.executemany(
                        w.update_sql(st.tid, keys, values), [tuple(r[nkeys:]) + tuple(r[:nkeys]) for r in rows]
                    )
                tally[counted] = tally.get(counted, 0) + len(rows)
            except Exception as e:
                if is_data_error(e):
                    raise locate(seg, lo, hi, e, w.display(st.tid)) from e
                raise
