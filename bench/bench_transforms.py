"""Records/s through the sink-side conversion alone and with a chain of three transforms (ValueToKey,
ExtractField$Key, RegexRouter), as the sink runner applies them: one batch call per stage."""

from __future__ import annotations

import json
import time

from miniconnect.converters.json import JsonConverter
from miniconnect.data.records import SinkRecord
from miniconnect.plugins import Plugins
from miniconnect.transforms.chain import build_chain

N = 200_000
SCHEMA = {
    "type": "struct",
    "name": "orders",
    "optional": False,
    "fields": [
        {"field": "id", "type": "int64", "optional": False},
        {"field": "name", "type": "string", "optional": True},
        {"field": "amount", "type": "double", "optional": True},
    ],
}
CHAIN = {
    "transforms": "k,x,r",
    "transforms.k.type": "org.apache.kafka.connect.transforms.ValueToKey",
    "transforms.k.fields": "id",
    "transforms.x.type": "org.apache.kafka.connect.transforms.ExtractField$Key",
    "transforms.x.field": "id",
    "transforms.r.type": "org.apache.kafka.connect.transforms.RegexRouter",
    "transforms.r.regex": "orders",
    "transforms.r.replacement": "db_orders",
}


def main() -> None:
    values = [
        json.dumps({"schema": SCHEMA, "payload": {"id": i, "name": f"n{i}", "amount": i * 1.5}}).encode()
        for i in range(N)
    ]
    vc = JsonConverter()
    vc.configure({}, False)
    chain = build_chain(Plugins(plugin_path=[]), CHAIN)
    assert chain is not None

    def convert(batch: list[bytes], offset: int) -> list[SinkRecord]:
        return [
            SinkRecord("orders", 0, None, None, s, v, offset + i)
            for i, (s, v) in enumerate(vc.to_connect_batch("orders", batch))
        ]

    for label, transformed in (
        ("no transforms", False),
        ("3 transforms", True),
        ("no transforms", False),
        ("3 transforms", True),
    ):
        t0 = time.perf_counter()
        for lo in range(0, N, 1000):
            records = convert(values[lo : lo + 1000], lo)
            if transformed:
                records = [r for r in chain.apply_batch(records, lambda i, t, e: None) if r is not None]
        dt = time.perf_counter() - t0
        print(f"{label:14s} {N / dt:>10,.0f} records/s (convert{' + chain' if transformed else ''})")
    t0 = time.perf_counter()
    records = convert(values[:1000], 0)
    for _ in range(N // 1000):
        chain.apply_batch(records, lambda i, t, e: None)
    print(f"chain alone    {N / (time.perf_counter() - t0):>10,.0f} records/s")


if __name__ == "__main__":
    main()
