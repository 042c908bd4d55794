"""Several registries on one `_schemas` topic: every one follows the topic and answers reads; writes go to one of
them, the leader, as Confluent's followers forward writes to their elected leader (RestService calls from its
KafkaSchemaRegistry.forward*RequestToLeader). The leader is elected in a Kafka group (election.py), or named by
`schema.registry.leader.url`. A single writer keeps ids and versions unique: it picks them from a state that holds
every record before its own write.

A follower answers a forwarded write once it has read the leader's record back, so that a client reading from it
next (a converter registering, then a sink decoding by id) finds what it wrote; a read of something it does not
know yet first catches up with the topic."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from ..config.tls import client_context
from .election import DUPLICATE_URLS, ElectionResult, RegistryIdentity
from .errors import UnknownLeader
from .store import SchemasTopic

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
REQUEST_FORWARDING_FAILED = 50003  # Confluent's Errors.REQUEST_FORWARDING_FAILED_ERROR_CODE
_PASSED_HEADERS = ("authorization", "content-type", "accept")
FORWARDED = "x-miniconnect-forwarded"  # set on forwarded requests: a follower does not forward them again
READ_BACK_S = 30.0


class LeaderForwarder:
    """Forwards write requests to the leader (on the registry's event loop). `leads()`: this registry writes."""

    def __init__(self, store: SchemasTopic, ssl_props: Mapping[str, Any] | None = None, leader_url: str = ""):
        """leader_url: the static leader (schema.registry.leader.url); empty: set_leader tells, election by
        election."""
        self.store = store
        self.leader: str | None = leader_url.rstrip("/") or None  # another registry that writes the topic
        self._leading = False
        self._why_no_leader = "No leader has been elected yet"
        if not leader_url:  # elected: writes reach the topic only while this registry is the leader
            store.not_writable = lambda: None if self._leading else f"Leader not known: {self._why_no_leader}"
        self._ssl_props = ssl_props
        self._clients: dict[str, httpx.AsyncClient] = {}  # by the leader's scheme

    def leads(self) -> bool:
        return self._leading

    async def set_leader(self, result: ElectionResult, me: RegistryIdentity) -> None:
        """An election's result (KafkaSchemaRegistry.setLeader): a new leader reads the topic to its end before
        it writes, so that it picks ids and versions after every record an earlier leader wrote."""
        self.leader, self._leading = None, False
        identity = result.leader_identity
        if result.error == DUPLICATE_URLS:
            self._why_no_leader = (
                "The schema registry group contained multiple members advertising the same URL: give each "
                "registry a routable, unique URL (schema.registry.host.name, schema.registry.listeners)"
            )
        elif identity is None:
            self._why_no_leader = "No leader-eligible schema registry is in the group: writes cannot be served"
        elif identity == me:
            await self.store.read_to_end()
            self._leading = True
        else:
            self.leader = identity.url

    async def revoke(self) -> None:
        """A rebalance started: no leader until the next election. Returns once a write in flight here is in the
        topic, so that the next leader reads it before choosing ids."""
        self.leader, self._leading = None, False
        self._why_no_leader = "The schema registry group is electing a leader"
        async with self.store.lock:
            pass

    async def stop(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    def _client(self, url: str) -> httpx.AsyncClient:
        scheme = url.partition(":")[0]
        if scheme not in self._clients:
            tls = client_context(self._ssl_props) if self._ssl_props and scheme == "https" else True
            self._clients[scheme] = httpx.AsyncClient(timeout=60.0, verify=tls)
        return self._clients[scheme]

    async def forward(self, request: Request) -> Response:
        if self.leader is None:
            return _error(UnknownLeader.code, f"Leader not known: {self._why_no_leader}")
        if request.headers.get(FORWARDED):
            message = f"A write was forwarded to this registry, which forwards writes to {self.leader} itself"
            return _error(REQUEST_FORWARDING_FAILED, message + ": schema.registry.leader.url must name the leader")
        url = self.leader + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() in _PASSED_HEADERS}
        headers[FORWARDED] = "true"
        try:
            answer = await self._client(url).request(request.method, url, content=await request.body(), headers=headers)
        except httpx.HTTPError as e:
            message = f"Error while forwarding the request to the leader {self.leader}: {type(e).__name__}: {e}"
            return _error(REQUEST_FORWARDING_FAILED, message)
        if answer.status_code < 300:
            await self.store.read_to_end(READ_BACK_S)  # the leader has written: read it back before answering
        return Response(answer.content, answer.status_code, media_type=CONTENT_TYPE)

    async def catch_up(self) -> None:
        await self.store.read_to_end(READ_BACK_S)


def _error(code: int, message: str) -> Response:
    return Response(json.dumps({"error_code": code, "message": message}), 500, media_type=CONTENT_TYPE)
