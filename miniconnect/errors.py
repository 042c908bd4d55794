"""Exceptions a user can act on; the REST layer maps them to Connect's error body in one place."""

from __future__ import annotations


class ConnectError(Exception):
    """Generic failure (Connect's ConnectException): HTTP 500 unless a subclass says otherwise."""

    status = 500


class ConfigError(ConnectError):
    """A configuration value is missing or invalid (Connect's ConfigException)."""

    status = 400

    def __init__(self, name: str | None = None, value: object = None, message: str | None = None):
        if name is not None and message is not None:
            text = f"Invalid value {value} for configuration {name}: {message}"
        else:
            text = message or name or "Invalid configuration"
        super().__init__(text)
        self.name = name
        self.value = value


class BadRequest(ConnectError):
    status = 400


class Forbidden(ConnectError):
    status = 403


class NotFound(ConnectError):
    status = 404


class AlreadyExists(ConnectError):
    status = 409


class Conflict(ConnectError):
    status = 409


class RetriableError(ConnectError):
    """A task may retry the operation that raised this (Connect's RetriableException)."""


class RequestTargetError(ConnectError):
    """Another worker must handle this request (Kafka's NotLeaderException / NotAssignedException): the REST
    layer forwards it to `forward_url`."""

    status = 409

    def __init__(self, message: str, forward_url: str | None):
        super().__init__(message)
        self.forward_url = forward_url


class RebalanceNeeded(ConnectError):
    """The worker's view is stale until the coming rebalance (Kafka's RebalanceNeededException, a plain 500 on
    reads; forwarding endpoints answer 409)."""

    def __init__(self) -> None:
        super().__init__("Request cannot be completed because a rebalance is expected")


class ServiceUnavailable(ConnectError):
    status = 503
