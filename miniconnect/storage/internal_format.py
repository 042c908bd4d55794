"""Values of Connect's internal topics as Kafka writes them: its JsonConverter with schemas.enable=false.

Kafka serializes these records from Structs (fields in schema order, an unset optional field as null) and Java
maps; a Java HashMap is written in its iteration order, which matters where the bytes themselves are looked up
(offset keys: KafkaOffsetBackingStore finds a partition's offset by the serialized key). `java_map` puts a dict's
keys in that order.
"""

from __future__ import annotations

from typing import Any

from ..converters.json import JsonConverter, jackson_supplementary_escapes
from ..data.javahash import JavaMap, hash_map_order

_CONVERTER = JsonConverter()
_CONVERTER.configure({"schemas.enable": "false"}, is_key=False)


def encode(value: Any) -> bytes | None:
    """JSON bytes of a plain value (None: a tombstone), byte for byte as Kafka's internal converter writes it: its
    dicts in their own order (java_map orders those that Kafka holds in a HashMap)."""
    data = _CONVERTER.from_connect_data("", None, _as_given(value))
    return jackson_supplementary_escapes(data) if data is not None and not data.isascii() else data


def decode(data: bytes | None) -> Any:
    """The plain value of a record's bytes (None for a tombstone); DataError if they are not JSON."""
    return _CONVERTER.to_connect_data("", data)[1]


def _as_given(value: Any) -> Any:
    """Every dict in `value` a JavaMap, so that JsonConverter writes it in its order (a plain dict stands for a
    HashMap filled in that order)."""
    if isinstance(value, dict):
        return JavaMap({k: _as_given(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_as_given(v) for v in value]
    return value


def java_map(value: Any) -> Any:
    """A dict (nested too) with its string keys in java.util.HashMap's iteration order."""
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: java_map(value[k]) for k in hash_map_order(value)}
        return {k: java_map(v) for k, v in value.items()}
    if isinstance(value, list):
        return [java_map(v) for v in value]
    return value
