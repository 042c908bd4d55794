"""`normalize=true`: Avro schemas written differently (key order, whitespace, namespaces apart or in names,
`{"type": "int"}` for `"int"`, decimal properties in any order) register and look up as one schema, stored in
normalized form; without it they stay different schemas. Through Confluent's Python client (normalize_schemas) and
over HTTP, against the worker's registry."""

from __future__ import annotations

import json

import httpx
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from registry_testkit import running_registry

from miniconnect.schema_registry.avro_normalize import normalized

WRITTEN = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "namespace": "shop",
        "connect.name": "shop.Order",
        "fields": [
            {"name": "id", "type": {"type": "long"}},
            {"name": "total", "type": {"type": "bytes", "scale": 2, "precision": 10, "logicalType": "decimal"}},
            {"name": "state", "type": {"type": "enum", "name": "State", "symbols": ["NEW", "PAID"]}},
            {"name": "previous", "type": ["null", "State"], "default": None},
            {"name": "tags", "type": {"values": "string", "type": "map"}},
        ],
    }
)
REWRITTEN = json.dumps(
    {
        "fields": [
            {"type": "long", "name": "id"},
            {"name": "total", "type": {"logicalType": "decimal", "type": "bytes", "precision": 10, "scale": 2}},
            {"name": "state", "type": {"symbols": ["NEW", "PAID"], "name": "shop.State", "type": "enum"}},
            {"default": None, "name": "previous", "type": ["null", "shop.State"]},
            {"name": "tags", "type": {"type": "map", "values": {"type": "string"}}},
        ],
        "connect.name": "shop.Order",
        "name": "shop.Order",
        "type": "record",
    },
    indent=2,
)


def test_the_normalized_text() -> None:
    assert normalized(WRITTEN) == normalized(REWRITTEN)
    assert json.loads(normalized(WRITTEN)) == {
        "name": "shop.Order",
        "type": "record",
        "fields": [
            {"name": "id", "type": "long", "order": "ASCENDING"},
            {
                "name": "total",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
                "order": "ASCENDING",
            },
            {
                "name": "state",
                "type": {"name": "shop.State", "type": "enum", "symbols": ["NEW", "PAID"]},
                "order": "ASCENDING",
            },
            {"name": "previous", "type": ["null", "shop.State"], "order": "ASCENDING", "default": None},
            {"name": "tags", "type": {"type": "map", "values": "string"}, "order": "ASCENDING"},
        ],
        "connect.name": "shop.Order",
    }
    # a property is not a difference of form
    assert normalized(WRITTEN) != normalized(WRITTEN.replace('"connect.name": "shop.Order"', '"connect.name": "x"'))


def test_register_and_look_up_normalized(tmp_path) -> None:
    with running_registry(tmp_path) as server:
        url = server.urls[0]
        client = SchemaRegistryClient({"url": url})
        first = client.register_schema("orders-value", Schema(WRITTEN, "AVRO"), normalize_schemas=True)
        assert client.register_schema("orders-value", Schema(REWRITTEN, "AVRO"), normalize_schemas=True) == first
        found = client.lookup_schema("orders-value", Schema(REWRITTEN, "AVRO"), normalize_schemas=True)
        assert (found.schema_id, found.version) == (first, 1)
        stored = httpx.get(f"{url}/schemas/ids/{first}", timeout=10).json()["schema"]
        assert stored == normalized(WRITTEN)

        # without normalize=true, the rewritten text is another schema
        r = httpx.post(f"{url}/subjects/orders-value", json={"schema": REWRITTEN}, timeout=10)
        assert (r.status_code, r.json()["error_code"]) == (404, 40403)
        other = httpx.post(f"{url}/subjects/plain-value/versions", json={"schema": WRITTEN}, timeout=10).json()["id"]
        assert other != first
        # a schema registered as written is found by a normalized lookup of an equivalent text
        r = httpx.post(f"{url}/subjects/plain-value?normalize=true", json={"schema": REWRITTEN}, timeout=10)
        assert r.json()["id"] == other
        # an invalid schema is refused as written
        r = httpx.post(f"{url}/subjects/bad-value/versions?normalize=true", json={"schema": '{"type":"nope"}'})
        assert (r.status_code, r.json()["error_code"]) == (422, 42201)


@pytest.mark.parametrize("schema", ['"string"', '{"type":"fixed","name":"F","size":16,"logicalType":"uuid"}'])
def test_other_shapes_normalize_to_valid_avro(schema: str) -> None:
    import fastavro

    fastavro.parse_schema(json.loads(normalized(schema)))
