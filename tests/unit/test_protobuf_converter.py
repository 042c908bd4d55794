"""ProtobufConverter against the worker's Schema Registry, checked with Confluent's own Python client
(confluent-kafka's ProtobufSerializer / ProtobufDeserializer, python `protobuf` underneath, schemas registered as
base64 FileDescriptorProtos and read back with `?format=serialized`): what we write they read into the same data and
re-encode to the same bytes; what they write we read into the Connect values ProtobufData gives; nulls with and
without `optional.for.nullables`, evolved schemas, the registry's Protobuf compatibility rules and references,
caching, bad input."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid

import httpx
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from google.protobuf import descriptor_pb2
from helpers.every_type import COLLECTIONS, SCALARS, collection_values, plain, scalar_values
from helpers.protobuf_client import converter, ctx, message_class, registered_class

from miniconnect.converters.protobuf import ProtobufConverter
from miniconnect.data.schema import (
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    DataError,
    Schema,
    Struct,
    Type,
    timestamp_schema,
)
from miniconnect.plugins import Plugins
from miniconnect.schema_registry import proto_text

UTC = dt.UTC
TAG = "io.confluent.connect.protobuf.Tag"
ALL = Schema.struct(
    [
        *SCALARS,
        ("opt_i", OPTIONAL_INT64_SCHEMA),
        ("opt_ts", timestamp_schema(optional=True)),
        *COLLECTIONS,
    ],
    name="com.acme.Everything",
)


def everything(i: int, nulls: bool = False) -> Struct:
    return Struct(
        ALL,
        [
            *scalar_values(i, nulls),
            None if nulls else -7,
            None if nulls else dt.datetime(2000, 1, 1, tzinfo=UTC),
            *collection_values(nulls),
        ],
    )


def test_registered_as_a_converter_plugin():
    plugins = Plugins({})
    assert plugins.resolve_converter("io.confluent.connect.protobuf.ProtobufConverter") is ProtobufConverter
    assert plugins.resolve_converter("ProtobufConverter") is ProtobufConverter
    listed = [{k: v for k, v in i.items() if k != "version"} for i in plugins.plugin_infos(connectors_only=False)]
    assert {"class": "io.confluent.connect.protobuf.ProtobufConverter", "type": "converter"} in listed
    keys = [k["name"] for k in plugins.plugin_config("ProtobufConverter")]
    assert "schema.registry.url" in keys and "optional.for.nullables" in keys


def test_every_connect_type_read_by_confluents_deserializer_and_written_back_byte_for_byte(registry_url):
    ours = converter(registry_url)
    client = SchemaRegistryClient({"url": registry_url})
    cls = None
    for i, nulls in ((0, False), (1, True)):
        value = everything(i, nulls)
        data = ours.from_connect_data("everything", ALL, value)
        assert data[:1] == b"\x00" and data[5:6] == b"\x00"  # magic, id, the message-index list [0]
        cls = cls or registered_class(registry_url, "everything-value", "Everything")
        record = ProtobufDeserializer(cls, {}, schema_registry_client=client)(data, ctx("everything"))
        assert (record.i8, record.i16, record.i32, record.i64) == tuple(value.values[:4])
        assert (record.f32, record.f64, record.b) == (1.5, -1.7976931348623157e308, not nulls)
        assert record.s == value.values[7] and record.by == value.values[8]
        assert (record.dec.value, record.dec.scale) == ((-123456 + 1000 * i).to_bytes(3, "big", signed=True), 3)
        assert (record.d.year, record.d.month, record.d.day) == ((1969, 12, 31) if nulls else (9999, 12, 31))
        assert (record.t.hours, record.t.minutes, record.t.seconds, record.t.nanos) == (23, 59, 59, 999000000)
        assert (record.ts.seconds, record.ts.nanos) == ((-1, 999000000) if nulls else (1700000000, 123000000))
        assert record.HasField("opt_ts") is not nulls and record.HasField("home") is not nulls
        assert [(e.key, e.value) for e in record.m] == list(value.values[19].items())
        assert [(e.key, e.value) for e in record.m_int_keys] == list(value.values[20].items())
        assert [(a.city, a.zip) for a in record.arr_structs] == ([] if nulls else [("Zürich", "8001")] * 2)
        # Confluent's serializer, given the schema we registered, writes exactly our bytes
        serializer = ProtobufSerializer(cls, client, {"auto.register.schemas": False, "use.latest.version": True})
        assert serializer(record, ctx("everything")) == data
        # and we read our bytes back: equal values, except that proto3 has no null for a scalar (read as its
        # default, as Confluent's converter reads it) and an unset message is null
        schema, back = ours.to_connect_data("everything", data)
        want = plain(value)
        if nulls:
            want[14], want[15] = "", 0  # type: ignore[index]
        assert plain(back) == want
        assert schema.version == 1 and schema.name == "Everything"


def test_schema_is_protobuf_data_mapping(registry_url):
    data = converter(registry_url).from_connect_data("mapping", ALL, everything(0))
    schema_id = int.from_bytes(data[1:5], "big")
    found = httpx.get(f"{registry_url}/schemas/ids/{schema_id}").json()
    assert found["schemaType"] == "PROTOBUF"
    text = found["schema"]
    assert 'syntax = "proto3";' in text and "package com.acme;" in text and "message Everything {" in text
    for line in (
        'import "confluent/type/decimal.proto";',
        'import "google/type/date.proto";',
        'import "google/type/timeofday.proto";',
        'import "google/protobuf/timestamp.proto";',
        'int32 i8 = 1 [(confluent.field_meta) = { params: [{ key: "connect.type", value: "int8" }] }];',
        'int32 i16 = 2 [(confluent.field_meta) = { params: [{ key: "connect.type", value: "int16" }] }];',
        "int64 i64 = 4;",
        "float f32 = 5;",
        "double f64 = 6;",
        "bytes by = 9;",
        '.confluent.type.Decimal dec = 10 [(confluent.field_meta) = { params: [{ key: "scale", value: "3" }] }];',
        ".google.type.Date d = 12;",
        ".google.type.TimeOfDay t = 13;",
        ".google.protobuf.Timestamp ts = 14;",
        "string opt = 15;",  # nullable: a plain proto3 field by default
        "repeated string arr = 18;",
        "repeated .com.acme.Everything.Address arr_structs = 19;",
        "repeated .com.acme.Everything.ConnectDefault1Entry m = 20;",
        "repeated .com.acme.Everything.ConnectDefault2Entry m_int_keys = 21;",
        "message ConnectDefault2Entry {",
        "int32 key = 1;",
    ):
        assert line in text, line
    assert '{ key: "precision", value: "10" }' in text
    # the schema read back as ProtobufData reads it: optional fields tagged with their numbers
    schema, _ = converter(registry_url).to_connect_data("mapping", data)
    f = {x.name: x.schema for x in schema.fields}
    assert f["i8"] == Schema(Type.INT8, optional=True, parameters={TAG: "1"})
    assert f["dec_p"].parameters == {"scale": "2", "connect.decimal.precision": "10", TAG: "11"}
    assert f["ts"].name == "org.apache.kafka.connect.data.Timestamp" and f["ts"].optional
    assert f["m"].type is Type.MAP and f["m"].name == "connect_default1"
    assert f["arr_structs"].value_schema.name == "Address"


def test_records_written_by_confluents_serializer_read_into_connect_values(registry_url):
    text = """
    syntax = "proto3";
    package shop;
    import "google/protobuf/timestamp.proto";
    import "google/type/date.proto";
    import "confluent/type/decimal.proto";
    message Order {
      int64 id = 1;
      State state = 2;
      sint64 delta = 3;
      uint32 count = 4;
      fixed64 big = 5;
      optional string note = 6;
      map<string, string> tags = 7;
      repeated Line lines = 8;
      google.protobuf.Timestamp when = 9;
      google.type.Date day = 10;
      confluent.type.Decimal amount = 11;
      oneof pay { string card = 12; int64 voucher = 13; }
      enum State { NEW = 0; PAID = 1; }
      message Line { string sku = 1; int32 qty = 2; }
    }
    """
    fd, _ = proto_text.load(text, {})
    order_cls = message_class(fd, "Order")
    client = SchemaRegistryClient({"url": registry_url})
    order = order_cls(id=7, state=1, delta=-3, count=4000000000, big=2**64 - 1, note="ünïcode ✓", voucher=5)
    order.tags["gift"] = "yes"
    order.lines.add(sku="A-1", qty=2)
    order.lines.add(sku="B-2", qty=1)
    order.when.FromDatetime(dt.datetime(2024, 2, 29, 12, 0, 0, 5000, tzinfo=UTC))
    order.day.year, order.day.month, order.day.day = 2024, 2, 29
    order.amount.value, order.amount.precision, order.amount.scale = (1999).to_bytes(2, "big"), 4, 2
    data = ProtobufSerializer(order_cls, client, {})(order, ctx("orders"))
    schema, value = converter(registry_url).to_connect_data("orders", data)
    assert schema.name == "Order" and schema.version == 1
    assert [f.name for f in schema.fields] == [
        "pay_0", "id", "state", "delta", "count", "big", "note", "tags", "lines", "when", "day", "amount",
    ]  # fmt: skip
    f = {x.name: x.schema for x in schema.fields}
    assert f["pay_0"].name == "io.confluent.connect.protobuf.Union.pay" and f["pay_0"].optional
    assert f["state"].type is Type.STRING and f["state"].parameters["io.confluent.connect.protobuf.Enum.PAID"] == "1"
    assert f["delta"].parameters["io.confluent.connect.protobuf.Type"] == "sint64"
    assert f["count"].type is Type.INT64 and f["tags"].type is Type.MAP
    v = dict(zip([x.name for x in schema.fields], value.values, strict=True))
    assert v["pay_0"].values == [None, 5]
    assert (v["id"], v["state"], v["delta"], v["count"], v["big"]) == (7, "PAID", -3, 4000000000, 2**64 - 1)
    assert v["note"] == "ünïcode ✓" and v["tags"] == {"gift": "yes"}
    assert [line.values for line in v["lines"]] == [["A-1", 2], ["B-2", 1]]
    assert v["when"] == dt.datetime(2024, 2, 29, 12, 0, 0, 5000, tzinfo=UTC)
    assert v["day"] == dt.date(2024, 2, 29) and v["amount"] == decimal.Decimal("19.99")
    # written back by us with the schema read: Confluent's deserializer reads the same order from our bytes
    again = converter(registry_url).from_connect_data("orders-copy", schema, value)
    back = ProtobufDeserializer(order_cls, {}, schema_registry_client=client)(again, ctx("orders-copy"))
    assert back == order


def test_optional_for_nullables_keeps_nulls(registry_url):
    ours = converter(registry_url, **{"optional.for.nullables": "true"})
    data = ours.from_connect_data("nullable", ALL, everything(1, nulls=True))
    text = httpx.get(f"{registry_url}/subjects/nullable-value/versions/latest").json()["schema"]
    assert "optional string opt = 15;" in text and "optional int64 opt_i = 16;" in text
    _, back = ours.to_connect_data("nullable", data)
    assert plain(back) == plain(everything(1, nulls=True))
    cls = registered_class(registry_url, "nullable-value", "Everything")
    record = ProtobufDeserializer(cls, {}, schema_registry_client=SchemaRegistryClient({"url": registry_url}))(
        data, ctx("nullable")
    )
    assert not record.HasField("opt") and not record.HasField("opt_i")


def test_wrapper_for_nullables(registry_url):
    ours = converter(registry_url, **{"wrapper.for.nullables": "true"})
    schema = Schema.struct([("id", INT64_SCHEMA), ("note", OPTIONAL_STRING_SCHEMA), ("n", OPTIONAL_INT64_SCHEMA)])
    data = [ours.from_connect_data("wrapped", schema, Struct(schema, v)) for v in ([1, "x", 5], [2, None, None])]
    text = httpx.get(f"{registry_url}/subjects/wrapped-value/versions/latest").json()["schema"]
    assert ".google.protobuf.StringValue note = 2;" in text and ".google.protobuf.Int64Value n = 3;" in text
    assert [ours.to_connect_data("wrapped", d)[1].values for d in data] == [[1, "x", 5], [2, None, None]]


def test_evolved_schemas_both_ways(registry_url):
    client = SchemaRegistryClient({"url": registry_url})
    v1 = 'syntax = "proto3"; message User { int64 id = 1; string old = 2; }'
    v2 = 'syntax = "proto3"; message User { int64 id = 1; string old = 2; string email = 3; }'
    c1, c2 = (message_class(proto_text.load(t, {})[0], "User") for t in (v1, v2))
    datas = [
        ProtobufSerializer(c1, client, {})(c1(id=1, old="a"), ctx("users")),
        ProtobufSerializer(c2, client, {})(c2(id=2, old="b", email="b@x"), ctx("users")),
    ]
    ours = converter(registry_url)
    read = [ours.to_connect_data("users", d) for d in datas]
    assert [s.version for s, _ in read] == [1, 2]
    assert [[f.name for f in s.fields] for s, _ in read] == [["id", "old"], ["id", "old", "email"]]
    assert [v.values for _, v in read] == [[1, "a"], [2, "b", "b@x"]]
    # our side evolves a Connect schema: a field added registers version 2, a field's type changed is refused
    base = Schema.struct([("id", INT64_SCHEMA)], name="Acct")
    added = Schema.struct([("id", INT64_SCHEMA), ("note", OPTIONAL_STRING_SCHEMA)], name="Acct")
    changed = Schema.struct([("id", STRING_SCHEMA), ("note", OPTIONAL_STRING_SCHEMA)], name="Acct")
    ours.from_connect_data("accts", base, Struct(base, [1]))
    data = ours.from_connect_data("accts", added, Struct(added, [2, "n"]))
    assert client.get_latest_version("accts-value").version == 2
    cls = registered_class(registry_url, "accts-value", "Acct")
    record = ProtobufDeserializer(cls, {}, schema_registry_client=client)(data, ctx("accts"))
    assert (record.id, record.note) == (2, "n")
    with pytest.raises(DataError, match=r"FIELD_SCALAR_KIND_CHANGED.*error code: 409"):
        ours.from_connect_data("accts", changed, Struct(changed, ["3", "m"]))


def test_registry_protobuf_compatibility_rules(registry_url):
    def check(old: str, new: str) -> list[str]:
        subject = f"compat-{uuid.uuid4().hex[:8]}"
        r = httpx.post(f"{registry_url}/subjects/{subject}/versions", json={"schema": old, "schemaType": "PROTOBUF"})
        assert r.status_code == 200, r.text
        r = httpx.post(
            f"{registry_url}/compatibility/subjects/{subject}/versions/latest",
            params={"verbose": "true"},
            json={"schema": new, "schemaType": "PROTOBUF"},
        )
        return r.json()["messages"]

    base = 'syntax = "proto3"; package p; message M { int64 a = 1; string b = 2; repeated int32 c = 3; }'
    assert check(base, base.replace("string b = 2;", "")) == []  # removed: compatible, as in Confluent's rules
    assert check(base, base.replace("string b = 2;", "string b = 4;")) == []  # renumbered: removed + added
    assert check(base, base.replace("int64 a", "int32 a")) == []  # same varint encoding
    assert any("FIELD_SCALAR_KIND_CHANGED" in m for m in check(base, base.replace("int64 a", "string a")))
    assert any("FIELD_NUMERIC_LABEL_CHANGED" in m for m in check(base, base.replace("repeated int32", "int32")))
    assert any("PACKAGE_CHANGED" in m for m in check(base, base.replace("package p;", "package q;")))
    assert any("MESSAGE_REMOVED" in m for m in check(base, base.replace("message M", "message N")))
    assert httpx.get(f"{registry_url}/schemas/types").json() == ["JSON", "PROTOBUF", "AVRO"]
    bad = httpx.post(f"{registry_url}/subjects/broken/versions", json={"schema": "message {", "schemaType": "PROTOBUF"})
    assert bad.status_code == 422 and bad.json()["error_code"] == 42201


def test_field_meta_params_have_one_canonical_order(registry_url):
    """A field's confluent.field_meta params are a map: its canonical text lists them sorted, whatever the order
    written and whether protobuf's pool knows the extension (confluent_kafka's meta_pb2 registers it, and then kept
    them in an order that changed from one parse to the next: a lookup of a schema by its own text failed)."""
    from confluent_kafka.schema_registry.confluent import meta_pb2  # noqa: F401 (registers confluent.field_meta)

    def schema(keys: list[str]) -> str:
        params = ", ".join(f'{{ key: "{k}", value: "{k}-value" }}' for k in keys)
        return (
            'syntax = "proto3"; package p; import "confluent/meta.proto"; '
            f"message M {{ int32 f = 1 [(confluent.field_meta) = {{ params: [{params}] }}]; }}"
        )

    keys = [f"k{i}" for i in range(8)]
    subject = f"meta-order-{uuid.uuid4().hex[:8]}"
    r = httpx.post(
        f"{registry_url}/subjects/{subject}/versions", json={"schema": schema(keys[::-1]), "schemaType": "PROTOBUF"}
    )
    assert r.status_code == 200, r.text
    stored = httpx.get(f"{registry_url}/schemas/ids/{r.json()['id']}").json()["schema"]
    assert [stored.index(f'"{k}"') for k in keys] == sorted(stored.index(f'"{k}"') for k in keys)
    for text in (stored, schema(keys), schema(keys[::-1]), stored):
        found = httpx.post(f"{registry_url}/subjects/{subject}", json={"schema": text, "schemaType": "PROTOBUF"})
        assert (found.status_code, found.json().get("version")) == (200, 1), found.text


def test_references_and_serialized_format(registry_url):
    common = 'syntax = "proto3"; package common; message Money { string currency = 1; int64 cents = 2; }'
    r = httpx.post(f"{registry_url}/subjects/common.proto/versions", json={"schema": common, "schemaType": "PROTOBUF"})
    assert r.status_code == 200, r.text
    text = (
        'syntax = "proto3"; package shop; import "common.proto"; import "google/protobuf/timestamp.proto"; '
        "message Invoice { common.Money total = 1; google.protobuf.Timestamp at = 2; }"
    )
    body = {
        "schema": text,
        "schemaType": "PROTOBUF",
        "references": [{"name": "common.proto", "subject": "common.proto", "version": 1}],
    }
    r = httpx.post(f"{registry_url}/subjects/invoices-value/versions", json=body)
    assert r.status_code == 200, r.text
    without = httpx.post(f"{registry_url}/subjects/other/versions", json={"schema": text, "schemaType": "PROTOBUF"})
    assert without.status_code == 422 and "common.proto" in without.json()["message"]
    # ?format=serialized: the FileDescriptorProto, as Confluent's Python deserializer asks for it
    found = httpx.get(f"{registry_url}/schemas/ids/{r.json()['id']}", params={"format": "serialized"}).json()
    fd = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(found["schema"]))
    assert list(fd.dependency) == ["common.proto", "google/protobuf/timestamp.proto"]
    assert fd.message_type[0].field[0].type_name == ".common.Money"
    # Confluent's serializer writes with the reference resolved, and our converter reads it
    money = proto_text.load(common, {})[0]
    money.name = "common.proto"
    invoice_cls = message_class(fd, "Invoice", [money])
    invoice = invoice_cls()
    invoice.total.currency, invoice.total.cents = "EUR", 1250
    invoice.at.seconds = 86400
    client = SchemaRegistryClient({"url": registry_url})
    data = ProtobufSerializer(invoice_cls, client, {"auto.register.schemas": False, "use.latest.version": True})(
        invoice, ctx("invoices")
    )
    _, value = converter(registry_url).to_connect_data("invoices", data)
    assert value.values[0].values == ["EUR", 1250] and value.values[1] == dt.datetime(1970, 1, 2, tzinfo=UTC)


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


def test_keys_with_primitive_schemas_are_wrapper_messages(registry_url):
    keys = converter(registry_url, is_key=True)
    data = keys.from_connect_data("k", STRING_SCHEMA, "key-1")
    text = httpx.get(f"{registry_url}/subjects/k-key/versions/latest").json()["schema"]
    assert "package google.protobuf;" in text and "message StringValue {" in text
    assert data[5:7] == b"\x02\x0e"  # the message-index list [7]: StringValue is wrappers.proto's 8th message
    assert keys.to_connect_data("k", data) == (Schema(Type.STRING, version=1), "key-1")
    assert keys.from_connect_data("k", None, None) is None and keys.to_connect_data("k", None) == (None, None)


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
    with pytest.raises(DataError, match="corrupt message-index list"):
        ours.to_connect_data("bad", good[:5] + b"\x01" + good[6:])  # count -1
    with pytest.raises(DataError, match="corrupt message-index list"):
        ours.to_connect_data("bad", good[:5] + b"\xff\xff")  # a varint cut short
    with pytest.raises(DataError, match="message index .* does not exist"):
        ours.to_connect_data("bad", good[:5] + b"\x02\x06" + good[6:])  # [3]: no such message
    with pytest.raises(DataError, match="do not match schema id"):
        ours.to_connect_data("bad", good[:-1])  # cut inside the string
    with pytest.raises(DataError, match="does not fit the schema"):
        ours.from_connect_data("bad", schema, Struct(schema, ["not an int", "x"]))
    with pytest.raises(DataError, match="Unknown magic byte"):
        ours.to_connect_batch("bad", [good, b"\x07" + good[1:]])
    avro = httpx.post(f"{registry_url}/subjects/avro-one/versions", json={"schema": '"string"'}).json()["id"]
    with pytest.raises(DataError, match="not Protobuf"):
        ours.to_connect_data("bad", b"\x00" + avro.to_bytes(4, "big") + b"\x00")
