"""JDBC URL parsing, redaction, dialect helpers and SQLite connections."""

import pytest
from miniconnect_plugins.jdbc.connection import close_connection, is_valid, open_connection
from miniconnect_plugins.jdbc.dialects import (
    TableId,
    current_timestamp_sql,
    parse_table_id,
    placeholder,
    quote_identifier,
    resolve_dialect,
)
from miniconnect_plugins.jdbc.url import parse_jdbc_url, redact

from miniconnect.errors import ConfigError, ConnectError


def test_postgresql_url_with_params():
    u = parse_jdbc_url(
        "jdbc:postgresql://db.example:6543/shop?user=u&password=s3cret&currentSchema=sales&sslmode=require"
    )
    assert (u.dialect, u.scheme, u.host, u.port, u.database) == ("postgresql", "postgresql", "db.example", 6543, "shop")
    assert (u.user, u.password) == ("u", "s3cret")
    assert u.params == {"currentSchema": "sales", "sslmode": "require"}
    assert "s3cret" not in repr(u)


def test_postgresql_short_form_and_default_port():
    u = parse_jdbc_url("jdbc:postgresql:shop")
    assert (u.host, u.port, u.database) == ("localhost", 5432, "shop")
    assert parse_jdbc_url("jdbc:postgresql://h/db").port == 5432


def test_mysql_and_mariadb():
    u = parse_jdbc_url("jdbc:mysql://127.0.0.1:3306/testdb", "root", "passwd")
    assert (u.dialect, u.host, u.port, u.database, u.user, u.password) == (
        "mysql",
        "127.0.0.1",
        3306,
        "testdb",
        "root",
        "passwd",
    )
    m = parse_jdbc_url("jdbc:mariadb://bob:pw@h1:3307,h2/db?useSSL=false")
    assert (m.dialect, m.scheme, m.user, m.password, m.hosts) == (
        "mysql",
        "mariadb",
        "bob",
        "pw",
        [("h1", 3307), ("h2", 3306)],
    )
    assert m.param("usessl") == "false"
    assert parse_jdbc_url("jdbc:mysql:loadbalance://a,b/x").hosts == [("a", 3306), ("b", 3306)]


def test_explicit_credentials_win_over_url():
    u = parse_jdbc_url("jdbc:postgresql://h/db?user=a&password=b", user="c", password="d")
    assert (u.user, u.password) == ("c", "d")


def test_sqlite_paths():
    assert parse_jdbc_url("jdbc:sqlite::memory:").path == ":memory:"
    assert parse_jdbc_url("jdbc:sqlite:/tmp/x.db").path == "/tmp/x.db"
    assert parse_jdbc_url("jdbc:sqlite:rel/x.db").path == "rel/x.db"
    assert parse_jdbc_url("jdbc:sqlite:file:x.db?mode=ro").path == "file:x.db?mode=ro"


def test_unknown_subprotocol_lists_supported():
    with pytest.raises(ConfigError) as e:
        parse_jdbc_url("jdbc:oracle:thin:@h:1521:orcl")
    for s in ("jdbc:postgresql", "jdbc:mysql", "jdbc:mariadb", "jdbc:sqlite"):
        assert s in str(e.value)
    with pytest.raises(ConfigError, match="Not a valid JDBC URL"):
        parse_jdbc_url("postgres://h/db")


def test_redact_hides_passwords():
    assert (
        redact("jdbc:postgresql://h/db?user=u&password=pw&ssl=true")
        == "jdbc:postgresql://h/db?user=u&password=[hidden]&ssl=true"
    )
    assert redact("jdbc:mariadb://bob:pw@h/db") == "jdbc:mariadb://bob:[hidden]@h/db"
    assert "pw" not in redact("jdbc:mysql://h/db;password=pw")


def test_dialect_helpers():
    assert quote_identifier("postgresql", "a") == '"a"'
    assert quote_identifier("mysql", "a") == "`a`"
    assert quote_identifier("mysql", "a", quote=False) == "a"
    assert placeholder("postgresql", 2) == "$2" and placeholder("mysql", 1) == "%s" and placeholder("sqlite", 1) == "?"
    assert "CURRENT_TIMESTAMP" in current_timestamp_sql("postgresql")
    assert parse_table_id("postgresql", "public.orders") == TableId(None, "public", "orders")
    assert parse_table_id("mysql", "shop.orders") == TableId("shop", None, "orders")
    assert parse_table_id("postgresql", '"my.schema"."t"') == TableId(None, "my.schema", "t")
    assert TableId(None, "public", "orders").sql("postgresql") == '"public"."orders"'
    assert TableId("shop", None, "orders").fqn == "shop.orders"
    assert resolve_dialect("postgresql", "mysqldatabasedialect").kind == "mysql"
    with pytest.raises(ConfigError, match="Unable to find dialect with name 'Nope'"):
        resolve_dialect("postgresql", "Nope")


async def test_sqlite_connection_roundtrip(tmp_path):
    conn = await open_connection(parse_jdbc_url(f"jdbc:sqlite:{tmp_path}/a.db"))
    assert await is_valid(conn)
    await close_connection(conn)
    await close_connection(conn)


async def test_connection_failure_is_clear_and_redacted():
    jdbc = parse_jdbc_url("jdbc:postgresql://127.0.0.1:1/db?password=topsecret")
    with pytest.raises(ConnectError) as e:
        await open_connection(jdbc, attempts=2, backoff_ms=1)
    assert "after 2 attempt(s)" in str(e.value) and "topsecret" not in str(e.value)
