"""A JDBC sink test backend (SQLite file, or a database on the session's PostgreSQL or MariaDB) and how to read what
the sink wrote."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest


class Db:
    """One backend: its connector settings and a way to read what the sink wrote."""

    def __init__(
        self, kind: str, config: dict[str, str], server: Any = None, path: str | None = None, generic: bool = False
    ):
        self.kind, self.config, self.server, self.path = kind, config, server, path
        self.generic = generic  # through the generic dialect (SQLAlchemy)
        self.q = "`" if kind == "mysql" else '"'

    async def rows(self, sql: str) -> list[tuple]:
        sql = sql.replace('"', self.q)
        if self.kind == "duckdb":
            return duckdb_rows(self.path, sql)  # type: ignore[arg-type]
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as c:  # type: ignore[arg-type]
                return [tuple(r) for r in c.execute(sql).fetchall()]
        conn = await self.server.connect()
        try:
            if self.kind == "postgresql":
                return [tuple(r) for r in await conn.fetch(sql)]
            async with conn.cursor() as cur:
                await cur.execute(sql)
                return [tuple(r) for r in await cur.fetchall()]
        finally:
            if self.kind == "postgresql":
                await conn.close()
            else:
                conn.close()

    async def execute(self, sql: str) -> None:
        sql = sql.replace('"', self.q)
        if self.kind == "duckdb":
            duckdb_rows(self.path, sql, fetch=False)  # type: ignore[arg-type]
            return
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as c:  # type: ignore[arg-type]
                c.execute(sql)
            return
        conn = await self.server.connect()
        try:
            if self.kind == "postgresql":
                await conn.execute(sql)
            else:
                async with conn.cursor() as cur:
                    await cur.execute(sql)
        finally:
            if self.kind == "postgresql":
                await conn.close()
            else:
                conn.close()

    async def columns(self, table: str) -> list[str]:
        if self.kind in ("sqlite", "duckdb"):
            return [r[1] for r in await self.rows(f"PRAGMA table_info({table})")]
        if self.kind == "postgresql":
            return [
                r[0]
                for r in await self.rows(
                    f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' "
                    f"AND table_schema = 'public' ORDER BY ordinal_position"
                )
            ]
        return [
            r[0]
            for r in await self.rows(
                f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' "
                f"AND table_schema = DATABASE() ORDER BY ordinal_position"
            )
        ]


def duckdb_rows(path: str, sql: str, fetch: bool = True) -> list[tuple]:
    """Through duckdb-engine, as the sink: DuckDB shares one database per file and process only between
    connections opened with the same configuration."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"duckdb:///{path}", poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as c:
            result = c.exec_driver_sql(sql)
            return [tuple(r) for r in result.fetchall()] if fetch else []
    finally:
        engine.dispose()


# the generic dialect (SQLAlchemy Core) beside the hand-tuned paths: DuckDB, which no fast path covers, and
# PostgreSQL and SQLite through SQLAlchemy's async drivers
GENERIC = ["generic-duckdb", "generic-postgresql+asyncpg", "generic-sqlite+aiosqlite"]


def db_for(request: pytest.FixtureRequest, tmp_path: Any) -> Db:
    """The backend named by request.param: a fresh SQLite or DuckDB file, or a fresh database on the session's server;
    `generic-*` through the generic dialect (SQLAlchemy)."""
    if request.param == "sqlite":
        path = str(tmp_path / "sink.db")
        return Db("sqlite", {"connection.url": f"jdbc:sqlite:{path}"}, path=path)
    if request.param == "generic-sqlite+aiosqlite":
        path = str(tmp_path / "sink.db")
        return Db("sqlite", {"connection.url": f"sqlite+aiosqlite:///{path}"}, path=path, generic=True)
    if request.param == "generic-duckdb":
        path = str(tmp_path / "sink.duckdb")
        return Db("duckdb", {"connection.url": f"jdbc:duckdb:{path}"}, path=path, generic=True)
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_db")
        return Db("postgresql", server.connection_config(), server)
    if request.param == "generic-postgresql+asyncpg":
        server = request.getfixturevalue("pg_db")
        cfg = server.connection_config()
        url = cfg["connection.url"].replace("jdbc:postgresql://", "postgresql+asyncpg://")
        return Db("postgresql", {**cfg, "connection.url": url}, server, generic=True)
    server = request.getfixturevalue("mysql_db")
    return Db("mysql", server.connection_config(scheme="mariadb"), server)
