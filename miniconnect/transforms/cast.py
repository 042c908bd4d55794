"""Cast: fields of a Struct or map, or the whole key or value, to another primitive type, with Java's narrowing
and text (Kafka's org.apache.kafka.connect.transforms.Cast)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
from collections.abc import Mapping
from typing import Any

from ..config.configdef import NO_DEFAULT, ConfigDef
from ..config.configdef import ConfigType as T
from ..config.configdef import Importance as I
from ..converters.javatext import java_double, java_float, to_float32
from ..data.javahash import java_hash_map_copy
from ..data.schema import DATE, TIME, TIMESTAMP, DataError, Schema, Struct, Type
from ..data.values import big_decimal_str, date_millis, date_text, java_class_name
from ..errors import ConfigError
from .base import (
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_DOC,
    NullPassingTransform,
    SchemaCache,
    field_value,
    fields_of,
    require_map,
    require_struct,
    struct_schema,
    variants,
)

_INPUT = (
    Type.INT8,
    Type.INT16,
    Type.INT32,
    Type.INT64,
    Type.FLOAT32,
    Type.FLOAT64,
    Type.BOOLEAN,
    Type.STRING,
    Type.BYTES,
)
_OUTPUT = _INPUT[:-1]
_WHOLE = None  # the key of a whole-value cast in the spec map, as Kafka's WHOLE_VALUE_CAST


def _type_list(types: tuple[Type, ...]) -> str:
    return "[" + ", ".join(t.name for t in types) + "]"


def _parse_type(text: str) -> Type:
    name = text.strip().upper()
    if name not in Type.__members__:  # Kafka's ConfigException(name, value) with Type.valueOf's exception as value
        raise ConfigError(
            message="Invalid value java.lang.IllegalArgumentException: No enum constant "
            f"org.apache.kafka.connect.data.Schema.Type.{name} for configuration Invalid type found in casting spec: "
            f"{text.strip()}"
        )
    t = Type[name]
    if t not in _OUTPUT:
        raise ConfigError(
            message=f"Cast transformation does not support casting to {t.name}; supported types are "
            f"{_type_list(_OUTPUT)}"
        )
    return t


def parse_spec(mappings: list[str]) -> dict[str | None, Type]:
    casts: dict[str | None, Type] = {}
    whole = False
    for mapping in mappings:
        parts = mapping.split(":")
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        if len(parts) > 2:
            raise ConfigError("renames", "[" + ", ".join(mappings) + "]", f"Invalid rename mapping: {mapping}")
        if len(parts) == 1:
            casts[_WHOLE] = _parse_type(parts[0])
            whole = True
        else:
            casts[parts[0].strip()] = _parse_type(parts[1])
    if whole and len(mappings) > 1:
        raise ConfigError(
            message="Cast transformations that specify a type to cast the entire value to may only "
            "specify a single cast in their spec"
        )
    return casts


class _SpecValidator:
    null_message = "Must specify at least one field to cast."

    def __call__(self, name: str, value: Any) -> None:
        if not value:
            raise ConfigError(message="Must specify at least one field to cast.")
        parse_spec(value)

    def __str__(self) -> str:
        return "list of colon-delimited pairs, e.g. <code>foo:bar,abc:xyz</code>"


def _wrap(n: int, bits: int) -> int:
    n &= (1 << bits) - 1
    return n - (1 << bits) if n >= 1 << (bits - 1) else n


def _float_to_long(x: float) -> int:
    """Java's (long) of a double: truncation, saturating, NaN -> 0."""
    if math.isnan(x):
        return 0
    if math.isinf(x):
        return 2**63 - 1 if x > 0 else -(2**63)
    return max(-(2**63), min(2**63 - 1, int(x)))


def _float_to_int(x: float) -> int:
    if math.isnan(x):
        return 0
    if math.isinf(x):
        return 2**31 - 1 if x > 0 else -(2**31)
    return max(-(2**31), min(2**31 - 1, int(x)))


_BITS = {Type.INT8: 8, Type.INT16: 16, Type.INT32: 32, Type.INT64: 64}
_RANGE_NAMES = {Type.INT8: "Byte", Type.INT16: "Short", Type.INT32: "Integer", Type.INT64: "Long"}


def _to_integer(value: Any, target: Type) -> int:
    bits = _BITS[target]
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return _wrap(value, bits)
    if isinstance(value, float):
        # Number.byteValue/shortValue of a Double narrow through (int); longValue through (long)
        return _float_to_long(value) if bits == 64 else _wrap(_float_to_int(value), bits)
    if isinstance(value, decimal.Decimal):
        return _wrap(int(value), bits)  # BigDecimal.xValue: the integer part's low bits
    if isinstance(value, str):
        text = value
        try:
            if not text or text != text.strip() or "_" in text:
                raise ValueError
            n = int(text, 10)
        except ValueError:
            raise _out_of_range(value) from None
        if not -(1 << (bits - 1)) <= n < 1 << (bits - 1):
            raise _out_of_range(value)
        return n
    raise DataError(f"Unexpected type in Cast transformation: class {java_class_name(value)}")


def _out_of_range(value: Any) -> DataError:
    return DataError(f"Value ({value}) was out of range for requested data type")


def _to_float(value: Any, target: Type) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float, decimal.Decimal)):
        x = float(value)
    elif isinstance(value, str):
        try:
            x = float(value.strip().rstrip("dDfF")) if value.strip() else float("x")
        except ValueError:
            raise _out_of_range(value) from None
    else:
        raise DataError(f"Unexpected type in Cast transformation: class {java_class_name(value)}")
    if target == Type.FLOAT32:
        try:
            return to_float32(x)
        except OverflowError:
            return math.copysign(math.inf, x)
    return x


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, decimal.Decimal)):
        return _float_to_long(value) != 0 if isinstance(value, float) else int(value) != 0
    if isinstance(value, str):
        return value.lower() == "true"
    raise DataError(f"Unexpected type in Cast transformation: class {java_class_name(value)}")


def _to_string(value: Any, schema: Schema | None) -> str:
    if isinstance(value, (dt.date, dt.time)):
        return date_text(value)  # Values.dateFormatFor
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_float(value) if schema is not None and schema.type == Type.FLOAT32 else java_double(value)
    if isinstance(value, decimal.Decimal):
        return big_decimal_str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise DataError(f"Unexpected type in Cast transformation: class {java_class_name(value)}")


def _infer_type(value: Any) -> Type | None:
    """ConnectSchema.schemaType of the Java class the value stands for."""
    if isinstance(value, bool):
        return Type.BOOLEAN
    if isinstance(value, int):
        return Type.INT64
    if isinstance(value, float):
        return Type.FLOAT64
    if isinstance(value, str):
        return Type.STRING
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Type.BYTES
    if isinstance(value, (list, tuple)):
        return Type.ARRAY
    if isinstance(value, dict):
        return Type.MAP
    return None


def cast_value(schema: Schema | None, value: Any, target: Type) -> Any:
    if value is None:
        return None
    inferred = _infer_type(value) if schema is None else schema.type
    if inferred is None:
        raise DataError(
            f"Cast transformation was passed a value of type class {java_class_name(value)} which is not "
            f"supported by Connect's data API"
        )
    if inferred not in _INPUT:
        raise DataError(
            f"Cast transformation does not support casting from {inferred.name}; supported types are "
            f"{_type_list(_INPUT)}"
        )
    if (
        schema is not None
        and schema.name is not None
        and target != Type.STRING
        and schema.name in (DATE, TIME, TIMESTAMP)
    ):
        value = date_millis(value) // (86_400_000 if schema.name == DATE else 1)
    if target in _BITS:
        return _to_integer(value, target)
    if target in (Type.FLOAT32, Type.FLOAT64):
        return _to_float(value, target)
    if target == Type.BOOLEAN:
        return _to_boolean(value)
    return _to_string(value, schema)


class Cast(NullPassingTransform):
    """Cast fields or the entire key or value to a specific type."""

    config_def = (
        ConfigDef()
        .define(
            "spec",
            T.LIST,
            NO_DEFAULT,
            _SpecValidator(),
            I.HIGH,
            "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or "
            "Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, "
            "float64, boolean, and string. Note that binary fields can only be cast to string.",
        )
        .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, T.BOOLEAN, True, None, I.MEDIUM, REPLACE_NULL_WITH_DEFAULT_DOC)
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        self.casts = parse_spec(c["spec"])
        self.whole = self.casts.get(_WHOLE)
        self.with_default = c[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        self.cache = SchemaCache()

    def apply_schemaless(self, record: Any, value: Any) -> Any:
        if self.whole is not None:
            return self.new_record(record, None, cast_value(None, value, self.whole))
        value = require_map(value, "cast types")
        casts = {name: cast_value(None, value.get(name), target) for name, target in self.casts.items()}
        return self.new_record(record, None, java_hash_map_copy(value, casts))

    def apply_with_schema(self, record: Any, schema: Schema, value: Any) -> Any:
        updated_schema = self.cache.get(schema) or self.cache.put(schema, self._schema(schema))
        if self.whole is not None:
            return self.new_record(record, updated_schema, cast_value(schema, value, self.whole))
        struct = require_struct(value, "cast types", schema)
        values = []
        for f in struct.schema.fields:
            v = field_value(struct, f, self.with_default)
            target = self.casts.get(f.name)
            values.append(cast_value(f.schema, v, target) if target is not None else v)
        return self.new_record(record, updated_schema, Struct(updated_schema, values))

    def _schema(self, schema: Schema) -> Schema:
        if self.whole is not None:
            base = Schema(
                self.whole, name=schema.name, version=schema.version, doc=schema.doc, parameters=schema.parameters
            )
        else:
            fields = []
            for f in fields_of(schema):
                target = self.casts.get(f.name)
                if target is None:
                    fields.append((f.name, f.schema))
                    continue
                default = None if f.schema.default is None else cast_value(f.schema, f.schema.default, target)
                fields.append((f.name, Schema(target, optional=f.schema.optional, default=default)))
            base = struct_schema(fields, schema)
        default = None if schema.default is None else cast_value(schema, schema.default, base.type)
        return base.with_(optional=schema.optional, default=default)


CastKey, CastValue = variants(Cast)
