"""A JDBC sink test backend (SQLite file, or a database on the session's PostgreSQL or MariaDB) and how to read what
the sink wrote."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest


class Db:
    """One backend: its connector settings and a way to read what the sink wrote."""

    def __init__(self, kind: str, config: dict[str, str], server: Any = None, path: str | None = None):
        self.kind, self.config, self.server, self.path = kind, config, server, path
        self.q = "`" if kind == "mysql" else '"'

    async def rows(self, sql: str) -> list[tuple]:
        sql = sql.replace('"', self.q)
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
        if self.kind == "sqlite":
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


def db_for(request: pytest.FixtureRequest, tmp_path: Any) -> Db:
    """The backend named by request.param: a fresh SQLite file, or a fresh database on the session's server."""
    if request.param == "sqlite":
        path = str(tmp_path / "sink.db")
        return Db("sqlite", {"connection.url": f"jdbc:sqlite:{path}"}, path=path)
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_db")
        return Db("postgresql", server.connection_config(), server)
    server = request.getfixturevalue("mysql_db")
    return Db("mysql", server.connection_config(scheme="mariadb"), server)
