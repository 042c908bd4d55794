"""GET /metrics: the worker's metrics as Prometheus text (format 0.0.4)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..metrics.prometheus import exposition, metrics_registry


def metrics_route(herder: Any) -> Route:
    registry = metrics_registry(herder)

    async def metrics(request: Request) -> Response:
        return Response(exposition(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return Route("/metrics", metrics, methods=["GET", "HEAD"])
