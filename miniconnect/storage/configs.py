"""Standalone config store: connector configs, target states and task configs, kept in a JSON file.

Kafka's standalone mode keeps these in memory only; we persist them (when `config.storage.file.filename` is
set) so connectors created through the REST API survive a restart, like they do in distributed mode.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from ..files import tighten, write_atomically
from ..runtime.states import TargetState
from .base import ConfigBackingStore

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ConnectorEntry:
    config: dict[str, str]
    target_state: TargetState = TargetState.STARTED
    tasks: list[dict[str, str]] = field(default_factory=list)


class FileConfigStore(ConfigBackingStore):
    """Every change is written to a temp file that atomically replaces the old one (after fsync); the file is
    owner-only (0600), as connector configs hold passwords."""

    def __init__(self, path: str | None):
        self.path = path or None
        self._entries: dict[str, ConnectorEntry] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        raw = await asyncio.to_thread(_read_private, self.path) if self.path else None
        if raw is None:
            return
        data = orjson.loads(raw) if raw.strip() else {}
        for name, e in data.get("connectors", {}).items():
            self._entries[name] = ConnectorEntry(
                dict(e["config"]), TargetState(e.get("target_state", "STARTED")), [dict(t) for t in e.get("tasks", [])]
            )
        log.info("Loaded %d connector configs from %s", len(self._entries), self.path)

    async def stop(self) -> None:
        pass

    # -- reads ------------------------------------------------------------------------------------
    def connectors(self) -> list[str]:
        return list(self._entries)

    def contains(self, name: str) -> bool:
        return name in self._entries

    def config(self, name: str) -> dict[str, str] | None:
        e = self._entries.get(name)
        return e.config if e else None

    def target_state(self, name: str) -> TargetState | None:
        e = self._entries.get(name)
        return e.target_state if e else None

    def task_configs(self, name: str) -> list[dict[str, str]]:
        e = self._entries.get(name)
        return e.tasks if e else []

    # -- writes (durable when they return) ------------------------------------------------------------
    async def put_connector_config(
        self, name: str, config: Mapping[str, str], target_state: TargetState | None = None
    ) -> None:
        """Creates or replaces the config; a new connector starts in `target_state` (default STARTED),
        an existing one keeps its target state unless one is given."""
        e = self._entries.get(name)
        if e is None:
            self._entries[name] = ConnectorEntry(dict(config), target_state or TargetState.STARTED)
        else:
            e.config = dict(config)
            if target_state is not None:
                e.target_state = target_state
        await self._save()

    async def put_target_state(self, name: str, target_state: TargetState) -> None:
        self._entries[name].target_state = target_state
        await self._save()

    async def put_task_configs(self, name: str, tasks: Sequence[Mapping[str, str]]) -> None:
        self._entries[name].tasks = [dict(t) for t in tasks]
        await self._save()

    async def remove_connector(self, name: str) -> None:
        if self._entries.pop(name, None) is not None:
            await self._save()

    async def _save(self) -> None:
        if not self.path:
            return
        async with self._lock:  # snapshot under the lock so writes land in the order of the changes
            data = orjson.dumps(
                {
                    "connectors": {
                        n: {"config": e.config, "target_state": e.target_state.value, "tasks": e.tasks}
                        for n, e in self._entries.items()
                    }
                }
            )
            await asyncio.to_thread(write_atomically, self.path, data)


def _read_private(path: str) -> bytes | None:
    """The file's bytes (None when there is none), after making it owner-only."""
    if not os.path.exists(path):
        return None
    tighten(path)
    with open(path, "rb") as f:
        return f.read()
