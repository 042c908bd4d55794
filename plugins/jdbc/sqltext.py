"""The one place where names and values become SQL text, per dialect: `SqlText.identifier` and `SqlText.literal`.

The rule (plugins/jdbc/sqltext.py): text that comes from a record or a connector config (table.name.format, field
names, schema defaults, table and column names read from a catalog, ...) reaches SQL only through this module, or
as a bind parameter; values that can be bind parameters stay bind parameters. Only the configs that are SQL by
definition (`query`, `query.suffix`) go in as they are.

- Identifiers: wrapped in the dialect's quote character with that character doubled inside (`"a""b"`,
  `` `a``b` ``). NUL and unpaired surrogates are refused. With `quote.sql.identifiers=never` a name is written
  bare only when it is a plain identifier (ASCII letter or `_`, then letters, digits, `_`, `$`); any other name is
  refused (UnsafeSql naming it) and never sent.
- Strings: quotes doubled. PostgreSQL: a string holding a backslash goes in the `E'...'` form with the backslash
  doubled, which reads the same whatever `standard_conforming_strings` says. MySQL/MariaDB: PyMySQL's backslash
  escapes, or only doubled quotes when the session runs with NO_BACKSLASH_ESCAPES (the writer reads
  the status flags the server sends with every reply, which follow the session's sql_mode). NUL is refused in
  PostgreSQL and SQLite literals (neither can hold it).
- Numbers: integers as they are; decimals must be finite; floats NaN/Infinity are refused (no dialect here has
  a literal for them in every column type). Booleans TRUE/FALSE (PostgreSQL) or 1/0.
- Bytes: `'\\x..'::bytea` in the E form (PostgreSQL) or `X'..'`. Dates, times and timestamps: quoted ISO text.
  Arrays (PostgreSQL): `ARRAY[...]` of element literals, `'{}'` when empty.
- Bind markers: statements that take bind parameters are written with `PARAM` (NUL, which no identifier can hold)
  where a parameter goes, and `SqlText.params` turns them into the driver's own (`$n`, `%s` with every other `%`
  doubled for PyMySQL's interpolation, `?`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from typing import Any

from miniconnect.errors import ConnectError

PARAM = "\0"

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
# PyMySQL's escape_string table (pymysql.converters._escape_table): the characters MySQL reads after a backslash
MYSQL_ESCAPES = str.maketrans(
    {"\0": "\\0", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\032": "\\Z", '"': '\\"', "'": "\\'"}
)


class UnsafeSql(ConnectError):
    """A name or value that cannot be written into SQL safely for this dialect (never sent)."""


def _check_text(text: str, what: str) -> None:
    if "\0" in text:
        raise UnsafeSql(f"{what} {text!r} contains a NUL character, which SQL cannot hold")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafeSql(f"{what} {text!r} is not valid Unicode text (an unpaired surrogate)") from None


class MySqlBinary:
    """BYTES for aiomysql, written as an X'..' literal: aiomysql 0.3 cannot escape bytes with PyMySQL >= 1.1."""

    __slots__ = ("data",)

    def __init__(self, data: Any):
        self.data = bytes(data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MySqlBinary) and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.data)


class SqlText:
    """Names and literals for one dialect and one `quote.sql.identifiers` setting."""

    kind = ""
    quote_char = '"'
    true, false = "1", "0"
    no_backslash_escapes = False  # MySQL/MariaDB only: the session's sql_mode has NO_BACKSLASH_ESCAPES

    def __init__(self, quote: bool = True):
        self.quote = quote
        # the common classes by exact class, before the isinstance chain (MySQL row values of mixed columns)
        self._by_class: dict[type, Any] = {
            type(None): lambda v: "NULL",
            int: int.__repr__,
            str: self.string,
            float: self.float_literal,
            bool: self.literal_any,
        }

    # -- names ------------------------------------------------------------------------------------------------
    def identifier(self, name: str) -> str:
        _check_text(name, "The identifier")
        if not self.quote:
            if not _PLAIN.match(name):
                raise UnsafeSql(
                    f"The name {name!r} is not a plain identifier (an ASCII letter or '_', then letters, "
                    f"digits, '_' or '$') and quote.sql.identifiers=never: it is not written into SQL "
                    f"unquoted. Rename it or set quote.sql.identifiers=always"
                )
            return name
        q = self.quote_char
        return q + name.replace(q, q + q) + q

    def check_name(self, name: str) -> None:
        """Raises UnsafeSql when `name` cannot be written as an identifier (without writing it anywhere)."""
        self.identifier(name)

    # -- values -----------------------------------------------------------------------------------------------
    def literal(self, value: Any) -> str:
        """The SQL literal of a Python value (None, bool, int, float, Decimal, str, bytes, date, time, datetime,
        and lists where the dialect has arrays)."""
        f = self._by_class.get(value.__class__)
        return f(value) if f is not None else self.literal_any(value)

    def literal_any(self, value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return self.true if value else self.false
        if isinstance(value, int):
            return int.__repr__(value)
        if isinstance(value, float):
            return self.float_literal(value)
        if isinstance(value, decimal.Decimal):
            if not value.is_finite():
                raise UnsafeSql(f"The decimal {value} has no SQL literal")
            return format(value, "f")
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self.bytes_literal(bytes(value))
        if isinstance(value, dt.datetime):
            return self.string(value.isoformat(" "))
        if isinstance(value, (dt.date, dt.time)):
            return self.string(value.isoformat())
        if isinstance(value, (list, tuple)):
            return self.array(value)
        raise UnsafeSql(f"A {type(value).__name__} value has no SQL literal in {self.kind}")

    def float_literal(self, value: float) -> str:
        if not math.isfinite(value):
            raise UnsafeSql(f"The floating point value {value} has no SQL literal: NaN and Infinity are refused")
        return float.__repr__(value)

    def string(self, text: str) -> str:
        _check_text(text, "The string")
        return "'" + text.replace("'", "''") + "'"

    def bytes_literal(self, data: bytes) -> str:
        return "X'" + data.hex() + "'"

    def array(self, items: Any) -> str:
        raise UnsafeSql(f"{self.kind} has no array literal")

    # -- bind markers -----------------------------------------------------------------------------------------
    def params(self, sql: str) -> str:
        """`sql` with each PARAM replaced by the driver's bind marker."""
        return sql.replace(PARAM, "?")


class PostgresText(SqlText):
    kind = "postgresql"
    true, false = "TRUE", "FALSE"

    def string(self, text: str) -> str:
        _check_text(text, "The string")
        text = text.replace("'", "''")
        if "\\" in text:  # E'' reads backslash escapes whatever standard_conforming_strings says
            return "E'" + text.replace("\\", "\\\\") + "'"
        return "'" + text + "'"

    def bytes_literal(self, data: bytes) -> str:
        return "E'\\\\x" + data.hex() + "'::bytea"

    def array(self, items: Any) -> str:
        if not items:
            return "'{}'"
        return "ARRAY[" + ",".join(map(self.literal, items)) + "]"

    def params(self, sql: str) -> str:
        parts = sql.split(PARAM)
        return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, 1))


class MySqlText(SqlText):
    kind = "mysql"
    quote_char = "`"

    def __init__(self, quote: bool = True, no_backslash_escapes: bool = False):
        super().__init__(quote)
        self.no_backslash_escapes = no_backslash_escapes

    def string(self, text: str) -> str:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise UnsafeSql(f"The string {text!r} is not valid Unicode text (an unpaired surrogate)") from None
        return "'" + self.escape_body(text) + "'"

    def escape_body(self, text: str) -> str:
        """What goes between the quotes of a string literal (the sink's MySQL writer does the same a column at a
        time, see mysql_values)."""
        return text.replace("'", "''") if self.no_backslash_escapes else text.translate(MYSQL_ESCAPES)

    def float_literal(self, value: float) -> str:
        text = super().float_literal(value)
        return text if "e" in text else text + "e0"  # a DOUBLE, not a DECIMAL (as PyMySQL writes it)

    def literal_any(self, value: Any) -> str:
        if isinstance(value, dt.datetime):  # DATETIME text without an offset (PyMySQL's form)
            return self.string(value.replace(tzinfo=None).isoformat(" "))
        if isinstance(value, MySqlBinary):
            return self.bytes_literal(value.data)
        return super().literal_any(value)

    def params(self, sql: str) -> str:
        return sql.replace("%", "%%").replace(PARAM, "%s")


class SqliteText(SqlText):
    kind = "sqlite"


class GenericText(SqlText):
    """ANSI quoting, for table names passed in task configs; SQL sent to a generic-dialect database is written by
    SQLAlchemy (generic.text.SqlAlchemyText)."""

    kind = "generic"


def sql_text(dialect: str, quote: bool = True, no_backslash_escapes: bool = False) -> SqlText:
    """The SqlText of a dialect family ("postgresql" | "mysql" | "sqlite" | "generic")."""
    if dialect == "mysql":
        return MySqlText(quote, no_backslash_escapes)
    if dialect == "postgresql":
        return PostgresText(quote)
    if dialect == "sqlite":
        return SqliteText(quote)
    if dialect == "generic":
        return GenericText(quote)
    raise ConnectError(f"Unsupported dialect {dialect!r}")
