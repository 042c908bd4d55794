"""JDBC sink config keys, validation and DDL text (no database needed)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from miniconnect_plugins.jdbc.sink import JdbcSinkConnector, JdbcSinkTask
from miniconnect_plugins.jdbc.sink.config import CONFIG_DEF, SinkConfig
from miniconnect_plugins.jdbc.sink.ddl import Column, alter_table_sql, create_table_sql, sql_type
from miniconnect_plugins.jdbc.sink.fields import extract_columns
from miniconnect_plugins.jdbc.sink.writer import CopyFirst
from miniconnect_plugins.jdbc.sqltext import sql_text

from miniconnect.data.schema import (
    INT32_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    date_schema,
    decimal_schema,
    timestamp_schema,
)
from miniconnect.errors import ConfigError, ConnectError

URL = {"connection.url": "jdbc:sqlite::memory:"}
UTC = ZoneInfo("UTC")


def test_names_and_defaults() -> None:
    assert JdbcSinkConnector.class_name == "io.confluent.connect.jdbc.JdbcSinkConnector"
    assert JdbcSinkTask.class_name == "io.confluent.connect.jdbc.sink.JdbcSinkTask"
    cfg = SinkConfig.parse(URL)
    assert (cfg.insert_mode, cfg.pk_mode, cfg.batch_size, cfg.max_retries, cfg.retry_backoff_ms) == (
        "insert",
        "none",
        3000,
        10,
        3000,
    )
    assert (cfg.table_name_format, cfg.db_timezone, cfg.auto_create, cfg.auto_evolve, cfg.delete_enabled) == (
        "${topic}",
        "UTC",
        False,
        False,
        False,
    )
    assert cfg.quote_identifiers and cfg.table_types == ["TABLE"]
    info = {k.name: k.info() for k in CONFIG_DEF.keys.values()}
    assert info["connection.url"]["required"] and info["connection.url"]["group"] == "Connection"
    assert info["insert.mode"]["default_value"] == "insert" and info["insert.mode"]["group"] == "Writes"
    assert info["auto.evolve"]["group"] == "DDL Support" and info["max.retries"]["group"] == "Retries"


def test_validation_messages() -> None:
    with pytest.raises(ConfigError, match='Missing required configuration "connection.url"'):
        SinkConfig.parse({})
    v = JdbcSinkConnector().validate(
        {
            **URL,
            "insert.mode": "Upsert",
            "pk.mode": "bogus",
            "batch.size": "-1",
            "quote.sql.identifiers": "sometimes",
            "db.timezone": "Mars/Base",
        }
    )
    assert v["insert.mode"].errors == ["Invalid value Upsert for configuration insert.mode: Invalid enumerator"]
    assert v["pk.mode"].errors == ["Invalid value bogus for configuration pk.mode: Invalid enumerator"]
    assert "Value must be at least 0" in v["batch.size"].errors[0]
    assert v["quote.sql.identifiers"].errors and v["db.timezone"].errors
    assert JdbcSinkConnector().validate({**URL, "insert.mode": "UPSERT"})["insert.mode"].errors == []


def test_delete_enabled_needs_record_key() -> None:
    v = JdbcSinkConnector().validate({**URL, "delete.enabled": "true"})
    assert v["delete.enabled"].errors == ["Deletes are only supported for pk.mode record_key"]
    with pytest.raises(ConfigError, match="Primary key mode must be 'record_key' when delete support is enabled"):
        SinkConfig.parse({**URL, "delete.enabled": "true", "pk.mode": "kafka"})
    assert SinkConfig.parse({**URL, "delete.enabled": "true", "pk.mode": "record_key"}).delete_enabled


async def test_task_configs_are_copies() -> None:
    c = JdbcSinkConnector()
    await c.start({**URL, "topics": "a"})
    assert await c.task_configs(3) == [{**URL, "topics": "a"}] * 3


VALUE = Schema.struct([("id", INT32_SCHEMA), ("name", OPTIONAL_STRING_SCHEMA), ("n", INT32_SCHEMA.with_(default=42))])


def test_pk_modes_read_pk_fields_like_java() -> None:
    keys, vals, _ = extract_columns(SinkConfig.parse({**URL, "pk.mode": "kafka"}), "t", None, VALUE)
    assert [c.name for c in keys] == ["__connect_topic", "__connect_partition", "__connect_offset"]
    assert [c.name for c in vals] == ["id", "name", "n"]
    keys, vals, _ = extract_columns(
        SinkConfig.parse({**URL, "pk.mode": "kafka", "pk.fields": "t,p,o"}), "t", None, VALUE
    )
    assert [c.name for c in keys] == ["t", "p", "o"]
    with pytest.raises(ConnectError, match="PK mode for table 't' is KAFKA so there should either be no field"):
        extract_columns(SinkConfig.parse({**URL, "pk.mode": "kafka", "pk.fields": "a,b"}), "t", None, VALUE)
    keys, vals, _ = extract_columns(
        SinkConfig.parse({**URL, "pk.mode": "record_value", "pk.fields": "id"}), "t", None, VALUE
    )
    assert [c.name for c in keys] == ["id"] and [c.name for c in vals] == ["name", "n"]
    keys, _, _ = extract_columns(
        SinkConfig.parse({**URL, "pk.mode": "record_key", "pk.fields": "k"}), "t", STRING_SCHEMA, VALUE
    )
    assert [(c.name, c.is_key) for c in keys] == [("k", True)]
    with pytest.raises(
        ConnectError, match="Need exactly one PK column defined since the key schema for records is a primitive type"
    ):
        extract_columns(SinkConfig.parse({**URL, "pk.mode": "record_key"}), "t", STRING_SCHEMA, VALUE)
    with pytest.raises(ConnectError, match="record value schema does not contain field: nope"):
        extract_columns(SinkConfig.parse({**URL, "pk.mode": "record_value", "pk.fields": "nope"}), "t", None, VALUE)
    _, vals, _ = extract_columns(SinkConfig.parse({**URL, "fields.whitelist": "name"}), "t", None, VALUE)
    assert [c.name for c in vals] == ["name"]


def test_ddl_text_per_dialect() -> None:
    cols = [
        Column("id", INT32_SCHEMA, True),
        Column("note", OPTIONAL_STRING_SCHEMA, False),
        Column("qty", INT32_SCHEMA.with_(default=42), False),
    ]
    assert create_table_sql(sql_text("postgresql"), '"orders"', cols, UTC) == (
        'CREATE TABLE "orders" (\n"id" INT NOT NULL,\n"note" TEXT NULL,\n"qty" INT DEFAULT 42,\nPRIMARY KEY("id"))'
    )
    assert create_table_sql(sql_text("mysql"), "`orders`", cols[1:], UTC) == (
        "CREATE TABLE `orders` (\n`note` TEXT NULL,\n`qty` INT DEFAULT 42)"
    )
    assert alter_table_sql(sql_text("postgresql"), '"t"', cols[1:], UTC) == [
        'ALTER TABLE "t" \nADD "note" TEXT NULL,\nADD "qty" INT DEFAULT 42'
    ]
    assert alter_table_sql(sql_text("sqlite"), '"t"', cols[1:], UTC) == [
        'ALTER TABLE "t" ADD "note" TEXT NULL',
        'ALTER TABLE "t" ADD "qty" INTEGER DEFAULT 42',
    ]
    dec = Column("d", decimal_schema(3), False)
    assert [sql_type(d, dec) for d in ("postgresql", "mysql", "sqlite")] == ["DECIMAL", "DECIMAL(65,3)", "NUMERIC"]
    ts = Column("ts", timestamp_schema(), False)
    assert [sql_type(d, ts) for d in ("postgresql", "mysql", "sqlite")] == ["TIMESTAMP", "DATETIME(3)", "TIMESTAMP"]
    assert sql_type("postgresql", Column("d", date_schema(), False)) == "DATE"
    assert sql_type("mysql", Column("k", STRING_SCHEMA, True)) == "VARCHAR(255)"  # TEXT cannot be a MySQL key
    with pytest.raises(ConnectError, match=r"\(STRUCT\) type doesn't have a mapping to the SQL database column"):
        sql_type("postgresql", Column("s", VALUE, False))


def test_copy_first_backs_off_after_conflicts_and_stops_after_other_errors() -> None:
    tries = CopyFirst()
    pattern = []
    for _batch in range(40):
        wanted = tries.wanted()
        pattern.append(wanted)
        if wanted:
            tries.conflicted()  # every try meets an existing key
    assert [i for i, w in enumerate(pattern) if w] == [0, 2, 5, 10, 19, 36]  # skips of 1, 2, 4, 8, 16
    for _ in range(20):
        tries.conflicted()
    assert tries.skip == CopyFirst.MAX_SKIP
    tries.skip = 0
    assert tries.wanted()
    tries.succeeded()  # a COPY that worked: the next failure skips one batch again
    tries.conflicted()
    assert tries.skip == 1
    tries.enabled = False
    assert not any(tries.wanted() for _ in range(300))
