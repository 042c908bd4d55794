"""Header transforms, as Kafka's: DropHeaders, HeaderFrom (fields moved or copied into headers) and InsertHeader.
Header values are held serialized, as the worker's default header converter (SimpleHeaderConverter) writes them."""

from __future__ import annotations

import decimal
import json
import re
from collections.abc import Mapping
from typing import Any

from ..config.configdef import NO_DEFAULT, ConfigDef, custom, one_of
from ..config.configdef import ConfigType as T
from ..config.configdef import Importance as I
from ..converters.javatext import java_double, java_float, to_float32
from ..data.schema import Struct
from ..data.values import convert_to_string_bytes
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


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def literal_header_text(literal: str) -> str | None:
    """What InsertHeader's header holds once written: Values.parseString(literal) as SimpleHeaderConverter writes
    it. Numbers are normalised (integral ones as integers, others as float32 when they fit, as Kafka's parser
    types them), JSON arrays and objects compacted, the rest trimmed; "null" is a null header."""
    text = literal.strip()
    if text == "null":
        return None
    if _NUMBER.fullmatch(text):
        d = decimal.Decimal(text)
        if d == d.to_integral_value() and (-(2**63) <= d < 2**63 or d.as_tuple().exponent == 0):
            return str(int(d))  # an integer type, or a BigDecimal of scale 0 beyond long
        f = float(d)
        try:
            return java_float(to_float32(f))
        except OverflowError:
            return java_double(f)
    if text[:1] in "[{":
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return convert_to_string_bytes(None, value).decode()  # type: ignore[union-attr]
    return text


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
        text = literal_header_text(c["value.literal"])
        self.header = (c["header"], None if text is None else text.encode())

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
            updated = dict(value)
            for name, header in zip(self.fields, self.headers):
                if self.move:
                    updated.pop(name, None)
                headers.append((header, convert_to_string_bytes(None, value.get(name))))
            return with_fields(self.new_record(record, None, updated), headers=headers)
        struct = require_struct(value, purpose)
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
            headers.append((header, convert_to_string_bytes(schema.field(name).schema, v)))  # type: ignore[union-attr]
        return with_fields(self.new_record(record, updated_schema, out), headers=headers)


HeaderFromKey, HeaderFromValue = variants(HeaderFrom)
