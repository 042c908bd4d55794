"""SimpleHeaderConverter byte for byte against Kafka 4.1.1's own (a Java harness run at test time): the bytes written
for Connect values of every type (fromConnectHeader), and the schema and value read back from header bytes
(toConnectHeader, Values.parseString), with the bytes those are written as again."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import shutil
from typing import Any

import pytest
from javaharness.harness import CONNECT_LIBS, JavaHarness

from miniconnect.converters.javatext import java_double, java_float, to_float32
from miniconnect.converters.simple_header import SimpleHeaderConverter
from miniconnect.data.schema import (
    DATE,
    DECIMAL,
    TIME,
    TIMESTAMP,
    Schema,
    Struct,
    Type,
    date_schema,
    date_to_days,
    decimal_schema,
    millis_to_time,
    millis_to_timestamp,
    time_schema,
    time_to_millis,
    timestamp_schema,
    timestamp_to_millis,
)
from miniconnect.data.values import big_decimal_str

pytestmark = pytest.mark.skipif(
    shutil.which("javac") is None or not (CONNECT_LIBS / "connect-api-4.1.1.jar").exists(),
    reason="needs javac and Kafka Connect's jars (scripts/test-deps.sh)",
)


def s(type_: str, optional: bool = False, **more: Any) -> dict:
    return {"type": type_, "optional": optional, **more}


def v(tag: str, value: Any = None) -> dict:
    return {"t": tag, "v": value}


INT8, INT16, INT32, INT64 = s("int8"), s("int16"), s("int32"), s("int64")
F32, F64, STR, BOOL, BYTES = s("float32"), s("float64"), s("string"), s("boolean"), s("bytes")
PERSON = s("struct", fields=[["id", INT64], ["name", s("string", True)], ["tags", s("array", items=STR)]])

WRITES = [
    (INT8, v("int8", -128)),
    (INT8, v("int8", 127)),
    (INT16, v("int16", -32768)),
    (INT32, v("int32", 2147483647)),
    (INT64, v("int64", -9223372036854775808)),
    (F32, v("float32", "1.1")),
    (F32, v("float32", "3.4028234663852886E38")),
    (F32, v("float32", "1.0E-7")),
    (F64, v("float64", "0.1")),
    (F64, v("float64", "1.0E20")),
    (F64, v("float64", "-0.0")),
    (F64, v("float64", "NaN")),
    (F64, v("float64", "Infinity")),
    (F64, v("float64", "123456789.125")),
    (BOOL, v("bool", True)),
    (STR, v("str", "")),
    (STR, v("str", 'quote " and \\ backslash, é, 日本')),
    (STR, v("str", "[1, 2]")),
    (BYTES, v("bytes", base64.b64encode(b"\x00\x01binary\xff").decode())),
    ({"type": "bytes", "logical": "decimal", "scale": 2}, v("dec", "12.50")),
    ({"type": "bytes", "logical": "decimal", "scale": 0}, v("dec", "-12345678901234567890")),
    ({"type": "bytes", "logical": "decimal", "scale": 10}, v("dec", "0.0000000001")),
    ({"type": "int32", "logical": "date"}, v("date", 19723 * 86_400_000)),
    ({"type": "int32", "logical": "time"}, v("date", 37_230_123)),
    ({"type": "int64", "logical": "timestamp"}, v("date", 1_704_103_230_123)),
    ({"type": "int64", "logical": "timestamp"}, v("date", -1)),
    (s("array", items=INT32), v("list", [v("int32", 1), v("int32", -2)])),
    (s("array", items=STR), v("list", [v("str", "a"), v("str", 'b"c'), v("str", "")])),
    (s("array", items=s("string", True)), v("list", [v("null"), v("str", "x")])),
    (s("array", items=s("array", items=F64)), v("list", [v("list", [v("float64", "1.5")]), v("list", [])])),
    (s("map", keys=STR, values=INT64), v("map", [[v("str", "a"), v("int64", 1)], [v("str", "b"), v("int64", 2)]])),
    (s("map", keys=INT32, values=BOOL), v("map", [[v("int32", 7), v("bool", False)]])),
    (PERSON, v("struct", {"id": v("int64", 7), "name": v("str", "ann"), "tags": v("list", [v("str", "x")])})),
    (PERSON, v("struct", {"id": v("int64", 8), "name": v("null"), "tags": v("list", [])})),
    (None, v("struct", {"id": v("int64", 9), "name": v("str", "bo"), "tags": v("list", [])})),
    (None, v("null")),
    (None, v("int64", 42)),
    (None, v("float64", "2.5")),
    (None, v("str", "schemaless")),
    (None, v("bool", False)),
    (None, v("list", [v("int64", 1), v("str", "two"), v("null")])),
    (None, v("map", [[v("str", "k"), v("list", [v("int64", 1)])], [v("int64", 2), v("str", "v")]])),
    (None, v("dec", "3.14159")),
    (None, v("bytes", base64.b64encode(b"raw").decode())),
]

READS = [
    "42",
    "-129",
    "32768",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "12345678901234567890",
    "0",
    "-0",
    "00012",
    "+5",
    "1.5",
    "1.0",
    "1.50",
    "0.1",
    "1e3",
    "1E+3",
    "1e-3",
    ".5",
    "5.",
    "3.4e38",
    "3.4e39",
    "1e308",
    "1e400",
    "-1e-50",
    "1.2.3",
    "0x10",
    "NaN",
    "Infinity",
    "-",
    "+",
    "true",
    "false",
    "True",
    "null",
    "",
    " ",
    "  42  ",
    "hello",
    "hello world",
    "é",
    "true}",
    "1:2",
    "a:b",
    "[1,2,3]",
    "[1, 2.5]",
    "[1, 300, 70000]",
    "[1, 1e20]",
    '["a","b"]',
    "[a,b]",
    "[true, false]",
    "[null, 1]",
    "[null]",
    "[]",
    "[[1],[2]]",
    "[1,,2]",
    "[1",
    "[1,]",
    '{"a":1}',
    '{"a":1,"b":"x"}',
    '{"k":[1,2]}',
    "{a:1}",
    "{}",
    '{"a":null}',
    "{1:2, 3:4}",
    '{"a":1,}',
    "2024-01-01",
    "2024-02-30",
    "10:20:30.123Z",
    "2024-01-01T10:20:30.123Z",
    "2024-13-01T10:20:30.123Z",
    '"quoted"',
    '["2024-01-01"]',
    '["10:20:30.123Z", "x"]',
    "1234567890",
    "12:34",
    "\\:",
    "a\\,b",
    '{"a":{"b":[1,{"c":2}]}}',
    "[1.5, 2.5]",
    "[1.5, 1e300]",
    "[-1, 2]",
]


def _schema(spec: dict | None) -> Schema | None:
    if spec is None:
        return None
    optional = spec.get("optional", False)
    logical = spec.get("logical")
    if logical == "decimal":
        return decimal_schema(spec["scale"], optional)
    if logical in ("date", "time", "timestamp"):
        return {"date": date_schema, "time": time_schema, "timestamp": timestamp_schema}[logical](optional)
    t = spec["type"]
    if t == "array":
        return Schema.array(_schema(spec["items"]), optional)  # type: ignore[arg-type]
    if t == "map":
        return Schema.map(_schema(spec["keys"]), _schema(spec["values"]), optional)  # type: ignore[arg-type]
    if t == "struct":
        return Schema.struct([(n, _schema(f)) for n, f in spec["fields"]], optional=optional)  # type: ignore[misc]
    return Schema(Type(t), optional=optional)


def _value(spec: dict, schema: Schema | None) -> Any:
    t, x = spec["t"], spec.get("v")
    if t == "null":
        return None
    if t in ("int8", "int16", "int32", "int64"):
        return int(x)
    if t == "float32":
        return to_float32(float(x))
    if t == "float64":
        return float(x)
    if t in ("bool", "str"):
        return x
    if t == "bytes":
        return base64.b64decode(x)
    if t == "dec":
        return decimal.Decimal(x)
    if t == "date":
        name = schema.name if schema is not None else None
        if name == DATE:
            return dt.date(1970, 1, 1) + dt.timedelta(days=x // 86_400_000)
        if name == TIME:
            return millis_to_time(x)
        return millis_to_timestamp(x)
    if t == "list":
        items = schema.value_schema if schema is not None else None
        return [_value(e, items) for e in x]
    if t == "map":
        ks, vs = (schema.key_schema, schema.value_schema) if schema is not None else (None, None)
        return {_value(k, ks): _value(e, vs) for k, e in x}
    if t == "struct":
        st = _schema(PERSON)
        assert st is not None
        return Struct(st, [_value(x[f.name], f.schema) for f in st.fields])
    raise ValueError(t)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def _describe_schema(schema: Schema | None) -> Any:
    if schema is None:
        return None
    out: dict[str, Any] = {"type": schema.type.value, "name": schema.name, "optional": schema.optional}
    if schema.type in (Type.ARRAY, Type.MAP):
        out["values"] = _describe_schema(schema.value_schema)
    if schema.type == Type.MAP:
        out["keys"] = _describe_schema(schema.key_schema)
    return out


def _describe_value(schema: Schema | None, value: Any) -> Any:
    """As the harness describes the Java value; None where a Python value does not say its Java type (the elements
    of a list without a common schema), then only the bytes are compared."""
    if value is None:
        return {"t": "null"}
    name = schema.name if schema is not None else None
    if name == DECIMAL:
        return {"t": "dec", "v": big_decimal_str(value)}
    if name in (DATE, TIME, TIMESTAMP):
        millis = (
            date_to_days(value) * 86_400_000
            if name == DATE
            else time_to_millis(value)
            if name == TIME
            else timestamp_to_millis(value)
        )
        return {"t": "date", "v": millis}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, (bytes, bytearray)):
        return {"t": "bytes", "v": base64.b64encode(value).decode()}
    if schema is None:
        return None
    if schema.type in (Type.INT8, Type.INT16, Type.INT32, Type.INT64):
        return {"t": schema.type.value, "v": value}
    if schema.type == Type.FLOAT32:
        return {"t": "float32", "v": java_float(value)}
    if schema.type == Type.FLOAT64:
        return {"t": "float64", "v": java_double(value)}
    if schema.type == Type.ARRAY:
        items = [_describe_value(schema.value_schema, e) for e in value]
        return None if None in items else {"t": "list", "v": items}
    if schema.type == Type.MAP:
        entries = [
            [_describe_value(schema.key_schema, k), _describe_value(schema.value_schema, e)] for k, e in value.items()
        ]
        return None if any(None in e for e in entries) else {"t": "map", "v": entries}
    return None


@pytest.fixture(scope="module")
def kafka_converter(tmp_path_factory: pytest.TempPathFactory) -> JavaHarness:
    return JavaHarness("HeaderConverterHarness", tmp_path_factory.mktemp("header-harness"))


def test_written_bytes_match_kafkas(kafka_converter: JavaHarness) -> None:
    cases = [{"schema": sch, "value": val | {"schema": PERSON} if val["t"] == "struct" else val} for sch, val in WRITES]
    kafka = kafka_converter.run([{"write": case} for case in cases])
    ours = []
    for sch, val in WRITES:
        schema = _schema(sch)
        ours.append(_b64(SimpleHeaderConverter().from_connect_header("t", "h", schema, _value(val, schema))))
    differences = [(w, k, o) for w, k, o in zip(WRITES, kafka, ours, strict=True) if k != o]
    assert not differences, "\n".join(f"{w}: kafka {k!r} ours {o!r}" for w, k, o in differences)
    assert len(WRITES) >= 40


def test_read_schemas_and_values_match_kafkas(kafka_converter: JavaHarness) -> None:
    malformed = [b"\xff\xfe not utf-8", b"\xed\xa0\x80x", b"ab\xe2\x82", b"\xf0\x9f\x98", b"\xe0\x80\x80[1]"]
    cases = [text.encode() for text in READS] + [None, *malformed]  # Java replaces malformed UTF-8 its own way
    kafka = kafka_converter.run([{"read": _b64(c)} for c in cases])
    differences = []
    for data, k in zip(cases, kafka, strict=True):
        schema, value = SimpleHeaderConverter().to_connect_header("t", "h", data)
        again = _b64(SimpleHeaderConverter().from_connect_header("t", "h", schema, value))
        described = _describe_value(schema, value)
        ours = {"schema": _describe_schema(schema), "value": described if described is not None else k["value"]}
        ours["again"] = again
        if ours != k:
            differences.append(f"{data!r}:\n  kafka {k}\n  ours  {ours}")
    assert not differences, f"{len(differences)} of {len(cases)} differ:\n" + "\n".join(differences)
