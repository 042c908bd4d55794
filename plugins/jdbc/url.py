"""Parses Java JDBC URLs (jdbc:postgresql, jdbc:mysql, jdbc:mariadb, jdbc:sqlite) into driver arguments.

Users paste the `connection.url` they use with Confluent's connector, so the Java forms are accepted verbatim:
  jdbc:postgresql://host:5432/db?user=u&password=p&currentSchema=s&sslmode=require   (also jdbc:postgresql:db)
  jdbc:mysql://host:3306/db?useSSL=false&serverTimezone=UTC    jdbc:mariadb://u:p@host/db
  jdbc:sqlite:/abs/file.db   jdbc:sqlite:relative.db   jdbc:sqlite::memory:   jdbc:sqlite:file:x.db?mode=ro
Those four have hand-tuned drivers. Any other database goes through the generic dialect (SQLAlchemy Core, see
`generic/`): a URL in SQLAlchemy's own form (`duckdb:///x.db`, `postgresql+asyncpg://h/db`) or a jdbc: URL that
`generic.urls` can translate (`jdbc:duckdb:x.db`, `jdbc:firebirdsql://h/db`, ...).
Credentials passed as `connection.user` / `connection.password` win over the ones written in the URL.
`redact()` is the only form of a URL that may be logged or put in an error message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from miniconnect.errors import ConfigError
from miniconnect.secrets import redact_url

SUPPORTED = ("jdbc:postgresql", "jdbc:mysql", "jdbc:mariadb", "jdbc:sqlite")
_DIALECT_OF = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}
_DEFAULT_PORT = {"postgresql": 5432, "mysql": 3306}
# mysql/mariadb URLs may name a connection mode before the hosts: jdbc:mysql:loadbalance://h1,h2/db
_MYSQL_MODES = {"loadbalance", "replication", "failover", "sequential", "aurora", "srv"}


@dataclass
class JdbcUrl:
    """A parsed JDBC URL. `dialect` is the family (mysql covers MariaDB); `scheme` is the subprotocol as written."""

    dialect: str  # "postgresql" | "mysql" | "sqlite" | "generic"
    scheme: str  # "postgresql" | "mysql" | "mariadb" | "sqlite", or the SQLAlchemy dialect's name (generic)
    host: str | None = None  # first host of the URL (None for sqlite)
    port: int | None = None
    database: str | None = None  # database name (None for sqlite)
    path: str | None = None  # sqlite file path, ":memory:" or a "file:..." URI
    params: dict[str, str] = field(default_factory=dict)  # URL parameters minus user/password
    user: str | None = None
    password: str | None = None
    hosts: list[tuple[str, int]] = field(default_factory=list)  # every host:port listed
    url: str = ""  # the original text (never log it: use redact())
    sqlalchemy_url: str | None = None  # generic dialect: the SQLAlchemy URL, without user and password

    def param(self, name: str, default: str | None = None) -> str | None:
        """A URL parameter by case-insensitive name (Java drivers treat most of them that way)."""
        low = name.lower()
        for k, v in self.params.items():
            if k.lower() == low:
                return v
        return default

    def redacted(self) -> str:
        return redact(self.url)

    def __repr__(self) -> str:  # keeps the password out of logs and tracebacks
        return f"JdbcUrl({self.redacted()!r}, user={self.user!r})"


def _parse_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in re.split(r"[&;]", text):
        if not part:
            continue
        k, _, v = part.partition("=")
        params[unquote(k)] = unquote(v)
    return params


def _parse_hosts(text: str, default_port: int, url: str) -> list[tuple[str, int]]:
    hosts = []
    for h in text.split(","):
        h = h.strip()
        if not h:
            continue
        if h.startswith("("):  # Connector/J key-value host form: (host=h,port=p)
            kv = dict(p.split("=", 1) for p in h.strip("()").split(",") if "=" in p)
            hosts.append((kv.get("host", "localhost"), int(kv.get("port", default_port))))
            continue
        if h.startswith("["):  # IPv6 literal
            end = h.find("]")
            host, rest = h[1:end], h[end + 1 :]
            port = int(rest[1:]) if rest.startswith(":") and rest[1:] else default_port
        else:
            host, _, p = h.partition(":")
            try:
                port = int(p) if p else default_port
            except ValueError:
                raise ConfigError("connection.url", redact(url), f"Invalid port '{p}' in the JDBC URL") from None
        hosts.append((host or "localhost", port))
    return hosts or [("localhost", default_port)]


def parse_jdbc_url(url: str, user: str | None = None, password: str | None = None) -> JdbcUrl:
    """Parses a JDBC URL; `user`/`password` (connection.user/connection.password) override the URL's own.

    Raises ConfigError (on `connection.url`) for text that is not a JDBC URL or names an unsupported database.
    """
    text = (url or "").strip()
    m = re.fullmatch(r"jdbc:([A-Za-z0-9_-]+):(.*)", text, re.S)
    if not m or _DIALECT_OF.get(m.group(1).lower()) is None:
        from .generic.urls import parse_generic_url  # SQLAlchemy is imported only for a URL that needs it

        return parse_generic_url(text, user, password)
    scheme, rest = m.group(1).lower(), m.group(2)
    dialect = _DIALECT_OF[scheme]
    if dialect == "sqlite":
        path, _, query = rest.partition("?")
        params = _parse_params(query)
        if not path:
            raise ConfigError("connection.url", redact(text), "A jdbc:sqlite URL needs a file path or :memory:")
        if path.startswith("file:") and query:  # keep URI parameters on the URI the driver opens
            path = f"{path}?{query}"
        return JdbcUrl(
            dialect,
            scheme,
            path=path,
            params=params,
            user=user if user is not None else params.pop("user", None),
            password=password if password is not None else params.pop("password", None),
            url=text,
        )

    url_user = url_password = None
    if dialect == "mysql":
        mode = re.match(r"([a-z]+):(?=//)", rest)
        if mode and mode.group(1) in _MYSQL_MODES:
            rest = rest[mode.end() :]
    if rest.startswith("//"):
        authority, slash, tail = rest[2:].partition("/")
        if "?" in authority and not slash:  # jdbc:mysql://host?x=y
            authority, _, q = authority.partition("?")
            tail = "?" + q
        if "@" in authority:
            info, _, authority = authority.rpartition("@")
            u, colon, p = info.partition(":")
            url_user, url_password = unquote(u), (unquote(p) if colon else None)
        hosts = _parse_hosts(authority, _DEFAULT_PORT[dialect], text)
    else:  # jdbc:postgresql:database  (localhost:5432)
        hosts, tail = [("localhost", _DEFAULT_PORT[dialect])], rest
    database, _, query = tail.partition("?")
    params = _parse_params(query)
    url_user = params.pop("user", url_user)
    url_password = params.pop("password", url_password)
    host, port = hosts[0]
    return JdbcUrl(
        dialect,
        scheme,
        host=host,
        port=port,
        database=unquote(database) or None,
        params=params,
        user=user if user is not None else url_user,
        password=password if password is not None else url_password,
        hosts=hosts,
        url=text,
    )


def redact(url: str) -> str:
    """The URL with every password (URL parameter or user:password@ form) replaced by `[hidden]`."""
    return redact_url(url)
