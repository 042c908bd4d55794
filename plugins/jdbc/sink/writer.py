"""Dialect writers: table metadata, DDL, and batched DML inside one transaction (reference 8.5-8.7).

PostgreSQL: insert through binary COPY, upsert through a binary COPY into a session temp table and one
`INSERT ... SELECT ... ON CONFLICT ... DO UPDATE` per batch (duplicate keys in a batch collapse to the last record,
which is what upserting them one after another leaves; array columns are bound row by row instead). The INSERT
goes in one round trip with what follows it: emptying the stage for the next batch, or the COMMIT after the last.
An upsert batch is first tried as a plain binary COPY into the table itself (see CopyFirst): when none of its keys
is there yet, which is most batches of insert-mostly streams, that is all it costs, at insert speed.
ON CONFLICT stays the statement for keys already there: bench/bench_pg_upsert.py measured the others on the same
rows (UPDATE ... FROM the stage then INSERT of the rest, MERGE, the stage sorted by key, 20,000-row batches), and
none costs PostgreSQL less per row: the new row version and its index entry are the cost (about twice a new key's),
and without a planner hint the join forms seq-scan the table into a hash join (MERGE, UPDATE ... FROM: 2-4 times).
MySQL/MariaDB: multi-row `INSERT ... VALUES` (upsert: `... ON DUPLICATE KEY UPDATE`), literals made a column at a
time (see mysql_values).
SQLite: `INSERT ... ON CONFLICT (...) DO UPDATE` (not Java's INSERT OR REPLACE, which resets other columns).
Any other database: generic.writer.SqlAlchemyWriter (SQLAlchemy Core), built only when a URL selects it.
Every name and literal in these statements is written by the writer's SqlText (sqltext); row values are bind
parameters, COPY data, or (MySQL) literals from the same SqlText.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ..connection import close_connection, open_connection
from ..dialects import TableId, parse_table_id
from ..sqltext import PARAM, SqlText, sql_text
from ..url import JdbcUrl
from .ddl import Column, alter_table_sql, create_table_sql
from .keys import nan_possible, pg_key
from .mysql_values import values_statements


@dataclass
class TableInfo:
    columns: dict[str, str]  # column name → database type name (lower-case)
    kind: str  # "TABLE", "VIEW", "PARTITIONED TABLE"
    local: bool = False  # PostgreSQL: a table of this database (not a view or foreign table)

    def find(self, name: str) -> str | None:
        """The table's column matching `name` exactly, else case-insensitively (Java's rule)."""
        if name in self.columns:
            return name
        low = name.lower()
        return next((c for c in self.columns if c.lower() == low), None)


class BinaryCopy(list[bytes]):
    """A PostgreSQL binary COPY stream (header, tuples, trailer) of whole rows in the statement's column order, made
    from columns (see columnar); PostgresWriter.insert and upsert take it in place of rows. An upsert's rows in it
    already hold one row per key. It is the stream's parts as encoded, sent one by one: joining them first was a
    fifth of the event loop's time in a Kafka -> PostgreSQL insert (a large copy into fresh memory per put)."""

    async def parts(self) -> AsyncIterator[bytes]:
        """The parts for asyncpg's copy_to_table (a fresh iterator each time: a failed COPY-first is sent again)."""
        for part in self:
            yield part


class Writer:
    dialect = ""

    def __init__(self, jdbc: JdbcUrl, quote: bool, attempts: int = 3, backoff_ms: int = 10000):
        self.jdbc, self.quote = jdbc, quote
        self._text = sql_text(self.dialect, quote)
        self.attempts, self.backoff_ms = attempts, backoff_ms
        self.conn: Any = None
        self.default_catalog: str | None = None
        self.default_schema: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------
    async def connect(self, wait: Any = None) -> None:
        if self.conn is None:
            self.conn = await open_connection(self.jdbc, self.attempts, self.backoff_ms, wait)
            await self._after_connect()

    async def _after_connect(self) -> None:
        pass

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        await close_connection(conn)

    # -- names ----------------------------------------------------------------------------------------------
    @property
    def sql(self) -> SqlText:
        """How this writer's names and literals are written (sqltext)."""
        return self._text

    def q(self, name: str) -> str:
        return self.sql.identifier(name)

    def table_id(self, text: str) -> TableId:
        tid = parse_table_id(self.dialect, text)
        return TableId(tid.catalog or self.default_catalog, tid.schema or self.default_schema, tid.table)

    def table_sql(self, tid: TableId) -> str:
        return ".".join(self.sql.identifier(p) for p in tid if p is not None)

    def display(self, tid: TableId) -> str:
        """Java's rendering in messages: every part double-quoted."""
        return ".".join(f'"{p}"' for p in tid if p is not None)

    # -- transactions ---------------------------------------------------------------------------------------
    async def begin(self) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...

    # -- metadata and DDL -----------------------------------------------------------------------------------
    async def table_info(self, tid: TableId) -> TableInfo | None:
        raise NotImplementedError

    async def execute_ddl(self, sql: str) -> None:
        raise NotImplementedError

    def create_table_sql(self, tid: TableId, columns: list[Column], tz: ZoneInfo) -> str:
        return create_table_sql(self.sql, self.table_sql(tid), columns, tz)

    def alter_table_sql(self, tid: TableId, columns: list[Column], tz: ZoneInfo) -> list[str]:
        return alter_table_sql(self.sql, self.table_sql(tid), columns, tz)

    # -- DML ------------------------------------------------------------------------------------------------
    async def insert(self, tid: TableId, cols: list[str], rows: Sequence[Sequence[Any]], info: TableInfo) -> None:
        raise NotImplementedError

    async def upsert(
        self,
        tid: TableId,
        cols: list[str],
        nkeys: int,
        rows: Sequence[Sequence[Any]],
        info: TableInfo,
        last: bool = False,
    ) -> None:
        """last: nothing else follows in this transaction, so a writer may commit it with this statement (commit()
        then has nothing left to do)."""
        raise NotImplementedError

    def update_sql(self, tid: TableId, keys: list[str], values: list[str]) -> str:
        sets = ", ".join(f"{self.q(c)} = {PARAM}" for c in values)
        sql = f"UPDATE {self.table_sql(tid)} SET {sets}"
        if keys:
            sql += " WHERE " + " AND ".join(f"{self.q(c)} = {PARAM}" for c in keys)
        return self.sql.params(sql)

    def delete_sql(self, tid: TableId, keys: list[str]) -> str:
        return self.sql.params(
            f"DELETE FROM {self.table_sql(tid)} WHERE " + " AND ".join(f"{self.q(c)} = {PARAM}" for c in keys)
        )

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError


class CopyFirst:
    """When to try an upsert batch as a plain COPY into its table (PostgreSQL). ON CONFLICT inserts row by row
    through the executor, with a speculative index insertion each: 3-4 times what COPY costs per row. A COPY of
    keys that are all new leaves what the upsert would; one that meets an existing key fails with a unique
    violation, is rolled back (to a savepoint) and the batch goes the ON CONFLICT way. After such a failure the next
    1, 2, 4 ... 256 batches of the table skip the try, so a stream of updates pays for one failed COPY in 256
    batches; any other error stops the tries for the table (row-level security, an INSTEAD rule, ...)."""

    MAX_SKIP = 256

    def __init__(self) -> None:
        self.skip = 0  # batches to write the ON CONFLICT way before the next try
        self.backoff = 0  # the last skip, doubled by each failed try, back to 0 after a COPY that worked
        self.enabled = True

    def wanted(self) -> bool:
        if not self.enabled:
            return False
        if self.skip:
            self.skip -= 1
            return False
        return True

    def succeeded(self) -> None:
        self.backoff = 0

    def conflicted(self) -> None:
        self.backoff = min(self.MAX_SKIP, self.backoff * 2 or 1)
        self.skip = self.backoff


class PostgresWriter(Writer):
    dialect = "postgresql"

    async def _after_connect(self) -> None:
        self.default_catalog, self.default_schema = None, await self.conn.fetchval("SELECT current_schema()")
        self.database = await self.conn.fetchval("SELECT current_database()")
        self._open = False  # a transaction begun and not yet committed
        self._clean = True  # nothing sent in it yet: a failed statement can roll back all of it
        self._upsert_sql: dict[Any, Any] = {}
        self._copy_first: dict[TableId, CopyFirst] = {}

    def table_id(self, text: str) -> TableId:
        tid = parse_table_id(self.dialect, text)
        # PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1), cut at a character boundary
        table = tid.table.encode("utf-8", "surrogatepass")[:63].decode("utf-8", "ignore")
        if not self.quote:
            table = table.lower()
        return TableId(None, tid.schema or self.default_schema, table)

    def display(self, tid: TableId) -> str:
        return ".".join(f'"{p}"' for p in (self.database, tid.schema, tid.table) if p is not None)

    async def begin(self) -> None:
        await self.conn.execute("BEGIN")  # by hand, not asyncpg's Transaction: upsert() may send the COMMIT
        self._open, self._clean = True, True

    async def commit(self) -> None:
        if self._open:
            self._open = False
            await self.conn.execute("COMMIT")

    async def rollback(self) -> None:
        self._open = False
        self._upsert_sql.clear()  # staging tables created in the rolled-back transaction are gone
        if self.conn is not None and not self.conn.is_closed() and self.conn.is_in_transaction():
            await self.conn.execute("ROLLBACK")

    async def table_info(self, tid: TableId) -> TableInfo | None:
        rows = await self.conn.fetch(
            "SELECT c.relkind::text AS relkind, a.attname, format_type(a.atttypid, a.atttypmod) AS t FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r','p','v','m','f') ORDER BY a.attnum",
            tid.schema,
            tid.table,
        )
        if not rows:
            return None
        kind = {"r": "TABLE", "p": "PARTITIONED TABLE", "f": "TABLE"}.get(rows[0]["relkind"], "VIEW")
        return TableInfo(
            {r["attname"]: r["t"] for r in rows if r["attname"] is not None},
            kind,
            local=rows[0]["relkind"] in ("r", "p"),
        )

    async def execute_ddl(self, sql: str) -> None:
        await self.conn.execute(sql)

    async def insert(self, tid: TableId, cols: list[str], rows: Sequence[Sequence[Any]], info: TableInfo) -> None:
        self._clean = False
        # asyncpg writes the COPY statement, quoting each name with the quote doubled inside (the rule of sqltext;
        # with quote.sql.identifiers=never the names were checked plain when the plan was made); unquoted
        # identifiers go as PostgreSQL folds them
        await self._copy(tid.table, tid.schema, cols if self.quote else [c.lower() for c in cols], rows)

    async def _copy(self, table: str, schema: str | None, cols: list[str] | None, rows: Sequence[Any]) -> None:
        if isinstance(rows, BinaryCopy):
            await self.conn.copy_to_table(table, source=rows.parts(), schema_name=schema, columns=cols, format="binary")
        else:
            await self.conn.copy_records_to_table(table, records=rows, schema_name=schema, columns=cols)

    async def upsert(
        self,
        tid: TableId,
        cols: list[str],
        nkeys: int,
        rows: Sequence[Sequence[Any]],
        info: TableInfo,
        last: bool = False,
    ) -> None:
        # ON CONFLICT cannot touch a row twice in one statement: keep the last record of each key (keys as
        # PostgreSQL compares them: two NaN keys are one)
        if not isinstance(rows, BinaryCopy):
            if nan_possible(info, cols[:nkeys]):
                dedup = {pg_key(r[0] if nkeys == 1 else tuple(r[:nkeys])): r for r in rows}
            elif nkeys == 1:
                dedup = {r[0]: r for r in rows}
            else:
                dedup = {tuple(r[:nkeys]): r for r in rows}
            if len(dedup) != len(rows):
                rows = list(dedup.values())
        if info.local and await self._copy_new_keys(tid, cols, rows, info):
            return
        self._clean = False  # whichever way below: the stage is made, or rows are written, in this transaction
        types = tuple(info.columns.get(info.find(c) or c, "text") for c in cols)
        key = (tid, tuple(cols), nkeys, types)
        stmt = self._upsert_sql.get(key)
        if stmt is None:
            stmt = self._upsert_sql[key] = await self._prepare_upsert(tid, cols, nkeys, types)
        stage, sql = stmt
        if stage is None:  # array columns: bind row by row
            if isinstance(rows, BinaryCopy):
                raise TypeError("array columns are bound row by row, not copied")
            await self.conn.executemany(sql, rows)
            return
        # binary COPY into a session temp table (emptied at commit), then one INSERT ... SELECT ... ON CONFLICT,
        # sent with the COMMIT after the transaction's last batch, else with emptying the stage for the next one
        await self._copy(stage, None, None, rows)
        if last and self._open:
            await self.conn.execute(sql + "; COMMIT")
            self._open = False
        else:
            await self.conn.execute(f"{sql}; DELETE FROM pg_temp.{self.q(stage)}")

    async def _copy_new_keys(
        self, tid: TableId, cols: list[str], rows: Sequence[Sequence[Any]], info: TableInfo
    ) -> bool:
        """Tries the batch as a plain COPY into the table (see CopyFirst); False if it must go the upsert way."""
        from asyncpg import PostgresError, UniqueViolationError

        tries = self._copy_first.get(tid)
        if tries is None:
            tries = self._copy_first[tid] = CopyFirst()
        if not tries.wanted():
            return False
        clean, in_tx = self._clean, self._open
        if in_tx and not clean:
            await self.conn.execute("SAVEPOINT miniconnect_copy")
        try:
            await self.insert(tid, cols, rows, info)
        except PostgresError as e:
            # a failed COPY aborts the transaction: back to before it (all of it when it was the first statement)
            if in_tx:
                await self.conn.execute("ROLLBACK; BEGIN" if clean else "ROLLBACK TO SAVEPOINT miniconnect_copy")
            self._clean = clean
            if isinstance(e, UniqueViolationError):
                tries.conflicted()
            else:
                tries.enabled = False
            return False
        tries.succeeded()
        return True

    async def _prepare_upsert(
        self, tid: TableId, cols: list[str], nkeys: int, types: tuple[str, ...]
    ) -> tuple[str | None, str]:
        q = self.q
        names = ",".join(q(c) for c in cols)
        keys = ",".join(q(c) for c in cols[:nkeys])
        rest = cols[nkeys:]
        action = ("DO UPDATE SET " + ",".join(f"{q(c)}=EXCLUDED.{q(c)}" for c in rest)) if rest else "DO NOTHING"
        if any(t.endswith("]") for t in types):
            values = ",".join([PARAM] * len(cols))
            return None, self.sql.params(
                f"INSERT INTO {self.table_sql(tid)} ({names}) VALUES ({values}) ON CONFLICT ({keys}) {action}"
            )
        stage = f"__miniconnect_stage_{len(self._upsert_sql)}"
        # the types are format_type()'s output, which PostgreSQL itself quotes where a type name needs it
        coldefs = ",".join(f"{q(f'c{i}')} {t}" for i, t in enumerate(types))
        await self.conn.execute(f"DROP TABLE IF EXISTS pg_temp.{q(stage)}")
        await self.conn.execute(f"CREATE TEMP TABLE {q(stage)} ({coldefs}) ON COMMIT DELETE ROWS")
        select = ",".join(q(f"c{i}") for i in range(len(cols)))
        return stage, (
            f"INSERT INTO {self.table_sql(tid)} ({names}) SELECT {select} FROM pg_temp.{q(stage)} "
            f"ON CONFLICT ({keys}) {action}"
        )

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._clean = False
        await self.conn.executemany(sql, rows)


_NO_BACKSLASH_ESCAPES = 512  # the server status flag (pymysql.constants.SERVER_STATUS): sql_mode has it


class MySqlWriter(Writer):
    dialect = "mysql"

    async def _after_connect(self) -> None:
        async with self.conn.cursor() as cur:
            await cur.execute("SELECT DATABASE()")
            self.default_catalog = (await cur.fetchone())[0]
        await self.conn.commit()

    @property
    def sql(self) -> SqlText:
        """String literals follow the session's current rule: the server reports NO_BACKSLASH_ESCAPES in the status
        flags of every reply (so a session that changes sql_mode is followed), and that decides between
        backslash escapes and doubled quotes only."""
        if self.conn is not None:
            self._text.no_backslash_escapes = bool(self.conn.server_status & _NO_BACKSLASH_ESCAPES)
        return self._text

    async def begin(self) -> None:
        await self.conn.begin()

    async def commit(self) -> None:
        await self.conn.commit()

    async def rollback(self) -> None:
        if self.conn is not None and not self.conn.closed:
            await self.conn.rollback()

    async def table_info(self, tid: TableId) -> TableInfo | None:
        await self.conn.commit()  # metadata outside any old snapshot
        async with self.conn.cursor() as cur:
            await cur.execute(
                "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                (tid.catalog, tid.table),
            )
            row = await cur.fetchone()
            if row is None:
                return None
            await cur.execute(
                "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE "
                "TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
                (tid.catalog, tid.table),
            )
            cols = {r[0]: str(r[1]).lower() for r in await cur.fetchall()}
        await self.conn.commit()
        return TableInfo(cols, "VIEW" if "VIEW" in str(row[0]).upper() else "TABLE")

    async def execute_ddl(self, sql: str) -> None:
        async with self.conn.cursor() as cur:
            await cur.execute(sql)
        await self.conn.commit()

    def _insert_head(self, tid: TableId, cols: list[str]) -> str:
        return f"INSERT INTO {self.table_sql(tid)}({','.join(self.q(c) for c in cols)}) VALUES "

    async def _insert_rows(self, head: str, rows: Sequence[Sequence[Any]], tail: str = "") -> None:
        """Multi-row statements of at most aiomysql's max_stmt_length characters (see mysql_values)."""
        text = self.sql
        async with self.conn.cursor() as cur:
            for sql in values_statements(
                head, tail, rows, text.literal, text.no_backslash_escapes, cur.max_stmt_length
            ):
                await cur.execute(sql)

    async def insert(self, tid: TableId, cols: list[str], rows: Sequence[Sequence[Any]], info: TableInfo) -> None:
        await self._insert_rows(self._insert_head(tid, cols), rows)

    async def upsert(
        self,
        tid: TableId,
        cols: list[str],
        nkeys: int,
        rows: Sequence[Sequence[Any]],
        info: TableInfo,
        last: bool = False,
    ) -> None:
        update = cols[nkeys:] or cols[:nkeys]
        await self._insert_rows(
            self._insert_head(tid, cols),
            rows,
            " ON DUPLICATE KEY UPDATE " + ",".join(f"{self.q(c)}=VALUES({self.q(c)})" for c in update),
        )

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        async with self.conn.cursor() as cur:
            await cur.executemany(sql, rows)


class SqliteWriter(Writer):
    dialect = "sqlite"

    async def begin(self) -> None:
        await self.conn.execute("BEGIN")

    async def commit(self) -> None:
        await self.conn.execute("COMMIT")

    async def rollback(self) -> None:
        if self.conn is not None and self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")

    async def table_info(self, tid: TableId) -> TableInfo | None:
        async with self.conn.execute(
            "SELECT type FROM sqlite_master WHERE name = ? AND type IN ('table','view')", (tid.table,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        async with self.conn.execute(f"PRAGMA table_info({self.sql.identifier(tid.table)})") as cur:
            cols = {r[1]: str(r[2]).lower() for r in await cur.fetchall()}
        return TableInfo(cols, "VIEW" if row[0] == "view" else "TABLE")

    async def execute_ddl(self, sql: str) -> None:
        await self.conn.execute(sql)

    def _insert_sql(self, tid: TableId, cols: list[str]) -> str:
        return self.sql.params(
            f"INSERT INTO {self.table_sql(tid)}({','.join(self.q(c) for c in cols)}) "
            f"VALUES({','.join([PARAM] * len(cols))})"
        )

    async def insert(self, tid: TableId, cols: list[str], rows: Sequence[Sequence[Any]], info: TableInfo) -> None:
        await self.executemany(self._insert_sql(tid, cols), rows)

    async def upsert(
        self,
        tid: TableId,
        cols: list[str],
        nkeys: int,
        rows: Sequence[Sequence[Any]],
        info: TableInfo,
        last: bool = False,
    ) -> None:
        keys = ",".join(self.q(c) for c in cols[:nkeys])
        rest = cols[nkeys:]
        action = (
            "DO UPDATE SET " + ",".join(f"{self.q(c)}=excluded.{self.q(c)}" for c in rest) if rest else "DO NOTHING"
        )
        await self.executemany(self._insert_sql(tid, cols) + f" ON CONFLICT ({keys}) {action}", rows)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.conn.executemany(sql, rows)


def _generic_writer(*args: Any, **kwargs: Any) -> Writer:
    from ..generic.writer import SqlAlchemyWriter  # SQLAlchemy only when a URL selects the generic dialect

    return SqlAlchemyWriter(*args, **kwargs)


WRITERS: dict[str, Any] = {
    "postgresql": PostgresWriter,
    "mysql": MySqlWriter,
    "sqlite": SqliteWriter,
    "generic": _generic_writer,
}
