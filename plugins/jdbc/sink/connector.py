"""JdbcSinkConnector: declares the sink's config and hands every task the same config (Kafka spreads partitions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from miniconnect.config.configdef import ConfigDef, ConfigValue
from miniconnect.connector import SinkConnector

from ..connection import close_connection, open_connection
from ..url import parse_jdbc_url
from .task import JdbcSinkTask
from .config import CONFIG_DEF, SinkConfig, validate


class JdbcSinkConnector(SinkConnector):
    class_name = "io.confluent.connect.jdbc.JdbcSinkConnector"
    version = "10.9.7"
    config_def: ClassVar[ConfigDef] = CONFIG_DEF
    task_class = JdbcSinkTask

    async def start(self, props: dict[str, str]) -> None:
        cfg = SinkConfig.parse(props)  # fail fast on a bad config (e.g. delete.enabled without pk.mode=record_key)
        # The first database connection, with connection.attempts and connection.backoff.ms: an unreachable
        # database fails the connector with that error rather than each task at its first put().
        jdbc = parse_jdbc_url(cfg.connection_url, cfg.connection_user, cfg.connection_password)
        await close_connection(await open_connection(jdbc, cfg.connection_attempts, cfg.connection_backoff_ms))
        self.props = dict(props)

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props) for _ in range(max_tasks)]

    def validate(self, props: Mapping[str, Any]) -> dict[str, ConfigValue]:
        return validate(props)
