"""ProtobufConverter's ProtobufDataConfig options beyond the defaults, checked with Confluent's own Python client
(confluent-kafka's ProtobufSerializer / ProtobufDeserializer) against the worker's Schema Registry:
scrub.invalid.names (what we register and write, read by their deserializer), flatten.unions,
generate.struct.for.nulls and optional.for.proto2 (records their serializer wrote, read into Connect values as
Confluent's ProtobufData reads them), ignore.default.for.nullables (what we write)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from helpers.protobuf_client import converter, ctx, message_class, registered_class

from miniconnect.converters.protobuf_data import scrub_name
from miniconnect.data.schema import (
    INT64_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    DataError,
    Schema,
    Struct,
    Type,
)
from miniconnect.schema_registry import proto_text

TAG = "io.confluent.connect.protobuf.Tag"


def serialized(registry_url: str, text: str, name: str, topic: str, **fields: object) -> tuple[bytes, type]:
    """A record as Confluent's ProtobufSerializer writes it (its schema auto-registered), and its class."""
    fd, _ = proto_text.load(text, {})
    cls = message_class(fd, name)
    data = ProtobufSerializer(cls, SchemaRegistryClient({"url": registry_url}), {})(cls(**fields), ctx(topic))
    return data, cls


def test_scrub_name_as_confluents_do_scrub_name():
    # the cases of Confluent's ProtobufDataTest.testScrubName, and non-ASCII (URL-encoded UTF-8)
    for name, want in (
        ("", ""),
        ("abc_DEF_123", "abc_DEF_123"),
        ("abc+-.*_", "abc_2B____"),
        ("abc-def", "abc_def"),
        ("abc+def", "abc_2Bdef"),
        ("abc  def", "abc__def"),
        ("abc.def", "abc_def"),
        ("0abc.def", "x0abc_def"),
        ("_abc.def", "x_abc_def"),
        ("0abc", "x0abc"),
        ("_abc", "x_abc"),
        ("prix€", "prix_E2_82_AC"),
        ("a~b", "a_7Eb"),
    ):
        assert scrub_name(name) == want, name


def test_scrub_invalid_names_registers_valid_names_confluent_reads(registry_url):
    home = Schema.struct([("street name", STRING_SCHEMA)], name="acme.Home-Address", optional=True)
    schema = Schema.struct(
        [("1st", INT64_SCHEMA), ("first-name", OPTIONAL_STRING_SCHEMA), ("ok", OPTIONAL_INT64_SCHEMA), ("home", home)],
        name="com.acme-corp.Bad Name",
    )
    value = Struct(schema, [7, "Ann", None, Struct(home, ["Rue 1"])])
    with pytest.raises(DataError):  # not scrubbed: the registry refuses the .proto
        converter(registry_url).from_connect_data("unscrubbed", schema, value)
    ours = converter(registry_url, **{"scrub.invalid.names": "true"})
    data = ours.from_connect_data("scrubbed", schema, value)
    text = httpx.get(f"{registry_url}/subjects/scrubbed-value/versions/latest").json()["schema"]
    for line in (
        "package com.acme_corp;",
        "message Bad_Name {",
        "int64 x1st = 1;",
        "string first_name = 2;",
        "Home_Address home = 4;",
        "message Home_Address {",
        "string street_name = 1;",
    ):
        assert line in text.replace(".com.acme_corp.Bad_Name.", ""), line
    cls = registered_class(registry_url, "scrubbed-value", "Bad_Name")
    record = ProtobufDeserializer(cls, {}, schema_registry_client=SchemaRegistryClient({"url": registry_url}))(
        data, ctx("scrubbed")
    )
    assert (record.x1st, record.first_name, record.ok, record.home.street_name) == (7, "Ann", 0, "Rue 1")
    back_schema, back = ours.to_connect_data("scrubbed", data)
    assert [f.name for f in back_schema.fields] == ["x1st", "first_name", "ok", "home"]
    assert back.values[:3] == [7, "Ann", 0] and back.values[3].values == ["Rue 1"]
    # the scrubbed schema read back writes the same message
    assert ours.from_connect_data("scrubbed-copy", back_schema, back)[6:] == data[6:]


ORDER = """
syntax = "proto3";
package shop;
message Order {
  int64 id = 1;
  oneof pay { string card = 2; int64 voucher = 3; Gift gift = 5; }
  string note = 4;
  message Gift { string from = 1; }
}
"""


def test_flatten_unions_reads_oneof_members_as_fields(registry_url):
    data, cls = serialized(registry_url, ORDER, "Order", "flat", id=7, voucher=5, note="n")
    schema, value = converter(registry_url).to_connect_data("flat", data)
    assert [f.name for f in schema.fields] == ["pay_0", "id", "note"]
    flat = converter(registry_url, **{"flatten.unions": "true"})
    schema, value = flat.to_connect_data("flat", data)
    assert [f.name for f in schema.fields] == ["card", "voucher", "gift", "id", "note"]
    f = {x.name: x.schema for x in schema.fields}
    assert f["card"] == Schema(Type.STRING, optional=True, parameters={TAG: "2"})
    assert f["voucher"] == Schema(Type.INT64, optional=True, parameters={TAG: "3"})
    assert f["gift"].type is Type.STRUCT and f["gift"].optional and f["gift"].name == "Gift"
    assert value.values == [None, 5, None, 7, "n"]  # only the member set has a value
    client = SchemaRegistryClient({"url": registry_url})
    gift = cls(id=8)
    setattr(gift.gift, "from", "Bo")  # a message member of the oneof
    got = flat.to_connect_data("flat", ProtobufSerializer(cls, client, {})(gift, ctx("flat")))[1].values
    assert got[:2] == [None, None] and got[2].values == ["Bo"] and got[3:] == [8, ""]
    # written back from the flattened schema (as ProtobufData.fromConnectSchema does: members are plain fields
    # with their tags), Confluent's deserializer reads the same numbers
    again = flat.from_connect_data("flat-copy", schema, value)
    text = httpx.get(f"{registry_url}/subjects/flat-copy-value/versions/latest").json()["schema"]
    assert "oneof" not in text and "int64 voucher = 3;" in text
    back = ProtobufDeserializer(
        registered_class(registry_url, "flat-copy-value", "Order"), {}, schema_registry_client=client
    )(again, ctx("flat-copy"))
    assert (back.id, back.voucher, back.card, back.note) == (7, 5, "", "n")


NULLS = """
syntax = "proto3";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
message Row {
  int64 id = 1;
  Inner inner = 2;
  optional string note = 3;
  google.protobuf.Timestamp ts = 4;
  google.protobuf.Int64Value n = 5;
  message Inner { string a = 1; int32 b = 2; Deeper d = 3; }
  message Deeper { bool ok = 1; }
}
"""


def test_generate_struct_for_nulls_reads_unset_messages_as_defaults(registry_url):
    data, _ = serialized(registry_url, NULLS, "Row", "nulls", id=1)
    assert converter(registry_url).to_connect_data("nulls", data)[1].values == [1, None, None, None, None]
    gen = converter(registry_url, **{"generate.struct.for.nulls": "true"})
    schema, value = gen.to_connect_data("nulls", data)
    assert schema.field("inner").schema.optional and schema.field("note").schema.optional  # the schema is the same
    assert value.values[0] == 1 and value.values[2:4] == ["", dt.datetime(1970, 1, 1, tzinfo=dt.UTC)]
    assert value.values[4].values == [0]  # Int64Value as the message it is, without wrapper.for.nullables
    inner = value.values[1]
    assert inner.values[:2] == ["", 0] and inner.values[2].values == [False]
    wrapped = converter(registry_url, **{"generate.struct.for.nulls": "true", "wrapper.for.nullables": "true"})
    assert wrapped.to_connect_data("nulls", data)[1].values[4] == 0  # an unset wrapper: its default value
    # a set field reads as without the option
    data2, _ = serialized(registry_url, NULLS, "Row", "nulls", id=2, note="x", inner={"a": "y", "b": 3})
    assert gen.to_connect_data("nulls", data2)[1].values[1].values[:2] == ["y", 3]
    assert gen.to_connect_data("nulls", data2)[1].values[2] == "x"


PROTO2 = """
syntax = "proto2";
message Legacy {
  required int64 id = 1;
  optional int32 count = 2;
  optional string label = 3 [default = "none"];
}
"""


def test_optional_for_proto2(registry_url):
    data, _ = serialized(registry_url, PROTO2, "Legacy", "legacy", id=1)
    assert converter(registry_url).to_connect_data("legacy", data)[1].values == [
        1,
        None,
        None,
    ]  # unset: null (the default)
    old = converter(
        registry_url, **{"optional.for.proto2": "false"}
    )  # Confluent's earlier behaviour: the field defaults
    assert old.to_connect_data("legacy", data)[1].values == [1, 0, "none"]
    data2, _ = serialized(registry_url, PROTO2, "Legacy", "legacy", id=2, count=0, label="")
    assert converter(registry_url).to_connect_data("legacy", data2)[1].values == [2, 0, ""]  # set to the default: kept


def test_ignore_default_for_nullables(registry_url):
    noted = Schema(Type.STRING, optional=True, default="unknown")
    schema = Schema.struct([("id", INT64_SCHEMA), ("note", noted)], name="Noted")
    value = Struct(schema, [1, None])
    client = SchemaRegistryClient({"url": registry_url})
    for config, want in (({}, (True, "unknown")), ({"ignore.default.for.nullables": "true"}, (False, ""))):
        ours = converter(registry_url, **{"optional.for.nullables": "true", **config})
        data = ours.from_connect_data("noted", schema, value)
        cls = registered_class(registry_url, "noted-value", "Noted")
        record = ProtobufDeserializer(cls, {}, schema_registry_client=client)(data, ctx("noted"))
        assert (record.HasField("note"), record.note) == want


SUM = """
syntax = "proto3";
message Sum {
  Color color = 1;
  oneof pick { string word = 2; int64 number = 3; }
  enum Color { RED = 0; GREEN = 1; BLUE = 5; }
}
"""


def test_generalized_sum_type_support(registry_url):
    data, _ = serialized(registry_url, SUM, "Sum", "sum", color=5, number=9)
    schema, value = converter(registry_url, **{"generalized.sum.type.support": "true"}).to_connect_data("sum", data)
    f = {x.name: x.schema for x in schema.fields}
    assert f["color"].name == "Color" and f["color"].type is Type.STRING
    assert f["color"].parameters == {
        "org.apache.kafka.connect.data.Enum": "Color",
        "org.apache.kafka.connect.data.Enum.RED": "0",
        "org.apache.kafka.connect.data.Enum.GREEN": "1",
        "org.apache.kafka.connect.data.Enum.BLUE": "5",
        TAG: "1",
    }
    assert f["pick_0"].name == "pick" and f["pick_0"].parameters == {"org.apache.kafka.connect.data.Union": "pick"}
    assert value.values[0].values == [None, 9] and value.values[1] == "BLUE"
    # written back from these Connect names, Confluent's deserializer reads the same message
    ours = converter(registry_url, **{"generalized.sum.type.support": "true"})
    again = ours.from_connect_data("sum-copy", schema, value)
    text = httpx.get(f"{registry_url}/subjects/sum-copy-value/versions/latest").json()["schema"]
    assert "oneof pick {" in text and "BLUE = 5;" in text
    client = SchemaRegistryClient({"url": registry_url})
    back = ProtobufDeserializer(
        registered_class(registry_url, "sum-copy-value", "Sum"), {}, schema_registry_client=client
    )(again, ctx("sum-copy"))
    assert (back.color, back.number, back.WhichOneof("pick")) == (5, 9, "number")
    assert again[6:] == data[6:]
    # without the option, the same record has Confluent's own Protobuf names
    schema, _ = converter(registry_url).to_connect_data("sum", data)
    assert schema.field("pick_0").schema.name == "io.confluent.connect.protobuf.Union.pick"
    assert "io.confluent.connect.protobuf.Enum.BLUE" in schema.field("color").schema.parameters
