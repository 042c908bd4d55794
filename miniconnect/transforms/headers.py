"""Header transforms, as Kafka's: DropHeaders, HeaderFrom (fields moved or copied into headers) and InsertHeader.
Headers are Connect headers (key, value, schema); the worker's header.converter serializes them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config.configdef import NO_DEFAULT, ConfigDef, custom, one_of
from ..config.configdef import ConfigType as T
from ..config.configdef import Importance as I
from ..data.javahash import java_hash_map_copy
from ..data.records import Header
from ..data.schema import DataError, Struct
from ..data.values_parser import parse_string
from ..errors import ConfigError
from .base import (
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_DOC,
    KeyOrValue,
    SchemaCache,
    Transformation,
    field_value,
    require_map,
    require_struct,
    struct_schema,
    variants,
    with_fields,
)
from .fields import non_empty_list


class DropHeaders(Transformation):
    """Removes one or more headers from each record."""

    class_name = "org.apache.kafka.connect.transforms.DropHeaders"
    config_def = ConfigDef().define(
        "headers", T.LIST, NO_DEFAULT, non_empty_list(), I.HIGH, "The name of the headers to be removed."
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        self.headers = frozenset(self.config_def.parse(props)["headers"])

    def apply(self, record: Any) -> Any:
        if not record.headers:
            return with_fields(record, headers=())
        drop = self.headers
        return with_fields(record, headers=[h for h in record.headers if h[0] not in drop])


_NON_NULL = custom(lambda v: None, "non-null string")  # ConfigDef.NonNullValidator: null is refused by parsing
_NON_NULL.null_reason = "entry must be non null"  # type: ignore[attr-defined]


class InsertHeader(Transformation):
    """Add a header to each record."""

    class_name = "org.apache.kafka.connect.transforms.InsertHeader"
    config_def = (
        ConfigDef()
        .define("header", T.STRING, NO_DEFAULT, _NON_NULL, I.HIGH, "The name of the header.")
        .define(
            "value.literal",
            T.STRING,
            NO_DEFAULT,
            _NON_NULL,
            I.HIGH,
            "The literal value that is to be set as the header value on all records.",
        )
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        schema, value = parse_string(c["value.literal"].strip())  # ConfigDef trims a STRING value
        self.header = Header(c["header"], value, schema)

    def apply(self, record: Any) -> Any:
        return with_fields(record, headers=[*record.headers, self.header])


_OPERATION = one_of("move", "copy", case_sensitive=True)
_OPERATION.null_reason = "String must be one of: move, copy"  # type: ignore[attr-defined]


class HeaderFrom(KeyOrValue, Transformation):
    """Moves or copies fields in the key/value of a record into that record's headers."""

    config_def = (
        ConfigDef()
        .define(
            "fields",
            T.LIST,
            NO_DEFAULT,
            non_empty_list(),
            I.HIGH,
            "Field names in the record whose values are to be copied or moved to headers.",
        )
        .define(
            "headers",
            T.LIST,
            NO_DEFAULT,
            non_empty_list(),
            I.HIGH,
            "Header names, in the same order as the field names listed in the fields configuration property.",
        )
        .define(
            "operation",
            T.STRING,
            NO_DEFAULT,
            _OPERATION,
            I.HIGH,
            "Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), "
            "or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value).",
        )
        .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, T.BOOLEAN, True, None, I.MEDIUM, REPLACE_NULL_WITH_DEFAULT_DOC)
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        self.fields, self.headers = c["fields"], c["headers"]
        if len(self.fields) != len(self.headers):
            raise ConfigError(message="'fields' config must have the same number of elements as 'headers' config.")
        self.move = c["operation"] == "move"
        self.with_default = c[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        self.cache = SchemaCache()

    def apply(self, record: Any) -> Any:
        schema = self.operating_schema(record)
        value = self.operating_value(record)
        headers = list(record.headers)
        purpose = "header " + ("move" if self.move else "copy")
        if schema is None:
            value = require_map(value, purpose)
            updated = java_hash_map_copy(value)
            for name, header in zip(self.fields, self.headers):
                if self.move:
                    updated.pop(name, None)
                headers.append(Header(header, value.get(name)))
            return with_fields(self.new_record(record, None, updated), headers=headers)
        struct = require_struct(value, purpose, schema)
        if self.move:
            updated_schema = self.cache.get(schema) or self.cache.put(
                schema, struct_schema([(f.name, f.schema) for f in schema.fields if f.name not in self.fields], schema)
            )
            out: Any = Struct(
                updated_schema,
                [field_value(struct, struct.schema.field(f.name), self.with_default) for f in updated_schema.fields],
            )
        else:
            updated_schema, out = schema, struct
        for name, header in zip(self.fields, self.headers):
            f = struct.schema.field(name)
            v = field_value(struct, f, self.with_default) if f is not None else None
            field = schema.field(name)
            if field is None:  # Kafka dereferences it all the same: its NullPointerException's text
                raise DataError(_NO_FIELD)
            headers.append(Header(header, v, field.schema))
        return with_fields(self.new_record(record, updated_schema, out), headers=headers)


_NO_FIELD = (
    'Cannot invoke "org.apache.kafka.connect.data.Field.schema()" because the return value of '
    '"org.apache.kafka.connect.data.Schema.field(String)" is null'
)
HeaderFromKey, HeaderFromValue = variants(HeaderFrom)
