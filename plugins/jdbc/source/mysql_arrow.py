"""Reads a MySQL/MariaDB query as Arrow record batches through connectorx (Rust, binary protocol), on a thread of its
own; and says which result columns it reads as the row path does (the others keep the whole result on the row path).

connectorx reads the whole result on a thread of its own into an unbounded queue of batches, faster than they are
encoded: the querier bounds the memory by reading keyset-ordered results in pages of `page_rows` (LIMIT), and reads
the other results (bulk, timestamp mode) this way only when the table is known to be small enough (WHOLE_*).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from ..column_types import Column
from ..tls import mysql_ssl
from ..url import JdbcUrl
from .arrow_reader import ReadFailed, ThreadedReader, next_batch

log = logging.getLogger(__name__)

BATCH_ROWS = 10_000
PAGE_ROWS = 100_000
# tables up to this size (information_schema's estimates, and the last run's rows) may be read in one result
WHOLE_ROWS, WHOLE_BYTES = 1_000_000, 256 << 20

# result columns connectorx reads into the Arrow types columns.py encodes as the row path does; TIME (negative and
# >24 h values abort the read), FLOAT (FLOAT32), YEAR, BIT(n), binary strings and MySQL's JSON keep the row path
_AS_THEY_ARE = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DOUBLE", "CHAR", "VARCHAR", "LONGVARCHAR", "TIMESTAMP"}


def available(jdbc: JdbcUrl) -> bool:
    """Whether connectorx can read this database as the aiomysql connection does (one host, no TLS)."""
    if jdbc.dialect != "mysql" or len(jdbc.hosts) > 1 or mysql_ssl(jdbc) is not None:
        return False
    # found, not imported: the libraries cost ~130 MB of RSS, paid only once a large read uses them
    return all(importlib.util.find_spec(m) is not None for m in ("connectorx", "polars", "numpy", "pyarrow"))


def _url(jdbc: JdbcUrl) -> str:
    user = quote(jdbc.user or "", safe="")
    password = quote(jdbc.password or "", safe="")
    # prefer_socket=false: the mysql crate would otherwise move a loopback connection to the server's Unix socket,
    # where another account (user@localhost) may apply
    host = f"[{jdbc.host}]" if ":" in (jdbc.host or "") else jdbc.host
    return f"mysql://{user}:{password}@{host}:{jdbc.port}/{quote(jdbc.database or '', safe='')}?prefer_socket=false"


class MySqlArrowReader(ThreadedReader):
    """A connectorx read per result (connectorx opens its own autocommit connection for each)."""

    name = "connectorx"
    page_rows = PAGE_ROWS
    whole_rows, whole_bytes = WHOLE_ROWS, WHOLE_BYTES

    def __init__(self, jdbc: JdbcUrl):
        super().__init__(jdbc)
        self._url = _url(jdbc)

    def select_list(self, columns: list[Column], text: Any, table_mode: bool) -> str | None:
        """DECIMAL as text (connectorx's Decimal128(38,10) cannot hold every DECIMAL; the text has exactly the
        column's scale, as columns.py wants it), which needs the table's own columns; every other column as it is."""
        out, cast = [], False
        for c in columns:
            name = text.identifier(c.name)
            if c.jdbc == "DECIMAL" and table_mode:
                out.append(f"CAST({name} AS CHAR) AS {name}")
                cast = True
            elif c.jdbc in _AS_THEY_ARE or (c.jdbc == "BIT" and c.type_name == "tinyint(1)"):
                if c.type_name == "json":
                    return None
                out.append(name)
            elif c.jdbc == "DATE" and c.type_name != "year":
                out.append(name)
            else:
                log.info("Column %s (%s) has no columnar form: read row by row", c.name, c.type_name or c.jdbc)
                return None
        return ", ".join(out) if cast else "*"

    async def batches(self, sql: str) -> AsyncIterator[Any]:
        """The batches of `sql` (parameters written as literals)."""
        url = self._url

        def start() -> Any:
            import connectorx

            return connectorx.read_sql(url, sql, return_type="arrow_stream", batch_size=BATCH_ROWS)

        reader = await self._guarded(start)
        try:
            while (batch := await self._guarded(next_batch, reader)) is not None:
                yield batch
        finally:
            await self._run(reader.close)  # stops connectorx's reading thread (its queue's receiver is gone)

    async def _guarded(self, fn: Any, *args: Any) -> Any:
        try:
            return await self._run(fn, *args)
        except Exception as e:
            raise ReadFailed(f"connectorx: {_first_line(e)}", unreadable=False) from e
        except BaseException as e:
            if type(e).__name__ != "PanicException":  # KeyboardInterrupt, SystemExit, CancelledError
                raise
            # connectorx fails mid-read with a Rust panic (a BaseException in Python): a lost connection
            # ("Source(MySQLError(..IO error..))") or a value it cannot convert (a zero date, a negative TIME)
            text = _first_line(e)
            unreadable = "convert" in text or "Destination(" in text
            raise ReadFailed(f"connectorx: {text}", unreadable=unreadable) from None


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
