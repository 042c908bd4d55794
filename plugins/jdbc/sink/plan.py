"""What the sink keeps per table: the Plan of each (key schema, value schema), the table's metadata, and the
TableBatch of consecutive records written with one plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from miniconnect.data.records import SinkRecord
from miniconnect.data.schema import Schema

from ..dialects import TableId
from .ddl import Column
from .schemaless import InferredSchema
from .writer import TableInfo


class Plan:
    """How records of one (key schema, value schema) are written to one table."""

    def __init__(
        self,
        keys: list[Column],
        values: list[Column],
        sources: list[tuple[str, Any]],
        key_schema: Schema | None,
        value_schema: Schema | None,
        row: Callable[[SinkRecord], Any],
        key_row: Callable[[SinkRecord], Any] | None,
        create: list[Column],
        schemaless: bool = False,
    ):
        self.keys, self.values, self.sources = keys, values, sources
        self.key_schema, self.value_schema = key_schema, value_schema
        self.row, self.key_row, self.create = row, key_row, create
        self.schemaless = schemaless
        self.db_cols: list[str] = []  # table column names (as the table spells them), keys first
        self.convs: list[tuple[int, Any, Any]] = []  # (column index, converter or None, default)
        self.key_convs: list[tuple[int, Any, Any]] = []
        self.checks: list[tuple[int, tuple[type, ...]]] = []  # classes allowed per column (MySQL, SQLite)
        self.bound = False
        self.skip = False  # deletes against a table that does not exist: nothing to do


class TableState:
    def __init__(self, name: str, tid: TableId):
        self.name, self.tid = name, tid
        self.info: TableInfo | None = None
        self.plans: dict[tuple[Schema | None, Schema | None], Plan] = {}
        self.inferred: InferredSchema | None = None


class TableBatch:
    """Consecutive records of one table written with one plan; ops[i] is True for a delete."""

    __slots__ = ("has_deletes", "ops", "plan", "records", "rows", "table")

    def __init__(self, table: TableState, plan: Plan):
        self.table, self.plan = table, plan
        self.rows: list[Any] = []
        self.ops: list[bool] = []
        self.records: list[SinkRecord] = []
        self.has_deletes = False
