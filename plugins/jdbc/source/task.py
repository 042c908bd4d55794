"""JdbcSourceTask: a background reader walks the task's queriers by due time and fills a bounded queue of record
batches; poll() hands those batches to the worker (the 10.8+ design: reading overlaps producing)."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from miniconnect.connector import EncodedRecords, SourceTask
from miniconnect.data.records import SourceRecord
from miniconnect.errors import ConfigError, ConnectError
from miniconnect.retry import describe
from miniconnect.storage.offsets import partition_key

from ..column_types import UTC, TypeMapper
from ..dialects import TableId, parse_table_id, resolve_dialect, split_table_list
from .config import SourceConfig
from .db import SourceDb, is_transient, source_db
from .querier import QUERY_PARTITION, Querier
from .tables import column_mapping

log = logging.getLogger(__name__)

COLUMNAR_ENV = "MINICONNECT_JDBC_COLUMNAR"  # 0/false/off: read rows even where columns apply (comparisons)
NO_TABLE = (
    "Task is being killed because it was not assigned a table nor a query to execute. If run in table mode "
    "please make sure that the tables exist on the database. If the table does exist on the database, we "
    "recommend using the fully qualified table name."
)


class JdbcSourceTask(SourceTask):
    class_name = "io.confluent.connect.jdbc.source.JdbcSourceTask"

    def __init__(self) -> None:
        self.db: SourceDb | None = None
        self.queriers: list[Querier] = []
        self._queue: asyncio.Queue[list[SourceRecord] | EncodedRecords] | None = None
        self.arrow: Any = None  # ArrowReader of the columnar path, when it applies
        self._reader: asyncio.Task | None = None
        self._error: BaseException | None = None
        self._failed = asyncio.Event()
        self._stopped = False

    async def start(self, props: dict[str, str]) -> None:
        cfg = self.cfg = SourceConfig.parse(props)
        query = cfg.query
        tables_raw = split_table_list(props.get("tables") or "")  # names may hold commas inside their quotes
        if query and tables_raw:
            raise ConfigError(
                message="Invalid configuration: a JdbcSourceTask cannot have both a table and a query assigned to it"
            )
        if not query and not tables_raw:
            if not cfg["tables.fetched"]:
                log.info("The connector has not listed the tables yet; this task idles until it is reconfigured")
                self._queue = asyncio.Queue(1)
                return
            raise ConnectError(NO_TABLE)
        if not cfg.mode:
            log.warning("Mode is empty: this task creates no querier")
            self._queue = asyncio.Queue(1)
            return
        jdbc = cfg.jdbc_url()
        dialect = resolve_dialect(jdbc.dialect, cfg["dialect.name"])
        if dialect.kind != jdbc.dialect:
            raise ConfigError(
                message=f"dialect.name {cfg['dialect.name']} cannot be used with a jdbc:{jdbc.scheme} URL"
            )
        self.db = source_db(
            jdbc,
            cfg["connection.attempts"],
            cfg["connection.backoff.ms"],
            cfg["db.timezone"],
            cfg["transaction.isolation.mode"],
            wait=self.context.wait,
        )
        mapper = TypeMapper(cfg.numeric_mapping, cfg["timestamp.granularity"], cfg["db.timezone"], jdbc.dialect)
        tables = [parse_table_id(jdbc.dialect, t) for t in tables_raw]
        mode = cfg.mode
        incremental = mode != "bulk"
        offsets = await self._stored_offsets(tables if not query else None) if incremental else {}
        initial = cfg["timestamp.initial"]
        if initial is not None and initial == -1:
            initial = (await self.db.now()).timestamp() * 1000
        ts_map = column_mapping(cfg["timestamp.columns.mapping"], tables, "timestamp", multi=True)
        inc_map = column_mapping(cfg["incrementing.column.mapping"], tables, "incrementing", multi=False)
        prefix = cfg["topic.prefix"]
        batch = cfg["batch.max.rows"]
        for t in tables or [None]:
            key = t.fqn if t else None
            ts_cols = ts_map.get(key) if ts_map else [c for c in cfg["timestamp.column.name"] if c]
            inc_col = inc_map.get(key, [""])[0] if inc_map else cfg["incrementing.column.name"]
            offset = offsets.get(key) if incremental else None
            if not offset and initial is not None and mode in ("timestamp", "timestamp+incrementing"):
                offset = {"timestamp": int(initial)}
            self.queriers.append(
                Querier(
                    db=self.db,
                    mode=mode,
                    table=t,
                    query=query or None,
                    topic=prefix + t.table if t else prefix,
                    mapper=mapper,
                    ts_columns=ts_cols or [],
                    inc_column=inc_col or "",
                    quote=cfg.quote,
                    suffix=cfg["query.suffix"],
                    batch_max_rows=batch,
                    delay_ms=cfg["timestamp.delay.interval.ms"],
                    offset=offset,
                    bound_by_transactions=jdbc.dialect in ("postgresql", "mysql"),
                )
            )
        if mode in ("timestamp", "timestamp+incrementing") and not any(q.ts_columns for q in self.queriers):
            raise ConfigError(message=f"timestamp.column.name is required in mode {mode}")
        self._columnar(jdbc, mapper)
        for q in self.queriers:
            q.build_sql()  # a name that cannot be written into SQL fails the task here, before any query
        if tables:
            await self._check_columns(tables[0], self.queriers[0])
        self._register_metrics()
        buffer = cfg["max.buffer.size"] or 4 * batch
        self._queue = asyncio.Queue(max(1, buffer // batch))
        self._reader = asyncio.create_task(self._read_loop(), name=f"jdbc-source-reader-{self.context.task_id}")

    def _columnar(self, jdbc: Any, mapper: TypeMapper) -> None:
        """Columnar reads (PostgreSQL through ADBC, MySQL/MariaDB through connectorx; values encoded from columns)
        where they give the row path's bytes: the worker takes encoded records, timestamps are UTC, no isolation
        level to apply."""
        envelope = getattr(self.context, "value_envelope", None)
        avro_header = getattr(self.context, "value_avro_header", None)
        if os.environ.get(COLUMNAR_ENV, "").lower() in ("0", "false", "off"):
            envelope = avro_header = None
        if envelope is None and avro_header is None:
            return
        if mapper.tz is not UTC or self.cfg["transaction.isolation.mode"] not in ("DEFAULT", ""):
            return
        if jdbc.dialect == "mysql":
            from . import mysql_arrow

            if mysql_arrow.available(jdbc):
                self.arrow = mysql_arrow.MySqlArrowReader(jdbc)
        else:
            from . import arrow_reader

            if arrow_reader.available(jdbc):
                self.arrow = arrow_reader.ArrowReader(jdbc)
        columns = getattr(self.context, "value_columns", False)
        for q in self.queriers if self.arrow is not None else ():
            q.arrow, q.envelope, q.avro_header, q.value_columns = self.arrow, envelope, avro_header, columns

    def _register_metrics(self) -> None:
        """Per table, read at scrape time: rows returned in all and by the last query, the offset reached."""
        metrics = getattr(self.context, "metrics", None)
        if metrics is None:
            return
        group, queriers = "jdbc-source-task-metrics", self.queriers

        def per_table(read: Any) -> Any:
            return lambda: [({"table": q.name}, v) for q in queriers if (v := read(q)) is not None]

        metrics.add_gauge(group, "rows-total", per_table(lambda q: q.rows_total))
        metrics.add_gauge(group, "last-poll-rows", per_table(lambda q: q.last_rows))
        metrics.add_gauge(group, "last-incrementing-offset", per_table(lambda q: _number(q.inc)))
        metrics.add_gauge(group, "last-timestamp-ms", per_table(lambda q: None if q.ts_ns is None else q.ts_ns / 1e6))

    async def _stored_offsets(self, tables: list[TableId] | None) -> dict[str | None, dict[str, Any]]:
        """V1 partition first, then the legacy V0 `{"table": bare}`; query mode `{"query":"query"}`."""
        reader = self.context.offset_storage_reader
        if tables is None:
            stored = await reader.offsets([QUERY_PARTITION])
            return {None: stored.get(partition_key(QUERY_PARTITION))}
        parts = []
        for t in tables:
            parts += [{"protocol": "1", "table": t.fqn}, {"table": t.table}]
        stored = await reader.offsets(parts)
        out: dict[str | None, dict[str, Any]] = {}
        for t in tables:
            v1 = stored.get(partition_key({"protocol": "1", "table": t.fqn}))
            out[t.fqn] = v1 if v1 is not None else stored.get(partition_key({"table": t.table}))
        return out

    async def _check_columns(self, table: TableId, q: Querier) -> None:
        """Like Java: the configured columns must exist in the task's first table; nullability if asked."""
        cols = await self.db.table_columns(table)
        by_low = {c.name.lower(): c for c in cols}
        name = table.fqn
        if q.inc_column and q.mode in ("incrementing", "timestamp+incrementing"):
            c = by_low.get(q.inc_column.lower())
            if c is None:
                raise ConnectError(f"Incrementing column: {q.inc_column} does not exist in table '{name}'")
            if self.cfg["validate.non.null"] and c.nullable is not False:
                raise ConnectError(
                    f"Cannot make incremental queries using incrementing column {q.inc_column} on "
                    f"{name} because this column is nullable."
                )
        if q.ts_columns and q.mode in ("timestamp", "timestamp+incrementing"):
            missing = [c for c in q.ts_columns if c.lower() not in by_low]
            if missing:
                raise ConnectError(f"Timestamp columns: {', '.join(missing)} do not exist in table '{name}'")
            if self.cfg["validate.non.null"] and all(by_low[c.lower()].nullable is not False for c in q.ts_columns):
                raise ConnectError(
                    f"Cannot make incremental queries using timestamp columns "
                    f"{','.join(q.ts_columns)} on {name} because all of these columns are nullable."
                )
        if self.cfg["validate.non.null"] and q.mode in ("incrementing", "timestamp+incrementing") and not q.inc_column:
            await q.autodetect()
        # release the metadata transaction (MySQL/SQLite keep one open otherwise)
        await self.db.end(commit=True)

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.cfg["poll.interval.ms"] / 1000
        retries = self.cfg["query.retry.attempts"]
        queue = self._queue
        try:
            while True:
                q = min(self.queriers, key=lambda x: x.last_update)
                due = q.last_update + interval - loop.time()
                if due > 0 and q.last_update:
                    if await self.context.wait(due):
                        return
                    continue
                try:
                    q.last_rows = await q.run(queue.put)
                    q.rows_total += q.last_rows
                    if q.failures:
                        q.failures = 0
                        if not any(other.failures for other in self.queriers):
                            self.context.report_waiting(None)
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    if not is_transient(e) or isinstance(e, ConfigError):
                        raise
                    q.failures += 1
                    name = q.name
                    if 0 < retries <= q.failures:
                        raise ConnectError(f"Failed to query table after retries: {name}: {e}") from e
                    what = f"Failed to run query for table {name} (attempt {q.failures}): {describe(e)}; retrying"
                    log.warning("%s after poll.interval.ms", what)
                    self.context.report_waiting(f"Waiting for the database. {what} every {interval:g} s")
                    if self.db is not None and not isinstance(e, ConnectError):
                        await self.db.close()  # reconnects on the next run
                q.last_update = loop.time()
        except asyncio.CancelledError:
            raise
        except BaseException as e:
            self._error = e
            self._failed.set()

    async def poll(self) -> list[SourceRecord] | EncodedRecords | None:
        if self._error is not None:
            raise self._error
        queue = self._queue
        if queue is None:
            return None
        if not queue.empty():
            return queue.get_nowait()
        if self._reader is None:  # idle task (no tables yet / no mode)
            await self.context.wait(1.0)
            return None
        get = asyncio.ensure_future(queue.get())
        failed = asyncio.ensure_future(self._failed.wait())
        stopping = asyncio.ensure_future(self.context.stopping.wait())
        try:
            await asyncio.wait(
                {get, failed, stopping}, timeout=self.cfg["poll.linger.ms"] / 1000, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            failed.cancel()
            stopping.cancel()
            if not get.done():
                get.cancel()
        if get.done() and not get.cancelled():
            return get.result()
        if self._error is not None:
            raise self._error
        return None

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            try:
                await reader
            except BaseException:  # the reader's own failure was already reported through poll()
                pass
        if self.db is not None:
            await self.db.close()
        if self.arrow is not None:
            await self.arrow.stop()


def _number(value: Any) -> float | None:
    """An incrementing offset as a gauge value (None when the column is not numeric)."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
