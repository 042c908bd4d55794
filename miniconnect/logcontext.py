"""Log lines that say which connector and task wrote them, as Kafka's MDC `connector.context` does
(`[name|task-0] ` in a task, `[name|worker] ` in a connector's own code), and the worker's two log formats.

The context lives in a ContextVar: the task runners and the worker's connector code set it at the top of the asyncio
task they run in, and everything that task awaits, creates (asyncio tasks copy the context) or hands to a thread
(asyncio.to_thread copies it too) logs with it. A log record factory copies it onto every record, so any handler
and formatter can use `%(connector_context)s`, `record.connector` and `record.task`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, ClassVar

TEXT_FORMAT = "[%(asctime)s] %(levelname)s %(connector_context)s%(message)s (%(name)s)"
FORMATS = ("text", "json")
ENV_VAR = "MINICONNECT_LOG_FORMAT"

# (connector, task number or None for the connector's own code)
_CONTEXT: ContextVar[tuple[str, int | None] | None] = ContextVar("connector_context", default=None)


def set_task_context(connector: str, task: int) -> None:
    """For the rest of the current asyncio task (and what it starts): `[connector|task-N] `."""
    _CONTEXT.set((connector, task))


def set_connector_context(connector: str) -> None:
    """For the rest of the current asyncio task (and what it starts): `[connector|worker] `."""
    _CONTEXT.set((connector, None))


@contextlib.contextmanager
def connector_context(connector: str, task: int | None = None) -> Iterator[None]:
    """The connector's (or its task's) context for a block within a task that serves several connectors."""
    token = _CONTEXT.set((connector, task))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def context_text(value: tuple[str, int | None] | None) -> str:
    if value is None:
        return ""
    connector, task = value
    return f"[{connector}|{'worker' if task is None else f'task-{task}'}] "


_base_factory = logging.getLogRecordFactory()


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    value = _CONTEXT.get()
    record.connector_context = context_text(value)
    record.connector, record.task = value if value is not None else (None, None)
    return record


def install_record_factory() -> None:
    """Every LogRecord gets connector_context, connector and task (idempotent)."""
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)


class JsonFormatter(logging.Formatter):
    """One JSON object per line for log shippers: time (ISO 8601 UTC, ms), level (Log4j's names), logger,
    message, connector and task when the line comes from one, exception text when there is one."""

    LEVELS: ClassVar[dict[str, str]] = {"WARNING": "WARN", "CRITICAL": "FATAL"}

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": self.LEVELS.get(record.levelname, record.levelname),
            "logger": record.name,
            "message": record.getMessage(),
        }
        connector = getattr(record, "connector", None)
        if connector is not None:
            out["connector"] = connector
            task = getattr(record, "task", None)
            out["task"] = "worker" if task is None else task
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter()
    if fmt == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def configure_logging(level: str, fmt: str = "text") -> None:
    """The worker's logging: one stderr handler on the root logger, in `fmt`, secrets masked."""
    from .secrets import install_log_masking

    install_record_factory()
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_miniconnect", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._miniconnect = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(formatter(fmt))
    root.setLevel(level.upper())
    install_log_masking()
