"""Confluent's JdbcSourceConnector for PostgreSQL, MySQL/MariaDB and SQLite."""

from .connector import JdbcSourceConnector
from .task import JdbcSourceTask

__all__ = ["JdbcSourceConnector", "JdbcSourceTask"]
