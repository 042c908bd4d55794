"""Several registries on one `_schemas` topic: every one follows the topic and answers reads; writes go to one of
them, the leader (`schema.registry.leader.url`), as Confluent's followers forward writes to their elected leader
(RestService calls from its KafkaSchemaRegistry.forward*RequestToLeader). A single writer keeps ids and versions
unique: it picks them from a state that holds every record before its own write.

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
from .store import SchemasTopic

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
REQUEST_FORWARDING_FAILED = 50003  # Confluent's Errors.REQUEST_FORWARDING_FAILED_ERROR_CODE
_PASSED_HEADERS = ("authorization", "content-type", "accept")
FORWARDED = "x-miniconnect-forwarded"  # set on forwarded requests: a follower does not forward them again
READ_BACK_S = 30.0


class LeaderForwarder:
    """Forwards write requests to the leader (on the registry's event loop)."""

    def __init__(self, leader_url: str, store: SchemasTopic, ssl_props: Mapping[str, Any] | None = None):
        self.leader = leader_url.rstrip("/")
        self.store = store
        tls = client_context(ssl_props) if ssl_props and leader_url.startswith("https:") else True
        self._client = httpx.AsyncClient(timeout=60.0, verify=tls)

    async def stop(self) -> None:
        await self._client.aclose()

    async def forward(self, request: Request) -> Response:
        if request.headers.get(FORWARDED):
            message = f"A write was forwarded to this registry, which forwards writes to {self.leader} itself"
            return _error(REQUEST_FORWARDING_FAILED, message + ": schema.registry.leader.url must name the leader")
        url = self.leader + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() in _PASSED_HEADERS}
        headers[FORWARDED] = "true"
        try:
            answer = await self._client.request(request.method, url, content=await request.body(), headers=headers)
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
