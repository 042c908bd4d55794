"""Reads a PostgreSQL query as Arrow record batches through the ADBC driver (libpq COPY ... TO STDOUT binary,
decoded in C++), on a thread of its own so that the event loop keeps producing meanwhile."""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import logging
from collections.abc import AsyncIterator
from typing import Any

from miniconnect.errors import ConnectError

from ..tls import pg_ssl
from ..url import JdbcUrl

log = logging.getLogger(__name__)

BATCH_BYTES = 1 << 20  # COPY data per Arrow batch: ~14k rows of a narrow table, ~10 MB of JSON envelopes


def available(jdbc: JdbcUrl) -> bool:
    """Whether ADBC can read this database as the asyncpg connection does (plain TCP, no driver options)."""
    if jdbc.dialect != "postgresql" or pg_ssl(jdbc) is not None:
        return False
    if jdbc.param("currentSchema") or jdbc.param("ApplicationName") or len(jdbc.hosts) > 1:
        return False
    # found, not imported: the libraries cost ~130 MB of RSS, paid only once a large read uses them
    return all(importlib.util.find_spec(m) is not None for m in ("adbc_driver_postgresql", "polars", "numpy"))


def _conninfo(jdbc: JdbcUrl) -> str:
    """A libpq keyword/value string; values quoted as libpq documents (backslash and single quote escaped)."""

    def q(v: Any) -> str:
        return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"

    parts = {"host": jdbc.host, "port": jdbc.port, "dbname": jdbc.database, "user": jdbc.user}
    parts["password"] = jdbc.password
    return " ".join(f"{k}={q(v)}" for k, v in parts.items() if v is not None)


class ReadFailed(ConnectError):
    """A columnar read failed; `unreadable`: on the data itself (a value the library cannot convert, e.g. a MySQL
    zero date), so that this result shape goes back to the row path."""

    def __init__(self, message: str, unreadable: bool):
        super().__init__(message)
        self.unreadable = unreadable


class ThreadedReader:
    """What the columnar readers share: one worker thread for the driver's blocking calls, and the querier's hooks
    (`name`, `select_list`, `page_rows`)."""

    name = ""
    page_rows = 0  # > 0: read keyset-ordered results in pages of this many rows (see Querier._pages)
    whole_rows: int | None = None  # other results: only from tables up to this many rows and bytes (None: any)
    whole_bytes = 0

    def __init__(self, jdbc: JdbcUrl):
        self.jdbc = jdbc
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="jdbc-source-arrow")

    def select_list(self, columns: list[Any], text: Any, table_mode: bool) -> str | None:
        """The select list that reads these result columns (`*`: as they are), or None for the row path."""
        return "*"

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def close(self) -> None:
        pass

    async def stop(self) -> None:
        await self.close()
        self._pool.shutdown(wait=False)


def next_batch(reader: Any) -> Any:
    """The reader's next record batch, None at the end."""
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None


class ArrowReader(ThreadedReader):
    """One autocommit ADBC connection (so that it never shows as an open transaction to the timestamp bound) used
    from one worker thread."""

    name = "ADBC"

    def __init__(self, jdbc: JdbcUrl):
        super().__init__(jdbc)
        self._conn: Any = None

    def _connect(self) -> Any:
        if self._conn is None:
            import adbc_driver_postgresql.dbapi as adbc

            self._conn = adbc.connect(_conninfo(self.jdbc), autocommit=True)
        return self._conn

    async def batches(self, sql: str) -> AsyncIterator[Any]:
        """The batches of `sql` (no parameters: literals are in the text, so that libpq streams it with COPY)."""

        def start() -> tuple[Any, Any]:
            cur = self._connect().cursor()
            try:
                cur.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(BATCH_BYTES)})
                cur.execute(sql)
                return cur, cur.fetch_record_batch()
            except BaseException:
                cur.close()
                raise

        try:
            cur, reader = await self._run(start)
        except Exception:
            await self.close()  # a broken connection is re-opened on the next run
            raise
        done = False
        try:
            while (batch := await self._run(next_batch, reader)) is not None:
                yield batch
            done = True
        finally:
            await self._run(cur.close)
            if not done:  # failed or left mid-COPY: a fresh connection for the next run
                await self.close()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await self._run(conn.close)
            except Exception as e:  # already broken
                log.debug("Closing the ADBC connection: %s", e)
