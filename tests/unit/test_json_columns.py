"""converters/json/columns against JsonConverter.to_connect_data: envelopes of random values of every plain and logical field
type read as Arrow columns give exactly the Struct values record-by-record decoding gives, or are refused."""

from __future__ import annotations

import datetime as dt
import decimal
import random
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miniconnect.converters.json import JsonConverter
from miniconnect.converters.json.columns import ColumnsRefused
from miniconnect.data.schema import (
    STRING_SCHEMA,
    DataError,
    Schema,
    Struct,
    Type,
    date_schema,
    decimal_schema,
    time_schema,
    timestamp_schema,
)

PLAIN = [
    ("i8", Type.INT8),
    ("i16", Type.INT16),
    ("i32", Type.INT32),
    ("i64", Type.INT64),
    ("f32", Type.FLOAT32),
    ("f64", Type.FLOAT64),
    ("b", Type.BOOLEAN),
    ("s", Type.STRING),
    ("raw", Type.BYTES),
]
LOGICAL = [
    ("dec", decimal_schema(4, optional=True)),
    ("day", date_schema(optional=True)),
    ("at", time_schema(optional=True)),
    ("ts", timestamp_schema(optional=True)),
]
SCHEMA = Schema.struct(
    [(name, Schema(t, optional=True)) for name, t in PLAIN] + LOGICAL + [("sp ace\"'\\é", STRING_SCHEMA)]
)
UTC = dt.UTC


def maybe(strategy: Any) -> Any:
    return st.one_of(st.none(), strategy)


ROW = st.tuples(
    maybe(st.integers(-128, 127)),
    maybe(st.integers(-(2**15), 2**15 - 1)),
    maybe(st.integers(-(2**31), 2**31 - 1)),
    maybe(st.integers(-(2**63), 2**63 - 1)),
    maybe(st.floats(-(2.0**126), 2.0**126, width=32)),  # JsonConverter cannot encode floats near FLT_MAX (javatext)
    maybe(st.floats(allow_nan=False, allow_infinity=False)),
    maybe(st.booleans()),
    maybe(st.text()),
    maybe(st.binary(max_size=40)),
    maybe(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**30), max_value=10**30)),
    maybe(st.dates()),
    maybe(st.times().map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))),
    maybe(st.datetimes(timezones=st.just(UTC)).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))),
    st.text(),
)


def converter() -> JsonConverter:
    conv = JsonConverter()
    conv.configure({"schemas.enable": "true"}, False)
    return conv


@settings(max_examples=60, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=30))
def test_columns_hold_what_record_by_record_decoding_gives(rows: list[tuple]) -> None:
    conv = converter()
    datas = [conv.from_connect_data("t", SCHEMA, Struct(SCHEMA, list(r))) for r in rows]
    decoded = [conv.to_connect_data("t", d)[1].values for d in datas]
    reader = conv.column_reader("t", datas[0])
    assert reader is not None
    table = reader.read(datas)
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    got = [list(r) for r in zip(*columns)]
    for want, have in zip(decoded, got, strict=True):
        for w, h in zip(want, have, strict=True):
            assert type(w) is type(h) and w == h, (w, h)
            if isinstance(w, decimal.Decimal):
                assert w.as_tuple() == h.as_tuple()
            if isinstance(w, dt.datetime):
                assert h.utcoffset() == dt.timedelta(0)


def test_refuses_what_it_would_read_differently() -> None:
    conv = converter()
    good = conv.from_connect_data("t", SCHEMA, Struct(SCHEMA, [None] * 13 + ["x"]))
    reader = conv.column_reader("t", good)
    assert reader is not None
    head = good[: good.index(b'"payload":') + len(b'"payload":')]
    for payload in [
        b'{"i32":1.5,"sp ace\\"\'\\\\\\u00e9":"x"}',  # a float for an integer
        b'{"f64":1e999,"sp ace\\"\'\\\\\\u00e9":"x"}',  # infinite
        b'{"f64":NaN,"sp ace\\"\'\\\\\\u00e9":"x"}',  # not JSON: the reader takes it
        b'{"f32":-Infinity,"sp ace\\"\'\\\\\\u00e9":"x"}',
        b'{"day":3000000,"sp ace\\"\'\\\\\\u00e9":"x"}',  # beyond Python's dates
        b'{"at":86400000,"sp ace\\"\'\\\\\\u00e9":"x"}',  # beyond a day
        b'{"raw":"not base64!","sp ace\\"\'\\\\\\u00e9":"x"}',
        b'{"dec":"","sp ace\\"\'\\\\\\u00e9":"x"}',  # a Decimal of no bytes: an error record by record
        b"{}",  # the required field missing
        b"null",
    ]:
        try:
            reader.read([good, head + payload + b"}"])
        except ColumnsRefused:
            continue
        raise AssertionError(f"read {payload!r}")
    with pytest.raises(DataError, match="Invalid bytes for Decimal field"):
        conv.to_connect_data("t", head + b'{"dec":"","sp ace\\"\'\\\\\\u00e9":"x"}}')


def test_pyarrow_is_not_imported_at_start_up() -> None:
    """The worker, the JSON converter and the JDBC sink load without pyarrow or pgpq: the column path imports them
    when a sink first reads a batch as columns."""
    code = (
        "import sys, miniconnect.cli, miniconnect.runtime.worker, miniconnect.converters.json\n"
        "import miniconnect_plugins.jdbc.sink.task\n"
        "print(sorted(m for m in ('pyarrow', 'pgpq') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_envelopes_are_cut_apart_exactly_or_refused() -> None:
    """Each envelope must be the schema's prefix, its payload and the closing brace: a value holding the prefix's
    text or a line break and a payload over two lines are read as they are, and an envelope of another schema
    (first, in the middle, last), a record without its closing brace, an empty record or a null refuses the batch."""
    conv = converter()
    small = Schema.struct([("s", STRING_SCHEMA)])

    def envelope(s: str) -> bytes:
        return conv.from_connect_data("t", small, Struct(small, [s]))

    tricky = ['}\n{"schema"', "x}", '"payload":{', "\\", "é"]
    datas = [envelope(s) for s in tricky]
    reader = conv.column_reader("t", datas[0])
    assert reader is not None
    assert reader.read(datas).column(0).to_pylist() == tricky
    head = datas[0][: datas[0].index(b'"payload":') + len(b'"payload":')]
    spanning = [datas[0], head + b'{\n"s":\n"b"\n}}', head + b'{"s":"c"}\n}']
    assert [conv.to_connect_data("t", d)[1].values[0] for d in spanning] == ['}\n{"schema"', "b", "c"]
    assert reader.read(spanning).column(0).to_pylist() == ['}\n{"schema"', "b", "c"]
    other = conv.from_connect_data("t", SCHEMA, Struct(SCHEMA, [None] * 13 + ["x"]))
    ok = envelope("a")
    for bad in (
        [other, ok, ok],
        [ok, other, ok],
        [ok, ok, other],
        [ok, head + b'{"s":"b"}', ok],
        [ok, head + b'{"s":"b"}'],
        [ok, b"", ok],
        [ok, None, ok],
    ):
        try:
            reader.read(bad)
        except ColumnsRefused:
            continue
        raise AssertionError(f"read {bad!r}")


def test_rows_are_the_records_payloads_even_where_lines_run_together() -> None:
    """The JSON reader reads its lines as one stream: an unclosed payload takes in the next line and a payload of two
    objects gives two rows. Such records, whose row count still adds up, are refused, not read shifted."""
    conv = converter()
    pair = Schema.struct([("a", Schema(Type.INT64, optional=True)), ("b", Schema(Type.INT64, optional=True))])
    ok = conv.from_connect_data("t", pair, Struct(pair, [0, 0]))
    head = ok[: ok.index(b'"payload":') + len(b'"payload":')]
    reader = conv.column_reader("t", ok)
    assert reader is not None
    unclosed, swallowed, two = (head + p + b"}" for p in (b'{"a":1,"x":', b'{"y":2}}', b'{"a":5}{"a":6}'))
    for d in (unclosed, swallowed, two):
        with pytest.raises(DataError):
            conv.to_connect_data("t", d)
    for bad in ([ok, unclosed, swallowed, two], [unclosed, swallowed, two, ok], [two, ok, unclosed, swallowed]):
        try:
            reader.read(bad)
        except ColumnsRefused:
            continue
        raise AssertionError(f"read {bad!r}")
    # a field named as the line numbers' key, and primitive payloads
    hashed = Schema.struct([("#", Schema(Type.INT64, optional=True)), ("##", STRING_SCHEMA)])
    datas = [conv.from_connect_data("t", hashed, Struct(hashed, [i, str(i)])) for i in (7, None, -1)]
    reader = conv.column_reader("t", datas[0])
    assert reader is not None
    assert reader.read(datas).to_pylist() == [{"#": 7, "##": "7"}, {"#": None, "##": "None"}, {"#": -1, "##": "-1"}]
    primitive = Schema(Type.INT64, optional=True)
    datas = [conv.from_connect_data("t", primitive, v) for v in (3, None, 4)]
    reader = conv.column_reader("t", datas[0])
    assert reader is not None
    assert reader.read(datas).column(0).to_pylist() == [3, None, 4]


def test_negative_zero_is_read_as_the_record_path_reads_it() -> None:
    conv = converter()
    pair = Schema.struct([("x", Schema(Type.FLOAT64, optional=True)), ("s", STRING_SCHEMA)])
    datas = [conv.from_connect_data("t", pair, Struct(pair, [x, "a"])) for x in (-0.0, 0.0, None)]
    reader = conv.column_reader("t", datas[0])
    assert reader is not None
    head = datas[0][: datas[0].index(b'"payload":') + len(b'"payload":')]
    datas += [head + b'{"x":-0,"s":"a"}}', head + b'{"x":-0e3,"s":"a"}}']
    xs = reader.read(datas).column(0).to_pylist()
    assert [repr(x) for x in xs] == ["0.0", "0.0", "None", "0.0", "0.0"]  # Kafka's parser has no negative zero
    assert [repr(s.values[0]) for _, s in conv.to_connect_batch("t", datas)] == [repr(x) for x in xs]


def test_numbers_strings_and_spacing_of_any_spelling_read_as_record_by_record() -> None:
    """Payloads as other JSON writers spell them (numbers with exponents, fractions, leading zeros, beyond double's
    range or int64's; string escapes, surrogates, control characters; spaces, tabs and CRLF between tokens): each is
    either refused or read exactly as to_connect_data reads it, and what fails record by record is refused."""
    rng = random.Random(5)
    conv = converter()
    fields = [("d", Type.FLOAT64), ("f", Type.FLOAT32), ("l", Type.INT64), ("s", Type.INT16), ("t", Type.STRING)]
    schema = Schema.struct([(name, Schema(t, optional=True)) for name, t in fields])
    good = conv.from_connect_data("t", schema, Struct(schema, [0.5, None, None, None, None]))
    head = good[: good.index(b'"payload":') + len(b'"payload":')]
    reader = conv.column_reader("t", good)
    assert reader is not None

    def number() -> str:
        whole = rng.choice(["0", "1", "00", "9007199254740993", "12345678901234567890", str(rng.randrange(10**12))])
        fraction = rng.choice(["", "", ".", ".5", "." + str(rng.randrange(10**20)).zfill(3)])
        exponent = rng.choice(["", "", "e", "E+5", "e-5", f"e{rng.randint(-400, 400)}"])
        return rng.choice(["", "-"]) + whole + fraction + exponent

    def text() -> str:
        pieces = [
            "a",
            "\\u00e9",
            "\\ud83d\\ude00",
            "\\ud800",
            "\\u0000",
            "\\n",
            '\\"',
            "\\/",
            "é",
            "\x7f",
            "\\x41",
            "\t",
        ]
        return '"' + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 5))) + '"'

    read = 0
    for _ in range(3000):
        name, _t = rng.choice(fields)
        gap = rng.choice(["", " ", "\t", "\r\n "])
        payload = f'{{{gap}"{name}"{gap}:{gap}{text() if name == "t" else number()}{gap}}}'.encode()
        datum = head + payload + b"}"
        try:
            want: Any = conv.to_connect_data("t", datum)[1].values
        except DataError:
            want = None
        try:
            got = list(reader.read([good, datum]).to_pylist()[1].values())
        except ColumnsRefused:
            continue
        assert want is not None, payload
        assert [(type(v), repr(v)) for v in got] == [(type(v), repr(v)) for v in want], payload
        read += 1
    assert read > 1000
