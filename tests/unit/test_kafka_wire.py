"""The one-join ProduceRequest encoder writes exactly aiokafka's bytes."""

import pytest
from aiokafka.protocol import produce

from miniconnect.transport.kafka import patches
from miniconnect.transport.kafka.wire import _is_known_schema, encode_produce_request, install

patches.install()  # what a Kafka client's start() does

VERSIONS = [getattr(produce, f"ProduceRequest_v{v}") for v in range(3, 9) if hasattr(produce, f"ProduceRequest_v{v}")]


def test_installed_on_every_known_produce_request_version():
    assert len(VERSIONS) >= 5
    assert all(cls.encode is encode_produce_request for cls in VERSIONS)
    assert install() == []  # idempotent
    assert not _is_known_schema(produce.ProduceRequest_v0.SCHEMA)  # older layouts keep aiokafka's encoder
    assert produce.ProduceRequest_v0.encode is not encode_produce_request


@pytest.mark.parametrize("cls", VERSIONS)
@pytest.mark.parametrize(
    "tid, topics",
    [
        (None, []),
        (None, [("orders", [(0, b"\x00\x01batch")])]),
        ("tx-é", [("a", [(0, b"x" * 70000), (3, bytearray(b"yy")), (7, memoryview(b"zzz"))]), ("bé", [(1, b"")])]),
        (None, [("t", [(2, None)])]),
    ],
)
def test_same_bytes_as_aiokafka(cls, tid, topics):
    request = cls(transactional_id=tid, required_acks=-1, timeout=30000, topics=topics)
    reference = cls.SCHEMA.encode([request.__dict__[name] for name in cls.SCHEMA.names])  # aiokafka's Struct.encode
    assert request.encode() == reference


class _Writer:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))


async def _framed(send, request) -> bytes:
    from aiokafka.conn import AIOKafkaConnection

    c = AIOKafkaConnection("localhost", 9092, client_id="mini-é")
    c._writer = _Writer()
    c._versions = {0: (3, 8)}  # ProduceRequest up to v8
    c._correlation_id = 41
    pending = send(c, request)
    pending.close()  # the response is not awaited here
    return b"".join(c._writer.written)


@pytest.mark.parametrize(
    "tid, topics",
    [(None, [("orders", [(0, b"\x00\x01batch" * 1000)])]), ("tx", [("a", [(1, bytearray(b"yy")), (2, b"z")])])],
)
async def test_produce_frames_are_the_bytes_aiokafka_writes(tid, topics):
    from aiokafka.conn import AIOKafkaConnection

    from miniconnect.transport.kafka import wire

    assert AIOKafkaConnection.send is wire.send_produce
    request = produce.ProduceRequest(transactional_id=tid, required_acks=-1, timeout=30000, topics=topics)
    assert await _framed(wire.send_produce, request) == await _framed(wire._original_send, request)
