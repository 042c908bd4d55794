"""What every single message transform and predicate is: Transformation and Predicate base classes (Kafka's
org.apache.kafka.connect.transforms API), the key/value operating side of the `$Key`/`$Value` variants, and the
Requirements checks their error messages come from."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from ..config.configdef import ConfigDef
from ..data.schema import DataError, Field, Schema, Struct, Type
from ..data.values import java_class_name

Record = Any  # a SourceRecord or a SinkRecord: both tuples with key/value/topic/timestamp/headers fields

REPLACE_NULL_WITH_DEFAULT_CONFIG = "replace.null.with.default"
REPLACE_NULL_WITH_DEFAULT_DOC = (
    "Whether to replace fields that have a default value and that are null to the default "
    "value. When set to true, the default value is used, otherwise null is used."
)


class Transformation:
    """A single message transform. `apply` returns the changed record (a new tuple), the same record, or None to
    drop it. `apply_batch` may be overridden where a whole batch is cheaper to do at once."""

    class_name: ClassVar[str] = ""
    config_def: ClassVar[ConfigDef] = ConfigDef()

    def configure(self, props: Mapping[str, Any]) -> None:
        pass

    def apply(self, record: Record) -> Record | None:
        raise NotImplementedError

    def apply_batch(self, records: Sequence[Record]) -> list[Record | None]:
        return list(map(self.apply, records))

    def close(self) -> None:
        pass


class Predicate:
    """A condition on a record that decides whether a transformation applies (Kafka's Predicate)."""

    class_name: ClassVar[str] = ""
    config_def: ClassVar[ConfigDef] = ConfigDef()

    def configure(self, props: Mapping[str, Any]) -> None:
        pass

    def test(self, record: Record) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        pass


_SETTERS: dict[tuple[type, tuple[str, ...]], Callable[..., Any]] = {}


def record_setter(record_type: type, names: tuple[str, ...]) -> Callable[..., Any]:
    """A function (record, *new values) -> a copy of the record with those fields replaced, built as one tuple
    (namedtuple._replace costs several times more); made once per record type and field names."""
    setter = _SETTERS.get((record_type, names))
    if setter is None:
        fields: tuple[str, ...] = record_type._fields  # type: ignore[attr-defined]
        args = [f"v{i}" for i in range(len(names))]
        items = [args[names.index(f)] if f in names else f"r[{i}]" for i, f in enumerate(fields)]
        code = f"def setter(r, {', '.join(args)}):\n    return new(cls, ({', '.join(items)},))\n"
        scope: dict[str, Any] = {"new": tuple.__new__, "cls": record_type}
        exec(code, scope)
        setter = _SETTERS[(record_type, names)] = scope["setter"]
    return setter


def with_fields(record: Record, **changes: Any) -> Record:
    """record._replace(**changes), through record_setter."""
    return record_setter(type(record), tuple(changes))(record, *changes.values())


class KeyOrValue:
    """The `$Key` / `$Value` side a transform works on: the variants set `side` to "key" or "value"."""

    side: ClassVar[str] = "value"

    def operating_schema(self, record: Record) -> Schema | None:
        return record.key_schema if self.side == "key" else record.value_schema

    def operating_value(self, record: Record) -> Any:
        return record.key if self.side == "key" else record.value

    def new_record(self, record: Record, schema: Schema | None, value: Any) -> Record:
        names = ("key_schema", "key") if self.side == "key" else ("value_schema", "value")
        return record_setter(type(record), names)(record, schema, value)


class NullPassingTransform(KeyOrValue, Transformation):
    """The shape of Kafka's Cast, Flatten, InsertField and ReplaceField: a null key or value passes unchanged, a map
    without schema goes to apply_schemaless, a value with a schema to apply_with_schema."""

    def apply(self, record: Record) -> Record | None:
        value = self.operating_value(record)
        if value is None:
            return record
        schema = self.operating_schema(record)
        if schema is None:
            return self.apply_schemaless(record, value)
        return self.apply_with_schema(record, schema, value)

    def apply_schemaless(self, record: Record, value: Any) -> Record | None:
        raise NotImplementedError

    def apply_with_schema(self, record: Record, schema: Schema, value: Any) -> Record | None:
        raise NotImplementedError


def variants(base: type, package: str = "org.apache.kafka.connect.transforms") -> tuple[type, type]:
    """The Key and Value subclasses of a key/value transform, named as Kafka names its nested classes."""
    out = []
    for side, suffix in (("key", "Key"), ("value", "Value")):
        cls = type(
            f"{base.__name__}{suffix}",
            (base,),
            {
                "side": side,
                "__module__": base.__module__,
                "class_name": f"{package}.{base.__name__}${suffix}",
                "__doc__": f"{base.__name__} on the record {side}.",
            },
        )
        out.append(cls)
    return out[0], out[1]


# -- Requirements (org.apache.kafka.connect.transforms.util.Requirements) --------------------------------------
def require_schema(schema: Schema | None, purpose: str) -> Schema:
    if schema is None:
        raise DataError(f"Schema required for [{purpose}]")
    return schema


def require_map(value: Any, purpose: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DataError(
            f"Only Map objects supported in absence of schema for [{purpose}], found: {java_class_name(value)}"
        )
    return value


def require_struct(value: Any, purpose: str, schema: Schema | None = None) -> Struct:
    """Requirements.requireStruct; `schema`, the value's, names a number's Java class as Kafka does."""
    if not isinstance(value, Struct):
        raise DataError(f"Only Struct objects supported for [{purpose}], found: {java_class_name(value, schema)}")
    return value


def require_struct_or_null(value: Any, purpose: str, schema: Schema | None = None) -> Struct | None:
    return None if value is None else require_struct(value, purpose, schema)


def fields_of(schema: Schema) -> tuple[Field, ...]:
    """schema.fields(), as Kafka's ConnectSchema answers it for a schema that is not a struct."""
    if schema.type is not Type.STRUCT:
        raise DataError("Cannot list fields on non-struct type")
    return schema.fields


def field_of(schema: Schema, name: str) -> Field | None:
    """schema.field(name), as Kafka's ConnectSchema answers it for a schema that is not a struct."""
    if schema.type is not Type.STRUCT:
        raise DataError("Cannot look up fields on non-struct type")
    return schema.field(name)


def field_value(struct: Struct, field: Field, with_default: bool) -> Any:
    """Struct.get (the field's default for a null) or Struct.getWithoutDefault."""
    v = struct.values[field.index]
    return field.schema.default if v is None and with_default else v


def struct_schema(fields: Sequence[tuple[str, Schema]], basics: Schema | None = None) -> Schema:
    """SchemaBuilder.struct() with SchemaUtil.copySchemaBasics(basics): name, version, doc and parameters, but not
    optionality or default; a name given twice is SchemaBuilder.field's error."""
    if len({n for n, _ in fields}) != len(fields):
        seen: set[str] = set()
        twice = next(n for n, _ in fields if n in seen or seen.add(n))  # type: ignore[func-returns-value]
        raise DataError(f"Cannot create field because of field name duplication {twice}")
    return Schema(
        Type.STRUCT,
        name=basics.name if basics else None,
        version=basics.version if basics else None,
        doc=basics.doc if basics else None,
        parameters=basics.parameters if basics else None,
        fields=[Field(n, i, s) for i, (n, s) in enumerate(fields)],
    )


def new_struct(schema: Schema, values: Mapping[str, Any]) -> Struct:
    return Struct(schema, [values.get(f.name) for f in schema.fields])


class SchemaCache:
    """Kafka's LRUCache(16) of updated schemas per input schema."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[Schema, Schema] = {}

    def get(self, schema: Schema) -> Schema | None:
        return self._entries.get(schema)

    def put(self, schema: Schema, updated: Schema) -> Schema:
        if len(self._entries) >= 16:
            self._entries.pop(next(iter(self._entries)))
        self._entries[schema] = updated
        return updated
