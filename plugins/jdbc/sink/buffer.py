"""RecordBuffer: records -> per-table batches of rows, in record order (Confluent's BufferedRecords).

Every record is checked and turned into a row, in order, into per-table batches (a new batch whenever a
table's record schema changes); a record that does not fit raises a RecordError naming its coordinates, before
anything of the put is written. The usual batch (one topic, one schema, Struct values) takes C-level fast paths."""

from __future__ import annotations

from collections.abc import Callable
from itertools import repeat
from operator import attrgetter, is_
from typing import Any

from miniconnect.data.records import SinkRecord, field_getter
from miniconnect.data.schema import DataError, Schema, Struct, Type
from miniconnect.errors import ConnectError

from .config import SinkConfig
from .ddl import TableAlterOrCreateError
from .errors import RecordError
from .fields import VALUE_VALUES, create_order, extract_columns, row_builder
from .plan import Plan, TableBatch, TableState
from .schemaless import InferredSchema
from .writer import Writer

_TOPIC, _VALUE, _VALUE_SCHEMA, _KEY_SCHEMA = (
    field_getter(SinkRecord, n) for n in ("topic", "value", "value_schema", "key_schema")
)
_SCHEMA, _FIELD_VALUES = attrgetter("schema"), attrgetter("values")  # of a Struct
_STRUCT = {Struct}
_JAVA_CLASS = {
    dict: "HashMap",
    list: "ArrayList",
    str: "String",
    int: "Long",
    float: "Double",
    bool: "Boolean",
    bytes: "byte[]",
    Struct: "Struct",
}


class RecordBuffer:
    """Turns records into TableBatches; remembers each table's plans (dropped by forget_tables) and topic's table."""

    def __init__(self, cfg: SinkConfig, writer: Writer):
        self.cfg: SinkConfig | None = cfg
        self.writer: Writer | None = writer
        self.tables: dict[str, TableState] = {}  # table name → state
        self.topic_tables: dict[str, str] = {}  # topic → table name

    def batches(self, records: list[SinkRecord]) -> list[TableBatch]:
        segments: list[TableBatch] = []
        open_seg: dict[str, TableBatch] = {}
        self._add_records(records[:1], segments, open_seg)
        rest = records[1:]
        if not (rest and len(segments) == 1 and self._add_alike(segments[0], records[0], rest)):
            self._add_records(rest, segments, open_seg)
        return segments

    @staticmethod
    def _add_alike(seg: TableBatch, first: SinkRecord, rest: list[SinkRecord]) -> bool:
        """The usual batch: all records share the first one's topic and schemas and have Struct values of its
        schema. They join its segment through C-level checks and maps instead of a loop step each; False (and
        nothing added) otherwise, or when a row cannot be built, which the loop then reports."""
        p = seg.plan
        vs, ks = p.value_schema, p.key_schema
        if seg.has_deletes or vs is None or first.value_schema is not vs or first.key_schema is not ks:
            return False
        values = list(map(_VALUE, rest))
        if (
            set(map(_TOPIC, rest)) != {first.topic}
            or set(map(type, values)) != _STRUCT
            or not all(map(is_, map(_VALUE_SCHEMA, rest), repeat(vs)))
            or not all(map(is_, map(_SCHEMA, values), repeat(vs)))
            or not all(map(is_, map(_KEY_SCHEMA, rest), repeat(ks)))
        ):
            return False
        try:  # the usual row, the value's fields, read from the values already at hand
            rows = list(map(_FIELD_VALUES, values)) if p.row is VALUE_VALUES else list(map(p.row, rest))
        except Exception:
            return False
        seg.rows += rows
        seg.ops += [False] * len(rest)
        seg.records += rest
        return True

    def _add_records(
        self, records: list[SinkRecord], segments: list[TableBatch], open_seg: dict[str, TableBatch]
    ) -> None:
        if not records:
            return
        topic_tables = self.topic_tables
        r = records[0]
        try:
            for r in records:
                name = topic_tables.get(r.topic)
                if name is None:
                    name = self._table_name(r.topic)
                seg = open_seg.get(name)
                v = r.value
                if seg is not None and v is not None:
                    p = seg.plan
                    vs = r.value_schema
                    if (
                        vs is p.value_schema
                        and r.key_schema is p.key_schema
                        and v.__class__ is Struct
                        and v.schema is vs
                    ):
                        seg.rows.append(p.row(r))
                        seg.ops.append(False)
                        seg.records.append(r)
                        continue
                seg = self._slow_path(r, name, seg)
                if seg is not open_seg.get(name):
                    open_seg[name] = seg
                    segments.append(seg)
        except (RecordError, TableAlterOrCreateError):
            raise
        except ConnectError as e:
            raise RecordError(f"{e} (record at {r.coordinates})", r) from e
        except (AttributeError, TypeError, IndexError, KeyError, DataError) as e:
            raise RecordError(f"Record at {r.coordinates} is not valid for the sink: {type(e).__name__}: {e}", r) from e

    def _table_name(self, topic: str) -> str:
        fmt = self.cfg.table_name_format  # type: ignore[union-attr]
        name = fmt.replace("${topic}", topic)
        if not name.strip():
            raise ConnectError(f"Destination table name for topic '{topic}' is empty using the format string '{fmt}'")
        self.topic_tables[topic] = name
        return name

    def _state(self, name: str) -> TableState:
        st = self.tables.get(name)
        if st is None:
            st = self.tables[name] = TableState(name, self.writer.table_id(name))  # type: ignore[union-attr]
        return st

    def _slow_path(self, r: SinkRecord, name: str, seg: TableBatch | None) -> TableBatch:
        """Validates the record, finds (or computes) its plan, and appends it; returns the segment it went to."""
        cfg = self.cfg
        assert cfg is not None
        st = self._state(name)
        v, vs, ks = r.value, r.value_schema, r.key_schema
        if cfg.pk_mode == "record_key" or cfg.delete_enabled:
            if r.key is None or ks is None or not (ks.type.is_primitive or ks.type == Type.STRUCT):
                raise RecordError(
                    self._shape_error(
                        r, "a non-null key and non-null Struct or primitive key schema", r.key, ks, "key"
                    ),
                    r,
                )
        if v is None:
            if not cfg.delete_enabled:
                raise RecordError(
                    self._shape_error(
                        r, "a non-null Struct or String value and non-null Struct or String schema", v, vs, "value"
                    ),
                    r,
                )
            # a tombstone: same plan as the open segment when the key schema matches, else a keys-only plan
            if seg is not None and seg.plan.key_schema == ks:
                plan = seg.plan
            else:
                plan = self._plan(st, ks, None)
                if seg is None or seg.plan is not plan:
                    seg = TableBatch(st, plan)
            seg.rows.append(plan.key_row(r))  # type: ignore[misc]
            seg.ops.append(True)
            seg.records.append(r)
            seg.has_deletes = True
            return seg
        if vs is None and isinstance(v, dict):
            if not cfg.auto_create:
                raise RecordError(
                    self._shape_error(
                        r, "a non-null Struct or String value and non-null Struct or String schema", v, vs, "value"
                    )
                    + " Schemaless (map) values are accepted when auto.create=true.",
                    r,
                )
            if st.inferred is None:
                st.inferred = InferredSchema(None)
            st.inferred.grow(v)
            plan = self._plan(st, ks, st.inferred.schema, schemaless=True)
        else:
            if vs is None or vs.type not in (Type.STRUCT, Type.STRING):
                raise RecordError(
                    self._shape_error(
                        r, "a non-null Struct or String value and non-null Struct or String schema", v, vs, "value"
                    ),
                    r,
                )
            if vs.type == Type.STRUCT:
                if not isinstance(v, Struct):
                    raise RecordError(
                        f"Record at {r.coordinates} has a {type(v).__name__} value for a struct schema", r
                    )
                if v.schema is not vs and v.schema != vs:
                    raise RecordError(
                        f"Record at {r.coordinates}: the value's struct schema does not match the "
                        f"record's value schema",
                        r,
                    )
            elif not isinstance(v, str):
                raise RecordError(f"Record at {r.coordinates} has a {type(v).__name__} value for a string schema", r)
            elif cfg.fields_whitelist or cfg.timestamp_fields:
                raise RecordError(
                    f"Sink connector '{cfg.connector_name}' is configured with field-level options "
                    f"that are not applicable to String values: fields.whitelist, "
                    f"timestamp.fields.list (record at {r.coordinates})",
                    r,
                )
            plan = self._plan(st, ks, vs)
        if seg is None or seg.plan is not plan:
            seg = TableBatch(st, plan)
        seg.rows.append(plan.row(r))
        seg.ops.append(False)
        seg.records.append(r)
        return seg

    def _shape_error(self, r: SinkRecord, needs: str, value: Any, schema: Schema | None, what: str) -> str:
        cfg = self.cfg
        assert cfg is not None
        cls = "null" if value is None else _JAVA_CLASS.get(type(value), type(value).__name__)
        sch = "null" if schema is None else schema.type.name
        return (
            f"Sink connector '{cfg.connector_name}' is configured with 'delete.enabled="
            f"{'true' if cfg.delete_enabled else 'false'}' and 'pk.mode={cfg.pk_mode}' and therefore requires "
            f"records with {needs}, but found record at (topic='{r.topic}',partition={r.kafka_partition},"
            f"offset={r.kafka_offset},timestamp={r.timestamp}) with a {cls} {what} and {sch} {what} schema."
        )

    def _plan(self, st: TableState, ks: Schema | None, vs: Schema | None, schemaless: bool = False) -> Plan:
        plan = st.plans.get((ks, vs))
        if plan is not None:
            # the same schema under another object: remember this one too, so the fast path sees it
            if plan.value_schema is not vs or plan.key_schema is not ks:
                plan.value_schema, plan.key_schema = vs, ks
            return plan
        cfg = self.cfg
        assert cfg is not None
        keys, values, sources = extract_columns(cfg, st.name, ks, vs)
        nkeys = len(keys)
        if schemaless:
            row = _schemaless_row(sources, vs)
        else:
            row = row_builder(sources, len(vs.fields) if vs is not None and vs.type == Type.STRUCT else None)
        key_row = row_builder(sources[:nkeys], None) if keys else None
        if keys and cfg.delete_enabled and key_row is not None:
            key_row = _tuple_row(key_row)
        plan = Plan(
            keys,
            values,
            sources,
            ks,
            vs,
            row,
            key_row,
            create_order(keys, values, vs, cfg.pk_mode == "kafka"),
            schemaless,
        )
        # every name this plan can put into SQL is escaped (or refused, naming the record) before anything is sent
        w = self.writer
        assert w is not None
        w.table_sql(st.tid)
        for c in plan.create:
            w.q(c.name)
        st.plans[(ks, vs)] = plan
        return plan


def _tuple_row(fn: Callable[[SinkRecord], Any]) -> Callable[[SinkRecord], Any]:
    return lambda r: tuple(fn(r))


def _schemaless_row(sources: list[tuple[str, Any]], vs: Schema | None) -> Callable[[SinkRecord], Any]:
    assert vs is not None
    getters: list[Callable[[SinkRecord], Any]] = []
    for kind, i in sources:
        if kind == "valf":
            name = vs.fields[i].name
            getters.append(lambda r, n=name: r.value.get(n))
        else:
            getters.append(row_builder([(kind, i)], None))
            getters[-1] = (lambda g: lambda r: g(r)[0])(getters[-1])
    if all(k == "valf" for k, _ in sources):
        names = [vs.fields[i].name for _, i in sources]
        return lambda r: [r.value.get(n) for n in names]
    return lambda r: [g(r) for g in getters]
