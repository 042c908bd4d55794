"""Record batches framed from a ValueColumn (transport/kafka/batches.py) are aiokafka's own bytes: the same split,
the same records, header and CRC-32C as the C builder its producer uses; compressed ones read back the same values."""

from __future__ import annotations

import pytest
from aiokafka.record import default_records
from aiokafka.record.memory_records import MemoryRecords

from miniconnect.data.value_column import ValueColumn
from miniconnect.transport.kafka.batches import PrebuiltBatch, record_sets

BUILDER = default_records.DefaultRecordBatchBuilder  # the C one (aiokafka's Python fallback splits at <=, not <)
NOW = 1_764_000_000_123


def aiokafka_batches(values: list[bytes], batch_size: int, state: tuple[int, int, int]) -> list[bytes]:
    """What aiokafka's producer builds from these values, appended one by one as KafkaProducer.send_batch does."""
    out, i = [], 0
    while i < len(values):
        b = BUILDER(2, 0, 0, state[0], state[1], state[2], batch_size)
        n = 0
        while i < len(values) and b.append(n, NOW, None, values[i], []) is not None:
            n, i = n + 1, i + 1
        out.append(bytes(b.build()))
    return out


def ours(values: ValueColumn, batch_size: int, state: tuple[int, int, int], compression: str | None = None) -> list:
    batches = []
    for s in record_sets(values, batch_size, compression, NOW):
        batch = PrebuiltBatch(s)
        batch._set_producer_state(*state)
        batches.append(batch)
    return batches


# lengths across the varint steps (zigzag: 64 and 8192 bytes), empty values, and counts whose offset deltas cross them
CASES = {
    "small": [b"v%d" % i for i in range(5)],
    "varint steps": [b"x" * n for n in (0, 1, 63, 64, 65, 8191, 8192, 8193, 70_000)] * 3,
    "many": [b"%d" % i * (i % 97) for i in range(9_000)],
    "one": [b"{}"],
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("batch_size", [1_000_000, 16_384, 200])
@pytest.mark.parametrize("state", [(-1, -1, 0), (4711, 3, 123_456)], ids=["plain", "idempotent"])
def test_same_bytes_as_aiokafka(case, batch_size, state):
    assert BUILDER is not default_records._DefaultRecordBatchBuilderPy
    values = CASES[case]
    reference = aiokafka_batches(values, batch_size, state)
    got = [bytes(b._build()) for b in ours(ValueColumn.from_list(values), batch_size, state)]
    assert [len(g) for g in got] == [len(r) for r in reference]
    assert got == reference


def test_a_slice_of_a_column_frames_only_its_values():
    values = [b"value-%d" % i for i in range(100)]
    got = [bytes(b._build()) for b in ours(ValueColumn.from_list(values)[30:70], 1_000_000, (-1, -1, 0))]
    assert got == aiokafka_batches(values[30:70], 1_000_000, (-1, -1, 0))
    assert ours(ValueColumn.from_list(values)[5:5], 1_000_000, (-1, -1, 0)) == []


def test_a_batch_built_again_gets_a_buffer_of_its_own():
    """A batch sent again (after an outage) frames the same records with another sequence; the first stays intact."""
    (s,) = record_sets(ValueColumn.from_list([b"a", b"b"]), 1_000_000, None, NOW)
    first, again = PrebuiltBatch(s), PrebuiltBatch(s)
    first._set_producer_state(1, 0, 0)
    again._set_producer_state(1, 0, 2)
    a, b = bytes(first._build()), bytes(again._build())
    assert a != b and bytes(first._build()) == a
    assert a == aiokafka_batches([b"a", b"b"], 1_000_000, (1, 0, 0))[0]


@pytest.mark.parametrize("compression", ["gzip", "snappy", "lz4", "zstd"])
def test_compressed_batches_read_back_the_values(compression):
    values = [b'{"schema":{"type":"struct"},"payload":{"id":%d,"name":"name-%d"}}' % (i, i) for i in range(5_000)]
    batches = ours(ValueColumn.from_list(values), 16_384, (7, 1, 10), compression)
    assert len(batches) > 1
    got, sequence = [], 10
    for b in batches:
        b._set_producer_state(7, 1, sequence)  # what aiokafka's accumulator does as it drains each batch
        records = MemoryRecords(bytes(b._build()))
        batch = records.next_batch()
        assert batch.compression_type != 0  # these values compress well
        assert batch.validate_crc()
        assert (batch.producer_id, batch.producer_epoch, batch.base_sequence) == (7, 1, sequence)
        sequence += b.record_count()
        rows = list(batch)
        assert [r.offset for r in rows] == list(range(len(rows)))
        assert all(r.key is None and not r.headers and r.timestamp == NOW for r in rows)
        got += [r.value for r in rows]
        assert records.next_batch() is None
    assert got == values
