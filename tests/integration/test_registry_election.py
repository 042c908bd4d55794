"""Three workers' registries on one `_schemas` topic on real Kafka elect their leader in a Kafka group, as Confluent's
Schema Registry does (protocol type "sr", JSON identities, the eligible member with the smallest URL leads): the
leader takes writes, the others forward to it, and when the leader is killed another takes over. Ids stay unique and
no acknowledged write is lost, also of those made while the leader dies."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from registry_testkit import free_port
from worker_process import WorkerProcess

CT = {"Content-Type": "application/vnd.schemaregistry.v1+json"}
FORWARDED = {**CT, "X-Miniconnect-Forwarded": "true"}  # a follower refuses these: only the leader writes them


def record(name: str, *fields: str) -> str:
    return json.dumps({"type": "record", "name": name, "fields": [{"name": f, "type": "string"} for f in fields]})


def registry(workdir: Path, bootstrap: str, topic: str, group: str, eligible: bool = True) -> tuple[WorkerProcess, str]:
    port = free_port()
    extra = {
        "bootstrap.servers": bootstrap,
        "schema.registry.listeners": f"http://127.0.0.1:{port}",
        "schema.registry.topic": topic,
        "schema.registry.topic.replication.factor": "1",
        "schema.registry.compatibility.level": "NONE",
        "schema.registry.group.id": group,
        "schema.registry.leader.eligibility": str(eligible).lower(),
        "schema.registry.group.session.timeout.ms": "6000",
        "schema.registry.group.heartbeat.interval.ms": "1000",
    }
    return WorkerProcess(workdir, extra=extra), f"http://127.0.0.1:{port}"


def register(url: str, subject: str, schema: str, headers: dict[str, str] = CT) -> httpx.Response:
    return httpx.post(f"{url}/subjects/{subject}/versions", json={"schema": schema}, headers=headers, timeout=60)


def leaders(urls: list[str], probe: str) -> list[str]:
    """The registries that write themselves (a forwarded write is refused by followers)."""
    return [u for u in urls if register(u, f"{probe}-value", record("Probe", "p"), FORWARDED).status_code == 200]


def describe(bootstrap: str, group: str) -> Any:
    async def run() -> Any:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            return (await admin.describe_consumer_groups([group]))[0].groups[0]
        finally:
            await admin.close()

    return asyncio.run(run())


def test_registries_elect_a_leader_in_a_kafka_group(tmp_path: Path, kafka_bootstrap: str) -> None:
    topic, group = f"_schemas_{uuid.uuid4().hex[:8]}", f"sr-{uuid.uuid4().hex[:8]}"
    a, a_url = registry(tmp_path / "a", kafka_bootstrap, topic, group)
    b, b_url = registry(tmp_path / "b", kafka_bootstrap, topic, group)
    c, c_url = registry(tmp_path / "c", kafka_bootstrap, topic, group, eligible=False)
    workers = [a, b, c]
    try:
        for w in workers:
            w.start(timeout=120)
        urls = [a_url, b_url, c_url]
        # Confluent's rule: the eligible member with the smallest URL leads; every member learns it
        expected = min(a_url, b_url)
        assert c.wait_for(lambda: leaders(urls, f"probe-{time.monotonic_ns()}") == [expected], 60, "one leader")

        # the group on the broker, as Confluent's registries form it: protocol type sr, subprotocol v0, JSON
        described = describe(kafka_bootstrap, group)
        assert described[3:5] == ("sr", "v0")  # (error, group, state, protocol_type, protocol, members, ...)
        members = described[5]
        assert len(members) == 3
        identities = sorted((json.loads(m[3]) for m in members), key=lambda i: i["port"])
        assert {(i["host"], i["port"], i["master_eligibility"], i["scheme"], i["version"]) for i in identities} == {
            ("127.0.0.1", int(u.rsplit(":", 1)[1]), u != c_url, "http", 1) for u in urls
        }
        assignments = [json.loads(m[4]) for m in members]
        assert all(x == assignments[0] for x in assignments)
        assert assignments[0]["error"] == 0 and assignments[0]["version"] == 1
        leader_identity = assignments[0]["master_identity"]
        assert f"http://{leader_identity['host']}:{leader_identity['port']}" == expected
        assert assignments[0]["master"] in {m[0] for m in members}

        # writes through every member, at once: one writer picks the ids
        jobs = [
            (urls[i % 3], f"s{i % 4}-value", record(f"R{i}", *(f"f{j}" for j in range(i // 4 + 1)))) for i in range(18)
        ]
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda job: register(*job), jobs))
        assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
        ids = [r.json()["id"] for r in answers]
        assert len(set(ids)) == len(jobs)

        # the leader killed: the group expels it, elects the other eligible member, and writes go on
        leader, survivor = (a, b_url) if expected == a_url else (b, a_url)
        acked: list[tuple[int, str]] = []  # writes acknowledged while the leader dies and the group elects another
        done = threading.Event()

        def keep_writing() -> None:
            i = 0
            while not done.is_set():
                schema = record(f"During{i}", "d")
                try:
                    r = register((survivor, c_url)[i % 2], "during-value", schema)
                except httpx.HTTPError:
                    r = None
                if r is not None and r.status_code == 200:
                    acked.append((r.json()["id"], schema))
                i += 1

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            c.wait_for(lambda: len(acked) >= 3, 60, "writes before the kill")
            leader.kill()
            assert c.wait_for(
                lambda: leaders([survivor, c_url], f"after-{time.monotonic_ns()}") == [survivor], 90, "failover"
            )
            before = len(acked)
            c.wait_for(lambda: len(acked) >= before + 3, 60, "writes after the failover")
        finally:
            done.set()
            writer.join()
        more = []
        for i, url in enumerate([survivor, c_url] * 3):
            r = register(url, f"s{i % 4}-value", record(f"After{i}", "x", *(f"g{j}" for j in range(i))))
            assert r.status_code == 200, r.text
            more.append(r.json()["id"])
        assert not set(more) & set(ids) and len(set(more)) == len(more)
        acked_ids = [schema_id for schema_id, _ in acked]
        assert len(set(acked_ids)) == len(acked_ids) and not (set(ids) | set(more)) & set(acked_ids)

        # nothing acknowledged was lost: both survivors hold every schema, versions without gaps
        for url in (survivor, c_url):
            for schema_id, job in zip(ids + more, jobs + [None] * len(more), strict=True):
                r = httpx.get(f"{url}/schemas/ids/{schema_id}", timeout=10)
                assert r.status_code == 200, r.text
                if job is not None:
                    assert json.loads(r.json()["schema"]) == json.loads(job[2])
            for n in range(4):
                versions = httpx.get(f"{url}/subjects/s{n}-value/versions", timeout=10).json()
                assert versions == list(range(1, len(versions) + 1))
            assert sum(len(httpx.get(f"{url}/subjects/s{n}-value/versions", timeout=10).json()) for n in range(4)) == 24
            for schema_id, schema in acked:
                r = httpx.get(f"{url}/schemas/ids/{schema_id}", timeout=10)
                assert r.status_code == 200 and json.loads(r.json()["schema"]) == json.loads(schema), r.text

        # no eligible member left: the ineligible one serves reads and says why it cannot write (while the group
        # rebalances it answers that it is electing a leader, with the same error code)
        {a_url: a, b_url: b}[survivor].stop()
        r = c.wait_for(
            lambda: (
                (r := register(c_url, "late-value", record("Late", "a"))).status_code == 500
                and r.json()["error_code"] == 50004
                and "eligible" in r.json()["message"]
                and r
            ),
            60,
            "no leader",
        )
        assert r.json()["message"].startswith("Leader not known: No leader-eligible schema registry")
        assert httpx.get(f"{c_url}/schemas/ids/{ids[0]}", timeout=10).status_code == 200
    finally:
        for w in workers:
            w.stop()
