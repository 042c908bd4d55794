"""DbServer: where a database server is and how each client (JDBC URL, asyncpg/aiomysql DSN) reaches it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, unquote, urlsplit

_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}


@dataclass(frozen=True)
class DbServer:
    kind: str  # "postgresql" or "mysql" (MariaDB answers as mysql)
    host: str
    port: int
    user: str
    password: str
    database: str

    def jdbc_url(self, database: str | None = None, scheme: str | None = None) -> str:
        """jdbc:postgresql://host:port/db, jdbc:mysql://host:port/db (scheme="mariadb" for jdbc:mariadb:)."""
        return f"jdbc:{scheme or self.kind}://{self.host}:{self.port}/{database or self.database}"

    def dsn(self, database: str | None = None) -> str:
        return (
            f"{self.kind}://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{database or self.database}"
        )

    def connection_config(self, database: str | None = None, scheme: str | None = None) -> dict[str, str]:
        """The JDBC connector's connection.* settings for this server."""
        return {
            "connection.url": self.jdbc_url(database, scheme),
            "connection.user": self.user,
            "connection.password": self.password,
        }

    def with_database(self, database: str) -> DbServer:
        return replace(self, database=database)

    async def connect(self, database: str | None = None) -> Any:
        """An asyncpg connection, or an autocommit aiomysql connection; the caller closes it."""
        db = database or self.database
        if self.kind == "postgresql":
            import asyncpg

            return await asyncpg.connect(
                host=self.host, port=self.port, user=self.user, password=self.password, database=db
            )
        import aiomysql

        return await aiomysql.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, db=db, autocommit=True
        )


def parse_db_url(url: str) -> DbServer:
    """postgresql://user:pw@host:port/db or mysql://user:pw@host:port/db (also postgres://, mariadb://)."""
    u = urlsplit(url)
    kind = {"postgres": "postgresql", "postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}.get(u.scheme)
    if kind is None:
        raise ValueError(f"unsupported database URL scheme in {url!r}")
    return DbServer(
        kind=kind,
        host=u.hostname or "127.0.0.1",
        port=u.port or _DEFAULT_PORTS[kind],
        user=unquote(u.username or ""),
        password=unquote(u.password or ""),
        database=(u.path or "/").lstrip("/") or ("postgres" if kind == "postgresql" else "test"),
    )
