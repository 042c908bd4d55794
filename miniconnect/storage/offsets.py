"""Source offsets per connector and source partition, flushed only for records the log has accepted."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

import orjson

from ..connector import partition_key
from ..files import tighten, write_atomically
from .base import OffsetBackingStore


def _read_private(path: str) -> bytes | None:
    """The file's bytes (None when there is none), after making it owner-only."""
    if not os.path.exists(path):
        return None
    tighten(path)
    with open(path, "rb") as f:
        return f.read()


class FileOffsetStore(OffsetBackingStore):
    """Standalone mode's `offset.storage.file.filename`: JSON of connector -> partition key -> offset.

    Writes go to an owner-only temp file that replaces the old one atomically, so a crash never leaves a torn
    file (source partitions and offsets can name tables and positions that are nobody else's business).
    """

    def __init__(self, path: str):
        self.path = path
        self._data: dict[str, dict[str, dict[str, Any] | None]] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        raw = await asyncio.to_thread(_read_private, self.path)
        if raw is not None:
            self._data = orjson.loads(raw) if raw.strip() else {}

    async def stop(self) -> None:
        pass

    async def refresh(self) -> None:
        """Nothing to catch up with: this process is the file's only writer (the Kafka store reads to the end)."""

    def get(self, connector: str, partitions: list[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        stored = self._data.get(connector, {})
        return {k: stored.get(k) for k in map(partition_key, partitions)}

    def all(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(partition, offset) for every partition with a non-null offset."""
        return [(orjson.loads(k), v) for k, v in self._data.get(connector, {}).items() if v is not None]

    async def put(self, connector: str, offsets: Mapping[str, dict[str, Any] | None]) -> None:
        """offsets: partition key -> offset (None removes the partition). Durable when this returns."""
        if not offsets:
            return
        async with self._lock:
            stored = self._data.setdefault(connector, {})
            for k, v in offsets.items():
                if v is None:
                    stored.pop(k, None)
                else:
                    stored[k] = v
            if not stored:
                self._data.pop(connector, None)
            await asyncio.to_thread(write_atomically, self.path, orjson.dumps(self._data))

    async def delete_connector(self, connector: str) -> None:
        if connector in self._data:
            async with self._lock:
                self._data.pop(connector, None)
                await asyncio.to_thread(write_atomically, self.path, orjson.dumps(self._data))
