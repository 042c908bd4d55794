"""Error mapping in one place: every failure becomes Connect's body {"error_code": N, "message": "..."}."""

from __future__ import annotations

import logging

import orjson
from starlette.responses import Response

from ..errors import ConnectError
from ..secrets import mask

log = logging.getLogger(__name__)

REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
}


class HttpError(Exception):
    """A framework-level error (no route, wrong method, wrong media type) with JAX-RS's default message."""

    def __init__(self, status: int, message: str | None = None, media_type: str | None = None):
        super().__init__(message or f"HTTP {status} {REASONS.get(status, '')}".rstrip())
        self.status = status
        self.media_type = media_type


def error_response(status: int, message: str | None, media_type: str | None = "application/json") -> Response:
    return Response(
        orjson.dumps({"error_code": status, "message": mask(message) if message else message}),
        status,
        media_type=media_type,
    )


def exception_response(exc: BaseException) -> Response:
    """Connect's ConnectExceptionMapper: the exception's own status, else 500 with its message."""
    if isinstance(exc, HttpError):
        # Jersey's own 404/405/406/415 come before a resource method was chosen: no media type was negotiated
        return error_response(exc.status, str(exc), exc.media_type)
    message = str(exc) or None
    if isinstance(exc, ConnectError):
        if exc.status >= 500:
            log.error("Request failed: %s", message, exc_info=exc if exc.__cause__ else None)
        return error_response(exc.status, message)
    log.error("Unexpected error while handling a request", exc_info=exc)
    return error_response(500, message)


# Java exception class names for the validate endpoint's "<exception class>: <message>" 500 answers.
_JAVA_NAMES = {
    "BadRequest": "org.apache.kafka.connect.runtime.rest.errors.BadRequestException",
    "NotFound": "org.apache.kafka.connect.errors.NotFoundException",
    "ConfigError": "org.apache.kafka.common.config.ConfigException",
}


def java_exception_text(exc: BaseException) -> str:
    """How Java prints a wrapped exception (`Throwable.toString()`), used where Connect does not unwrap."""
    if isinstance(exc, ConnectError):
        name = _JAVA_NAMES.get(type(exc).__name__, "org.apache.kafka.connect.errors.ConnectException")
    elif type(exc).__module__ == "builtins":
        name = type(exc).__qualname__
    else:
        name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    return f"{name}: {exc}" if str(exc) else name
