"""One querier per table (or custom query): builds the Java connector's SQL, binds offsets, turns rows into records.

Offsets live in memory between runs (reference §3.7): incrementing and timestamp+incrementing carry each row's
own position; timestamp mode is conservative (a row's timestamp is committed only once the next row is later).
The upper timestamp bound is the database clock minus `timestamp.delay.interval.ms`, further capped by the start
of the oldest open transaction when the database shows it (so a late commit of an early row is never skipped).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from itertools import repeat
from operator import itemgetter
from typing import Any

from miniconnect.connector import EncodedRecords
from miniconnect.data.records import SourceRecord, new_source_record
from miniconnect.data.schema import Schema, Struct
from miniconnect.errors import ConfigError, ConnectError
from miniconnect.schema_registry.pending import SchemaNotCached, fetched

from ..column_types import UTC, Column, TypeMapper, epoch_nanos, to_instant
from ..dialects import TableId
from ..sqltext import PARAM
from .db import SourceDb

log = logging.getLogger(__name__)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_NAIVE = dt.datetime(1970, 1, 1)
QUERY_PARTITION = {"query": "query"}
# Runs of fewer rows read rows: columns pay for their set-up (and the libraries' memory) on larger reads only
COLUMNAR_MIN_ROWS = 10_000
COLUMNAR_CHUNK = 10_000
_INT = {int}


def nanos_to_datetime(ns: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=ns // 1000)


def offset_to_state(offset: dict[str, Any] | None) -> tuple[int | None, int | None]:
    """(timestamp epoch-nanos, incrementing) from a stored offset map; tolerant of any key order and gaps."""
    if not offset:
        return None, None
    ts = offset.get("timestamp")
    nanos = offset.get("timestamp_nanos")
    ts_ns = None
    if ts is not None:
        ts = int(ts)
        ts_ns = (ts // 1000) * 1_000_000_000 + int(nanos) if nanos is not None else ts * 1_000_000
    inc = offset.get("incrementing")
    return ts_ns, (int(inc) if inc is not None else None)


def state_to_offset(ts_ns: int | None, inc: int | None) -> dict[str, Any]:
    """The Java map (keys in Java's HashMap order: timestamp_nanos, incrementing, timestamp)."""
    out: dict[str, Any] = {}
    if ts_ns is not None:
        out["timestamp_nanos"] = ts_ns % 1_000_000_000
    if inc is not None:
        out["incrementing"] = inc
    if ts_ns is not None:
        out["timestamp"] = ts_ns // 1_000_000
    return out


def _compile_row(keep: list[int], convs: list[Any]) -> Callable[[Any], list[Any]]:
    """A row → Struct values function with the kept columns and converters unrolled (no per-column loop)."""
    env: dict[str, Any] = {}
    items = []
    for n, (i, c) in enumerate(zip(keep, convs)):
        if c is None:
            items.append(f"r[{i}]")
        else:
            env[f"c{n}"] = c
            items.append(f"c{n}(r[{i}])")
    exec(f"def convert(r):\n    return [{', '.join(items)}]", env)
    return env["convert"]


class Querier:
    def __init__(
        self,
        *,
        db: SourceDb,
        mode: str,
        table: TableId | None,
        query: str | None,
        topic: str,
        mapper: TypeMapper,
        ts_columns: list[str],
        inc_column: str,
        quote: bool,
        suffix: str,
        batch_max_rows: int,
        delay_ms: int,
        offset: dict[str, Any] | None,
        bound_by_transactions: bool,
    ):
        self.db, self.mode, self.table, self.query = db, mode, table, query
        self.text = db.sql_text(quote)
        self.topic, self.mapper, self.quote = topic, mapper, quote
        self.ts_columns, self.inc_column = ts_columns, inc_column
        self.suffix = suffix.strip()
        self.batch = batch_max_rows
        self.delay = dt.timedelta(milliseconds=delay_ms)
        self.bound_by_transactions = bound_by_transactions
        self.ts_ns, self.inc = offset_to_state(offset)
        if mode == "bulk":
            self.partition: dict[str, Any] = {"table": table.table} if table else dict(QUERY_PARTITION)
        else:
            self.partition = {"protocol": "1", "table": table.fqn} if table else dict(QUERY_PARTITION)
        self.schema_name = table.table if table else None
        self.last_update = 0.0  # loop.time() of the end of the last run
        self.failures = 0
        self.last_rows = 0  # rows returned by the last run, and by all runs (the task's metrics)
        self.rows_total = 0
        self.name = table.fqn if table else "query"
        self._sql: tuple[str, str] | None = None
        self._logged_sql: str | None = None
        self._bound_kind: str | None = None
        self._plan_key: tuple[Column, ...] | None = None
        self._plan: Any = None
        self._param_sql = ""
        # columnar reads (PostgreSQL through ADBC), set by the task when the worker takes EncodedRecords
        self.arrow: Any = None  # ArrowReader
        self.envelope: Callable[[str, Any], tuple[bytes, bytes] | None] | None = None
        self.avro_header: Callable[[str, Any], bytes | None] | None = None
        self.value_columns = False  # the worker takes values as a ValueColumn
        self._columns: dict[tuple[Column, ...], Any] = {}  # result shape -> ColumnPlan, or None: rows only
        self._many: bool | None = None  # see _expect_many
        self._autodetected = False

    # -- SQL -------------------------------------------------------------------------------------------------
    def _table_sql(self) -> str:
        assert self.table is not None
        return ".".join(self.text.identifier(p) for p in self.table if p is not None)

    def _col(self, name: str) -> str:
        q = self.text.identifier(name)
        return f"{self._table_sql()}.{q}" if self.table is not None else q

    def build_sql(self) -> tuple[str, str]:
        """(the statement as the Java connector logs it, with `?`; the same with the driver's placeholders).
        Names go through the SqlText (refused when they cannot be written); `query` and `query.suffix` are SQL
        by definition and go as they are."""
        if self._sql is not None:
            return self._sql
        if self.query is not None and PARAM in self.query:
            raise ConfigError(message="The query contains a NUL character")
        base = self.query if self.table is None else f"SELECT * FROM {self._table_sql()}"
        sfx = f" {self.suffix}" if self.suffix else ""
        mode = self.mode
        if mode in ("timestamp", "timestamp+incrementing"):
            cols = [self._col(c) for c in self.ts_columns]
            ts = cols[0] if len(cols) == 1 else f"COALESCE({','.join(cols)})"
        inc = self._col(self.inc_column) if self.inc_column else None

        def render(ph: Callable[[int], str]) -> str:
            if mode == "incrementing" and inc:
                return f"{base} WHERE {inc} > {ph(1)} ORDER BY {inc} ASC{sfx}"
            if mode == "timestamp":
                return f"{base} WHERE {ts} > {ph(1)} AND {ts} < {ph(2)} ORDER BY {ts} ASC{sfx}"
            if mode == "timestamp+incrementing" and inc:
                return (
                    f"{base} WHERE {ts} < {ph(1)} AND (({ts} = {ph(2)} AND {inc} > {ph(3)}) OR {ts} > {ph(4)}) "
                    f"ORDER BY {ts},{inc} ASC{sfx}"
                )
            if mode == "timestamp+incrementing":  # no incrementing column found: timestamp criteria only
                return f"{base} WHERE {ts} > {ph(1)} AND {ts} < {ph(2)} ORDER BY {ts} ASC{sfx}"
            return f"{base}{sfx}"

        sql = render(lambda i: PARAM)
        self._param_sql = sql
        self._sql = (sql.replace(PARAM, "?"), self.text.params(sql))
        return self._sql

    def literal_sql(self, params: list[Any], select: str = "*") -> str:
        """The statement with its parameters written as literals (through the SqlText), for a reader that streams
        only statements without parameters (COPY, connectorx); in table mode with `select` as its select list."""
        self.build_sql()
        sql = self._param_sql
        if select != "*" and self.table is not None:
            sql = f"SELECT {select}" + sql[len("SELECT *") :]
        parts = sql.split(PARAM)
        out = [parts[0]]
        for text, value in zip(parts[1:], params, strict=True):
            out += [self.text.literal(value), text]
        return "".join(out)

    # -- bounds ---------------------------------------------------------------------------------------------
    async def upper_bound(self) -> dt.datetime:
        """Database clock − delay, capped by the oldest open transaction's start when that is visible."""
        now = await self.db.now()
        end = now - self.delay
        kind, detail = "delay", ""
        if self.bound_by_transactions:
            visible, oldest, why = await self.db.oldest_open_transaction()
            if visible:
                kind = "transactions"
                if oldest is not None and oldest < end:
                    end = oldest
            else:
                detail = why
        if kind != self._bound_kind:
            self._bound_kind = kind
            name = self.name
            if kind == "transactions":
                log.info(
                    "Upper timestamp bound for %s: the start of the oldest open transaction (and database time "
                    "minus timestamp.delay.interval.ms=%d)",
                    name,
                    self.delay // dt.timedelta(milliseconds=1),
                )
            else:
                log.info(
                    "Upper timestamp bound for %s: database time minus timestamp.delay.interval.ms=%d "
                    "(open transactions not visible: %s)",
                    name,
                    self.delay // dt.timedelta(milliseconds=1),
                    detail or "not supported",
                )
        return end

    def _params(self, end: dt.datetime | None) -> list[Any]:
        begin = nanos_to_datetime(self.ts_ns) if self.ts_ns is not None else EPOCH
        last = self.inc if self.inc is not None else -1
        if self.mode == "incrementing":
            return [last] if self.inc_column else []
        if self.mode == "timestamp" or (self.mode == "timestamp+incrementing" and not self.inc_column):
            return [begin, end]
        if self.mode == "timestamp+incrementing":
            return [end, begin, last, begin]
        return []

    # -- rows → records -----------------------------------------------------------------------------------------
    def _make_plan(self, columns: list[Column]) -> Any:
        fields, keep, convs = [], [], []
        for i, c in enumerate(columns):
            mapped = self.mapper.map(c)
            if mapped is None:
                log.warning("JDBC type %s (%s) not currently supported", c.jdbc, c.type_name or c.jdbc)
                continue
            fields.append((c.name, mapped[0]))
            keep.append(i)
            convs.append(mapped[1])
        schema = Schema.struct(fields, name=self.schema_name)
        self._fields = (keep, convs)
        identity = keep == list(range(len(columns))) and all(c is None for c in convs)
        convert = None if identity else _compile_row(keep, convs)
        names = [c.name for c in columns]
        ts_idx = (
            [self._find(names, n, "Timestamp") for n in self.ts_columns]
            if self.mode in ("timestamp", "timestamp+incrementing")
            else []
        )
        inc_idx = (
            self._find(names, self.inc_column, "Incrementing")
            if self.inc_column and self.mode in ("incrementing", "timestamp+incrementing")
            else None
        )
        return schema, identity, convert, ts_idx, inc_idx, (columns[inc_idx] if inc_idx is not None else None)

    @staticmethod
    def _find(names: list[str], name: str, what: str) -> int:
        if name in names:
            return names.index(name)
        low = [i for i, n in enumerate(names) if n.lower() == name.lower()]
        if len(low) == 1:
            return low[0]
        if low:
            raise ConnectError(f"{what} column {name} is ambiguous in {','.join(names)}")
        raise ConnectError(f"{what} column {name} not found in {','.join(names)}")

    def _inc_value(self, v: Any, col: Column) -> int:
        if type(v) is int:
            return v
        if v is None:
            raise ConnectError(f"Null value for incrementing column of type: {col.jdbc}")
        if isinstance(v, decimal.Decimal):
            if v.as_tuple().exponent > 0 or v != v.to_integral_value():
                raise ConnectError("Scale of Decimal value for incrementing column must be 0")
            if v > 2**63 - 1:
                raise ConnectError("Decimal value for incrementing column exceeded Long.MAX_VALUE")
            return int(v)
        if isinstance(v, (int, str)):
            return int(v)
        raise ConnectError(f"Invalid type for incrementing column: {col.jdbc}")

    async def autodetect(self) -> None:
        """Table mode with an empty incrementing.column.name: the first auto-increment column."""
        if (
            self._autodetected
            or self.table is None
            or self.inc_column
            or self.mode not in ("incrementing", "timestamp+incrementing")
        ):
            return
        self._autodetected = True
        for c in await self.db.table_columns(self.table):
            if c.auto_increment:
                self.inc_column = c.name
                log.info("Using auto-detected incrementing column %s for %s", c.name, self.table.fqn)
                break
        else:
            log.warning(
                "No incrementing column was configured or detected for %s: the whole table will be read on every poll",
                self.table.fqn,
            )
        self._sql = None

    async def run(self, emit: Callable[[list[SourceRecord]], Awaitable[None]]) -> int:
        """One query run in one transaction: stream every row, emit records in batches, commit. Row count."""
        await self.autodetect()
        java_sql, sql = self.build_sql()
        if java_sql != self._logged_sql:
            self._logged_sql = java_sql
            log.info("Begin using SQL query: %s", java_sql)
        db = self.db
        await db.begin()
        ok = False
        try:
            end = await self.upper_bound() if self.mode in ("timestamp", "timestamp+incrementing") else None
            params, base = self._params(end), self.query if self.table is None else None
            if self.arrow is not None and await self._expect_many():
                count = await self._run_columns(sql, params, base, emit)
                if count is not None:
                    ok = True
                    self._many = count >= COLUMNAR_MIN_ROWS
                    return count
            stream = await db.query(
                sql,
                params,
                self.batch,
                self.table,
                base_query=base,
                ts_columns=self.ts_columns if end is not None else (),
            )
            key = tuple(stream.columns)
            if key != self._plan_key:
                self._plan_key, self._plan = key, self._make_plan(stream.columns)
            count = await self._emit_rows(stream, emit)
            ok = True
            self._many = count >= COLUMNAR_MIN_ROWS
            return count
        finally:
            await db.end(commit=ok)

    async def _emit_rows(self, stream: Any, emit: Callable[[list[SourceRecord]], Awaitable[None]]) -> int:
        schema, identity, convert, ts_idx, inc_idx, inc_col = self._plan
        topic, partition, mode = self.topic, self.partition, self.mode
        inst = to_instant(self.mapper.tz)
        count = 0
        pending: tuple[Any, int] | None = None  # timestamp mode: (struct, its ts) awaiting the next row
        committable = state_to_offset(self.ts_ns, None) if self.ts_ns is not None else {}

        def ts_of(row: Any) -> int | None:
            for i in ts_idx:
                v = row[i]
                if v is not None:
                    v = inst(v)
                    if v is not None:
                        return epoch_nanos(v)
            return None

        async for rows in stream.chunks():
            out: list[SourceRecord] = []
            append = out.append
            structs = Struct.many(schema, rows if identity else map(convert, rows))  # driver rows kept as values
            if mode == "bulk":
                out = [SourceRecord(partition, None, topic, None, None, None, schema, s) for s in structs]
            elif mode == "incrementing" and inc_idx is not None:
                incs = list(map(itemgetter(inc_idx), rows))
                if not set(map(type, incs)) <= _INT:
                    incs = [self._inc_value(v, inc_col) for v in incs]
                if incs:
                    self.inc = incs[-1]
                # SourceRecord(partition, {"incrementing": inc}, topic, None, None, None, schema, struct) per row,
                # built without a Python call per row: zip(zip(keys, values)) feeds dict() one (key, value) pair
                offsets = map(dict, zip(zip(repeat("incrementing"), incs)))
                none = repeat(None)
                out = list(
                    map(
                        new_source_record,
                        zip(
                            repeat(partition),
                            offsets,
                            repeat(topic),
                            none,
                            none,
                            none,
                            repeat(schema),
                            structs,
                            none,
                            repeat(()),
                        ),
                    )
                )
            elif mode == "incrementing":  # no incrementing column (query mode without one): last offset repeated
                offset = {"incrementing": self.inc} if self.inc is not None else {}
                out = [SourceRecord(partition, offset, topic, None, None, None, schema, s) for s in structs]
            else:  # timestamp modes
                for r, struct in zip(rows, structs):
                    ts = ts_of(r)
                    if mode == "timestamp+incrementing" and inc_idx is not None:
                        self.inc = self._inc_value(r[inc_idx], inc_col)
                        if ts is not None:
                            self.ts_ns = ts
                        append(
                            SourceRecord(
                                partition,
                                state_to_offset(self.ts_ns, self.inc),
                                topic,
                                None,
                                None,
                                None,
                                schema,
                                struct,
                            )
                        )
                        continue
                    # timestamp mode: conservative offsets
                    if pending is not None:
                        p_struct, p_ts = pending
                        if ts is not None and p_ts is not None and ts > p_ts:
                            committable = state_to_offset(p_ts, None)
                            self.ts_ns = p_ts  # what is emitted: a failed read resumes here, never past `pending`
                        append(SourceRecord(partition, committable, topic, None, None, None, schema, p_struct))
                    pending = (struct, ts)
            if pending is not None and not out and len(rows) == 0:
                break
            count += len(rows)
            if out:
                await emit(out)
        if pending is not None:
            p_struct, p_ts = pending
            if p_ts is not None:
                committable = state_to_offset(p_ts, None)
                self.ts_ns = p_ts
            await emit([SourceRecord(partition, committable, topic, None, None, None, schema, p_struct)])
        return count

    # -- columns → encoded records (PostgreSQL through ADBC) ------------------------------------------------------
    async def _expect_many(self) -> bool:
        """Whether this run likely reads enough rows for columns to pay: the last run's count, or before the first
        one the table's estimated size (unknown, e.g. never analyzed, or a query: yes)."""
        if self._many is None:
            estimate = await self.db.estimated_rows(self.table) if self.table is not None else None
            self._many = estimate is None or estimate >= COLUMNAR_MIN_ROWS
        return self._many

    async def _run_columns(
        self, sql: str, params: list[Any], base: str | None, emit: Callable[[Any], Awaitable[None]]
    ) -> int | None:
        """The run through Arrow batches, or None when this result shape needs the row path (nothing emitted)."""
        from .arrow_reader import ReadFailed

        reader = self.arrow
        if reader.page_rows and self.suffix:  # no LIMIT can follow a suffix (pages, the description)
            return None
        described = await self.db.describe(sql, params, self.table, base)
        if described is None:
            return None
        columns, bound = described
        key = tuple(columns)
        if key != self._plan_key:
            self._plan_key, self._plan = key, self._make_plan(columns)
        if key in self._columns and self._columns[key] is None:
            return None
        try:
            encoding = self._encoding(self._plan[0])
        except SchemaNotCached as pending:  # the converter registers the schema: off the event loop
            try:
                await fetched(pending)
                encoding = self._encoding(self._plan[0])
            except (Exception, SchemaNotCached) as e:  # this run reads rows; the runner converts them with
                log.info("Reading %s row by row this time: %s", self.topic, e)  # the registry's back-off
                return None
        select = reader.select_list(columns, self.db.text, self.table is not None) if encoding is not None else None
        if encoding is None or select is None:
            self._columns[key] = None
            return None
        _, _, _, ts_idx, inc_idx, _ = self._plan
        paged = reader.page_rows and inc_idx is not None and self.mode in ("incrementing", "timestamp+incrementing")
        if reader.whole_rows is not None and not paged:  # the whole result is held in memory: small tables only
            stats = await self.db.table_stats(self.table) if self.table is not None else None
            if stats is None or max(stats[0], self.last_rows) > reader.whole_rows or stats[1] > reader.whole_bytes:
                return None
        batches = (
            self._pages(bound, select, ts_idx, inc_idx) if paged else reader.batches(self.literal_sql(bound, select))
        )
        try:
            try:
                first = await anext(batches, None)
            except ReadFailed as e:  # nothing emitted yet: this run reads rows
                if e.unreadable:
                    self._columns[key] = None
                log.warning("%s; reading %s row by row", e, self.topic)
                return None
            if first is None:
                return 0
            plan = self._columns.get(key)
            if plan is None:
                plan = self._columns[key] = self._column_plan(first.schema, encoding)
                if plan is None:
                    return None
                log.info("Reading %s as Arrow columns (%s) and encoding its records from them", self.topic, reader.name)
            try:
                return await self._emit_columns(plan, first, batches, emit)
            except ReadFailed as e:  # the next run (after poll.interval.ms) resumes after the last emitted row
                if e.unreadable:
                    self._columns[key] = None
                raise
        finally:
            await batches.aclose()

    async def _pages(self, params: list[Any], select: str, ts_idx: list[int], inc_idx: int) -> AsyncIterator[Any]:
        """A keyset-ordered result (incrementing, timestamp+incrementing) as successive reads of page_rows rows,
        each starting after the last row of the previous one: the rows of the one statement, in its order, with
        at most a page held in memory. Exact when the incrementing column is strictly increasing, as the mode
        requires (rows sharing the value that ends a page would be skipped, as they are between two polls)."""
        from .columns import epoch_micros

        size = self.arrow.page_rows
        while True:
            count, last = 0, None
            async with aclosing(self.arrow.batches(f"{self.literal_sql(params, select)} LIMIT {size}")) as page:
                async for batch in page:
                    count += batch.num_rows
                    last = batch if batch.num_rows else last
                    yield batch
            if count < size or last is None:
                return
            inc = last.column(inc_idx)[-1].as_py()
            if self.mode == "incrementing":
                params = [inc]
            else:  # [end, begin, last incrementing, begin]: begin the last row's timestamp, as the row path binds
                micros = epoch_micros(last.slice(last.num_rows - 1), ts_idx)[0]
                begin = EPOCH_NAIVE + dt.timedelta(microseconds=micros)
                params = [params[0], begin, inc, begin]

    def _encoding(self, schema: Any) -> tuple[bytes, ...] | None:
        """How the value converter takes values written here: (head, tail) around a JSON payload, or (header,)
        before an Avro datum; None: it takes records only."""
        envelope = self.envelope(self.topic, schema) if self.envelope is not None else None
        if envelope is not None:
            return envelope
        header = self.avro_header(self.topic, schema) if self.avro_header is not None else None
        return (header,) if header is not None else None

    def _column_plan(self, arrow: Any, encoding: tuple[bytes, ...]) -> Any:
        from .columns import ColumnPlan, is_integer, is_timestamp

        schema, _, _, ts_idx, inc_idx, _ = self._plan
        if any(not is_timestamp(arrow.field(i).type) for i in ts_idx):
            return None
        if inc_idx is not None and not is_integer(arrow.field(inc_idx).type):
            return None
        if len(encoding) == 1:
            from .avro_columns import AvroColumnPlan

            return AvroColumnPlan.build(schema, *self._fields, arrow, encoding[0])
        return ColumnPlan.build(schema, *self._fields, arrow, *encoding)

    async def _emit_columns(self, plan: Any, first: Any, batches: Any, emit: Callable[[Any], Awaitable[None]]) -> int:
        """Encodes each batch on a worker thread (polars runs outside the GIL) while the event loop produces the
        previous ones; emits EncodedRecords of up to COLUMNAR_CHUNK rows (or batch.max.rows, if more), with the
        offset the row path gives their last row. The worker keeps one batch in flight: larger ones than the row
        path's keep the producer busy."""
        from .columns import epoch_micros

        loop = asyncio.get_running_loop()
        _, _, _, ts_idx, inc_idx, inc_col = self._plan
        topic, partition, mode, size = self.topic, self.partition, self.mode, max(COLUMNAR_CHUNK, self.batch)
        conservative = mode == "timestamp" or (mode == "timestamp+incrementing" and inc_idx is None)
        as_column = self.value_columns and not conservative  # timestamp mode holds back each batch's last row
        committable = state_to_offset(self.ts_ns, None) if self.ts_ns is not None else {}
        pending: tuple[bytes, int | None] | None = None  # timestamp mode: the last row, sent with the next one
        count = 0
        batch = first
        while batch is not None:
            n = batch.num_rows
            next_batch = asyncio.ensure_future(anext(batches, None))  # fetch (its own thread) beside the encoding
            try:
                values = await loop.run_in_executor(None, plan.encode, batch, as_column)
                offsets: Callable[[int], Any]
                if mode == "bulk":
                    offsets = _constant(None)
                elif mode == "incrementing" and inc_idx is not None:
                    incs = self._column_incs(batch, inc_idx, inc_col)
                    self.inc = incs[-1] if n else self.inc
                    offsets = _incrementing(incs)
                elif mode == "incrementing":
                    offsets = _constant({"incrementing": self.inc} if self.inc is not None else {})
                elif not conservative:  # timestamp+incrementing: each row's own (timestamp, incrementing)
                    incs = self._column_incs(batch, inc_idx, inc_col)
                    ts = epoch_micros(batch, ts_idx).forward_fill().to_list()
                    before = self.ts_ns
                    offsets = _ts_incrementing(ts, incs, before)
                    last_ts = ts[-1] if n else None
                    if last_ts is not None:
                        self.ts_ns = last_ts * 1000
                    if n:
                        self.inc = incs[-1]
                else:  # timestamp: a row's timestamp is committable once a later one follows (see _emit_rows)
                    ts = epoch_micros(batch, ts_idx).to_list()
                    if pending is not None:
                        values.insert(0, pending[0])
                        ts.insert(0, pending[1])
                    pending = (values.pop(), ts[-1])
                    offsets, committable = _conservative(ts, committable)
                    if committable:  # what is emitted: a failed read resumes here, never past `pending`
                        self.ts_ns = offset_to_state(committable)[0]
                for start in range(0, len(values), size):
                    end = min(start + size, len(values))
                    await emit(EncodedRecords(topic, partition, offsets(end - 1), values[start:end]))
                count += n
            except BaseException:
                next_batch.cancel()
                raise
            batch = await next_batch
        if pending is not None:
            if pending[1] is not None:
                self.ts_ns = pending[1] * 1000
                committable = state_to_offset(self.ts_ns, None)
            await emit(EncodedRecords(topic, partition, committable, [pending[0]]))
        return count

    def _column_incs(self, batch: Any, idx: int, col: Column) -> Any:
        """The incrementing column, each value read as a Python int only when asked (at chunk ends)."""
        arrow = batch.column(idx)
        if arrow.null_count:
            raise ConnectError(f"Null value for incrementing column of type: {col.jdbc}")
        return _PyValues(arrow)


class _PyValues:
    __slots__ = ("array",)

    def __init__(self, array: Any):
        self.array = array

    def __getitem__(self, i: int) -> Any:
        return self.array[i].as_py()


def _constant(offset: Any) -> Callable[[int], Any]:
    return lambda i: offset


def _incrementing(incs: Any) -> Callable[[int], Any]:
    return lambda i: {"incrementing": incs[i]}


def _ts_incrementing(ts: list[int | None], incs: Any, before: int | None) -> Callable[[int], Any]:
    def offset(i: int) -> dict[str, Any]:
        t = ts[i]
        return state_to_offset(t * 1000 if t is not None else before, incs[i])

    return offset


def _conservative(ts: list[int | None], committable: dict[str, Any]) -> tuple[Callable[[int], Any], dict[str, Any]]:
    """Offsets of the emitted rows 0..len(ts)-2 (row i leaves when row i+1 is read): a timestamp becomes committable
    when the next row's is later. Returns them and the committable offset after the last emitted row."""
    marks: list[dict[str, Any]] = []
    current = committable
    for i in range(1, len(ts)):
        prev, now = ts[i - 1], ts[i]
        if prev is not None and now is not None and now > prev:
            current = state_to_offset(prev * 1000, None)
        marks.append(current)
    return marks.__getitem__, current
