"""Sink writer of the generic dialect: tables by SQLAlchemy reflection, DDL by SQLAlchemy's DDL compiler, and
rows through Core INSERT / UPDATE / DELETE statements executed with a list of parameter sets (executemany, or
SQLAlchemy's multi-row "insertmanyvalues" where the dialect has it). Upserts use the dialect's own form where
SQLAlchemy has one: ON CONFLICT ... DO UPDATE (PostgreSQL, and DuckDB, whose dialect is PostgreSQL's; SQLite),
ON DUPLICATE KEY UPDATE (MySQL/MariaDB); other databases refuse insert.mode=upsert naming the dialect.

Values are bind parameters of columns typed by reflection, so each dialect's type processors adapt them (SQLite
dates as text, for example); names are quoted by SQLAlchemy (always, or never with the plain-name check, per
quote.sql.identifiers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateColumn, CreateTable

from ..connection import open_connection
from ..dialects import TableId, parse_table_id
from ..sink.ddl import Column, to_python
from ..sink.writer import TableInfo, Writer
from ..sqltext import SqlText, UnsafeSql
from .engine import SaConnection, offline_dialect
from .reflect import reflect_columns
from .text import SqlAlchemyText
from .types import sql_type


class Statement(NamedTuple):
    """A Core statement and the names of its bind parameters, in the order of a row's values."""

    stmt: Any
    binds: tuple[str, ...]


def _bind_names(cols: Sequence[str], count: int) -> tuple[str, ...]:
    """p0, p1, ... or with more underscores until no name is a column's (SQLAlchemy reserves column names)."""
    prefix = "p"
    taken = set(cols)
    while any(f"{prefix}{i}" in taken for i in range(count)):
        prefix += "_"
    return tuple(f"{prefix}{i}" for i in range(count))


class SqlAlchemyWriter(Writer):
    dialect = "generic"
    conn: SaConnection | None

    def __init__(self, jdbc: Any, quote: bool, attempts: int = 3, backoff_ms: int = 10000):
        super().__init__(jdbc, quote, attempts, backoff_ms)
        self.sa_dialect = offline_dialect(jdbc)
        self._text = SqlAlchemyText(self.sa_dialect, quote)
        self._tables: dict[TableId, sa.Table] = {}
        self._stmts: dict[Any, Statement] = {}

    @property
    def sql(self) -> SqlText:
        return self._text

    # -- lifecycle ------------------------------------------------------------------------------------------
    async def connect(self, wait: Any = None) -> None:
        if self.conn is None:
            self.conn = await open_connection(self.jdbc, self.attempts, self.backoff_ms, wait)
            self.default_schema = await self.conn.run(lambda c: sa.inspect(c).default_schema_name)
            self._tables.clear()
            self._stmts.clear()

    def table_id(self, text: str) -> TableId:
        tid = parse_table_id(self.dialect, text)
        return TableId(None, tid.schema or self.default_schema, tid.table)

    # -- transactions (SQLAlchemy begins one with the first statement) ----------------------------------------
    async def commit(self) -> None:
        assert self.conn is not None
        await self.conn.commit()

    async def rollback(self) -> None:
        if self.conn is not None:
            await self.conn.rollback()

    # -- metadata and DDL -----------------------------------------------------------------------------------
    def _name(self, name: str | None) -> Any:
        """A name as SQLAlchemy should write it: always quoted, or never (after the plain-identifier check)."""
        if name is None:
            return None
        self.q(name)  # refuses NUL, bad Unicode, and non-plain names with quote.sql.identifiers=never
        return sa.sql.quoted_name(name, self.quote)

    async def table_info(self, tid: TableId) -> TableInfo | None:
        """Reads the table (before the put's writes: a failed catalog query may abort a transaction) and keeps its
        reflected column types for the statements that write to it."""
        assert self.conn is not None
        self._tables.pop(tid, None)
        self._stmts.clear()
        dialect = self.sa_dialect

        def reflect(c: Connection) -> tuple[TableInfo, sa.Table] | None:
            insp = sa.inspect(c)
            if not insp.has_table(tid.table, schema=tid.schema):
                return None
            views = set(insp.get_view_names(schema=tid.schema))
            reflected = reflect_columns(c, tid.table, tid.schema)
            cols = {}
            for col in reflected:
                try:
                    cols[col.name] = str(col.type.compile(dialect=dialect)).lower()
                except Exception:
                    cols[col.name] = type(col.type).__name__.lower()
            table = sa.Table(
                self._name(tid.table),
                sa.MetaData(),
                *[sa.Column(sa.sql.quoted_name(r.name, True), r.type) for r in reflected],
                schema=self._name(tid.schema),
            )
            return TableInfo(cols, "VIEW" if tid.table in views else "TABLE"), table

        found = await self.conn.run(reflect)
        if found is None:
            return None
        self._tables[tid] = found[1]
        return found[0]

    def _sa_column(self, col: Column, tz: ZoneInfo) -> sa.Column:
        default = None
        if col.schema.default is not None:
            v = to_python(col.schema, col.schema.default)
            if isinstance(v, dt.datetime):  # as Java writes them: wall-clock text at millisecond precision
                v = v.astimezone(tz) if v.tzinfo else v
                v = f"{v.strftime('%Y-%m-%d %H:%M:%S')}.{v.microsecond // 1000:03d}"
            elif isinstance(v, dt.time):
                v = f"{v.strftime('%H:%M:%S')}.{v.microsecond // 1000:03d}"
            self.sql.literal(v)  # a value with no safe literal is refused here (UnsafeSql), never sent
            default = v if isinstance(v, str) else sa.literal(v)
        return sa.Column(
            self._name(col.name),
            sql_type(self.sa_dialect, col),
            primary_key=col.is_key,
            autoincrement=False,
            nullable=not col.is_key and (col.schema.optional or col.schema.default is not None),
            server_default=default,
        )

    def _ddl_table(self, tid: TableId, columns: list[Column], tz: ZoneInfo) -> sa.Table:
        return sa.Table(
            self._name(tid.table),
            sa.MetaData(),
            *[self._sa_column(c, tz) for c in columns],
            schema=self._name(tid.schema),
        )

    def create_table_sql(self, tid: TableId, columns: list[Column], tz: ZoneInfo) -> str:
        try:
            return str(CreateTable(self._ddl_table(tid, columns, tz)).compile(dialect=self.sa_dialect)).strip()
        except sa.exc.CompileError as e:
            raise UnsafeSql(f"Cannot write CREATE TABLE for {self.display(tid)}: {e}") from e

    def alter_table_sql(self, tid: TableId, columns: list[Column], tz: ZoneInfo) -> list[str]:
        table = self._ddl_table(tid, columns, tz)
        name = self.sa_dialect.identifier_preparer.format_table(table)
        add = "ADD" if self.sa_dialect.name == "mssql" else "ADD COLUMN"
        return [f"ALTER TABLE {name} {add} {CreateColumn(c).compile(dialect=self.sa_dialect)}" for c in table.columns]

    async def execute_ddl(self, sql: str) -> None:
        assert self.conn is not None

        def ddl(c: Connection) -> None:
            c.exec_driver_sql(sql)
            c.commit()

        await self.conn.run(ddl)

    # -- DML ------------------------------------------------------------------------------------------------
    async def _table(self, tid: TableId) -> sa.Table:
        """The table with its reflected column types (table_info read them before any write to it)."""
        t = self._tables.get(tid)
        if t is None:
            await self.table_info(tid)
            t = self._tables[tid]
        return t

    async def _statement(self, key: tuple[Any, ...], tid: TableId, build: Any) -> Statement:
        st = self._stmts.get(key)
        if st is None:
            st = self._stmts[key] = build(await self._table(tid))
        return st

    async def insert(self, tid: TableId, cols: list[str], rows: Sequence[Sequence[Any]], info: TableInfo) -> None:
        await self._insert(tid, cols, rows, sa.insert, None)

    async def upsert(
        self,
        tid: TableId,
        cols: list[str],
        nkeys: int,
        rows: Sequence[Sequence[Any]],
        info: TableInfo,
        last: bool = False,
    ) -> None:
        # ON CONFLICT cannot touch a row twice in one statement: keep the last record of each key
        dedup = {tuple(r[:nkeys]): r for r in rows}
        if len(dedup) != len(rows):
            rows = list(dedup.values())
        rest = cols[nkeys:]

        def on_conflict(ins: Any, t: sa.Table) -> Any:
            if hasattr(ins, "on_conflict_do_update"):
                keys = [t.c[c] for c in cols[:nkeys]]
                if rest:
                    return ins.on_conflict_do_update(index_elements=keys, set_={c: ins.excluded[c] for c in rest})
                return ins.on_conflict_do_nothing(index_elements=keys)
            # MySQL / MariaDB
            return ins.on_duplicate_key_update({c: ins.inserted[c] for c in rest or cols[:nkeys]})

        await self._insert(tid, cols, rows, self._upsert_insert(), on_conflict)

    async def _insert(
        self, tid: TableId, cols: list[str], rows: Sequence[Sequence[Any]], insert_of: Any, finish: Any
    ) -> None:
        """One INSERT executed with the rows as parameter sets: SQLAlchemy sends it as multi-row VALUES pages
        ("insertmanyvalues") where the dialect allows, else through the driver's executemany."""

        def build(t: sa.Table) -> Statement:
            binds = _bind_names(t.c.keys(), len(cols))
            ins = insert_of(t).values({t.c[c]: sa.bindparam(b) for c, b in zip(cols, binds, strict=True)})
            return Statement(finish(ins, t) if finish else ins, binds)

        key = ("insert", tid, tuple(cols), finish is not None)
        await self.executemany(await self._statement(key, tid, build), rows)

    def _upsert_insert(self) -> Any:
        from sqlalchemy.dialects import mysql, postgresql, sqlite

        d = self.sa_dialect
        if isinstance(d, postgresql.base.PGDialect):  # PostgreSQL and the dialects built on it (DuckDB, ...)
            return postgresql.insert
        if d.name == "sqlite":
            return sqlite.insert
        if d.name in ("mysql", "mariadb"):
            return mysql.insert
        raise UnsafeSql(
            f"insert.mode=upsert is not supported through SQLAlchemy's '{d.name}' dialect (it has no INSERT ... "
            f"ON CONFLICT form); use insert.mode=insert or update"
        )

    def update_sql(self, tid: TableId, keys: list[str], values: list[str]) -> Any:
        """A pending UPDATE (bound to the table's reflected types in executemany): SET values, WHERE keys."""
        return ("update", tid, tuple(keys), tuple(values))

    def delete_sql(self, tid: TableId, keys: list[str]) -> Any:
        return ("delete", tid, tuple(keys), ())

    async def _dml(self, key: tuple[Any, ...]) -> Statement:
        kind, tid, keys, values = key

        def build(t: sa.Table) -> Statement:
            binds = _bind_names(t.c.keys(), len(values) + len(keys))
            where = sa.and_(*[t.c[k] == sa.bindparam(b) for k, b in zip(keys, binds[len(values) :], strict=True)])
            if kind == "delete":
                return Statement(sa.delete(t).where(where), binds)
            stmt = sa.update(t).values({t.c[v]: sa.bindparam(b) for v, b in zip(values, binds, strict=False)})
            return Statement(stmt.where(where) if keys else stmt, binds)

        return await self._statement(key, tid, build)

    async def executemany(self, sql: Any, rows: Sequence[Sequence[Any]]) -> None:
        """Runs a Statement (or a pending UPDATE/DELETE) once per row, as one executemany."""
        assert self.conn is not None
        st = sql if isinstance(sql, Statement) else await self._dml(sql)
        params = [dict(zip(st.binds, r, strict=False)) for r in rows]
        if params:
            await self.conn.run(lambda c: c.execute(st.stmt, params))
