"""Java's hashCode of the values Connect holds, and java.util.HashMap's iteration order, so that what we print or
write in a hash-ordered collection's order matches a JVM worker's byte for byte."""

from __future__ import annotations

import datetime
import functools
import struct
from collections.abc import Callable, Hashable, Iterable, Mapping
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


# -- maps in the iteration order a JVM worker's map has ------------------------------------------------------------
# A plain dict stands for a java.util.HashMap its items were put into in the dict's order (what Kafka's JsonConverter
# reads, and what most Java code builds): it is written, printed and copied in that HashMap's order (java_keys). A
# JavaMap is a dict already in its Java map's order: what the transformations build as Kafka's build their HashMap (a
# copy is pre-sized, on Java 17, to the smallest power of two >= size / 0.75 + 1, `new HashMap<>(n)` to the one >= n;
# either doubles whenever the size passes three quarters of the capacity) or LinkedHashMap, and what the internal
# topics' records hold.
V = TypeVar("V")


class JavaMap(dict):  # type: ignore[type-arg]
    """A dict whose order is its Java map's iteration order (see above)."""

    __slots__ = ()


def java_order(d: dict[K, V], int_bits: int = 64) -> dict[K, V]:
    """`d` in the iteration order a JVM worker's map of it has: a JavaMap's own, a HashMap's for any other dict."""
    return d if d.__class__ is JavaMap else in_hash_map_order(d, int_bits)


@functools.lru_cache(maxsize=1024)
def _order_of(keys: tuple[Any, ...], capacity: int, int_bits: int) -> tuple[Any, ...]:
    return tuple(_ordered(list(keys), capacity, lambda k: value_hash(k, int_bits)))


def _grown(capacity: int, size: int) -> int:
    while size > capacity * 0.75:
        capacity <<= 1
    return capacity


_CACHED = 4096  # key sets remembered at most (per cache)
# keys put in a default HashMap in this order -> the map's order (None: the same)
_ORDERS: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
_UNSEEN = object()


def hash_map_keys(d: dict[K, V], int_bits: int = 64) -> Iterable[K]:
    """The keys of `d` in the iteration order of a `new HashMap<>()` that its items were put into in order
    (integer keys hashed as Integers with int_bits <= 32, else as Longs): `d` itself when that is its order."""
    if len(d) < 2:
        return d
    if int_bits != 64:
        return _order_of(tuple(d), _grown(16, len(d)), int_bits)
    keys = tuple(d)
    found = _ORDERS.get(keys, _UNSEEN)
    if found is _UNSEEN:  # the records of a topic mostly have the same keys: worked out once
        order = _order_of(keys, _grown(16, len(keys)), 64)
        found = None if order == keys else order
        if len(_ORDERS) >= _CACHED:  # maps keyed by data (ids, say): start afresh rather than grow
            _ORDERS.clear()
        _ORDERS[keys] = found
    return d if found is None else found  # type: ignore[return-value]


def in_hash_map_order(d: dict[K, V], int_bits: int = 64) -> dict[K, V]:
    """`d` in the iteration order of a `new HashMap<>()` that its items were put into in order."""
    keys = hash_map_keys(d, int_bits)
    return d if keys is d else {k: d[k] for k in keys}


def java_keys(d: dict[K, V], int_bits: int = 64) -> Iterable[K]:
    """The keys of `d` in the iteration order a JVM worker's map of it has (see java_order)."""
    return d if d.__class__ is JavaMap else hash_map_keys(d, int_bits)


def java_hash_map(items: Iterable[tuple[K, V]], initial_capacity: int | None = None) -> dict[K, V]:
    """`new HashMap<>()` (or `new HashMap<>(initial_capacity)`) after putting `items` in order."""
    d = dict(items)
    capacity = 16 if initial_capacity is None else _power_of_two(max(initial_capacity, 1))
    return JavaMap({k: d[k] for k in _order_of(tuple(d), _grown(capacity, len(d)), 64)})


# (source keys, in a JavaMap's order or not, put keys) -> the copy's order after the puts
_COPIES: dict[tuple[tuple[Any, ...], bool, tuple[Any, ...]], tuple[Any, ...]] = {}


def java_hash_map_copy(source: Mapping[K, V], puts: Mapping[K, V] | None = None) -> dict[K, V]:
    """`new HashMap<>(source)` (copied in `source`'s iteration order, see java_order) after putting `puts` in
    order."""
    merged = dict(source)
    if puts:
        merged.update(puts)
    cache_key = (tuple(source), source.__class__ is JavaMap, tuple(puts) if puts else ())
    order = _COPIES.get(cache_key)
    if order is None:  # the records of a topic mostly have the same keys: worked out once
        first = list(java_keys(source)) if isinstance(source, dict) else list(source)  # type: ignore[arg-type]
        keys = first + [k for k in cache_key[2] if k not in source]
        capacity = _power_of_two(int(len(first) / 0.75 + 1.0)) if first else 16
        order = _order_of(tuple(keys), _grown(capacity, len(keys)), 64)
        if len(_COPIES) >= _CACHED:
            _COPIES.clear()
        _COPIES[cache_key] = order
    return JavaMap({k: merged[k] for k in order})
