"""Java's hashCode of the values Connect holds, and java.util.HashMap's iteration order, so that what we print or
write in a hash-ordered collection's order matches a JVM worker's byte for byte."""

from __future__ import annotations

import datetime
import struct
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)


def string_hash(s: str) -> int:
    """String.hashCode(): the 31-polynomial over the UTF-16 code units, as an unsigned 32-bit int."""
    h = 0
    data = s.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h


def _long_hash(n: int) -> int:
    n &= 0xFFFFFFFFFFFFFFFF
    return (n ^ (n >> 32)) & 0xFFFFFFFF


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def value_hash(value: Any, int_bits: int = 64) -> int | None:
    """hashCode() of the boxed Java value Connect would hold for `value` (an integer is an Integer, Short or Byte
    when int_bits <= 32, else a Long; a float a Double); None where it is an identity hash or not worked out here
    (byte arrays, BigDecimal, collections, Structs)."""
    if isinstance(value, str):
        return string_hash(value)
    if isinstance(value, bool):
        return 1231 if value else 1237
    if isinstance(value, int):
        return value & 0xFFFFFFFF if int_bits <= 32 else _long_hash(value)
    if isinstance(value, float):
        bits = 0x7FF8000000000000 if value != value else struct.unpack("<q", struct.pack("<d", value))[0]
        return _long_hash(bits)
    if isinstance(value, datetime.datetime):  # java.util.Date: its milliseconds' Long hash
        moment = value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
        return _long_hash((moment - _EPOCH) // datetime.timedelta(milliseconds=1))
    return None


def _ordered(keys: list[K], capacity: int, hash_of: Callable[[K], int | None]) -> list[K]:
    buckets: dict[int, list[K]] = {}
    for key in keys:
        h = hash_of(key)
        if h is None:
            return keys  # a key whose hash is not known: the order it came in
        buckets.setdefault((h ^ (h >> 16)) & (capacity - 1), []).append(key)
    return [key for b in sorted(buckets) for key in buckets[b]]


def _power_of_two(at_least: int) -> int:
    capacity = 1
    while capacity < at_least:
        capacity <<= 1
    return capacity


def hash_map_order(keys: Iterable[K], hash_of: Callable[[K], int | None] = value_hash) -> list[K]:  # type: ignore[assignment]
    """Iteration order of a default `new HashMap<>()` (or `Collectors.toMap`/`toSet`) after putting `keys` in
    order: capacity 16, doubled whenever the size passes three quarters of it; buckets in order, insertion order
    within a bucket."""
    distinct = list(dict.fromkeys(keys))
    capacity = 16
    while len(distinct) > capacity * 0.75:
        capacity <<= 1
    return _ordered(distinct, capacity, hash_of)


def hash_map_presized_order(
    keys: Iterable[K],
    initial_capacity: int,
    hash_of: Callable[[K], int | None] = value_hash,  # type: ignore[assignment]
) -> list[K]:
    """Iteration order of `new HashMap<>(initialCapacity)` after putting `keys` in order: the capacity is the
    power of two from initialCapacity on, doubled whenever the size passes three quarters of it."""
    distinct = list(dict.fromkeys(keys))
    capacity = _power_of_two(max(initial_capacity, 1))
    while len(distinct) > capacity * 0.75:
        capacity <<= 1
    return _ordered(distinct, capacity, hash_of)


def hash_set_copy_order(keys: Iterable[K], hash_of: Callable[[K], int | None] = value_hash) -> list[K]:  # type: ignore[assignment]
    """Iteration order of `new HashSet<>(collection)`: sized up front, max(size / .75 + 1, 16) rounded up to a
    power of two."""
    distinct = list(dict.fromkeys(keys))
    return _ordered(distinct, _power_of_two(max(int(len(distinct) / 0.75) + 1, 16)), hash_of)


def hash_map_copy_order(keys: Iterable[K], hash_of: Callable[[K], int | None] = value_hash) -> list[K]:  # type: ignore[assignment]
    """Iteration order of `new HashMap<>(map)`: the smallest power of two >= size / 0.75 + 1 (no minimum)."""
    distinct = list(dict.fromkeys(keys))
    return _ordered(distinct, _power_of_two(int(len(distinct) / 0.75 + 1.0)), hash_of) if distinct else []
