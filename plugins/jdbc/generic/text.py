"""Names, literals and bind markers of the generic dialect, written by SQLAlchemy for the connected database.

The SqlText interface (sqltext) over SQLAlchemy: identifiers are quoted by the dialect's IdentifierPreparer (its
quote character doubled inside), literals rendered by SQLAlchemy's literal renderer for the value's type, and
PARAM markers become the DBAPI driver's own paramstyle, for statements the source composes as text (`query` and
`query.suffix` are SQL by definition). NUL and unpaired surrogates are refused first, as for every dialect.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import CompileError

from ..sqltext import PARAM, SqlText, UnsafeSql, _check_text


class SqlAlchemyText(SqlText):
    kind = "generic"

    def __init__(self, dialect: Dialect, quote: bool = True):
        super().__init__(quote)
        self.dialect = dialect
        self.preparer = dialect.identifier_preparer
        self.quote_char = self.preparer.initial_quote
        self.paramstyle = dialect.paramstyle
        self._by_class = {}  # every value through SQLAlchemy's renderer

    def identifier(self, name: str) -> str:
        if not self.quote:
            return super().identifier(name)  # the plain-identifier check, written bare
        _check_text(name, "The identifier")
        return self.preparer.quote_identifier(name)

    def literal(self, value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, str):
            _check_text(value, "The string")
        elif isinstance(value, (list, tuple)):
            raise UnsafeSql(f"{self.dialect.name} has no array literal here")
        else:
            super().literal_any(value)  # NaN, infinite decimals and unknown classes refused as everywhere
        try:
            return str(sa.literal(value).compile(dialect=self.dialect, compile_kwargs={"literal_binds": True}))
        except (CompileError, NotImplementedError, TypeError, ValueError) as e:
            raise UnsafeSql(f"A {type(value).__name__} value has no SQL literal in {self.dialect.name}: {e}") from e

    literal_any = literal

    def string(self, text: str) -> str:
        return self.literal(text)

    def params(self, sql: str) -> str:
        """PARAM markers as the driver's paramstyle; `%` doubled for the format styles when there are markers
        (a DBAPI driver interpolates only when given parameters)."""
        parts = sql.split(PARAM)
        style = self.paramstyle
        if len(parts) == 1:
            return sql
        if style in ("format", "pyformat"):
            parts = [p.replace("%", "%%") for p in parts]
        marks = {
            "qmark": lambda i: "?",
            "numeric": lambda i: f":{i}",
            "numeric_dollar": lambda i: f"${i}",
            "named": lambda i: f":p{i}",
            "format": lambda i: "%s",
            "pyformat": lambda i: f"%(p{i})s",
        }[style]
        return "".join(p + (marks(i) if i < len(parts) else "") for i, p in enumerate(parts, 1))

    def bind(self, params: list[Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The parameters of a statement from `params()`, in the shape its paramstyle wants."""
        if self.paramstyle in ("named", "pyformat"):
            return {f"p{i}": v for i, v in enumerate(params, 1)}
        return tuple(params)
