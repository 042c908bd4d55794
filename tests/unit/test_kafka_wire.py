"""The one-join ProduceRequest encoder writes exactly aiokafka's bytes."""

import pytest
from aiokafka.protocol import produce

from miniconnect.transport import kafka  # noqa: F401  (installs the encoder)
from miniconnect.transport.kafka.wire import _is_known_schema, encode_produce_request, install

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
