"""Confluent's JdbcSinkConnector for PostgreSQL, MySQL/MariaDB and SQLite: batched, transactional table writes."""

from .task import JdbcSinkTask
from .connector import JdbcSinkConnector

__all__ = ["JdbcSinkConnector", "JdbcSinkTask"]
