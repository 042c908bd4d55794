"""The embedded log's fsync rounds against retention and shutdown: each interleaving is forced by holding one
fdatasync call until the test lets it go."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from miniconnect.connector import TopicPartition
from miniconnect.errors import ConnectError
from miniconnect.transport.base import ProducerRecord
from miniconnect.transport.embedded import EmbeddedLog

TP = TopicPartition("t", 0)
GROUP_COMMIT_THREAD = "asyncio"  # asyncio.to_thread's executor
WRITER_THREAD = "embedded-log-writer"


class HeldFsync:
    """Holds the first os.fdatasync called from a thread whose name starts with `thread` until release()."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, thread: str):
        self.entered = threading.Event()
        self._release = threading.Event()
        self._armed = True
        real = os.fdatasync

        def fdatasync(fd: int) -> None:
            if self._armed and threading.current_thread().name.startswith(thread):
                self._armed = False
                self.entered.set()
                self._release.wait(60)
            real(fd)

        monkeypatch.setattr(os, "fdatasync", fdatasync)

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 30), "no fdatasync reached the hook"

    def release(self) -> None:
        self._release.set()


def open_fds_to(path: str) -> list[str]:
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.removesuffix(" (deleted)") == path:
            fds.append(fd)
    return fds


def segment_paths(root, partition: int = 0) -> list[str]:
    d = os.path.join(str(root), "topics", "t", str(partition))
    return sorted(os.path.join(d, n) for n in os.listdir(d) if n.endswith(".log"))


async def wait_end(log: EmbeddedLog, end: int) -> None:
    """Polls end_offsets (which also closes the segments retention dropped) until the partition reaches `end`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while (await log.end_offsets([TP])).get(TP, 0) < end:
        assert loop.time() < deadline, f"partition never reached offset {end}"
        await asyncio.sleep(0.01)


async def test_retention_closing_a_segment_during_its_fsync_round_does_not_fail_the_send(tmp_path, monkeypatch):
    log = EmbeddedLog(str(tmp_path), segment_bytes=1000, retention_bytes=1000)
    await log.start()
    held = HeldFsync(monkeypatch, GROUP_COMMIT_THREAD)
    producer = log.producer()
    try:
        first = asyncio.create_task(producer.send_batch([ProducerRecord("t", None, b"a" * 1500, partition=0)]))
        await held.wait_entered()  # the first batch's fsync round is under way, past its look at `closed`
        (first_segment,) = segment_paths(tmp_path)
        # The second batch rolls the full segment, and retention (1000 bytes) deletes the first one, which the
        # event loop then closes, while the fsync thread is about to sync it
        second = asyncio.create_task(producer.send_batch([ProducerRecord("t", None, b"b" * 1500, partition=0)]))
        await wait_end(log, 2)
        assert first_segment not in segment_paths(tmp_path)
        held.release()
        (m1,), (m2,) = await first, await second  # before the fix: OSError EBADF for the first send
        assert (m1.offset, m2.offset) == (0, 1)
        assert open_fds_to(first_segment) == []  # closed once its fsync ended, not leaked
    finally:
        held.release()
        await log.stop()


async def test_stop_waits_for_the_fsync_round_in_flight_then_refuses_to_sync(tmp_path, monkeypatch):
    log = EmbeddedLog(str(tmp_path))
    await log.start()
    held = HeldFsync(monkeypatch, GROUP_COMMIT_THREAD)
    try:
        send = asyncio.create_task(log.producer().send_batch([ProducerRecord("t", None, b"x", partition=0)]))
        await held.wait_entered()
        (segment,) = segment_paths(tmp_path)
        stop = asyncio.create_task(log.stop())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not stop.done() and open_fds_to(segment)  # the segment stays open under its fsync
        held.release()
        assert [m.offset for m in await send] == [0]
        await stop
        assert open_fds_to(segment) == []
        with pytest.raises(ConnectError, match="stopped"):
            await log.sync([])
    finally:
        held.release()
        await log.stop()


async def test_retention_rolls_and_deletes_in_the_writer_thread_while_the_loop_runs(tmp_path, monkeypatch):
    writer = EmbeddedLog(str(tmp_path))  # no retention here: the records stay until the log below opens
    await writer.start()
    await writer.producer().send_batch(
        [ProducerRecord("t", None, b"y", partition=0, timestamp=1_000 + i) for i in range(5)]
    )
    await writer.stop()
    log = EmbeddedLog(str(tmp_path), retention_ms=60_000)  # 1970's records: every one expired
    await log.start()
    held = HeldFsync(monkeypatch, WRITER_THREAD)  # retention rolls the only segment, fsyncing it
    try:
        retention = asyncio.create_task(log.enforce_retention())
        await held.wait_entered()
        for _ in range(20):  # the loop goes on while the roll's fsync (holding the partition lock) is held
            await asyncio.sleep(0)
        assert not retention.done()
        held.release()
        assert await retention == 1
        assert await log.beginning_offsets([TP]) == {TP: 5}
        assert len(segment_paths(tmp_path)) == 1
    finally:
        held.release()
        await log.stop()


async def test_a_stopped_log_started_again_syncs_sends(tmp_path):
    log = EmbeddedLog(str(tmp_path))
    await log.start()
    await log.producer().send_batch([ProducerRecord("t", None, b"before", partition=0)])
    await log.stop()
    await log.start()
    try:
        assert [
            m.offset for m in await log.producer().send_batch([ProducerRecord("t", None, b"after", partition=0)])
        ] == [1]
    finally:
        await log.stop()
