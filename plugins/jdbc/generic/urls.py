"""Turns a SQLAlchemy URL, or a jdbc: URL of a database without a hand-tuned path, into a generic-dialect JdbcUrl.

SQLAlchemy's own form is taken as it is (`dialect+driver://user:pw@host/db?x=y`, `duckdb:///file.db`). jdbc: URLs
are translated where the form is regular: `jdbc:duckdb:<path>` (empty path: in memory) and the host form
`jdbc:<db>://user:pw@host:port/db?user=u&password=p` (subprotocol renamed to SQLAlchemy's dialect name, see
_SA_NAME). Either way the dialect must be one SQLAlchemy can load, or the URL is refused naming why. The JdbcUrl
keeps the SQLAlchemy URL without credentials; `connection.user`/`connection.password` win over the URL's own.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from miniconnect.errors import ConfigError

from ..url import SUPPORTED, JdbcUrl, _parse_params, redact

# jdbc subprotocol → SQLAlchemy dialect name, where they differ
_SA_NAME = {"sqlserver": "mssql", "jtds": "mssql", "firebirdsql": "firebird", "db2": "db2", "sap": "hana"}
_SA_FORM = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\+[A-Za-z0-9_]+)?://", re.S)


def _from_jdbc(text: str) -> str:
    """The SQLAlchemy URL of a jdbc: URL, or ConfigError naming the subprotocol."""
    m = re.fullmatch(r"jdbc:([A-Za-z0-9_-]+):(.*)", text, re.S)
    if not m:
        raise ConfigError("connection.url", redact(text), f"Not a valid JDBC URL: {redact(text)}")
    sub, rest = m.group(1).lower(), m.group(2)
    if sub == "duckdb":
        path, _, query = rest.partition("?")
        return f"duckdb:///{path or ':memory:'}" + (f"?{query}" if query else "")
    if not rest.startswith("//"):
        raise ConfigError(
            "connection.url",
            redact(text),
            f"Unsupported JDBC subprotocol 'jdbc:{m.group(1)}' in this form; hand-tuned: {', '.join(SUPPORTED)}; "
            f"other databases: jdbc:<db>://host:port/database, jdbc:duckdb:<file>, or a SQLAlchemy URL "
            f"(dialect+driver://...)",
        )
    authority, _, tail = rest[2:].partition("/")
    database, _, query = tail.partition("?")
    params = _parse_params(query)
    user, password = params.pop("user", None), params.pop("password", None)
    if user is not None and "@" not in authority:
        cred = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "")
        authority = f"{cred}@{authority}"
    rest_query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    return f"{_SA_NAME.get(sub, sub)}://{authority}/{database}" + (f"?{rest_query}" if rest_query else "")


def parse_generic_url(text: str, user: str | None = None, password: str | None = None) -> JdbcUrl:
    """A JdbcUrl of the generic dialect; ConfigError (on connection.url) when no installed SQLAlchemy dialect fits."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    is_jdbc = text.startswith("jdbc:")
    if not is_jdbc and not _SA_FORM.match(text):
        raise ConfigError(
            "connection.url",
            redact(text),
            f"Not a valid JDBC URL nor a SQLAlchemy URL (dialect+driver://...): {redact(text)}",
        )
    sa_text = _from_jdbc(text) if is_jdbc else text
    try:
        url = make_url(sa_text)
        dialect = url.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as e:
        what = f"Unsupported JDBC subprotocol 'jdbc:{text.split(':')[1]}'" if is_jdbc else "Not a valid JDBC URL"
        raise ConfigError(
            "connection.url",
            redact(text),
            f"{what}: {redact(text)} has no installed SQLAlchemy dialect ({type(e).__name__}: {redact(str(e))}); "
            f"hand-tuned: {', '.join(SUPPORTED)}",
        ) from None
    params = {k: (v if isinstance(v, str) else ",".join(v)) for k, v in url.query.items()}
    return JdbcUrl(
        "generic",
        dialect.name,
        host=url.host,
        port=url.port,
        database=url.database,
        params=params,
        user=user if user is not None else url.username,
        password=password if password is not None else url.password,
        hosts=[(url.host, url.port or 0)] if url.host else [],
        url=text,
        sqlalchemy_url=URL.create(
            url.drivername, None, None, url.host, url.port, url.database, url.query
        ).render_as_string(),
    )
