"""The Schema Registry's leader election rules and wire format (Confluent's SchemaRegistryCoordinator and
SchemaRegistryProtocol): the eligible member with the smallest URL leads, ineligible members never do, two members
with one URL are an error; identities and assignments are JSON as Jackson writes and reads them."""

from __future__ import annotations

import json

from miniconnect.schema_registry.election import (
    DUPLICATE_URLS,
    NO_ERROR,
    ElectionResult,
    RegistryIdentity,
    elect,
)


def member(host: str, port: int, eligible: bool = True, scheme: str = "http", leader: bool = False) -> bytes:
    return json.dumps(RegistryIdentity(host, port, eligible, scheme, leader).to_json()).encode()


def test_the_eligible_member_with_the_smallest_url_leads() -> None:
    members = [("m1", member("b", 8081)), ("m2", member("a", 8082)), ("m3", member("a", 8080, eligible=False))]
    result = elect(members)
    assert result == ElectionResult(NO_ERROR, "m2", RegistryIdentity("a", 8082))
    assert elect(members[::-1]) == result  # not the order members joined in
    # URLs compare as strings, as Java's String.compareTo
    assert elect([("x", member("h", 9000)), ("y", member("h", 10000))]).leader == "y"


def test_no_eligible_member_no_leader_and_duplicate_urls_are_an_error() -> None:
    assert elect([("m1", member("a", 1, eligible=False))]) == ElectionResult(NO_ERROR, None, None)
    assert elect([("m1", member("a", 1)), ("m2", member("a", 1))]).error == DUPLICATE_URLS


def test_identities_and_assignments_read_as_jackson_writes_them() -> None:
    # Jackson: unknown properties ignored (@JsonIgnoreProperties), "scheme" may be absent (default http)
    identity = b'{"version":1,"host":"sr-1","port":8081,"master_eligibility":true,"leader":true,"extra":1}'
    assert RegistryIdentity.from_json(json.loads(identity)) == RegistryIdentity("sr-1", 8081, True, "http")
    # NON_EMPTY: an election without a leader has no "master" nor "master_identity"
    assert ElectionResult.from_bytes(b'{"error":0,"version":1}') == ElectionResult(NO_ERROR, None, None)
    result = ElectionResult(NO_ERROR, "sr-1-abc", RegistryIdentity("sr-1", 8443, True, "https"))
    written = json.loads(result.to_bytes())
    assert written == {
        "error": 0,
        "master": "sr-1-abc",
        "master_identity": {
            "host": "sr-1",
            "port": 8443,
            "master_eligibility": True,
            "scheme": "https",
            "version": 1,
            "leader": False,
        },
        "version": 1,
    }
    assert ElectionResult.from_bytes(result.to_bytes()) == result
    assert result.leader_identity is not None and result.leader_identity.url == "https://sr-1:8443"


def test_sticky_election_keeps_the_one_member_that_leads() -> None:
    members = [("m1", member("a", 1)), ("m2", member("b", 2, leader=True)), ("m3", member("c", 3))]
    assert elect(members, sticky=True).leader == "m2"
    assert elect(members).leader == "m1"  # not sticky: the flag is ignored
    # two saying they lead (a split brain healing), or an ineligible one saying so: the smallest URL again
    assert elect([*members, ("m4", member("d", 4, leader=True))], sticky=True).leader == "m1"
    assert elect([("m1", member("a", 1)), ("m2", member("b", 2, False, leader=True))], sticky=True).leader == "m1"
    # the flag is the member's state, not who it is: an identity equals itself leading or not
    assert RegistryIdentity("b", 2, leader=True) == RegistryIdentity("b", 2)
    assert json.loads(member("b", 2, leader=True))["leader"] is True
