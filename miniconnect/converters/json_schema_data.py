"""Connect schemas <-> JSON Schema documents as Confluent's JsonSchemaData maps them (read as the specification):
numbers carry `connect.type` (int8 ... float64, bytes for NUMERIC decimals), byte strings `"connect.type": "bytes"`,
optional schemas are `oneOf` null and the schema, struct fields carry `connect.index`, names go to `title`, docs to
`description`, Connect versions and parameters to `connect.version` / `connect.parameters`, maps with string keys
are objects with `additionalProperties` and other maps arrays of {key, value} objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..data.schema import DECIMAL, DataError, Field, Schema, Type

NAMESPACE = "io.confluent.connect.json"
ONE_OF = f"{NAMESPACE}.OneOf"
_NUMBER_TYPES = {
    Type.INT8: ("integer", "int8"),
    Type.INT16: ("integer", "int16"),
    Type.INT32: ("integer", "int32"),
    Type.INT64: ("integer", "int64"),
    Type.FLOAT32: ("number", "float32"),
    Type.FLOAT64: ("number", "float64"),
}
_FROM_CONNECT_TYPE = {
    "int8": Type.INT8,
    "int16": Type.INT16,
    "int32": Type.INT32,
    "int64": Type.INT64,
    "float32": Type.FLOAT32,
    "float64": Type.FLOAT64,
    "bytes": Type.BYTES,
}


def from_connect_schema(
    schema: Schema, numeric_decimals: bool = False, additional_properties: bool = True, index: int | None = None
) -> dict[str, Any]:
    """JsonSchemaData.fromConnectSchema (rawSchemaFromConnectSchema) for one schema."""
    out: dict[str, Any]
    t = schema.type
    if t in _NUMBER_TYPES:
        json_type, connect_type = _NUMBER_TYPES[t]
        out = {"type": json_type, "connect.type": connect_type}
    elif t is Type.BOOLEAN:
        out = {"type": "boolean"}
    elif t is Type.STRING:
        out = {"type": "string"}
    elif t is Type.BYTES:
        numeric = schema.name == DECIMAL and numeric_decimals
        out = {"type": "number" if numeric else "string", "connect.type": "bytes"}
    elif t is Type.ARRAY:
        assert schema.value_schema is not None
        out = {
            "type": "array",
            "items": from_connect_schema(schema.value_schema, numeric_decimals, additional_properties),
        }
    elif t is Type.MAP:
        ks, vs = schema.key_schema, schema.value_schema
        assert ks is not None and vs is not None
        if ks.type is Type.STRING and not ks.optional:
            out = {
                "type": "object",
                "additionalProperties": from_connect_schema(vs, numeric_decimals, additional_properties),
                "connect.type": "map",
            }
        else:
            entry = {
                "type": "object",
                "properties": {
                    "key": from_connect_schema(ks, numeric_decimals, additional_properties, 0),
                    "value": from_connect_schema(vs, numeric_decimals, additional_properties, 1),
                },
            }
            out = {"type": "array", "items": entry, "connect.type": "map"}
    elif t is Type.STRUCT:
        if schema.name == ONE_OF:
            members = [{"type": "null"}] if schema.optional else []
            members += [
                from_connect_schema(f.schema.with_(optional=False), numeric_decimals, additional_properties, f.index)
                for f in schema.fields
            ]
            return {"oneOf": members}
        out = {
            "type": "object",
            "properties": {
                f.name: from_connect_schema(f.schema, numeric_decimals, additional_properties, f.index)
                for f in schema.fields
            },
        }
        if not additional_properties:
            out["additionalProperties"] = False
    else:
        raise DataError(f"Unsupported type {t}")
    if schema.name is not None:
        out["title"] = schema.name
    if schema.version is not None:
        out["connect.version"] = schema.version
    if schema.doc is not None:
        out["description"] = schema.doc
    params = {k: v for k, v in (schema.parameters or {}).items() if not k.startswith(NAMESPACE)}
    if params:
        out["connect.parameters"] = params
    if schema.default is not None:
        from .json_schema_values import default_to_json

        out["default"] = default_to_json(schema, schema.default, numeric_decimals)
    if schema.optional:
        out = {"oneOf": [{"type": "null"}, out]}
    if index is not None:
        out["connect.index"] = index
    return out


def to_connect_schema(
    schema: Any, version: int | None = None, optional: bool = False, definitions: Mapping[str, Any] | None = None
) -> Schema:
    """JsonSchemaData.toConnectSchema for a JSON Schema document (`$ref`s into its own definitions resolved)."""
    if definitions is None:
        definitions = schema if isinstance(schema, dict) else {}
    if schema is True or schema == {}:
        raise DataError("JSON schemas that accept anything have no Connect schema")
    if not isinstance(schema, dict):
        raise DataError(f"Unsupported JSON schema {schema!r}")
    ref = schema.get("$ref")
    if ref is not None:
        return to_connect_schema(_resolve_ref(ref, definitions), version, optional, definitions)
    combined = schema.get("oneOf") or schema.get("anyOf")
    json_type = schema.get("type")
    if isinstance(json_type, list):  # {"type": ["null", "string"]}: a union of types
        combined = [{**schema, "type": t} for t in json_type]
    fields: list[Field] = []
    key = value = None
    name = schema.get("title")
    params: dict[str, str] = {}
    if combined is not None:
        members = [m for m in combined if m != {"type": "null"}]
        if len(combined) == 2 and len(members) == 1:
            return to_connect_schema(members[0], version, True, definitions)
        ctype = Type.STRUCT
        name = ONE_OF
        for i, m in enumerate(members):
            fields.append(Field(f"{ONE_OF}.field.{i}", i, to_connect_schema(m, None, True, definitions)))
        optional = optional or len(members) < len(combined)
    elif json_type in ("integer", "number"):
        connect_type = schema.get("connect.type")
        if connect_type is None:
            ctype = Type.INT64 if json_type == "integer" else Type.FLOAT64
        elif connect_type in _FROM_CONNECT_TYPE:
            ctype = _FROM_CONNECT_TYPE[connect_type]
        else:
            raise DataError(f"Unsupported type {connect_type}")
    elif json_type == "boolean":
        ctype = Type.BOOLEAN
    elif json_type == "string" or "enum" in schema or "const" in schema:
        ctype = Type.BYTES if schema.get("connect.type") == "bytes" else Type.STRING
    elif json_type == "array":
        items = schema.get("items")
        if items is None:
            raise DataError("Array schema did not specify the items type")
        if schema.get("connect.type") == "map" and isinstance(items, dict) and items.get("type") == "object":
            ctype = Type.MAP
            props = items.get("properties", {})
            key = to_connect_schema(props["key"], None, False, definitions)
            value = to_connect_schema(props["value"], None, False, definitions)
        else:
            ctype = Type.ARRAY
            value = to_connect_schema(items, None, False, definitions)
    elif json_type == "object" or "properties" in schema:
        if schema.get("connect.type") == "map":
            ctype = Type.MAP
            key = Schema(Type.STRING)
            value = to_connect_schema(schema.get("additionalProperties"), None, False, definitions)
        else:
            ctype = Type.STRUCT
            props = list((schema.get("properties") or {}).items())
            order = sorted(
                range(len(props)),
                key=lambda i: (
                    props[i][1].get("connect.index", i) if isinstance(props[i][1], dict) else i,
                    i,
                ),
            )
            for n, i in enumerate(order):
                fname, fschema = props[i]
                fields.append(Field(fname, n, to_connect_schema(fschema, None, False, definitions)))
    else:
        raise DataError(f"Unsupported JSON schema type {json_type!r}")
    version = schema.get("connect.version", version)
    p = schema.get("connect.parameters")
    if isinstance(p, dict):
        params.update({k: str(v) for k, v in p.items()})
    out = Schema(
        ctype,
        optional=optional,
        name=name,
        version=version,
        doc=schema.get("description"),
        parameters=params or None,
        fields=fields,
        key_schema=key,
        value_schema=value,
    )
    if "default" in schema and schema["default"] is not None:
        from .json_schema_values import default_from_json

        try:
            out = out.with_(default=default_from_json(out, schema["default"]))
        except (DataError, ValueError, TypeError, KeyError):
            pass  # JsonSchemaData ignores a default it cannot convert
    return out


def _resolve_ref(ref: str, root: Mapping[str, Any]) -> Any:
    if not ref.startswith("#/"):
        raise DataError(f"Only local $ref are supported, not {ref}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node
