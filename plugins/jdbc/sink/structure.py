"""DbStructure: creates and evolves tables for a Plan (auto.create, auto.evolve) and binds the plan to the
table's columns (Confluent's DbStructure)."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from . import binding
from .config import SinkConfig
from .ddl import TableAlterOrCreateError, alter_table_sql, create_table_sql
from .errors import exception_chain
from .plan import Plan, TableState
from .rows import CLASSES
from .writer import TableInfo, Writer

log = logging.getLogger(__name__)


class DbStructure:
    def __init__(self, cfg: SinkConfig, writer: Writer, tz: ZoneInfo, nanos: bool):
        self.cfg: SinkConfig | None = cfg
        self.writer: Writer | None = writer
        self.tz, self.nanos = tz, nanos

    async def ensure_table(self, st: TableState, plan: Plan) -> None:
        if plan.bound and st.info is not None:
            return
        cfg, w = self.cfg, self.writer
        assert cfg is not None and w is not None
        display = w.display(st.tid)
        deletes_only = plan.value_schema is None
        if st.info is None or any(st.info.find(c.name) is None for c in plan.create):
            st.info = await w.table_info(st.tid)
            if st.info is not None and st.info.kind not in cfg.table_types:
                st.info = None
        if st.info is None:
            if deletes_only:
                plan.skip = True
                return
            if not cfg.auto_create:
                raise TableAlterOrCreateError(f"Table {display} is missing and auto-creation is disabled")
            sql = create_table_sql(w.sql, w.table_sql(st.tid), plan.create, self.tz)
            log.info("Creating table with sql: %s", sql)
            try:
                await w.execute_ddl(sql)
            except TableAlterOrCreateError:
                raise
            except Exception as e:
                st.info = await w.table_info(st.tid)
                if st.info is None:  # not a lost race with another task: a real failure
                    raise TableAlterOrCreateError(f"Failed to create table {display}: {exception_chain(e)}") from e
            st.info = await w.table_info(st.tid)
            if st.info is None:
                raise TableAlterOrCreateError(f"Table {display} is missing after CREATE TABLE")
        missing = [c for c in plan.create if st.info.find(c.name) is None]
        if missing and not deletes_only:
            if st.info.kind == "VIEW":
                raise TableAlterOrCreateError(
                    f"View {display} is missing fields ([{', '.join(c.describe() for c in missing)}]) "
                    f"and ALTER VIEW is unsupported"
                )
            for c in missing:
                if (c.is_key or not c.schema.optional) and c.schema.default is None:
                    raise TableAlterOrCreateError(
                        f"Cannot ALTER TABLE {display} to add missing field {c.describe()}, as the field is not "
                        f"optional and does not have a default value"
                    )
            if not cfg.auto_evolve:
                raise TableAlterOrCreateError(
                    f"Table {display} is missing fields "
                    f"([{', '.join(c.describe() for c in missing)}]) and auto-evolution "
                    f"is disabled"
                )
            for sql in alter_table_sql(w.sql, w.table_sql(st.tid), missing, self.tz):
                log.info("Amending table with sql: %s", sql)
                try:
                    await w.execute_ddl(sql)
                except Exception as e:
                    st.info = await w.table_info(st.tid)
                    if st.info is None or any(st.info.find(c.name) is None for c in missing):
                        raise TableAlterOrCreateError(
                            f"Failed to amend TABLE '{display}' to add missing fields: "
                            f"[{', '.join(c.describe() for c in missing)}]: {exception_chain(e)}"
                        ) from e
            st.info = await w.table_info(st.tid)
            assert st.info is not None
            still = [c.name for c in missing if st.info.find(c.name) is None]
            if still:
                raise TableAlterOrCreateError(f"Table {display} is still missing fields {still} after ALTER TABLE")
        if deletes_only and any(st.info.find(c.name) is None for c in plan.keys):
            plan.skip = True
            return
        self._bind(st.info, plan)

    def _bind(self, info: TableInfo, plan: Plan) -> None:
        cfg, w = self.cfg, self.writer
        assert cfg is not None and w is not None
        cols = plan.keys + plan.values
        plan.db_cols = [info.find(c.name) or c.name for c in cols]
        plan.convs = []
        for i, (c, name) in enumerate(zip(cols, plan.db_cols)):
            if plan.schemaless and plan.sources[i][0] == "valf":
                conv = binding.schemaless_converter(w.dialect, c.schema.type)
                plan.convs.append((i, conv, None))
                continue
            conv = binding.converter(w.dialect, c, info.columns.get(name), self.tz, self.nanos)
            default = None
            if cfg.replace_null_with_default and c.schema.default is not None:
                default, conv = binding.with_default(c, conv)
            if conv is not None or default is not None:
                plan.convs.append((i, conv, default))
        plan.key_convs = [t for t in plan.convs if t[0] < len(plan.keys)]
        # asyncpg rejects a value of the wrong class; aiomysql and sqlite3 would store it as text: check first
        plan.checks = (
            []
            if (w.dialect == "postgresql" or plan.schemaless)
            else [
                (i, CLASSES[c.schema.name or c.schema.type])
                for i, c in enumerate(cols)
                if not c.timestamp_field and (c.schema.name or c.schema.type) in CLASSES
            ]
        )
        plan.bound = True
