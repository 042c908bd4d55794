"""One SQLAlchemy connection used from the event loop, whatever the driver: `SaConnection.run(fn, *args)` calls
`fn(sync_connection, *args)` in SQLAlchemy's greenlet bridge for async drivers (asyncpg, aiosqlite, ...) and in a
thread of the connection's own for synchronous ones (DuckDB, ...), so a blocking driver never blocks the loop.
Work on one connection is serialized (a lock), as on a JDBC Connection. Each connection has its own engine with
no pool: the callers cache the connection and re-open it when `is_valid` says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from ..url import JdbcUrl

T = TypeVar("T")


class SaConnection:
    def __init__(
        self,
        engine: sa.Engine | AsyncEngine,
        conn: Connection | AsyncConnection,
        executor: ThreadPoolExecutor | None = None,
    ):
        self.engine, self._conn, self._executor = engine, conn, executor
        self._lock = asyncio.Lock()
        self.closed = False

    @property
    def dialect(self) -> Dialect:
        return self.engine.dialect

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(sync Connection, *args), off the event loop's thread or in SQLAlchemy's greenlet bridge."""
        async with self._lock:
            if isinstance(self._conn, AsyncConnection):
                return await self._conn.run_sync(fn, *args)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, partial(fn, self._conn, *args))

    async def commit(self) -> None:
        await self.run(Connection.commit)

    async def rollback(self) -> None:
        if not self.closed:
            await self.run(Connection.rollback)

    async def is_valid(self, limit_s: float = 5.0) -> bool:
        """Connection.isValid: a trivial round trip (SELECT 1 as the dialect writes it)."""
        if self.closed:
            return False
        try:
            await asyncio.wait_for(self.run(_ping), limit_s)
            return True
        except Exception:
            return False

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if isinstance(self._conn, AsyncConnection):
                await self._conn.close()
                await self.engine.dispose()  # type: ignore[misc]
            else:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self._executor, self._conn.close)
                await loop.run_in_executor(self._executor, self.engine.dispose)  # type: ignore[arg-type]
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=False)


def _ping(conn: Connection) -> None:
    began = not conn.in_transaction()
    conn.execute(sa.select(sa.literal(1))).scalar()
    if began:  # leave no transaction (snapshot) open that the caller did not start
        conn.rollback()


def _multi_row_inserts(dialect: Dialect) -> None:
    """INSERTs of many rows as multi-row VALUES pages of up to 1000 rows (SQLAlchemy's "insertmanyvalues")
    wherever the database takes them, also without RETURNING: for PostgreSQL through asyncpg that is 2-3 times
    the rows/s of the driver's executemany (bench/bench_jdbc_generic.py)."""
    if dialect.supports_multivalues_insert:
        dialect.use_insertmanyvalues = True
        dialect.use_insertmanyvalues_wo_returning = True


def offline_dialect(jdbc: JdbcUrl) -> Dialect:
    """The SQLAlchemy dialect of a URL without connecting (how names are quoted and parameters marked)."""
    url = sqlalchemy_url(jdbc)
    if url.get_dialect().is_async:
        return create_async_engine(url, poolclass=NullPool).sync_engine.dialect
    return sa.create_engine(url, poolclass=NullPool).dialect


def sqlalchemy_url(jdbc: JdbcUrl) -> URL:
    """The URL with connection.user/password, unless it names no host: file databases (DuckDB, SQLite) take no
    credentials, and their drivers refuse them."""
    assert jdbc.sqlalchemy_url is not None
    url = make_url(jdbc.sqlalchemy_url)
    return url.set(username=jdbc.user, password=jdbc.password) if url.host else url


async def connect_generic(jdbc: JdbcUrl, login_timeout_s: float) -> SaConnection:
    """A new connection (connection.open_connection retries this). Async drivers are used as they are; a
    synchronous one gets an engine whose every call runs in a thread of this connection's own."""
    url = sqlalchemy_url(jdbc)
    if url.get_dialect().is_async:
        aengine = create_async_engine(url, poolclass=NullPool)
        _multi_row_inserts(aengine.sync_engine.dialect)
        try:
            aconn = await asyncio.wait_for(aengine.connect(), login_timeout_s)
        except BaseException:
            await aengine.dispose()
            raise
        return SaConnection(aengine, aconn)
    engine = sa.create_engine(url, poolclass=NullPool)
    _multi_row_inserts(engine.dialect)
    executor = ThreadPoolExecutor(1, thread_name_prefix=f"miniconnect-{url.get_backend_name()}")
    try:
        conn = await asyncio.wait_for(
            asyncio.get_running_loop().run_in_executor(executor, engine.connect), login_timeout_s
        )
    except BaseException:
        executor.shutdown(wait=False)
        engine.dispose()
        raise
    return SaConnection(engine, conn, executor)
