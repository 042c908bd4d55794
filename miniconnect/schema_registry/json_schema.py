"""JSON Schema documents in the registry: parsed (a JSON object or boolean) with the documents its references name,
canonical and normalized text, and the compatibility rules the registry checks between two of them (a subset of
Confluent's JsonSchemaDiff: type changes with integer -> number widening, properties a closed reader does not have,
properties a reader requires that the writer did not, union members, array items, enums, limits and patterns),
following `$ref`s into the document's own definitions and into other subjects' schemas through its references."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urljoin

from .errors import InvalidSchema

MAX_REF_DEPTH = 64  # `$ref` to `$ref` to ...: deeper than this is a cycle of bare references


@dataclass(eq=False)
class JsonDocument:
    """A JSON schema document and, by reference name, the documents its references name (Confluent's JsonSchema
    resolves `$ref`s to those names, with a JSON pointer after `#` if any)."""

    root: Any
    referenced: Mapping[str, JsonDocument] = field(default_factory=dict)

    def resolve(self, ref: str) -> tuple[Any, JsonDocument]:
        """What `ref` points at, and the document it is in; InvalidSchema when it points at nothing."""
        base, _, fragment = ref.partition("#")
        doc = self
        own_id = self.root.get("$id") if isinstance(self.root, dict) else None
        if base and base != own_id:
            found = self.referenced.get(base)
            if found is None and isinstance(own_id, str):
                found = self.referenced.get(urljoin(own_id, base))
            if found is None:
                raise InvalidSchema(
                    f"Invalid schema: $ref {ref!r} names no reference of the schema ({sorted(self.referenced)})"
                )
            doc = found
        target = _fragment(doc.root, unquote(fragment))
        if target is _MISSING:
            raise InvalidSchema(f"Invalid schema: $ref {ref!r} points at nothing")
        return target, doc

    def check_refs(self) -> None:
        """Every `$ref` of the document resolves (Confluent refuses a schema it cannot load)."""
        for ref in _refs(self.root):
            self.resolve(ref)


_MISSING = object()


def _fragment(root: Any, fragment: str) -> Any:
    if not fragment:
        return root
    if not fragment.startswith("/"):  # a plain-name fragment: `$anchor` (2019-09), or `$id: "#name"` (draft 7)
        return next(
            (n for n in _subschemas(root) if n.get("$anchor") == fragment or n.get("$id") == f"#{fragment}"),
            _MISSING,
        )
    node = root
    for part in fragment[1:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return _MISSING
    return node


def _subschemas(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            out.append(n)
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return out


def _refs(node: Any) -> list[str]:
    return [n["$ref"] for n in _subschemas(node) if isinstance(n.get("$ref"), str)]


def parse(text: str, normalize: bool = False) -> tuple[Any, str]:
    """(document, canonical text); normalize: object keys sorted at every level, as Confluent's
    JsonSchema.normalize() writes them (its SortingNodeFactory); arrays keep their order."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise InvalidSchema(f"Invalid schema {text}, details: {e}") from None
    if not isinstance(doc, dict | bool):
        raise InvalidSchema(f"Invalid schema {text}, details: a JSON schema is an object or a boolean")
    return doc, json.dumps(doc, separators=(",", ":"), ensure_ascii=False, sort_keys=normalize)


def incompatibilities(reader: JsonDocument, writer: JsonDocument) -> list[str]:
    """Why documents valid for `writer` may be refused by `reader`; [] when the rules here find nothing."""
    out: list[str] = []
    _check(_Node(reader.root, reader), _Node(writer.root, writer), "#", out, set())
    return out


@dataclass(frozen=True, slots=True)
class _Node:
    """A subschema and the document its `$ref`s resolve in."""

    schema: Any
    doc: JsonDocument

    def deref(self) -> _Node:
        """Follows `$ref`s (keys beside a `$ref` kept over the target's, as the converter inlines them)."""
        node = self
        for _ in range(MAX_REF_DEPTH):
            s = node.schema
            if not (isinstance(s, dict) and isinstance(s.get("$ref"), str)):
                return node
            target, doc = node.doc.resolve(s["$ref"])
            siblings = {k: v for k, v in s.items() if k != "$ref"}
            node = _Node({**target, **siblings} if siblings and isinstance(target, dict) else target, doc)
        raise InvalidSchema("Invalid schema: $ref cycle")

    def get(self, key: str) -> Any:
        return self.schema.get(key) if isinstance(self.schema, dict) else None

    def at(self, value: Any) -> _Node:
        return _Node(value, self.doc)


def _types(node: _Node) -> set[str] | None:
    """The JSON types a schema allows (None: any)."""
    schema = node.deref().schema
    if schema is True or schema == {} or not isinstance(schema, dict):
        return None
    members = schema.get("oneOf") or schema.get("anyOf")
    if members is not None:
        found: set[str] = set()
        for m in members:
            t = _types(node.deref().at(m))
            if t is None:
                return None
            found |= t
        return found
    t = schema.get("type")
    if t is None:
        if "enum" in schema and isinstance(schema["enum"], list):
            return {_json_type(v) for v in schema["enum"]}
        return {"object"} if "properties" in schema else None
    return set(t) if isinstance(t, list) else {t}


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), "object")


_JSON_TYPES: dict[type, str] = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
}


def _branch(node: _Node, json_type: str) -> _Node:
    node = node.deref()
    members = node.get("oneOf") or node.get("anyOf")
    if members is None:
        return node
    for m in members:
        member = node.at(m).deref()
        if json_type in (_types(member) or {json_type}):
            return member
    return node


def _check(reader: _Node, writer: _Node, path: str, out: list[str], seen: set[tuple[int, int]]) -> None:
    pair = (id(reader.schema), id(writer.schema))  # before `$ref`s: the same nodes of the parsed documents
    if pair in seen:  # a recursive schema met again on this path: compatible, as Confluent's memo treats it
        return
    seen = seen | {pair}
    reader, writer = reader.deref(), writer.deref()
    rt, wt = _types(reader), _types(writer)
    if rt is not None:
        if wt is None:
            out.append(f"TYPE_NARROWED at '{path}': the new schema restricts a value the old one left open")
            return
        missing = {t for t in wt if t not in rt and not (t == "integer" and "number" in rt)}
        if missing:
            out.append(f"TYPE_CHANGED at '{path}': {sorted(missing)} no longer accepted")
            return
    _enums(reader, writer, path, out)
    _combined(reader, writer, path, out, seen)
    bounded: set[tuple[int, int]] = set()
    for t in sorted(wt or ()):
        r, w = _branch(reader, t), _branch(writer, t)
        if not (isinstance(r.schema, dict) and isinstance(w.schema, dict)):
            continue
        if (id(r.schema), id(w.schema)) not in bounded:
            bounded.add((id(r.schema), id(w.schema)))
            _bounds(r.schema, w.schema, path, out)
        if t == "object":
            _objects(r, w, path, out, seen)
        elif t == "array" and "items" in r.schema and "items" in w.schema:
            _check(r.at(r.schema["items"]), w.at(w.schema["items"]), f"{path}/items", out, seen)


def _enums(reader: _Node, writer: _Node, path: str, out: list[str]) -> None:
    """EnumSchemaDiff: a reader's enum must keep every value of the writer's (ENUM_ARRAY_NARROWED)."""
    renum, wenum = reader.get("enum"), writer.get("enum")
    if not isinstance(renum, list):
        return
    if not isinstance(wenum, list):
        out.append(f"ENUM_ARRAY_NARROWED at '{path}': the new schema restricts the values to {renum}")
        return
    dropped = [v for v in wenum if v not in renum]
    if dropped:
        out.append(f"ENUM_ARRAY_NARROWED at '{path}': {dropped} no longer accepted")


# Upper and lower limits (String-, Number-, Array- and ObjectSchemaDiff): a reader adding one, or tightening the
# writer's, may refuse what the writer allowed (..._ADDED, ..._DECREASED / ..._INCREASED are not compatible).
_UPPER = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties", "maxContains")
_LOWER = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties", "minContains")


def _difference(keyword: str, change: str) -> str:
    return "".join(f"_{c}" if c.isupper() else c.upper() for c in keyword) + "_" + change


def _bounds(reader: dict[str, Any], writer: dict[str, Any], path: str, out: list[str]) -> None:
    def number(schema: dict[str, Any], key: str) -> float | None:
        v = schema.get(key)  # draft 4's boolean exclusiveMaximum/Minimum modify maximum/minimum: not a limit
        return v if isinstance(v, int | float) and not isinstance(v, bool) else None

    for keyword, upper in [(k, True) for k in _UPPER] + [(k, False) for k in _LOWER]:
        r, w = number(reader, keyword), number(writer, keyword)
        if r is None:
            continue
        if w is None:
            out.append(f"{_difference(keyword, 'ADDED')} at '{path}': {r}")
        elif (r < w) if upper else (r > w):
            out.append(f"{_difference(keyword, 'DECREASED' if upper else 'INCREASED')} at '{path}': {w} -> {r}")
    rp, wp = reader.get("pattern"), writer.get("pattern")
    if isinstance(rp, str) and rp != wp:
        out.append(f"PATTERN_{'ADDED' if wp is None else 'CHANGED'} at '{path}': {rp}")
    rm, wm = number(reader, "multipleOf"), number(writer, "multipleOf")
    if rm is not None and rm != wm:
        reduced = wm is not None and rm != 0 and (Decimal(str(wm)) % Decimal(str(rm))) == 0
        if not reduced:  # MULTIPLE_OF_REDUCED (the writer's a multiple of the reader's) is the compatible change
            out.append(f"MULTIPLE_OF_{'ADDED' if wm is None else 'CHANGED'} at '{path}': {wm} -> {rm}")
    if reader.get("uniqueItems") is True and writer.get("uniqueItems") is not True:
        out.append(f"UNIQUE_ITEMS_ADDED at '{path}'")


def _objects(reader: _Node, writer: _Node, path: str, out: list[str], seen: set[tuple[int, int]]) -> None:
    rprops, wprops = reader.get("properties") or {}, writer.get("properties") or {}
    radd, wadd = reader.get("additionalProperties"), writer.get("additionalProperties")
    for name, w in wprops.items():
        if name in rprops:
            _check(reader.at(rprops[name]), writer.at(w), f"{path}/properties/{name}", out, seen)
        elif radd is False:
            out.append(f"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL at '{path}/properties/{name}'")
        elif isinstance(radd, dict) and _refuses(reader.at(radd), writer.at(w), path, seen):
            out.append(f"PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL at '{path}/properties/{name}'")
    if isinstance(wadd, dict):  # a property the reader adds must take what the writer's additionalProperties took
        for name, r in rprops.items():
            if name not in wprops and _refuses(reader.at(r), writer.at(wadd), path, seen):
                out.append(f"PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL at '{path}/properties/{name}'")
    if radd is False and wadd is not False:
        out.append(f"ADDITIONAL_PROPERTIES_REMOVED at '{path}/additionalProperties'")
    elif isinstance(radd, dict):
        if isinstance(wadd, dict):
            _check(reader.at(radd), writer.at(wadd), f"{path}/additionalProperties", out, seen)
        elif wadd is not False:
            out.append(f"ADDITIONAL_PROPERTIES_NARROWED at '{path}/additionalProperties'")
    required_before = set(writer.get("required") or ())
    for name in reader.get("required") or ():
        if name not in required_before:
            out.append(f"REQUIRED_PROPERTY_ADDED at '{path}/properties/{name}'")
    _dependencies(reader, writer, path, out, seen)


def _dependencies(reader: _Node, writer: _Node, path: str, out: list[str], seen: set[tuple[int, int]]) -> None:
    """DependencyDiff: a reader may drop a dependency or names from one, not add either; dependent schemas compared
    as schemas (draft 4-7 `dependencies`, 2019-09 `dependentRequired` / `dependentSchemas`)."""
    rarrays, rschemas = _dependency_forms(reader)
    warrays, wschemas = _dependency_forms(writer)
    for name, names in rarrays.items():
        at = f"{path}/dependencies/{name}"
        if name not in warrays:
            out.append(f"DEPENDENCY_ARRAY_ADDED at '{at}': {names}")
        elif not set(names) <= set(warrays[name]):
            kind = "EXTENDED" if set(warrays[name]) <= set(names) else "CHANGED"
            out.append(f"DEPENDENCY_ARRAY_{kind} at '{at}': {warrays[name]} -> {names}")
    for name, schema in rschemas.items():
        at = f"{path}/dependencies/{name}"
        if name not in wschemas:
            out.append(f"DEPENDENCY_SCHEMA_ADDED at '{at}'")
        else:
            _check(reader.at(schema), writer.at(wschemas[name]), at, out, seen)


def _dependency_forms(node: _Node) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    arrays = {k: v for k, v in (node.get("dependentRequired") or {}).items() if isinstance(v, list)}
    schemas = {k: v for k, v in (node.get("dependentSchemas") or {}).items() if isinstance(v, dict | bool)}
    for k, v in (node.get("dependencies") or {}).items():
        if isinstance(v, list):
            arrays[k] = v
        elif isinstance(v, dict | bool):
            schemas[k] = v
    return arrays, schemas


def _refuses(reader: _Node, writer: _Node, path: str, seen: set[tuple[int, int]]) -> bool:
    """Whether `reader` may refuse a document `writer` takes (the reasons are the caller's to name)."""
    found: list[str] = []
    _check(reader, writer, path, found, seen)
    return bool(found)


def _combined(reader: _Node, writer: _Node, path: str, out: list[str], seen: set[tuple[int, int]]) -> None:
    """`not` and `allOf` (NotSchemaDiff, CombinedSchemaDiff). A reader's `not X` refuses what X takes: the writer's
    `not Y` must then take all X takes (X within Y). Each subschema of a reader's allOf must take what one of the
    writer's subschemas (with the writer's other keywords) takes, or the writer itself if it has no allOf: more
    subschemas in the reader narrow it (PRODUCT_TYPE_EXTENDED)."""
    rnot, wnot = reader.get("not"), writer.get("not")
    if rnot is not None:
        if wnot is None or _refuses(writer.at(wnot), reader.at(rnot), f"{path}/not", seen):
            out.append(f"NOT_TYPE_EXTENDED at '{path}/not'")
    rall = reader.get("allOf")
    if isinstance(rall, list):
        wall = writer.get("allOf")
        rest = {k: v for k, v in writer.schema.items() if k != "allOf"} if isinstance(writer.schema, dict) else {}
        if isinstance(wall, list):  # a writer's document is valid for each subschema with the keywords beside them
            candidates = [writer.at({**rest, **w} if isinstance(w, dict) else w) for w in wall]
        else:
            candidates = [writer]
        for i, r in enumerate(rall):
            if not any(not _refuses(reader.at(r), w, f"{path}/allOf/{i}", seen) for w in candidates):
                kind = "PRODUCT_TYPE_EXTENDED" if len(rall) > len(wall or ()) else "COMBINED_TYPE_SUBSCHEMAS_CHANGED"
                out.append(f"{kind} at '{path}/allOf/{i}'")
