"""A socket reader for aiokafka's connections that copies each response once.

aiokafka reads every response with `readexactly(size)` from an asyncio.StreamReader. A fetch response is megabytes
long and arrives in chunks of up to 256 KiB; StreamReader appends each chunk to one bytearray, which grows (and is
copied again) chunk after chunk, and copies the frame out at the end: several copies of every byte, about 0.4 us
per 573-byte record at 4 MiB responses. ChunkedReader keeps the chunks as they came and joins a frame's chunks once.

install() makes aiokafka's connections use it (the reader's class is switched when aiokafka's protocol is built
around it); when aiokafka's internals are not the expected ones it installs nothing and aiokafka works as shipped.
"""

from __future__ import annotations

import asyncio
from typing import Any

try:
    from aiokafka import conn as _conn
except ImportError:  # pragma: no cover - aiokafka is a dependency
    _conn = None

installed = False


class ChunkedReader(asyncio.StreamReader):
    """StreamReader whose buffer is the list of received chunks (and a read position in the first one). Only
    readexactly() reads from it, which is all aiokafka uses; the other read methods are not meant for it."""

    _chunks: list[bytes]
    _pos: int
    _size: int

    @classmethod
    def adopt(cls, reader: asyncio.StreamReader) -> None:
        """Turns a fresh, unused StreamReader into a ChunkedReader."""
        reader.__class__ = cls
        reader._chunks, reader._pos, reader._size = [], 0, 0  # type: ignore[attr-defined]

    def feed_data(self, data: bytes) -> None:
        assert not self._eof, "feed_data after feed_eof"
        if not data:
            return
        self._chunks.append(bytes(data))
        self._size += len(data)
        self._wakeup_waiter()  # type: ignore[attr-defined]
        if self._transport is not None and not self._paused and self._size > 2 * self._limit:
            try:
                self._transport.pause_reading()
            except NotImplementedError:
                self._transport = None
            else:
                self._paused = True

    def _maybe_resume_transport(self) -> None:
        if self._paused and self._size <= self._limit:
            self._paused = False
            self._transport.resume_reading()

    def at_eof(self) -> bool:
        return self._eof and not self._size

    async def readexactly(self, n: int) -> bytes:
        if self._exception is not None:
            raise self._exception
        if n <= 0:
            if n < 0:
                raise ValueError("readexactly size can not be less than zero")
            return b""
        while self._size < n:
            if self._eof:
                raise asyncio.IncompleteReadError(self._take(self._size), n)
            await self._wait_for_data("readexactly")  # type: ignore[attr-defined]
        data = self._take(n)
        self._maybe_resume_transport()
        return data

    def _take(self, n: int) -> bytes:
        if not n:
            return b""
        chunks, pos = self._chunks, self._pos
        first = chunks[0]
        end = pos + n
        self._size -= n
        if end < len(first):
            self._pos = end
            return first[pos:end]
        if end == len(first):
            del chunks[0]
            self._pos = 0
            return first if not pos else first[pos:]
        parts: list[Any] = [memoryview(first)[pos:]]
        need = n - (len(first) - pos)
        i = 1
        while need and need >= len(chunks[i]):
            parts.append(chunks[i])
            need -= len(chunks[i])
            i += 1
        if need:
            parts.append(memoryview(chunks[i])[:need])
        del chunks[:i]
        self._pos = need
        return b"".join(parts)


def install() -> bool:
    """Makes aiokafka's connections read through ChunkedReader (once per process); True when it is in use."""
    global installed
    if installed:
        return True
    protocol = getattr(_conn, "AIOKafkaProtocol", None)
    if (
        protocol is None
        or not issubclass(protocol, asyncio.StreamReaderProtocol)
        or not all(hasattr(asyncio.StreamReader, n) for n in ("_wait_for_data", "_wakeup_waiter"))
    ):
        return False
    stock_init = protocol.__init__

    def __init__(self: Any, closed_fut: Any, reader: Any, *args: Any, **kw: Any) -> None:
        if type(reader) is asyncio.StreamReader:
            ChunkedReader.adopt(reader)
        stock_init(self, closed_fut, reader, *args, **kw)

    protocol.__init__ = __init__
    installed = True
    return True
