"""`miniconnect topics list|consume|produce` against the embedded log."""

from __future__ import annotations

import asyncio
import io
import os

import pytest

from miniconnect import topics
from miniconnect.transport.base import NewTopic
from miniconnect.transport.embedded import EmbeddedLog


@pytest.fixture
async def log(tmp_path):
    log = EmbeddedLog(str(tmp_path))
    await log.start()
    yield log
    await log.stop()


async def test_list_topics_prints_name_and_partitions(log):
    await log.create_topics([NewTopic("zeta", partitions=3), NewTopic("alpha")])
    assert await topics.list_topics(log) == ["alpha\t1", "zeta\t3"]


async def test_produce_then_consume_from_beginning(log):
    n = await topics.produce(log, "lines", (f"line {i}\n" for i in range(1203)))
    assert n == 1203
    out = io.StringIO()
    printed = await topics.consume(log, "lines", from_beginning=True, out=out, timeout_ms=300)
    assert printed == 1203
    assert out.getvalue().splitlines() == [f"line {i}" for i in range(1203)]


async def test_keys_with_separator_and_print_key(log):
    await topics.produce(log, "kv", ["a:1\n", "b:2:x\n", "nokey\n", "\n"], key_separator=":")
    out = io.StringIO()
    await topics.consume(log, "kv", from_beginning=True, out=out, timeout_ms=300, print_key=True)
    assert out.getvalue().splitlines() == ["a\t1", "b\t2:x", "null\tnokey", "null\t"]


async def test_max_messages_stops_early(log):
    await topics.produce(log, "many", [f"{i}" for i in range(50)])
    out = io.StringIO()
    assert await topics.consume(log, "many", from_beginning=True, out=out, max_messages=7) == 7
    assert out.getvalue().splitlines() == [str(i) for i in range(7)]


async def test_without_from_beginning_only_new_records(log):
    await topics.produce(log, "live", ["old"])
    out = io.StringIO()
    task = asyncio.create_task(topics.consume(log, "live", from_beginning=False, out=out, max_messages=1))
    for i in range(100):  # keep producing until the consumer (started at the end) has picked one up
        await topics.produce(log, "live", [f"new {i}"])
        await asyncio.sleep(0.02)
        if task.done():
            break
    assert await asyncio.wait_for(task, 5) == 1
    assert out.getvalue().startswith("new ")


async def test_consume_stops_after_timeout_without_records(log):
    await log.create_topics([NewTopic("quiet")])
    out = io.StringIO()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    assert await topics.consume(log, "quiet", from_beginning=True, out=out, timeout_ms=200) == 0
    assert 0.15 < loop.time() - t0 < 3
    assert out.getvalue() == ""
    # the console consumer commits nothing, so it leaves no consumer group behind
    assert os.listdir(os.path.join(log.directory, "groups")) == []
