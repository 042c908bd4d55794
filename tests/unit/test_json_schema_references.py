"""JSON Schema references to other subjects: the registry refuses a reference to nothing, and JsonSchemaConverter
reads records whose schema `$ref`s another subject's schema (by the reference's name, whole or by JSON pointer,
nested references too) into the Connect schema the inlined document would give. Against the worker's registry."""

from __future__ import annotations

import json

import httpx
import pytest
from registry_testkit import running_registry

from miniconnect.converters.json_schema import JsonSchemaConverter
from miniconnect.converters.json_schema_refs import inline_references
from miniconnect.data.schema import DataError, Type

STREET = {"type": "object", "title": "Street", "properties": {"name": {"type": "string"}, "no": {"type": "integer"}}}
ADDRESS = {
    "type": "object",
    "title": "Address",
    "properties": {"street": {"$ref": "street.json"}, "city": {"type": "string"}},
    "definitions": {"zip": {"type": "string"}},
}
ORDER = {
    "type": "object",
    "title": "Order",
    "properties": {
        "id": {"type": "integer", "connect.type": "int32"},
        "to": {"$ref": "address.json"},
        "zip": {"$ref": "address.json#/definitions/zip"},
    },
}


def register(url: str, subject: str, schema: dict, refs: list[dict] | None = None) -> httpx.Response:
    body = {"schema": json.dumps(schema), "schemaType": "JSON", "references": refs or []}
    return httpx.post(f"{url}/subjects/{subject}/versions", json=body, timeout=10)


def test_a_schema_referencing_other_subjects(tmp_path) -> None:
    with running_registry(tmp_path) as server:
        url = server.urls[0]
        r = register(url, "order-value", ORDER, [{"name": "address.json", "subject": "address", "version": 1}])
        assert (r.status_code, r.json()["error_code"]) == (422, 42201)  # the subject does not exist yet
        assert register(url, "street", STREET).status_code == 200
        refs = [{"name": "street.json", "subject": "street", "version": 1}]
        assert register(url, "address", ADDRESS, refs).status_code == 200
        refs = [{"name": "address.json", "subject": "address", "version": 1}]
        order_id = register(url, "order-value", ORDER, refs).json()["id"]
        assert httpx.get(f"{url}/subjects/address/versions/1/referencedby", timeout=10).json() == [order_id]

        conv = JsonSchemaConverter()
        conv.configure({"schema.registry.url": url}, False)
        payload = {"id": 7, "to": {"street": {"name": "Main", "no": 1}, "city": "Oslo"}, "zip": "0150"}
        data = b"\x00" + order_id.to_bytes(4, "big") + json.dumps(payload).encode()
        schema, value = conv.to_connect_data("orders", data)
        assert schema.name == "Order" and [f.name for f in schema.fields] == ["id", "to", "zip"]
        to = schema.field("to").schema
        assert to.type is Type.STRUCT and to.name == "Address"
        assert to.field("street").schema.name == "Street" and schema.field("zip").schema.type is Type.STRING
        assert value.get("to").get("street").get("no") == 1 and value.get("zip") == "0150"

        # a $ref naming no reference of the schema: the registry refuses it, as Confluent's cannot load it; a
        # converter given such a schema by another registry says which $ref, not a crash
        lonely = {"type": "object", "properties": {"a": {"$ref": "nowhere.json"}}}
        r = register(url, "lonely-value", lonely)
        assert (r.status_code, r.json()["error_code"]) == (422, 42201) and "nowhere.json" in r.json()["message"]
        with pytest.raises(DataError, match="nowhere.json"):
            inline_references(lonely, {})
