"""Forwarding to another worker (HerderRequestHandler.completeOrForwardRequest): the 409 answers with Kafka's texts,
and the hop to the worker named by the herder (a real second app on a loopback port)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route as StarletteRoute

from miniconnect.errors import RebalanceNeeded, RequestTargetError
from miniconnect.rest.forwarding import forwarded
from miniconnect.rest.routing import Route, Router


def _app(error: Exception) -> Any:
    async def handler(req: Any) -> Any:
        raise error

    router = Router([Route("/connectors", {"POST": forwarded(handler)})], herder=None)

    async def endpoint(request: Request) -> Any:
        return await router(request)

    return Starlette(routes=[StarletteRoute("/{path:path}", endpoint, methods=["POST"])])


async def _post(error: Exception, query: str = "") -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(error)), base_url="http://w") as client:
        return await client.post(f"/connectors{query}", json={"name": "a", "config": {}})


async def test_conflict_texts() -> None:
    r = await _post(RequestTargetError("Only the leader can set connector configs.", None))
    assert r.status_code == 409 and r.json() == {
        "error_code": 409,
        "message": (
            "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."
        ),
    }
    r = await _post(RequestTargetError("Only the leader can set connector configs.", "http://x:1/"), "?forward=false")
    assert r.status_code == 409 and r.json()["message"] == (
        "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
    )
    r = await _post(RebalanceNeeded())
    assert r.status_code == 409 and r.json()["message"] == (
        "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config "
        "change)"
    )


async def test_forwards_to_the_named_worker_once_more_at_most() -> None:
    seen: list[tuple[str, str, bytes]] = []

    async def leader(request: Request) -> JSONResponse:
        seen.append((request.url.path, request.url.query, await request.body()))
        return JSONResponse(
            {"name": "a", "config": {}, "tasks": [], "type": "source"},
            201,
            headers={"Location": "http://leader/connectors/a"},
        )

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[StarletteRoute("/connectors", leader, methods=["POST"])]), log_config=None, lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        r = await _post(RequestTargetError("Only the leader can set connector configs.", f"http://127.0.0.1:{port}/"))
        assert r.status_code == 201 and r.json()["name"] == "a"
        assert r.headers["location"] == "http://w/connectors/a"
        assert seen == [("/connectors", "forward=true", b'{"name":"a","config":{}}')]
    finally:
        server.should_exit = True
        await task
