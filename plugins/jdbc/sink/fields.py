"""Which columns a record maps to (pk.mode, pk.fields, fields.whitelist; reference 8.3) and how rows are built.

A `RecordPlan` is computed once per (key schema, value schema) and turns records into row tuples: key columns
first, then non-key columns, the column order of INSERT/UPSERT statements. The common shapes (all value fields
in schema order, optionally behind the Kafka coordinates) are special-cased so a row costs one tuple build.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter, itemgetter
from typing import Any

from miniconnect.data.records import SinkRecord
from miniconnect.data.schema import INT32_SCHEMA, INT64_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA, Schema, Type
from miniconnect.errors import ConnectError

from .config import DEFAULT_KAFKA_PK_NAMES, SinkConfig
from .ddl import Column

RowFn = Callable[[SinkRecord], Any]
VALUE_VALUES: RowFn = attrgetter("value.values")  # the row is the value's fields, in order (see row_builder)


def extract_columns(
    cfg: SinkConfig, table: str, key_schema: Schema | None, value_schema: Schema | None
) -> tuple[list[Column], list[Column], list[tuple[str, Any]]]:
    """(key columns, non-key columns, sources) where sources[i] says where column i's value comes from:
    ("topic"|"partition"|"offset"|"key"|"string", None), ("keyf", index) or ("valf", index)."""
    keys: list[Column] = []
    sources: list[tuple[str, Any]] = []
    mode = cfg.pk_mode
    if mode == "kafka":
        names = cfg.pk_fields or DEFAULT_KAFKA_PK_NAMES
        if len(names) != 3:
            raise ConnectError(
                f"PK mode for table '{table}' is KAFKA so there should either be no field names "
                f"defined for defaults {_jl(DEFAULT_KAFKA_PK_NAMES)} to be applicable, or exactly 3, "
                f"defined fields are: {_jl(names)}"
            )
        for n, s, src in zip(names, (STRING_SCHEMA, INT32_SCHEMA, INT64_SCHEMA), ("topic", "partition", "offset")):
            keys.append(Column(n, s, True))
            sources.append((src, None))
    elif mode == "record_key":
        if key_schema is None:
            raise ConnectError(f"PK mode for table '{table}' is RECORD_KEY, but record key schema is missing")
        if key_schema.type.is_primitive:
            if len(cfg.pk_fields) != 1:
                raise ConnectError(
                    "Need exactly one PK column defined since the key schema for records is a "
                    f"primitive type, defined columns are: {_jl(cfg.pk_fields)}"
                )
            keys.append(Column(cfg.pk_fields[0], key_schema, True))
            sources.append(("key", None))
        elif key_schema.type == Type.STRUCT:
            names = cfg.pk_fields or [f.name for f in key_schema.fields]
            for n in names:
                f = key_schema.field(n)
                if f is None:
                    raise ConnectError(
                        f"PK mode for table '{table}' is RECORD_KEY with configured PK fields "
                        f"{_jl(names)}, but record key schema does not contain field: {n}"
                    )
                keys.append(Column(n, f.schema, True))
                sources.append(("keyf", f.index))
        else:
            raise ConnectError(f"Key schema must be primitive type or Struct, but is of type: {key_schema.type.name}")
    elif mode == "record_value":
        if value_schema is None or value_schema.type == Type.STRING:
            raise ConnectError("pk.mode record_value is not supported with String value schemas")
        if value_schema.type != Type.STRUCT:
            raise ConnectError("Value schema must be of type Struct or String")
        names = cfg.pk_fields or [f.name for f in value_schema.fields]
        for n in names:
            f = value_schema.field(n)
            if f is None:
                raise ConnectError(
                    f"PK mode for table '{table}' is RECORD_VALUE with configured PK fields "
                    f"{_jl(names)}, but record value schema does not contain field: {n}"
                )
            keys.append(Column(n, f.schema, True))
            sources.append(("valf", f.index))

    key_names = {c.name for c in keys}
    values: list[Column] = []
    if value_schema is not None:
        if value_schema.type == Type.STRING:
            name = cfg.string_value_column
            if name in key_names:
                raise ConnectError(
                    f"The column '{name}' configured in string.output.value.column.name clashes "
                    f"with a primary key column of table '{table}'"
                )
            values.append(Column(name, OPTIONAL_STRING_SCHEMA, False))
            sources.append(("string", None))
        elif value_schema.type == Type.STRUCT:
            wl = cfg.fields_whitelist
            for f in value_schema.fields:
                if f.name in key_names or (wl and f.name not in wl):
                    continue
                ts = f.name in cfg.timestamp_fields and f.schema.type in (Type.INT64, Type.STRING)
                values.append(Column(f.name, f.schema, False, ts))
                sources.append(("valf", f.index))
        else:
            raise ConnectError("Value schema must be of type Struct or String")
    if not keys and not values:
        raise ConnectError(f"No fields found using key and value schemas for table: {table}")
    return keys, values, sources


def _jl(names: list[str]) -> str:
    return "[" + ", ".join(names) + "]"


def create_order(keys: list[Column], values: list[Column], value_schema: Schema | None, kafka: bool) -> list[Column]:
    """CREATE TABLE column order: Kafka coordinates, value-schema order, then the rest sorted by name."""
    by_name = {c.name: c for c in keys + values}
    out: list[Column] = list(keys[:3]) if kafka else []
    seen = {c.name for c in out}
    if value_schema is not None and value_schema.type == Type.STRUCT:
        for f in value_schema.fields:
            c = by_name.get(f.name)
            if c is not None and f.name not in seen:
                out.append(c)
                seen.add(f.name)
    return out + sorted((c for c in keys + values if c.name not in seen), key=lambda c: c.name)


def row_builder(sources: list[tuple[str, Any]], value_len: int | None) -> RowFn:
    """A function record → row tuple for the given column sources (see extract_columns)."""
    kinds = [s[0] for s in sources]
    idx = [s[1] for s in sources]
    if kinds and all(k == "valf" for k in kinds):
        if idx == list(range(value_len or 0)):
            return VALUE_VALUES
        if len(idx) == 1:
            i0 = idx[0]
            return lambda r: (r.value.values[i0],)
        g = itemgetter(*idx)
        return lambda r: g(r.value.values)
    if kinds[:3] == ["topic", "partition", "offset"] and all(k == "valf" for k in kinds[3:]):
        rest = idx[3:]
        if rest == list(range(value_len or 0)):
            return lambda r: (r.topic, r.kafka_partition, r.kafka_offset, *r.value.values)
        if not rest:
            return lambda r: (r.topic, r.kafka_partition, r.kafka_offset)
        g = itemgetter(*rest) if len(rest) > 1 else (lambda v, i=rest[0]: (v[i],))
        return lambda r: (r.topic, r.kafka_partition, r.kafka_offset, *g(r.value.values))
    getters = [_getter(k, i) for k, i in sources]
    return lambda r: tuple([g(r) for g in getters])


def _getter(kind: str, i: Any) -> RowFn:
    if kind == "topic":
        return lambda r: r.topic
    if kind == "partition":
        return lambda r: r.kafka_partition
    if kind == "offset":
        return lambda r: r.kafka_offset
    if kind == "key":
        return lambda r: r.key
    if kind == "string":
        return lambda r: r.value
    if kind == "keyf":
        return lambda r: r.key.values[i]
    return lambda r: r.value.values[i]
