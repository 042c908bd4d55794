"""JsonConverter against Kafka's JsonConverter: exact bytes written, values read back, errors, options and caches.

Expected encodings are written out literally; most come from Kafka's JsonConverterTest (compacted the way Jackson
writes them: no spaces, Kafka's key order).
"""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from miniconnect.converters.json import ENVELOPE_ERROR, JsonConverter
from miniconnect.converters.json import converter as jc
from miniconnect.converters.json import schema as jschema
from miniconnect.data.schema import (
    BOOLEAN_SCHEMA,
    BYTES_SCHEMA,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
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
from miniconnect.errors import ConfigError

UTC = dt.UTC
D = decimal.Decimal


def conv(**options: object) -> JsonConverter:
    c = JsonConverter()
    c.configure({k.replace("_", "."): v for k, v in options.items()}, False)
    return c


def env(schema: str, payload: str) -> bytes:
    return f'{{"schema":{schema},"payload":{payload}}}'.encode()


ORDERS = Schema.struct(
    [
        ("order_id", OPTIONAL_STRING_SCHEMA),
        ("user_id", OPTIONAL_STRING_SCHEMA),
        ("product_id", OPTIONAL_STRING_SCHEMA),
        ("qty", OPTIONAL_INT32_SCHEMA),
        ("unit_price", OPTIONAL_INT32_SCHEMA),
        ("total_price", OPTIONAL_INT32_SCHEMA),
    ],
    name="orders",
)
ORDERS_BYTES = (
    b'{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"field":"order_id"},'
    b'{"type":"string","optional":true,"field":"user_id"},{"type":"string","optional":true,"field":"product_id"},'
    b'{"type":"int32","optional":true,"field":"qty"},{"type":"int32","optional":true,"field":"unit_price"},'
    b'{"type":"int32","optional":true,"field":"total_price"}],"optional":false,"name":"orders"},'
    b'"payload":{"order_id":"887dfd6a-5bb7-4742-90e8-a793808e93f6","user_id":"ea45be72-1806-44ae-b528-ebec466d0d61",'
    b'"product_id":"CATALOG-002","qty":20,"unit_price":2000,"total_price":40000}}'
)
ORDER = Struct(
    ORDERS,
    ["887dfd6a-5bb7-4742-90e8-a793808e93f6", "ea45be72-1806-44ae-b528-ebec466d0d61", "CATALOG-002", 20, 2000, 40000],
)


# -- encoding: exact bytes ---------------------------------------------------------------------------------------
def test_seed_orders_record_is_byte_identical_to_kafka():
    assert conv().from_connect_data("orders", ORDERS, ORDER) == ORDERS_BYTES


@pytest.mark.parametrize(
    "schema, value, expected",
    [
        (BOOLEAN_SCHEMA, True, env('{"type":"boolean","optional":false}', "true")),
        (INT8_SCHEMA, 12, env('{"type":"int8","optional":false}', "12")),
        (INT16_SCHEMA, 12, env('{"type":"int16","optional":false}', "12")),
        (INT32_SCHEMA, 12, env('{"type":"int32","optional":false}', "12")),
        (INT64_SCHEMA, 4398046511104, env('{"type":"int64","optional":false}', "4398046511104")),
        (FLOAT32_SCHEMA, 12.34, env('{"type":"float","optional":false}', "12.34")),
        (FLOAT64_SCHEMA, 12.34, env('{"type":"double","optional":false}', "12.34")),
        (BYTES_SCHEMA, b"test-string", env('{"type":"bytes","optional":false}', '"dGVzdC1zdHJpbmc="')),
        (STRING_SCHEMA, "test-string", env('{"type":"string","optional":false}', '"test-string"')),
        (
            Schema.array(INT32_SCHEMA),
            [1, 2, 3],
            env('{"type":"array","items":{"type":"int32","optional":false},"optional":false}', "[1,2,3]"),
        ),
        (
            Schema.map(STRING_SCHEMA, INT32_SCHEMA),
            {"key1": 12, "key2": 15},
            env(
                '{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},'
                '"optional":false}',
                '{"key1":12,"key2":15}',
            ),
        ),
        (
            Schema.map(INT32_SCHEMA, INT32_SCHEMA),
            {1: 12, 2: 15},
            env(
                '{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"int32","optional":false},'
                '"optional":false}',
                "[[1,12],[2,15]]",
            ),
        ),
    ],
)
def test_every_type_encodes_like_kafka(schema, value, expected):
    assert conv().from_connect_data("t", schema, value) == expected


def test_struct_encodes_fields_with_field_key_last():
    schema = Schema.struct(
        [("field1", BOOLEAN_SCHEMA), ("field2", STRING_SCHEMA), ("field3", STRING_SCHEMA), ("field4", BOOLEAN_SCHEMA)]
    )
    value = Struct(schema, [True, "string2", "string3", False])
    assert conv().from_connect_data("t", schema, value) == env(
        '{"type":"struct","fields":[{"type":"boolean","optional":false,"field":"field1"},'
        '{"type":"string","optional":false,"field":"field2"},{"type":"string","optional":false,"field":"field3"},'
        '{"type":"boolean","optional":false,"field":"field4"}],"optional":false}',
        '{"field1":true,"field2":"string2","field3":"string3","field4":false}',
    )


def test_schema_metadata_order_is_type_optional_name_version_doc_parameters_default():
    c = conv()
    schema = Schema(Type.BOOLEAN, name="bool", version=3, doc="the documentation", parameters={"foo": "bar"})
    assert c.from_connect_data("t", schema, True) == env(
        '{"type":"boolean","optional":false,"name":"bool","version":3,"doc":"the documentation",'
        '"parameters":{"foo":"bar"}}',
        "true",
    )
    assert c.from_connect_data("t", Schema(Type.BOOLEAN, default=True), True) == env(
        '{"type":"boolean","optional":false,"default":true}', "true"
    )
    assert c.from_connect_data("t", OPTIONAL_BOOLEAN_SCHEMA, None) == env('{"type":"boolean","optional":true}', "null")


def test_logical_types_encode_like_kafka():
    c = conv()
    assert c.from_connect_data("t", decimal_schema(2), D("1.56")) == env(
        '{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,'
        '"parameters":{"scale":"2"}}',
        '"AJw="',
    )
    assert c.from_connect_data("t", date_schema(), dt.date(1997, 5, 19)) == env(
        '{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1}', "10000"
    )
    assert c.from_connect_data("t", time_schema(), dt.time(4, 0)) == env(
        '{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1}', "14400000"
    )
    assert c.from_connect_data("t", timestamp_schema(), dt.datetime(1970, 2, 16, 7, 6, 40, tzinfo=UTC)) == env(
        '{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1}', "4000000000"
    )


def test_decimal_numeric_format_writes_the_number_with_its_scale():
    c = conv(decimal_format="numeric")  # case insensitive, like Kafka
    schema4 = decimal_schema(4)
    assert c.from_connect_data("t", decimal_schema(2), D("1.56")).endswith(b'"payload":1.56}')
    assert c.from_connect_data("t", schema4, D("1.5600")).endswith(b'"payload":1.5600}')
    assert c.from_connect_data("t", decimal_schema(2, optional=True), None).endswith(b'"payload":null}')
    negative = c.from_connect_data("t", decimal_schema(2), D("-12345.67"))
    assert negative.endswith(b'"payload":-12345.67}')
    assert c.to_connect_data("t", negative) == (decimal_schema(2), D("-12345.67"))


def test_negative_decimal_base64_is_twos_complement():
    c = conv()
    data = c.from_connect_data("t", decimal_schema(2), D("-1.56"))
    assert data.endswith(b'"payload":"/2Q="}')  # -156 -> 0xff64
    assert c.to_connect_data("t", data)[1] == D("-1.56")


@pytest.mark.parametrize(
    "value, text",
    [
        (1.0, b"1.0"),
        (100.0, b"100.0"),
        (0.001, b"0.001"),
        (1234567.0, b"1234567.0"),
        (-0.0, b"-0.0"),
        (1e7, b"1.0E7"),
        (1e20, b"1.0E20"),
        (12345678.9, b"1.23456789E7"),
        (1e-4, b"1.0E-4"),
        (-1.5e-7, b"-1.5E-7"),
        (0.1 + 0.2, b"0.30000000000000004"),
        (float("nan"), b'"NaN"'),
        (float("-inf"), b'"-Infinity"'),
    ],
)
def test_doubles_are_written_as_jackson_writes_them(value, text):
    assert conv(schemas_enable="false").from_connect_data("t", FLOAT64_SCHEMA, value) == text


def test_float32_uses_the_shortest_float_digits():
    c = conv(schemas_enable="false")
    assert c.from_connect_data("t", FLOAT32_SCHEMA, 0.1) == b"0.1"
    assert c.from_connect_data("t", FLOAT32_SCHEMA, 123456789.0) == b"1.2345679E8"
    s = Schema.struct([("f", FLOAT32_SCHEMA), ("d", FLOAT64_SCHEMA)])
    assert c.from_connect_data("t", s, Struct(s, [3.4e38, 2.5])) == b'{"f":3.4E38,"d":2.5}'


def test_nested_struct_array_and_map():
    inner = Schema.struct(
        [("id", INT64_SCHEMA), ("tags", Schema.array(STRING_SCHEMA, optional=True))], name="item", optional=True
    )
    outer = Schema.struct(
        [
            ("items", Schema.array(inner)),
            ("attrs", Schema.map(STRING_SCHEMA, Schema.map(INT8_SCHEMA, BOOLEAN_SCHEMA))),
            ("maybe", inner),
        ]
    )
    value = Struct(
        outer, [[Struct(inner, [1, ["a", "b"]]), Struct(inner, [2, None])], {"x": {1: True, -2: False}}, None]
    )
    c = conv()
    data = c.from_connect_data("t", outer, value)
    item = (
        '{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},'
        '{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"tags"}],'
        '"optional":true,"name":"item"'
    )
    assert data == env(
        '{"type":"struct","fields":[{"type":"array","items":' + item + '},"optional":false,"field":"items"},'
        '{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"map","keys":{"type":"int8",'
        '"optional":false},"values":{"type":"boolean","optional":false},"optional":false},"optional":false,'
        '"field":"attrs"},' + item + ',"field":"maybe"}],"optional":false}',
        '{"items":[{"id":1,"tags":["a","b"]},{"id":2,"tags":null}],"attrs":{"x":[[1,true],[-2,false]]},"maybe":null}',
    )
    assert c.to_connect_data("t", data) == (outer, value)


# -- nulls and defaults -------------------------------------------------------------------------------------------
def test_null_handling_when_encoding():
    c = conv()
    assert c.from_connect_data("t", None, None) is None  # tombstone
    assert c.from_connect_data("t", Schema(Type.INT32, default=7), None) == env(
        '{"type":"int32","optional":false,"default":7}', "7"
    )
    with pytest.raises(DataError, match="null value for field that is required and has no default value"):
        c.from_connect_data("t", INT32_SCHEMA, None)
    s = Schema.struct([("a", Schema(Type.STRING, optional=True, default="dflt")), ("b", OPTIONAL_INT32_SCHEMA)])
    assert c.from_connect_data("t", s, Struct(s)).endswith(b'"payload":{"a":"dflt","b":null}}')
    with pytest.raises(DataError, match="required"):
        c.from_connect_data("t", Schema.struct([("x", STRING_SCHEMA)]), Struct(Schema.struct([("x", STRING_SCHEMA)])))


def test_replace_null_with_default_false_keeps_nulls():
    s = Schema.struct([("a", Schema(Type.STRING, optional=True, default="dflt"))])
    keep = conv(replace_null_with_default="false")
    data = keep.from_connect_data("t", s, Struct(s))
    assert data.endswith(b'"payload":{"a":null}}')
    assert keep.to_connect_data("t", data)[1].values == [None]
    assert conv().to_connect_data("t", data)[1].values == ["dflt"]


def test_schema_default_values_are_encoded_with_the_schema():
    c = conv()
    s = decimal_schema(2).with_(default=D("1.56"))
    assert c.from_connect_data("t", s, None) == env(
        '{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,'
        '"parameters":{"scale":"2"},"default":"AJw="}',
        '"AJw="',
    )


# -- decoding (Kafka's own test inputs, spaces and all) ------------------------------------------------------------
@pytest.mark.parametrize(
    "text, schema, value",
    [
        ('{ "schema": { "type": "boolean" }, "payload": true }', BOOLEAN_SCHEMA, True),
        ('{ "schema": { "type": "boolean" }, "payload": false }', BOOLEAN_SCHEMA, False),
        ('{ "schema": { "type": "int8" }, "payload": 12 }', INT8_SCHEMA, 12),
        ('{ "schema": { "type": "int16" }, "payload": 12 }', INT16_SCHEMA, 12),
        ('{ "schema": { "type": "int32" }, "payload": 12 }', INT32_SCHEMA, 12),
        ('{ "schema": { "type": "int64" }, "payload": 4398046511104 }', INT64_SCHEMA, 4398046511104),
        ('{ "schema": { "type": "float" }, "payload": 12.34 }', FLOAT32_SCHEMA, 12.34),
        ('{ "schema": { "type": "double" }, "payload": 12.34 }', FLOAT64_SCHEMA, 12.34),
        ('{ "schema": { "type": "double" }, "payload": 12 }', FLOAT64_SCHEMA, 12.0),
        ('{ "schema": { "type": "bytes" }, "payload": "dGVzdC1zdHJpbmc=" }', BYTES_SCHEMA, b"test-string"),
        ('{ "schema": { "type": "string" }, "payload": "foo-bar-baz" }', STRING_SCHEMA, "foo-bar-baz"),
        (
            '{ "schema": { "type": "array", "items": { "type" : "int32" } }, "payload": [1, 2, 3] }',
            Schema.array(INT32_SCHEMA),
            [1, 2, 3],
        ),
        (
            '{ "schema": { "type": "map", "keys": { "type" : "string" }, "values": { "type" : "int32" } }, '
            '"payload": { "key1": 12, "key2": 15} }',
            Schema.map(STRING_SCHEMA, INT32_SCHEMA),
            {"key1": 12, "key2": 15},
        ),
        (
            '{ "schema": { "type": "map", "keys": { "type" : "int32" }, "values": { "type" : "int32" } }, '
            '"payload": [ [1, 12], [2, 15] ] }',
            Schema.map(INT32_SCHEMA, INT32_SCHEMA),
            {1: 12, 2: 15},
        ),
        ('{ "schema": { "type": "boolean", "optional": true }, "payload": null }', OPTIONAL_BOOLEAN_SCHEMA, None),
        (
            '{ "schema": { "type": "boolean", "default": true }, "payload": null }',
            Schema(Type.BOOLEAN, default=True),
            True,
        ),
        (
            '{ "schema": { "type": "boolean", "optional": false, "name": "bool", "version": 2, "doc": "the documentation",'
            ' "parameters": { "foo": "bar" }}, "payload": true }',
            Schema(Type.BOOLEAN, name="bool", version=2, doc="the documentation", parameters={"foo": "bar"}),
            True,
        ),
    ],
)
def test_decodes_kafka_test_inputs(text, schema, value):
    got_schema, got = conv().to_connect_data("t", text.encode())
    assert got_schema == schema and got == value and type(got) is type(value)
    assert got_schema.doc == schema.doc


def test_decodes_structs_with_missing_optional_fields():
    text = (
        b'{ "schema": { "type": "struct", "fields": [{ "field":"optional", "type": "string", "optional": true },'
        b' {  "field": "required", "type": "string" }] }, "payload": { "required": "required" } }'
    )
    schema = Schema.struct([("optional", OPTIONAL_STRING_SCHEMA), ("required", STRING_SCHEMA)])
    assert conv().to_connect_data("t", text) == (schema, Struct(schema, [None, "required"]))
    missing = text.replace(b'"required": "required"', b'"optional": "x"')
    with pytest.raises(DataError, match="Invalid null value for required STRING field"):
        conv().to_connect_data("t", missing)


@pytest.mark.parametrize(
    "schema_json, payload, schema, value",
    [
        (
            '{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}}',
            '"AJw="',
            decimal_schema(2),
            D("1.56"),
        ),
        (
            '{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}}',
            "1.56",
            decimal_schema(2),
            D("1.56"),
        ),
        (
            '{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"17"}}',
            "1.23456789123456789",
            decimal_schema(17),
            D("1.23456789123456789"),
        ),
        (
            '{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","version":1,"optional":true,'
            '"default":"AJw=","parameters":{"scale":"2"}}',
            "null",
            decimal_schema(2, optional=True).with_(default=D("1.56")),
            D("1.56"),
        ),
        (
            '{"type":"int32","name":"org.apache.kafka.connect.data.Date","version":1}',
            "10000",
            date_schema(),
            dt.date(1997, 5, 19),
        ),
        (
            '{"type":"int32","name":"org.apache.kafka.connect.data.Date","version":1,"default":0}',
            "null",
            date_schema().with_(default=dt.date(1970, 1, 1)),
            dt.date(1970, 1, 1),
        ),
        (
            '{"type":"int32","name":"org.apache.kafka.connect.data.Time","version":1}',
            "14400000",
            time_schema(),
            dt.time(4, 0),
        ),
        (
            '{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp","version":1}',
            "4000000000",
            timestamp_schema(),
            dt.datetime(1970, 2, 16, 7, 6, 40, tzinfo=UTC),
        ),
        (
            '{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp","version":1,"optional":true,"default":42}',
            "null",
            timestamp_schema(optional=True).with_(default=dt.datetime(1970, 1, 1, 0, 0, 0, 42000, tzinfo=UTC)),
            dt.datetime(1970, 1, 1, 0, 0, 0, 42000, tzinfo=UTC),
        ),
    ],
)
def test_decodes_logical_types(schema_json, payload, schema, value):
    got_schema, got = conv().to_connect_data("t", env(schema_json, payload))
    assert got_schema == schema
    assert got == value and type(got) is type(value)
    if isinstance(value, D):
        assert got.as_tuple() == value.as_tuple()  # exact digits, like Kafka's BigDecimal


def test_numeric_decimal_inside_a_struct_keeps_exact_digits_on_the_fast_path():
    s = Schema.struct([("amount", decimal_schema(17)), ("x", FLOAT64_SCHEMA)])
    writer, reader = conv(decimal_format="NUMERIC"), conv()
    datas = [writer.from_connect_data("t", s, Struct(s, [D("1.23456789123456789"), 0.5])) for _ in range(3)]
    for data in datas:
        _, value = reader.to_connect_data("t", data)
        assert value.values == [D("1.23456789123456789"), 0.5]
        assert type(value.values[1]) is float
    assert [v for _, v in reader.to_connect_batch("t", datas)] == [value] * 3


@pytest.mark.parametrize(
    "schema",
    [
        BOOLEAN_SCHEMA,
        INT8_SCHEMA,
        INT16_SCHEMA,
        INT32_SCHEMA,
        INT64_SCHEMA,
        FLOAT32_SCHEMA,
        FLOAT64_SCHEMA,
        BYTES_SCHEMA,
        STRING_SCHEMA,
        decimal_schema(3),
        date_schema(),
        time_schema(),
        timestamp_schema(),
        Schema.array(Schema.struct([("a", OPTIONAL_INT32_SCHEMA)], optional=True)),
        Schema.map(INT64_SCHEMA, Schema.array(STRING_SCHEMA)),
        ORDERS,
    ],
)
@pytest.mark.parametrize("options", [{}, {"decimal_format": "NUMERIC"}])
def test_round_trip_every_type(schema, options):
    samples = {
        Type.BOOLEAN: False,
        Type.INT8: -8,
        Type.INT16: 300,
        Type.INT32: -70000,
        Type.INT64: 2**62,
        Type.FLOAT32: 0.5,
        Type.FLOAT64: -1.25e-9,
        Type.BYTES: b"\x00\xffbin",
        Type.STRING: 'héllo "q" \n',
    }
    if schema.name == "org.apache.kafka.connect.data.Decimal":
        value = D("-98765.432")
    elif schema == date_schema():
        value = dt.date(2024, 2, 29)
    elif schema == time_schema():
        value = dt.time(23, 59, 59, 999000)
    elif schema == timestamp_schema():
        value = dt.datetime(2024, 2, 29, 12, 30, 1, 123000, tzinfo=UTC)
    elif schema.type is Type.ARRAY:
        inner = schema.value_schema
        value = [Struct(inner, [1]), None, Struct(inner, [None])]
    elif schema.type is Type.MAP:
        value = {1: ["a"], -(2**40): []}
    elif schema is ORDERS:
        value = ORDER
    else:
        value = samples[schema.type]
    c = conv(**options)
    assert c.to_connect_data("t", c.from_connect_data("t", schema, value)) == (schema, value)


# -- envelope and parse errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data", [b'{"a":1}', b'{"schema":null}', b'{"schema":null,"payload":1,"x":2}', b"[1,2]", b"true", b""]
)
def test_schemas_enable_requires_the_envelope(data):
    with pytest.raises(DataError) as e:
        conv().to_connect_data("t", data)
    assert str(e.value) == ENVELOPE_ERROR
    assert str(e.value) == (
        'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not '
        "contain additional fields. If you are trying to deserialize plain JSON data, set "
        "schemas.enable=false in your converter configuration."
    )


def test_invalid_json_is_a_serialization_error():
    with pytest.raises(
        DataError, match="^Converting byte\\[\\] to Kafka Connect data failed due to serialization error: "
    ):
        conv().to_connect_data("t", b'{"schema":')


def test_fast_path_falls_back_to_the_full_checks():
    c = conv()
    c.to_connect_data("orders", ORDERS_BYTES)  # learns the envelope prefix
    extra = ORDERS_BYTES[:-1] + b',"extra":1}'
    with pytest.raises(DataError) as e:
        c.to_connect_data("orders", extra)
    assert str(e.value) == ENVELOPE_ERROR
    with pytest.raises(DataError, match="Structs should be encoded as JSON objects, but found ARRAY"):
        c.to_connect_data("orders", ORDERS_BYTES[: ORDERS_BYTES.index(b'"payload":') + 10] + b"[1]}")
    assert c.to_connect_data("orders", ORDERS_BYTES + b"\n") == (ORDERS, ORDER)


@pytest.mark.parametrize(
    "schema_json, message",
    [
        ('{"optional":true}', "Schema must contain 'type' field"),
        ('"string"', "Schema must contain 'type' field"),
        ('{"type":"float32"}', "Unknown schema type: float32"),
        ('{"type":"array"}', "Array schema did not specify the element type"),
        ('{"type":"map","values":{"type":"string"}}', "Map schema did not specify the key type"),
        ('{"type":"struct"}', 'Struct schema\'s "fields" argument is not an array.'),
        ('{"type":"struct","fields":[{"type":"string"}]}', "Struct schema's field name not specified properly"),
        ('{"type":"string","parameters":{"a":1}}', "Schema parameters must have string values."),
    ],
)
def test_bad_schemas_are_reported_like_kafka(schema_json, message):
    with pytest.raises(DataError) as e:
        conv().to_connect_data("t", env(schema_json, "null"))
    assert str(e.value) == message


@pytest.mark.parametrize(
    "schema_json, payload, message",
    [
        (
            '{"type":"map","keys":{"type":"string"},"values":{"type":"int32"}}',
            "[1]",
            "Maps with string fields should be encoded as JSON objects, but found ARRAY",
        ),
        (
            '{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}}',
            "{}",
            "Maps with non-string fields should be encoded as JSON array of tuples, but found OBJECT",
        ),
        (
            '{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}}',
            "[[1,2,3]]",
            "Found invalid map entry, expected length 2 but found :3",
        ),
        (
            '{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}}',
            "[5]",
            "Found invalid map entry instead of array tuple: NUMBER",
        ),
        (
            '{"type":"int32","name":"org.apache.kafka.connect.data.Date"}',
            '"x"',
            "Invalid type for Date, underlying representation should be integer but was STRING",
        ),
        ('{"type":"int64"}', "null", "Invalid null value for required INT64 field"),
        (
            '{"type":"struct","fields":[{"field":"a","type":"int32"}]}',
            "null",
            "Invalid null value for required STRUCT field",
        ),
        (
            '{"type":"struct","fields":[{"field":"s","type":"struct","fields":[]}]}',
            '{"s":null}',
            "Invalid null value for required STRUCT field",
        ),
        ('{"type":"struct","fields":[]}', "[]", "Structs should be encoded as JSON objects, but found ARRAY"),
    ],
)
def test_bad_payloads_are_reported_like_kafka(schema_json, payload, message):
    with pytest.raises(DataError) as e:
        conv().to_connect_data("t", env(schema_json, payload))
    assert str(e.value) == message


def test_an_optional_struct_may_be_null_at_the_top_and_inside():
    inner = '{"field":"s","type":"struct","optional":true,"fields":[{"field":"a","type":"int32"}]}'
    schema, value = conv().to_connect_data("t", env('{"type":"struct","fields":[' + inner + "]}", '{"s":null}'))
    assert value.get("s") is None
    schema, value = conv().to_connect_data("t", env('{"type":"struct","optional":true,"fields":[]}', "null"))
    assert schema.optional and value is None


def test_values_that_do_not_fit_the_schema_are_data_errors():
    c = conv()
    with pytest.raises(DataError, match="Invalid type for FLOAT64"):
        c.from_connect_data("t", FLOAT64_SCHEMA, True)
    with pytest.raises(DataError, match="Invalid type for INT32"):
        c.from_connect_data("t", ORDERS, Struct(ORDERS, ["a", "b", "c", "20", 1, 2]))
    other = Schema.struct([("order_id", OPTIONAL_STRING_SCHEMA)])
    with pytest.raises(DataError, match="Mismatching schema."):
        c.from_connect_data("t", ORDERS, Struct(other, ["x"]))
    with pytest.raises(DataError):
        c.from_connect_data("t", None, D("1.56"))  # Kafka: a BigDecimal needs a Decimal schema


# -- no schema -----------------------------------------------------------------------------------------------------
def test_null_schema_in_the_envelope():
    c = conv()
    assert c.to_connect_data("t", b'{ "schema": null, "payload": null }') == (None, None)
    assert c.to_connect_data("t", b'{ "schema": null, "payload": 12 }') == (None, 12)
    assert c.to_connect_data("t", b'{ "schema": null, "payload": 12.24 }') == (None, 12.24)
    assert c.to_connect_data("t", b'{ "schema": null, "payload": [1, "2", 3] }') == (None, [1, "2", 3])
    assert c.to_connect_data("t", b'{ "schema": null, "payload": { "field1": 1, "field2": 2} }') == (
        None,
        {"field1": 1, "field2": 2},
    )
    assert c.from_connect_data("t", None, [1, "string", True]) == b'{"schema":null,"payload":[1,"string",true]}'
    assert c.from_connect_data("t", None, {"string": 12, 52: "string", False: True}) == (
        b'{"schema":null,"payload":[["string",12],[52,"string"],[false,true]]}'
    )


def test_schemas_disabled_reads_and_writes_plain_json():
    c = conv(schemas_enable="false")
    assert c.to_connect_data("t", b"true") == (None, True)
    assert c.to_connect_data("t", b'{ "a": "", "b": null}') == (None, {"a": "", "b": None})
    assert c.to_connect_data("t", b"") == (None, None)
    assert c.to_connect_data("t", None) == (None, None)
    assert c.to_connect_data("t", b'{"schema":null,"payload":1}') == (None, {"schema": None, "payload": 1})
    assert c.from_connect_data("t", None, None) is None
    assert c.from_connect_data("t", None, True) == b"true"
    assert c.from_connect_data("t", None, ["connector", {"file": "/tmp/x", "n": 1.5e-9}]) == (
        b'["connector",{"file":"/tmp/x","n":1.5E-9}]'
    )
    assert c.from_connect_data("orders", ORDERS, ORDER) == ORDERS_BYTES[ORDERS_BYTES.index(b'"payload":') + 10 : -1]
    assert c.from_connect_batch("t", [INT32_SCHEMA, None], [1, "x"]) == [b"1", b'"x"']


# -- caches, batches, config ---------------------------------------------------------------------------------------
def test_schema_is_serialized_once_and_equal_schemas_share_the_bytes(monkeypatch):
    calls = []
    real = jschema.schema_to_json
    monkeypatch.setattr(jschema, "schema_to_json", lambda s, e: calls.append(s) or real(s, e))
    c = conv()
    first = c.from_connect_data("t", ORDERS, ORDER)
    assert calls[0] == ORDERS and len(calls) == 7  # the struct, then its 6 fields
    for _ in range(5):
        assert c.from_connect_data("t", ORDERS, ORDER) == first
    twin = Schema.struct([(f.name, f.schema) for f in ORDERS.fields], name="orders")
    assert twin is not ORDERS and c.from_connect_data("t", twin, Struct(twin, list(ORDER.values))) == first
    c.from_connect_batch("t", [ORDERS] * 10, [ORDER] * 10)
    assert len(calls) == 7  # never again
    c.from_connect_data("t", OPTIONAL_BOOLEAN_SCHEMA, True)
    assert len(calls) == 8


def test_schema_cache_size_bounds_the_cache_but_output_stays_the_same(monkeypatch):
    calls = []
    real = jschema.schema_to_json
    monkeypatch.setattr(jschema, "schema_to_json", lambda s, e: calls.append(s) or real(s, e))
    c = conv(schemas_cache_size=1)
    a = c.from_connect_data("t", INT32_SCHEMA, 1)
    c.from_connect_data("t", STRING_SCHEMA, "x")
    assert c.from_connect_data("t", INT32_SCHEMA, 1) == a
    assert calls == [INT32_SCHEMA, STRING_SCHEMA, INT32_SCHEMA]  # evicted, so serialized again


def test_parsed_schemas_are_cached_by_their_json_text(monkeypatch):
    calls = []
    real = jschema.json_to_schema
    # count top-level parses only (struct fields are parsed by recursive calls)
    monkeypatch.setattr(
        jschema,
        "json_to_schema",
        lambda js, r=True: (isinstance(js, dict) and "field" not in js and calls.append(js)) or real(js, r),
    )
    c = conv()
    for _ in range(3):
        assert c.to_connect_data("t", b'{ "schema": { "type": "boolean" }, "payload": true }')[1] is True
    for _ in range(3):
        c.to_connect_data("orders", ORDERS_BYTES)
    assert len(calls) == 2
    c.to_connect_data("t", b'{ "schema": { "type": "boolean", "optional": false }, "payload": true }')
    assert len(calls) == 3  # equivalent schema, different JSON: its own entry, as in Kafka


def test_batches_match_record_by_record_conversion():
    c = conv()
    pairs = [
        (ORDERS, ORDER),
        (None, {"a": 1}),
        (INT32_SCHEMA, 5),
        (ORDERS, ORDER),
        (OPTIONAL_INT32_SCHEMA, None),
        (None, None),
    ]
    encoded = c.from_connect_batch("t", [s for s, _ in pairs], [v for _, v in pairs])
    assert encoded == [c.from_connect_data("t", s, v) for s, v in pairs]
    encoded[-1] = None
    assert c.to_connect_batch("t", encoded) == [conv().to_connect_data("t", d) for d in encoded]
    assert c.to_connect_batch("t", encoded)[0] == (ORDERS, ORDER)
    with pytest.raises(DataError):
        c.to_connect_batch("t", [ORDERS_BYTES, b'{"no":"envelope"}'])


def test_config_def_matches_kafka():
    cd = JsonConverter.config_def
    assert list(cd.keys) == [
        "converter.type",
        "schemas.enable",
        "schemas.cache.size",
        "decimal.format",
        "replace.null.with.default",
    ]
    info = {k: v.info() for k, v in cd.keys.items()}
    assert info["schemas.enable"]["default_value"] == "true" and info["schemas.enable"]["group"] == "Schemas"
    assert info["schemas.cache.size"]["default_value"] == "1000"
    assert info["decimal.format"]["default_value"] == "BASE64" and info["decimal.format"]["group"] == "Serialization"
    assert info["replace.null.with.default"]["default_value"] == "true"
    assert info["converter.type"]["required"] is True
    assert info["schemas.enable"]["documentation"] == "Include schemas within each of the serialized values and keys."
    with pytest.raises(ConfigError, match="decimal.format"):
        conv(decimal_format="HEX")
    assert JsonConverter.class_name == "org.apache.kafka.connect.json.JsonConverter"


def test_public_schema_helpers():
    c = conv()
    js = c.as_json_schema(ORDERS)
    assert list(js) == ["type", "fields", "optional", "name"]
    assert js["fields"][0] == {"type": "string", "optional": True, "field": "order_id"}
    assert c.as_connect_schema(js) == ORDERS
    assert c.as_json_schema(None) is None and c.as_connect_schema(None) is None


def test_control_characters_are_escaped_like_jackson():
    c = conv(schemas_enable="false")
    assert c.from_connect_data("t", STRING_SCHEMA, '\x1f\x0b\n\t"\\é') == b'"\\u001F\\u000B\\n\\t\\"\\\\\xc3\xa9"'
    literal = "\\u001f"  # a backslash then 'u001f': not an escape, must stay lower case
    assert c.from_connect_data("t", STRING_SCHEMA, literal) == b'"\\\\u001f"'
    for text in ("\x1f\x0b", literal, "\\\x1e"):
        assert c.to_connect_data("t", c.from_connect_data("t", STRING_SCHEMA, text)) == (None, text)
    s = Schema.struct([("a\x1f", STRING_SCHEMA)])
    assert b'"field":"a\\u001F"' in conv().from_connect_data("t", s, Struct(s, ["x"]))


def test_numeric_negative_zero_decimal_is_written_as_zero():
    assert (
        conv(decimal_format="NUMERIC")
        .from_connect_data("t", decimal_schema(2), D("-0.00"))
        .endswith(b'"payload":0.00}')
    )


def test_envelopes_written_with_spaces_decode_by_their_own_prefix() -> None:
    """Python's json.dumps writes ', ' and ': ': such envelopes take the fast path after the first one."""
    import json as stdjson

    conv = JsonConverter()
    conv.configure({}, False)
    schema = {
        "type": "struct",
        "fields": [
            {"type": "string", "optional": True, "field": "payload"},
            {"type": "int32", "optional": True, "field": "qty"},
        ],
        "optional": False,
        "name": "payload",
    }
    datas = [stdjson.dumps({"schema": schema, "payload": {"payload": f"p{i}", "qty": i}}).encode() for i in range(3)]
    decoded = conv.to_connect_batch("t", datas)
    assert [v.get("qty") for _, v in decoded] == [0, 1, 2]
    assert [v.get("payload") for _, v in decoded] == ["p0", "p1", "p2"]
    assert conv._prefixes and conv._prefixes[0][0].endswith(b'"payload": ')
    # same prefix, but not a valid envelope after it: still Kafka's error, not a wrong value
    bad = datas[0][:-1] + b', "extra": 1}'
    with pytest.raises(DataError):
        conv.to_connect_data("t", bad)
    with pytest.raises(DataError):
        conv.to_connect_data("t", datas[0][:-2] + b'"}}')


# -- the generated struct encoders (batch loop and single value) against the per-type encoders ----------------------
WIDE = Schema.struct(
    [
        ("i8", INT8_SCHEMA),
        ("i64", INT64_SCHEMA),
        ("f32", FLOAT32_SCHEMA),
        ("f64", FLOAT64_SCHEMA),
        ("flag", OPTIONAL_BOOLEAN_SCHEMA),
        ("text", OPTIONAL_STRING_SCHEMA),
        ("raw", BYTES_SCHEMA),
        ("amount", decimal_schema(3, optional=True)),
        ("big", decimal_schema(40)),
        ("day", date_schema(optional=True)),
        ("clock", time_schema()),
        ("at", timestamp_schema()),
        ("at_opt", timestamp_schema(optional=True)),
        ("dflt", Schema(Type.INT32, optional=True, default=7)),
        ("tags", Schema.array(STRING_SCHEMA, optional=True)),
        ("nested", Schema.struct([("x", INT32_SCHEMA)], name="inner", optional=True)),
    ],
    name="wide",
)
INNER = WIDE.field("nested").schema


def _wide_rows() -> list[Struct]:
    aware = dt.datetime(2024, 3, 1, 12, 0, 0, 999, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    rows = [
        [
            1,
            2,
            1.5,
            0.1,
            True,
            "a\x01b",
            b"\x00\xff",
            D("1.234"),
            D("1" * 35 + "." + "9" * 40),
            dt.date(2024, 2, 29),
            dt.time(23, 59, 59, 999000),
            dt.datetime(2024, 1, 1, 0, 0, 0, 1500),
            None,
            None,
            ["x"],
            Struct(INNER, [3]),
        ],
        [
            -1,
            -(2**63),
            -0.0,
            1e300,
            None,
            None,
            b"",
            D("-1.2345"),
            D("-0." + "0" * 39 + "1"),
            None,
            dt.time(0, 0),
            dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
            aware,
            5,
            None,
            None,
        ],
        [
            0,
            0,
            3,
            12345678.5,
            False,
            "é",
            b"\x80",
            D("-0.001"),
            D(0),
            dt.datetime(1900, 1, 1, 5, 0),
            dt.time(1, 2, 3),
            aware,
            dt.datetime(1, 1, 1),
            None,
            [],
            None,
        ],
        [
            127,
            2**63 - 1,
            float("inf"),
            -1e-5,
            True,
            "",
            b"z",
            D("123456789012345678901234567890.5"),
            D("0.1"),
            dt.date(1, 1, 1),
            dt.time(12, 0),
            dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
            None,
            0,
            None,
            Struct(INNER, [-1]),
        ],
    ]
    return [Struct(WIDE, r) for r in rows]


@pytest.mark.parametrize(
    "options", [{}, {"schemas_enable": False}, {"decimal_format": "NUMERIC"}, {"replace_null_with_default": False}]
)
def test_struct_batch_and_single_encoders_agree_with_the_field_encoders(options):
    c = conv(**options)
    plain = conv(**{**options, "schemas_enable": False})
    rows = _wide_rows()
    batch = c.from_connect_batch("t", [WIDE] * len(rows), rows)
    assert batch == [c.from_connect_data("t", WIDE, r) for r in rows]
    for row, data in zip(rows, batch):
        payload = data[data.index(b',"payload":') + 11 : -1] if options.get("schemas_enable", True) else data
        fields = jc.orjson.loads(payload)
        assert list(fields) == [f.name for f in WIDE.fields]
        for f in WIDE.fields:  # each field as a top-level value: the per-type encoders, nothing inlined
            expected = plain.from_connect_data("t", f.schema, row.values[f.index])
            assert jc.orjson.loads(expected) == fields[f.name], f.name
            assert expected in payload, f.name  # same spelling too (float texts, escapes)


def test_struct_batch_falls_back_for_other_values_and_reports_the_same_errors():
    c = conv()
    twin = Schema.struct([(f.name, f.schema) for f in ORDERS.fields], name="orders")
    assert c.from_connect_batch("t", [ORDERS, twin], [ORDER, Struct(twin, list(ORDER.values))]) == [ORDERS_BYTES] * 2
    with pytest.raises(DataError, match="null value for field that is required"):
        c.from_connect_batch("t", [ORDERS, ORDERS], [ORDER, None])
    bad_rows = [
        (WIDE, lambda r: r.values.__setitem__(11, None), "null value for field that is required"),
        (WIDE, lambda r: r.values.__setitem__(8, D("NaN")), "cannot be represented in JSON"),
        (WIDE, lambda r: r.values.__setitem__(11, "2024-01-01"), "Invalid type for Timestamp"),
        (WIDE, lambda r: r.values.__setitem__(7, 1.5), "Invalid type for Decimal"),
    ]
    for schema, spoil, message in bad_rows:
        rows = _wide_rows()
        spoil(rows[1])
        with pytest.raises(DataError, match=message):
            c.from_connect_batch("t", [schema] * len(rows), rows)
        with pytest.raises(DataError, match=message):
            c.from_connect_data("t", schema, rows[1])
    with pytest.raises(DataError, match="Invalid type for STRUCT"):
        c.from_connect_batch("t", [ORDERS, ORDERS], [ORDER, {"order_id": "x"}])


PLAIN = Schema.struct(
    [
        ("s", OPTIONAL_STRING_SCHEMA),
        ("req", STRING_SCHEMA),
        ("i8", INT8_SCHEMA),
        ("i64", Schema(Type.INT64, optional=True)),
        ("b", OPTIONAL_BOOLEAN_SCHEMA),
        ("f", Schema(Type.FLOAT64, optional=True)),
        ("class", OPTIONAL_INT32_SCHEMA),
    ],
    name="plain",
)
PLAIN_PAYLOADS = [
    '{"s":"a","req":"b","i8":1,"i64":-9223372036854775808,"b":true,"f":1.5,"class":7}',
    '{"req":"\\u00e9\\n","i8":-3}',  # missing optional fields, escapes
    '{"s":null,"req":"","i8":0,"i64":null,"b":null,"f":null,"class":null,"unknown":[1,{"x":2}]}',
    '{"req":"x","i8":2,"f":3}',  # an integer for a float field
    '{"req":"x","i8":2,"i8":5}',  # a repeated key: the last one
    '{"req":"x","i8":1.9}',  # a float for an integer field: truncated, as Jackson's intValue()
    '{"req":"x","i8":1,"i64":99999999999999999999}',  # beyond 64 bits
    '{"req":"x","i8":1,"i64":1e3}',
]
PLAIN_BAD = [
    '{"s":"a","i8":1}',  # a required field missing
    '{"req":null,"i8":1}',
    '{"req":"x","i8":true}',
    '{"req":"x","i8":"1"}',
    '{"req":1,"i8":1}',
    '{"req":"x","i8":1,"b":1}',
    '{"req":"x","i8":1,"f":"1.5"}',
    '{"req":"x","i8":1',
    b'{"req":"\xff","i8":1}',  # not UTF-8
    '{"req":"\\ud800","i8":1}',  # a lone surrogate
    '{"req":"x","i8":1,"deep":' + "[" * 5000 + "]" * 5000 + "}",  # nested beyond both parsers' limits
    "[1]",
    "null",
]


def _outcome(fn, *args):
    try:
        return fn(*args)
    except DataError as e:
        return ("error", str(e))


def test_plain_structs_decode_in_c_and_agree_with_the_general_decoder():
    """Plain struct payloads go through msgspec (json.plain); whatever it refuses goes to the general decoder:
    values and errors are those of the record-by-record path, which never takes the plain one."""
    c = conv()
    schema_json = jc.orjson.dumps(c.as_json_schema(PLAIN)).decode()
    for payload in PLAIN_PAYLOADS + PLAIN_BAD:
        data = env(schema_json, payload) if isinstance(payload, str) else env(schema_json, "")[:-1] + payload + b"}"
        good = env(schema_json, PLAIN_PAYLOADS[0])  # the first of a batch finds the prefix, the next ones use it
        one_by_one = _outcome(lambda: [conv().to_connect_data("t", d) for d in (good, data)])
        assert _outcome(c.to_connect_batch, "t", [good, data]) == one_by_one, payload
    assert c._prefixes[0][4] is not None  # the schema got its plain decoder
    _, (schema, value) = c.to_connect_batch("t", [env(schema_json, PLAIN_PAYLOADS[0])] * 2)  # the 1st finds the prefix
    assert value.values == ("a", "b", 1, -9223372036854775808, True, 1.5, 7)  # a tuple: decoded in C
    assert schema == PLAIN and value == Struct(PLAIN, ["a", "b", 1, -(1 << 63), True, 1.5, 7])


@pytest.mark.parametrize(
    "field",
    [
        date_schema(),
        decimal_schema(2),
        Schema(Type.INT32, optional=True, default=3),
        BYTES_SCHEMA,
        Schema.struct([("x", INT32_SCHEMA)]),
        Schema.array(INT32_SCHEMA),
    ],
)
def test_structs_with_other_fields_keep_the_general_decoder(field):
    from miniconnect.converters.json.plain import plain_struct_decoder

    assert plain_struct_decoder(Schema.struct([("a", OPTIONAL_STRING_SCHEMA), ("b", field)])) is None
    assert plain_struct_decoder(PLAIN) is not None
    assert plain_struct_decoder(INT32_SCHEMA) is None
