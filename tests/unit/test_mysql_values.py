"""MySQL multi-row statements made a column at a time: the same literals and statement splits as aiomysql's own
escaping (Connection.escape) and executemany (a new statement when the next row would pass the length)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
from aiomysql.connection import Connection
from miniconnect_plugins.jdbc.sink.binding import MySqlBinary
from miniconnect_plugins.jdbc.sink.mysql_values import values_statements

NO_BACKSLASH_ESCAPES = 512


class Escaper:
    """aiomysql's own escape() on a stand-in for the connection state it reads."""

    escape = Connection.escape
    escape_string = Connection.escape_string

    def __init__(self, server_status: int):
        self.server_status, self._charset = server_status, "utf8mb4"


def reference(prefix: str, suffix: str, rows: list[Any], escape: Any, max_chars: int) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    for row in rows:
        literal = "(" + ",".join(map(escape, row)) + ")"
        if current and len(prefix) + len(",".join(current + [literal])) + len(suffix) > max_chars:
            out.append(prefix + ",".join(current) + suffix)
            current = []
        current.append(literal)
    out.append(prefix + ",".join(current) + suffix)
    return out


CHARS = "ab\\'\"\n\r\0\x1a\x01é😀 %"
VALUES = {
    "str": lambda r: "".join(r.choice(CHARS) for _ in range(r.randint(0, 6))),
    "int": lambda r: r.randint(-(2**63), 2**63 - 1),
    "bool": lambda r: r.random() < 0.5,
    "float": lambda r: r.random() * 1e6,
    "decimal": lambda r: Decimal(r.randint(0, 10**6)) / 100,
    "date": lambda r: dt.date(2020, 1, r.randint(1, 28)),
    "binary": lambda r: MySqlBinary(b"\0'x"),
}


@pytest.mark.parametrize("status", [0, NO_BACKSLASH_ESCAPES])
def test_statements_match_aiomysql_escaping_and_splits(status: int) -> None:
    r = random.Random(status)
    escaper = Escaper(status)
    for _ in range(1500):
        kinds = [r.choice(list(VALUES)) for _ in range(r.randint(1, 5))]
        nulls = r.random() < 0.5
        rows: list[Any] = [
            tuple(None if nulls and r.random() < 0.2 else VALUES[k](r) for k in kinds) for _ in range(r.randint(1, 30))
        ]
        if r.random() < 0.5:  # rows after conversions are lists, and a batch may mix tuples and lists
            rows = [list(row) if r.random() < 0.5 else row for row in rows]
        max_chars = r.choice([60, 300, 1_024_000])
        got = list(
            values_statements(
                "INSERT INTO t VALUES ",
                " ON DUPLICATE KEY UPDATE a=VALUES(a)",
                rows,
                escaper.escape,
                bool(status),
                max_chars,
            )
        )
        assert got == reference(
            "INSERT INTO t VALUES ", " ON DUPLICATE KEY UPDATE a=VALUES(a)", rows, escaper.escape, max_chars
        ), rows


def test_a_row_longer_than_the_limit_goes_alone_and_nothing_is_empty() -> None:
    escape = Escaper(0).escape
    rows = [("a" * 50,), ("b",), ("c" * 80,), ("d",), ("e",)]
    assert list(values_statements("P ", "", rows, escape, False, 20)) == [
        "P ('" + "a" * 50 + "')",
        "P ('b')",
        "P ('" + "c" * 80 + "')",
        "P ('d'),('e')",
    ]
    assert list(values_statements("P ", "", [], escape, False, 20)) == []
