"""WorkerGroupMember on a real Kafka broker: members join the `connect` group and the leader's assignment spreads
the work; a member that leaves or dies has its work moved as Kafka moves it (at once, or after
scheduled.rebalance.max.delay.ms); eager, compatible and sessioned members agree on a protocol."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from group_worker import GroupWorker, snapshot_of
from helpers.worker_group import eventually

from miniconnect.distributed.member import GroupError, WorkerGroupMember
from miniconnect.errors import ConnectError
from miniconnect.runtime.states import TaskId

pytestmark = pytest.mark.asyncio(loop_scope="session")

CONNECTORS = {"alpha": 3, "beta": 3, "gamma": 2}
ALL_TASKS = sorted(TaskId(c, i) for c, n in CONNECTORS.items() for i in range(n))


def settled(workers: list[GroupWorker], tasks: list[TaskId] = ALL_TASKS) -> bool:
    """Every task runs on exactly one worker, all at the same generation, no rebalance pending."""
    running = sorted(t for w in workers for t in w.tasks)
    gens = {w.member.generation for w in workers}
    return running == tasks and len(gens) == 1 and not any(w.member.rejoin_needed() for w in workers)


def balanced(workers: list[GroupWorker]) -> bool:
    sizes = [len(w.tasks) for w in workers]
    connectors = [len(w.connectors) for w in workers]
    return max(sizes) - min(sizes) <= 1 and max(connectors) - min(connectors) <= 1


def no_task_twice(workers: list[GroupWorker]) -> bool:
    running = [t for w in workers for t in w.tasks]
    return len(running) == len(set(running))


@pytest.fixture
def group() -> str:
    return f"connect-cluster-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def workers(kafka_bootstrap: str, group: str):
    made: list[GroupWorker] = []
    config = {"snapshot": snapshot_of(CONNECTORS)}

    def make(name: str, **kw) -> GroupWorker:
        w = GroupWorker(kafka_bootstrap, group, f"http://{name}:8083/", config, **kw)
        made.append(w)
        return w

    async def start_settled(n: int, **kw) -> list[GroupWorker]:
        ws = [make(f"w{i}", **kw) for i in range(n)]
        for w in ws:
            await w.start()
        await eventually(f"{n} members settle", lambda: settled(ws))
        return ws

    make.start_settled = start_settled  # type: ignore[attr-defined]
    yield make
    for w in made:
        await w.stop()


async def test_members_join_share_the_work_and_a_new_member_takes_a_share_without_restarts(workers) -> None:
    ws = [workers(f"w{i}") for i in range(3)]
    for w in ws:
        await w.start()
    await eventually("three members settle on a balanced assignment", lambda: settled(ws) and balanced(ws))
    leader = next(w for w in ws if w.member.is_leader())
    assert all(w.member.protocol_version == 2 for w in ws)
    assert all(w.member.leader_id == leader.member.member_id for w in ws)
    for w in ws:
        for t in w.tasks:
            assert leader.member.owner_url(t) == w.url
        for c in w.connectors:
            assert leader.member.owner_url(c) == w.url
    assert all(w.member.owner_url(ALL_TASKS[0]) is None for w in ws if w is not leader)
    assert all(a.leader_url == leader.url for w in ws for _, a in w.assignments)

    starts_before = [sum(w.starts.values()) for w in ws]
    revocations_before = [len(w.revocations) for w in ws]
    fourth = workers("w3")
    await fourth.start()
    await eventually("the fourth member gets a share", lambda: settled(ws + [fourth]) and balanced(ws + [fourth]))
    assert fourth.tasks
    # Nothing started again on the first three: what stayed kept running; only the surplus moved to the newcomer.
    assert [sum(w.starts.values()) for w in ws] == starts_before
    revoked = [t for w, n in zip(ws, revocations_before) for _, ts in w.revocations[n:] for t in ts]
    assert sorted(revoked) == sorted(fourth.tasks)


async def test_a_member_that_leaves_hands_back_its_work(workers) -> None:
    ws = await workers.start_settled(3, delay_ms=4000)
    # A follower leaves with LeaveGroup: the group rebalances at once (no session timeout); Kafka's assignor
    # cannot tell a clean leave from a crash, so its work follows after the scheduled delay.
    follower = next(w for w in ws if not w.member.is_leader())
    gone = set(follower.tasks)
    left_at = time.monotonic()
    await follower.stop()
    rest = [w for w in ws if w is not follower]
    await eventually(
        "the rebalance after the leave reports the delay",
        lambda: any(a.delay > 0 for w in rest for _, a in w.assignments),
        timeout=20,
    )
    assert time.monotonic() - left_at < 5  # well before the 6 s session timeout: LeaveGroup was heard
    delays = [a.delay for w in rest for _, a in w.assignments if a.delay > 0]
    assert 0 < max(delays) <= 4000
    assert not gone & {t for w in rest for t in w.tasks}  # held back meanwhile
    await eventually("the departed member's tasks run on the others after the delay", lambda: settled(rest))
    assert time.monotonic() - left_at >= 3.5

    # The leader leaving: its successor has no record of the leader's work, so it is reassigned at once.
    leader = next(w for w in rest if w.member.is_leader())
    survivor = next(w for w in rest if w is not leader)
    await leader.stop()
    await eventually("the leader's tasks move to the survivor", lambda: settled([survivor]), timeout=20)
    assert all(a.delay == 0 for _, a in survivor.assignments[-1:])


async def test_a_crashed_member_s_work_moves_after_the_session_timeout_and_the_delay(workers) -> None:
    ws = await workers.start_settled(3, delay_ms=3000)
    victim = next(w for w in ws if not w.member.is_leader())
    lost = set(victim.tasks)
    await victim.crash()
    rest = [w for w in ws if w is not victim]
    generation = rest[0].member.generation
    await eventually(
        "the group notices the crash and schedules the delay",
        lambda: any(a.delay > 0 for w in rest for g, a in w.assignments if g > generation),
    )
    assert not lost & {t for w in rest for t in w.tasks}
    await eventually("the lost tasks run again elsewhere", lambda: settled(rest))
    assert lost <= {t for w in rest for t in w.tasks}


async def test_a_killed_member_process_s_work_moves(workers, kafka_bootstrap: str, group: str) -> None:
    ws = await workers.start_settled(2, delay_ms=3000)
    proc = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("group_worker.py")),
            kafka_bootstrap,
            group,
            "http://child:8083/",
            "sessioned",
            "3000",
            json.dumps(CONNECTORS),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        child_tasks: list[str] = []

        async def read_child() -> None:
            while True:
                line = await asyncio.to_thread(proc.stdout.readline)
                if not line:
                    return
                child_tasks[:] = json.loads(line)["tasks"]

        reader = asyncio.create_task(read_child())
        await eventually(
            "the child process takes a share",
            lambda: bool(child_tasks) and settled(ws, sorted(t for t in ALL_TASKS if str(t) not in child_tasks)),
        )
        proc.kill()
        proc.wait(timeout=30)
        await reader
        await eventually("the killed process's tasks run on the others", lambda: settled(ws))
        assert {str(t) for w in ws for t in w.tasks} >= set(child_tasks)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    "protocols, expected_version",
    [
        (("sessioned", "compatible"), 1),
        (("sessioned", "eager"), 0),
    ],
)
async def test_members_agree_on_the_highest_common_protocol(workers, protocols, expected_version) -> None:
    ws = [workers(f"w{i}", protocol=p) for i, p in enumerate(protocols)]
    for w in ws:
        await w.start()
    await eventually(
        "members settle", lambda: settled(ws) and all(w.member.protocol_version == expected_version for w in ws)
    )
    assert all(a.version == expected_version for w in ws for _, a in w.assignments[-1:])
    if expected_version == 0:  # eager: a rebalance revokes everything first
        before = [len(w.revocations) for w in ws]
        ws[0].member.request_rejoin()
        ws[0]._wake.set()
        await eventually(
            "an eager rebalance revokes all",
            lambda: all(len(w.revocations) > b for w, b in zip(ws, before)) and settled(ws),
        )


async def test_a_group_id_used_by_a_consumer_group_is_refused(kafka_bootstrap: str, group: str) -> None:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, group_id=group, session_timeout_ms=30000, heartbeat_interval_ms=1000
    )
    await consumer.start()
    member = None
    try:
        await eventually(
            "the consumer joined",
            lambda: consumer.assignment() is not None and consumer._coordinator.generation > 0,
            timeout=60,
        )
        member = WorkerGroupMember(
            bootstrap_servers=kafka_bootstrap,
            client_config={},
            group_id=group,
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
            rebalance_timeout_ms=20000,
            scheduled_rebalance_max_delay_ms=1000,
            protocol="sessioned",
            url="http://w:8083/",
            config_snapshot=lambda: snapshot_of({}),
            listener=None,
        )  # type: ignore[arg-type]
        await member.start()
        with pytest.raises(GroupError, match=f"Group {group} is already used by members of another protocol"):
            await asyncio.wait_for(member.ensure_active(), 60)
    finally:
        if member is not None:
            await member.stop()
        await consumer.stop()


async def test_an_unreachable_broker_is_named_in_the_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    member = WorkerGroupMember(
        bootstrap_servers=f"127.0.0.1:{port}",
        client_config={},
        group_id="g",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        rebalance_timeout_ms=20000,
        scheduled_rebalance_max_delay_ms=1000,
        protocol="sessioned",
        url="http://w:8083/",
        config_snapshot=lambda: snapshot_of({}),
        listener=None,
    )  # type: ignore[arg-type]
    with pytest.raises(ConnectError, match=f"Could not reach Kafka at 127.0.0.1:{port} to join group g"):
        await member.start()
    await member.stop()


async def test_a_member_expelled_for_missed_heartbeats_rejoins_and_keeps_its_work(workers) -> None:
    ws = await workers.start_settled(2, delay_ms=30000)
    stalled = next(w for w in ws if not w.member.is_leader())
    other = next(w for w in ws if w is not stalled)
    old_id = stalled.member.member_id
    heartbeats = stalled.member._heartbeat_task  # a stall: no heartbeat for longer than the session timeout
    heartbeats.cancel()
    await asyncio.gather(heartbeats, return_exceptions=True)
    generation = other.member.generation
    await eventually(
        "the coordinator expels the silent member",
        lambda: other.member.generation > generation and not other.member.rejoin_needed(),
    )
    assert other.assignments[-1][1].delay > 0  # its work is held for it
    stalled.member._heartbeat_task = asyncio.create_task(stalled.member._heartbeat_loop())
    await eventually(
        "the expelled member rejoins under a new id, reporting (and keeping) the work it still runs",
        lambda: settled(ws) and stalled.member.member_id != old_id and bool(stalled.tasks),
    )
