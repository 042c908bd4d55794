"""Connect schemas <-> Avro schemas as Confluent's AvroData maps them (io.confluent.connect.avro.AvroData, read as the
specification): connect.name / connect.version / connect.doc / connect.default / connect.parameters / connect.type
annotations, optional schemas as unions with null, Decimal / Date / Time / Timestamp as Avro logical types, maps
with non-string keys as arrays of MapEntry records, unnamed structs as io.confluent.connect.avro.ConnectDefault<n>.

Avro schemas here are the JSON objects of the Avro spec (dicts, lists, strings); read schemas are first parsed by
fastavro, so names are full names and `named` maps each full name to its definition."""

from __future__ import annotations

import base64
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from ..data.schema import (
    DATE,
    DECIMAL,
    SCALE_FIELD,
    TIME,
    TIMESTAMP,
    DataError,
    Field,
    Schema,
    Struct,
    Type,
    date_to_days,
    days_to_date,
    decimal_from_bytes,
    decimal_scale,
    decimal_to_bytes,
    millis_to_time,
    millis_to_timestamp,
    time_to_millis,
    timestamp_to_millis,
)

NAMESPACE = "io.confluent.connect.avro"
DEFAULT_SCHEMA_NAME = "ConnectDefault"
DEFAULT_SCHEMA_FULL_NAME = f"{NAMESPACE}.{DEFAULT_SCHEMA_NAME}"
MAP_ENTRY = "MapEntry"
UNION = f"{NAMESPACE}.Union"
ENUM = f"{NAMESPACE}.Enum"
PRECISION = "connect.decimal.precision"
FIXED_SIZE = "connect.fixed.size"
DEFAULT_PRECISION = 64
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
_SIMPLE = {
    Type.INT32: "int",
    Type.INT64: "long",
    Type.FLOAT32: "float",
    Type.FLOAT64: "double",
    Type.BOOLEAN: "boolean",
    Type.STRING: "string",
    Type.BYTES: "bytes",
    Type.INT8: "int",
    Type.INT16: "int",
}
_LOGICAL = {DATE: "date", TIME: "time-millis", TIMESTAMP: "timestamp-millis"}
_LOGICAL_NAMES = (DECIMAL, DATE, TIME, TIMESTAMP)
_VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class AvroDataConfig:
    __slots__ = ("connect_meta_data", "enhanced", "scrub_invalid_names")

    def __init__(self, connect_meta_data: bool = True, enhanced: bool = False, scrub_invalid_names: bool = False):
        self.connect_meta_data = connect_meta_data
        self.enhanced = enhanced
        self.scrub_invalid_names = scrub_invalid_names


def scrub_name(name: str) -> str:
    """AvroData.doScrubName: URL-encode, then anything but [A-Za-z0-9_] becomes '_' (and a leading digit gets 'x')."""
    if not name or (_VALID_NAME.fullmatch(name)):
        return name
    encoded = urllib.parse.quote_plus(name)
    if encoded[0].isdigit():
        encoded = "x" + encoded
    return re.sub(r"[^A-Za-z0-9_]", "_", encoded)


# -- Connect -> Avro --------------------------------------------------------------------------------------------
class _FromContext:
    def __init__(self) -> None:
        self.name_index = 0
        self.defined: set[str] = set()


def from_connect_schema(schema: Schema, config: AvroDataConfig | None = None) -> Any:
    """The Avro schema (JSON) AvroData.fromConnectSchema makes of a Connect schema."""
    return _from(schema, config or AvroDataConfig(), _FromContext(), False)


def _split(name: str, scrub: bool) -> tuple[str | None, str]:
    namespace, _, short = name.rpartition(".")
    if scrub:
        short = scrub_name(short)
        namespace = ".".join(scrub_name(p) for p in namespace.split(".")) if namespace else namespace
    return namespace or None, short


def _named(ctx: _FromContext, name: str | None, scrub: bool) -> tuple[str | None, str]:
    if name is not None:
        return _split(name, scrub)
    ctx.name_index += 1
    return NAMESPACE, DEFAULT_SCHEMA_NAME + (str(ctx.name_index) if ctx.name_index > 1 else "")


def _full(namespace: str | None, name: str) -> str:
    return f"{namespace}.{name}" if namespace else name


def _from(schema: Schema, cfg: AvroDataConfig, ctx: _FromContext, ignore_optional: bool) -> Any:
    t = schema.type
    props: dict[str, Any] = {}
    base: Any
    if t is Type.STRUCT and schema.name == UNION:  # AvroData.isUnionSchema: back to an Avro union
        members: list[Any] = ["null"] if schema.optional else []
        members += [_from(f.schema.with_(optional=False), cfg, ctx, True) for f in schema.fields]
        return members
    if t is Type.STRUCT:
        namespace, name = _named(ctx, schema.name, cfg.scrub_invalid_names)
        full = _full(namespace, name)
        if full in ctx.defined:
            base = full  # Avro names a type once; later uses refer to it by name
        else:
            ctx.defined.add(full)
            fields = [_field(f, cfg, ctx) for f in schema.fields]
            base = {"type": "record", "name": name}
            if namespace:
                base["namespace"] = namespace
            base["fields"] = fields
    elif t is Type.ARRAY:
        base = {"type": "array", "items": _from(schema.value_schema, cfg, ctx, False)}  # type: ignore[arg-type]
    elif t is Type.MAP:
        ks, vs = schema.key_schema, schema.value_schema
        assert ks is not None and vs is not None
        if ks.type is Type.STRING and not ks.optional:
            base = {"type": "map", "values": _from(vs, cfg, ctx, False)}
        else:
            if schema.name is None:
                namespace, name = NAMESPACE, MAP_ENTRY
            else:
                namespace, name = _named(ctx, schema.name, cfg.scrub_invalid_names)
            full = _full(namespace, name)
            if full in ctx.defined:
                entry: Any = full
            else:
                ctx.defined.add(full)
                entry = {"type": "record", "name": name, "namespace": namespace}
                if schema.name is not None:
                    entry["connect.internal.type"] = MAP_ENTRY
                entry["fields"] = [_entry_field("key", ks, cfg, ctx), _entry_field("value", vs, cfg, ctx)]
            base = {"type": "array", "items": entry}
    elif t is Type.STRING and cfg.enhanced and schema.parameters and ENUM in schema.parameters:
        params = schema.parameters
        symbols = [k[len(ENUM) + 1 :] for k in params if k.startswith(ENUM + ".")]
        namespace, name = _split(params[ENUM], False)
        base = {"type": "enum", "name": name, "symbols": symbols}
        if namespace:
            base["namespace"] = namespace
    elif t is Type.BYTES and schema.parameters and FIXED_SIZE in schema.parameters:
        namespace, name = _named(ctx, schema.name if schema.name != DECIMAL else None, cfg.scrub_invalid_names)
        base = {"type": "fixed", "name": name}
        if namespace:
            base["namespace"] = namespace
        base["size"] = int(schema.parameters[FIXED_SIZE])
        if schema.name == DECIMAL:
            base["scale"] = decimal_scale(schema)
            base["precision"] = int((schema.parameters or {}).get(PRECISION, DEFAULT_PRECISION))
    else:
        base = {"type": _SIMPLE[t]}
        if schema.name == DECIMAL:
            base["scale"] = decimal_scale(schema)
            base["precision"] = int((schema.parameters or {}).get(PRECISION, DEFAULT_PRECISION))
    if isinstance(base, dict):  # a named reference cannot carry properties: its definition has them
        if cfg.connect_meta_data:
            if schema.doc is not None:
                props["connect.doc"] = schema.doc
            if schema.version is not None:
                props["connect.version"] = schema.version
            if schema.parameters:
                props["connect.parameters"] = dict(schema.parameters)
            if schema.default is not None:
                props["connect.default"] = default_to_json(schema, schema.default)
            if schema.name is not None:
                props["connect.name"] = schema.name
            if t is Type.INT8:
                props["connect.type"] = "int8"
            elif t is Type.INT16:
                props["connect.type"] = "int16"
        logical = _LOGICAL.get(schema.name or "")
        if logical is not None:
            props["logicalType"] = logical
        elif schema.name == DECIMAL:
            props["logicalType"] = "decimal"
        base.update(props)
    if isinstance(base, dict) and len(base) == 1:
        base = base["type"]  # "int" rather than {"type": "int"}
    if schema.optional and not ignore_optional:
        return [base, "null"] if schema.default is not None else ["null", base]
    return base


def _field(f: Field, cfg: AvroDataConfig, ctx: _FromContext) -> dict[str, Any]:
    name = scrub_name(f.name) if cfg.scrub_invalid_names else f.name
    out: dict[str, Any] = {"name": name, "type": _from(f.schema, cfg, ctx, False)}
    if f.schema.default is not None:
        out["default"] = default_to_json(f.schema, f.schema.default)
    elif f.schema.optional:
        out["default"] = None
    return out


def _entry_field(name: str, schema: Schema, cfg: AvroDataConfig, ctx: _FromContext) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "type": _from(schema, cfg, ctx, False)}
    if schema.default is not None:
        out["default"] = default_to_json(schema, schema.default)
    elif schema.optional:
        out["default"] = None
    return out


def default_to_json(schema: Schema, value: Any) -> Any:
    """AvroData.defaultValueFromConnect: a Connect default as the JSON of an Avro default (bytes as ISO-8859-1)."""
    if value is None:
        return None
    name = schema.name
    if name == DECIMAL:
        return decimal_to_bytes(value, decimal_scale(schema)).decode("latin-1")
    if name == DATE:
        return date_to_days(value)
    if name == TIME:
        return time_to_millis(value)
    if name == TIMESTAMP:
        return timestamp_to_millis(value)
    t = schema.type
    if t is Type.BYTES:
        return bytes(value).decode("latin-1")
    if t is Type.ARRAY:
        return [default_to_json(schema.value_schema, v) for v in value]  # type: ignore[arg-type]
    if t is Type.MAP:
        ks, vs = schema.key_schema, schema.value_schema
        if ks.type is Type.STRING and not ks.optional:  # type: ignore[union-attr]
            return {k: default_to_json(vs, v) for k, v in value.items()}  # type: ignore[arg-type]
        return [{"key": default_to_json(ks, k), "value": default_to_json(vs, v)} for k, v in value.items()]  # type: ignore[arg-type]
    if t is Type.STRUCT:
        return {f.name: default_to_json(f.schema, value.values[f.index]) for f in schema.fields}
    if t in (Type.FLOAT32, Type.FLOAT64):
        return float(value)
    return value


# -- Avro -> Connect --------------------------------------------------------------------------------------------
def avro_type(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, dict):
        t = schema["type"]
        return avro_type(t) if not isinstance(t, str) else t
    return schema


def resolve(schema: Any, named: Mapping[str, Any]) -> Any:
    """A named reference replaced by its definition; a {"type": X} wrapper of a union or reference unwrapped."""
    while True:
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                return schema
            return named[schema]
        if isinstance(schema, dict) and not isinstance(schema["type"], str):
            schema = schema["type"]
            continue
        if (
            isinstance(schema, dict)
            and schema["type"] not in PRIMITIVES
            and schema["type"]
            not in (
                "record",
                "enum",
                "fixed",
                "array",
                "map",
                "error",
            )
        ):
            schema = schema["type"]
            continue
        return schema


def _prop(schema: Any, key: str) -> Any:
    return schema.get(key) if isinstance(schema, dict) else None


def is_map_entry(items: Any) -> bool:
    if not isinstance(items, dict) or items.get("type") != "record":
        return False
    return items.get("name") == f"{NAMESPACE}.{MAP_ENTRY}" or items.get("connect.internal.type") == MAP_ENTRY


def union_member_name(member: Any, index: int, enhanced: bool) -> str:
    """AvroData.unionMemberFieldName."""
    t = avro_type(member)
    if t in ("record", "enum", "fixed"):
        name = member["name"]
        return name if enhanced else name.rsplit(".", 1)[-1]
    return t


def to_connect_schema(
    schema: Any, named: Mapping[str, Any], config: AvroDataConfig | None = None, version: int | None = None
) -> Schema:
    """AvroData.toConnectSchema; `version` (the registry's) is the schema's version unless connect.version says."""
    return _to(schema, named, config or AvroDataConfig(), False, None, version, set())


def _to(
    schema: Any,
    named: Mapping[str, Any],
    cfg: AvroDataConfig,
    optional: bool,
    field_default: Any,
    version: int | None,
    stack: set[str],
) -> Schema:
    schema = resolve(schema, named)
    t = avro_type(schema)
    logical = _prop(schema, "logicalType")
    connect_type = _prop(schema, "connect.type")
    name: str | None = None
    params: dict[str, str] = {}
    fields: list[Field] = []
    key = value = None
    if t == "boolean":
        ctype = Type.BOOLEAN
    elif t in ("bytes", "fixed"):
        ctype = Type.BYTES
        if logical == "decimal":
            name = DECIMAL
            params[SCALE_FIELD] = str(int(schema.get("scale", 0)))
            precision = schema.get("precision")
            if precision is not None and int(precision) != DEFAULT_PRECISION:
                params[PRECISION] = str(int(precision))
        if t == "fixed":
            params[FIXED_SIZE] = str(schema["size"])
    elif t == "double":
        ctype = Type.FLOAT64
    elif t == "float":
        ctype = Type.FLOAT32
    elif t == "int":
        ctype = Type.INT32
        if logical == "date":
            name = DATE
        elif logical == "time-millis":
            name = TIME
        elif connect_type == "int8":
            ctype = Type.INT8
        elif connect_type == "int16":
            ctype = Type.INT16
    elif t == "long":
        ctype = Type.INT64
        if logical == "timestamp-millis":
            name = TIMESTAMP
    elif t == "string":
        ctype = Type.STRING
    elif t == "enum":
        ctype = Type.STRING
        if cfg.connect_meta_data and schema.get("doc") is not None:
            params[f"{NAMESPACE}.enum.doc.{schema['name'].rsplit('.', 1)[-1]}"] = schema["doc"]
        params[ENUM] = schema["name"]
        for s in schema["symbols"]:
            params[f"{ENUM}.{s}"] = s
    elif t == "array":
        items = resolve(schema["items"], named)
        if is_map_entry(items):
            fs = {f["name"]: f for f in items["fields"]}
            if set(fs) != {"key", "value"}:
                raise DataError(
                    "Found map encoded as array of key-value pairs, but array elements do not match the "
                    "expected format."
                )
            ctype = Type.MAP
            key = _to(fs["key"]["type"], named, cfg, False, None, None, stack)
            value = _to(fs["value"]["type"], named, cfg, False, None, None, stack)
        else:
            ctype = Type.ARRAY
            value = _to(items, named, cfg, False, None, None, stack)
    elif t == "map":
        ctype = Type.MAP
        key = Schema(Type.STRING)
        value = _to(schema["values"], named, cfg, False, None, None, stack)
    elif t in ("record", "error"):
        ctype = Type.STRUCT
        full = schema["name"]
        if full in stack:
            raise DataError(f"Recursive Avro schema {full} cannot be converted to a Connect schema")
        stack = stack | {full}
        for i, f in enumerate(schema["fields"]):
            field_schema = _to(f["type"], named, cfg, False, f.get("default", _NO_DEFAULT), None, stack)
            fields.append(Field(f["name"], i, field_schema))
    elif t == "union":
        members = schema if isinstance(schema, list) else schema["type"]
        if len(members) == 2 and "null" in members:
            other = members[1] if members[0] == "null" else members[0]
            inner_default = field_default
            if field_default is None or (members[0] == "null" and field_default is not _NO_DEFAULT):
                inner_default = _NO_DEFAULT  # a null default (the first branch) is no default
            return _to(other, named, cfg, True, inner_default, version, stack)
        ctype = Type.STRUCT
        name = UNION
        seen: set[str] = set()
        for i, m in enumerate(members):
            if m == "null":
                optional = True
                continue
            fname = union_member_name(resolve(m, named), i, cfg.enhanced)
            if fname in seen:
                raise DataError("Multiple union schemas map to the Connect union field name")
            seen.add(fname)
            fields.append(Field(fname, len(fields), _to(m, named, cfg, True, _NO_DEFAULT, None, stack)))
    elif t == "null":
        raise DataError("Standalone null schemas are not supported by this converter")
    else:
        raise DataError(f"Couldn't translate unsupported schema type {t}.")

    doc = None
    if isinstance(schema, dict):
        if cfg.connect_meta_data:
            doc = schema.get("connect.doc")
        v = schema.get("connect.version")
        if v is not None:
            if not isinstance(v, int):
                raise DataError(f"Invalid Connect version found: {v}")
            version = v
        p = schema.get("connect.parameters")
        if cfg.connect_meta_data and p is not None:
            if not isinstance(p, dict):
                raise DataError(f"Expected JSON object for schema parameters but found: {p}")
            for k, pv in p.items():
                if not isinstance(pv, str):
                    raise DataError(f"Expected schema parameter values to be strings but found: {pv}")
                params[k] = pv
        cname = schema.get("connect.name")
        if cname is not None:
            name = cname
        elif t in ("record", "error", "enum") or (t == "fixed" and name != DECIMAL):
            name = schema["name"]
    if name is not None and name.startswith(DEFAULT_SCHEMA_FULL_NAME):
        name = None
    if version is None and name in _LOGICAL_NAMES:
        version = 1  # Decimal.builder(), Date.builder() ... give version 1
    out = Schema(
        ctype,
        optional=optional,
        name=name,
        version=version,
        doc=doc,
        parameters=params or None,
        fields=fields,
        key_schema=key,
        value_schema=value,
    )
    default = field_default
    if default is _NO_DEFAULT or default is None:
        default = _prop(schema, "connect.default")
    if default is not None and default is not _NO_DEFAULT:
        try:
            out = out.with_(default=default_from_json(out, default))
        except (DataError, ValueError, TypeError, KeyError, AttributeError):
            pass  # AvroData logs and ignores an invalid default
    return out


class _NoDefault:
    def __repr__(self) -> str:
        return "<no default>"


_NO_DEFAULT: Any = _NoDefault()


def default_from_json(schema: Schema, value: Any) -> Any:
    """An Avro default (JSON) as the Connect value of the schema."""
    if value is None:
        return None
    name = schema.name
    if name == DECIMAL:
        raw = value.encode("latin-1") if isinstance(value, str) else value
        return decimal_from_bytes(raw, decimal_scale(schema))
    if name == DATE:
        return days_to_date(value)
    if name == TIME:
        return millis_to_time(value)
    if name == TIMESTAMP:
        return millis_to_timestamp(value)
    t = schema.type
    if t is Type.BYTES:
        return value.encode("latin-1") if isinstance(value, str) else base64.b64decode(value)
    if t in (Type.FLOAT32, Type.FLOAT64):
        return float(value)
    if t in (Type.INT8, Type.INT16, Type.INT32, Type.INT64):
        if isinstance(value, bool) or not isinstance(value, int):
            raise DataError(f"Invalid default {value!r} for {t.value}")
        return value
    if t is Type.BOOLEAN:
        if not isinstance(value, bool):
            raise DataError(f"Invalid default {value!r} for boolean")
        return value
    if t is Type.STRING:
        return str(value)
    if t is Type.ARRAY:
        return [default_from_json(schema.value_schema, v) for v in value]  # type: ignore[arg-type]
    if t is Type.MAP:
        if isinstance(value, list):
            return {
                default_from_json(schema.key_schema, e["key"]): default_from_json(schema.value_schema, e["value"])  # type: ignore[arg-type]
                for e in value
            }
        return {k: default_from_json(schema.value_schema, v) for k, v in value.items()}  # type: ignore[arg-type]
    if t is Type.STRUCT:
        if name == UNION:
            raise DataError("Union defaults are not supported")
        return Struct(schema, [default_from_json(f.schema, value.get(f.name)) for f in schema.fields])
    return value
