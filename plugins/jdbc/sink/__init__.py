"""Confluent's JdbcSinkConnector for PostgreSQL, MySQL/MariaDB and SQLite: batched, transactional table writes."""

from .connector import JdbcSinkConnector
from .task import JdbcSinkTask

__all__ = ["JdbcSinkConnector", "JdbcSinkTask"]
