"""Records/s of the runners' conversion step (the sink runner's batch conversion, the source runner's), JSON values,
for batches without headers and with two headers per record (converted by the header.converter, the default
SimpleHeaderConverter): what header conversion costs, and that it costs nothing when records carry none. Timed in
process CPU time (best of 5), as wall-clock time on a shared machine mostly measures the other processes.

python bench/bench_runner_headers.py [--records 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from miniconnect.converters.json import JsonConverter
from miniconnect.converters.simple_header import SimpleHeaderConverter
from miniconnect.converters.string import StringConverter
from miniconnect.data.records import SourceRecord
from miniconnect.data.schema import INT64_SCHEMA, STRING_SCHEMA, Schema, Struct
from miniconnect.runtime.error_handling import ErrorHandler
from miniconnect.runtime.sink_task import SinkTaskRunner
from miniconnect.runtime.source_task import SourceTaskRunner
from miniconnect.runtime.states import TaskId
from miniconnect.transport.base import RecordBatch

BATCH = 500
SCHEMA = Schema.struct([("id", INT64_SCHEMA), ("name", STRING_SCHEMA), ("note", STRING_SCHEMA)])


class _Worker:
    def topic_used(self, connector: str, topic: str) -> None:
        pass


def _runner(cls: type) -> Any:
    """The runner's conversion state only (no transport, no task): what _convert reads."""
    r = object.__new__(cls)
    value = JsonConverter()
    value.configure({}, False)
    key = StringConverter()
    r.id, r.worker, r.known_topics, r.chain = TaskId("bench", 0), _Worker(), {"t"}, None
    r.key_converter, r.value_converter, r.header_converter = key, value, SimpleHeaderConverter()
    r.headers_wanted = False
    r.errors = ErrorHandler(r.id, {}, sink=cls is SinkTaskRunner)
    return r


def _headers(n: int, with_headers: bool) -> list[Any]:
    return [[("trace", f"id-{i}".encode()), ("n", str(i).encode())] for i in range(n)] if with_headers else [()] * n


def bench_sink(total: int, with_headers: bool) -> float:
    runner = _runner(SinkTaskRunner)
    values = [
        json.dumps(
            {
                "schema": {
                    "type": "struct",
                    "fields": [
                        {"field": "id", "type": "int64"},
                        {"field": "name", "type": "string"},
                        {"field": "note", "type": "string"},
                    ],
                },
                "payload": {"id": i, "name": f"name {i}", "note": "x" * 40},
            }
        ).encode()
        for i in range(BATCH)
    ]
    batch = RecordBatch(
        "t", 0, list(range(BATCH)), [0] * BATCH, [None] * BATCH, values, _headers(BATCH, with_headers), "CreateTime"
    )
    start = time.process_time()
    for _ in range(total // BATCH):
        runner._convert(batch)
    return total / (time.process_time() - start)


def bench_source(total: int, with_headers: bool) -> float:
    runner = _runner(SourceTaskRunner)
    heads = _headers(BATCH, with_headers)
    records = [
        SourceRecord(
            {"p": 1},
            {"o": i},
            "t",
            None,
            None,
            None,
            SCHEMA,
            Struct(SCHEMA, [i, f"name {i}", "x" * 40]),
            headers=heads[i],
        )
        for i in range(BATCH)
    ]

    async def run() -> float:
        start = time.process_time()
        for _ in range(total // BATCH):
            await runner._convert_batch(records)
        return total / (time.process_time() - start)

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    for name, fn in (("sink conversion", bench_sink), ("source conversion", bench_source)):
        for with_headers in (False, True):
            best = max(fn(args.records, with_headers) for _ in range(5))
            label = "2 headers/record" if with_headers else "no headers"
            print(f"{name:18} {label:17} {best:>10,.0f} records/s")


if __name__ == "__main__":
    main()
