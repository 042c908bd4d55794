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
