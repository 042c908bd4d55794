"""Kafka's default partitioning: murmur2 of the key bytes, so a key lands in the same partition as on Kafka."""

from __future__ import annotations

import struct

_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
_SEED = 0x9747B28C

_cache: dict[bytes, int] = {}
_CACHE_MAX = 65536


def murmur2(data: bytes) -> int:
    """Kafka's `Utils.murmur2`: a signed 32-bit hash (Java int arithmetic emulated with masks)."""
    length = len(data)
    h = (_SEED ^ length) & _MASK
    n4 = length >> 2
    if n4:
        for k in struct.unpack_from(f"<{n4}I", data):
            k = (k * _M) & _MASK
            k ^= k >> 24
            k = (k * _M) & _MASK
            h = ((h * _M) & _MASK) ^ k
    rest = length & 3
    if rest:
        base = length & ~3
        if rest == 3:
            h ^= data[base + 2] << 16
        if rest >= 2:
            h ^= data[base + 1] << 8
        h ^= data[base]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - 0x100000000 if h & 0x80000000 else h


def to_positive(n: int) -> int:
    return n & 0x7FFFFFFF


def partition_for_key(key: bytes, num_partitions: int) -> int:
    """`toPositive(murmur2(key)) % numPartitions`, as Kafka's producer does for keyed records."""
    h = _cache.get(key)
    if h is None:
        if len(_cache) >= _CACHE_MAX:  # keys of a source are often repeated (upserts); bound the memory
            _cache.clear()
        h = _cache[key] = murmur2(key) & 0x7FFFFFFF
    return h % num_partitions
