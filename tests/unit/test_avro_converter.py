"""AvroConverter against the worker's Schema Registry, checked with Confluent's own Python serializers
(confluent-kafka's AvroSerializer / AvroDeserializer, fastavro underneath): what we write they read into the same
data and re-encode to the same bytes; what they write we read into the Connect values AvroData gives; evolved
schemas, caching (one registry request per schema, not per record), bad input and registry faults."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import httpx
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from helpers.every_type import COLLECTIONS, SCALARS, collection_values, plain, scalar_values
from registry_testkit import free_port, running_registry

from miniconnect.converters.avro import AvroConverter
from miniconnect.data.schema import (
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    DataError,
    Schema,
    Struct,
    Type,
)
from miniconnect.plugins import Plugins

UTC = dt.UTC
ALL = Schema.struct(
    [
        *SCALARS,
        ("opt_i", OPTIONAL_INT32_SCHEMA),
        ("with_default", Schema(Type.STRING, optional=True, default="dflt")),
        ("int_default", Schema(Type.INT64, default=42)),
        *COLLECTIONS,
        ("unnamed", Schema.struct([("x", INT32_SCHEMA)])),
    ],
    name="com.acme.Everything",
    version=3,
    doc="all of Connect's types",
)


def everything(i: int, nulls: bool = False) -> Struct:
    return Struct(
        ALL,
        [
            *scalar_values(i, nulls),
            None if nulls else -7,
            None,
            None,
            *collection_values(nulls),
            Struct(ALL.field("unnamed").schema, [i]),
        ],
    )


def converter(registry_url: str, is_key: bool = False, **config: object) -> AvroConverter:
    c = AvroConverter()
    c.configure({"schema.registry.url": registry_url, **config}, is_key)
    return c


def ctx(topic: str, key: bool = False) -> SerializationContext:
    return SerializationContext(topic, MessageField.KEY if key else MessageField.VALUE)


def test_registered_as_a_converter_plugin():
    plugins = Plugins({})
    assert plugins.resolve_converter("io.confluent.connect.avro.AvroConverter") is AvroConverter
    assert plugins.resolve_converter("AvroConverter") is AvroConverter
    listed = plugins.plugin_infos(connectors_only=False)
    assert {"class": "io.confluent.connect.avro.AvroConverter", "type": "converter"} in [
        {k: v for k, v in i.items() if k != "version"} for i in listed
    ]
    assert "schema.registry.url" in [k["name"] for k in plugins.plugin_config("AvroConverter")]


def test_every_connect_type_read_by_confluents_deserializer_and_written_back_byte_for_byte(registry_url):
    ours = converter(registry_url)
    client = SchemaRegistryClient({"url": registry_url})
    theirs = AvroDeserializer(client)
    for i, nulls in ((0, False), (1, True)):
        value = everything(i, nulls)
        data = ours.from_connect_data("everything", ALL, value)
        assert data[:1] == b"\x00"
        record = theirs(data, ctx("everything"))
        assert record["s"] == value.values[7] and record["by"] == value.values[8]
        assert record["dec"] == value.values[9] and record["ts"] == value.values[13]
        assert record["d"] == value.values[11] and record["t"] == value.values[12]
        assert record["with_default"] == "dflt" and record["int_default"] == 42  # nulls replaced by defaults
        assert record["m_int_keys"] == [{"key": k, "value": v} for k, v in value.values[21].items()]
        assert record["home"] == (None if nulls else {"city": "Zürich", "zip": "8001"})
        # Confluent's serializer, given the schema we registered, writes exactly our bytes
        registered = client.get_latest_version("everything-value").schema.schema_str
        serializer = AvroSerializer(
            client, registered, conf={"auto.register.schemas": False, "use.latest.version": True}
        )
        assert serializer(record, ctx("everything")) == data
        # and we read our bytes back into the same Connect value (defaults filled in, as Struct.get gives them)
        _, back = ours.to_connect_data("everything", data)
        assert plain(back)[16:18] == ["dflt", 42]
        assert plain(back)[:16] == plain(value)[:16] and plain(back)[18:] == plain(value)[18:]


def test_schema_is_avro_data_mapping(registry_url):
    ours = converter(registry_url)
    data = ours.from_connect_data("mapping", ALL, everything(0))
    schema_id = int.from_bytes(data[1:5], "big")
    avro = json.loads(httpx.get(f"{registry_url}/schemas/ids/{schema_id}").json()["schema"])
    assert (avro["type"], avro["name"], avro["namespace"]) == ("record", "Everything", "com.acme")
    assert avro["connect.version"] == 3 and avro["connect.doc"] == "all of Connect's types"
    assert avro["connect.name"] == "com.acme.Everything"
    fields = {f["name"]: f for f in avro["fields"]}
    assert fields["i8"]["type"] == {"type": "int", "connect.type": "int8"}
    assert fields["i16"]["type"] == {"type": "int", "connect.type": "int16"}
    assert fields["dec"]["type"] == {
        "type": "bytes",
        "scale": 3,
        "precision": 64,
        "connect.version": 1,
        "connect.parameters": {"scale": "3"},
        "connect.name": "org.apache.kafka.connect.data.Decimal",
        "logicalType": "decimal",
    }
    assert fields["dec_p"]["type"][0] == "null" and fields["dec_p"]["type"][1]["precision"] == 10
    assert fields["d"]["type"]["logicalType"] == "date"
    assert fields["t"]["type"]["logicalType"] == "time-millis"
    assert fields["ts"]["type"]["logicalType"] == "timestamp-millis"
    assert fields["opt"] == {"name": "opt", "type": ["null", "string"], "default": None}
    assert fields["with_default"]["type"] == [{"type": "string", "connect.default": "dflt"}, "null"]
    assert fields["with_default"]["default"] == "dflt"
    assert fields["m"]["type"] == {"type": "map", "values": "long"}
    entry = fields["m_int_keys"]["type"]["items"]
    assert (entry["name"], entry["namespace"]) == ("MapEntry", "io.confluent.connect.avro")
    assert fields["unnamed"]["type"]["name"] == "ConnectDefault"
    assert fields["arr_structs"]["type"]["items"]["name"] == "Address"
    assert fields["home"]["type"] == ["null", "com.acme.Address"]  # defined once, then named


def test_records_written_by_confluents_serializer_read_into_connect_values(registry_url):
    client = SchemaRegistryClient({"url": registry_url})
    writer = {
        "type": "record",
        "name": "Order",
        "namespace": "shop",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "state", "type": {"type": "enum", "name": "State", "symbols": ["NEW", "PAID"]}},
            {"name": "digest", "type": {"type": "fixed", "name": "Md5", "size": 4}},
            {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
            {"name": "when", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "note", "type": ["null", "string"], "default": None},
            {
                "name": "lines",
                "type": {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "Line",
                        "fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "int", "default": 1}],
                    },
                },
            },
            {"name": "tags", "type": {"type": "map", "values": "string"}},
            {"name": "either", "type": ["null", "string", "long"], "default": None},
        ],
    }
    serializer = AvroSerializer(client, json.dumps(writer))
    order = {
        "id": 7,
        "state": "PAID",
        "digest": b"\x01\x02\x03\x04",
        "amount": decimal.Decimal("19.99"),
        "when": dt.datetime(2024, 2, 29, 12, 0, tzinfo=UTC),
        "day": dt.date(2024, 2, 29),
        "note": "ünïcode ✓",
        "lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}],
        "tags": {"gift": "yes"},
        "either": 5,
    }
    data = serializer(order, ctx("orders"))
    schema, value = converter(registry_url).to_connect_data("orders", data)
    assert schema.name == "shop.Order" and schema.version == 1  # the registry's version of the subject
    assert [f.name for f in schema.fields] == [f["name"] for f in writer["fields"]]
    f = {x.name: x.schema for x in schema.fields}
    assert f["state"].type is Type.STRING and f["state"].parameters["io.confluent.connect.avro.Enum"] == "shop.State"
    assert f["digest"].parameters == {"connect.fixed.size": "4"} and f["digest"].name == "shop.Md5"
    assert f["amount"].parameters == {"scale": "2", "connect.decimal.precision": "9"}
    assert f["note"].optional and f["lines"].value_schema.field("qty").schema.default == 1
    assert f["either"].name == "io.confluent.connect.avro.Union" and f["either"].optional
    assert [x.name for x in f["either"].fields] == ["string", "long"]
    v = dict(zip([x.name for x in schema.fields], value.values, strict=True))
    assert v["id"] == 7 and v["state"] == "PAID" and v["digest"] == b"\x01\x02\x03\x04"
    assert v["amount"] == decimal.Decimal("19.99") and v["when"] == order["when"] and v["day"] == order["day"]
    assert v["note"] == "ünïcode ✓" and v["tags"] == {"gift": "yes"}
    assert [list(line.values) for line in v["lines"]] == [["A-1", 2], ["B-2", 1]]
    assert list(v["either"].values) == [None, 5]
    # written back by us with the schema read: Confluent's deserializer gets the order again
    again = converter(registry_url).from_connect_data("orders-copy", schema, value)
    back = AvroDeserializer(client)(again, ctx("orders-copy"))
    assert {k: back[k] for k in order if k != "either"} == {k: order[k] for k in order if k != "either"}
    assert back["either"] == {"string": None, "long": 5} or back["either"] == 5


def test_evolved_schemas_both_ways(registry_url):
    client = SchemaRegistryClient({"url": registry_url})
    v1 = {
        "type": "record",
        "name": "User",
        "fields": [{"name": "id", "type": "long"}, {"name": "old", "type": "string", "default": "o"}],
    }
    v2 = {**v1, "fields": [*v1["fields"], {"name": "email", "type": "string", "default": "none"}]}
    v3 = {**v1, "fields": [v1["fields"][0], v2["fields"][2]]}  # "old" removed (it had a default: still BACKWARD)
    datas = [
        AvroSerializer(client, json.dumps(v))(rec, ctx("users"))
        for v, rec in (
            (v1, {"id": 1, "old": "a"}),
            (v2, {"id": 2, "old": "b", "email": "b@x"}),
            (v3, {"id": 3, "email": "c@x"}),
        )
    ]
    ours = converter(registry_url)
    read = [ours.to_connect_data("users", d) for d in datas]
    assert [s.version for s, _ in read] == [1, 2, 3]
    assert [[f.name for f in s.fields] for s, _ in read] == [["id", "old"], ["id", "old", "email"], ["id", "email"]]
    assert [list(v.values) for _, v in read] == [[1, "a"], [2, "b", "b@x"], [3, "c@x"]]
    # our side evolves a Connect schema: a new optional field registers as version 2, a new required one is refused
    base = Schema.struct([("id", INT64_SCHEMA)], name="Acct")
    added = Schema.struct([("id", INT64_SCHEMA), ("note", OPTIONAL_STRING_SCHEMA)], name="Acct")
    required = Schema.struct([("id", INT64_SCHEMA), ("must", STRING_SCHEMA)], name="Acct")
    ours.from_connect_data("accts", base, Struct(base, [1]))
    data = ours.from_connect_data("accts", added, Struct(added, [2, "n"]))
    assert client.get_latest_version("accts-value").version == 2
    assert AvroDeserializer(client)(data, ctx("accts")) == {"id": 2, "note": "n"}
    with pytest.raises(DataError, match=r"incompatible with an earlier schema.*error code: 409"):
        ours.from_connect_data("accts", required, Struct(required, [3, "m"]))


def test_registry_asked_once_per_schema_not_per_record(registry_url):
    ours = converter(registry_url)
    rows = [everything(i) for i in range(200)]
    datas = ours.from_connect_batch("cached", [ALL] * 200, rows)
    assert ours.client.requests == 1  # the registration
    reader = converter(registry_url)
    values = reader.to_connect_batch("cached", datas)
    assert reader.client.requests == 2  # the schema by id, and its version under the subject
    assert [v.values[3] for _, v in values] == [r.values[3] for r in rows]
    reader.to_connect_batch("cached", datas)
    assert reader.client.requests == 2


def test_batches_decode_as_records_do(registry_url):
    """One batch-decoder call for the usual batch (one schema id, no tombstones); anything else record by record,
    with the record's own error."""
    ours = converter(registry_url)
    rows = [everything(i) for i in range(50)]
    datas = ours.from_connect_batch("batch", [ALL] * 50, rows)
    other = ours.from_connect_data("batch-other", INT32_SCHEMA, 5)
    one_by_one = [ours.to_connect_data("batch", d) for d in datas]
    assert ours.to_connect_batch("batch", datas) == one_by_one
    assert ours.to_connect_batch("batch", iter(datas)) == one_by_one
    mixed = [datas[0], None, datas[1], bytearray(datas[2])]
    assert ours.to_connect_batch("batch", mixed) == [one_by_one[0], (None, None), *one_by_one[1:3]]
    assert [v for _, v in ours.to_connect_batch("batch-other", [other, other])] == [5, 5]
    # and encoding: one batch-encoder call, or record by record (tombstones)
    assert ours.from_connect_batch("batch", [ALL] * 50, rows) == datas
    assert ours.from_connect_batch("batch", [ALL] * 3, [rows[0], None, rows[2]]) == [datas[0], None, datas[2]]
    with pytest.raises(DataError, match="does not fit the schema"):
        ours.from_connect_batch("batch", [ALL] * 2, [rows[0], Struct(ALL, ["x"] * len(ALL.fields))])
    for bad in (datas[10] + b"\x00", datas[10][:-1], datas[10][:5] + b"\x09" + datas[10][6:]):
        with pytest.raises(DataError) as record_error:
            ours.to_connect_data("batch", bad)
        with pytest.raises(DataError) as batch_error:
            ours.to_connect_batch("batch", [*datas[:10], bad, *datas[11:]])
        assert str(batch_error.value) == str(record_error.value)


def test_keys_with_primitive_schemas(registry_url):
    keys = converter(registry_url, is_key=True)
    data = keys.from_connect_data("k", STRING_SCHEMA, "key-1")
    assert AvroDeserializer(SchemaRegistryClient({"url": registry_url}))(data, ctx("k", key=True)) == "key-1"
    assert httpx.get(f"{registry_url}/subjects/k-key/versions/latest").json()["schema"] == '"string"'
    assert keys.to_connect_data("k", data) == (Schema(Type.STRING, version=1), "key-1")
    assert keys.from_connect_data("k", None, None) is None and keys.to_connect_data("k", None) == (None, None)


def test_subject_name_strategies_and_registration_options(registry_url):
    schema = Schema.struct([("a", INT32_SCHEMA)], name="com.acme.Thing")
    record_name = converter(
        registry_url, **{"value.subject.name.strategy": "io.confluent.kafka.serializers.subject.RecordNameStrategy"}
    )
    record_name.from_connect_data("t1", schema, Struct(schema, [1]))
    topic_record = converter(registry_url, **{"value.subject.name.strategy": "TopicRecordNameStrategy"})
    topic_record.from_connect_data("t1", schema, Struct(schema, [1]))
    subjects = httpx.get(f"{registry_url}/subjects").json()
    assert "com.acme.Thing" in subjects and "t1-com.acme.Thing" in subjects
    unregistered = Schema.struct([("zz", INT32_SCHEMA)], name="Never")
    with pytest.raises(DataError, match="error code: 40401"):
        converter(registry_url, **{"auto.register.schemas": "false"}).from_connect_data(
            "t2", unregistered, Struct(unregistered, [1])
        )
    # use.latest.version writes with the latest registered schema (here one with an extra field that has a default)
    latest_schema = {
        "type": "record",
        "name": "Thing",
        "namespace": "com.acme",
        "fields": [{"name": "a", "type": "int"}, {"name": "extra", "type": "string", "default": "E"}],
    }
    latest_id = httpx.post(
        f"{registry_url}/subjects/t3-value/versions", json={"schema": json.dumps(latest_schema)}
    ).json()["id"]
    latest = converter(registry_url, **{"use.latest.version": "true", "auto.register.schemas": "false"})
    data = latest.from_connect_data("t3", schema, Struct(schema, [5]))
    assert int.from_bytes(data[1:5], "big") == latest_id
    assert AvroDeserializer(SchemaRegistryClient({"url": registry_url}))(data, ctx("t3")) == {"a": 5, "extra": "E"}


def test_bad_input_is_a_clear_error(registry_url):
    ours = converter(registry_url)
    schema = Schema.struct([("a", INT32_SCHEMA), ("s", STRING_SCHEMA)], name="Bad")
    good = ours.from_connect_data("bad", schema, Struct(schema, [1, "x"]))
    with pytest.raises(DataError, match="Unknown magic byte"):
        ours.to_connect_data("bad", b"\x01" + good[1:])
    with pytest.raises(DataError, match="Unknown magic byte"):
        ours.to_connect_data("bad", b"\x00\x00")
    with pytest.raises(DataError, match=r"schema for id 99999.*40403"):
        ours.to_connect_data("bad", b"\x00" + (99999).to_bytes(4, "big") + good[5:])
    asked = ours.client.requests
    with pytest.raises(DataError, match=r"schema for id 99999.*40403"):
        ours.to_connect_data("bad", b"\x00" + (99999).to_bytes(4, "big") + good[5:])
    assert ours.client.requests == asked  # an unknown id is not asked for again record after record
    with pytest.raises(DataError, match="truncated"):
        ours.to_connect_data("bad", good[:-1])
    with pytest.raises(DataError, match="do not match schema id 1"):
        ours.to_connect_data("bad", good[:6])  # cut inside the string's length
    with pytest.raises(DataError, match="bytes after the datum"):
        ours.to_connect_data("bad", good + b"\x00")
    with pytest.raises(DataError, match='null used for required field: "s"'):
        ours.from_connect_data("bad", schema, Struct(schema, [1, None]))
    with pytest.raises(DataError, match="does not fit the schema"):
        ours.from_connect_data("bad", schema, Struct(schema, ["not an int", "x"]))
    # the batch path raises the same errors as the record path
    with pytest.raises(DataError, match="Unknown magic byte"):
        ours.to_connect_batch("bad", [good, b"\x07" + good[1:]])


def test_registry_down_is_retried_then_names_the_url(registry_url):
    dead = f"http://127.0.0.1:{free_port()}"
    schema = Schema.struct([("a", INT32_SCHEMA)], name="Down")
    down = converter(dead, **{"max.retries": "2", "retries.wait.ms": "10"})
    with pytest.raises(DataError, match=f"Schema Registry at {dead} is unreachable"):
        down.from_connect_data("down", schema, Struct(schema, [1]))
    assert down.client.requests == 3  # the first try and two retries
    # the next record tries again (a worker's tasks wait for a registry that is down off their event loop: see
    # test_registry_off_loop.py)
    with pytest.raises(DataError, match="unreachable"):
        down.from_connect_data("down", schema, Struct(schema, [2]))
    assert down.client.requests == 6
    # several URLs: a dead one is skipped
    failover = converter(f"{dead},{registry_url}")
    data = failover.from_connect_data("down", schema, Struct(schema, [1]))
    assert list(failover.to_connect_data("down", data)[1].values) == [1]


def test_basic_auth_credentials(tmp_path):
    with running_registry(tmp_path / "log", users={"connect": "pw"}) as server:
        u = server.urls[0]
        schema = Schema.struct([("a", INT32_SCHEMA)], name="Auth")
        value = Struct(schema, [1])
        with pytest.raises(DataError, match="Unauthorized; error code: 40101"):
            converter(
                u, **{"basic.auth.credentials.source": "USER_INFO", "basic.auth.user.info": "connect:nope"}
            ).from_connect_data("a", schema, value)
        ok = converter(u, **{"basic.auth.credentials.source": "USER_INFO", "basic.auth.user.info": "connect:pw"})
        assert list(ok.to_connect_data("a", ok.from_connect_data("a", schema, value))[1].values) == [1]
        in_url = converter(u.replace("http://", "http://connect:pw@"))
        assert list(in_url.to_connect_data("a", in_url.from_connect_data("a", schema, value))[1].values) == [1]
