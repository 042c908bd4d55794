"""JdbcSinkTask.put_columns: a put() of ColumnBatches written without a Python object per record.

Each batch (one topic) is mapped onto its table's columns with the same plan as records of its schemas (the
RecordBuffer's, bound by the DbStructure), then written in one transaction:
  - PostgreSQL: the columns are cast to the table's column types and encoded by pgpq into one binary COPY stream
    (insert: COPY into the table; upsert: the last row of each key, then the writer's usual COPY-first / stage and
    INSERT ... ON CONFLICT; a large put split by key over the lanes' connections, see lanes);
  - MySQL/MariaDB and SQLite: the columns become the same row tuples the record path builds (to_pylist gives the
    Struct's values: datetime, date, time, Decimal, bytes, ...), checked, converted and written by the same code.
Whatever this path does not do the same way (delete.enabled, update mode, timestamp.fields.list, defaults replacing
nulls, a db.timezone other than UTC with temporal columns, a column type without a binary COPY form, a cast that
would change a value) makes it return False before anything is written, and any error while writing rolls the
transaction back and returns False: the runner then converts the batch to SinkRecords and put() gives the usual
result or error. pyarrow and pgpq are imported on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from miniconnect.data.columns import ColumnBatch
from miniconnect.data.schema import TIMESTAMP, Type

from .db_writer import JdbcDbWriter
from .plan import Plan, TableState
from .rows import check_classes, convert_rows
from .writer import BinaryCopy

log = logging.getLogger(__name__)


class Refused(Exception):
    """This put has no column form with the record path's result."""


async def put_columns(db: JdbcDbWriter, batches: list[ColumnBatch], wait: Callable[[float], Any] | None) -> bool:
    """The batches written in one transaction, as put() would write their records; False, with nothing written,
    when they must go record by record."""
    cfg, writer = db.cfg, db.writer
    assert cfg is not None and writer is not None, "put_columns() before start()"
    if cfg.delete_enabled or cfg.insert_mode not in ("insert", "upsert") or cfg.timestamp_fields:
        return False
    try:
        await writer.connect(wait)  # table names need the default schema
        units = [_unit(db, b) for b in batches]
        if cfg.insert_mode == "upsert" and len({id(st) for st, _, _ in units}) < len(units):
            raise Refused("topics upserted into one table: the record path keeps their records' order")
    except Exception as e:  # the record path says what is wrong (a plan it refuses, a database it cannot reach)
        log.debug("columns refused: %s", e)
        return False
    try:
        for st, plan, _ in units:
            await db.structure.ensure_table(st, plan)
        if any(plan.skip or any(d is not None for _, _, d in plan.convs) for _, plan, _ in units):
            return False  # deletes only, or defaults replacing nulls
        frames = [(st, plan, _frame(db, st, plan, batch)) for st, plan, batch in units]
        if not await _write_lanes(db, frames, wait):
            await writer.begin()
            for i, (st, plan, frame) in enumerate(frames):
                await _write(db, st, plan, frame, i == len(frames) - 1)
            await writer.commit()
            # the rows-written-total gauge, as the record path counts once committed
            db.count(_tally(cfg.insert_mode, [(st, len(frame)) for st, _, frame in frames]))
    except Exception as e:
        await db._rollback()
        log.debug("columns not written, going record by record: %s", e)
        return False
    return True


def _unit(db: JdbcDbWriter, batch: ColumnBatch) -> tuple[TableState, Plan, ColumnBatch]:
    cfg = db.cfg
    assert cfg is not None
    st = db.buffer.table_for(batch.topic)
    if cfg.pk_mode == "record_key" and batch.keys is None:
        raise Refused("record_key without keys")
    if cfg.pk_mode == "record_key" and any(c.null_count for c in batch.keys.columns):
        raise Refused("null key fields")
    plan = db.buffer.plan(st, batch.key_schema, batch.value_schema)
    if plan.schemaless:
        raise Refused("schemaless plan")
    return st, plan, batch


def _source_columns(plan: Plan, batch: ColumnBatch) -> list[Any]:
    """The batch's columns in the plan's column order (keys first), as Connect values."""
    import pyarrow as pa

    n = len(batch)
    out = []
    for kind, i in plan.sources:
        if kind == "valf":
            out.append(batch.values.column(i))
        elif kind == "keyf":
            out.append(batch.keys.column(i))
        elif kind == "key":
            out.append(batch.keys.column(0))
        elif kind == "topic":
            out.append(pa.array([batch.topic] * n, pa.string()))
        elif kind == "partition":
            out.append(pa.array(batch.partitions, pa.int64()))
        elif kind == "offset":
            out.append(pa.array(batch.offsets, pa.int64()))
        else:
            raise Refused(kind)
    return [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in out]


def _frame(db: JdbcDbWriter, st: TableState, plan: Plan, batch: ColumnBatch) -> Any:
    """What _write writes: an Arrow table of the table's column types (PostgreSQL) or row tuples (others)."""
    columns = _source_columns(plan, batch)
    assert db.writer is not None and st.info is not None
    if db.writer.dialect == "postgresql":
        import pyarrow as pa

        utc = db.structure.tz.key == "UTC"
        cols = plan.keys + plan.values
        cast = [_pg_cast(c, st.info.columns.get(name, ""), a, utc) for c, name, a in zip(cols, plan.db_cols, columns)]
        return pa.table(cast, names=[f"c{i}" for i in range(len(cast))])
    rows = list(zip(*[c.to_pylist() for c in columns]))
    if plan.checks:
        check_classes(rows, plan.checks)
    return convert_rows(rows, plan.convs) if plan.convs else rows


_PG_INTS = {"smallint": "int16", "integer": "int32", "bigint": "int64"}
_PG_FLOATS = {"real": "float32", "double precision": "float64"}


def _pg_cast(col: Any, db_type: str, values: Any, utc: bool) -> Any:
    """values cast to the Arrow type pgpq encodes as the column's type, as asyncpg would bind the record path's
    Python value; Refused where asyncpg would refuse it or the cast could change it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = values.type
    s = col.schema
    if pa.types.is_integer(t):
        if db_type in _PG_INTS:
            return values.cast(_PG_INTS[db_type])  # safe: out of range raises
        if db_type in _PG_FLOATS:
            return values.cast(_PG_FLOATS[db_type])
        if db_type == "boolean" and s.type is Type.INT8:
            return pc.not_equal(values, 0)
    elif pa.types.is_floating(t):
        if db_type in _PG_FLOATS:
            return values.cast(_PG_FLOATS[db_type], safe=False)  # float64 -> float32 rounds as asyncpg's float4 does
    elif pa.types.is_boolean(t):
        if db_type == "boolean":
            return values
        if db_type in _PG_INTS:
            return values.cast(_PG_INTS[db_type])
    elif pa.types.is_string(t):
        if db_type == "text" or db_type.startswith("character varying"):
            return values
    elif pa.types.is_binary(t):
        if db_type == "bytea":
            return values
    elif pa.types.is_date32(t):
        if db_type == "date":
            return values
    elif pa.types.is_time32(t):
        if db_type == "time without time zone" and utc:
            return values.cast(pa.time64("us"))
    elif pa.types.is_timestamp(t) and s.name == TIMESTAMP:
        if db_type == "timestamp with time zone":
            return values.cast(pa.timestamp("us", tz="UTC"))
        if db_type == "timestamp without time zone" and utc:
            return values.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
    elif pa.types.is_decimal(t):
        if db_type == "numeric" or db_type.startswith("numeric("):
            return values
    raise Refused(f"{t} into {db_type}")


async def _write(db: JdbcDbWriter, st: TableState, plan: Plan, frame: Any, last: bool) -> None:
    cfg, w = db.cfg, db.writer
    assert cfg is not None and w is not None and st.info is not None
    nkeys = len(plan.keys)
    upsert = cfg.insert_mode == "upsert"
    if upsert and not nkeys:
        raise Refused("upsert without keys")
    if w.dialect != "postgresql":
        size = cfg.batch_size or len(frame) or 1
        for lo in range(0, len(frame), size):
            rows = frame[lo : lo + size]
            if upsert:
                await w.upsert(st.tid, plan.db_cols, nkeys, rows, st.info, last and lo + size >= len(frame))
            else:
                await w.insert(st.tid, plan.db_cols, rows, st.info)
        return
    # PostgresWriter.insert and upsert take a BinaryCopy where rows go otherwise
    if upsert:
        copy: Any = _binary_copy(_last_per_key(frame, nkeys))
        await w.upsert(st.tid, plan.db_cols, nkeys, copy, st.info, last)
    else:
        copy = _binary_copy(frame)
        await w.insert(st.tid, plan.db_cols, copy, st.info)


async def _write_lanes(db: JdbcDbWriter, frames: list[Any], wait: Callable[[float], Any] | None) -> bool:
    """PostgreSQL upserts split by key over the lanes' connections and written (see lanes); False when the put is
    not split (then nothing was written)."""
    lanes = db.lanes
    if not lanes.wanted(sum(len(f) for _, _, f in frames)) or any(not plan.keys for _, plan, _ in frames):
        return False
    writers = await lanes.writers(wait)
    n = len(writers)
    if n < 2:
        return False
    parts: list[list[tuple[TableState, Plan, Any]]] = [[] for _ in writers]
    # rows-written-total counts records, as the record path does: each lane's rows once it committed, and the
    # records that an upsert of a later record of their key replaced (never written) once every lane committed
    replaced: list[tuple[TableState, int]] = []
    for st, plan, frame in frames:
        last = _last_per_key(frame, len(plan.keys))
        replaced.append((st, len(frame) - len(last)))
        for i, part in enumerate(_split_frame(last, n)):
            if part.num_rows:
                parts[i].append((st, plan, part))

    async def work(i: int, w: Any) -> None:
        mine = parts[i]
        for j, (st, plan, part) in enumerate(mine, 1):  # the lane's last statement carries its COMMIT
            await w.upsert(st.tid, plan.db_cols, len(plan.keys), _binary_copy(part), st.info, j == len(mine))

    def committed(i: int) -> None:
        db.count(_tally("upsert", [(st, part.num_rows) for st, _, part in parts[i]]))

    await lanes.run(writers, work, committed)
    db.count(_tally("upsert", replaced))
    return True


def _tally(mode: str, rows: list[tuple[TableState, int]]) -> dict[tuple[str, str], int]:
    """Rows per (table, statement kind), for JdbcDbWriter.count."""
    out: dict[tuple[str, str], int] = {}
    for st, n in rows:
        out[(st.name, mode)] = out.get((st.name, mode), 0) + n
    return out


def _split_frame(frame: Any, n: int) -> list[Any]:
    """n slices of a frame holding one row per key (no copy): each key is in one slice, which is all the lanes need
    (a put's frames are of distinct tables, see put_columns)."""
    size = -(-frame.num_rows // n)
    return [frame.slice(i * size, size) for i in range(n)]


def _last_per_key(frame: Any, nkeys: int) -> Any:
    """The last row of each key, in the order of those rows (what upserting them one after another leaves); keys
    equal as PostgreSQL compares them are one key: Arrow holds a NaN with its sign bit apart from the others and
    -0.0 apart from 0.0."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = frame.column_names[:nkeys]
    cols = []
    for name in keys:
        col = frame.column(name)
        if pa.types.is_floating(col.type):  # x + 0.0 is 0.0 for -0.0; every NaN becomes the same one
            col = pc.if_else(pc.is_nan(col), pa.scalar(float("nan"), col.type), pc.add(col, pa.scalar(0.0, col.type)))
        cols.append(col)
    indexed = pa.table([*cols, pa.array(range(frame.num_rows), pa.int64())], names=[*keys, "__row"])
    last = indexed.group_by(keys, use_threads=False).aggregate([("__row", "max")]).column("__row_max")
    if len(last) == frame.num_rows:
        return frame
    return frame.take(last.combine_chunks().sort())


def _binary_copy(frame: Any) -> BinaryCopy:
    import pgpq

    encoder = pgpq.ArrowToPostgresBinaryEncoder(frame.schema)
    parts = [encoder.write_header()]
    parts += [encoder.write_batch(b) for b in frame.to_batches()]
    parts.append(encoder.finish())
    return BinaryCopy(parts)
