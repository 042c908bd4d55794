"""JdbcSinkTask: turns SinkRecords into batched, transactional writes (reference 8.1-8.5).

put() works in three steps so that MySQL's implicitly committing DDL never splits a data transaction:
  1. every record is checked and turned into a row, in order, into per-table segments (a new segment whenever a
     table's record schema changes); a record that does not fit fails the task naming its coordinates and
     nothing of the batch is written;
  2. tables are created or evolved for every schema seen;
  3. one transaction writes every segment, in runs of upserts/deletes that keep record order, at most
     `batch.size` rows per statement, then commits.
So everything put() received is durable when it returns (flush() has nothing left to do), and a RetriableError
(database errors, up to max.retries) makes the worker redeliver exactly the rolled-back batch.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import sqlite3
from collections.abc import Callable
from itertools import repeat
from operator import attrgetter, is_, itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from miniconnect.connector import SinkTask, TopicPartition
from miniconnect.data.records import SinkRecord, field_getter
from miniconnect.data.schema import DATE, DECIMAL, TIME, TIMESTAMP, DataError, Schema, Struct, Type
from miniconnect.errors import ConnectError, RetriableError

from ..dialects import TableId, resolve_dialect
from ..sqltext import UnsafeSql
from ..url import parse_jdbc_url
from . import binding
from .config import SinkConfig
from .ddl import Column, TableAlterOrCreateError, alter_table_sql, create_table_sql
from .fields import VALUE_VALUES, create_order, extract_columns, row_builder
from .schemaless import InferredSchema
from .writer import WRITERS, TableInfo, Writer

log = logging.getLogger(__name__)

_TOPIC, _VALUE, _VALUE_SCHEMA, _KEY_SCHEMA = (
    field_getter(SinkRecord, n) for n in ("topic", "value", "value_schema", "key_schema")
)
_SCHEMA, _FIELD_VALUES = attrgetter("schema"), attrgetter("values")  # of a Struct
_STRUCT = {Struct}
_JAVA_CLASS = {
    dict: "HashMap",
    list: "ArrayList",
    str: "String",
    int: "Long",
    float: "Double",
    bool: "Boolean",
    bytes: "byte[]",
    Struct: "Struct",
}


class RecordError(ConnectError):
    """A record that cannot be written to its table; names the record's coordinates."""

    def __init__(self, message: str, record: SinkRecord | None = None):
        super().__init__(message)
        self.record = record


class Plan:
    """How records of one (key schema, value schema) are written to one table."""

    def __init__(
        self,
        keys: list[Column],
        values: list[Column],
        sources: list[tuple[str, Any]],
        key_schema: Schema | None,
        value_schema: Schema | None,
        row: Callable[[SinkRecord], Any],
        key_row: Callable[[SinkRecord], Any] | None,
        create: list[Column],
        schemaless: bool = False,
    ):
        self.keys, self.values, self.sources = keys, values, sources
        self.key_schema, self.value_schema = key_schema, value_schema
        self.row, self.key_row, self.create = row, key_row, create
        self.schemaless = schemaless
        self.db_cols: list[str] = []  # table column names (as the table spells them), keys first
        self.convs: list[tuple[int, Any, Any]] = []  # (column index, converter or None, default)
        self.key_convs: list[tuple[int, Any, Any]] = []
        self.checks: list[tuple[int, tuple[type, ...]]] = []  # classes allowed per column (MySQL, SQLite)
        self.bound = False
        self.skip = False  # deletes against a table that does not exist: nothing to do


class TableState:
    def __init__(self, name: str, tid: TableId):
        self.name, self.tid = name, tid
        self.info: TableInfo | None = None
        self.plans: dict[tuple[Schema | None, Schema | None], Plan] = {}
        self.inferred: InferredSchema | None = None


class Segment:
    """Consecutive records of one table written with one plan; ops[i] is True for a delete."""

    __slots__ = ("has_deletes", "ops", "plan", "records", "rows", "table")

    def __init__(self, table: TableState, plan: Plan):
        self.table, self.plan = table, plan
        self.rows: list[Any] = []
        self.ops: list[bool] = []
        self.records: list[SinkRecord] = []
        self.has_deletes = False


class JdbcSinkTask(SinkTask):
    class_name = "io.confluent.connect.jdbc.sink.JdbcSinkTask"

    def __init__(self) -> None:
        self.cfg: SinkConfig | None = None
        self.writer: Writer | None = None
        self.tables: dict[str, TableState] = {}  # table name → state
        self.topic_tables: dict[str, str] = {}  # topic → table name
        self.remaining_retries = 0

    # -- lifecycle --------------------------------------------------------------------------------------------
    async def start(self, props: dict[str, str]) -> None:
        cfg = self.cfg = SinkConfig.parse(props)
        jdbc = parse_jdbc_url(cfg.connection_url, cfg.connection_user, cfg.connection_password)
        dialect = resolve_dialect(jdbc.dialect, cfg.dialect_name or None)
        if dialect.kind != jdbc.dialect:
            raise ConnectError(f"dialect.name '{cfg.dialect_name}' does not match the connection URL's database")
        try:
            self.tz = ZoneInfo(cfg.db_timezone)
        except Exception:
            raise ConnectError(f"Invalid db.timezone '{cfg.db_timezone}'") from None
        self.nanos = cfg.timestamp_precision_mode == "nanoseconds"
        self.writer = WRITERS[jdbc.dialect](
            jdbc, cfg.quote_identifiers, cfg.connection_attempts, cfg.connection_backoff_ms
        )
        self.remaining_retries = cfg.max_retries
        self.tables.clear()
        self.topic_tables.clear()
        log.info(
            "JDBC sink task starting: %s, insert.mode=%s, pk.mode=%s", jdbc.redacted(), cfg.insert_mode, cfg.pk_mode
        )

    async def stop(self) -> None:
        if self.writer is not None:
            await self.writer.close()

    async def flush(self, current_offsets: dict[TopicPartition, int]) -> None:
        """Nothing buffered: put() commits everything it is given before returning."""

    # -- put ------------------------------------------------------------------------------------------------
    async def put(self, records: list[SinkRecord]) -> None:
        if not records:
            return
        assert self.cfg is not None and self.writer is not None, "put() before start()"
        try:
            await self._write(records)
        except (RecordError, TableAlterOrCreateError, ConnectError) as e:
            if self._reporter() is None:
                raise
            await self._isolate(records, e)
        except Exception as e:
            if self._reporter() is None:
                await self._failed(e)
            await self._isolate(records, e)
        self.remaining_retries = self.cfg.max_retries

    async def _write(self, records: list[SinkRecord]) -> None:
        """One transaction for the records, rolled back if any of them fails."""
        writer = self.writer
        assert self.cfg is not None and writer is not None
        try:
            ctx = getattr(self, "context", None)
            await writer.connect(ctx.wait if ctx is not None else None)
            segments = self._segments(records)
            for seg_plan in {id(s.plan): s for s in segments}.values():
                try:
                    await self._ensure_table(seg_plan.table, seg_plan.plan)
                except UnsafeSql as e:  # a schema default with no safe literal: never sent
                    first = seg_plan.records[0]
                    raise RecordError(f"{e} (record at {first.coordinates})", first) from e
            await writer.begin()
            for seg in segments:
                await self._write_segment(seg, seg is segments[-1])
            await writer.commit()
        except BaseException:
            await self._rollback()
            raise

    def _reporter(self) -> Any:
        """The worker's errant record reporter when bad records are to be reported and skipped (errors.tolerance
        all), else None: the task then fails on them as before."""
        ctx = getattr(self, "context", None)
        return getattr(ctx, "errant_record_reporter", None) if ctx is not None else None

    async def _isolate(self, records: list[SinkRecord], error: BaseException) -> None:
        """A batch that failed is halved and each half written again, down to the single records that fail:
        those go to the errant record reporter (then the DLQ) with the database's error; the others are
        written. A bad record among n costs about 2*log2(n) small transactions."""
        reporter = self._reporter()
        if len(records) == 1:
            log.warning("Record at %s is reported as errant: %s", records[0].coordinates, exception_chain(error))
            reporter(records[0], error)
            return
        mid = len(records) // 2
        for half in (records[:mid], records[mid:]):
            try:
                await self._write(half)
            except Exception as e:
                if self.writer is not None and self.writer.conn is None:
                    raise  # the connection is gone: not a record's fault
                await self._isolate(half, e)

    async def _rollback(self) -> None:
        try:
            if self.writer is not None and self.writer.conn is not None:
                await self.writer.rollback()
        except Exception as e:
            log.debug("rollback failed: %s", e)

    async def _failed(self, e: Exception) -> None:
        """A database error: retry through the worker (RetriableError) until max.retries, then fail the task."""
        assert self.cfg is not None and self.writer is not None
        msg = exception_chain(e)
        await self.writer.close()
        self.tables.clear()  # metadata may be stale after whatever happened: read it again
        if self.remaining_retries > 0:
            self.remaining_retries -= 1
            log.warning("Write of records failed, remaining retries=%d: %s", self.remaining_retries, msg)
            ctx = getattr(self, "context", None)
            if ctx is not None:
                ctx.timeout(self.cfg.retry_backoff_ms)
            raise RetriableError(msg) from e
        raise ConnectError(f"Write of records failed after {self.cfg.max_retries} retries: {msg}") from e

    # -- step 1: records → segments ----------------------------------------------------------------------------
    def _segments(self, records: list[SinkRecord]) -> list[Segment]:
        segments: list[Segment] = []
        open_seg: dict[str, Segment] = {}
        self._add_records(records[:1], segments, open_seg)
        rest = records[1:]
        if not (rest and len(segments) == 1 and self._add_alike(segments[0], records[0], rest)):
            self._add_records(rest, segments, open_seg)
        return segments

    @staticmethod
    def _add_alike(seg: Segment, first: SinkRecord, rest: list[SinkRecord]) -> bool:
        """The usual batch: all records share the first one's topic and schemas and have Struct values of its
        schema. They join its segment through C-level checks and maps instead of a loop step each; False (and
        nothing added) otherwise, or when a row cannot be built, which the loop then reports."""
        p = seg.plan
        vs, ks = p.value_schema, p.key_schema
        if seg.has_deletes or vs is None or first.value_schema is not vs or first.key_schema is not ks:
            return False
        values = list(map(_VALUE, rest))
        if (
            set(map(_TOPIC, rest)) != {first.topic}
            or set(map(type, values)) != _STRUCT
            or not all(map(is_, map(_VALUE_SCHEMA, rest), repeat(vs)))
            or not all(map(is_, map(_SCHEMA, values), repeat(vs)))
            or not all(map(is_, map(_KEY_SCHEMA, rest), repeat(ks)))
        ):
            return False
        try:  # the usual row, the value's fields, read from the values already at hand
            rows = list(map(_FIELD_VALUES, values)) if p.row is VALUE_VALUES else list(map(p.row, rest))
        except Exception:
            return False
        seg.rows += rows
        seg.ops += [False] * len(rest)
        seg.records += rest
        return True

    def _add_records(self, records: list[SinkRecord], segments: list[Segment], open_seg: dict[str, Segment]) -> None:
        if not records:
            return
        topic_tables = self.topic_tables
        r = records[0]
        try:
            for r in records:
                name = topic_tables.get(r.topic)
                if name is None:
                    name = self._table_name(r.topic)
                seg = open_seg.get(name)
                v = r.value
                if seg is not None and v is not None:
                    p = seg.plan
                    vs = r.value_schema
                    if (
                        vs is p.value_schema
                        and r.key_schema is p.key_schema
                        and v.__class__ is Struct
                        and v.schema is vs
                    ):
                        seg.rows.append(p.row(r))
                        seg.ops.append(False)
                        seg.records.append(r)
                        continue
                seg = self._slow_path(r, name, seg)
                if seg is not open_seg.get(name):
                    open_seg[name] = seg
                    segments.append(seg)
        except (RecordError, TableAlterOrCreateError):
            raise
        except ConnectError as e:
            raise RecordError(f"{e} (record at {r.coordinates})", r) from e
        except (AttributeError, TypeError, IndexError, KeyError, DataError) as e:
            raise RecordError(f"Record at {r.coordinates} is not valid for the sink: {type(e).__name__}: {e}", r) from e

    def _table_name(self, topic: str) -> str:
        fmt = self.cfg.table_name_format  # type: ignore[union-attr]
        name = fmt.replace("${topic}", topic)
        if not name.strip():
            raise ConnectError(f"Destination table name for topic '{topic}' is empty using the format string '{fmt}'")
        self.topic_tables[topic] = name
        return name

    def _state(self, name: str) -> TableState:
        st = self.tables.get(name)
        if st is None:
            st = self.tables[name] = TableState(name, self.writer.table_id(name))  # type: ignore[union-attr]
        return st

    def _slow_path(self, r: SinkRecord, name: str, seg: Segment | None) -> Segment:
        """Validates the record, finds (or computes) its plan, and appends it; returns the segment it went to."""
        cfg = self.cfg
        assert cfg is not None
        st = self._state(name)
        v, vs, ks = r.value, r.value_schema, r.key_schema
        if cfg.pk_mode == "record_key" or cfg.delete_enabled:
            if r.key is None or ks is None or not (ks.type.is_primitive or ks.type == Type.STRUCT):
                raise RecordError(
                    self._shape_error(
                        r, "a non-null key and non-null Struct or primitive key schema", r.key, ks, "key"
                    ),
                    r,
                )
        if v is None:
            if not cfg.delete_enabled:
                raise RecordError(
                    self._shape_error(
                        r, "a non-null Struct or String value and non-null Struct or String schema", v, vs, "value"
                    ),
                    r,
                )
            # a tombstone: same plan as the open segment when the key schema matches, else a keys-only plan
            if seg is not None and seg.plan.key_schema == ks:
                plan = seg.plan
            else:
                plan = self._plan(st, ks, None)
                if seg is None or seg.plan is not plan:
                    seg = Segment(st, plan)
            seg.rows.append(plan.key_row(r))  # type: ignore[misc]
            seg.ops.append(True)
            seg.records.append(r)
            seg.has_deletes = True
            return seg
        if vs is None and isinstance(v, dict):
            if not cfg.auto_create:
                raise RecordError(
                    self._shape_error(
                        r, "a non-null Struct or String value and non-null Struct or String schema", v, vs, "value"
                    )
                    + " Schemaless (map) values are accepted when auto.create=true.",
                    r,
                )
            if st.inferred is None:
                st.inferred = InferredSchema(None)
            st.inferred.grow(v)
            plan = self._plan(st, ks, st.inferred.schema, schemaless=True)
        else:
            if vs is None or vs.type not in (Type.STRUCT, Type.STRING):
                raise RecordError(
                    self._shape_error(
                        r, "a non-null Struct or String value and non-null Struct or String schema", v, vs, "value"
                    ),
                    r,
                )
            if vs.type == Type.STRUCT:
                if not isinstance(v, Struct):
                    raise RecordError(
                        f"Record at {r.coordinates} has a {type(v).__name__} value for a struct schema", r
                    )
                if v.schema is not vs and v.schema != vs:
                    raise RecordError(
                        f"Record at {r.coordinates}: the value's struct schema does not match the "
                        f"record's value schema",
                        r,
                    )
            elif not isinstance(v, str):
                raise RecordError(f"Record at {r.coordinates} has a {type(v).__name__} value for a string schema", r)
            elif cfg.fields_whitelist or cfg.timestamp_fields:
                raise RecordError(
                    f"Sink connector '{cfg.connector_name}' is configured with field-level options "
                    f"that are not applicable to String values: fields.whitelist, "
                    f"timestamp.fields.list (record at {r.coordinates})",
                    r,
                )
            plan = self._plan(st, ks, vs)
        if seg is None or seg.plan is not plan:
            seg = Segment(st, plan)
        seg.rows.append(plan.row(r))
        seg.ops.append(False)
        seg.records.append(r)
        return seg

    def _shape_error(self, r: SinkRecord, needs: str, value: Any, schema: Schema | None, what: str) -> str:
        cfg = self.cfg
        assert cfg is not None
        cls = "null" if value is None else _JAVA_CLASS.get(type(value), type(value).__name__)
        sch = "null" if schema is None else schema.type.name
        return (
            f"Sink connector '{cfg.connector_name}' is configured with 'delete.enabled="
            f"{'true' if cfg.delete_enabled else 'false'}' and 'pk.mode={cfg.pk_mode}' and therefore requires "
            f"records with {needs}, but found record at (topic='{r.topic}',partition={r.kafka_partition},"
            f"offset={r.kafka_offset},timestamp={r.timestamp}) with a {cls} {what} and {sch} {what} schema."
        )

    def _plan(self, st: TableState, ks: Schema | None, vs: Schema | None, schemaless: bool = False) -> Plan:
        plan = st.plans.get((ks, vs))
        if plan is not None:
            # the same schema under another object: remember this one too, so the fast path sees it
            if plan.value_schema is not vs or plan.key_schema is not ks:
                plan.value_schema, plan.key_schema = vs, ks
            return plan
        cfg = self.cfg
        assert cfg is not None
        keys, values, sources = extract_columns(cfg, st.name, ks, vs)
        nkeys = len(keys)
        if schemaless:
            row = _schemaless_row(sources, vs)
        else:
            row = row_builder(sources, len(vs.fields) if vs is not None and vs.type == Type.STRUCT else None)
        key_row = row_builder(sources[:nkeys], None) if keys else None
        if keys and cfg.delete_enabled and key_row is not None:
            key_row = _tuple_row(key_row)
        plan = Plan(
            keys,
            values,
            sources,
            ks,
            vs,
            row,
            key_row,
            create_order(keys, values, vs, cfg.pk_mode == "kafka"),
            schemaless,
        )
        # every name this plan can put into SQL is escaped (or refused, naming the record) before anything is sent
        w = self.writer
        assert w is not None
        w.table_sql(st.tid)
        for c in plan.create:
            w.q(c.name)
        st.plans[(ks, vs)] = plan
        return plan

    # -- step 2: tables ---------------------------------------------------------------------------------------
    async def _ensure_table(self, st: TableState, plan: Plan) -> None:
        if plan.bound and st.info is not None:
            return
        cfg, w = self.cfg, self.writer
        assert cfg is not None and w is not None
        display = w.display(st.tid)
        deletes_only = plan.value_schema is None
        if st.info is None or any(st.info.find(c.name) is None for c in plan.create):
            st.info = await w.table_info(st.tid)
            if st.info is not None and st.info.kind not in cfg.table_types:
                st.info = None
        if st.info is None:
            if deletes_only:
                plan.skip = True
                return
            if not cfg.auto_create:
                raise TableAlterOrCreateError(f"Table {display} is missing and auto-creation is disabled")
            sql = create_table_sql(w.sql, w.table_sql(st.tid), plan.create, self.tz)
            log.info("Creating table with sql: %s", sql)
            try:
                await w.execute_ddl(sql)
            except TableAlterOrCreateError:
                raise
            except Exception as e:
                st.info = await w.table_info(st.tid)
                if st.info is None:  # not a lost race with another task: a real failure
                    raise TableAlterOrCreateError(f"Failed to create table {display}: {exception_chain(e)}") from e
            st.info = await w.table_info(st.tid)
            if st.info is None:
                raise TableAlterOrCreateError(f"Table {display} is missing after CREATE TABLE")
        missing = [c for c in plan.create if st.info.find(c.name) is None]
        if missing and not deletes_only:
            if st.info.kind == "VIEW":
                raise TableAlterOrCreateError(
                    f"View {display} is missing fields ([{', '.join(c.describe() for c in missing)}]) "
                    f"and ALTER VIEW is unsupported"
                )
            for c in missing:
                if (c.is_key or not c.schema.optional) and c.schema.default is None:
                    raise TableAlterOrCreateError(
                        f"Cannot ALTER TABLE {display} to add missing field {c.describe()}, as the field is not "
                        f"optional and does not have a default value"
                    )
            if not cfg.auto_evolve:
                raise TableAlterOrCreateError(
                    f"Table {display} is missing fields "
                    f"([{', '.join(c.describe() for c in missing)}]) and auto-evolution "
                    f"is disabled"
                )
            for sql in alter_table_sql(w.sql, w.table_sql(st.tid), missing, self.tz):
                log.info("Amending table with sql: %s", sql)
                try:
                    await w.execute_ddl(sql)
                except Exception as e:
                    st.info = await w.table_info(st.tid)
                    if st.info is None or any(st.info.find(c.name) is None for c in missing):
                        raise TableAlterOrCreateError(
                            f"Failed to amend TABLE '{display}' to add missing fields: "
                            f"[{', '.join(c.describe() for c in missing)}]: {exception_chain(e)}"
                        ) from e
            st.info = await w.table_info(st.tid)
            assert st.info is not None
            still = [c.name for c in missing if st.info.find(c.name) is None]
            if still:
                raise TableAlterOrCreateError(f"Table {display} is still missing fields {still} after ALTER TABLE")
        if deletes_only and any(st.info.find(c.name) is None for c in plan.keys):
            plan.skip = True
            return
        self._bind(st.info, plan)

    def _bind(self, info: TableInfo, plan: Plan) -> None:
        cfg, w = self.cfg, self.writer
        assert cfg is not None and w is not None
        cols = plan.keys + plan.values
        plan.db_cols = [info.find(c.name) or c.name for c in cols]
        plan.convs = []
        for i, (c, name) in enumerate(zip(cols, plan.db_cols)):
            if plan.schemaless and plan.sources[i][0] == "valf":
                conv = binding.schemaless_converter(w.dialect, c.schema.type)
                plan.convs.append((i, conv, None))
                continue
            conv = binding.converter(w.dialect, c, info.columns.get(name), self.tz, self.nanos)
            default = None
            if cfg.replace_null_with_default and c.schema.default is not None:
                default, conv = binding.with_default(c, conv)
            if conv is not None or default is not None:
                plan.convs.append((i, conv, default))
        plan.key_convs = [t for t in plan.convs if t[0] < len(plan.keys)]
        # asyncpg rejects a value of the wrong class; aiomysql and sqlite3 would store it as text: check first
        plan.checks = (
            []
            if (w.dialect == "postgresql" or plan.schemaless)
            else [
                (i, _CLASSES[c.schema.name or c.schema.type])
                for i, c in enumerate(cols)
                if not c.timestamp_field and (c.schema.name or c.schema.type) in _CLASSES
            ]
        )
        plan.bound = True

    # -- step 3: DML --------------------------------------------------------------------------------------------
    async def _write_segment(self, seg: Segment, last: bool) -> None:
        """last: the put's last segment, whose last statement may commit the transaction (see Writer.upsert)."""
        plan = seg.plan
        if plan.skip:
            return
        if not seg.has_deletes:
            await self._write_run(seg, 0, len(seg.rows), False, last)
            return
        ops = seg.ops
        start = 0
        for i in range(1, len(ops) + 1):
            if i == len(ops) or ops[i] != ops[start]:
                await self._write_run(seg, start, i, ops[start], last and i == len(ops))
                start = i

    async def _write_run(self, seg: Segment, start: int, end: int, delete: bool, last: bool) -> None:
        cfg, w, plan, st = self.cfg, self.writer, seg.plan, seg.table
        assert cfg is not None and w is not None and st.info is not None
        size = cfg.batch_size or (end - start) or 1
        nkeys = len(plan.keys)
        keys, values = plan.db_cols[:nkeys], plan.db_cols[nkeys:]
        for lo in range(start, end, size):
            hi = min(end, lo + size)
            rows = seg.rows[lo:hi] if (lo, hi) != (0, len(seg.rows)) else seg.rows
            try:
                if delete:
                    if plan.key_convs:
                        rows = _convert(rows, plan.key_convs)
                    await w.executemany(w.delete_sql(st.tid, keys), rows)
                    continue
                if plan.checks:
                    _check(rows, plan.checks)
                if plan.convs:
                    rows = _convert(rows, plan.convs)
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
            except Exception as e:
                if _is_data_error(e):
                    raise self._locate(seg, lo, hi, e) from e
                raise

    def _locate(self, seg: Segment, lo: int, hi: int, e: Exception) -> RecordError:
        """The first record of a failed batch that does not fit its schema, else the batch's range."""
        w = self.writer
        assert w is not None
        table = w.display(seg.table.tid)
        for r in seg.records[lo:hi]:
            try:
                if isinstance(r.value, Struct):
                    r.value.validate()
                if isinstance(r.key, Struct):
                    r.key.validate()
                if seg.plan.schemaless and isinstance(r.value, dict):
                    row = seg.plan.row(r)
                    _convert([row], seg.plan.convs)
            except Exception as bad:
                return RecordError(f"Record at {r.coordinates} is not valid for table {table}: {bad}", r)
        first, last = seg.records[lo], seg.records[hi - 1]
        return RecordError(
            f"Records from {first.coordinates} to offset {last.kafka_offset} could not be written "
            f"to table {table}: {exception_chain(e)}",
            first,
        )


_INT = (int,)
_NONE = type(None)
_CLASSES: dict[Any, tuple[type, ...]] = {
    Type.INT8: _INT,
    Type.INT16: _INT,
    Type.INT32: _INT,
    Type.INT64: _INT,
    Type.FLOAT32: (float, int),
    Type.FLOAT64: (float, int),
    Type.BOOLEAN: (bool,),
    Type.STRING: (str,),
    Type.BYTES: (bytes, bytearray, memoryview),
    DECIMAL: (decimal.Decimal,),
    DATE: (dt.date,),
    TIME: (dt.time,),
    TIMESTAMP: (dt.datetime,),
}


def _check(rows: list[Any], checks: list[tuple[int, tuple[type, ...]]]) -> None:
    """A DataError naming the first value (in row order) whose class does not suit its column. The classes of each
    column are collected by C-level maps; only a batch with a wrong one is walked value by value."""
    for i, classes in checks:
        if any(
            k is not _NONE and k not in classes and not issubclass(k, classes)
            for k in set(map(type, map(itemgetter(i), rows)))
        ):
            break
    else:
        return
    for row in rows:
        for i, classes in checks:
            v = row[i]
            if v is not None and v.__class__ not in classes and not isinstance(v, classes):
                raise DataError(f"value {v!r} of class {type(v).__name__} in column {i + 1}")


def _convert(rows: list[Any], convs: list[tuple[int, Any, Any]]) -> list[Any]:
    out = []
    append = out.append
    for row in rows:
        row = list(row)
        for i, conv, default in convs:
            v = row[i]
            if v is None:
                row[i] = default
            elif conv is not None:
                row[i] = conv(v)
        append(row)
    return out


def _tuple_row(fn: Callable[[SinkRecord], Any]) -> Callable[[SinkRecord], Any]:
    return lambda r: tuple(fn(r))


def _schemaless_row(sources: list[tuple[str, Any]], vs: Schema | None) -> Callable[[SinkRecord], Any]:
    assert vs is not None
    getters: list[Callable[[SinkRecord], Any]] = []
    for kind, i in sources:
        if kind == "valf":
            name = vs.fields[i].name
            getters.append(lambda r, n=name: r.value.get(n))
        else:
            getters.append(row_builder([(kind, i)], None))
            getters[-1] = (lambda g: lambda r: g(r)[0])(getters[-1])
    if all(k == "valf" for k, _ in sources):
        names = [vs.fields[i].name for _, i in sources]
        return lambda r: [r.value.get(n) for n in names]
    return lambda r: [g(r) for g in getters]


def _is_data_error(e: BaseException) -> bool:
    if isinstance(e, (TypeError, ValueError, OverflowError, decimal.InvalidOperation, DataError)):
        return True
    if isinstance(e, (sqlite3.InterfaceError, sqlite3.ProgrammingError)) and "bind" in str(e).lower():
        return True
    mod = type(e).__module__
    if mod.startswith("asyncpg"):
        import asyncpg

        return isinstance(e, asyncpg.DataError) and "connection" not in str(e).lower()
    if mod.startswith("pymysql") or mod.startswith("aiomysql"):
        import pymysql

        return isinstance(e, pymysql.err.DataError)
    return False


def exception_chain(e: BaseException) -> str:
    """Java's `Exception chain:` message: every chained exception, one a line."""
    lines, seen = [], set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        lines.append(f"{type(cur).__name__}: {cur}")
        cur = cur.__cause__ or cur.__context__
    return "Exception chain:\n" + "\n".join(lines) + "\n"
