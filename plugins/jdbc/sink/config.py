"""The JDBC sink's config keys (Confluent's JdbcSinkConfig: names, defaults, validators, groups) parsed into SinkConfig."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from miniconnect.config.configdef import (
    ConfigDef,
    ConfigType,
    ConfigValue,
    Importance,
    Width,
    _Validator,
    at_least,
    non_empty_string,
)
from miniconnect.errors import ConfigError

from ..dialects import DIALECT_NAMES

CONNECTION_GROUP = "Connection"
WRITES_GROUP = "Writes"
DATAMAPPING_GROUP = "Data Mapping"
DDL_GROUP = "DDL Support"
RETRIES_GROUP = "Retries"

INSERT_MODES = ("insert", "upsert", "update")
PK_MODES = ("none", "kafka", "record_key", "record_value")
DEFAULT_KAFKA_PK_NAMES = ["__connect_topic", "__connect_partition", "__connect_offset"]
DELETE_PK_MESSAGE = "Deletes are only supported for pk.mode record_key"


def _enum(*options: str) -> _Validator:
    """Java's EnumValidator: the exact lower- or upper-case spelling of an option."""
    allowed = set(options) | {o.upper() for o in options}
    return _Validator(lambda v: None if v in allowed else "Invalid enumerator", f"[{', '.join(options)}]")


def _one_of_ci(*options: str) -> _Validator:
    allowed = {o.lower() for o in options}
    return _Validator(
        lambda v: (
            None if str(v).lower() in allowed else f"String must be one of (case insensitive): {', '.join(options)}"
        ),
        f"[{', '.join(options)}]",
    )


def _zone_ok(v: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(v)
        return None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "Invalid time zone identifier"


def _table_types(values: list[str]) -> str | None:
    ok = {"TABLE", "PARTITIONED TABLE", "VIEW"}
    bad = [v for v in values if v.upper() not in ok]
    return f"Invalid value(s) {', '.join(bad)}; must be one of: TABLE, PARTITIONED TABLE, VIEW" if bad else None


def _config_def() -> ConfigDef:
    d = ConfigDef()
    c = CONNECTION_GROUP
    d.define(
        "connection.url",
        ConfigType.STRING,
        validator=non_empty_string(),
        importance=Importance.HIGH,
        documentation="JDBC connection URL, e.g. jdbc:postgresql://localhost:5432/db, "
        "jdbc:mariadb://localhost:3306/db or jdbc:sqlite:/path/to/file.db.",
        group=c,
        order_in_group=1,
        width=Width.LONG,
        display_name="JDBC URL",
    )
    d.define(
        "connection.user",
        ConfigType.STRING,
        None,
        importance=Importance.HIGH,
        documentation="JDBC connection user.",
        group=c,
        order_in_group=2,
        width=Width.MEDIUM,
        display_name="JDBC User",
    )
    d.define(
        "connection.password",
        ConfigType.PASSWORD,
        None,
        importance=Importance.HIGH,
        documentation="JDBC connection password.",
        group=c,
        order_in_group=3,
        width=Width.MEDIUM,
        display_name="JDBC Password",
    )
    d.define(
        "jdbc.credentials.provider.class",
        ConfigType.CLASS,
        "io.confluent.connect.jdbc.util.DefaultJdbcCredentialsProvider",
        importance=Importance.LOW,
        documentation="Credentials provider; only the default one (connection.user/connection.password) is supported.",
        group=c,
        order_in_group=4,
        width=Width.LONG,
        display_name="JDBC Credentials Provider Class",
    )
    d.define(
        "dialect.name",
        ConfigType.STRING,
        "",
        validator=_Validator(
            lambda v: None if v in DIALECT_NAMES else "Invalid enumerator", f"[{', '.join(DIALECT_NAMES)}]"
        ),
        importance=Importance.LOW,
        documentation="The name of the database dialect that should be used for "
        "this connector. By default this is empty, and the connector automatically determines the dialect "
        "based upon the JDBC connection URL.",
        group=c,
        order_in_group=5,
        width=Width.LONG,
        display_name="Database Dialect",
    )
    d.define(
        "connection.attempts",
        ConfigType.INT,
        3,
        validator=at_least(1),
        importance=Importance.LOW,
        documentation="Maximum number of attempts to retrieve a valid JDBC connection. Must be a positive integer.",
        group=c,
        order_in_group=6,
        width=Width.SHORT,
        display_name="JDBC connection attempts",
    )
    d.define(
        "connection.backoff.ms",
        ConfigType.LONG,
        10000,
        importance=Importance.LOW,
        documentation="Backoff time in milliseconds between connection attempts.",
        group=c,
        order_in_group=7,
        width=Width.SHORT,
        display_name="JDBC connection backoff in milliseconds",
    )

    w = WRITES_GROUP
    d.define(
        "insert.mode",
        ConfigType.STRING,
        "insert",
        validator=_enum(*INSERT_MODES),
        importance=Importance.HIGH,
        documentation="The insertion mode to use. insert: standard SQL INSERT statements. upsert: the "
        "appropriate upsert semantics for the target database (PostgreSQL INSERT .. ON CONFLICT, "
        "MySQL INSERT .. ON DUPLICATE KEY UPDATE, SQLite INSERT .. ON CONFLICT). update: UPDATE "
        "statements.",
        group=w,
        order_in_group=1,
        width=Width.MEDIUM,
        display_name="Insert Mode",
    )
    d.define(
        "batch.size",
        ConfigType.INT,
        3000,
        validator=at_least(0),
        importance=Importance.MEDIUM,
        documentation="Specifies how many records to attempt to batch together for insertion into the "
        "destination table, when possible.",
        group=w,
        order_in_group=2,
        width=Width.SHORT,
        display_name="Batch Size",
    )
    d.define(
        "delete.enabled",
        ConfigType.BOOLEAN,
        False,
        importance=Importance.MEDIUM,
        documentation="Whether to treat null record values as deletes. Requires pk.mode to be record_key.",
        group=w,
        order_in_group=3,
        width=Width.SHORT,
        display_name="Enable deletes",
    )
    d.define(
        "table.types",
        ConfigType.LIST,
        "TABLE",
        validator=_Validator(_table_types, "[TABLE, PARTITIONED TABLE, VIEW]"),
        importance=Importance.LOW,
        documentation="The comma-separated types of database tables to which the sink connector can write: "
        "TABLE, PARTITIONED TABLE, VIEW.",
        group=w,
        order_in_group=4,
        width=Width.SHORT,
        display_name="Table Types",
    )
    d.define(
        "replace.null.with.default",
        ConfigType.BOOLEAN,
        True,
        importance=Importance.MEDIUM,
        documentation="Whether to replace a null field value with the field's schema default.",
        group=w,
        order_in_group=5,
        width=Width.SHORT,
        display_name="Replace null with default",
    )

    m = DATAMAPPING_GROUP
    d.define(
        "table.name.format",
        ConfigType.STRING,
        "${topic}",
        validator=non_empty_string(),
        importance=Importance.MEDIUM,
        documentation="A format string for the destination table name, which may contain '${topic}' as a "
        "placeholder for the originating topic name.",
        group=m,
        order_in_group=1,
        width=Width.LONG,
        display_name="Table Name Format",
    )
    d.define(
        "pk.mode",
        ConfigType.STRING,
        "none",
        validator=_enum(*PK_MODES),
        importance=Importance.HIGH,
        documentation="The primary key mode: none (no keys), kafka (Kafka coordinates as the PK), record_key "
        "(fields from the record key), record_value (fields from the record value).",
        group=m,
        order_in_group=2,
        width=Width.MEDIUM,
        display_name="Primary Key Mode",
    )
    d.define(
        "pk.fields",
        ConfigType.LIST,
        "",
        importance=Importance.MEDIUM,
        documentation="List of comma-separated primary key field names; the runtime interpretation depends "
        "on pk.mode (kafka: 3 names for topic, partition, offset, default __connect_topic,"
        "__connect_partition,__connect_offset; record_key/record_value: fields to use, default "
        "all).",
        group=m,
        order_in_group=3,
        width=Width.LONG,
        display_name="Primary Key Fields",
    )
    d.define(
        "fields.whitelist",
        ConfigType.LIST,
        "",
        importance=Importance.MEDIUM,
        documentation="List of comma-separated record value field names. If empty, all fields from the "
        "record value are utilized, otherwise used to filter to the desired fields.",
        group=m,
        order_in_group=4,
        width=Width.LONG,
        display_name="Fields Whitelist",
    )
    d.define(
        "db.timezone",
        ConfigType.STRING,
        "UTC",
        validator=_Validator(_zone_ok, "Any valid JDK time zone"),
        importance=Importance.MEDIUM,
        documentation="Name of the JDBC timezone that should be used in the "
        "connector when inserting time-based values.",
        group=m,
        order_in_group=5,
        width=Width.MEDIUM,
        display_name="DB Time Zone",
    )
    d.define(
        "date.timezone",
        ConfigType.STRING,
        "DB_TIMEZONE",
        validator=_one_of_ci("DB_TIMEZONE", "UTC"),
        importance=Importance.MEDIUM,
        documentation="Zone used to bind DATE values: DB_TIMEZONE (db.timezone) or UTC.",
        group=m,
        order_in_group=6,
        width=Width.MEDIUM,
        display_name="Date Time Zone",
    )
    d.define(
        "timestamp.fields.list",
        ConfigType.LIST,
        "",
        importance=Importance.LOW,
        documentation="INT64 or STRING value fields holding epoch microseconds or nanoseconds, written as "
        "TIMESTAMP columns.",
        group=m,
        order_in_group=7,
        width=Width.LONG,
        display_name="Timestamp fields list",
    )
    d.define(
        "timestamp.precision.mode",
        ConfigType.STRING,
        "MICROSECONDS",
        validator=_one_of_ci("MICROSECONDS", "NANOSECONDS"),
        importance=Importance.LOW,
        documentation="Precision of the values of timestamp.fields.list: microseconds or nanoseconds.",
        group=m,
        order_in_group=8,
        width=Width.SHORT,
        display_name="Timestamp precision mode",
    )
    d.define(
        "date.calendar.system",
        ConfigType.STRING,
        "LEGACY",
        validator=_one_of_ci("LEGACY", "PROLEPTIC_GREGORIAN"),
        importance=Importance.LOW,
        documentation="Calendar for dates (Python dates are proleptic Gregorian in either case).",
        group=m,
        order_in_group=9,
        width=Width.SHORT,
        display_name="Date calendar system",
    )
    d.define(
        "string.output.value.column.name",
        ConfigType.STRING,
        "record_value",
        validator=non_empty_string(),
        importance=Importance.LOW,
        documentation="Column that receives records whose value schema is STRING.",
        group=m,
        order_in_group=10,
        width=Width.MEDIUM,
        display_name="String value column name",
    )

    g = DDL_GROUP
    d.define(
        "auto.create",
        ConfigType.BOOLEAN,
        False,
        importance=Importance.MEDIUM,
        documentation="Whether to automatically create the destination table based on record schema if it "
        "is found to be missing by issuing CREATE. Schemaless (map) values are accepted when "
        "this is on: column types are inferred from the values.",
        group=g,
        order_in_group=1,
        width=Width.SHORT,
        display_name="Auto-Create",
    )
    d.define(
        "auto.evolve",
        ConfigType.BOOLEAN,
        False,
        importance=Importance.MEDIUM,
        documentation="Whether to automatically add columns in the table schema when found to be missing "
        "relative to the record schema by issuing ALTER.",
        group=g,
        order_in_group=2,
        width=Width.SHORT,
        display_name="Auto-Evolve",
    )
    d.define(
        "quote.sql.identifiers",
        ConfigType.STRING,
        "always",
        validator=_one_of_ci("always", "never"),
        importance=Importance.MEDIUM,
        documentation="When to quote table names, column names, and other "
        "identifiers in SQL statements: always or never.",
        group=g,
        order_in_group=3,
        width=Width.MEDIUM,
        display_name="Quote Identifiers",
    )
    d.define(
        "mssql.use.merge.holdlock",
        ConfigType.BOOLEAN,
        True,
        importance=Importance.LOW,
        documentation="Whether to use HOLDLOCK when performing a MERGE INTO upsert statement (SQL Server "
        "only; ignored).",
        group=g,
        order_in_group=4,
        width=Width.SHORT,
        display_name="SQL Server - Use HOLDLOCK in MERGE",
    )

    r = RETRIES_GROUP
    d.define(
        "max.retries",
        ConfigType.INT,
        10,
        validator=at_least(0),
        importance=Importance.MEDIUM,
        documentation="The maximum number of times to retry on errors before failing the task.",
        group=r,
        order_in_group=1,
        width=Width.SHORT,
        display_name="Maximum Retries",
    )
    d.define(
        "retry.backoff.ms",
        ConfigType.INT,
        3000,
        validator=at_least(0),
        importance=Importance.MEDIUM,
        documentation="The time in milliseconds to wait following an error before a retry attempt is made.",
        group=r,
        order_in_group=2,
        width=Width.SHORT,
        display_name="Retry Backoff (millis)",
    )
    d.define(
        "trim.sensitive.log",
        ConfigType.BOOLEAN,
        False,
        importance=Importance.LOW,
        internal=True,
        documentation="Whether to trim record values out of logged SQL errors.",
    )
    d.define(
        "upsert.connections",
        ConfigType.INT,
        2,
        validator=at_least(1),
        importance=Importance.LOW,
        internal=True,
        documentation="miniconnect only: PostgreSQL upserts of a put of at least 1000 records are split by key "
        "over this many connections (one transaction each, all committed before the put returns), so that as "
        "many server processes write at once. 1 writes through one connection.",
    )
    return d


CONFIG_DEF = _config_def()


@dataclass
class SinkConfig:
    """The parsed sink settings (what the task reads on its hot paths)."""

    connector_name: str
    connection_url: str
    connection_user: str | None
    connection_password: str | None
    dialect_name: str
    connection_attempts: int
    connection_backoff_ms: int
    insert_mode: str
    batch_size: int
    delete_enabled: bool
    table_types: list[str]
    replace_null_with_default: bool
    table_name_format: str
    pk_mode: str
    pk_fields: list[str]
    fields_whitelist: set[str]
    db_timezone: str
    date_timezone: str
    timestamp_fields: set[str]
    timestamp_precision_mode: str
    string_value_column: str
    auto_create: bool
    auto_evolve: bool
    quote_identifiers: bool
    max_retries: int
    retry_backoff_ms: int
    upsert_connections: int = 1

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> SinkConfig:
        v = CONFIG_DEF.parse(props)
        pk_mode = v["pk.mode"].lower()
        if v["delete.enabled"] and pk_mode != "record_key":
            raise ConfigError(message="Primary key mode must be 'record_key' when delete support is enabled")
        pw = v["connection.password"]
        return cls(
            connector_name=str(props.get("name", "")),
            connection_url=v["connection.url"].strip(),
            connection_user=v["connection.user"],
            connection_password=pw.value if pw is not None else None,
            dialect_name=v["dialect.name"],
            connection_attempts=v["connection.attempts"],
            connection_backoff_ms=v["connection.backoff.ms"],
            insert_mode=v["insert.mode"].lower(),
            batch_size=v["batch.size"],
            delete_enabled=v["delete.enabled"],
            table_types=[t.upper() for t in v["table.types"]],
            replace_null_with_default=v["replace.null.with.default"],
            table_name_format=v["table.name.format"].strip(),
            pk_mode=pk_mode,
            pk_fields=[f for f in v["pk.fields"] if f],
            fields_whitelist={f for f in v["fields.whitelist"] if f},
            db_timezone=v["db.timezone"],
            date_timezone=v["date.timezone"].upper(),
            timestamp_fields={f for f in v["timestamp.fields.list"] if f},
            timestamp_precision_mode=v["timestamp.precision.mode"].lower(),
            string_value_column=v["string.output.value.column.name"],
            auto_create=v["auto.create"],
            auto_evolve=v["auto.evolve"],
            quote_identifiers=v["quote.sql.identifiers"].lower() == "always",
            max_retries=v["max.retries"],
            retry_backoff_ms=v["retry.backoff.ms"],
            upsert_connections=v["upsert.connections"],
        )


def validate(props: Mapping[str, Any]) -> dict[str, ConfigValue]:
    """Per-key results plus the connector's cross-key rule (delete.enabled needs pk.mode=record_key)."""
    values = CONFIG_DEF.validate(props)
    delete, pk = values["delete.enabled"], values["pk.mode"]
    if delete.value is True and not delete.errors and not pk.errors and str(pk.value).lower() != "record_key":
        delete.errors.append(DELETE_PK_MESSAGE)
        pk.errors.append(DELETE_PK_MESSAGE)
    return values
