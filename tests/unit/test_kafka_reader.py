"""ChunkedReader (transport/kafka/reader.py): frames split across socket chunks at every possible place, flow control,
end of stream and errors behave as asyncio.StreamReader's readexactly()."""

from __future__ import annotations

import asyncio
import os
import random

import pytest

from miniconnect.transport.kafka.reader import ChunkedReader


class Transport:
    def __init__(self) -> None:
        self.paused = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def is_closing(self) -> bool:
        return False


def reader(limit: int = 1 << 16) -> asyncio.StreamReader:
    r = asyncio.StreamReader(limit=limit)
    ChunkedReader.adopt(r)
    return r


async def test_frames_split_anywhere_come_out_whole() -> None:
    rnd = random.Random(7)
    for _ in range(200):
        frames = [os.urandom(rnd.choice([0, 1, 3, 4, 5, rnd.randint(0, 5000)])) for _ in range(20)]
        stream = b"".join(len(f).to_bytes(4, "big") + f for f in frames)
        r = reader(limit=64)

        async def feed() -> None:
            i = 0
            while i < len(stream):
                k = rnd.choice([1, 2, 3, rnd.randint(1, 6000)])
                r.feed_data(stream[i : i + k])
                i += k
                await asyncio.sleep(0)
            r.feed_eof()

        feeder = asyncio.ensure_future(feed())
        got = []
        for _ in frames:
            n = int.from_bytes(await r.readexactly(4), "big")
            got.append(await r.readexactly(n))
        assert got == frames
        with pytest.raises(asyncio.IncompleteReadError) as info:
            await r.readexactly(1)
        assert info.value.partial == b"" and r.at_eof()
        await feeder


async def test_end_of_stream_inside_a_frame_gives_what_was_there() -> None:
    r = reader()
    r.feed_data(b"abc")
    r.feed_data(b"de")
    r.feed_eof()
    assert await r.readexactly(1) == b"a"
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await r.readexactly(10)
    assert (info.value.partial, info.value.expected) == (b"bcde", 10)


async def test_reading_is_paused_above_twice_the_limit_and_resumed_when_drained() -> None:
    t = Transport()
    r = reader(limit=100)
    r.set_transport(t)  # type: ignore[arg-type]
    r.feed_data(b"x" * 150)
    assert not t.paused
    r.feed_data(b"y" * 60)
    assert t.paused
    assert await r.readexactly(100) == b"x" * 100
    assert t.paused  # 110 left: still above the limit
    assert await r.readexactly(110) == b"x" * 50 + b"y" * 60
    assert not t.paused


async def test_a_frame_bigger_than_the_buffer_limit_is_awaited_chunk_by_chunk() -> None:
    t = Transport()
    r = reader(limit=10)
    r.set_transport(t)  # type: ignore[arg-type]
    want = os.urandom(1000)

    async def feed() -> None:
        for i in range(0, 1000, 64):
            r.feed_data(want[i : i + 64])
            await asyncio.sleep(0)

    feeder = asyncio.ensure_future(feed())
    assert await r.readexactly(1000) == want
    await feeder


async def test_an_error_set_on_the_stream_is_raised() -> None:
    r = reader()
    r.feed_data(b"ab")
    r.set_exception(ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError):
        await r.readexactly(1)
