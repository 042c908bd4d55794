"""The generic dialect (SQLAlchemy Core): which URLs select it, that SQLAlchemy stays unimported on the fast paths,
names and bind markers as SQLAlchemy writes them, and the Connect → SQL type mapping of its DDL."""

import subprocess
import sys

import pytest
from miniconnect_plugins.jdbc.dialects import TableId, resolve_dialect
from miniconnect_plugins.jdbc.sink.ddl import Column
from miniconnect_plugins.jdbc.sqltext import PARAM, UnsafeSql
from miniconnect_plugins.jdbc.url import parse_jdbc_url

from miniconnect.data.schema import (
    BYTES_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    decimal_schema,
    timestamp_schema,
)
from miniconnect.errors import ConfigError


@pytest.mark.parametrize(
    ("url", "scheme", "sa_url"),
    [
        ("duckdb:///tmp/x.duckdb", "duckdb", "duckdb:///tmp/x.duckdb"),
        ("jdbc:duckdb:/tmp/x.duckdb", "duckdb", "duckdb:////tmp/x.duckdb"),
        ("postgresql+asyncpg://bob:s3cret@h:5433/shop?x=1", "postgresql", "postgresql+asyncpg://h:5433/shop?x=1"),
        ("sqlite+aiosqlite:////tmp/a.db", "sqlite", "sqlite+aiosqlite:////tmp/a.db"),
    ],
)
def test_sqlalchemy_and_other_jdbc_urls_select_the_generic_dialect(url, scheme, sa_url):
    u = parse_jdbc_url(url)
    assert (u.dialect, u.scheme, u.sqlalchemy_url) == ("generic", scheme, sa_url)
    assert "s3cret" not in repr(u) and "s3cret" not in u.sqlalchemy_url  # credentials kept apart, never shown
    assert resolve_dialect(u.dialect).java_name == "GenericDatabaseDialect"


def test_credentials_of_url_and_config():
    u = parse_jdbc_url("postgresql+asyncpg://bob:pw@h/db")
    assert (u.user, u.password) == ("bob", "pw")
    u = parse_jdbc_url("postgresql+asyncpg://bob:pw@h/db", user="ann", password="x")
    assert (u.user, u.password) == ("ann", "x")


def test_urls_without_a_usable_dialect_are_refused_clearly():
    with pytest.raises(ConfigError, match=r"Unsupported JDBC subprotocol 'jdbc:somedb'.*no installed SQLAlchemy"):
        parse_jdbc_url("jdbc:somedb://h:1/db?user=u&password=topsecret")
    with pytest.raises(ConfigError) as e:
        parse_jdbc_url("jdbc:somedb://h:1/db?user=u&password=topsecret")
    assert "topsecret" not in str(e.value)
    with pytest.raises(ConfigError, match="Not a valid JDBC URL"):
        parse_jdbc_url("nosuchdialect+drv://h/db")
    with pytest.raises(ConfigError, match="Not a valid JDBC URL"):
        parse_jdbc_url("just text")


def test_fast_paths_never_import_sqlalchemy():
    """The hand-tuned paths (and the worker's start-up with the JDBC plugins loaded) leave SQLAlchemy unimported;
    a generic URL imports it."""
    code = (
        "import sys\n"
        "import miniconnect.cli, miniconnect_plugins.jdbc.source.task, miniconnect_plugins.jdbc.sink.task\n"
        "from miniconnect_plugins.jdbc.url import parse_jdbc_url\n"
        "from miniconnect_plugins.jdbc.sink.writer import WRITERS\n"
        "from miniconnect_plugins.jdbc.source.db import source_db\n"
        "for url in ('jdbc:postgresql://h/db', 'jdbc:mariadb://h/db', 'jdbc:sqlite:/tmp/x.db'):\n"
        "    j = parse_jdbc_url(url)\n"
        "    WRITERS[j.dialect](j, True)\n"
        "    source_db(j)\n"
        "print('sqlalchemy' in sys.modules)\n"
        "parse_jdbc_url('duckdb:///tmp/x.duckdb')\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]


def _text(quote=True):
    from miniconnect_plugins.jdbc.generic.engine import offline_dialect
    from miniconnect_plugins.jdbc.generic.text import SqlAlchemyText

    return SqlAlchemyText(offline_dialect(parse_jdbc_url("duckdb:///:memory:")), quote)


def test_names_and_markers_as_sqlalchemy_writes_them():
    t = _text()
    assert t.identifier('a"b') == '"a""b"'
    assert t.identifier("plain") == '"plain"'
    with pytest.raises(UnsafeSql, match="NUL"):
        t.identifier("a\0b")
    with pytest.raises(UnsafeSql, match=r"quote\.sql\.identifiers=never"):
        _text(quote=False).identifier("a b")
    assert _text(quote=False).identifier("ab") == "ab"
    assert t.params(f"SELECT * FROM x WHERE a > {PARAM} AND b LIKE '%' AND c < {PARAM}") == (
        "SELECT * FROM x WHERE a > $1 AND b LIKE '%' AND c < $2"  # DuckDB's driver takes $n
    )
    assert t.literal("it's") == "'it''s'"
    with pytest.raises(UnsafeSql):
        t.literal(float("nan"))


def test_ddl_types_follow_confluents_generic_dialect():
    from miniconnect_plugins.jdbc.generic.writer import SqlAlchemyWriter

    w = SqlAlchemyWriter(parse_jdbc_url("duckdb:///:memory:"), True)
    cols = [
        Column("id", INT64_SCHEMA, True),
        Column("tiny", INT8_SCHEMA, False),
        Column("f", FLOAT64_SCHEMA, False),
        Column("s", STRING_SCHEMA, False),
        Column("o", OPTIONAL_STRING_SCHEMA.with_(default="x'); DROP TABLE t; --"), False),
        Column("b", BYTES_SCHEMA, False),
        Column("d", decimal_schema(2), False),
        Column("ts", timestamp_schema(), False),
    ]
    import zoneinfo

    sql = " ".join(w.create_table_sql(TableId(None, "main", 'we"ird'), cols, zoneinfo.ZoneInfo("UTC")).split())
    assert sql == (
        'CREATE TABLE "main"."we""ird" ( "id" BIGINT NOT NULL, "tiny" SMALLINT NOT NULL, "f" DOUBLE PRECISION NOT '
        'NULL, "s" TEXT NOT NULL, "o" TEXT DEFAULT \'x\'\'); DROP TABLE t; --\', "b" BYTEA NOT NULL, "d" '
        'NUMERIC(38, 2) NOT NULL, "ts" TIMESTAMP WITHOUT TIME ZONE NOT NULL, PRIMARY KEY ("id") )'
    )
    (alter,) = w.alter_table_sql(TableId(None, "main", "t"), [Column("n", OPTIONAL_STRING_SCHEMA, False)], None)
    assert alter == 'ALTER TABLE "main"."t" ADD COLUMN "n" TEXT'
    with pytest.raises(Exception, match="doesn't have a mapping"):
        w.create_table_sql(
            TableId(None, None, "t"), [Column("m", Schema.map(STRING_SCHEMA, STRING_SCHEMA), False)], None
        )
