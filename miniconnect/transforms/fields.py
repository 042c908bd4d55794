"""Transforms that reshape a key or value's fields, as Kafka's: ValueToKey, ExtractField, HoistField, InsertField,
ReplaceField, MaskField, Flatten and SetSchemaMetadata, on Structs (with schema) and maps (schemaless)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from itertools import repeat
from operator import attrgetter
from typing import Any

from ..config.configdef import NO_DEFAULT, ConfigDef, custom, non_empty_string
from ..config.configdef import ConfigType as T
from ..config.configdef import Importance as I
from ..data.javahash import JavaMap, java_hash_map, java_hash_map_copy, java_order
from ..data.schema import (
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    DataError,
    Schema,
    Struct,
    Type,
    millis_to_timestamp,
    timestamp_schema,
)
from ..errors import ConfigError
from .base import (
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_DOC,
    KeyOrValue,
    NullPassingTransform,
    SchemaCache,
    Transformation,
    field_value,
    java_class_name,
    record_setter,
    require_map,
    require_schema,
    require_struct,
    require_struct_or_null,
    struct_schema,
    variants,
    with_fields,
)
from .field_path import FIELD_SYNTAX_VERSION_CONFIG, SingleFieldPath, append_syntax_version

_VALUE, _VALUES = attrgetter("value"), attrgetter("values")


def non_empty_list():
    """Kafka's NonEmptyListValidator."""
    validator = custom(lambda v: "Empty list" if not v else None, "non-empty list")
    validator.null_reason = "Empty list"  # type: ignore[attr-defined]
    return validator


def _replace_null_with_default(d: ConfigDef) -> ConfigDef:
    return d.define(REPLACE_NULL_WITH_DEFAULT_CONFIG, T.BOOLEAN, True, None, I.MEDIUM, REPLACE_NULL_WITH_DEFAULT_DOC)


# -- ValueToKey -------------------------------------------------------------------------------------------------
class ValueToKey(Transformation):
    """Replace the record key with a new key formed from a subset of fields in the record value."""

    class_name = "org.apache.kafka.connect.transforms.ValueToKey"
    config_def = _replace_null_with_default(
        ConfigDef().define(
            "fields",
            T.LIST,
            NO_DEFAULT,
            non_empty_list(),
            I.HIGH,
            "Field names on the record value to extract as the record key.",
        )
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        self.fields: list[str] = c["fields"]
        self.with_default: bool = c[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        self.cache = SchemaCache()

    def apply(self, record: Any) -> Any:
        if record.value_schema is None:
            value = require_map(record.value, "copying fields from value to key")
            key = java_hash_map(((f, value.get(f)) for f in self.fields), len(self.fields))
            return with_fields(record, key_schema=None, key=key)
        value = require_struct(record.value, "copying fields from value to key", record.value_schema)
        schema = value.schema
        key_schema = self.cache.get(schema)
        if key_schema is None:
            fields = []
            for name in self.fields:
                f = schema.field(name)
                if f is None:
                    raise DataError(f"Field does not exist: {name}")
                fields.append((name, f.schema))
            key_schema = self.cache.put(schema, struct_schema(fields))
        key = Struct(key_schema, [field_value(value, schema.field(n), self.with_default) for n in self.fields])
        return with_fields(record, key_schema=key_schema, key=key)

    def apply_batch(self, records: Sequence[Any]) -> list[Any]:
        """The usual batch, Structs of one schema none of whose key fields has a default: keys built by index,
        records by one tuple each."""
        first = records[0] if records else None
        if first is None or not isinstance(first.value, Struct):
            return list(map(self.apply, records))
        schema = first.value.schema
        fields = [schema.field(n) for n in self.fields]
        if (
            None in fields
            or any(f.schema.default is not None for f in fields)
            or any(r.value.__class__ is not Struct or r.value.schema is not schema for r in records)
        ):
            return list(map(self.apply, records))
        key_schema = self.apply(first).key_schema
        index = [f.index for f in fields]
        rows = [[v[i] for i in index] for v in map(_VALUES, map(_VALUE, records))]
        setter = record_setter(type(first), ("key_schema", "key"))
        return list(map(setter, records, repeat(key_schema), Struct.many(key_schema, rows)))


# -- ExtractField -----------------------------------------------------------------------------------------------
class ExtractField(KeyOrValue, Transformation):
    """Extract the specified field from a Struct when schema present, or a Map in the case of schemaless data."""

    config_def = _replace_null_with_default(
        append_syntax_version(
            ConfigDef().define("field", T.STRING, NO_DEFAULT, None, I.MEDIUM, "Field name to extract.")
        )
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        self.original = c["field"]
        self.path = SingleFieldPath(self.original, c[FIELD_SYNTAX_VERSION_CONFIG])
        self.with_default = c[REPLACE_NULL_WITH_DEFAULT_CONFIG]

    def apply_batch(self, records: Sequence[Any]) -> list[Any]:
        """The usual batch, Structs of one schema and a top-level field without default: values taken by index."""
        first = records[0] if records else None
        schema = self.operating_schema(first) if first is not None else None
        f = self.path.field_from(schema) if schema is not None and len(self.path.steps) == 1 else None
        if f is None or f.schema.default is not None:
            return list(map(self.apply, records))
        values = list(map(self.operating_value, records))
        if any(v.__class__ is not Struct or v.schema is not schema for v in values):
            return list(map(self.apply, records))
        names = ("key_schema", "key") if self.side == "key" else ("value_schema", "value")
        setter = record_setter(type(first), names)
        i = f.index
        return list(map(setter, records, repeat(f.schema), [v.values[i] for v in values]))

    def apply(self, record: Any) -> Any:
        schema = self.operating_schema(record)
        value = self.operating_value(record)
        if schema is None:
            if value is None:
                return self.new_record(record, None, None)
            return self.new_record(record, None, self.path.value_from_map(require_map(value, "field extraction")))
        struct = require_struct_or_null(value, "field extraction", schema)
        field = self.path.field_from(schema)
        if field is None:
            raise ValueError(f"Unknown field: {self.original}")
        return self.new_record(
            record, field.schema, None if struct is None else self.path.value_from_struct(struct, self.with_default)
        )


# -- HoistField -------------------------------------------------------------------------------------------------
class HoistField(KeyOrValue, Transformation):
    """Wrap data using the specified field name in a Struct when schema present, or a Map for schemaless data."""

    config_def = ConfigDef().define(
        "field",
        T.STRING,
        NO_DEFAULT,
        None,
        I.MEDIUM,
        "Field name for the single field that will be created in the resulting Struct or Map.",
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        self.field = self.config_def.parse(props)["field"]
        self.cache = SchemaCache()

    def apply(self, record: Any) -> Any:
        schema = self.operating_schema(record)
        value = self.operating_value(record)
        if schema is None:
            return self.new_record(record, None, {self.field: value})
        updated = self.cache.get(schema) or self.cache.put(schema, struct_schema([(self.field, schema)]))
        return self.new_record(record, updated, Struct(updated, [value]))


# -- InsertField ------------------------------------------------------------------------------------------------
_OPTIONALITY_DOC = (
    "Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default)."
)
_OPTIONAL_TIMESTAMP = timestamp_schema(optional=True)


def _insertion_spec(spec: str | None) -> tuple[str, bool] | None:
    if spec is None:
        return None
    if spec.endswith("?"):
        return spec[:-1], True
    if spec.endswith("!"):
        return spec[:-1], False
    return spec, True


class InsertField(NullPassingTransform):
    """Insert field(s) using attributes from the record metadata or a configured static value."""

    config_def = _replace_null_with_default(
        ConfigDef()
        .define("topic.field", T.STRING, None, None, I.MEDIUM, "Field name for Kafka topic. " + _OPTIONALITY_DOC)
        .define(
            "partition.field", T.STRING, None, None, I.MEDIUM, "Field name for Kafka partition. " + _OPTIONALITY_DOC
        )
        .define(
            "offset.field",
            T.STRING,
            None,
            None,
            I.MEDIUM,
            "Field name for Kafka offset - only applicable to sink connectors.<br/>" + _OPTIONALITY_DOC,
        )
        .define(
            "timestamp.field", T.STRING, None, None, I.MEDIUM, "Field name for record timestamp. " + _OPTIONALITY_DOC
        )
        .define("static.field", T.STRING, None, None, I.MEDIUM, "Field name for static data field. " + _OPTIONALITY_DOC)
        .define("static.value", T.STRING, None, None, I.MEDIUM, "Static field value, if field name configured.")
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        self.topic_field = _insertion_spec(c["topic.field"])
        self.partition_field = _insertion_spec(c["partition.field"])
        self.offset_field = _insertion_spec(c["offset.field"])
        self.timestamp_field = _insertion_spec(c["timestamp.field"])
        self.static_field = _insertion_spec(c["static.field"])
        self.static_value = c["static.value"]
        self.with_default = c[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        if not any(
            (self.topic_field, self.partition_field, self.offset_field, self.timestamp_field, self.static_field)
        ):
            raise ConfigError(message="No field insertion configured")
        if self.static_field is not None and self.static_value is None:
            raise ConfigError("static.value", "null", f"No value specified for static field: {self._spec_text()}")
        self.cache = SchemaCache()

    def _spec_text(self) -> str:
        return f"org.apache.kafka.connect.transforms.InsertField$InsertionSpec@{id(self.static_field):x}"

    def _offset(self, record: Any) -> int:
        offset = getattr(record, "kafka_offset", None)
        if offset is None:
            raise DataError(
                "Only SinkRecord supported for [field insertion], found: org.apache.kafka.connect.source.SourceRecord"
            )
        return offset

    def apply_schemaless(self, record: Any, value: Any) -> Any:
        value = require_map(value, "field insertion")
        puts: dict[str, Any] = {}
        if self.topic_field:
            puts[self.topic_field[0]] = record.topic
        if self.partition_field and record.kafka_partition is not None:
            puts[self.partition_field[0]] = record.kafka_partition
        if self.offset_field:
            puts[self.offset_field[0]] = self._offset(record)
        if self.timestamp_field and record.timestamp is not None:
            puts[self.timestamp_field[0]] = record.timestamp
        if self.static_field and self.static_value is not None:
            puts[self.static_field[0]] = self.static_value
        return self.new_record(record, None, java_hash_map_copy(value, puts))

    def apply_with_schema(self, record: Any, schema: Schema, value: Any) -> Any:
        struct = require_struct(value, "field insertion", schema)
        updated_schema = self.cache.get(struct.schema) or self.cache.put(struct.schema, self._schema(struct.schema))
        values = [field_value(struct, f, self.with_default) for f in struct.schema.fields]
        values += [None] * (len(updated_schema.fields) - len(values))
        out = Struct(updated_schema, values)
        if self.topic_field:
            out.put(self.topic_field[0], record.topic)
        if self.partition_field and record.kafka_partition is not None:
            out.put(self.partition_field[0], record.kafka_partition)
        if self.offset_field:
            out.put(self.offset_field[0], self._offset(record))
        if self.timestamp_field and record.timestamp is not None:
            out.put(self.timestamp_field[0], millis_to_timestamp(record.timestamp))
        if self.static_field and self.static_value is not None:
            out.put(self.static_field[0], self.static_value)
        return self.new_record(record, updated_schema, out)

    def _schema(self, schema: Schema) -> Schema:
        fields = [(f.name, f.schema) for f in schema.fields]
        for spec, optional, required in (
            (self.topic_field, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA),
            (self.partition_field, OPTIONAL_INT32_SCHEMA, INT32_SCHEMA),
            (self.offset_field, OPTIONAL_INT64_SCHEMA, INT64_SCHEMA),
            (self.timestamp_field, _OPTIONAL_TIMESTAMP, timestamp_schema()),
            (self.static_field, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA),
        ):
            if spec is not None:  # a name the value has already: SchemaBuilder's duplication error, as Kafka's
                fields.append((spec[0], optional if spec[1] else required))
        return struct_schema(fields, schema)


# -- ReplaceField -----------------------------------------------------------------------------------------------
def parse_renames(mappings: list[str], key: str = "renames") -> dict[str, str]:
    out: dict[str, str] = {}
    for mapping in mappings:
        parts = _java_split(mapping, ":")
        if len(parts) != 2:
            raise ConfigError(key, "[" + ", ".join(mappings) + "]", f"Invalid rename mapping: {mapping}")
        out[parts[0]] = parts[1]
    return out


def _java_split(s: str, sep: str) -> list[str]:
    """String.split(sep): trailing empty strings removed."""
    parts = s.split(sep)
    while parts and parts[-1] == "":
        parts.pop()
    return parts or ([""] if s == "" else [])


class _RenamesValidator:
    """ReplaceField's renames check: each entry a `from:to` pair."""

    def __call__(self, name: str, value: Any) -> None:
        if value is not None:
            parse_renames(value, name)

    def __str__(self) -> str:
        return "list of colon-delimited pairs, e.g. <code>foo:bar,abc:xyz</code>"


class ReplaceField(NullPassingTransform):
    """Filter or rename fields."""

    config_def = _replace_null_with_default(
        ConfigDef()
        .define(
            "exclude",
            T.LIST,
            [],
            None,
            I.MEDIUM,
            "Fields to exclude. This takes precedence over the fields to include.",
        )
        .define(
            "include", T.LIST, [], None, I.MEDIUM, "Fields to include. If specified, only these fields will be used."
        )
        .define("renames", T.LIST, [], _RenamesValidator(), I.MEDIUM, "Field rename mappings.")
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        self.exclude = set(c["exclude"])
        self.include = set(c["include"])
        self.renames = parse_renames(c["renames"])
        self.reverse = {v: k for k, v in self.renames.items()}
        self.with_default = c[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        self.cache = SchemaCache()

    def _keep(self, name: str) -> bool:
        return name not in self.exclude and (not self.include or name in self.include)

    def apply_schemaless(self, record: Any, value: Any) -> Any:
        value = require_map(value, "field replacement")
        out = [(self.renames.get(k, k), v) for k, v in java_order(value).items() if self._keep(k)]
        return self.new_record(record, None, java_hash_map(out, len(value)))

    def apply_with_schema(self, record: Any, schema: Schema, value: Any) -> Any:
        struct = require_struct(value, "field replacement", schema)
        updated = self.cache.get(struct.schema)
        if updated is None:
            updated = self.cache.put(
                struct.schema,
                struct_schema(
                    [(self.renames.get(f.name, f.name), f.schema) for f in struct.schema.fields if self._keep(f.name)],
                    struct.schema,
                ),
            )
        src = struct.schema
        values = []
        for f in updated.fields:
            original = src.field(self.reverse.get(f.name, f.name))
            if original is None:
                raise DataError(f"{self.reverse.get(f.name, f.name)} is not a valid field name")
            values.append(field_value(struct, original, self.with_default))
        return self.new_record(record, updated, Struct(updated, values))


# -- MaskField --------------------------------------------------------------------------------------------------
_ZERO_DATE = millis_to_timestamp(0)


def _mask_null(value: Any, schema: Schema | None) -> Any:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 0.0
    if isinstance(value, decimal.Decimal):
        return decimal.Decimal(0)
    if isinstance(value, str):
        return ""
    if isinstance(value, dt.datetime):
        return _ZERO_DATE
    if isinstance(value, dt.date):
        return dt.date(1970, 1, 1)
    if isinstance(value, dt.time):
        return dt.time(0)
    if isinstance(value, (list, tuple)):
        return []
    if isinstance(value, dict):
        return {}
    raise DataError(f"Cannot mask value of type: class {java_class_name(value)}")


def _java_number(text: str, kind: str) -> Any:
    """Values.convertToX(null, text) for a replacement string (BigDecimal parse, then narrowed as Java narrows)."""
    try:
        d = decimal.Decimal(text.strip())
    except decimal.InvalidOperation:
        raise DataError(f"Unable to convert {text} (class java.lang.String) to a number") from None
    if kind == "float":
        return float(d)
    n = int(d)
    bits = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}[kind]
    n &= (1 << bits) - 1
    return n - (1 << bits) if n >= 1 << (bits - 1) else n


def _mask_custom(value: Any, schema: Schema | None, replacement: str) -> Any:
    if isinstance(value, bool) or isinstance(value, (dt.date, dt.time, list, dict, bytes, Struct)):
        raise DataError(f"Cannot mask value of type class {java_class_name(value)} with custom replacement.")
    if isinstance(value, str):
        return replacement
    if isinstance(value, decimal.Decimal):
        try:
            return decimal.Decimal(replacement)
        except decimal.InvalidOperation:  # MaskField's own text (Values.convertTo... says "to a number")
            raise DataError(f"Unable to convert {replacement} (class java.lang.String) to number") from None
    if isinstance(value, float):
        return _java_number(replacement, "float")
    if isinstance(value, int):
        kind = (
            schema.type.value if schema is not None and schema.type in (Type.INT8, Type.INT16, Type.INT32) else "int64"
        )
        return _java_number(replacement, kind)
    raise DataError(f"Cannot mask value of type class {java_class_name(value)} with custom replacement.")


class MaskField(KeyOrValue, Transformation):
    """Mask specified fields with a valid null value for the field type (i.e. 0, false, empty string, and so on)."""

    config_def = _replace_null_with_default(
        ConfigDef()
        .define("fields", T.LIST, NO_DEFAULT, non_empty_list(), I.HIGH, "Names of fields to mask.")
        .define(
            "replacement",
            T.STRING,
            None,
            non_empty_string(),
            I.LOW,
            "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string "
            "values only).",
        )
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        self.fields = set(c["fields"])
        self.replacement = c["replacement"]
        self.with_default = c[REPLACE_NULL_WITH_DEFAULT_CONFIG]

    def _masked(self, value: Any, schema: Schema | None) -> Any:
        if value is None:
            return None
        if self.replacement is None:
            return _mask_null(value, schema)
        return _mask_custom(value, schema, self.replacement)

    def apply(self, record: Any) -> Any:
        schema = self.operating_schema(record)
        value = self.operating_value(record)
        if schema is None:
            value = require_map(value, "mask fields")
            masked = {name: self._masked(value.get(name), None) for name in self.fields}
            return self.new_record(record, None, java_hash_map_copy(value, masked))
        struct = require_struct(value, "mask fields", schema)
        values = []
        for f in struct.schema.fields:
            v = field_value(struct, f, self.with_default)
            values.append(self._masked(v, f.schema) if f.name in self.fields else v)
        return self.new_record(record, schema, Struct(struct.schema, values))


# -- Flatten ----------------------------------------------------------------------------------------------------
_FLAT_TYPES = {
    Type.INT8,
    Type.INT16,
    Type.INT32,
    Type.INT64,
    Type.FLOAT32,
    Type.FLOAT64,
    Type.BOOLEAN,
    Type.STRING,
    Type.BYTES,
    Type.ARRAY,
}


class Flatten(NullPassingTransform):
    """Flatten a nested data structure, generating names for each field by concatenating the field names at each
    level with a configurable delimiter character."""

    config_def = ConfigDef().define(
        "delimiter",
        T.STRING,
        ".",
        None,
        I.MEDIUM,
        "Delimiter to insert between field names from the input record when generating "
        "field names for the output record",
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        self.delimiter = self.config_def.parse(props)["delimiter"]
        self.cache = SchemaCache()

    def _name(self, prefix: str, name: str) -> str:
        return name if not prefix else prefix + self.delimiter + name

    def apply_schemaless(self, record: Any, value: Any) -> Any:
        out: dict[str, Any] = JavaMap()  # Kafka's: a LinkedHashMap
        self._flatten_map(require_map(value, "flattening"), "", out)
        return self.new_record(record, None, out)

    def apply_with_schema(self, record: Any, schema: Schema, value: Any) -> Any:
        struct = require_struct_or_null(value, "flattening", schema)
        updated = self.cache.get(schema)
        if updated is None:
            fields: list[tuple[str, Schema]] = []
            self._flat_schema(schema, "", fields, schema.optional, schema.default)
            updated = self.cache.put(schema, struct_schema(fields, schema))
        values: dict[str, Any] = {}
        self._flat_values(struct, "", values)
        return self.new_record(record, updated, Struct(updated, [values.get(f.name) for f in updated.fields]))

    def _flatten_map(self, value: dict, prefix: str, out: dict[str, Any]) -> None:
        for k, v in java_order(value).items():  # into a LinkedHashMap, as the maps' entries come
            name = self._name(prefix, k)
            if isinstance(v, dict):
                self._flatten_map(v, name, out)
            elif v is None or isinstance(v, (bool, int, float, str, bytes, list)):
                out[name] = v
            elif isinstance(v, Struct):
                raise DataError(
                    f"Flatten transformation does not support class org.apache.kafka.connect.data."
                    f"Struct for record without schemas (for field {name})."
                )
            else:
                raise DataError(
                    f"Flatten transformation was passed a value of type class {java_class_name(v)} "
                    f"which is not supported by Connect's data API"
                )

    def _flat_schema(self, schema: Schema, prefix: str, out: list, optional: bool, parent_default: Any) -> None:
        for f in schema.fields:
            name = self._name(prefix, f.name)
            field_optional = optional or f.schema.optional
            default = f.schema.default
            if default is None and isinstance(parent_default, Struct):
                default = parent_default.get(f.name)
            if f.schema.type in _FLAT_TYPES:
                out.append(
                    (
                        name,
                        Schema(
                            f.schema.type,
                            optional=field_optional,
                            default=default,
                            name=f.schema.name,
                            version=f.schema.version,
                            doc=f.schema.doc,
                            parameters=f.schema.parameters,
                            value_schema=f.schema.value_schema,
                        ),
                    )
                )
            elif f.schema.type == Type.STRUCT:
                self._flat_schema(f.schema, name, out, field_optional, default)
            else:
                raise DataError(
                    f"Flatten transformation does not support {f.schema.type.name} for record with "
                    f"schemas (for field {name})."
                )

    def _flat_values(self, struct: Struct | None, prefix: str, out: dict[str, Any]) -> None:
        if struct is None:
            return
        for f in struct.schema.fields:
            name = self._name(prefix, f.name)
            if f.schema.type in _FLAT_TYPES:
                out[name] = struct.get(f.name)
            elif f.schema.type == Type.STRUCT:
                self._flat_values(struct.get(f.name), name, out)
            else:
                raise DataError(
                    f"Flatten transformation does not support {f.schema.type.name} for record with "
                    f"schemas (for field {name})."
                )


# -- SetSchemaMetadata ------------------------------------------------------------------------------------------
class SetSchemaMetadata(KeyOrValue, Transformation):
    """Set the schema name, version or both on the record's key or value schema."""

    config_def = _replace_null_with_default(
        ConfigDef()
        .define("schema.name", T.STRING, None, None, I.HIGH, "Schema name to set.")
        .define("schema.version", T.INT, None, None, I.HIGH, "Schema version to set.")
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        self.name, self.schema_version = c["schema.name"], c["schema.version"]
        self.with_default = c[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        if self.name is None and self.schema_version is None:
            raise ConfigError(message="Neither schema name nor version configured")

    def apply(self, record: Any) -> Any:
        value = self.operating_value(record)
        schema = self.operating_schema(record)
        if value is None and schema is None:
            return record
        schema = require_schema(schema, "updating schema metadata")
        if schema.type != Type.STRUCT:  # Kafka's new ConnectSchema(..., schema.fields(), ...) fails for these
            raise DataError("Cannot list fields on non-struct type")
        is_map, is_array = schema.type == Type.MAP, schema.type == Type.ARRAY
        updated = Schema(
            schema.type,
            schema.optional,
            schema.default,
            self.name if self.name is not None else schema.name,
            self.schema_version if self.schema_version is not None else schema.version,
            schema.doc,
            schema.parameters,
            schema.fields,
            schema.key_schema if is_map else None,
            schema.value_schema if is_map or is_array else None,
        )
        if isinstance(value, Struct):
            value = Struct(updated, [field_value(value, f, self.with_default) for f in value.schema.fields])
        return self.new_record(record, updated, value)


ExtractFieldKey, ExtractFieldValue = variants(ExtractField)
HoistFieldKey, HoistFieldValue = variants(HoistField)
InsertFieldKey, InsertFieldValue = variants(InsertField)
ReplaceFieldKey, ReplaceFieldValue = variants(ReplaceField)
MaskFieldKey, MaskFieldValue = variants(MaskField)
FlattenKey, FlattenValue = variants(Flatten)
SetSchemaMetadataKey, SetSchemaMetadataValue = variants(SetSchemaMetadata)
