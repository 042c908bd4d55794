"""JdbcSourceConnector's config keys (reference §2): defaults, validators, docs and groups, plus cross-key checks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from miniconnect.config.configdef import (
    ConfigDef,
    ConfigType,
    ConfigValue,
    Importance,
    Password,
    Width,
    at_least,
    between,
    one_of,
)
from miniconnect.errors import ConfigError

from ..column_types import parse_zone
from ..dialects import DIALECT_NAMES

DATABASE, MODE, CONNECTOR = "Database", "Mode", "Connector"
MODES = ("bulk", "timestamp", "incrementing", "timestamp+incrementing")
TABLE_TYPES = ("TABLE", "VIEW", "SYSTEM TABLE", "GLOBAL TEMPORARY", "LOCAL TEMPORARY", "ALIAS", "SYNONYM")
ISOLATION = ("DEFAULT", "READ_UNCOMMITTED", "READ_COMMITTED", "REPEATABLE_READ", "SERIALIZABLE", "SQL_SERVER_SNAPSHOT")
GRANULARITY = (
    "connect_logical",
    "micros_long",
    "micros_string",
    "micros_iso_datetime_string",
    "nanos_long",
    "nanos_string",
    "nanos_iso_datetime_string",
)
LEGACY_FILTERS = ("table.whitelist", "table.blacklist")
LEGACY_KEYS = ("table.whitelist", "table.blacklist", "incrementing.column.name", "timestamp.column.name")
NEW_KEYS = ("table.include.list", "table.exclude.list", "timestamp.columns.mapping", "incrementing.column.mapping")
FILTER_KEYS = ("table.whitelist", "table.blacklist", "table.include.list", "table.exclude.list")


class _Check:
    """A validator with a custom message (ConfigError(message=...) keeps the Java text verbatim)."""

    def __init__(self, fn: Any, text: str):
        self.fn, self.text = fn, text

    def __call__(self, name: str, value: Any) -> None:
        if value is not None:
            self.fn(name, value)

    def __str__(self) -> str:
        return self.text


def _mode(name: str, value: str) -> None:
    v = str(value).strip()
    if not v:
        raise ConfigError(message="Query mode must be specified")
    if v not in MODES:
        raise ConfigError(message=f"Invalid mode: {v}")


def _zone(name: str, value: str) -> None:
    try:
        parse_zone(str(value).strip())
    except ValueError:
        raise ConfigError(name, value, "Invalid time zone identifier") from None


def _topic_prefix(name: str, value: str) -> None:
    v = str(value).strip()
    if len(v) > 249:
        raise ConfigError(name, value, "Topic prefix length must not exceed max topic name length, 249 chars")
    if v and not re.fullmatch(r"[A-Za-z0-9._-]+", v):
        raise ConfigError(name, value, "Topic prefix must only contain ASCII alphanumerics, '.', '_' and '-'.")


def _dialect(name: str, value: str) -> None:
    if str(value).strip() not in DIALECT_NAMES and str(value).strip().lower() not in [d.lower() for d in DIALECT_NAMES]:
        raise ConfigError(name, value, "Invalid enumerator")


def _table_types(name: str, value: list[str]) -> None:
    bad = [v for v in value if v.strip().upper() not in TABLE_TYPES]
    if bad:
        raise ConfigError(
            name, value, f"Invalid table type(s) {', '.join(bad)}; must be one of: {', '.join(TABLE_TYPES)}"
        )


def _mapping(name: str, value: list[str]) -> None:
    for item in value:
        if item and not re.fullmatch(r".+:.*", item):
            raise ConfigError(name, value, f"Invalid mapping '{item}': expected regex:columns")


def _define() -> ConfigDef:
    d = ConfigDef()
    o = iter(range(1, 100))

    def db(name: str, t: ConfigType, default: Any, doc: str, imp: Importance = Importance.MEDIUM, **kw: Any) -> None:
        d.define(
            name,
            t,
            default,
            importance=imp,
            documentation=doc,
            group=DATABASE,
            order_in_group=next(o),
            width=kw.pop("width", Width.MEDIUM),
            display_name=kw.pop("display", None),
            **kw,
        )

    db(
        "connection.url",
        ConfigType.STRING,
        "",
        "JDBC connection URL, e.g. jdbc:postgresql://host:5432/db, "
        "jdbc:mysql://host:3306/db, jdbc:mariadb://..., jdbc:sqlite:/path/file.db.",
        Importance.HIGH,
        width=Width.LONG,
        display="JDBC URL",
    )
    db("connection.user", ConfigType.STRING, None, "JDBC connection user.", Importance.HIGH, display="JDBC User")
    db(
        "connection.password",
        ConfigType.PASSWORD,
        None,
        "JDBC connection password.",
        Importance.HIGH,
        display="JDBC Password",
    )
    db(
        "jdbc.credentials.provider.class",
        ConfigType.CLASS,
        "io.confluent.connect.jdbc.util.DefaultJdbcCredentialsProvider",
        "Credentials provider; only the default (connection.user/connection.password) is supported.",
        Importance.LOW,
    )
    db(
        "connection.attempts",
        ConfigType.INT,
        3,
        "Maximum number of attempts to retrieve a valid JDBC connection. Must be a positive integer.",
        Importance.LOW,
        validator=at_least(1),
        width=Width.SHORT,
    )
    db(
        "connection.backoff.ms",
        ConfigType.LONG,
        10000,
        "Backoff time in milliseconds between connection attempts.",
        Importance.LOW,
        width=Width.SHORT,
    )
    db(
        "table.whitelist",
        ConfigType.LIST,
        "",
        "List of tables to include in copying (exact names: fully "
        "qualified, quoted, or bare). Use a comma-separated list to specify multiple tables. If specified, "
        "table.blacklist may not be set.",
        width=Width.LONG,
        display="Table Whitelist",
    )
    db(
        "table.blacklist",
        ConfigType.LIST,
        "",
        "List of tables to exclude from copying. If specified, table.whitelist may not be set.",
        width=Width.LONG,
        display="Table Blacklist",
    )
    db(
        "table.include.list",
        ConfigType.LIST,
        [],
        "Regular expressions matched (fully) against fully qualified "
        "table names (schema.table / database.table / table); matching tables are copied.",
        width=Width.LONG,
    )
    db(
        "table.exclude.list",
        ConfigType.LIST,
        [],
        "Regular expressions of fully qualified table names removed from the table.include.list matches.",
        width=Width.LONG,
    )
    db(
        "catalog.pattern",
        ConfigType.STRING,
        None,
        "Catalog pattern to fetch table metadata from the database "
        '(MySQL: the database). "" retrieves those without a catalog; null (default) means the URL\'s database.',
    )
    db(
        "schema.pattern",
        ConfigType.STRING,
        None,
        "Schema pattern (SQL LIKE) to fetch table metadata from the "
        'database. "" retrieves those without a schema; null (default) does not narrow the search.',
    )
    db(
        "numeric.precision.mapping",
        ConfigType.BOOLEAN,
        False,
        "Deprecated: use numeric.mapping=precision_only.",
        Importance.LOW,
        width=Width.SHORT,
    )
    db(
        "numeric.mapping",
        ConfigType.STRING,
        None,
        "Map NUMERIC values by precision and optionally scale to integral "
        "or decimal types: none, precision_only, best_fit, best_fit_eager_double.",
        Importance.LOW,
        recommender=lambda n, p: ["none", "precision_only", "best_fit", "best_fit_eager_double"],
    )
    db(
        "dialect.name",
        ConfigType.STRING,
        "",
        "The name of the database dialect to use; by default it is chosen from the JDBC URL.",
        Importance.LOW,
        validator=_Check(_dialect, "[" + ", ".join(DIALECT_NAMES) + "]"),
        recommender=lambda n, p: list(DIALECT_NAMES),
    )
    db(
        "table.types",
        ConfigType.LIST,
        "TABLE",
        "The comma-separated types of tables to read: TABLE, VIEW, "
        "SYSTEM TABLE, GLOBAL TEMPORARY, LOCAL TEMPORARY, ALIAS, SYNONYM.",
        Importance.LOW,
        validator=_Check(_table_types, "[" + ", ".join(TABLE_TYPES) + "]"),
    )
    db(
        "date.calendar.system",
        ConfigType.STRING,
        "LEGACY",
        "LEGACY or PROLEPTIC_GREGORIAN (only pre-1582 dates differ; Python dates are always proleptic Gregorian).",
        Importance.LOW,
        validator=one_of("LEGACY", "PROLEPTIC_GREGORIAN", case_sensitive=True),
    )

    o = iter(range(1, 100))

    def mode(name: str, t: ConfigType, default: Any, doc: str, imp: Importance = Importance.MEDIUM, **kw: Any) -> None:
        d.define(
            name,
            t,
            default,
            importance=imp,
            documentation=doc,
            group=MODE,
            order_in_group=next(o),
            width=kw.pop("width", Width.MEDIUM),
            display_name=kw.pop("display", None),
            **kw,
        )

    mode(
        "mode",
        ConfigType.STRING,
        "",
        "The mode for updating a table each time it is polled: bulk, incrementing, timestamp, timestamp+incrementing.",
        Importance.HIGH,
        dependents=["incrementing.column.name", "timestamp.column.name", "validate.non.null"],
        recommender=lambda n, p: list(MODES),
        display="Table Loading Mode",
    )
    mode(
        "incrementing.column.name",
        ConfigType.STRING,
        "",
        "The name of the strictly incrementing column used to "
        "detect new rows. Empty: autodetect the auto-increment column.",
        display="Incrementing Column Name",
    )
    mode(
        "timestamp.column.name",
        ConfigType.LIST,
        "",
        "Comma-separated timestamp columns used to detect new or "
        "modified rows (several: COALESCE, the first non-null).",
        display="Timestamp Column Name",
    )
    mode(
        "timestamp.columns.mapping",
        ConfigType.LIST,
        [],
        "regex:[col1|col2] items mapping tables (full match on the fully qualified name) to their timestamp columns.",
        validator=_Check(_mapping, "regex:[col1|col2]"),
    )
    mode(
        "incrementing.column.mapping",
        ConfigType.LIST,
        [],
        "regex:col items mapping tables to their incrementing column.",
        validator=_Check(_mapping, "regex:col"),
    )
    mode(
        "timestamp.initial",
        ConfigType.LONG,
        None,
        "Epoch milliseconds used for the first query of timestamp "
        "modes when no offset is stored; -1 = the database's current time.",
        display="Unix time value of initial timestamp",
    )
    mode(
        "validate.non.null",
        ConfigType.BOOLEAN,
        True,
        "Fail the task when the incrementing column or all timestamp columns are nullable.",
        Importance.LOW,
        display="Validate Non Null",
    )
    mode(
        "query",
        ConfigType.STRING,
        "",
        "Custom SELECT to run instead of copying whole tables (one task).",
        width=Width.LONG,
        display="Query",
    )
    mode(
        "query.masked", ConfigType.PASSWORD, "", "Same as query, hidden from logs and REST responses.", width=Width.LONG
    )
    mode(
        "quote.sql.identifiers",
        ConfigType.STRING,
        "always",
        "When to quote table, column and other identifiers in SQL statements: always or never.",
        validator=one_of("always", "never"),
    )
    mode("query.suffix", ConfigType.STRING, "", "Suffix appended at the end of the generated query.", Importance.LOW)
    mode(
        "transaction.isolation.mode",
        ConfigType.STRING,
        "DEFAULT",
        "Isolation level of the source connection: " + ", ".join(ISOLATION) + ".",
        Importance.LOW,
        validator=one_of(*ISOLATION, case_sensitive=True),
    )
    mode(
        "query.retry.attempts",
        ConfigType.INT,
        -1,
        "Times to retry a failing query before the task fails; -1 or 0 retries forever.",
        Importance.LOW,
    )

    o = iter(range(1, 100))

    def conn(name: str, t: ConfigType, default: Any, doc: str, imp: Importance = Importance.MEDIUM, **kw: Any) -> None:
        d.define(
            name,
            t,
            default,
            importance=imp,
            documentation=doc,
            group=CONNECTOR,
            order_in_group=next(o),
            width=kw.pop("width", Width.SHORT),
            display_name=kw.pop("display", None),
            **kw,
        )

    conn(
        "poll.interval.ms",
        ConfigType.INT,
        5000,
        "Frequency in ms to poll for new data in each table.",
        Importance.HIGH,
        display="Poll Interval (ms)",
    )
    conn(
        "batch.max.rows",
        ConfigType.INT,
        1000,
        "Maximum number of rows per batch returned by poll(); also the fetch size of the server-side cursor.",
        display="Max Rows Per Batch",
        validator=at_least(1),
    )
    conn(
        "max.buffer.size",
        ConfigType.INT,
        0,
        "Records buffered between the reader and poll(); 0 = 4 x batch.max.rows.",
        Importance.LOW,
        validator=at_least(0),
    )
    conn(
        "poll.linger.ms",
        ConfigType.LONG,
        5000,
        "How long poll() waits for records when none are buffered.",
        Importance.LOW,
    )
    conn(
        "table.poll.interval.ms",
        ConfigType.LONG,
        60000,
        "Frequency in ms to poll for new or removed tables, which may result in updated task configurations.",
        Importance.LOW,
        display="Metadata Change Monitoring Interval (ms)",
    )
    conn(
        "table.monitoring.startup.polling.limit.ms",
        ConfigType.LONG,
        10000,
        "How long task configuration waits for the first table listing.",
        Importance.LOW,
    )
    conn(
        "topic.prefix",
        ConfigType.STRING,
        "",
        "Prefix prepended to table names to generate the topic name; in query mode, the topic name.",
        Importance.HIGH,
        validator=_Check(_topic_prefix, "[A-Za-z0-9._-]{0,249}"),
        display="Topic Prefix",
        width=Width.MEDIUM,
    )
    conn(
        "timestamp.delay.interval.ms",
        ConfigType.LONG,
        0,
        "How long to wait after a row with a given timestamp "
        "appears before including it (upper bound = database time minus this delay).",
        Importance.HIGH,
        display="Delay Interval (ms)",
    )
    conn(
        "db.timezone",
        ConfigType.STRING,
        "UTC",
        "Time zone of zone-less timestamp columns and parameters.",
        validator=_Check(_zone, "Any valid JDK time zone"),
        display="DB time zone",
        width=Width.MEDIUM,
    )
    conn(
        "timestamp.granularity",
        ConfigType.STRING,
        "connect_logical",
        "How timestamp columns appear in records: " + ", ".join(GRANULARITY) + ".",
        Importance.LOW,
        validator=one_of(*GRANULARITY, case_sensitive=True),
    )
    # internal keys of task configs
    d.define(
        "tables", ConfigType.LIST, "", importance=Importance.LOW, documentation="Tables of this task.", internal=True
    )
    d.define(
        "tables.fetched",
        ConfigType.BOOLEAN,
        False,
        importance=Importance.LOW,
        internal=True,
        documentation="Whether the connector had listed the tables when it made this task config.",
    )
    d.define(
        "engine.shutdown.timeout",
        ConfigType.INT,
        10,
        validator=between(0, 30),
        importance=Importance.LOW,
        internal=True,
        documentation="Seconds to wait for the reader to stop.",
    )
    return d


CONFIG_DEF = _define()


def stringify(props: Mapping[str, Any]) -> dict[str, str]:
    """REST bodies may carry JSON numbers/booleans: Connect treats them as their string form."""
    out = {}
    for k, v in props.items():
        if isinstance(v, bool):
            out[k] = "true" if v else "false"
        elif v is None or isinstance(v, str):
            out[k] = v  # type: ignore[assignment]
        else:
            out[k] = str(v)
    return out


@dataclass
class SourceConfig:
    """Parsed, trimmed values with the derived facts the connector and tasks need."""

    values: dict[str, Any]
    originals: dict[str, Any]

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> SourceConfig:
        raw = stringify(props)
        values = CONFIG_DEF.parse(raw)
        for k, v in values.items():  # Java trims every string value before parsing
            if isinstance(v, str):
                values[k] = v.strip()
        return cls(values, dict(raw))

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def password(self) -> str | None:
        p = self.values["connection.password"]
        return p.value if isinstance(p, Password) else p

    @property
    def query(self) -> str:
        q = self.values["query.masked"]
        q = (q.value if isinstance(q, Password) else q or "").strip()
        return q or self.values["query"]

    @property
    def mode(self) -> str:
        return self.values["mode"]

    @property
    def numeric_mapping(self) -> str:
        nm = self.values["numeric.mapping"]
        if nm is None:
            return "precision_only" if self.values["numeric.precision.mapping"] else "none"
        return nm.lower()

    @property
    def quote(self) -> bool:
        return self.values["quote.sql.identifiers"].lower() != "never"

    @property
    def uses_timestamps(self) -> bool:
        return self.mode in ("timestamp", "timestamp+incrementing")

    @property
    def uses_incrementing(self) -> bool:
        return self.mode in ("incrementing", "timestamp+incrementing")

    def jdbc_url(self) -> Any:
        """The parsed connection.url with connection.user/password and every undefined `connection.<prop>` key
        passed as a driver property (prefix stripped; URL parameters win), as the Java connector does."""
        from ..url import parse_jdbc_url

        jdbc = parse_jdbc_url(self.values["connection.url"], self.values["connection.user"], self.password)
        for k, v in self.originals.items():
            if k.startswith("connection.") and k not in CONFIG_DEF.keys and v is not None:
                prop = k[len("connection.") :]
                if jdbc.param(prop) is None:
                    jdbc.params[prop] = str(v).strip()
        return jdbc

    def present(self, key: str) -> bool:
        v = self.originals.get(key)
        return v is not None and str(v).strip() != ""


def validate(props: Mapping[str, Any]) -> dict[str, ConfigValue]:
    """ConfigDef checks, then the connector's cross-key checks (reference §2.1 steps 1–5, 8)."""
    raw = stringify(props)
    results = CONFIG_DEF.validate(raw)
    try:
        _mode("mode", str(raw.get("mode") or ""))
    except ConfigError as e:
        results["mode"].errors.append(str(e))
    if any(cv.errors for cv in results.values()):
        return results

    def err(key: str, msg: str) -> None:
        results[key].errors.append(msg)

    cfg = SourceConfig.parse(raw)
    if cfg["transaction.isolation.mode"] == "SQL_SERVER_SNAPSHOT":
        err(
            "transaction.isolation.mode",
            "Isolation mode of `SQL_SERVER_SNAPSHOT` can only be configured with a Sql Server Dialect",
        )
    query = cfg.query
    legacy = [k for k in LEGACY_KEYS if cfg.present(k)]
    new = [k for k in NEW_KEYS if cfg.present(k)]
    if not query:
        if legacy and new:
            for k in legacy + new:
                err(
                    k,
                    "Cannot mix legacy and new configuration approaches. Legacy configurations "
                    "(table.whitelist, table.blacklist, timestamp.column.name, incrementing.column.name) cannot be "
                    "used together with new configurations (table.include.list, table.exclude.list, "
                    "timestamp.columns.mapping, incrementing.column.mapping).",
                )
        elif not legacy and not new:
            for k in FILTER_KEYS:
                err(
                    k,
                    "At least one table filtering configuration is required. Provide one of: table.whitelist, "
                    "table.blacklist, table.include.list, or table.exclude.list.",
                )
        if cfg.present("table.whitelist") and cfg.present("table.blacklist"):
            err("table.blacklist", "table.whitelist and table.blacklist are exclusive.")
        if new and not legacy:
            if cfg.present("table.exclude.list") and not cfg.present("table.include.list"):
                err("table.exclude.list", "table.exclude.list requires table.include.list.")
            m = cfg.mode
            if m in ("timestamp", "timestamp+incrementing") and not cfg.present("timestamp.columns.mapping"):
                err("mode", f"Mode '{m}' requires timestamp.columns.mapping.")
            if m in ("incrementing", "timestamp+incrementing") and not cfg.present("incrementing.column.mapping"):
                err("mode", f"Mode '{m}' requires incrementing.column.mapping.")
            if m in ("bulk", "incrementing") and cfg.present("timestamp.columns.mapping"):
                err("mode", f"timestamp.columns.mapping is not used in mode '{m}'.")
            if m in ("bulk", "timestamp") and cfg.present("incrementing.column.mapping"):
                err("mode", f"incrementing.column.mapping is not used in mode '{m}'.")
    else:
        if cfg["query"] and cfg.present("query.masked"):
            for k in ("query", "query.masked"):
                err(k, "Both 'query' and 'query.masked' are set; use only one of them.")
        filters = [k for k in FILTER_KEYS if cfg.present(k)]
        if filters:
            for k in ["query", "query.masked"] + filters:
                err(k, "Do not specify table filtering configs with 'query'.")
        if not re.match(r"(?is)^SELECT\b", query):
            for k in ("query", "query.masked"):
                if cfg.present(k):
                    err(k, "Only SELECT statements are supported for 'query'. Please provide a valid SELECT query.")
        if cfg.uses_incrementing and not cfg["incrementing.column.name"]:
            err("incrementing.column.name", f"Incrementing column name must be provided with query mode '{cfg.mode}'.")
    try:
        from ..url import parse_jdbc_url

        parse_jdbc_url(cfg["connection.url"])
    except ConfigError as e:
        err("connection.url", str(e))
    return results
