"""Confluent's Python client side of the Protobuf tests: our converter configured against a registry URL, and the
message classes confluent-kafka's ProtobufSerializer / ProtobufDeserializer are given (a registered schema's file in a
pool of its own, with the well-known files it imports taken from the python packages that ship them)."""

from __future__ import annotations

import base64
import importlib
import uuid

import httpx
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from miniconnect.converters.protobuf import ProtobufConverter


def converter(url: str, is_key: bool = False, **config: object) -> ProtobufConverter:
    c = ProtobufConverter()
    c.configure({"schema.registry.url": url, **config}, is_key)
    return c


def ctx(topic: str, key: bool = False) -> SerializationContext:
    return SerializationContext(topic, MessageField.KEY if key else MessageField.VALUE)


_MODULES = {
    "google/type/date.proto": "google.type.date_pb2",
    "google/type/timeofday.proto": "google.type.timeofday_pb2",
    "confluent/meta.proto": "confluent_kafka.schema_registry.confluent.meta_pb2",
    "confluent/type/decimal.proto": "confluent_kafka.schema_registry.confluent.type.decimal_pb2",
}


def _add_well_known(pool: descriptor_pool.DescriptorPool, name: str, added: set[str]) -> None:
    """Adds a well-known file as the python packages of Confluent's client side ship it (its imports first)."""
    if name in added:
        return
    module_name = _MODULES.get(name) or "google.protobuf." + name.rsplit("/", 1)[-1].replace(".proto", "_pb2")
    module = importlib.import_module(module_name)
    for dep in module.DESCRIPTOR.dependencies:
        _add_well_known(pool, dep.name, added)
    pool.AddSerializedFile(module.DESCRIPTOR.serialized_pb)
    added.add(name)


def message_class(fd: descriptor_pb2.FileDescriptorProto, name: str, extra=()):
    """A message class of Confluent's client side: the file in a pool of its own, with the well-known files it
    imports (from the python packages) and `extra` files (already in dependency order)."""
    fd.name = f"test_{uuid.uuid4().hex[:12]}.proto"
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()
    for other in extra:
        pool.Add(other)
        added.add(other.name)
    for dep in fd.dependency:
        _add_well_known(pool, dep, added)
    pool.Add(fd)
    prefix = f"{fd.package}." if fd.package else ""
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(prefix + name))


def registered_class(url: str, subject: str, name: str):
    found = httpx.get(f"{url}/subjects/{subject}/versions/latest", params={"format": "serialized"}).json()
    return message_class(descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(found["schema"])), name)
