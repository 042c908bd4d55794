"""Attacks on the SQL the JDBC sink and source write (issue 21): record defaults, array elements, field names,
table.name.format and source table/column names made of quotes, backticks, backslashes, semicolons, comment
markers, newlines, control characters and non-ASCII, against real PostgreSQL, MariaDB (default sql_mode and
NO_BACKSLASH_ESCAPES) and SQLite. Each case is refused with a clear error or round-trips (the table is created,
a column's default reads back equal to the record's, a source reads the rows back), and the database holds no table
or row it should not (the catalog and two canary tables are checked around every example).

The oracle quotes names on its own (`Backend.qi`) and reads values through bind parameters, never through the
code under test."""

from __future__ import annotations

import itertools
import sqlite3
from typing import Any

import pytest
from helpers.jdbc_source import Harness, connector_for
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from miniconnect_plugins.jdbc.sink import JdbcSinkTask
from servers import run_async

from miniconnect.config.configdef import java_trim
from miniconnect.connector import SinkTaskContext
from miniconnect.converters.json import JsonConverter
from miniconnect.data.records import SinkRecord
from miniconnect.data.schema import BYTES_SCHEMA, INT32_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA, Schema, Struct
from miniconnect.errors import ConnectError

ISSUE_DEFAULT = "x'); DROP TABLE v1; CREATE TABLE zz1 (b text DEFAULT 'y"
ISSUE_TABLE = 't" (a int); DROP TABLE v2; CREATE TABLE "zz2'
ISSUE_TABLE_BACKTICK = "t` (a int); DROP TABLE v2; CREATE TABLE `zz2"

# pieces an attacker would use; hypothesis mixes them with arbitrary text
PIECES = [
    "'",
    "''",
    '"',
    "`",
    "\\",
    "\\'",
    ";",
    "--",
    "/*",
    "*/",
    "#",
    "\n",
    "\r",
    "\t",
    "\x00",
    "\x1a",
    "\x01",
    "\x7f",
    " ",
    "%",
    "%s",
    "$1",
    "?",
    "(",
    ")",
    ",",
    "é",
    "中",
    "😀",
    "\u2028",
    "DROP TABLE v1",
    "E'",
    "X'",
]
TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.text(st.characters(codec="utf-8"), max_size=3)), max_size=8).map(
    "".join
)
NAME = (
    st.lists(
        st.one_of(st.sampled_from(PIECES), st.text(st.characters(codec="utf-8"), min_size=1, max_size=2)),
        min_size=1,
        max_size=5,
    )
    .map("".join)
    .filter(lambda s: 0 < len(s) <= 14)
)
ATTACK = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_ids = itertools.count()


class Backend:
    """One database: the connector settings, an independent way to query it, and its catalog."""

    def __init__(self, kind: str, config: dict[str, str], server: Any = None, path: str | None = None, label: str = ""):
        self.kind, self.config, self.server, self.path, self.label = kind, config, server, path, label or kind
        self.q = "`" if kind == "mysql" else '"'

    def qi(self, name: str) -> str:
        return self.q + name.replace(self.q, self.q * 2) + self.q

    async def _run(self, sql: str, args: tuple = (), fetch: bool = True) -> list[tuple]:
        if self.kind == "duckdb":
            return _duckdb_run(self.path, sql, args, fetch)  # type: ignore[arg-type]
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as c:  # type: ignore[arg-type]
                return [tuple(r) for r in c.execute(sql, args).fetchall()]
        conn = await self.server.connect()
        try:
            if self.kind == "postgresql":
                if not fetch:
                    await conn.execute(sql, *args)
                    return []
                return [tuple(r) for r in await conn.fetch(sql, *args)]
            async with conn.cursor() as cur:
                await cur.execute("SET NAMES utf8mb4")
                await cur.execute(sql, args or None)
                return [tuple(r) for r in await cur.fetchall()] if fetch else []
        finally:
            await conn.close() if self.kind == "postgresql" else conn.close()

    def rows(self, sql: str, *args: Any) -> list[tuple]:
        """`sql` with the driver's own markers: `$1` (PostgreSQL, DuckDB), `%s` (MariaDB), `?` (SQLite)."""
        return run_async(lambda: self._run(sql, args))

    def execute(self, sql: str) -> None:
        run_async(lambda: self._run(sql, (), fetch=False))

    def tables(self) -> set[str]:
        if self.kind == "duckdb":
            return {
                r[0] for r in self.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
            }
        if self.kind == "sqlite":
            return {r[0] for r in self.rows("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        if self.kind == "postgresql":
            return {
                r[0]
                for r in self.rows(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                    "c.relnamespace WHERE n.nspname = 'public'"
                )
            }
        return {
            r[0] for r in self.rows("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
        }

    def columns(self, table: str) -> list[str]:
        if self.kind == "duckdb":
            return [
                r[0]
                for r in self.rows(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND "
                    "table_name = $1 ORDER BY ordinal_position",
                    table,
                )
            ]
        if self.kind == "sqlite":
            return [r[0] for r in self.rows("SELECT name FROM pragma_table_info(?)", table)]
        if self.kind == "postgresql":
            return [
                r[0]
                for r in self.rows(
                    "SELECT attname FROM pg_attribute WHERE attrelid = (SELECT c.oid FROM "
                    "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                    "n.nspname = 'public' AND c.relname = $1) AND attnum > 0 AND NOT "
                    "attisdropped ORDER BY attnum",
                    table,
                )
            ]
        return [
            r[0]
            for r in self.rows(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                "DATABASE() AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
                table,
            )
        ]

    def canaries(self) -> list[tuple]:
        return self.rows("SELECT 'v1', a FROM v1 UNION ALL SELECT 'v2', a FROM v2")

    def drop(self, table: str) -> None:
        self.execute(f"DROP TABLE {self.qi(table)}")


def _duckdb_run(path: str, sql: str, args: tuple, fetch: bool) -> list[tuple]:
    """DuckDB through duckdb-engine, as the connector opens it (DuckDB shares a file's database within a process
    only between connections of the same configuration); `sql` goes to the driver as it is."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"duckdb:///{path}", poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as c:
            result = c.exec_driver_sql(sql, args or None)
            return [tuple(r) for r in result.fetchall()] if fetch else []
    finally:
        engine.dispose()


# The generic dialect (SQLAlchemy Core): DuckDB, and PostgreSQL / SQLite through SQLAlchemy's async drivers
GENERIC = ["generic-duckdb", "generic-postgresql+asyncpg", "generic-sqlite+aiosqlite"]


@pytest.fixture(params=["sqlite", "postgresql", "mariadb", "mariadb-no-backslash-escapes", *GENERIC])
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    if request.param == "sqlite":
        path = str(tmp_path / "attack.db")
        b = Backend("sqlite", {"connection.url": f"jdbc:sqlite:{path}"}, path=path)
    elif request.param == "generic-sqlite+aiosqlite":
        path = str(tmp_path / "attack.db")
        b = Backend("sqlite", {"connection.url": f"sqlite+aiosqlite:///{path}"}, path=path, label=request.param)
    elif request.param == "generic-duckdb":
        path = str(tmp_path / "attack.duckdb")
        b = Backend("duckdb", {"connection.url": f"duckdb:///{path}"}, path=path, label=request.param)
    elif request.param == "generic-postgresql+asyncpg":
        server = request.getfixturevalue("pg_db")
        cfg = server.connection_config()
        cfg["connection.url"] = cfg["connection.url"].replace("jdbc:postgresql://", "postgresql+asyncpg://")
        b = Backend("postgresql", cfg, server, label=request.param)
    elif request.param == "postgresql":
        server = request.getfixturevalue("pg_db")
        b = Backend("postgresql", server.connection_config(), server)
    else:
        server = request.getfixturevalue("mysql_db")
        b = Backend("mysql", server.connection_config(scheme="mariadb"), server, label=request.param)
    old_mode = None
    if request.param == "mariadb-no-backslash-escapes":  # every new session of the test server runs with it
        (old_mode,) = b.rows("SELECT @@GLOBAL.sql_mode")[0]
        b.execute("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')")
        assert "NO_BACKSLASH_ESCAPES" in b.rows("SELECT @@SESSION.sql_mode")[0][0]
    try:
        b.execute("CREATE TABLE v1 (a INT)")
        b.execute("CREATE TABLE v2 (a INT)")
        b.execute("INSERT INTO v1 VALUES (1)")
        b.execute("INSERT INTO v2 VALUES (2)")
        yield b
    finally:
        if old_mode is not None:
            b.execute(f"SET GLOBAL sql_mode = '{old_mode}'")


def put(backend: Backend, records: list[SinkRecord], **overrides: str) -> Exception | None:
    """Puts the records through a fresh JdbcSinkTask; the error it raised, or None."""
    props = {
        "name": "attack",
        "topics": "attack",
        "auto.create": "true",
        "auto.evolve": "true",
        **backend.config,
        **overrides,
    }

    async def go() -> Exception | None:
        task = JdbcSinkTask()
        task.context = SinkTaskContext("attack", 0, props)
        await task.start(props)
        try:
            await task.put(records)
        except ConnectError as e:
            return e
        finally:
            await task.stop()
        return None

    return run_async(go)


def record(schema: Schema, values: list[Any], offset: int = 7) -> SinkRecord:
    return SinkRecord("attack", 3, None, None, schema, Struct(schema, values), offset)


async def source_task_config(backend: Backend, **config: str) -> dict[str, str]:
    """The config a source connector gives its one task: it lists the tables (all but the canaries) itself."""
    cfg = {
        **backend.config,
        "topic.prefix": "t-",
        "poll.interval.ms": "50",
        "poll.linger.ms": "100",
        "table.poll.interval.ms": "60000",
        "table.blacklist": "v1,v2",
        **config,
    }
    connector = await connector_for(cfg)
    try:
        return (await connector.task_configs(1))[0]
    finally:
        await connector.stop()


class Guard:
    """The catalog and the canaries before an attack; `check` asserts only `created` was added. On exit, whatever
    the example left behind is dropped (so a failing example does not spoil the next)."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self.tables = backend.tables()
        self.canaries = backend.canaries()
        assert self.canaries == [("v1", 1), ("v2", 2)]

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: Any) -> None:
        for t in self.backend.tables() - self.tables:
            self.backend.drop(t)

    def check(self, *created: str) -> None:
        assert self.backend.tables() == self.tables | set(created)
        assert self.backend.canaries() == self.canaries


def _refused_clearly(err: Exception | None, *needles: str) -> None:
    assert err is not None
    text = str(err)
    assert "offset 7" in text and "topic 'attack'" in text, text  # names the record
    assert any(n.lower() in text.lower() for n in needles), text  # (PostgreSQL folds unquoted names)


def _default_round_trip(backend: Backend, field: Schema, default: Any) -> None:
    table = f"d{next(_ids)}"
    with Guard(backend) as guard:
        schema = Schema.struct([("id", INT32_SCHEMA), ("d", field)], name="attack")
        err = put(backend, [record(schema, [1, None])], **{"table.name.format": table})
        texts = default if isinstance(default, list) else [default] if isinstance(default, str) else []
        if any("\x00" in t for t in texts) and backend.kind != "mysql":
            _refused_clearly(err, "NUL")  # PostgreSQL and SQLite text cannot hold NUL
            guard.check()
            return
        assert err is None, f"{backend.label}: {err}"
        guard.check(table)
        backend.execute(f"INSERT INTO {backend.qi(table)} ({backend.qi('id')}) VALUES (2)")
        marker = {"postgresql": "$1", "duckdb": "$1", "mysql": "%s", "sqlite": "?"}[backend.kind]
        got = backend.rows(f"SELECT {backend.qi('d')} FROM {backend.qi(table)} WHERE {backend.qi('id')} = {marker}", 2)
        assert got == [(default,)], backend.label
        backend.drop(table)
        guard.check()


@ATTACK
@given(default=TEXT)
@example(default=ISSUE_DEFAULT)
@example(default="\\'); DROP TABLE v1; --")
@example(default="a\\")
def test_string_defaults_round_trip(backend: Backend, default: str) -> None:
    _default_round_trip(backend, OPTIONAL_STRING_SCHEMA.with_(default=default), default)


@ATTACK
@given(default=st.lists(TEXT, max_size=4))
@example(default=[ISSUE_DEFAULT])
@example(default=["a\\", "'", ISSUE_DEFAULT])
def test_array_of_strings_defaults_round_trip_on_postgresql(pg_db: Any, default: list[str]) -> None:
    backend = Backend("postgresql", pg_db.connection_config(), pg_db)
    if "v1" not in backend.tables():
        for t, v in (("v1", 1), ("v2", 2)):
            backend.execute(f"CREATE TABLE {t} (a INT)")
            backend.execute(f"INSERT INTO {t} VALUES ({v})")
    field = Schema.array(STRING_SCHEMA, optional=True).with_(default=default)
    _default_round_trip(backend, field, default)


def _name_refused_by_database(backend: Backend, name: str) -> bool:
    """Names the database itself refuses (its error is the clear one): MariaDB takes no name ending in white space
    and no character beyond the BMP; PostgreSQL and SQLite take anything but NUL."""
    return backend.kind == "mysql" and (name[-1] in " \t\n\v\f\r" or any(ord(c) > 0xFFFF for c in name))


@ATTACK
@given(name=NAME)
@example(name=ISSUE_DEFAULT[:14])
@example(name='a"b`c\\')
def test_field_names_round_trip(backend: Backend, name: str) -> None:
    if name.casefold() == "id":
        return
    table = f"f{next(_ids)}"
    with Guard(backend) as guard:
        schema = Schema.struct([("id", INT32_SCHEMA), (name, OPTIONAL_STRING_SCHEMA)], name="attack")
        err = put(backend, [record(schema, [1, "v"])], **{"table.name.format": table})
        if "\x00" in name:
            _refused_clearly(err, "NUL")
            guard.check()
            return
        if err is not None and _name_refused_by_database(backend, name):
            guard.check()
            return
        assert err is None, f"{backend.label}: {err}"
        guard.check(table)
        assert backend.columns(table) == ["id", name]
        assert backend.rows(f"SELECT {backend.qi(name)} FROM {backend.qi(table)}") == [("v",)]
        backend.drop(table)
        guard.check()


def _plain_table_name(name: str) -> bool:
    """table.name.format is `[catalog.][schema.]table` with optionally quoted parts: names without dots, quotes
    first or blanks around are plain table names (others are parsed, and tested, as such)."""
    return "." not in name and name[:1] not in ('"', "`") and name == _trimmed(name) and "${" not in name


def _trimmed(name: str) -> str:
    """What a config value of this name becomes: Connect trims strings as Java's String.trim (any character up to
    U+0020 at the ends, control characters too) and then Python's blanks are no value's either."""
    return java_trim(name).strip()


@ATTACK
@given(table=NAME.filter(_plain_table_name), column=NAME.filter(lambda c: c == _trimmed(c)))
@example(table=ISSUE_TABLE, column="n")
@example(table=ISSUE_TABLE_BACKTICK, column="n")
@example(table="a,b", column="x,y")
def test_table_and_column_names_sink_then_source(
    backend: Backend, tmp_path_factory: Any, table: str, column: str
) -> None:
    """The sink creates the oddly named table (table.name.format) with an oddly named incrementing column; a
    source connector lists it, hands it to its task, which reads the rows with `WHERE column > ?`. (Connect trims
    config strings, so incrementing.column.name cannot name a column with blanks around it.)"""
    with Guard(backend) as guard:
        if table in guard.tables:
            return
        schema = Schema.struct([(column, INT32_SCHEMA)], name="attack")
        err = put(backend, [record(schema, [i], 7 + i) for i in (1, 2, 3)], **{"table.name.format": table})
        if "\x00" in table + column:
            assert err is not None and "NUL" in str(err)
            guard.check()
            return
        if err is not None and any(_name_refused_by_database(backend, n) for n in (table, column)):
            guard.check()
            return
        assert err is None, f"{backend.label}: {err}"
        guard.check(table)
        assert backend.columns(table) == [column]

        async def read() -> list[Any]:
            config = await source_task_config(backend, mode="incrementing", **{"incrementing.column.name": column})
            async with Harness(str(tmp_path_factory.mktemp("offsets") / "o.json")) as h:
                task = await h.start_task(config)
                got = await h.poll(task, 3, timeout=30, quiet=0.3)  # a repeated read would show
                assert {r.topic for r in got} == {f"t-{table}"}
                return [r.value.get(column) for r in got]

        assert run_async(read) == [1, 2, 3]
        backend.drop(table)
        guard.check()


def test_issue_cases_verbatim_through_the_json_converter(backend: Backend) -> None:
    """The issue's reports as a user made them: one JsonConverter record with the default, and the
    table.name.format (the backtick variant on MariaDB)."""
    with Guard(backend) as guard:
        conv = JsonConverter()
        conv.configure({"schemas.enable": "true"}, False)
        envelope = (
            '{"schema": {"type": "struct", "name": "v", "fields": [{"field": "id", "type": "int32"}, '
            '{"field": "note", "type": "string", "optional": true, "default": '
            + "\"x'); DROP TABLE v1; CREATE TABLE zz1 (b text DEFAULT 'y\""
            + '}]}, "payload": {"id": 1}}'
        )
        schema, value = conv.to_connect_data("attack", envelope.encode())
        assert schema.field("note").schema.default == ISSUE_DEFAULT
        assert (
            put(backend, [SinkRecord("attack", 0, None, None, schema, value, 0)], **{"table.name.format": "defaults"})
            is None
        )
        name = ISSUE_TABLE_BACKTICK if backend.kind == "mysql" else ISSUE_TABLE
        assert put(backend, [record(Schema.struct([("n", INT32_SCHEMA)]), [5])], **{"table.name.format": name}) is None
        guard.check("defaults", name)
        assert "zz1" not in backend.tables() and "zz2" not in backend.tables()
        assert backend.rows(f"SELECT {backend.qi('n')} FROM {backend.qi(name)}") == [(5,)]
        backend.execute(f"INSERT INTO {backend.qi('defaults')} ({backend.qi('id')}) VALUES (2)")
        assert backend.rows(
            f"SELECT {backend.qi('note')} FROM {backend.qi('defaults')} WHERE {backend.qi('id')} = 2"
        ) == [(ISSUE_DEFAULT,)]


@pytest.mark.parametrize("name", ["Weird Name", "a;b", 'x"y', "drop`t", "ümlaut"])
def test_quote_never_refuses_names_that_are_not_plain(backend: Backend, name: str) -> None:
    with Guard(backend) as guard:
        schema = Schema.struct([("id", INT32_SCHEMA), (name, OPTIONAL_STRING_SCHEMA)], name="attack")
        err = put(backend, [record(schema, [1, "v"])], **{"quote.sql.identifiers": "never", "table.name.format": "qn"})
        _refused_clearly(err, repr(name))
        assert "quote.sql.identifiers=never" in str(err)
        err = put(
            backend,
            [record(Schema.struct([("id", INT32_SCHEMA)]), [1])],
            **{"quote.sql.identifiers": "never", "table.name.format": name},
        )
        _refused_clearly(err, repr(name))
        guard.check()
        # plain names still go bare
        assert (
            put(
                backend,
                [record(Schema.struct([("id", INT32_SCHEMA)]), [1])],
                **{"quote.sql.identifiers": "never", "table.name.format": "plain_1"},
            )
            is None
        )
        guard.check("plain_1")


def test_source_with_quote_never_refuses_an_odd_table_name(backend: Backend, tmp_path: Any) -> None:
    assert (
        put(backend, [record(Schema.struct([("id", INT32_SCHEMA)]), [1])], **{"table.name.format": "odd name;--"})
        is None
    )

    async def start() -> Exception | None:
        config = await source_task_config(backend, mode="bulk", **{"quote.sql.identifiers": "never"})
        async with Harness(str(tmp_path / "o.json")) as h:
            try:
                await h.start_task(config)
            except ConnectError as e:
                return e
        return None

    err = run_async(start)
    assert err is not None and "'odd name;--'" in str(err) and "quote.sql.identifiers=never" in str(err)


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_postgresql_literals_whatever_standard_conforming_strings_says(pg_db: Any, conforming: str) -> None:
    backend = Backend("postgresql", pg_db.connection_config(), pg_db)
    backend.execute(f"ALTER DATABASE {backend.qi(pg_db.database)} SET standard_conforming_strings = {conforming}")
    for t, v in (("v1", 1), ("v2", 2)):
        backend.execute(f"CREATE TABLE {t} (a INT)")
        backend.execute(f"INSERT INTO {t} VALUES ({v})")
    for default in ("a\\", "\\'); DROP TABLE v1; --", ISSUE_DEFAULT, "\\\\x41"):
        _default_round_trip(backend, OPTIONAL_STRING_SCHEMA.with_(default=default), default)
    field = Schema.array(STRING_SCHEMA, optional=True).with_(default=["\\", "'\\'"])
    _default_round_trip(backend, field, ["\\", "'\\'"])
    bytes_default = BYTES_SCHEMA.with_(optional=True, default=b"\\'\x00x")
    _default_round_trip(backend, bytes_default, b"\\'\x00x")
