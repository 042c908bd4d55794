"""Avro schemas as the registry keeps them: parsed and checked (fastavro), named types from references, the
canonical text that identifies a schema, and Avro's reader/writer compatibility rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import fastavro
from fastavro.schema import SchemaParseException, UnknownType

from ..converters.avro_data import PRIMITIVES, avro_type, resolve
from .errors import InvalidSchema

# Avro's promotions: what a reader of the key accepts from a writer of each value
_PROMOTIONS = {
    "long": {"int"},
    "float": {"int", "long"},
    "double": {"int", "long", "float"},
    "string": {"bytes"},
    "bytes": {"string"},
}


class ParsedSchema:
    """One Avro schema: its canonical text, its fastavro form (full names, named types resolved) and the named
    types it defines, which other schemas may reference."""

    __slots__ = ("canonical", "named", "parsed")

    def __init__(self, text: str, referenced: Mapping[str, Any] | None = None):
        try:
            raw = json.loads(text)
        except ValueError as e:
            raise InvalidSchema(f"Invalid schema {text}, details: {e}") from None
        named: dict[str, Any] = dict(referenced or {})
        try:
            self.parsed = fastavro.parse_schema(raw, named_schemas=named, _write_hint=False)
        except (SchemaParseException, UnknownType, ValueError, TypeError, KeyError, AttributeError) as e:
            raise InvalidSchema(f"Invalid schema {text}, details: {type(e).__name__}: {e}") from None
        self.named = named
        self.canonical = json.dumps(raw, separators=(",", ":"), ensure_ascii=False)


def incompatibilities(reader: ParsedSchema, writer: ParsedSchema) -> list[str]:
    """Why data written with `writer` cannot be read with `reader` (Avro's schema resolution); [] when it can."""
    out: list[str] = []
    _check(reader.parsed, writer.parsed, reader.named, writer.named, "", out, set())
    return out


def _check(r: Any, w: Any, rn: Mapping[str, Any], wn: Mapping[str, Any], path: str, out: list[str], seen: set) -> None:
    r, w = resolve(r, rn), resolve(w, wn)
    rt, wt = avro_type(r), avro_type(w)
    if wt == "union":
        for i, branch in enumerate(w if isinstance(w, list) else w["type"]):
            sub: list[str] = []
            _check(r, branch, rn, wn, f"{path}/{i}", sub, seen)
            out += sub
        return
    if rt == "union":
        branches = r if isinstance(r, list) else r["type"]
        for branch in branches:
            sub = []
            _check(branch, w, rn, wn, path, sub, seen)
            if not sub:
                return
        out.append(f"TYPE_MISMATCH at '{path or '/'}': reader union lacks the writer's type {_name_or_type(w)}")
        return
    if rt != wt:
        if wt in _PROMOTIONS.get(rt, ()):
            return
        out.append(f"TYPE_MISMATCH at '{path or '/'}': reader type {rt} is not compatible with writer type {wt}")
        return
    if rt in PRIMITIVES:
        return
    if rt in ("record", "enum", "fixed"):
        rname, wname = r["name"], w["name"]
        if _short(rname) != _short(wname) and wname not in r.get("aliases", ()):
            out.append(f"NAME_MISMATCH at '{path or '/'}': expected {rname}, found {wname}")
            return
    if rt == "record":
        key = (id(r), id(w))
        if key in seen:  # recursive types: assume compatible on the way back
            return
        seen.add(key)
        wfields = {f["name"]: f for f in w["fields"]}
        for i, f in enumerate(r["fields"]):
            wf = wfields.get(f["name"]) or next((wfields[a] for a in f.get("aliases", ()) if a in wfields), None)
            here = f"{path}/fields/{i}"
            if wf is None:
                if "default" not in f:
                    out.append(
                        f"READER_FIELD_MISSING_DEFAULT_VALUE at '{here}': the field '{f['name']}' in the new "
                        "schema has no default value and is missing in the old schema"
                    )
            else:
                _check(f["type"], wf["type"], rn, wn, f"{here}/type", out, seen)
    elif rt == "enum":
        missing = [s for s in w["symbols"] if s not in r["symbols"]]
        if missing and "default" not in r:
            out.append(f"MISSING_ENUM_SYMBOLS at '{path}/symbols': {missing}")
    elif rt == "fixed":
        if r["size"] != w["size"]:
            out.append(f"FIXED_SIZE_MISMATCH at '{path}/size': expected {w['size']}, found {r['size']}")
    elif rt == "array":
        _check(r["items"], w["items"], rn, wn, f"{path}/items", out, seen)
    elif rt == "map":
        _check(r["values"], w["values"], rn, wn, f"{path}/values", out, seen)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _name_or_type(schema: Any) -> str:
    return str(schema.get("name", schema.get("type"))) if isinstance(schema, dict) else str(schema)
