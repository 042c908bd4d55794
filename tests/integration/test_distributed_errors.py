"""Bad input to a distributed worker, on the real broker: each gets an error naming what is wrong."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from helpers.distributed import wait_for
from servers import run_async
from worker_process import distributed_worker


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def test_internal_topic_with_delete_policy_is_refused(tmp_path: Path, kafka_bootstrap: str) -> None:
    group = f"bad-{_uid()}"

    async def create() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(f"{group}-configs", 1, 1, topic_configs={"cleanup.policy": "delete"})])
        finally:
            await admin.close()

    run_async(create)
    worker = distributed_worker(tmp_path, kafka_bootstrap, group)
    try:
        worker.start(timeout=60)
    except RuntimeError:
        pass  # exited before its REST API answered
    assert worker.proc is not None
    assert worker.proc.wait(60) != 0
    assert (
        f"Topic '{group}-configs' supplied via the 'config.storage.topic' property is required to have "
        f"'cleanup.policy=compact'"
    ) in worker.log()


def test_unreachable_broker_is_named(tmp_path: Path) -> None:
    worker = distributed_worker(tmp_path, "127.0.0.1:1", f"bad-{_uid()}")
    try:
        worker.start(timeout=5)
    except TimeoutError:
        pass  # the REST API waits for Kafka; start() killed the worker after its timeout
    assert "Kafka at 127.0.0.1:1 not reachable" in worker.log()


def test_group_id_of_a_consumer_group_is_refused(tmp_path: Path, kafka_bootstrap: str) -> None:
    group = f"consumers-{_uid()}"
    stop = asyncio.Event()

    async def consume() -> None:
        consumer = AIOKafkaConsumer(f"t-{group}", bootstrap_servers=kafka_bootstrap, group_id=group)
        await consumer.start()
        try:
            while not stop.is_set():
                await consumer.getmany(timeout_ms=200)
        finally:
            await consumer.stop()

    import threading

    t = threading.Thread(target=lambda: asyncio.run(consume()))
    t.start()
    try:
        worker = distributed_worker(tmp_path, kafka_bootstrap, group)
        try:
            worker.start(timeout=60)
        except RuntimeError:
            pass
        assert worker.proc is not None
        wait_for("the worker to give up", lambda: worker.proc.poll() is not None, [worker], 60)
        assert worker.proc.returncode != 0
        assert (
            f"Group {group} is already used by members of another protocol type (e.g. a consumer group)" in worker.log()
        )
    finally:
        stop.set()
        t.join()
