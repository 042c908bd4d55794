"""JSON Schema documents in the registry: parsed (a JSON object or boolean), canonical text, and the compatibility
rules the registry checks between two of them (a subset of Confluent's JsonSchemaDiff: type changes with
integer -> number widening, properties a closed reader does not have, properties a reader requires that the writer
did not, union members, array items)."""

from __future__ import annotations

import json
from typing import Any

from .errors import InvalidSchema


def parse(text: str) -> tuple[Any, str]:
    """(document, canonical text)."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise InvalidSchema(f"Invalid schema {text}, details: {e}") from None
    if not isinstance(doc, dict | bool):
        raise InvalidSchema(f"Invalid schema {text}, details: a JSON schema is an object or a boolean")
    return doc, json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def incompatibilities(reader: Any, writer: Any) -> list[str]:
    """Why documents valid for `writer` may be refused by `reader`; [] when the rules here find nothing."""
    out: list[str] = []
    _check(reader, writer, "#", out)
    return out


def _types(schema: Any) -> set[str] | None:
    """The JSON types a schema allows (None: any)."""
    if schema is True or schema == {} or not isinstance(schema, dict):
        return None
    members = schema.get("oneOf") or schema.get("anyOf")
    if members is not None:
        found: set[str] = set()
        for m in members:
            t = _types(m)
            if t is None:
                return None
            found |= t
        return found
    t = schema.get("type")
    if t is None:
        return {"object"} if "properties" in schema else None
    return set(t) if isinstance(t, list) else {t}


def _branch(schema: Any, json_type: str) -> Any:
    members = schema.get("oneOf") or schema.get("anyOf") if isinstance(schema, dict) else None
    if members is None:
        return schema
    return next((m for m in members if json_type in (_types(m) or {json_type})), schema)


def _check(reader: Any, writer: Any, path: str, out: list[str]) -> None:
    rt, wt = _types(reader), _types(writer)
    if rt is not None:
        if wt is None:
            out.append(f"TYPE_NARROWED at '{path}': the new schema restricts a value the old one left open")
            return
        missing = {t for t in wt if t not in rt and not (t == "integer" and "number" in rt)}
        if missing:
            out.append(f"TYPE_CHANGED at '{path}': {sorted(missing)} no longer accepted")
            return
    for t in sorted(wt or ()):
        r, w = _branch(reader, t), _branch(writer, t)
        if t == "object" and isinstance(r, dict) and isinstance(w, dict):
            _objects(r, w, path, out)
        elif t == "array" and isinstance(r, dict) and isinstance(w, dict) and "items" in r and "items" in w:
            _check(r["items"], w["items"], f"{path}/items", out)


def _objects(reader: dict, writer: dict, path: str, out: list[str]) -> None:
    rprops, wprops = reader.get("properties") or {}, writer.get("properties") or {}
    closed = reader.get("additionalProperties") is False
    for name, w in wprops.items():
        if name in rprops:
            _check(rprops[name], w, f"{path}/properties/{name}", out)
        elif closed:
            out.append(f"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL at '{path}/properties/{name}'")
    required_before = set(writer.get("required") or ())
    for name in reader.get("required") or ():
        if name not in required_before:
            out.append(f"REQUIRED_PROPERTY_ADDED at '{path}/properties/{name}'")
