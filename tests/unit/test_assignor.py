"""The leader's assignors: Kafka's IncrementalCooperativeAssignorTest scenarios (join, leave, lost worker with the
scheduled delay, rebalance to balance), each round also decided by Kafka's own IncrementalCooperativeAssignor (a
Java harness on Kafka Connect 4.1.1's jars) and required to be identical; and the eager round robin."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
from javaharness.harness import JavaHarness

from miniconnect.distributed.assignor import (
    AssignmentContext,
    ConnectorsAndTasks,
    EagerAssignor,
    IncrementalCooperativeAssignor,
)
from miniconnect.distributed.protocol import (
    CONFIG_MISMATCH,
    ExtendedWorkerState,
    deserialize_assignment,
    serialize_metadata,
    serialize_metadata_v0,
)
from miniconnect.distributed.state import ClusterConfigState
from miniconnect.runtime.states import TaskId

MAX_DELAY = 300_000


def _snapshot(connectors: dict[str, int], offset: int = 1) -> ClusterConfigState:
    return ClusterConfigState(
        offset=offset, connector_task_counts=dict(connectors), connector_configs={c: {} for c in connectors}
    )


@dataclass
class Cluster:
    """Workers that apply each assignment as WorkerCoordinator.onJoinComplete does, and every round's inputs and
    outputs, to replay through Kafka's assignor."""

    max_delay: int = MAX_DELAY
    now: int = 1_000_000
    connectors: dict[str, int] = field(default_factory=dict)
    members: dict[str, ConnectorsAndTasks] = field(default_factory=dict)
    generation: int = 0
    last_completed: int = 0
    rounds: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.assignor = IncrementalCooperativeAssignor(self.max_delay, now_ms=lambda: self.now)

    def rebalance(self, *, sync_fails: bool = False) -> dict:
        self.generation += 1
        self.rounds.append(
            {
                "now": self.now,
                "connectors": dict(self.connectors),
                "generation": self.generation,
                "last_completed_generation": self.last_completed,
                "members": {
                    w: {"connectors": list(a.connectors), "tasks": [[t.connector, t.task] for t in a.tasks]}
                    for w, a in self.members.items()
                },
            }
        )
        result = self.assignor.perform_task_assignment(
            _snapshot(self.connectors),
            self.last_completed,
            self.generation,
            {w: ConnectorsAndTasks.of(a.connectors, a.tasks) for w, a in self.members.items()},
        )
        out = {
            k: {w: [[v.connector, v.task] if isinstance(v, TaskId) else v for v in vs] for w, vs in m.items()}
            for k, m in vars(result).items()
        }
        out["delay"] = self.assignor.delay
        self.results.append(out)
        if not sync_fails:
            for w, a in self.members.items():
                revoked_c = set(result.newly_revoked_connectors.get(w, ()))
                revoked_t = set(result.newly_revoked_tasks.get(w, ()))
                self.members[w] = ConnectorsAndTasks.of(
                    result.newly_assigned_connectors.get(w, []) + [c for c in a.connectors if c not in revoked_c],
                    result.newly_assigned_tasks.get(w, []) + [t for t in a.tasks if t not in revoked_t],
                )
            self.last_completed = self.generation
        return out

    def join(self, *workers: str) -> None:
        for w in workers:
            self.members[w] = ConnectorsAndTasks()

    def counts(self) -> dict[str, tuple[int, int]]:
        return {w: (len(a.connectors), len(a.tasks)) for w, a in self.members.items()}

    def running(self) -> tuple[list[str], list[TaskId]]:
        return (
            [c for a in self.members.values() for c in a.connectors],
            [t for a in self.members.values() for t in a.tasks],
        )

    def assert_all_run_once(self) -> None:
        connectors, tasks = self.running()
        assert sorted(connectors) == sorted(self.connectors)
        assert sorted(tasks) == sorted(TaskId(c, i) for c, n in self.connectors.items() for i in range(n))

    def assert_balanced(self) -> None:
        cs = [c for c, _ in self.counts().values()]
        ts = [t for _, t in self.counts().values()]
        assert max(cs) - min(cs) <= 1 and max(ts) - min(ts) <= 1, self.counts()


@pytest.fixture(scope="module")
def kafka_assignor(tmp_path_factory: pytest.TempPathFactory) -> JavaHarness:
    return JavaHarness(
        "AssignorHarness",
        tmp_path_factory.mktemp("assignor-harness"),
        package="org.apache.kafka.connect.runtime.distributed",
    )


_clusters: list[Cluster] = []


@pytest.fixture
def cluster() -> Cluster:
    c = Cluster()
    _clusters.append(c)
    return c


def test_first_assignment_spreads_connectors_and_tasks(cluster: Cluster) -> None:
    cluster.connectors = {"a": 4, "b": 4}
    cluster.join("w1", "w2", "w3")
    r = cluster.rebalance()
    assert r["delay"] == 0 and not any(r["newly_revoked_tasks"].values())
    cluster.assert_all_run_once()
    cluster.assert_balanced()


def test_a_joining_worker_takes_a_share_without_restarting_the_rest(cluster: Cluster) -> None:
    cluster.connectors = {"a": 4, "b": 4}
    cluster.join("w1", "w2")
    cluster.rebalance()
    before = {w: set(a.tasks) for w, a in cluster.members.items()}
    cluster.join("w3")
    r = cluster.rebalance()  # the new worker arrives: only the surplus is revoked, nothing assigned yet
    revoked = [t for ts in r["newly_revoked_tasks"].values() for t in ts]
    assert len(revoked) == 2 and not r["newly_assigned_tasks"].get("w3")
    r = cluster.rebalance()  # the follow-up round hands the revoked work to the newcomer
    assert len(r["newly_assigned_tasks"]["w3"]) == 2 and r["delay"] == 0
    for w in ("w1", "w2"):  # what stayed never stopped
        assert set(cluster.members[w].tasks) <= before[w]
    cluster.assert_all_run_once()
    cluster.assert_balanced()


def test_a_lost_worker_s_work_waits_for_the_scheduled_delay_then_moves(cluster: Cluster) -> None:
    cluster.connectors = {"a": 3, "b": 3}
    cluster.join("w1", "w2", "w3")
    cluster.rebalance()
    lost = cluster.members.pop("w2")
    r = cluster.rebalance()
    assert r["delay"] == MAX_DELAY and not any(r["newly_assigned_tasks"].values())
    cluster.now += 100_000
    r = cluster.rebalance()  # someone rejoins early: still waiting, for the rest of the delay
    assert r["delay"] == MAX_DELAY - 100_000 and not any(r["newly_assigned_tasks"].values())
    cluster.now += MAX_DELAY - 100_000
    r = cluster.rebalance()
    assert r["delay"] == 0
    moved = [t for ts in r["newly_assigned_tasks"].values() for t in ts]
    assert sorted(map(tuple, moved)) == sorted((t.connector, t.task) for t in lost.tasks)
    cluster.assert_all_run_once()


def test_a_lost_worker_that_returns_within_the_delay_gets_its_work_back(cluster: Cluster) -> None:
    cluster.connectors = {"a": 4}
    cluster.join("w1", "w2")
    cluster.rebalance()
    lost = cluster.members.pop("w2")
    assert cluster.rebalance()["delay"] == MAX_DELAY
    cluster.now += 10_000
    cluster.join("w2")  # back, empty (it restarted)
    r = cluster.rebalance()
    assert r["delay"] == MAX_DELAY - 10_000
    cluster.now += MAX_DELAY
    r = cluster.rebalance()
    # The lost work goes to the returning (empty) worker, not the busy one.
    assert sorted(map(tuple, r["newly_assigned_tasks"]["w2"])) == sorted((t.connector, t.task) for t in lost.tasks)
    assert not r["newly_assigned_tasks"].get("w1")
    cluster.assert_all_run_once()
    cluster.assert_balanced()


def test_the_leader_leaving_moves_its_work_at_once(cluster: Cluster) -> None:
    cluster.connectors = {"a": 4}
    cluster.join("w1", "w2")
    cluster.rebalance()
    # A new leader has a fresh assignor: nothing "previous" to miss, so the departed work counts as new.
    successor = Cluster(
        now=cluster.now,
        connectors=cluster.connectors,
        members={"w2": cluster.members["w2"]},
        generation=cluster.generation,
        last_completed=cluster.last_completed,
    )
    _clusters.append(successor)
    r = successor.rebalance()
    assert r["delay"] == 0
    successor.assert_all_run_once()


def test_deleted_connectors_are_revoked_and_new_ones_assigned(cluster: Cluster) -> None:
    cluster.connectors = {"a": 2, "b": 2}
    cluster.join("w1", "w2")
    cluster.rebalance()
    del cluster.connectors["a"]
    cluster.connectors["c"] = 3
    r = cluster.rebalance()
    revoked = sorted(t[0] for ts in r["newly_revoked_tasks"].values() for t in ts)
    assert revoked == ["a", "a"]
    cluster.assert_all_run_once()
    cluster.rebalance()
    cluster.assert_balanced()


def test_duplicated_work_is_revoked_from_one_worker(cluster: Cluster) -> None:
    cluster.connectors = {"a": 2}
    cluster.join("w1", "w2")
    cluster.rebalance()
    cluster.members["w2"].tasks.update(cluster.members["w1"].tasks)  # e.g. a zombie that missed a revocation
    cluster.rebalance()
    cluster.rebalance()
    cluster.assert_all_run_once()


def test_a_failed_sync_forgets_the_previous_view(cluster: Cluster) -> None:
    cluster.connectors = {"a": 6}
    cluster.join("w1", "w2", "w3")
    cluster.rebalance()
    cluster.join("w4")
    cluster.rebalance(sync_fails=True)
    cluster.rebalance()
    cluster.rebalance()
    cluster.assert_all_run_once()


def test_random_rounds(cluster: Cluster) -> None:
    rng = random.Random(14)
    for _ in range(12):
        c = Cluster(max_delay=rng.choice([0, 5_000, MAX_DELAY]))
        _clusters.append(c)
        c.connectors = {f"conn-{i}": rng.randint(0, 5) for i in range(rng.randint(1, 6))}
        c.join(*(f"connect-{i}-{rng.getrandbits(32):08x}" for i in range(rng.randint(1, 5))))
        for _ in range(25):
            op = rng.random()
            if op < 0.15:
                c.join(f"connect-x-{rng.getrandbits(32):08x}")
            elif op < 0.3 and len(c.members) > 1:
                c.members.pop(rng.choice(sorted(c.members)))
            elif op < 0.4:
                c.connectors[f"conn-{rng.randint(0, 20)}"] = rng.randint(0, 6)
            elif op < 0.45 and c.connectors:
                c.connectors.pop(rng.choice(sorted(c.connectors)))
            c.now += rng.choice([0, 1_000, 4_000, 60_000, 400_000])
            c.rebalance(sync_fails=rng.random() < 0.05)
        while c.rebalance()["delay"] or any(any(v) for v in c.results[-1]["newly_revoked_tasks"].values()):
            c.now += MAX_DELAY
        c.assert_all_run_once()


def test_kafka_s_assignor_decides_every_round_the_same(kafka_assignor: JavaHarness) -> None:
    """Runs last: replays every round of the tests above through Kafka's own assignor."""
    assert _clusters, "run with the scenario tests above"
    theirs = kafka_assignor.run([{"max_delay": c.max_delay, "rounds": c.rounds} for c in _clusters])
    compared = 0
    for c, kafka_rounds in zip(_clusters, theirs):
        for i, (ours, kafka) in enumerate(zip(c.results, kafka_rounds)):
            if ours != kafka:
                diff = {
                    k: (ours.get(k), kafka.get(k)) for k in ours.keys() | kafka.keys() if ours.get(k) != kafka.get(k)
                }
                raise AssertionError(f"round {i} differs (ours, Kafka's): {diff}\ninputs: {c.rounds[: i + 1]}")
            compared += 1
    assert compared >= 250


def test_eager_assignor_deals_connectors_then_tasks_round_robin() -> None:
    members = [(f"w{i}", serialize_metadata_v0(ExtendedWorkerState(f"http://w{i}:8083", 5))) for i in (2, 1, 3)]
    snapshot = _snapshot({"b": 2, "a": 3}, offset=5)
    ctx = AssignmentContext(snapshot, lambda: snapshot, 3, 2)
    out = {
        m: deserialize_assignment(b)
        for m, b in EagerAssignor().perform_assignment("w1", "default", members, ctx).items()
    }
    assert {m: (a.connectors, [str(t) for t in a.tasks]) for m, a in out.items()} == {
        "w1": (["a"], ["a-1", "b-1"]),
        "w2": (["b"], ["a-2"]),
        "w3": ([], ["a-0", "b-0"]),
    }
    assert all(a.leader == "w1" and a.leader_url == "http://w1:8083" and a.offset == 5 for a in out.values())
    assert ctx.leader_state is not None and ctx.leader_state.owner_url(TaskId("b", 1)) == "http://w1:8083"


def test_a_leader_behind_the_members_config_answers_config_mismatch() -> None:
    members = [
        ("w1", serialize_metadata(ExtendedWorkerState("http://w1", 3), True)),
        ("w2", serialize_metadata(ExtendedWorkerState("http://w2", 9), True)),
    ]
    stale = _snapshot({"a": 1}, offset=3)
    ctx = AssignmentContext(stale, lambda: stale, 2, 1)
    out = IncrementalCooperativeAssignor(MAX_DELAY).perform_assignment("w1", "sessioned", members, ctx)
    for data in out.values():
        a = deserialize_assignment(data)
        assert a.error == CONFIG_MISMATCH and a.offset == 9 and a.version == 2 and not a.tasks
    fresh = _snapshot({"a": 1}, offset=9)  # a fresh read catches up: assign at its offset
    ctx = AssignmentContext(stale, lambda: fresh, 2, 1)
    out = IncrementalCooperativeAssignor(MAX_DELAY).perform_assignment("w1", "sessioned", members, ctx)
    assert {deserialize_assignment(d).error for d in out.values()} == {0}
    assert sum(len(deserialize_assignment(d).tasks) for d in out.values()) == 1
