"""JdbcSourceConnector: lists and filters tables in the background, splits them among tasks, and asks for a
reconfiguration whenever the filtered table list changes (new or dropped tables)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from miniconnect.config.configdef import ConfigValue
from miniconnect.connector import SourceConnector
from miniconnect.errors import ConfigError

from ..dialects import TableId
from .config import CONFIG_DEF, SourceConfig, stringify, validate
from .db import SourceDb, is_driver_error, source_db
from .tables import check_duplicates, filter_tables, group_partitions
from .task import JdbcSourceTask

log = logging.getLogger(__name__)


class JdbcSourceConnector(SourceConnector):
    class_name = "io.confluent.connect.jdbc.JdbcSourceConnector"
    config_def = CONFIG_DEF
    task_class = JdbcSourceTask

    def __init__(self) -> None:
        self.tables: list[TableId] | None = None
        self._monitor: asyncio.Task | None = None
        self._listed = asyncio.Event()
        self._stop = asyncio.Event()
        self.db: SourceDb | None = None

    async def start(self, props: dict[str, str]) -> None:
        self.props = stringify(props)
        cfg = self.cfg = SourceConfig.parse(self.props)
        self.jdbc = cfg.jdbc_url()
        if cfg.query and any(
            cfg.present(k) for k in ("table.whitelist", "table.blacklist", "table.include.list", "table.exclude.list")
        ):
            raise ConfigError(message="query may not be combined with whole-table copying settings.")
        self.db = source_db(self.jdbc, cfg["connection.attempts"], cfg["connection.backoff.ms"], cfg["db.timezone"])
        # As Confluent's start(): the first connection, with connection.attempts and connection.backoff.ms; an
        # unreachable database fails the connector with that error. The table monitor reuses the connection.
        await self.db.connection()
        if cfg.query:
            return
        self._monitor = asyncio.create_task(self._watch_tables(), name="jdbc-source-table-monitor")

    async def _list(self) -> list[TableId]:
        cfg = self.cfg
        listed = await self.db.list_tables(cfg["catalog.pattern"], cfg["schema.pattern"], cfg["table.types"])
        return filter_tables(
            listed,
            self.jdbc.dialect,
            cfg["table.whitelist"],
            cfg["table.blacklist"],
            cfg["table.include.list"],
            cfg["table.exclude.list"],
        )

    async def _watch_tables(self) -> None:
        interval = self.cfg["table.poll.interval.ms"] / 1000
        while not self._stop.is_set():
            try:
                tables = await self._list()
                check_duplicates(tables)
                if tables != self.tables:
                    first = self.tables is None
                    log.info("Tables for connector %s: %s", getattr(self.context, "name", "?"), [t.fqn for t in tables])
                    self.tables = tables
                    self._listed.set()
                    if not first:
                        self.context.request_task_reconfiguration()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if is_driver_error(e) or isinstance(e, OSError):
                    log.warning("Error while listing tables (retrying in %.0f s): %s", interval, e)
                    await self.db.close()
                else:
                    log.error("Table monitor failed: %s", e)
                    self.context.raise_error(e)
                    return
            try:
                await asyncio.wait_for(self._stop.wait(), interval)
            except TimeoutError:
                pass

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        base = {k: v for k, v in self.props.items() if v is not None}
        if self.cfg.query:
            return [{**base, "tables": "", "tables.fetched": "true"}]
        if not self._listed.is_set():
            try:
                await asyncio.wait_for(
                    self._listed.wait(), self.cfg["table.monitoring.startup.polling.limit.ms"] / 1000
                )
            except TimeoutError:
                return [{**base, "tables": "", "tables.fetched": "false"}]
        tables = list(self.tables or [])
        if not tables:
            return [{**base, "tables": "", "tables.fetched": "true"}]
        groups = group_partitions(tables, min(len(tables), max(1, max_tasks)))
        return [
            {**base, "tables": ",".join(t.sql(self.jdbc.dialect) for t in g), "tables.fetched": "true"} for g in groups
        ]

    async def stop(self) -> None:
        self._stop.set()
        monitor, self._monitor = self._monitor, None
        if monitor is not None:
            monitor.cancel()
            try:
                await monitor
            except BaseException:
                pass
        if self.db is not None:
            await self.db.close()

    def validate(self, props: Mapping[str, Any]) -> dict[str, ConfigValue]:
        return validate(props)
