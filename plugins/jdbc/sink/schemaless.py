"""Schemaless values (a map per record, JsonConverter with schemas.enable=false): column types inferred from values.

Beyond the Java connector, which rejects such records. Each table keeps the fields seen so far as an all-optional
Connect struct schema; a record with a new (non-null) key grows it, which the task treats as a schema change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from miniconnect.data.schema import Schema, Type


def infer_type(v: Any) -> Type | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return Type.BOOLEAN
    if isinstance(v, int):
        return Type.INT64
    if isinstance(v, float):
        return Type.FLOAT64
    if isinstance(v, (bytes, bytearray, memoryview)):
        return Type.BYTES
    return Type.STRING  # strings, and nested maps/lists written as JSON text


class InferredSchema:
    """The growing set of fields of one table's schemaless records."""

    def __init__(self, name: str | None = None):
        self.name = name
        self.types: dict[str, Type] = {}
        self.schema: Schema = Schema.struct([], name=name)

    def grow(self, value: Mapping[str, Any]) -> bool:
        """Adds the record's new non-null keys; True if the schema changed."""
        changed = False
        for k, v in value.items():
            if k not in self.types:
                t = infer_type(v)
                if t is not None:
                    self.types[k] = t
                    changed = True
        if changed:
            self.schema = Schema.struct([(k, Schema(t, optional=True)) for k, t in self.types.items()], name=self.name)
        return changed
