"""JDBC source pieces that need no database: config keys, validation, SQL shapes, offsets, type mapping, grouping."""

import datetime as dt
import decimal

import pytest
from miniconnect_plugins.jdbc.column_types import Column, TypeMapper, pg_column
from miniconnect_plugins.jdbc.dialects import TableId
from miniconnect_plugins.jdbc.source import JdbcSourceConnector
from miniconnect_plugins.jdbc.source.config import CONFIG_DEF, SourceConfig, validate
from miniconnect_plugins.jdbc.source.querier import Querier, offset_to_state, state_to_offset
from miniconnect_plugins.jdbc.source.tables import column_mapping, filter_tables, group_partitions

from miniconnect.data import schema as S
from miniconnect.data.schema import DataError


def test_defaults_and_groups():
    cfg = SourceConfig.parse({"connection.url": "jdbc:sqlite::memory:"})
    assert cfg["batch.max.rows"] == 1000 and cfg["poll.interval.ms"] == 5000
    assert cfg["table.poll.interval.ms"] == 60000 and cfg["validate.non.null"] is True
    assert cfg["quote.sql.identifiers"] == "always" and cfg["db.timezone"] == "UTC"
    assert cfg["query.retry.attempts"] == -1 and cfg["table.types"] == ["TABLE"]
    assert cfg["timestamp.initial"] is None and cfg.numeric_mapping == "none"
    assert CONFIG_DEF.groups == ["Database", "Mode", "Connector"]
    assert JdbcSourceConnector.class_name == "io.confluent.connect.jdbc.JdbcSourceConnector"
    assert JdbcSourceConnector.task_class.class_name == "io.confluent.connect.jdbc.source.JdbcSourceTask"
    assert SourceConfig.parse({"numeric.precision.mapping": "true"}).numeric_mapping == "precision_only"


def test_json_numbers_and_booleans_accepted():
    cfg = SourceConfig.parse({"poll.interval.ms": 2000, "validate.non.null": False, "timestamp.initial": -1})
    assert cfg["poll.interval.ms"] == 2000 and cfg["validate.non.null"] is False and cfg["timestamp.initial"] == -1


def errors(props):
    return {k: v.errors for k, v in validate(props).items() if v.errors}


def test_validation_messages():
    base = {"connection.url": "jdbc:sqlite::memory:", "mode": "bulk"}
    assert errors({**base, "mode": "nope", "table.whitelist": "a"})["mode"] == ["Invalid mode: nope"]
    e = errors({**base, "table.whitelist": "a", "table.include.list": "a"})
    assert "Cannot mix legacy and new configuration approaches" in e["table.whitelist"][0]
    e = errors({**base, "query": "SELECT 1", "table.whitelist": "a"})
    assert set(e) >= {"query", "table.whitelist"}
    e = errors({**base, "mode": "incrementing", "query": "SELECT 1"})
    assert "incrementing.column.name" in e
    e = errors({**base, "table.include.list": "a", "mode": "timestamp"})
    assert "requires timestamp.columns.mapping" in e["mode"][0]
    assert "Invalid time zone" in errors({**base, "table.whitelist": "a", "db.timezone": "Mars/Base"})["db.timezone"][0]
    assert errors({**base, "table.whitelist": "a", "db.timezone": "PST"}) == {}
    assert "topic.prefix" in errors({**base, "table.whitelist": "a", "topic.prefix": "bad prefix"})
    assert (
        "Unsupported JDBC subprotocol"
        in errors({**base, "table.whitelist": "a", "connection.url": "jdbc:db2://h/x"})["connection.url"][0]
    )
    assert "transaction.isolation.mode" in errors(
        {**base, "table.whitelist": "a", "transaction.isolation.mode": "SQL_SERVER_SNAPSHOT"}
    )


class _Db:
    def __init__(self, kind):
        from miniconnect_plugins.jdbc.dialects import get_dialect

        self.dialect, self.kind = get_dialect(kind), kind

    def sql_text(self, quote=True):
        from miniconnect_plugins.jdbc.sqltext import sql_text

        return sql_text(self.kind, quote)


def querier(kind="postgresql", mode="incrementing", table=TableId(None, "public", "orders"), query=None, **kw):
    args = dict(
        db=_Db(kind),
        mode=mode,
        table=table,
        query=query,
        topic="t",
        mapper=TypeMapper(),
        ts_columns=["updated_at"],
        inc_column="id",
        quote=True,
        suffix="",
        batch_max_rows=10,
        delay_ms=0,
        offset=None,
        bound_by_transactions=False,
    )
    args.update(kw)
    return Querier(**args)


def test_sql_shapes():
    t = '"public"."orders"'
    assert querier().build_sql() == (
        f'SELECT * FROM {t} WHERE {t}."id" > ? ORDER BY {t}."id" ASC',
        f'SELECT * FROM {t} WHERE {t}."id" > $1 ORDER BY {t}."id" ASC',
    )
    assert querier(mode="timestamp+incrementing").build_sql()[0] == (
        f'SELECT * FROM {t} WHERE {t}."updated_at" < ? AND (({t}."updated_at" = ? AND {t}."id" > ?) OR '
        f'{t}."updated_at" > ?) ORDER BY {t}."updated_at",{t}."id" ASC'
    )
    assert querier(
        mode="timestamp", table=None, query="SELECT * FROM v", ts_columns=["updated_at", "created_at"]
    ).build_sql()[0] == (
        'SELECT * FROM v WHERE COALESCE("updated_at","created_at") > ? AND COALESCE("updated_at","created_at") < ? '
        'ORDER BY COALESCE("updated_at","created_at") ASC'
    )
    assert querier(quote=False).build_sql()[0] == (
        "SELECT * FROM public.orders WHERE public.orders.id > ? ORDER BY public.orders.id ASC"
    )
    assert querier(mode="bulk", suffix=" FOR UPDATE ").build_sql()[0] == f"SELECT * FROM {t} FOR UPDATE"
    my = querier("mysql", table=TableId("shop", None, "orders"))
    assert my.build_sql()[1] == (
        "SELECT * FROM `shop`.`orders` WHERE `shop`.`orders`.`id` > %s ORDER BY `shop`.`orders`.`id` ASC"
    )
    assert my.partition == {"protocol": "1", "table": "shop.orders"}
    assert querier(mode="bulk").partition == {"table": "orders"}
    assert querier(table=None, query="SELECT 1").partition == {"query": "query"}


def test_offset_maps_round_trip():
    ns = 1790818723_729_123_000
    assert state_to_offset(ns, 3) == {"timestamp_nanos": 729123000, "incrementing": 3, "timestamp": 1790818723729}
    assert list(state_to_offset(ns, 3)) == ["timestamp_nanos", "incrementing", "timestamp"]
    assert offset_to_state({"timestamp": 1790818723729, "timestamp_nanos": 729123000, "incrementing": 3}) == (ns, 3)
    assert offset_to_state({"timestamp": 1000}) == (1_000_000_000, None)  # timestamp.initial form
    assert offset_to_state({}) == (None, None) and offset_to_state(None) == (None, None)


@pytest.mark.parametrize(
    "mode,p,s,want",
    [
        ("none", 10, 2, S.decimal_schema(2, True, 10)),
        ("best_fit", 10, 2, S.OPTIONAL_FLOAT64_SCHEMA),
        ("best_fit", 10, 0, S.OPTIONAL_INT64_SCHEMA),
        ("precision_only", 4, 0, S.OPTIONAL_INT16_SCHEMA),
        ("best_fit", 20, 0, S.decimal_schema(0, True, 20)),
        ("best_fit", 30, 4, S.decimal_schema(4, True, 30)),
        ("best_fit_eager_double", 30, 4, S.OPTIONAL_FLOAT64_SCHEMA),
        ("precision_only", 2, 0, S.OPTIONAL_INT8_SCHEMA),
        ("none", 0, 0, S.decimal_schema(127, True, 0)),
    ],
)
def test_numeric_mapping(mode, p, s, want):
    col = pg_column("n", "numeric", "scalar", ((p << 16) | s) + 4 if p else -1)
    assert TypeMapper(mode, dialect="postgresql").map(col)[0] == want


def test_decimal_type_ignores_numeric_mapping_and_values_rescale():
    schema, _ = TypeMapper("best_fit", dialect="mysql").map(Column("d", "DECIMAL", "decimal", 10, 2))
    assert schema == S.decimal_schema(2, True, 10)
    schema, conv = TypeMapper("best_fit", dialect="sqlite").map(Column("d", "DECIMAL", "decimal", 10, 2))
    assert schema == S.decimal_schema(2, True, 10) and conv(decimal.Decimal("1.5")) == decimal.Decimal("1.50")
    assert str(conv(1.5)) == "1.50" and conv(None) is None
    _, conv = TypeMapper("best_fit", dialect="postgresql").map(pg_column("n", "numeric", "scalar", -1))
    with pytest.raises(DataError, match="Bad value for type byte : 183.9382"):
        conv(decimal.Decimal("183.9382"))


def test_timestamps_in_db_timezone_and_granularity():
    naive = dt.datetime(2023, 11, 14, 22, 13, 20, 123456)
    col = Column("ts", "TIMESTAMP", "datetime", nullable=False)
    schema, conv = TypeMapper(tz="America/New_York", dialect="mysql").map(col)
    assert schema == S.timestamp_schema() and S.timestamp_to_millis(conv(naive)) == 1700018000123
    schema, conv = TypeMapper(granularity="micros_long", dialect="mysql").map(col)
    assert schema == S.INT64_SCHEMA and conv(naive) == 1700000000123456
    schema, conv = TypeMapper(granularity="nanos_iso_datetime_string", dialect="mysql").map(col)
    assert schema == S.STRING_SCHEMA and conv(naive) == "2023-11-14T22:13:20.123456000"
    assert TypeMapper(dialect="postgresql").map(pg_column("a", "_int4", "array")) is None


def test_table_filters_grouping_and_mappings():
    ts = [TableId(None, "public", n) for n in ("a", "b", "c", "d", "e")]
    assert filter_tables(ts, "postgresql", ["public.a", '"public"."b"', "c"], [], [], []) == ts[:3]
    assert filter_tables(ts, "postgresql", [], ["a"], [], []) == ts[1:]
    assert filter_tables(ts, "postgresql", [], [], ["public\\.[a-c]"], [".*b"]) == [ts[0], ts[2]]
    assert group_partitions(list("abcde"), 3) == [["a", "b"], ["c", "d"], ["e"]]
    assert column_mapping(["public\\.a:[u|c]", ".*[b-e]:[m]"], ts, "timestamp", True)["public.a"] == ["u", "c"]
    with pytest.raises(Exception, match="does not match any of the provided regexes"):
        column_mapping(["public\\.a:id"], ts, "incrementing", False)


def test_connection_properties_pass_through():
    cfg = SourceConfig.parse(
        {
            "connection.url": "jdbc:postgresql://h/db?ApplicationName=x",
            "connection.user": "u",
            "connection.password": "p",
            "connection.sslmode": "require",
            "connection.ApplicationName": "ignored",
        }
    )
    jdbc = cfg.jdbc_url()
    assert (jdbc.user, jdbc.password) == ("u", "p")
    assert jdbc.param("sslmode") == "require" and jdbc.param("ApplicationName") == "x"
