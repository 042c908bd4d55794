"""The registries' leader election through a rebalance, on the real broker (two LeaderElectors in one group): with
leader.election.sticky the leader stays leader when a member with a smaller URL joins and is never revoked, so it
takes writes throughout; without it, the rebalance revokes it and the smaller URL leads, as in Confluent's registry."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from miniconnect.schema_registry.election import ElectionResult, LeaderElector, RegistryIdentity


async def _join_second(bootstrap: str, sticky: bool) -> tuple[list[tuple[str, str | None]], str | None]:
    """`b` (the larger URL) alone, then `a` joins: b's events, and the leader both end up with."""
    group = f"sr-sticky-{uuid.uuid4().hex[:8]}"
    events: dict[str, list[tuple[str, str | None]]] = {"a": [], "b": []}

    def elector(host: str, port: int) -> LeaderElector:
        async def on_elected(result: ElectionResult) -> None:
            events[host].append(("elected", result.leader_identity.url if result.leader_identity else None))

        async def on_revoked() -> None:
            events[host].append(("revoked", None))

        return LeaderElector(
            RegistryIdentity(host, port),
            on_elected,
            on_revoked,
            sticky,
            bootstrap_servers=bootstrap,
            client_config={},
            group_id=group,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=300,
            rebalance_timeout_ms=10_000,
        )

    async def until(check, what: str) -> None:
        for _ in range(600):
            if check():
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}: {events}")

    b, a = elector("b", 2), elector("a", 1)
    await b.start()
    try:
        await until(lambda: events["b"] == [("elected", "http://b:2")], "b alone to lead")
        await a.start()
        try:
            await until(
                lambda: [e for e, _ in events["b"]].count("elected") == 2 and ("elected" in dict(events["a"])),
                "the rebalance with a",
            )
            assert a.result is not None and b.result is not None
            leader = a.result.leader_identity.url if a.result.leader_identity else None
            assert b.result.leader_identity is not None and b.result.leader_identity.url == leader
            return events["b"], leader
        finally:
            await a.stop()
    finally:
        await b.stop()


@pytest.mark.parametrize("sticky", [True, False])
def test_a_member_joining_keeps_the_sticky_leader(kafka_bootstrap: str, sticky: bool) -> None:
    b_events, leader = asyncio.run(_join_second(kafka_bootstrap, sticky))
    if sticky:
        assert leader == "http://b:2"  # the leader stays, though a's URL is smaller
        assert b_events == [("elected", "http://b:2"), ("elected", "http://b:2")]  # never revoked: writes go on
    else:
        assert leader == "http://a:1"
        assert b_events == [("elected", "http://b:2"), ("revoked", None), ("elected", "http://a:1")]
