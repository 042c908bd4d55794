"""Per-database source access: table listing, column metadata, the clock, open transactions, streamed reads.

One `SourceDb` per connector (table monitor) or task (queriers) owns one cached connection. Queriers hand it
SQL with dialect placeholders and aware-datetime parameters; it converts the parameters to what each driver
and column type expects (PostgreSQL timestamp vs timestamptz, MySQL wall-clock, SQLite text) and streams rows
`fetch` at a time through a server-side cursor inside one transaction, committed at the end (reference §3.4).
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from miniconnect.errors import ConnectError

from ..column_types import UTC, Column, mysql_column, parse_zone, pg_column, sqlite_column
from ..connection import close_connection, is_valid, open_connection
from ..dialects import TableId, get_dialect
from ..sqltext import SqlText, UnsafeSql, sql_text
from ..url import JdbcUrl

log = logging.getLogger(__name__)

_PG_KINDS = {"TABLE": "r", "VIEW": "v"}
_MY_TYPES = {"TABLE": "BASE TABLE", "VIEW": "VIEW", "SYSTEM TABLE": "SYSTEM VIEW"}
_MY_SYSTEM = ("information_schema", "mysql", "performance_schema", "sys")
_ISOLATION_SQL = {
    "READ_UNCOMMITTED": "READ UNCOMMITTED",
    "READ_COMMITTED": "READ COMMITTED",
    "REPEATABLE_READ": "REPEATABLE READ",
    "SERIALIZABLE": "SERIALIZABLE",
}


class Stream:
    """Result of `SourceDb.query`: the result columns, then row chunks from `chunks()`."""

    def __init__(self, columns: list[Column], chunks: AsyncIterator[list[Any]]):
        self.columns = columns
        self._chunks = chunks

    def chunks(self) -> AsyncIterator[list[Any]]:
        return self._chunks


class SourceDb:
    def __init__(
        self,
        jdbc: JdbcUrl,
        attempts: int = 3,
        backoff_ms: int = 10000,
        tz: str = "UTC",
        isolation: str = "DEFAULT",
        wait: Any = None,
    ):
        self.jdbc = jdbc
        self.kind = jdbc.dialect
        self.dialect = get_dialect(jdbc.dialect)
        self.text = sql_text(jdbc.dialect)  # names in catalog reads: always quoted
        self.attempts, self.backoff_ms, self.wait = attempts, backoff_ms, wait
        self.tz = parse_zone(tz)
        self.isolation = isolation
        self.conn: Any = None
        self._isolation_applied = False
        self._pg_types: dict[int, tuple[str, str]] = {}

    def sql_text(self, quote: bool = True) -> SqlText:
        """How the queriers write names and bind markers for this database."""
        return sql_text(self.kind, quote)

    # -- connection ------------------------------------------------------------------------------------
    async def connection(self) -> Any:
        """The cached connection, re-opened when it is no longer valid (Connection.isValid)."""
        if self.conn is not None and await is_valid(self.conn):
            return self.conn
        await close_connection(self.conn)
        self.conn = None
        self.conn = await open_connection(self.jdbc, self.attempts, self.backoff_ms, self.wait)
        if self.kind == "postgresql":
            # numeric in text format, parsed by Decimal(): same values and scale as asyncpg's binary decoder,
            # which builds each Decimal digit group by digit group (~0.5-1 us of ~4 us per bench_jdbc_source row)
            await self.conn.set_type_codec(
                "numeric", schema="pg_catalog", encoder=str, decoder=decimal.Decimal, format="text"
            )
        if not self._isolation_applied:  # Java applies it once, to the first connection only
            self._isolation_applied = True
            await self._apply_isolation()
        return self.conn

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        await close_connection(conn)

    async def _apply_isolation(self) -> None:
        level = _ISOLATION_SQL.get(self.isolation)
        if self.isolation in ("DEFAULT", ""):
            return
        try:
            if self.kind == "postgresql" and level:
                await self.conn.execute(f"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {level}")
            elif self.kind == "mysql" and level:
                async with self.conn.cursor() as cur:
                    await cur.execute(f"SET SESSION TRANSACTION ISOLATION LEVEL {level}")
            elif self.kind == "sqlite" and self.isolation == "READ_UNCOMMITTED":
                await self.conn.execute("PRAGMA read_uncommitted = 1")
            elif self.kind == "sqlite" and self.isolation == "SERIALIZABLE":
                pass  # SQLite transactions are always serializable
            else:
                raise ValueError("not supported")
        except Exception as e:
            log.warning(
                "Transaction isolation level %s is not supported by the database; using the default (%s)",
                self.isolation,
                e,
            )

    async def _scalar(self, sql: str, *args: Any) -> Any:
        conn = await self.connection()
        if self.kind == "postgresql":
            return await conn.fetchval(sql, *args)
        if self.kind == "mysql":
            async with conn.cursor() as cur:
                await cur.execute(sql, args or None)
                row = await cur.fetchone()
            return row[0] if row else None
        async with conn.execute(sql, args) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def _rows(self, sql: str, *args: Any) -> list[tuple]:
        conn = await self.connection()
        if self.kind == "postgresql":
            return [tuple(r) for r in await conn.fetch(sql, *args)]
        if self.kind == "mysql":
            async with conn.cursor() as cur:
                await cur.execute(sql, args or None)
                rows = list(await cur.fetchall())
            await conn.commit()
            return rows
        async with conn.execute(sql, args) as cur:
            return list(await cur.fetchall())

    # -- metadata ----------------------------------------------------------------------------------------
    async def list_tables(
        self, catalog_pattern: str | None, schema_pattern: str | None, types: list[str]
    ) -> list[TableId]:
        """DatabaseMetaData.getTables(catalog, schema, "%", types) in the driver's order."""
        types = [t.strip().upper() for t in types]
        if self.kind == "postgresql":
            kinds = [_PG_KINDS[t] for t in types if t in _PG_KINDS]
            system = "SYSTEM TABLE" in types
            if catalog_pattern == "" or (not kinds and not system):
                return []
            sql = (
                "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                "ON n.oid = c.relnamespace WHERE ((c.relkind::text = ANY($1::text[]) AND n.nspname NOT IN "
                "('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)') OR ($2 AND "
                "c.relkind = 'r' AND n.nspname IN ('pg_catalog', 'information_schema')))"
            )
            args: list[Any] = [kinds, system]
            if schema_pattern is not None:
                sql += " AND n.nspname LIKE $3"
                args.append(schema_pattern)
            sql += " ORDER BY c.relkind, n.nspname, c.relname"
            return [TableId(None, s, t) for s, t in await self._rows(sql, *args)]
        if self.kind == "mysql":
            my_types = [_MY_TYPES[t] for t in types if t in _MY_TYPES]
            if not my_types or schema_pattern == "":
                pass
            marks = ",".join(["%s"] * len(my_types)) or "NULL"
            sql = f"SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE IN ({marks})"
            args = list(my_types)
            if catalog_pattern is not None:
                sql += " AND TABLE_SCHEMA LIKE %s"
                args.append(catalog_pattern)
            elif self.jdbc.database:
                # MariaDB Connector/J (nullCatalogMeansCurrent): no pattern = the URL's database
                sql += " AND TABLE_SCHEMA = %s"
                args.append(self.jdbc.database)
            else:
                sql += " AND TABLE_SCHEMA NOT IN ('information_schema','mysql','performance_schema','sys')"
            sql += " ORDER BY TABLE_TYPE, TABLE_SCHEMA, TABLE_NAME"
            return [TableId(s, None, t) for s, t in await self._rows(sql, *args)]
        sq_types = [t.lower() for t in types if t in ("TABLE", "VIEW")]
        if not sq_types or catalog_pattern or schema_pattern:
            return []
        marks = ",".join("?" * len(sq_types))
        rows = await self._rows(
            f"SELECT name FROM sqlite_master WHERE type IN ({marks}) AND name NOT LIKE "
            f"'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
            *sq_types,
        )
        return [TableId(None, None, r[0]) for r in rows]

    async def table_columns(self, table: TableId) -> list[Column]:
        """The table's columns with nullability and auto-increment (for validation and autodetection)."""
        if self.kind == "postgresql":
            rows = await self._rows(
                "SELECT a.attname, t.typname, t.typtype::text, t.typcategory::text, a.atttypmod, a.attnotnull, "
                "(a.attidentity <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false)) "
                "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d "
                "ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = $1::regclass AND a.attnum > 0 "
                "AND NOT a.attisdropped ORDER BY a.attnum",
                self._table_sql(table),
            )
            return [pg_column(n, tn, _pg_kind(tt, tc), mod, not nn, bool(ai)) for n, tn, tt, tc, mod, nn, ai in rows]
        if self.kind == "mysql":
            conn = await self.connection()
            async with conn.cursor() as cur:
                await cur.execute(f"SELECT * FROM {self._table_sql(table)} LIMIT 0")
                fields = list(cur._result.fields)
            await conn.commit()
            return [mysql_column(f) for f in fields]
        return await self._sqlite_columns(table.table)

    def _table_sql(self, table: TableId) -> str:
        return ".".join(self.text.identifier(p) for p in table if p is not None)

    async def _sqlite_columns(self, name: str) -> list[Column]:
        rows = await self._rows(f"PRAGMA table_info({self.text.identifier(name)})")
        ddl = await self._scalar("SELECT sql FROM sqlite_master WHERE name = ?", name) or ""
        auto = bool(re.search(r"AUTOINCREMENT", ddl, re.I))
        # an INTEGER PRIMARY KEY is the rowid: never null, whatever PRAGMA's notnull says
        return [
            sqlite_column(
                r[1],
                r[2],
                bool(r[3]) or (bool(r[5]) and (r[2] or "").upper() == "INTEGER"),
                auto and bool(r[5]) and "INT" in (r[2] or "").upper(),
            )
            for r in rows
        ]

    async def query_columns(self, sql: str) -> dict[str, Column]:
        """Column details of a custom query that the result metadata lacks (PG numeric typmod, SQLite declared
        types), read through a temporary view; empty when the query cannot be wrapped."""
        try:
            if self.kind == "postgresql":
                conn = await self.connection()
                async with conn.transaction():
                    await conn.execute(f"CREATE TEMP VIEW __miniconnect_q AS {sql}")
                    cols = await self.table_columns(TableId(None, None, "__miniconnect_q"))
                    raise _Rollback(cols)
            if self.kind == "sqlite":
                conn = await self.connection()
                await conn.execute(f"CREATE TEMP VIEW IF NOT EXISTS __miniconnect_q AS {sql}")
                try:
                    cols = await self._sqlite_columns("__miniconnect_q")
                finally:
                    await conn.execute("DROP VIEW IF EXISTS temp.__miniconnect_q")
                return {c.name: c for c in cols}
        except _Rollback as r:
            return {
                c.name: Column(
                    c.name, c.jdbc, c.type_name, c.precision, c.scale, c.signed, None, c.auto_increment, c.aware
                )
                for c in r.cols
            }
        except Exception as e:
            log.debug("Could not describe the query through a view: %s", e)
        return {}

    # -- clock and open transactions ----------------------------------------------------------------------
    async def now(self) -> dt.datetime:
        """The database's current time as an aware datetime (zone-less clocks read in db.timezone)."""
        v = await self._scalar(self.dialect.now_sql)
        if isinstance(v, str):
            v = dt.datetime.fromisoformat(v).replace(tzinfo=UTC)  # SQLite strftime('now') is UTC
        if v.tzinfo is None:
            v = v.replace(tzinfo=self.tz)
        return v

    async def oldest_open_transaction(self) -> tuple[bool, dt.datetime | None, str]:
        """(visible, start of the oldest other open transaction or None, why not visible)."""
        try:
            if self.kind == "postgresql":
                row = (
                    await self._rows(
                        # Rows hidden for lack of privilege show query '<insufficient privilege>' and NULL state and
                        # backend_type. A backend still starting up also has state NULL but no transaction yet.
                        "SELECT min(xact_start) FILTER (WHERE state IS NOT NULL), "
                        "count(*) FILTER (WHERE query = '<insufficient privilege>') "
                        "FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()"
                    )
                )[0]
                if row[1]:
                    return (
                        False,
                        None,
                        (
                            f"{row[1]} session(s) in pg_stat_activity are not visible to this user "
                            f"(grant pg_read_all_stats)"
                        ),
                    )
                return True, row[0], ""
            if self.kind == "mysql":
                # Not information_schema.innodb_trx: InnoDB serves it from a cache that is only refreshed when
                # nobody read it in the last 100 ms, so frequent polling would keep seeing a stale list.
                conn = await self.connection()
                async with conn.cursor() as cur:
                    await cur.execute("SELECT CONNECTION_ID(), CURRENT_TIMESTAMP(6)")
                    me, now = await cur.fetchone()
                    await cur.execute("SHOW ENGINE INNODB STATUS")
                    status = (await cur.fetchone())[2]
                oldest = _innodb_oldest_active(status, me)
                if oldest is None:
                    return True, None, ""
                now = now.replace(tzinfo=self.tz) if now.tzinfo is None else now
                # ACTIVE N sec is floored: the transaction began within (N+1) s
                return True, now - dt.timedelta(seconds=oldest + 1), ""
        except Exception as e:  # e.g. MySQL without the PROCESS privilege
            return False, None, str(e).strip() or type(e).__name__
        return False, None, "not supported for this database"

    # -- streaming reads ----------------------------------------------------------------------------------
    async def begin(self) -> None:
        """Starts the transaction one query run happens in (clock reads, then the rows)."""
        conn = await self.connection()
        if self.kind == "postgresql":
            self._tr = conn.transaction()
            await self._tr.start()
        elif self.kind == "sqlite":
            await conn.execute("BEGIN")

    async def end(self, commit: bool = True) -> None:
        """COMMIT (releases locks and the snapshot) or ROLLBACK after a failure; never raises on rollback."""
        conn = self.conn
        if conn is None:
            return
        try:
            if self.kind == "postgresql":
                tr, self._tr = getattr(self, "_tr", None), None
                if tr is not None:
                    await (tr.commit() if commit else tr.rollback())
            elif self.kind == "mysql":
                await (conn.commit() if commit else conn.rollback())
            elif conn.in_transaction:
                await conn.execute("COMMIT" if commit else "ROLLBACK")
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
        """Executes `sql` (dialect placeholders) and returns its columns and a chunk iterator (inside begin/end).
        `ts_columns`: the columns the timestamp parameters compare with (the generic dialect binds by them)."""
        conn = await self.connection()
        if self.kind == "postgresql":
            stmt, params, columns = await self._pg_prepare(sql, params, table, base_query)
            cursor = await stmt.cursor(*params)

            async def pg_chunks() -> AsyncIterator[list[Any]]:
                while True:
                    rows = await cursor.fetch(fetch)
                    if not rows:
                        return
                    yield rows
                    if len(rows) < fetch:
                        return

            return Stream(columns, pg_chunks())
        if self.kind == "mysql":
            import aiomysql

            cur = await conn.cursor(aiomysql.SSCursor)
            # always with arguments: PyMySQL then reads `sql` as a format (SqlText.params doubled every other `%`)
            await cur.execute(sql, [self._wall(p) for p in params])
            columns = [mysql_column(f) for f in cur._result.fields]

            async def my_chunks() -> AsyncIterator[list[Any]]:
                try:
                    while True:
                        rows = await cur.fetchmany(fetch)
                        if not rows:
                            return
                        yield rows
                finally:
                    await cur.close()

            return Stream(columns, my_chunks())
        cur = await conn.execute(sql, [self._sqlite_param(p) for p in params])
        if table is not None:
            columns = await self._sqlite_columns(table.table)
            by_name = {c.name: c for c in columns}
        else:
            by_name = await self._cached_query_columns(base_query)
        first = await cur.fetchmany(fetch)
        names = [d[0] for d in cur.description or ()]
        columns = [
            by_name.get(n) or sqlite_column(n, "", False, sample=first[0][i] if first else None)
            for i, n in enumerate(names)
        ]
        columns = [
            c if c.name == n else Column(n, c.jdbc, c.type_name, c.precision, c.scale, c.signed, c.nullable)
            for c, n in zip(columns, names)
        ]

        async def sq_chunks() -> AsyncIterator[list[Any]]:
            try:
                rows = first
                while rows:
                    yield rows
                    rows = await cur.fetchmany(fetch)
            finally:
                await cur.close()

        return Stream(columns, sq_chunks())

    async def estimated_rows(self, table: TableId) -> int | None:
        """The table's estimated rows (PostgreSQL's pg_class.reltuples, InnoDB's TABLE_ROWS); None when unknown
        (InnoDB's 0 may be statistics not yet updated after a load)."""
        if self.kind == "mysql":
            stats = await self.table_stats(table)
            return stats[0] if stats and stats[0] else None
        if self.kind != "postgresql":
            return None
        n = await self._scalar(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass", self._table_sql(table)
        )
        return n if n is not None and n >= 0 else None

    async def table_stats(self, table: TableId) -> tuple[int, int] | None:
        """MySQL: the table's estimated (rows, data bytes) from information_schema (TABLE_ROWS, DATA_LENGTH: MariaDB
        keeps the first current, the second may lag a load; MySQL 8 caches both), read inside the querier's
        transaction (not committed here); None elsewhere."""
        if self.kind != "mysql":
            return None
        async with (await self.connection()).cursor() as cur:
            await cur.execute(
                "SELECT TABLE_ROWS, DATA_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                "COALESCE(%s, DATABASE()) AND TABLE_NAME = %s",
                (table.catalog, table.table),
            )
            row = await cur.fetchone()
        return (int(row[0] or 0), int(row[1] or 0)) if row else None

    async def describe(
        self, sql: str, params: list[Any], table: TableId | None, base_query: str | None = None
    ) -> tuple[list[Column], list[Any]] | None:
        """The result columns of `sql` and its parameters as the statement's types want them, without reading a row
        (PostgreSQL: a prepared statement; MySQL: the statement with LIMIT 0). None when the statement cannot take
        the LIMIT (e.g. a query with its own): the row path reads it."""
        if self.kind == "mysql":
            import pymysql

            wall = [self._wall(p) for p in params]
            conn = await self.connection()
            try:
                async with conn.cursor() as cur:
                    await cur.execute(sql + " LIMIT 0", wall)
                    fields = list(cur._result.fields)
            except pymysql.err.ProgrammingError as e:
                log.debug("The statement cannot be described with LIMIT 0: %s", e)
                return None
            return [mysql_column(f) for f in fields], wall
        _, params, columns = await self._pg_prepare(sql, params, table, base_query)
        return columns, params

    async def _pg_prepare(
        self, sql: str, params: list[Any], table: TableId | None, base_query: str | None
    ) -> tuple[Any, list[Any], list[Column]]:
        stmt = await (await self.connection()).prepare(sql)
        params = [self._pg_param(p, t.name) for p, t in zip(params, stmt.get_parameters())]
        return stmt, params, await self._pg_columns(stmt, table, base_query)

    async def _cached_query_columns(self, base: str | None) -> dict[str, Column]:
        cache = self.__dict__.setdefault("_qcols", {})
        if not base:
            return {}
        if base not in cache:
            cache[base] = await self.query_columns(base)
        return cache[base]

    async def _pg_columns(self, stmt: Any, table: TableId | None, base_query: str | None) -> list[Column]:
        attrs = stmt.get_attributes()
        if table is not None:
            details = {c.name: c for c in await self.table_columns(table)}
        else:
            details = await self._cached_query_columns(base_query)
        unknown = [a.type.oid for a in attrs if a.type.oid not in self._pg_types and a.type.oid >= 10000]
        if unknown:
            for oid, tt, tc in await self._rows(
                "SELECT oid::int, typtype::text, typcategory::text FROM pg_type WHERE oid = ANY($1::oid[])", unknown
            ):
                self._pg_types[oid] = (tt, tc)
        cols = []
        for a in attrs:
            d = details.get(a.name)
            if d is not None and d.type_name == a.type.name:
                cols.append(d)
                continue
            kind = a.type.kind
            if a.type.oid in self._pg_types:
                kind = _pg_kind(*self._pg_types[a.type.oid])
            cols.append(pg_column(a.name, a.type.name, kind))
        return cols

    def _pg_param(self, value: Any, type_name: str) -> Any:
        if isinstance(value, dt.datetime):
            if type_name == "timestamptz":
                return value
            if type_name == "timestamp":
                return value.astimezone(self.tz).replace(tzinfo=None)
            if type_name == "date":
                return value.astimezone(self.tz).date()
        return value

    def _wall(self, value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(self.tz).replace(tzinfo=None)
        return value

    def _sqlite_param(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            v = self._wall(value)
            if v.microsecond == 0:
                return v.strftime("%Y-%m-%d %H:%M:%S")
            if v.microsecond % 1000 == 0:
                return v.strftime("%Y-%m-%d %H:%M:%S.") + f"{v.microsecond // 1000:03d}"
            return v.strftime("%Y-%m-%d %H:%M:%S.%f")
        return value


class _Rollback(Exception):
    def __init__(self, cols: list[Column]):
        self.cols = cols


_TRX_LINE = re.compile(r"^---TRANSACTION \S+, ACTIVE (?:\(PREPARED\) )?(\d+) sec", re.M)
_THREAD = re.compile(r"(?:MySQL|MariaDB) thread id (\d+)")


def _innodb_oldest_active(status: str, own_thread: int) -> int | None:
    """Seconds the oldest other active transaction has run, from SHOW ENGINE INNODB STATUS."""
    oldest = None
    matches = list(_TRX_LINE.finditer(status))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(status)
        thread = _THREAD.search(status, m.end(), end)
        if thread and int(thread.group(1)) == own_thread:
            continue
        secs = int(m.group(1))
        oldest = secs if oldest is None else max(oldest, secs)
    return oldest


def _pg_kind(typtype: str, typcategory: str) -> str:
    if typcategory == "A":
        return "array"
    return {"e": "enum", "d": "domain", "c": "composite", "r": "range"}.get(typtype, "scalar")


def is_transient(exc: BaseException) -> bool:
    """Errors worth a retry on the next poll (Java retries every SQLException except SQLNonTransient)."""
    if isinstance(exc, UnsafeSql):  # a name that cannot be written into SQL: the next poll cannot change that
        return False
    if isinstance(exc, (OSError, TimeoutError, ConnectError)):
        return True
    return is_driver_error(exc)


DRIVER_MODULES = ("asyncpg", "pymysql", "aiomysql", "sqlite3", "sqlalchemy", "duckdb", "adbc_driver_manager")


def is_driver_error(exc: BaseException) -> bool:
    """An error raised by a database driver (or SQLAlchemy, for the generic dialect)."""
    return type(exc).__module__.startswith(DRIVER_MODULES)


def source_db(jdbc: JdbcUrl, *args: Any, **kwargs: Any) -> SourceDb:
    """The SourceDb for a URL: the generic dialect's (SQLAlchemy, imported only then) or the hand-tuned one."""
    if jdbc.dialect == "generic":
        from ..generic.source_db import GenericSourceDb

        return GenericSourceDb(jdbc, *args, **kwargs)
    return SourceDb(jdbc, *args, **kwargs)
