"""plugins/jdbc/sqltext: the one place names and values become SQL text (the database round trips are in
tests/integration/test_jdbc_sql_escape.py)."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from miniconnect_plugins.jdbc.dialects import TableId, parse_table_id, split_table_list
from miniconnect_plugins.jdbc.sqltext import PARAM, UnsafeSql, sql_text


def test_identifiers_double_the_quote_and_refuse_nul() -> None:
    assert sql_text("postgresql").identifier('t" (a int); DROP TABLE v2; --') == '"t"" (a int); DROP TABLE v2; --"'
    assert sql_text("mysql").identifier("t` x") == "`t`` x`"
    assert sql_text("sqlite").identifier('a"b') == '"a""b"'
    with pytest.raises(UnsafeSql, match="NUL"):
        sql_text("postgresql").identifier("a\0b")


def test_quote_never_writes_plain_names_bare_and_refuses_the_rest() -> None:
    text = sql_text("mysql", quote=False)
    assert text.identifier("order_id$2") == "order_id$2"
    for name in ("a b", "1a", "a;b", "ü", "a-b", ""):
        with pytest.raises(UnsafeSql, match="quote.sql.identifiers=never") as e:
            text.identifier(name)
        assert repr(name) in str(e.value)


def test_string_literals_per_dialect_and_mode() -> None:
    s = "x'\\y\n"
    assert sql_text("postgresql").literal(s) == "E'x''\\\\y\n'"
    assert sql_text("postgresql").literal("x'y") == "'x''y'"
    assert sql_text("mysql").literal(s) == "'x\\'\\\\y\\n'"
    assert sql_text("mysql", no_backslash_escapes=True).literal(s) == "'x''\\y\n'"
    assert sql_text("sqlite").literal(s) == "'x''\\y\n'"
    for kind in ("postgresql", "sqlite"):
        with pytest.raises(UnsafeSql, match="NUL"):
            sql_text(kind).literal("a\0")


def test_other_literals() -> None:
    pg, my = sql_text("postgresql"), sql_text("mysql")
    assert pg.literal(True) == "TRUE" and my.literal(True) == "1" and pg.literal(None) == "NULL"
    assert pg.literal(decimal.Decimal("-1.50")) == "-1.50" and my.literal(1.5) == "1.5e0"
    assert pg.literal(b"\x00'") == "E'\\\\x0027'::bytea" and my.literal(b"\x00'") == "X'0027'"
    assert pg.literal(dt.date(2020, 1, 2)) == "'2020-01-02'"
    assert pg.literal(["a'", "b\\"]) == "ARRAY['a''',E'b\\\\']" and pg.literal([]) == "'{}'"
    for bad in (float("nan"), float("inf"), decimal.Decimal("NaN"), {"a": 1}):
        with pytest.raises(UnsafeSql):
            pg.literal(bad)
    with pytest.raises(UnsafeSql, match="array"):
        my.literal(["a"])


def test_bind_markers() -> None:
    sql = f"SELECT * FROM `a%s` WHERE x = {PARAM} AND y LIKE '%' AND z = {PARAM}"
    assert sql_text("mysql").params(sql) == "SELECT * FROM `a%%s` WHERE x = %s AND y LIKE '%%' AND z = %s"
    assert sql_text("postgresql").params(f"a={PARAM}, b={PARAM}") == "a=$1, b=$2"
    assert sql_text("sqlite").params(f"a={PARAM}") == "a=?"


def test_table_lists_and_ids_read_back_what_sql_wrote() -> None:
    ids = [TableId(None, "public", 'a,"b'), TableId(None, "s.x", "c`")]
    text = ",".join(t.sql("postgresql") for t in ids)
    assert [parse_table_id("postgresql", t) for t in split_table_list(text)] == ids
    assert split_table_list(" a , b,,") == ["a", "b"]
