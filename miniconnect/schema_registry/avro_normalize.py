"""`normalize=true` for Avro: the normalized text of a schema, so that schemas written differently (key order,
whitespace, a namespace given apart or in the name, `{"type": "int"}` for `"int"`) register and look up as one.

Follows Confluent's AvroSchemaUtils.toNormalizedString (itself adapted from Avro's SchemaNormalization) as read in
its source: full names, a named type written once and then by name (types of references by name from the start),
`name` and `type` first, then what the type needs (`symbols`, `size`, `fields`, `items`, `values`), logical type
properties, `doc`, sorted `aliases`, an enum's `default`, then the remaining properties sorted by name; a field is
`name`, `type`, `order`, `doc`, sorted `aliases`, `default`, then its other properties sorted. Not checked byte for
byte against Confluent's registry (it does not install here); number formatting in defaults may differ."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .errors import InvalidSchema

_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
_NAMED = {"record", "error", "enum", "fixed"}
# Avro's logical types, by the type they annotate
_LOGICAL = {
    "decimal": {"bytes", "fixed"},
    "uuid": {"string", "fixed"},
    "date": {"int"},
    "time-millis": {"int"},
    "time-micros": {"long"},
    "timestamp-millis": {"long"},
    "timestamp-micros": {"long"},
    "timestamp-nanos": {"long"},
    "local-timestamp-millis": {"long"},
    "local-timestamp-micros": {"long"},
    "local-timestamp-nanos": {"long"},
    "duration": {"fixed"},
}
_FIELD_RESERVED = {"name", "type", "order", "doc", "aliases", "default"}


def normalized(text: str, referenced_names: Iterable[str] = ()) -> str:
    """The normalized text of an Avro schema; referenced_names: full names of the types its references define."""
    try:
        return _Writer(set(referenced_names)).schema(json.loads(text), "")
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise InvalidSchema(f"Invalid schema {text}, details: {type(e).__name__}: {e}") from None


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _full(name: str, namespace: str) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def _props(schema: dict[str, Any], written: set[str]) -> str:
    return "".join(f",{_json(k)}:{_json(schema[k])}" for k in sorted(schema) if k not in written)


def _logical(s: dict[str, Any]) -> tuple[str, set[str]]:
    """The logical type's properties as Avro writes them, and their keys."""
    out = f',"logicalType":{_json(s["logicalType"])}'
    if s["logicalType"] != "decimal":
        return out, {"logicalType"}
    out += f',"precision":{int(s["precision"])}'
    if int(s.get("scale", 0)):
        out += f',"scale":{int(s["scale"])}'
    return out, {"logicalType", "precision", "scale"}


class _Writer:
    def __init__(self, defined: set[str]):
        self.defined = defined  # named types already written: later uses are by name

    def schema(self, s: Any, namespace: str) -> str:
        if isinstance(s, list):
            return "[" + ",".join(self.schema(b, namespace) for b in s) + "]"
        if isinstance(s, str):
            return _json(s if s in _PRIMITIVES else _full(s, namespace))
        kind = s["type"]
        if not isinstance(kind, str) or kind not in _PRIMITIVES | _NAMED | {"array", "map"}:
            return self.schema(kind, namespace)  # {"type": {...}}, {"type": [...]}, {"type": "SomeName"}
        if kind in ("array", "map"):
            key = "items" if kind == "array" else "values"
            inner = self.schema(s[key], namespace)
            return f'{{"type":"{kind}","{key}":{inner}{_props(s, {"type", key})}}}'
        if kind in _NAMED:
            return self._named(s, kind, namespace)
        logical = s.get("logicalType")
        if logical in _LOGICAL and kind in _LOGICAL[logical]:
            text, written = _logical(s)
            return f'{{"type":"{kind}"{text}{_props(s, {"type"} | written)}}}'
        if len(s) == 1:
            return _json(kind)
        return f'{{"type":"{kind}"{_props(s, {"type"})}}}'

    def _named(self, s: dict[str, Any], kind: str, namespace: str) -> str:
        name = s["name"]
        full = _full(name, s.get("namespace", namespace) if "." not in name else "")
        if full in self.defined:
            return _json(full)
        self.defined.add(full)
        inner_ns = full.rpartition(".")[0]
        out = (
            f'{{"name":{_json(full)},"type":"{"enum" if kind == "enum" else "fixed" if kind == "fixed" else "record"}"'
        )
        written = {"name", "namespace", "type", "doc", "aliases"}
        if kind == "enum":
            out += ',"symbols":' + _json(list(s["symbols"]))
            written |= {"symbols", "default"}
        elif kind == "fixed":
            out += f',"size":{int(s["size"])}'
            written.add("size")
            if "fixed" in _LOGICAL.get(s.get("logicalType"), ()):  # type: ignore[arg-type]
                text, logical = _logical(s)
                out += text
                written |= logical
        else:
            out += ',"fields":[' + ",".join(self._field(f, inner_ns) for f in s["fields"]) + "]"
            written.add("fields")
        return out + self._complex(s, kind, inner_ns) + _props(s, written) + "}"

    @staticmethod
    def _complex(s: dict[str, Any], kind: str, namespace: str) -> str:
        out = f',"doc":{_json(s["doc"])}' if s.get("doc") else ""
        if s.get("aliases"):
            out += ',"aliases":' + _json(sorted(_full(a, namespace) for a in s["aliases"]))
        if kind == "enum" and s.get("default") is not None:
            out += f',"default":{_json(s["default"])}'
        return out

    def _field(self, f: dict[str, Any], namespace: str) -> str:
        out = f'{{"name":{_json(f["name"])},"type":{self.schema(f["type"], namespace)}'
        out += f',"order":{_json(str(f.get("order", "ascending")).upper())}'  # Avro's Field.Order, never absent
        if "doc" in f:
            out += f',"doc":{_json(f["doc"])}'
        if f.get("aliases"):
            out += ',"aliases":' + _json(sorted(f["aliases"]))
        if "default" in f:
            out += f',"default":{_json(f["default"])}'
        return out + _props(f, _FIELD_RESERVED) + "}"
