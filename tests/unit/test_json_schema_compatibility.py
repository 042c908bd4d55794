"""JSON Schema compatibility that follows `$ref`s (into the schema's own definitions, and into other subjects'
schemas through its references), and `normalize=true` for JSON schemas, against the worker's registry through
Confluent's own Python client (confluent-kafka's SchemaRegistryClient)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from registry_testkit import running_registry


def obj(properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, **more}


def js(doc: Any, refs: list[tuple[str, str, int]] = ()) -> Schema:
    return Schema(json.dumps(doc), "JSON", [SchemaReference(n, s, v) for n, s, v in refs])


@pytest.fixture
def client(tmp_path: Path) -> Any:
    with running_registry(tmp_path) as server:  # BACKWARD by default
        yield SchemaRegistryClient({"url": server.urls[0]})


def refused(client: SchemaRegistryClient, subject: str, schema: Schema) -> str:
    with pytest.raises(SchemaRegistryError) as e:
        client.register_schema(subject, schema)
    assert e.value.http_status_code == 409, e.value
    return str(e.value)


def test_compatibility_follows_refs_into_the_schemas_own_definitions(client: SchemaRegistryClient) -> None:
    def order(city: dict[str, Any], required: list[str] = ()) -> dict[str, Any]:
        address = obj({"city": city}, required=list(required))
        return obj({"to": {"$ref": "#/definitions/address"}}, definitions={"address": address})

    client.register_schema("orders-value", js(order({"type": "string"})))
    message = refused(client, "orders-value", js(order({"type": "integer"})))
    assert "TYPE_CHANGED" in message and "#/properties/to/properties/city" in message
    assert not client.test_compatibility("orders-value", js(order({"type": "string"}, ["city"])))
    # widening through the $ref is compatible; so is the same schema with `$defs` and a JSON pointer with escapes
    assert client.test_compatibility("orders-value", js(order({"type": ["string", "null"]})))
    moved = obj({"to": {"$ref": "#/$defs/an~1address"}}, **{"$defs": {"an/address": obj({"city": {"type": "string"}})}})
    assert client.test_compatibility("orders-value", js(moved))
    # a $ref to nothing is refused as Confluent's registry refuses a schema it cannot load
    with pytest.raises(SchemaRegistryError) as e:
        client.register_schema("orders-value", js(obj({"to": {"$ref": "#/definitions/nothing"}})))
    assert (e.value.http_status_code, e.value.error_code) == (422, 42201)


def test_compatibility_follows_refs_into_other_subjects(client: SchemaRegistryClient) -> None:
    client.set_compatibility("address", "NONE")  # the referenced subject evolves freely; its users are checked
    v1 = client.register_schema("address", js(obj({"city": {"type": "string"}})))
    client.register_schema("address", js(obj({"city": {"type": "integer"}})))
    client.register_schema("address", js(obj({"city": {"type": "string"}, "zip": {"type": "string"}})))
    client.register_schema("address", js(obj({"city": {"type": "string"}}, required=["city"])))
    assert client.get_schema(v1).schema_type == "JSON"

    def order(ref: str, version: int) -> Schema:
        return js(obj({"id": {"type": "integer"}, "to": {"$ref": ref}}), [("address.json", "address", version)])

    client.register_schema("order-value", order("address.json", 1))
    message = refused(client, "order-value", order("address.json", 2))
    assert "TYPE_CHANGED" in message and "#/properties/to/properties/city" in message
    assert "REQUIRED_PROPERTY_ADDED" in refused(client, "order-value", order("address.json", 4))
    client.register_schema("order-value", order("address.json", 3))  # a property added: compatible
    # a pointer into the referenced schema
    pointer = js(obj({"city": {"$ref": "address.json#/properties/city"}}), [("address.json", "address", 2)])
    client.register_schema("city-value", js(obj({"city": {"type": "string"}})))
    assert "TYPE_CHANGED" in refused(client, "city-value", pointer)


def test_recursive_schemas_enums_limits_and_patterns(client: SchemaRegistryClient) -> None:
    def node(**value: Any) -> dict[str, Any]:
        return obj({"value": value, "next": {"$ref": "#"}})

    client.register_schema("list-value", js(node(type="string")))
    client.register_schema("list-value", js(node(type=["string", "integer"])))
    assert "TYPE_CHANGED" in refused(client, "list-value", js(node(type="integer")))
    client.register_schema("enum-value", js(obj({"c": {"enum": ["red", "green"]}})))
    client.register_schema("enum-value", js(obj({"c": {"enum": ["red", "green", "blue"]}})))
    assert "ENUM_ARRAY_NARROWED" in refused(client, "enum-value", js(obj({"c": {"enum": ["red", "blue"]}})))
    # limits: a reader may loosen the writer's, not add or tighten one (Confluent's COMPATIBLE_CHANGES_STRICT)
    base = {
        "s": {"type": "string", "maxLength": 10},
        "n": {"type": "number"},
        "t": {"type": "string"},
        "a": {"type": "array", "items": {"type": "string"}},
    }
    client.register_schema("limits-value", js(obj(base)))
    loosened = {**base, "s": {"type": "string", "maxLength": 20}}
    client.register_schema("limits-value", js(obj(loosened)))
    tight = {
        "s": ({"type": "string", "maxLength": 5}, "MAX_LENGTH_DECREASED"),
        "n": ({"type": "number", "exclusiveMinimum": 0}, "EXCLUSIVE_MINIMUM_ADDED"),
        "t": ({"type": "string", "pattern": "^a"}, "PATTERN_ADDED"),
        "a": ({"type": "array", "items": {"type": "string"}, "uniqueItems": True}, "UNIQUE_ITEMS_ADDED"),
    }
    for name, (schema, difference) in tight.items():
        assert difference in refused(client, "limits-value", js(obj({**loosened, name: schema}))), name
    # multipleOf: reduced (the old one a multiple of the new) is compatible, another one is not
    client.register_schema("multiple-value", js(obj({"n": {"type": "number", "multipleOf": 1.5}})))
    assert "MULTIPLE_OF_CHANGED" in refused(
        client, "multiple-value", js(obj({"n": {"type": "number", "multipleOf": 2}}))
    )
    client.register_schema("multiple-value", js(obj({"n": {"type": "number", "multipleOf": 0.5}})))


def test_normalize_json_schemas(client: SchemaRegistryClient) -> None:
    written = '{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer","title":"A"}}}'
    permuted = '{"properties":{"a":{"title":"A","type":"integer"},"b":{"type":"string"}},"type":"object"}'
    sid = client.register_schema("norm-value", Schema(written, "JSON"), normalize_schemas=True)
    # stored with sorted keys (Confluent's JsonSchema.normalize()), arrays as written
    assert json.loads(client.get_schema(sid).schema_str) == json.loads(written)
    assert client.get_schema(sid).schema_str == (
        '{"properties":{"a":{"title":"A","type":"integer"},"b":{"type":"string"}},"type":"object"}'
    )
    assert client.register_schema("norm-value", Schema(permuted, "JSON"), normalize_schemas=True) == sid
    assert client.lookup_schema("norm-value", Schema(written, "JSON"), normalize_schemas=True).version == 1
    # without normalize a schema is compared as written: the same document in another order is a new version
    other = client.register_schema("norm-value", Schema(permuted.replace('"b"', '"c"'), "JSON"))
    assert other != sid

    # references sorted by subject and version, repeats dropped
    client.register_schema("b-sub", js(obj({"x": {"type": "string"}})))
    client.register_schema("a-sub", js(obj({"y": {"type": "string"}})))
    both = obj({"x": {"$ref": "b.json"}, "y": {"$ref": "a.json"}})
    refs = [("b.json", "b-sub", 1), ("a.json", "a-sub", 1), ("a.json", "a-sub", 1)]
    rid = client.register_schema("refs-value", js(both, refs), normalize_schemas=True)
    stored = client.get_schema(rid)
    assert [(r.name, r.subject, r.version) for r in stored.references] == [
        ("a.json", "a-sub", 1),
        ("b.json", "b-sub", 1),
    ]
    assert client.register_schema("refs-value", js(both, refs[:2][::-1]), normalize_schemas=True) == rid


def test_additional_properties_as_schemas(client: SchemaRegistryClient) -> None:
    def ints(**more: Any) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": {"type": "integer"}, **more}

    # a map's values may widen, not narrow
    client.register_schema("map-value", js(ints()))
    client.register_schema("map-value", js({"type": "object", "additionalProperties": {"type": "number"}}))
    assert "TYPE_CHANGED" in refused(client, "map-value", js(ints(title="again")))  # not version 1's text
    # an open object may not close, nor take a schema for what it left open
    client.register_schema("open-value", js(obj({"a": {"type": "string"}})))
    assert "ADDITIONAL_PROPERTIES_REMOVED" in refused(
        client, "open-value", js(obj({"a": {"type": "string"}}, additionalProperties=False))
    )
    assert "ADDITIONAL_PROPERTIES_NARROWED" in refused(
        client, "open-value", js(obj({"a": {"type": "string"}}, additionalProperties={"type": "string"}))
    )
    # a property removed must be taken by the reader's additionalProperties; one added must take the writer's
    client.register_schema("partial-value", js(obj({"a": {"type": "string"}}, additionalProperties={"type": "string"})))
    assert "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" in refused(
        client, "partial-value", js(obj({}, additionalProperties={"type": "integer"}))
    )
    assert "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" in refused(
        client,
        "partial-value",
        js(obj({"a": {"type": "string"}, "b": {"type": "integer"}}, additionalProperties={"type": "string"})),
    )
    client.register_schema(
        "partial-value",
        js(obj({"a": {"type": "string"}, "b": {"type": "string"}}, additionalProperties={"type": "string"})),
    )
    client.register_schema("partial-value", js(obj({}, additionalProperties={"type": "string"})))


def test_dependencies(client: SchemaRegistryClient) -> None:
    client.register_schema("deps-value", js(obj({}, dependencies={"a": ["b", "c"], "n": {"type": "object"}})))
    client.register_schema("deps-value", js(obj({}, dependencies={"a": ["b"], "n": {"type": "object"}})))  # fewer
    for dependencies, difference in [
        ({"a": ["b", "c"], "n": {"type": "object"}}, "DEPENDENCY_ARRAY_EXTENDED"),
        ({"a": ["c"], "n": {"type": "object"}}, "DEPENDENCY_ARRAY_CHANGED"),
        ({"a": ["b"], "x": ["a"], "n": {"type": "object"}}, "DEPENDENCY_ARRAY_ADDED"),
        ({"a": ["b"], "n": {"type": "object"}, "m": {"required": ["a"]}}, "DEPENDENCY_SCHEMA_ADDED"),
        ({"a": ["b"], "n": {"type": "array"}}, "TYPE_CHANGED"),
    ]:
        refusal = refused(client, "deps-value", js(obj({}, dependencies=dependencies, title=difference)))
        assert difference in refusal, refusal
    # draft 2019-09's names for the same two forms
    client.register_schema("dependent-value", js(obj({}, dependentRequired={"a": ["b"]})))
    assert "DEPENDENCY_ARRAY_EXTENDED" in refused(
        client, "dependent-value", js(obj({}, dependentRequired={"a": ["b", "c"]}))
    )
    assert "DEPENDENCY_SCHEMA_ADDED" in refused(
        client,
        "dependent-value",
        js(obj({}, dependentRequired={"a": ["b"]}, dependentSchemas={"a": {"required": ["z"]}})),
    )


def test_not_and_all_of(client: SchemaRegistryClient) -> None:
    client.register_schema("not-value", js({"not": {"type": ["string", "integer"]}}))
    client.register_schema("not-value", js({"not": {"type": "string"}}))  # refuses less
    assert "NOT_TYPE_EXTENDED" in refused(client, "not-value", js({"not": {"type": ["string", "boolean"]}}))
    client.register_schema("plain-value", js(obj({"a": {"type": "string"}})))
    assert "NOT_TYPE_EXTENDED" in refused(
        client, "plain-value", js(obj({"a": {"type": "string"}}, **{"not": {"required": ["a"]}}))
    )
    a, b = {"properties": {"a": {"type": "string"}}}, {"required": ["a"]}
    client.register_schema("all-value", js({"type": "object", "allOf": [a, b]}))
    client.register_schema("all-value", js({"type": "object", "allOf": [a]}))  # fewer subschemas: takes more
    assert "PRODUCT_TYPE_EXTENDED" in refused(
        client, "all-value", js({"type": "object", "allOf": [a, b], "title": "t"})
    )
    assert "COMBINED_TYPE_SUBSCHEMAS_CHANGED" in refused(
        client, "all-value", js({"type": "object", "allOf": [{"properties": {"a": {"type": "integer"}}}]})
    )
