"""Java 17's HashMap/HashSet iteration order for strings and task ids, so that what we write and decide matches a
JVM worker's byte for byte (Kafka builds assignments and picks revocations by iterating hash-based collections)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from ..runtime.states import TaskId

K = TypeVar("K", str, TaskId)


def string_hash(s: str) -> int:
    """java.lang.String.hashCode over UTF-16 code units, as an unsigned 32-bit value."""
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h


def java_hash(key: str | TaskId) -> int:
    """hashCode of a String, or of Kafka's ConnectorTaskId record (31 * connector.hashCode() + task)."""
    if isinstance(key, str):
        return string_hash(key)
    return (31 * string_hash(key.connector) + key.task) & 0xFFFFFFFF


def _ordered(keys: list[K], capacity: int) -> list[K]:
    buckets: dict[int, list[K]] = {}
    for s in keys:
        h = java_hash(s)
        buckets.setdefault((h ^ (h >> 16)) & (capacity - 1), []).append(s)
    return [s for b in sorted(buckets) for s in buckets[b]]


def _distinct(keys: Iterable[K]) -> list[K]:
    return list(dict.fromkeys(keys))


def hash_set_copy_order(items: Iterable[K]) -> list[K]:
    """Iteration order of `new HashSet<>(collection)`: sized up front, max(size / .75 + 1, 16) rounded up to a
    power of two (buckets in order, insertion order within a bucket)."""
    keys = list(items)
    wanted = max(int(len(keys) / 0.75) + 1, 16)
    capacity = 1
    while capacity < wanted:
        capacity <<= 1
    return _ordered(_distinct(keys), capacity)


def hash_map_order(keys: Iterable[K]) -> list[K]:
    """Iteration order of a default `new HashMap<>()` (or `Collectors.toMap`/`toSet`) after putting `keys` in
    order: capacity 16, doubled whenever the size passes three quarters of it."""
    distinct = _distinct(keys)
    capacity = 16
    while len(distinct) > capacity * 0.75:
        capacity <<= 1
    return _ordered(distinct, capacity)
