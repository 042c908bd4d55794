"""JsonSchemaConverter against the worker's Schema Registry, checked with Confluent's own Python serializers
(confluent-kafka's JSONSerializer / JSONDeserializer, which validate against the registered schema): same bytes both
ways for every Connect type, plain JSON schemas read into Connect values, the registry's JSON compatibility checks,
bad input."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import httpx
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from miniconnect.converters.json_schema import JsonSchemaConverter
from miniconnect.data.schema import (
    BOOLEAN_SCHEMA,
    BYTES_SCHEMA,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
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
from miniconnect.plugins import Plugins

ADDRESS = Schema.struct([("city", STRING_SCHEMA), ("zip", OPTIONAL_STRING_SCHEMA)], name="Address")
ALL = Schema.struct(
    [
        ("i8", INT8_SCHEMA),
        ("i16", INT16_SCHEMA),
        ("i32", INT32_SCHEMA),
        ("i64", INT64_SCHEMA),
        ("f32", FLOAT32_SCHEMA),
        ("f64", FLOAT64_SCHEMA),
        ("b", BOOLEAN_SCHEMA),
        ("s", STRING_SCHEMA),
        ("by", BYTES_SCHEMA),
        ("dec", decimal_schema(2)),
        ("d", date_schema()),
        ("t", time_schema()),
        ("ts", timestamp_schema()),
        ("opt", OPTIONAL_STRING_SCHEMA),
        ("arr", Schema.array(STRING_SCHEMA)),
        ("m", Schema.map(STRING_SCHEMA, INT64_SCHEMA)),
        ("m_int", Schema.map(INT32_SCHEMA, STRING_SCHEMA)),
        ("home", ADDRESS),
    ],
    name="Everything",
)
VALUE = Struct(
    ALL,
    [
        -128,
        32767,
        -(2**31),
        2**53,
        1.5,
        -2.25,  # exponents differ between JSON writers (Java style 1.0E300 here, 1e+300 in Python)
        True,
        "héllo, 世界 \U0001f600",
        b"\x00\xff",
        decimal.Decimal("-12.34"),
        dt.date(1969, 12, 31),
        dt.time(23, 59, 59, 999000),
        dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=dt.UTC),
        None,
        ["a", ""],
        {"k": 1},
        {7: "seven"},
        Struct(ADDRESS, ["Zürich", None]),
    ],
)


def converter(registry_url: str, **config: object) -> JsonSchemaConverter:
    c = JsonSchemaConverter()
    c.configure({"schema.registry.url": registry_url, **config}, False)
    return c


def ctx(topic: str) -> SerializationContext:
    return SerializationContext(topic, MessageField.VALUE)


def test_registered_as_a_converter_plugin():
    plugins = Plugins({})
    assert plugins.resolve_converter("io.confluent.connect.json.JsonSchemaConverter") is JsonSchemaConverter
    assert plugins.resolve_converter("JsonSchemaConverter") is JsonSchemaConverter


def test_every_connect_type_both_ways_byte_for_byte(registry_url):
    ours = converter(registry_url)
    data = ours.from_connect_data("everything", ALL, VALUE)
    client = SchemaRegistryClient({"url": registry_url})
    record = JSONDeserializer(None, schema_registry_client=client)(data, ctx("everything"))  # validates too
    assert record["s"] == "héllo, 世界 \U0001f600" and record["by"] == "AP8=" and record["dec"] == "+y4="
    assert record["d"] == -1 and record["t"] == 86399999 and record["ts"] == 1700000000123
    assert record["m_int"] == [{"key": 7, "value": "seven"}] and record["home"] == {"city": "Zürich", "zip": None}
    registered = client.get_latest_version("everything-value").schema
    assert registered.schema_type == "JSON"
    document = json.loads(registered.schema_str)
    assert document["title"] == "Everything" and document["properties"]["i8"] == {
        "type": "integer",
        "connect.type": "int8",
        "connect.index": 0,
    }
    assert document["properties"]["opt"] == {"oneOf": [{"type": "null"}, {"type": "string"}], "connect.index": 13}
    serializer = JSONSerializer(
        registered.schema_str, client, conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    assert serializer(record, ctx("everything")) == data
    schema, value = ours.to_connect_data("everything", data)
    assert [f.name for f in schema.fields] == [f.name for f in ALL.fields]
    assert value.values[:17] == VALUE.values[:17] and value.values[17].values == ["Zürich", None]
    assert schema.field("dec").schema.name == "org.apache.kafka.connect.data.Decimal"
    assert (
        converter(registry_url, **{"decimal.format": "NUMERIC"})
        .from_connect_data("numeric", ALL, VALUE)
        .count(b'"dec":-12.34')
    )


def test_plain_json_schemas_written_by_confluents_serializer(registry_url):
    person = {
        "type": "object",
        "title": "Person",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "score": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "nick": {"oneOf": [{"type": "null"}, {"type": "string"}]},
        },
        "required": ["name"],
    }
    client = SchemaRegistryClient({"url": registry_url})
    data = JSONSerializer(json.dumps(person), client)(
        {"name": "Ada", "age": 36, "score": 9.5, "tags": ["x"], "nick": None}, ctx("people")
    )
    schema, value = converter(registry_url).to_connect_data("people", data)
    assert schema.name == "Person" and schema.version == 1
    types = {f.name: (f.schema.type, f.schema.optional) for f in schema.fields}
    assert types == {
        "name": (Type.STRING, False),
        "age": (Type.INT64, False),
        "score": (Type.FLOAT64, False),
        "tags": (Type.ARRAY, False),
        "nick": (Type.STRING, True),
    }
    assert value.values == ["Ada", 36, 9.5, ["x"], None]


def test_registry_checks_json_schema_compatibility(registry_url):
    v1 = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
    added_optional = {**v1, "properties": {**v1["properties"], "note": {"type": "string"}}}
    added_required = {**added_optional, "required": ["id", "note"]}
    changed = {"type": "object", "properties": {"id": {"type": "string"}}}
    post = lambda doc: httpx.post(  # noqa: E731
        f"{registry_url}/subjects/evolving/versions", json={"schema": json.dumps(doc), "schemaType": "JSON"}
    )
    assert post(v1).status_code == 200
    assert post(added_optional).status_code == 200
    refused = post(added_required)
    assert refused.status_code == 409 and "REQUIRED_PROPERTY_ADDED" in refused.json()["message"]
    assert "TYPE_CHANGED" in post(changed).json()["message"]
    widened = {**added_optional, "properties": {**added_optional["properties"], "id": {"type": "number"}}}
    assert post(widened).status_code == 200  # integer -> number
    avro = httpx.post(f"{registry_url}/subjects/evolving/versions", json={"schema": '"string"'})
    assert avro.status_code == 409 and "SCHEMA_TYPE_CHANGED" in avro.json()["message"]


def test_bad_input(registry_url):
    ours = converter(registry_url)
    schema = Schema.struct([("a", INT32_SCHEMA)], name="Bad")
    good = ours.from_connect_data("bad", schema, Struct(schema, [1]))
    with pytest.raises(DataError, match="Unknown magic byte"):
        ours.to_connect_data("bad", b"{" + good[1:])
    with pytest.raises(DataError, match=r"JSON schema for id 4242.*40403"):
        ours.to_connect_data("bad", b"\x00" + (4242).to_bytes(4, "big") + good[5:])
    with pytest.raises(DataError, match="to JSON schema"):
        ours.to_connect_data("bad", good[:5] + b'{"a": "text"}')
    with pytest.raises(DataError, match="serialization error"):
        ours.from_connect_data("bad", schema, Struct(schema, ["not an int"]))
