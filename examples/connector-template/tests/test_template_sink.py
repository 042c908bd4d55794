"""JsonLinesSinkConnector in a real worker on the embedded log (miniconnect.testing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from connector_template import JsonLinesSinkConnector

from miniconnect.api import INT32_SCHEMA, STRING_SCHEMA, Schema, Struct
from miniconnect.testing import ConnectorHarness, TaskFailed

PERSON = Schema.struct([("name", STRING_SCHEMA), ("age", INT32_SCHEMA)], name="person")


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_sink_writes_every_record_as_a_json_line(tmp_path: Path) -> None:
    out = tmp_path / "people.jsonl"
    async with ConnectorHarness(JsonLinesSinkConnector, {"topics": "people", "file": str(out)}) as h:
        people = [Struct(PERSON, [f"p{i}", 20 + i]) for i in range(40)]
        await h.produce("people", people, schema=PERSON)
        await h.wait_for(lambda: len(lines(out)) == 40, what="40 lines")
    assert lines(out) == [{"name": f"p{i}", "age": 20 + i} for i in range(40)]


async def test_a_failing_task_is_reported_with_its_trace(tmp_path: Path) -> None:
    unwritable = tmp_path / "missing-dir" / "out.jsonl"
    async with ConnectorHarness(JsonLinesSinkConnector, {"topics": "people", "file": str(unwritable)}) as h:
        await h.produce("people", [Struct(PERSON, ["x", 1])], schema=PERSON)
        with pytest.raises(TaskFailed, match="FileNotFoundError"):
            await h.wait_for(lambda: False, timeout_s=30, what="the task to fail")
