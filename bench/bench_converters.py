"""Records/s for JsonConverter (schemas enabled) on seed-style order records: encode and decode, per record and batched.

Run: python bench/bench_converters.py [N]   (default 200000 records, one core). Work is done in batches of 500, as a
worker would (results of a batch are dropped before the next); each figure is the best of 3 runs.
"""

from __future__ import annotations

import gc
import sys
import time
import uuid

from miniconnect.converters.json import JsonConverter
from miniconnect.data.schema import OPTIONAL_INT32_SCHEMA, OPTIONAL_STRING_SCHEMA, Schema, Struct

ORDERS = Schema.struct(
    [
        ("order_id", OPTIONAL_STRING_SCHEMA),
        ("user_id", OPTIONAL_STRING_SCHEMA),
        ("product_id", OPTIONAL_STRING_SCHEMA),
        ("qty", OPTIONAL_INT32_SCHEMA),
        ("unit_price", OPTIONAL_INT32_SCHEMA),
        ("total_price", OPTIONAL_INT32_SCHEMA),
    ],
    name="orders",
)
BATCH = 500


def make_records(n: int) -> list[Struct]:
    out = []
    for i in range(n):
        qty, price = i % 50 + 1, (i % 7 + 1) * 1000
        out.append(
            Struct(
                ORDERS,
                [
                    str(uuid.UUID(int=i * 7919)),
                    str(uuid.UUID(int=i * 104729)),
                    f"CATALOG-{i % 1000:03d}",
                    qty,
                    price,
                    qty * price,
                ],
            )
        )
    return out


def batches(items: list) -> list[list]:
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def best_rate(label: str, n: int, fn, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    print(f"{label:<44} {n / best:>10,.0f} records/s")
    return n / best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    records = make_records(n)
    pairs = batches([(ORDERS, r) for r in records])
    source = JsonConverter()
    source.configure({"schemas.enable": "true"}, False)
    encoded = [b for batch in pairs for b in source.from_connect_batch("orders", *zip(*batch))]
    print(f"{n} records, {len(encoded[0])} bytes each, e.g. {encoded[0][:80].decode()}...")

    def encode_each() -> None:
        for batch in pairs:
            [source.from_connect_data("orders", s, v) for s, v in batch]

    def encode_batch() -> None:
        for batch in pairs:
            source.from_connect_batch("orders", *zip(*batch))

    sink = JsonConverter()
    sink.configure({}, False)
    chunks = batches(encoded)

    def decode_each() -> None:
        for chunk in chunks:
            [sink.to_connect_data("orders", b) for b in chunk]

    def decode_batch() -> None:
        for chunk in chunks:
            sink.to_connect_batch("orders", chunk)

    best_rate("encode  from_connect_data", n, encode_each)
    best_rate("encode  from_connect_batch", n, encode_batch)
    best_rate("decode  to_connect_data", n, decode_each)
    best_rate("decode  to_connect_batch", n, decode_batch)
    spaced = batches([b.replace(b'","', b'", "') for b in encoded[: n // 10]])  # not compact: full-parse path
    best_rate(
        "decode  non-compact JSON (full parse path)",
        n // 10,
        lambda: [sink.to_connect_batch("orders", c) for c in spaced],
    )
    schema, value = sink.to_connect_data("orders", encoded[-1])
    assert schema == ORDERS and value == records[-1], "round trip changed the record"


if __name__ == "__main__":
    main()
