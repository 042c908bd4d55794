"""Header transforms, as Kafka's: DropHeaders, HeaderFrom (fields moved or copied into headers) and InsertHeader.
Header values are held serialized, as the worker's default header converter (SimpleHeaderConverter) writes them."""
from __future__ import annotations

import base64
import datetime as dt
import decimal
from typing import Any, Mapping

from ..config.configdef import NO_DEFAULT, ConfigDef, ConfigType as T, Importance as I, custom, one_of
from ..converters.javatext import java_double, java_float
from ..data.schema import Schema, Struct, Type
from ..errors import ConfigError
from .base import (REPLACE_NULL_WITH_DEFAULT_CONFIG, REPLACE_NULL_WITH_DEFAULT_DOC, KeyOrValue, SchemaCache,
                   Transformation, field_value, require_map, require_struct, struct_schema, variants, with_fields)
from .cast import _big_decimal_str, _date_millis, _DATE_FORMATS
from .fields import non_empty_list


def _append(out: list[str], value: Any, embedded: bool, schema: Schema | None = None) -> None:
    """Values.append: the text SimpleHeaderConverter writes for a value."""
    if value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, float):
        out.append(java_float(value) if schema is not None and schema.type == Type.FLOAT32 else java_double(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, decimal.Decimal):
        out.append(_big_decimal_str(value))
    elif isinstance(value, str):
        out.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' if embedded else value)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text = base64.b64encode(bytes(value)).decode()
        out.append(f'"{text}"' if embedded else text)
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _append(out, v, True, schema.value_schema if schema is not None else None)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            if i:
                out.append(",")
            _append(out, k, True)
            out.append(":")
            _append(out, v, True, schema.value_schema if schema is not None else None)
        out.append("}")
    elif isinstance(value, Struct):
        out.append("{")
        for i, f in enumerate(value.schema.fields):
            if i:
                out.append(",")
            _append(out, f.name, True)
            out.append(":")
            _append(out, value.get(f.name), True, f.schema)
        out.append("}")
    elif isinstance(value, (dt.date, dt.time)):
        millis = _date_millis(value)
        kind = "time" if millis < 86_400_000 else "date" if millis % 86_400_000 == 0 else "timestamp"
        text = _DATE_FORMATS[kind].format(millis)
        out.append(f'"{text}"' if embedded else text)
    else:
        out.append(str(value))


def header_bytes(schema: Schema | None, value: Any) -> bytes | None:
    """SimpleHeaderConverter.fromConnectHeader: Values.convertToString of the value, UTF-8; None for null."""
    if value is None:
        return None
    out: list[str] = []
    _append(out, value, False, schema)
    return "".join(out).encode()


class DropHeaders(Transformation):
    """Removes one or more headers from each record."""

    class_name = "org.apache.kafka.connect.transforms.DropHeaders"
    config_def = ConfigDef().define("headers", T.LIST, NO_DEFAULT, non_empty_list(), I.HIGH,
                                    "The name of the headers to be removed.")

    def configure(self, props: Mapping[str, Any]) -> None:
        self.headers = frozenset(self.config_def.parse(props)["headers"])

    def apply(self, record: Any) -> Any:
        if not record.headers:
            return with_fields(record, headers=())
        drop = self.headers
        return with_fields(record, headers=[h for h in record.headers if h[0] not in drop])


_NON_NULL = custom(lambda v: None, "non-null string")  # ConfigDef.NonNullValidator: null is refused by parsing


class InsertHeader(Transformation):
    """Add a header to each record."""

    class_name = "org.apache.kafka.connect.transforms.InsertHeader"
    config_def = (ConfigDef()
                  .define("header", T.STRING, NO_DEFAULT, _NON_NULL, I.HIGH, "The name of the header.")
                  .define("value.literal", T.STRING, NO_DEFAULT, _NON_NULL, I.HIGH,
                          "The literal value that is to be set as the header value on all records."))

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        self.header = (c["header"], c["value.literal"].encode())

    def apply(self, record: Any) -> Any:
        return with_fields(record, headers=[*record.headers, self.header])


class HeaderFrom(KeyOrValue, Transformation):
    """Moves or copies fields in the key/value of a record into that record's headers."""

    config_def = (
        ConfigDef()
        .define("fields", T.LIST, NO_DEFAULT, non_empty_list(), I.HIGH,
                "Field names in the record whose values are to be copied or moved to headers.")
        .define("headers", T.LIST, NO_DEFAULT, non_empty_list(), I.HIGH,
                "Header names, in the same order as the field names listed in the fields configuration property.")
        .define("operation", T.STRING, NO_DEFAULT, one_of("move", "copy", case_sensitive=True), I.HIGH,
                "Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), "
                "or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value).")
        .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, T.BOOLEAN, True, None, I.MEDIUM, REPLACE_NULL_WITH_DEFAULT_DOC))

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
            updated = dict(value)
            for name, header in zip(self.fields, self.headers):
                if self.move:
                    updated.pop(name, None)
                headers.append((header, header_bytes(None, value.get(name))))
            return with_fields(self.new_record(record, None, updated), headers=headers)
        struct = require_struct(value, purpose)
        if self.move:
            updated_schema = self.cache.get(schema) or self.cache.put(schema, struct_schema(
                [(f.name, f.schema) for f in schema.fields if f.name not in self.fields], schema))
            out: Any = Struct(updated_schema, [field_value(struct, struct.schema.field(f.name), self.with_default)
                                               for f in updated_schema.fields])
        else:
            updated_schema, out = schema, struct
        for name, header in zip(self.fields, self.headers):
            f = struct.schema.field(name)
            v = field_value(struct, f, self.with_default) if f is not None else None
            headers.append((header, header_bytes(schema.field(name).schema, v)))  # type: ignore[union-attr]
        return with_fields(self.new_record(record, updated_schema, out), headers=headers)


HeaderFromKey, HeaderFromValue = variants(HeaderFrom)
