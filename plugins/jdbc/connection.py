"""Opens and closes raw driver connections (asyncpg, aiomysql, aiosqlite; SQLAlchemy for the generic dialect) from a
parsed JDBC URL, with retries.

`open_connection` retries `attempts` times (connection.attempts) sleeping `backoff_ms` (connection.backoff.ms)
between tries, like the Java connector's CachedConnectionProvider; the last failure becomes a ConnectError whose
message names the redacted URL and the driver's reason. Returned connections are not in autocommit mode for
MySQL (the caller commits); asyncpg and aiosqlite are used with explicit transactions by the caller.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from miniconnect.errors import ConnectError
from miniconnect.retry import Backoff, ResourceUnavailable, is_retriable, retry

from .tls import mysql_ssl, pg_ssl
from .url import JdbcUrl

log = logging.getLogger(__name__)

LOGIN_TIMEOUT_S = 40.0  # the Java connector's DriverManager login timeout


async def _connect_once(jdbc: JdbcUrl) -> Any:
    if jdbc.dialect == "postgresql":
        import asyncpg

        settings = {}
        schema = jdbc.param("currentSchema")
        if schema:
            settings["search_path"] = schema
        app = jdbc.param("ApplicationName")
        if app:
            settings["application_name"] = app
        return await asyncpg.connect(
            host=jdbc.host,
            port=jdbc.port,
            user=jdbc.user,
            password=jdbc.password,
            database=jdbc.database,
            ssl=pg_ssl(jdbc),
            timeout=LOGIN_TIMEOUT_S,
            server_settings=settings or None,
        )
    if jdbc.dialect == "mysql":
        import aiomysql

        from .mysql_decoders import DECODERS

        return await aiomysql.connect(
            host=jdbc.host,
            port=jdbc.port,
            user=jdbc.user or "",
            password=jdbc.password or "",
            db=jdbc.database,
            charset="utf8mb4",
            autocommit=False,
            ssl=mysql_ssl(jdbc),
            connect_timeout=LOGIN_TIMEOUT_S,
            conv=DECODERS,
        )
    if jdbc.dialect == "sqlite":
        import aiosqlite

        path = jdbc.path or ":memory:"
        uri = path.startswith("file:")
        if not uri and path != ":memory:" and jdbc.param("open_mode", "").lower() == "readonly":
            path, uri = f"file:{path}?mode=ro", True
        if not uri and path != ":memory:":
            path = os.path.expanduser(path)  # noqa: ASYNC240 (string work, no file is read)
        # isolation_level=None: the caller issues BEGIN/COMMIT itself, so reads never hold a stale snapshot
        return await aiosqlite.connect(path, uri=uri, isolation_level=None)
    if jdbc.dialect == "generic":
        from .generic.engine import connect_generic

        return await connect_generic(jdbc, LOGIN_TIMEOUT_S)
    raise ConnectError(f"Unsupported database dialect {jdbc.dialect!r}")


async def open_connection(
    jdbc: JdbcUrl, attempts: int = 3, backoff_ms: int = 10000, wait: Callable[[float], Awaitable[bool]] | None = None
) -> Any:
    """A new raw driver connection: asyncpg.Connection, aiomysql.Connection (autocommit off, utf8mb4),
    aiosqlite.Connection or a generic.engine.SaConnection. Tries `attempts` times, sleeping `backoff_ms` between tries; `wait(seconds)` (e.g. a task
    context's `wait`) replaces the sleep and aborts the retries when it returns True (the task is stopping). The
    last failure is raised as ResourceUnavailable when it says the database is down or restarting (the worker then
    retries with back-off), else as a ConnectError."""
    attempts = max(1, int(attempts))
    try:
        return await retry(
            lambda: _connect_once(jdbc),
            f"database {jdbc.redacted()}",
            backoff=Backoff(backoff_ms / 1000, backoff_ms / 1000, jitter=0),  # connection.backoff.ms, as Java's
            retriable=lambda e: True,  # driver errors, OSError, timeouts: all worth another try
            attempts=attempts,
            sleep=wait,
            logger=log,
        )
    except asyncio.CancelledError:
        raise
    except Exception as e:
        last = e.__cause__ if isinstance(e, ConnectError) and e.__cause__ is not None else e
        text = f"Could not connect to database {jdbc.redacted()} after {attempts} attempt(s): {_reason(last)}"
        raise (ResourceUnavailable if is_retriable(last) else ConnectError)(text) from last


def _reason(e: BaseException | None) -> str:
    if e is None:
        return "stopped"
    text = str(e) or type(e).__name__
    text = f"{type(e).__name__}: {text}" if type(e).__name__ not in text else text
    cause = e.__cause__ or e.__context__
    if cause is not None and str(cause) and str(cause) not in text:  # aiomysql hides TLS failures in its cause
        text += f" (caused by {type(cause).__name__}: {cause})"
    return text


async def close_connection(conn: Any) -> None:
    """Closes any connection open_connection returned; safe to call twice or with None; never raises."""
    if conn is None:
        return
    try:
        mod = type(conn).__module__
        if mod.startswith("aiomysql"):
            if not conn.closed:
                try:
                    await asyncio.wait_for(conn.ensure_closed(), 5)
                except Exception:
                    conn.close()
        elif mod.startswith("asyncpg"):
            if not conn.is_closed():
                try:
                    await asyncio.wait_for(conn.close(), 5)
                except Exception:
                    conn.terminate()
        else:
            await conn.close()
    except Exception as e:  # closing is best effort; the caller is already on a shutdown or failure path
        log.debug("Ignoring error while closing a connection: %s", e)


async def is_valid(conn: Any, timeout: float = 5.0) -> bool:
    """Connection.isValid(5): a trivial round trip."""
    if conn is None:
        return False
    if hasattr(conn, "is_valid"):  # generic.engine.SaConnection
        return bool(await conn.is_valid(timeout))
    try:
        mod = type(conn).__module__
        if mod.startswith("aiomysql"):
            if conn.closed:
                return False
            await asyncio.wait_for(conn.ping(reconnect=False), timeout)
        elif mod.startswith("asyncpg"):
            if conn.is_closed():
                return False
            await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout)
        else:
            async with conn.execute("SELECT 1") as cur:
                await cur.fetchone()
        return True
    except Exception:
        return False
