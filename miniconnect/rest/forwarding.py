"""Requests another worker must handle go there: Kafka's HerderRequestHandler.completeOrForwardRequest.

A distributed herder raises RequestTargetError (not the leader, or not running the connector/task) with the URL
of the worker that can answer; the request is sent there with `?forward=`, at most two hops, and its answer is
relayed as it is. A stale view (a rebalance is expected) is a 409.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import httpx
from starlette.responses import Response

from ..errors import Conflict, ConnectError, RebalanceNeeded, RequestTargetError
from .routing import RestRequest

log = logging.getLogger(__name__)
Handler = Callable[[RestRequest], Awaitable[Response]]
FORWARD_TIMEOUT_S = 90.0


def forwarded(handler: Handler) -> Handler:
    async def handle(req: RestRequest) -> Response:
        try:
            return await handler(req)
        except RequestTargetError as e:
            return await _forward(req, e)
        except RebalanceNeeded as e:
            raise Conflict(
                "Cannot complete request momentarily due to stale configuration (typically caused by a "
                "concurrent config change)"
            ) from e

    return handle


async def _forward(req: RestRequest, error: RequestTargetError) -> Response:
    flag = req.query.get("forward")
    if flag is not None and flag.lower() != "true":
        log.error(
            "Request '%s %s' failed because it couldn't find the target Connect worker within two hops "
            "(between workers).",
            req.request.method,
            req.request.url.path,
        )
        raise Conflict("Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
    if not error.forward_url:
        raise Conflict(
            "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."
        )
    raw_path = req.request.scope.get("raw_path") or req.request.url.path.encode()
    path = raw_path.decode("latin-1").split("?", 1)[0]
    # the first worker to handle a user request may forward once more; a forwarded request may not
    query = [("forward", "true" if flag is None else "false")]
    query += [(k, v) for k, v in req.query.multi_items() if k != "forward"]
    url = f"{error.forward_url.rstrip('/')}{path}?{urlencode(query)}"
    headers = {"Accept": "application/json", "User-Agent": "kafka-connect"}
    body = await req.request.body()
    if body:
        headers["Content-Type"] = "application/json"
    if "authorization" in req.request.headers:
        headers["Authorization"] = req.request.headers["authorization"]
    log.debug("Forwarding request %s %s", req.request.method, url)
    try:
        async with httpx.AsyncClient(timeout=FORWARD_TIMEOUT_S) as client:
            answer = await client.request(req.request.method, url, content=body or None, headers=headers)
    except httpx.HTTPError as e:
        log.error("IO error forwarding REST request to %s: %s", url, e)
        raise ConnectError(f"IO Error trying to forward REST request: {e}") from e
    relayed = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "location")}
    if "location" in relayed:  # the resource as this worker names it
        relayed["location"] = f"{req.request.base_url}connectors/{relayed['location'].rsplit('/', 1)[1]}"
    return Response(answer.content, answer.status_code, headers=relayed)
