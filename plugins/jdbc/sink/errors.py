"""Errors of the sink that name the record at fault, and the chain of causes Java prints."""

from __future__ import annotations

import decimal
import sqlite3

from miniconnect.data.records import SinkRecord
from miniconnect.data.schema import DataError, Struct
from miniconnect.errors import ConnectError

from .plan import TableBatch
from .rows import convert_rows


class RecordError(ConnectError):
    """A record that cannot be written to its table; names the record's coordinates."""

    def __init__(self, message: str, record: SinkRecord | None = None):
        super().__init__(message)
        self.record = record


def locate(seg: TableBatch, lo: int, hi: int, e: Exception, table: str) -> RecordError:
    """The first record of a failed batch that does not fit its schema, else the batch's range."""
    for r in seg.records[lo:hi]:
        try:
            if isinstance(r.value, Struct):
                r.value.validate()
            if isinstance(r.key, Struct):
                r.key.validate()
            if seg.plan.schemaless and isinstance(r.value, dict):
                row = seg.plan.row(r)
                convert_rows([row], seg.plan.convs)
        except Exception as bad:
            return RecordError(f"Record at {r.coordinates} is not valid for table {table}: {bad}", r)
    first, last = seg.records[lo], seg.records[hi - 1]
    return RecordError(
        f"Records from {first.coordinates} to offset {last.kafka_offset} could not be written "
        f"to table {table}: {exception_chain(e)}",
        first,
    )


def is_data_error(e: BaseException) -> bool:
    if isinstance(e, (TypeError, ValueError, OverflowError, decimal.InvalidOperation, DataError)):
        return True
    if isinstance(e, (sqlite3.InterfaceError, sqlite3.ProgrammingError)) and "bind" in str(e).lower():
        return True
    mod = type(e).__module__
    if mod.startswith("asyncpg"):
        import asyncpg

        return isinstance(e, asyncpg.DataError) and "connection" not in str(e).lower()
    if mod.startswith("pymysql") or mod.startswith("aiomysql"):
        import pymysql

        return isinstance(e, pymysql.err.DataError)
    return False


def exception_chain(e: BaseException) -> str:
    """Java's `Exception chain:` message: every chained exception, one a line."""
    lines, seen = [], set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        lines.append(f"{type(cur).__name__}: {cur}")
        cur = cur.__cause__ or cur.__context__
    return "Exception chain:\n" + "\n".join(lines) + "\n"
