"""Connect Schema <-> the JSON schema object of a JsonConverter envelope (Kafka's asJsonSchema/asConnectSchema)."""

from __future__ import annotations

from typing import Any

from ...data.schema import DataError, Field, Schema, Type
from .decoders import Decoders
from .encoders import Encoders

# Connect type <-> the type names in the JSON schema (float32/float64 are "float"/"double" there).
_JSON_TYPE_NAME = {
    Type.INT8: "int8",
    Type.INT16: "int16",
    Type.INT32: "int32",
    Type.INT64: "int64",
    Type.FLOAT32: "float",
    Type.FLOAT64: "double",
    Type.BOOLEAN: "boolean",
    Type.STRING: "string",
    Type.BYTES: "bytes",
    Type.ARRAY: "array",
    Type.MAP: "map",
    Type.STRUCT: "struct",
}
_TYPE_BY_JSON_NAME = {v: k for k, v in _JSON_TYPE_NAME.items()}


def schema_to_json(schema: Schema, encoders: Encoders) -> dict[str, Any]:
    """The JSON schema object with Kafka's key order: type, items|keys,values|fields, optional, name, version, doc,
    parameters, default. Struct field entries are the field's schema followed by "field"."""
    t = schema.type
    out: dict[str, Any] = {"type": _JSON_TYPE_NAME[t]}
    if t is Type.ARRAY:
        out["items"] = schema_to_json(schema.value_schema, encoders) if schema.value_schema is not None else None
    elif t is Type.MAP:
        out["keys"] = schema_to_json(schema.key_schema, encoders) if schema.key_schema is not None else None
        out["values"] = schema_to_json(schema.value_schema, encoders) if schema.value_schema is not None else None
    elif t is Type.STRUCT:
        fields = []
        for f in schema.fields:
            fj = schema_to_json(f.schema, encoders)
            fj["field"] = f.name
            fields.append(fj)
        out["fields"] = fields
    out["optional"] = bool(schema.optional)
    if schema.name is not None:
        out["name"] = schema.name
    if schema.version is not None:
        out["version"] = schema.version
    if schema.doc is not None:
        out["doc"] = schema.doc
    if schema.parameters is not None:
        out["parameters"] = dict(schema.parameters)
    if schema.default is not None:
        out["default"] = encoders.get(schema)(schema.default)
    return out


def json_to_schema(js: Any, replace_null_with_default: bool = True) -> Schema | None:
    """Kafka's asConnectSchema: a parsed JSON schema object -> Schema (None for JSON null)."""
    if js is None:
        return None
    t = js.get("type") if isinstance(js, dict) else None
    if not isinstance(t, str):
        raise DataError("Schema must contain 'type' field")
    stype = _TYPE_BY_JSON_NAME.get(t)
    if stype is None:
        raise DataError(f"Unknown schema type: {t}")
    kw: dict[str, Any] = {}
    if stype is Type.ARRAY:
        items = js.get("items")
        if items is None:
            raise DataError("Array schema did not specify the element type")
        kw["value_schema"] = json_to_schema(items, replace_null_with_default)
    elif stype is Type.MAP:
        if "keys" not in js:
            raise DataError("Map schema did not specify the key type")
        if "values" not in js:
            raise DataError("Map schema did not specify the value type")
        kw["key_schema"] = json_to_schema(js["keys"], replace_null_with_default)
        kw["value_schema"] = json_to_schema(js["values"], replace_null_with_default)
    elif stype is Type.STRUCT:
        fields_js = js.get("fields")
        if not isinstance(fields_js, list):
            raise DataError('Struct schema\'s "fields" argument is not an array.')
        fields: list[Field] = []
        seen: set[str] = set()
        for fj in fields_js:
            fname = fj.get("field") if isinstance(fj, dict) else None
            if not isinstance(fname, str):
                raise DataError("Struct schema's field name not specified properly")
            if fname in seen:
                raise DataError(f"Cannot create field because of field name duplication {fname}")
            seen.add(fname)
            field_schema = json_to_schema(fj, replace_null_with_default)
            fields.append(Field(fname, len(fields), field_schema))  # type: ignore[arg-type]
        kw["fields"] = fields
    optional = js.get("optional")
    kw["optional"] = optional is True
    name = js.get("name")
    if isinstance(name, str):
        kw["name"] = name
    version = js.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        kw["version"] = version
    doc = js.get("doc")
    if isinstance(doc, str):
        kw["doc"] = doc
    params = js.get("parameters")
    if isinstance(params, dict):
        for v in params.values():
            if not isinstance(v, str):
                raise DataError("Schema parameters must have string values.")
        kw["parameters"] = params
    schema = Schema(stype, **kw)
    if "default" in js:
        default = Decoders(replace_null_with_default).get(schema)(js["default"])
        if default is not None:
            schema = schema.with_(default=default)
    return schema
