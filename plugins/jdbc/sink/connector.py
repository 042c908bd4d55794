"""JdbcSinkConnector: declares the sink's config and hands every task the same config (Kafka spreads partitions)."""
from __future__ import annotations

from typing import Any, ClassVar, Mapping

from miniconnect.config.configdef import ConfigDef, ConfigValue
from miniconnect.connector import SinkConnector

from .config import CONFIG_DEF, SinkConfig, validate
from .task import JdbcSinkTask


class JdbcSinkConnector(SinkConnector):
    class_name = "io.confluent.connect.jdbc.JdbcSinkConnector"
    version = "10.9.7"
    config_def: ClassVar[ConfigDef] = CONFIG_DEF
    task_class = JdbcSinkTask

    async def start(self, props: dict[str, str]) -> None:
        SinkConfig.parse(props)  # fail fast on a bad config (e.g. delete.enabled without pk.mode=record_key)
        self.props = dict(props)

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props) for _ in range(max_tasks)]

    def validate(self, props: Mapping[str, Any]) -> dict[str, ConfigValue]:
        return validate(props)
