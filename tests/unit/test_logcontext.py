"""The connector context of log lines: set at the top of an asyncio task, inherited by the tasks and threads it
starts, never leaking into other tasks; the text and JSON formats, with secrets masked in both."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest

from miniconnect.logcontext import (
    TEXT_FORMAT,
    JsonFormatter,
    connector_context,
    install_record_factory,
    set_connector_context,
    set_task_context,
)
from miniconnect.secrets import MaskingFilter, remember

log = logging.getLogger("miniconnect.test.logcontext")


@pytest.fixture
def lines():
    install_record_factory()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(MaskingFilter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    yield lambda: stream.getvalue().splitlines(), handler
    log.removeHandler(handler)
    log.propagate = True


async def test_tasks_and_threads_inherit_the_context(lines) -> None:
    read, _ = lines

    async def task_runner() -> None:
        set_task_context("orders", 3)
        log.info("in the task")
        await asyncio.create_task(_child())
        await asyncio.to_thread(log.info, "in a thread")
        with connector_context("other"):
            log.info("for a block")
        log.info("after the block")

    async def _child() -> None:
        log.info("in a child task")

    async def connector() -> None:
        set_connector_context("orders")
        log.info("connector code")

    await asyncio.gather(task_runner(), connector())
    log.info("worker code")
    got = [line.split(" ", 3)[-1] for line in read()]
    assert sorted(got) == sorted(
        [
            "[orders|task-3] in the task (miniconnect.test.logcontext)",
            "[orders|task-3] in a child task (miniconnect.test.logcontext)",
            "[orders|task-3] in a thread (miniconnect.test.logcontext)",
            "[other|worker] for a block (miniconnect.test.logcontext)",
            "[orders|task-3] after the block (miniconnect.test.logcontext)",
            "[orders|worker] connector code (miniconnect.test.logcontext)",
            "worker code (miniconnect.test.logcontext)",
        ]
    )


async def test_json_lines_with_context_and_masked_secrets(lines) -> None:
    read, handler = lines
    handler.setFormatter(JsonFormatter())
    remember(["s3cret-password"])

    async def task_runner() -> None:
        set_task_context("orders", 0)
        try:
            raise ValueError("login with s3cret-password failed")
        except ValueError:
            log.exception("could not connect with %s", "s3cret-password")

    await asyncio.create_task(task_runner())
    log.warning("plain")
    first, second = (json.loads(line) for line in read() if line.startswith("{"))
    assert first["connector"] == "orders" and first["task"] == 0 and first["level"] == "ERROR"
    assert first["message"] == "could not connect with [hidden]"
    assert "ValueError: login with [hidden] failed" in first["exception"]
    assert "s3cret-password" not in json.dumps(first)
    assert second == {"time": second["time"], "level": "WARN", "logger": log.name, "message": "plain"}
