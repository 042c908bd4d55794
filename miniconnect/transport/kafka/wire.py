"""ProduceRequest v3-v8 encoded with one join instead of one per nesting level, and framed with the same join.

aiokafka encodes a request through nested Schema/Array/Bytes encoders, each of which joins its children's bytes, so
every record batch (up to ~1 MB with our batch.size) was copied six times before the connection added its header:
about 8% of a JDBC source worker's CPU. This encoder writes the same bytes (tests compare it with aiokafka's own)
and copies each batch once. It replaces `encode` only on the request classes whose schema is exactly the one it
knows, so another aiokafka version falls back to its own encoder.

The connection then copied each request twice more (`header.encode() + request.encode()`, then the size in front):
`send_produce` writes the size, header and request parts with the one join, on the event loop where every copy of a
megabyte batch (into freshly mapped pages) counts.
"""

from __future__ import annotations

import struct
from typing import Any

from aiokafka import conn
from aiokafka import errors as kerrors
from aiokafka.protocol import produce
from aiokafka.protocol.types import Array, Bytes, Int16, Int32, Schema, String
from aiokafka.util import wait_for

_i16 = struct.Struct(">h").pack
_i32 = struct.Struct(">i").pack


def encode_produce_request(self: Any) -> bytes:
    return b"".join(produce_request_parts(self))


def produce_request_parts(self: Any) -> list[Any]:
    """The request's bytes in order: small fields, and each partition's record batch as it is (not copied)."""
    tid = self.transactional_id
    if tid is None:
        parts = [_i16(-1)]
    else:
        raw = str(tid).encode()
        parts = [_i16(len(raw)), raw]
    topics = self.topics
    parts += (_i16(self.required_acks), _i32(self.timeout), _i32(len(topics)))
    append = parts.append
    for topic, partitions in topics:
        name = str(topic).encode()
        append(_i16(len(name)))
        append(name)
        append(_i32(len(partitions)))
        for partition, records in partitions:
            append(_i32(partition))
            if records is None:
                append(_i32(-1))
            else:
                append(_i32(len(records)))
                append(records)
    return parts


def _is_known_schema(schema: Any) -> bool:
    """("transactional_id" String, "required_acks" Int16, "timeout" Int32,
    "topics" [("topic" String, "partitions" [("partition" Int32, "messages" Bytes)])])"""
    try:
        if not isinstance(schema, Schema) or tuple(schema.names) != (
            "transactional_id",
            "required_acks",
            "timeout",
            "topics",
        ):
            return False
        tid, acks, timeout, topics = schema.fields
        topic = topics.array_of
        partitions = topic.fields[1].array_of
        return (
            isinstance(tid, String)
            and tid.encoding == "utf-8"
            and acks is Int16
            and timeout is Int32
            and isinstance(topics, Array)
            and tuple(topic.names) == ("topic", "partitions")
            and isinstance(topic.fields[0], String)
            and topic.fields[0].encoding == "utf-8"
            and isinstance(topic.fields[1], Array)
            and tuple(partitions.names) == ("partition", "messages")
            and partitions.fields[0] is Int32
            and partitions.fields[1] is Bytes
        )
    except (AttributeError, TypeError, ValueError, IndexError):
        return False


_SEND_NAMES = {"prepare", "build_request_header", "_next_correlation_id", "_requests", "_writer", "_request_timeout"}
_original_send: Any = None


def send_produce(self: Any, request: Any, expect_response: bool = True) -> Any:
    """AIOKafkaConnection.send, the request framed with one copy of its batches when it is a ProduceRequest
    awaiting a response (the same steps as aiokafka's send otherwise)."""
    if not expect_response or not isinstance(request, produce.ProduceRequest) or self._writer is None:
        return _original_send(self, request, expect_response)
    request_struct = request.prepare(self._versions)
    if type(request_struct).__dict__.get("encode") is not encode_produce_request:
        return _original_send(self, request, expect_response)
    correlation_id = self._next_correlation_id()
    header = request_struct.build_request_header(correlation_id=correlation_id, client_id=self._client_id).encode()
    parts = produce_request_parts(request_struct)
    try:
        self._writer.write(b"".join([_i32(len(header) + sum(map(len, parts))), header, *parts]))
    except OSError as err:
        self.close(reason=conn.CloseReason.CONNECTION_BROKEN)
        raise kerrors.KafkaConnectionError(f"Connection at {self._host}:{self._port} broken: {err}") from err
    fut = self._loop.create_future()
    self._requests.append((correlation_id, request_struct, fut))
    return wait_for(fut, self._request_timeout)


def install_send() -> bool:
    """Makes aiokafka's connections frame produce requests with send_produce, if its send is the one known."""
    global _original_send
    current = conn.AIOKafkaConnection.send
    if current is send_produce:
        return True
    if not _SEND_NAMES <= set(current.__code__.co_names) or not hasattr(conn, "CloseReason"):
        return False
    _original_send = current
    conn.AIOKafkaConnection.send = send_produce  # type: ignore[method-assign]
    return True


def install() -> list[type]:
    """Replaces `encode` on the ProduceRequest versions with the known schema; returns the classes changed."""
    changed = []
    for version in range(3, 9):
        cls = getattr(produce, f"ProduceRequest_v{version}", None)
        if (
            cls is not None
            and cls.__dict__.get("encode") is not encode_produce_request
            and _is_known_schema(getattr(cls, "SCHEMA", None))
        ):
            cls.encode = encode_produce_request
            changed.append(cls)
    return changed
