"""SQL dialect facts shared by the JDBC source and sink: identifier quoting, table ids, placeholders, clock SQL.

Functions take the dialect family as a string ("postgresql" | "mysql" | "sqlite" | "generic", i.e. `JdbcUrl.dialect`) or a
`Dialect`. Quoting follows Confluent's connector: `"` for PostgreSQL (and sqlite-jdbc, which reports `"`),
`` ` `` for MySQL/MariaDB; unlike the Java connector, a quote character inside a name is doubled (the escaping
itself is sqltext's, the one place where names and values become SQL text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from miniconnect.errors import ConfigError

from .sqltext import sql_text


@dataclass(frozen=True)
class Dialect:
    kind: str  # "postgresql" | "mysql" | "sqlite" | "generic" (SQLAlchemy Core, any other database)
    java_name: str  # the `dialect.name` value, e.g. "PostgreSqlDatabaseDialect"
    quote: str  # identifier quote character
    now_sql: str  # statement returning the database clock (one row, one column)

    @property
    def name(self) -> str:
        """Connect's `dialect.name()`: the class name minus `DatabaseDialect` (e.g. `PostgreSql`)."""
        return self.java_name.removesuffix("DatabaseDialect")


POSTGRESQL = Dialect("postgresql", "PostgreSqlDatabaseDialect", '"', "SELECT CURRENT_TIMESTAMP")
MYSQL = Dialect("mysql", "MySqlDatabaseDialect", "`", "SELECT CURRENT_TIMESTAMP(6)")
SQLITE = Dialect("sqlite", "SqliteDatabaseDialect", '"', "SELECT strftime('%Y-%m-%d %H:%M:%f','now')")
# SQL text of the generic dialect is written by SQLAlchemy (generic/); `"` is what names in task configs use
GENERIC = Dialect("generic", "GenericDatabaseDialect", '"', "SELECT CURRENT_TIMESTAMP")
_BY_KIND = {d.kind: d for d in (POSTGRESQL, MYSQL, SQLITE, GENERIC)}

# Every value Confluent's `dialect.name` accepts (validator list); four have an implementation here.
DIALECT_NAMES = [
    "",
    "GenericDatabaseDialect",
    "Db2DatabaseDialect",
    "DerbyDatabaseDialect",
    "OracleDatabaseDialect",
    "SqliteDatabaseDialect",
    "PostgreSqlDatabaseDialect",
    "MySqlDatabaseDialect",
    "SqlServerDatabaseDialect",
    "SapHanaDatabaseDialect",
    "SybaseDatabaseDialect",
    "VerticaDatabaseDialect",
]


def get_dialect(dialect: str | Dialect) -> Dialect:
    if isinstance(dialect, Dialect):
        return dialect
    try:
        return _BY_KIND[dialect]
    except KeyError:
        raise ConfigError(message=f"Unsupported dialect '{dialect}'") from None


def resolve_dialect(url_dialect: str, dialect_name: str | None = None) -> Dialect:
    """The dialect for a URL family, or the one `dialect.name` forces (exact name, then case-insensitive)."""
    if not dialect_name:
        return get_dialect(url_dialect)
    by_name = {d.java_name: d for d in _BY_KIND.values()}
    d = by_name.get(dialect_name) or next((v for k, v in by_name.items() if k.lower() == dialect_name.lower()), None)
    if d is None:
        available = ", ".join(n for n in DIALECT_NAMES if n)
        raise ConfigError(
            message=f"Unable to find dialect with name '{dialect_name}' in the available dialects: "
            f"[{available}] (this worker implements {', '.join(by_name)})"
        )
    return d


def quote_identifier(dialect: str | Dialect, name: str, quote: bool = True) -> str:
    """`"na""me"` / `` `na``me` `` (quote.sql.identifiers=always) or the bare name (never; refused with UnsafeSql
    unless it is a plain identifier)."""
    return sql_text(get_dialect(dialect).kind, quote).identifier(name)


def current_timestamp_sql(dialect: str | Dialect) -> str:
    """SQL that reads the database clock. PostgreSQL returns timestamptz (transaction start when it is the first
    statement of a transaction); MySQL a zone-less DATETIME in the session zone; SQLite UTC text."""
    return get_dialect(dialect).now_sql


def placeholder(dialect: str | Dialect, index: int) -> str:
    """The bind marker for the index-th (1-based) parameter: `$1` (asyncpg), `%s` (aiomysql), `?` (sqlite)."""
    kind = dialect.kind if isinstance(dialect, Dialect) else dialect
    if kind == "postgresql":
        return f"${index}"
    return "%s" if kind == "mysql" else "?"


def placeholders(dialect: str | Dialect, count: int, start: int = 1) -> list[str]:
    return [placeholder(dialect, i) for i in range(start, start + count)]


class TableId(NamedTuple):
    """(catalog, schema, table); absent parts are None. PostgreSQL ids have no catalog, MySQL ids use the
    database as catalog, SQLite ids are a bare table."""

    catalog: str | None
    schema: str | None
    table: str

    @property
    def fqn(self) -> str:
        """Unquoted `cat.sch.tbl` (absent parts skipped): used by regex filters and offset partitions."""
        return ".".join(p for p in self if p is not None)

    def sql(self, dialect: str | Dialect, quote: bool = True) -> str:
        """Rendered for SQL / task configs: `"public"."orders"`, `` `shop`.`orders` ``."""
        return ".".join(quote_identifier(dialect, p, quote) for p in self if p is not None)

    def __str__(self) -> str:
        return self.fqn


def _quoted_end(text: str, i: int) -> tuple[str, int]:
    """The name in the quoted segment starting at text[i] (a doubled quote inside is one quote), and the index
    after its closing quote."""
    q = text[i]
    out, i = [], i + 1
    while True:
        end = text.find(q, i)
        if end < 0:
            raise ConfigError(message=f"Expecting a closing quote character {q} in '{text}'")
        out.append(text[i:end])
        if text.startswith(q, end + 1):
            out.append(q)
            i = end + 2
            continue
        return "".join(out), end + 1


def split_identifier(dialect: str | Dialect, text: str) -> list[str]:
    """Splits `a.b.c` on dots, honouring quoted segments (`"a.b".c`, `"a""b"`). Errors like the Java
    ExpressionBuilder."""
    q = get_dialect(dialect).quote
    quotes = {q, '"', "`"}
    parts: list[str] = []
    i, n = 0, len(text)
    while i <= n:
        if i < n and text[i] in quotes:
            name, i = _quoted_end(text, i)
            parts.append(name)
            if i < n and text[i] != ".":
                raise ConfigError(message=f"Expecting '.' after the quoted segment in '{text}'")
            i += 1
            if i == n:
                raise ConfigError(message=f"The name '{text}' ends in the delimiter '.'")
            continue
        end = text.find(".", i)
        if end < 0:
            parts.append(text[i:])
            break
        parts.append(text[i:end])
        i = end + 1
        if i == n:
            raise ConfigError(message=f"The name '{text}' ends in the delimiter '.'")
    return parts


def split_table_list(text: str) -> list[str]:
    """A comma-separated list of table names as TableId.sql wrote them (commas inside quotes are part of a name);
    blanks around the commas are dropped, as Kafka's ConfigDef LIST does."""
    items, start, i, n = [], 0, 0, len(text)
    while i < n:
        if text[i] in '"`':
            _, i = _quoted_end(text, i)
            continue
        if text[i] == ",":
            items.append(text[start:i].strip())
            start = i + 1
        i += 1
    items.append(text[start:].strip())
    return [t for t in items if t]


def parse_table_id(dialect: str | Dialect, text: str) -> TableId:
    """`t` → table; `s.t` → schema.table (PostgreSQL) / database.table (MySQL, as catalog); `c.s.t` → all three."""
    d = get_dialect(dialect)
    parts = split_identifier(d, text.strip())
    if len(parts) == 1:
        return TableId(None, None, parts[0])
    if len(parts) == 2:
        if d.kind == "mysql":
            return TableId(parts[0], None, parts[1])
        return TableId(None, parts[0], parts[1])
    return TableId(parts[-3], parts[-2], parts[-1])
