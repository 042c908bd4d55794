"""SourceDb of the generic dialect: tables and columns by SQLAlchemy reflection, the clock by SQLAlchemy's
CURRENT_TIMESTAMP, and the queriers' statements executed through the connection with bind parameters, rows
streamed `fetch` at a time (server-side cursors where the dialect has them).

Open transactions are not visible to a generic database (as for Confluent's GenericDatabaseDialect), so the
timestamp upper bound is the database clock minus timestamp.delay.interval.ms.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..column_types import UTC, Column
from ..dialects import TableId
from ..source.db import SourceDb, Stream
from ..url import JdbcUrl
from .engine import SaConnection, offline_dialect
from .reflect import reflect_columns
from .text import SqlAlchemyText
from .types import jdbc_column, sampled_column

log = logging.getLogger(__name__)


def _like(pattern: str) -> re.Pattern[str]:
    """A LIKE pattern (DatabaseMetaData's catalog/schema patterns) as a regular expression."""
    return re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern), re.S)


class GenericSourceDb(SourceDb):
    conn: SaConnection | None
    text: SqlAlchemyText

    def __init__(self, jdbc: JdbcUrl, *args: Any, **kwargs: Any):
        super().__init__(jdbc, *args, **kwargs)
        self.sa_dialect = offline_dialect(jdbc)
        self.text = SqlAlchemyText(self.sa_dialect)

    def sql_text(self, quote: bool = True) -> SqlAlchemyText:
        return SqlAlchemyText(self.sa_dialect, quote)

    async def _apply_isolation(self) -> None:
        level = self.isolation.replace("_", " ")
        if self.isolation in ("DEFAULT", ""):
            return
        try:
            await self.conn.run(lambda c: c.execution_options(isolation_level=level))  # type: ignore[union-attr]
        except Exception as e:
            log.warning(
                "Transaction isolation level %s is not supported by the database; using the default (%s)",
                self.isolation,
                e,
            )

    async def _read(self, fn: Any, *args: Any) -> Any:
        """A catalog read in a transaction of its own (no snapshot held until the next query)."""
        conn: SaConnection = await self.connection()

        def read(c: Connection, *a: Any) -> Any:
            try:
                return fn(c, *a)
            finally:
                c.rollback()

        return await conn.run(read, *args)

    # -- metadata ----------------------------------------------------------------------------------------
    async def list_tables(
        self, catalog_pattern: str | None, schema_pattern: str | None, types: list[str]
    ) -> list[TableId]:
        """Tables (and views) of the default schema, or of every schema matching schema.pattern."""
        types = [t.strip().upper() for t in types]
        if catalog_pattern:
            return []

        def list_(c: Connection) -> list[TableId]:
            insp = sa.inspect(c)
            if schema_pattern is None:
                schemas = [insp.default_schema_name]
            else:
                like = _like(schema_pattern)
                schemas = [s for s in insp.get_schema_names() if like.fullmatch(s)]
            out = []
            for kind, names in (("TABLE", insp.get_table_names), ("VIEW", insp.get_view_names)):
                if kind in types:
                    for s in schemas:
                        out += [TableId(None, s, t) for t in sorted(names(schema=s))]
            return out

        return list(await self._read(list_))

    async def table_columns(self, table: TableId) -> list[Column]:
        def reflect(c: Connection) -> list[Column]:
            return [
                jdbc_column(r.name, r.type, r.nullable, r.autoincrement or "nextval(" in (r.default or "").lower())
                for r in reflect_columns(c, table.table, table.schema)
            ]

        cache = self.__dict__.setdefault("_tcols", {})
        cols = await self._read(reflect)
        cache[table] = cols
        return list(cols)

    async def query_columns(self, sql: str) -> dict[str, Column]:
        return {}

    # -- clock and open transactions ----------------------------------------------------------------------
    async def now(self) -> dt.datetime:
        v = await self._read(lambda c: c.execute(sa.select(sa.func.current_timestamp())).scalar())
        if isinstance(v, str):
            v = dt.datetime.fromisoformat(v).replace(tzinfo=UTC)  # SQLite: UTC text
        if v.tzinfo is None:
            v = v.replace(tzinfo=self.tz)
        return v

    async def oldest_open_transaction(self) -> tuple[bool, dt.datetime | None, str]:
        return False, None, "not visible to the generic dialect"

    # -- streaming reads ----------------------------------------------------------------------------------
    async def begin(self) -> None:
        await self.connection()  # SQLAlchemy begins the transaction with the first statement

    async def end(self, commit: bool = True) -> None:
        conn = self.conn
        if conn is None:
            return
        try:
            await (conn.commit() if commit else conn.rollback())
        except Exception:
            if commit:
                raise

    async def query(
        self,
        sql: str,
        params: list[Any],
        fetch: int,
        table: TableId | None,
        base_query: str | None = None,
        ts_columns: Sequence[str] = (),
    ) -> Stream:
        conn: SaConnection = await self.connection()
        reflected: dict[str, Column] = {}
        if table is not None:
            cached = self.__dict__.get("_tcols", {}).get(table)
            reflected = {c.name: c for c in (cached or await self.table_columns(table))}
        aware = bool(ts_columns) and all(reflected.get(n, Column(n, "")).aware for n in ts_columns)
        bound = self.text.bind([self._param(p, aware, conn.dialect.name) for p in params])

        def start(c: Connection) -> tuple[Any, list[str], list[tuple]]:
            opts = {"stream_results": True, "max_row_buffer": fetch}
            result = c.exec_driver_sql(sql, bound or None, execution_options=opts)  # type: ignore[arg-type]
            return result, list(result.keys()), [tuple(r) for r in result.fetchmany(fetch)]

        result, names, first = await conn.run(start)
        columns = []
        for i, n in enumerate(names):
            c = reflected.get(n)
            columns.append(
                c if c is not None else sampled_column(n, [r[i] for r in first])  # query mode: no reflected types
            )

        async def chunks() -> AsyncIterator[list[Any]]:
            try:
                rows = first
                while rows:
                    yield rows
                    if len(rows) < fetch:
                        return
                    rows = await conn.run(lambda c: [tuple(r) for r in result.fetchmany(fetch)])
            finally:
                try:
                    await conn.run(lambda c: result.close())
                except Exception as e:  # best effort: a task stopping mid-stream may have closed the connection
                    log.debug("Ignoring error while closing a result: %s", e)

        return Stream(columns, chunks())

    def _param(self, value: Any, aware: bool, dialect_name: str) -> Any:
        """Timestamp bounds: instants for zone-aware columns, else wall-clock in db.timezone (as text in SQLite,
        whose columns hold text)."""
        if not isinstance(value, dt.datetime) or aware:
            return value
        if dialect_name == "sqlite":
            return self._sqlite_param(value)
        return self._wall(value)
