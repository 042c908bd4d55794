"""JSON Schema references to other subjects: a registered schema whose `references` name other registered schemas
(`{"name": "address.json", "subject": "address", "version": 1}`) and whose `$ref`s use those names
(`"$ref": "address.json"`, `"$ref": "address.json#/definitions/street"`), made into one self-contained document,
as Confluent's JsonSchema resolves them through the names of its references."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..data.schema import DataError

MAX_DEPTH = 64  # Connect schemas are not recursive: deeper than this is a cycle


def inline_references(document: Any, referenced: Mapping[str, Any]) -> Any:
    """The document with every `$ref` (to a referenced document by name, or local to the document it is in) replaced
    by what it points to; keys beside a `$ref` are kept over the target's."""
    return _inline(document, document, referenced, 0)


def _inline(node: Any, root: Any, referenced: Mapping[str, Any], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise DataError("JSON schema references nest too deeply (a cycle?)")
    if isinstance(node, list):
        return [_inline(n, root, referenced, depth) for n in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return {k: _inline(v, root, referenced, depth) for k, v in node.items()}
    base, _, pointer = ref.partition("#")
    if base:
        if base not in referenced:
            raise DataError(f"JSON schema reference {ref!r} names no reference of the schema ({sorted(referenced)})")
        root = referenced[base]
    target = _pointer(root, pointer, ref)
    siblings = {k: v for k, v in node.items() if k != "$ref"}
    resolved = _inline(target, root, referenced, depth + 1)
    return {**resolved, **siblings} if isinstance(resolved, dict) and siblings else resolved


def _pointer(root: Any, pointer: str, ref: str) -> Any:
    node = root
    for part in [p for p in pointer.split("/") if p]:
        try:
            node = node[part.replace("~1", "/").replace("~0", "~")]
        except (KeyError, TypeError):
            raise DataError(f"JSON schema reference {ref!r} points at nothing") from None
    return node
