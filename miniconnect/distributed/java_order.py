"""Java 17's HashMap/HashSet iteration order for strings and task ids, so that what we write and decide matches a
JVM worker's byte for byte (Kafka builds assignments and picks revocations by iterating hash-based collections)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from ..data import javahash
from ..data.javahash import string_hash
from ..runtime.states import TaskId

K = TypeVar("K", str, TaskId)


def java_hash(key: str | TaskId) -> int:
    """hashCode of a String, or of Kafka's ConnectorTaskId record (31 * connector.hashCode() + task)."""
    if isinstance(key, str):
        return string_hash(key)
    return (31 * string_hash(key.connector) + key.task) & 0xFFFFFFFF


def hash_set_copy_order(items: Iterable[K]) -> list[K]:
    """Iteration order of `new HashSet<>(collection)` of strings or task ids."""
    return javahash.hash_set_copy_order(items, java_hash)


def hash_map_order(keys: Iterable[K]) -> list[K]:
    """Iteration order of a default `new HashMap<>()` after putting `keys` (strings or task ids) in order."""
    return javahash.hash_map_order(keys, java_hash)
