"""Connector configs for the JDBC pipelines the outage and crash tests run: a table `items` read in incrementing
mode, and a JDBC sink copying a topic into a table whose rows the tests count."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def items_source(connection: dict[str, str], prefix: str, **extra: str) -> dict[str, str]:
    """A JdbcSourceConnector reading table `items` (id column `id`) into topic `<prefix>items`."""
    return {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        **connection,
        "mode": "incrementing",
        "incrementing.column.name": "id",
        "table.whitelist": "items",
        "topic.prefix": prefix,
        **extra,
    }


def copy_sink(connection: dict[str, str], topic: str, **extra: str) -> dict[str, str]:
    """A JdbcSinkConnector writing `topic` into a table it creates (insert mode: a record written twice is a
    duplicate row the tests can count)."""
    return {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        **connection,
        "topics": topic,
        "auto.create": "true",
        **extra,
    }


def sqlite(path: Path) -> dict[str, str]:
    return {"connection.url": f"jdbc:sqlite:{path}"}


def sqlite_counts(path: Path, table: str) -> tuple[int, int]:
    """(rows, distinct ids) of a SQLite table, (0, 0) before it exists."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(f"SELECT COUNT(*), COUNT(DISTINCT id) FROM {table}").fetchone()
    except sqlite3.OperationalError:
        return 0, 0
    finally:
        con.close()
