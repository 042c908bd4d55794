"""The worker's Schema Registry answers Confluent's REST API (status codes, error codes, bodies) and keeps its state
in the `_schemas` topic: subjects, versions and ids, compatibility levels, soft and hard deletes, references,
config and mode, and everything back after a restart. Confluent's own Python client works against it unchanged."""

from __future__ import annotations

import json

import httpx
import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from registry_testkit import running_registry

from miniconnect.transport.embedded import EmbeddedLog


def record(*fields: tuple[str, object], name: str = "User", **extra: object) -> str:
    out: dict[str, object] = {
        "type": "record",
        "name": name,
        "fields": [{"name": n, "type": t} | ({"default": None} if isinstance(t, list) else {}) for n, t in fields],
    }
    out.update(extra)
    return json.dumps(out)


V1 = record(("id", "long"))
V2_DEFAULT = json.dumps(
    {
        "type": "record",
        "name": "User",
        "fields": [{"name": "id", "type": "long"}, {"name": "n", "type": "string", "default": ""}],
    }
)
V2_NO_DEFAULT = record(("id", "long"), ("n", "string"))


@pytest.fixture
def registry(tmp_path):
    with running_registry(tmp_path / "log") as server:
        yield server


@pytest.fixture
def http(registry):
    with httpx.Client(base_url=registry.urls[0], timeout=30) as client:
        yield client


def error(response: httpx.Response) -> tuple[int, int]:
    return response.status_code, response.json()["error_code"]


def post_schema(http: httpx.Client, subject: str, schema: str, **extra: object) -> httpx.Response:
    return http.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})


def test_register_read_back_by_id_subject_and_version(http):
    assert http.get("/").json() == {}
    r = post_schema(http, "users-value", V1)
    assert r.status_code == 200 and r.json() == {"id": 1}
    assert r.headers["content-type"].startswith("application/vnd.schemaregistry.v1+json")
    assert post_schema(http, "users-value", V1).json() == {"id": 1}  # the same schema again: the same version
    assert post_schema(http, "other-value", V1).json() == {"id": 1}  # ids are global: one per schema
    assert http.get("/schemas/ids/1").json() == {"schema": json.dumps(json.loads(V1), separators=(",", ":"))}
    assert http.get("/schemas/ids/1/schema").json() == json.loads(V1)
    assert http.get("/schemas/ids/1/subjects").json() == ["other-value", "users-value"]
    assert http.get("/schemas/ids/1/versions").json() == [
        {"subject": "other-value", "version": 1},
        {"subject": "users-value", "version": 1},
    ]
    assert http.get("/subjects").json() == ["other-value", "users-value"]
    assert http.get("/subjects/users-value/versions").json() == [1]
    assert post_schema(http, "users-value", V2_DEFAULT).json() == {"id": 2}
    latest = http.get("/subjects/users-value/versions/latest").json()
    assert latest["version"] == 2 and latest["id"] == 2 and latest["subject"] == "users-value"
    assert http.get("/subjects/users-value/versions/-1").json() == latest
    assert http.get("/subjects/users-value/versions/1").json()["id"] == 1
    assert http.get("/subjects/users-value/versions/2/schema").json() == json.loads(V2_DEFAULT)
    found = http.post("/subjects/users-value", json={"schema": V1}).json()
    assert (found["id"], found["version"]) == (1, 1)
    assert [(s["subject"], s["version"]) for s in http.get("/schemas").json()] == [
        ("other-value", 1),
        ("users-value", 1),
        ("users-value", 2),
    ]
    assert [s["version"] for s in http.get("/schemas?subjectPrefix=users&latestOnly=true").json()] == [2]
    assert http.get("/schemas/types").json() == ["JSON", "PROTOBUF", "AVRO"] and http.get("/contexts").json() == ["."]


def test_error_codes(http):
    post_schema(http, "s", V1)
    assert error(http.get("/schemas/ids/99")) == (404, 40403)
    assert error(http.get("/subjects/nope/versions")) == (404, 40401)
    assert error(http.get("/subjects/s/versions/7")) == (404, 40402)
    assert error(http.get("/subjects/s/versions/0")) == (422, 42202)
    assert error(http.get("/subjects/s/versions/abc")) == (422, 42202)
    assert error(http.post("/subjects/nope", json={"schema": V1})) == (404, 40401)
    assert error(http.post("/subjects/s", json={"schema": record(("x", "int"))})) == (404, 40403)
    assert error(
        post_schema(http, "s", '{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}')
    ) == (422, 42201)
    assert error(post_schema(http, "s", "not json")) == (422, 42201)
    assert error(post_schema(http, "s", V1, schemaType="PROTOBUF")) == (422, 42201)
    assert error(http.put("/config", json={"compatibility": "SIDEWAYS"})) == (422, 42203)
    assert error(http.put("/mode", json={"mode": "WRITEONLY"})) == (422, 42204)
    assert error(http.get("/config/s")) == (404, 40408)
    assert error(http.get("/mode/s")) == (404, 40409)
    body = http.get("/schemas/ids/99").json()
    assert body["message"] == "Schema 99 not found"


@pytest.mark.parametrize(
    "level, new, compatible",
    [
        ("BACKWARD", V2_DEFAULT, True),  # a field added with a default: new readers read old data
        ("BACKWARD", V2_NO_DEFAULT, False),
        ("FORWARD", V2_NO_DEFAULT, True),  # old readers ignore the new field
        ("FORWARD", record(("n", "string")), False),  # id removed without default: old readers cannot read new data
        ("FULL", V2_DEFAULT, True),
        ("FULL", V2_NO_DEFAULT, False),
        ("NONE", record(("x", "boolean")), True),
        ("BACKWARD", record(("id", "string")), False),  # long -> string is no promotion
        ("BACKWARD", record(("id", "double")), True),  # long -> double is
    ],
)
def test_compatibility_levels(http, level, new, compatible):
    assert http.put("/config/s", json={"compatibility": level}).json() == {"compatibility": level}
    assert http.get("/config/s").json() == {"compatibilityLevel": level}
    post_schema(http, "s", V1)
    check = http.post("/compatibility/subjects/s/versions/latest?verbose=true", json={"schema": new}).json()
    assert check["is_compatible"] is compatible, check
    r = post_schema(http, "s", new)
    if compatible:
        assert r.status_code == 200
    else:
        assert error(r) == (409, 409)
        assert "incompatible with an earlier schema" in r.json()["message"]
        assert check["messages"]


def test_transitive_levels_check_every_version(http):
    # v1 {id}, v2 {id, n} (registered with NONE), then v3 {id, n, z=0}: v3 reads v2's data, not v1's (no n there)
    http.put("/config/t2", json={"compatibility": "BACKWARD_TRANSITIVE"})
    with_default = json.dumps(
        {"type": "record", "name": "User", "fields": [{"name": "id", "type": "long"}, {"name": "n", "type": "string"}]}
    )
    post_schema(http, "t2", V1)
    http.put("/config/t2", json={"compatibility": "NONE"})
    post_schema(http, "t2", with_default)  # v2 {id, n} registered without checks
    http.put("/config/t2", json={"compatibility": "BACKWARD"})
    v3b = json.dumps(
        {
            "type": "record",
            "name": "User",
            "fields": [
                {"name": "id", "type": "long"},
                {"name": "n", "type": "string"},
                {"name": "z", "type": "int", "default": 0},
            ],
        }
    )
    ok = http.post("/compatibility/subjects/t2/versions", json={"schema": v3b}).json()
    assert ok == {"is_compatible": True}  # BACKWARD: only against v2
    http.put("/config/t2", json={"compatibility": "BACKWARD_TRANSITIVE"})
    refused = http.post("/compatibility/subjects/t2/versions?verbose=true", json={"schema": v3b}).json()
    assert refused["is_compatible"] is False  # against v1 too, which has no n
    assert any("'n'" in m for m in refused["messages"])


def test_soft_and_hard_deletes(http):
    post_schema(http, "d", V1)
    post_schema(http, "d", V2_DEFAULT)
    assert error(http.delete("/subjects/d/versions/1?permanent=true")) == (404, 40407)
    assert http.delete("/subjects/d/versions/1").json() == 1
    assert error(http.delete("/subjects/d/versions/1")) == (404, 40406)
    assert http.get("/subjects/d/versions").json() == [2]
    assert http.get("/subjects/d/versions?deleted=true").json() == [1, 2]
    assert error(http.get("/subjects/d/versions/1")) == (404, 40402)
    assert http.get("/subjects/d/versions/1?deleted=true").json()["id"] == 1
    assert http.get("/schemas/ids/1").status_code == 200  # soft-deleted schemas stay readable by id
    assert error(http.delete("/subjects/d?permanent=true")) == (404, 40405)
    assert http.delete("/subjects/d").json() == [2]
    assert error(http.delete("/subjects/d")) == (404, 40404)
    assert http.get("/subjects").json() == []
    assert http.get("/subjects?deleted=true").json() == ["d"]
    assert http.delete("/subjects/d?permanent=true").json() == [1, 2]
    assert error(http.get("/subjects/d/versions?deleted=true")) == (404, 40401)
    assert error(http.get("/schemas/ids/1")) == (404, 40403)
    # a version number is never given twice while its predecessors exist (soft deleted included)
    post_schema(http, "e", V1)
    http.delete("/subjects/e/versions/1")
    http.put("/config/e", json={"compatibility": "NONE"})
    post_schema(http, "e", record(("q", "int")))
    assert http.get("/subjects/e/versions").json() == [2]


def test_references(http):
    address = json.dumps(
        {"type": "record", "name": "Address", "namespace": "com.acme", "fields": [{"name": "city", "type": "string"}]}
    )
    assert post_schema(http, "address", address).json() == {"id": 1}
    user = json.dumps(
        {
            "type": "record",
            "name": "User",
            "namespace": "com.acme",
            "fields": [{"name": "home", "type": "com.acme.Address"}],
        }
    )
    assert error(post_schema(http, "user", user)) == (422, 42201)  # the named type is unknown without the reference
    refs = [{"name": "com.acme.Address", "subject": "address", "version": 1}]
    assert post_schema(http, "user", user, references=refs).json() == {"id": 2}
    assert http.get("/schemas/ids/2").json()["references"] == refs
    assert http.get("/subjects/user/versions/1").json()["references"] == refs
    assert http.get("/subjects/address/versions/1/referencedby").json() == [2]
    assert error(http.delete("/subjects/address")) == (422, 42206)
    http.delete("/subjects/user")
    assert http.delete("/subjects/address").json() == [1]


def test_config_and_mode(http):
    assert http.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    assert http.put("/config", json={"compatibility": "full"}).json() == {"compatibility": "FULL"}
    assert http.get("/config").json() == {"compatibilityLevel": "FULL"}
    assert http.get("/config/x?defaultToGlobal=true").json() == {"compatibilityLevel": "FULL"}
    assert http.delete("/config").json() == {"compatibilityLevel": "FULL"}
    assert http.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    assert http.get("/mode").json() == {"mode": "READWRITE"}
    post_schema(http, "m", V1)
    assert http.put("/mode/m", json={"mode": "READONLY"}).json() == {"mode": "READONLY"}
    assert error(post_schema(http, "m", V2_DEFAULT)) == (422, 42205)
    assert http.delete("/mode/m").json() == {"mode": "READONLY"}
    assert post_schema(http, "m", V2_DEFAULT).status_code == 200
    # IMPORT mode: ids and versions chosen by the caller (migrations from another registry)
    http.put("/mode", json={"mode": "IMPORT"})
    assert post_schema(http, "imported", record(("z", "int")), id=100, version=7).json() == {"id": 100}
    assert http.get("/subjects/imported/versions").json() == [7]
    http.put("/mode", json={"mode": "READWRITE"})
    assert error(post_schema(http, "imported", record(("y", "int")), id=5)) == (422, 42205)


def test_state_survives_a_restart(tmp_path):
    with running_registry(tmp_path / "log") as server:
        http = httpx.Client(base_url=server.urls[0])
        post_schema(http, "a", V1)
        post_schema(http, "a", V2_DEFAULT)
        http.put("/config/a", json={"compatibility": "FULL"})
        http.put("/mode/a", json={"mode": "READONLY"})
        http.delete("/subjects/a/versions/1")
        http.close()
    with running_registry(tmp_path / "log") as server:
        http = httpx.Client(base_url=server.urls[0])
        assert http.get("/subjects/a/versions").json() == [2]
        assert http.get("/subjects/a/versions?deleted=true").json() == [1, 2]
        assert http.get("/config/a").json() == {"compatibilityLevel": "FULL"}
        assert http.get("/mode/a").json() == {"mode": "READONLY"}
        http.delete("/mode/a")
        assert post_schema(http, "b", record(("x", "int"))).json() == {"id": 3}  # ids go on from the stored ones
        http.close()


def test_schemas_topic_holds_confluents_record_format(tmp_path):
    with running_registry(tmp_path / "log") as server:
        httpx.post(server.urls[0] + "/subjects/k/versions", json={"schema": V1})
        httpx.put(server.urls[0] + "/config/k", json={"compatibility": "NONE"})

    import asyncio

    async def read() -> list[tuple[dict, dict]]:
        log = EmbeddedLog(str(tmp_path / "log"))
        await log.start()
        consumer = log.consumer("check", {"auto.offset.reset": "earliest"})
        await consumer.start()
        await consumer.subscribe(["_schemas"])
        records = await consumer.poll(100, 2000)
        await consumer.stop()
        await log.stop()
        return [(json.loads(r.key), json.loads(r.value)) for r in records]

    records = asyncio.run(read())
    assert records[0] == (
        {"keytype": "SCHEMA", "subject": "k", "version": 1, "magic": 1},
        {
            "subject": "k",
            "version": 1,
            "id": 1,
            "schema": json.dumps(json.loads(V1), separators=(",", ":")),
            "deleted": False,
        },
    )
    assert records[1] == ({"keytype": "CONFIG", "subject": "k", "magic": 0}, {"compatibilityLevel": "NONE"})


def test_basic_authentication(tmp_path):
    with running_registry(tmp_path / "log", users={"alice": "s3cret"}) as server:
        assert httpx.get(server.urls[0] + "/subjects").status_code == 401
        assert httpx.get(server.urls[0] + "/subjects", auth=("alice", "wrong")).json()["error_code"] == 40101
        assert httpx.get(server.urls[0] + "/subjects", auth=("alice", "s3cret")).json() == []


def test_confluents_python_client_unchanged(registry):
    client = SchemaRegistryClient({"url": registry.urls[0]})
    schema_id = client.register_schema("c-value", Schema(V1, "AVRO"))
    assert client.get_schema(schema_id).schema_str == json.dumps(json.loads(V1), separators=(",", ":"))
    latest = client.get_latest_version("c-value")
    assert (latest.schema_id, latest.version, latest.subject) == (schema_id, 1, "c-value")
    assert client.lookup_schema("c-value", Schema(V1, "AVRO")).version == 1
    assert client.get_subjects() == ["c-value"]
    assert client.get_versions("c-value") == [1]
    assert client.get_version("c-value", 1).schema_id == schema_id
    assert client.test_compatibility("c-value", Schema(V2_NO_DEFAULT, "AVRO")) is False
    with pytest.raises(SchemaRegistryError) as e:
        client.register_schema("c-value", Schema(V2_NO_DEFAULT, "AVRO"))
    assert e.value.http_status_code == 409 and e.value.error_code == 409
    client.set_compatibility("c-value", "NONE")
    assert client.get_compatibility("c-value") == "NONE"
    assert client.register_schema("c-value", Schema(V2_NO_DEFAULT, "AVRO")) == schema_id + 1
    ref = client.register_schema(
        "ref-value",
        Schema(
            json.dumps({"type": "record", "name": "W", "fields": [{"name": "u", "type": "User"}]}),
            "AVRO",
            [SchemaReference("User", "c-value", 1)],
        ),
    )
    assert client.get_schema(ref).references[0].subject == "c-value"
    assert client.delete_version("ref-value", 1) == 1
    assert client.delete_subject("c-value") == [1, 2]
    assert client.delete_subject("c-value", permanent=True) == [1, 2]
    with pytest.raises(SchemaRegistryError) as e:
        client.get_versions("c-value")
    assert e.value.error_code == 40401
    assert client.update_mode("ref-value", "READONLY") == "READONLY"
    assert client.get_mode("ref-value") == "READONLY"
    assert client.delete_mode("ref-value") == "READONLY"
    assert client.update_global_mode("READONLY") == "READONLY"
    assert client.get_global_mode() == "READONLY"
    client.update_global_mode("READWRITE")
