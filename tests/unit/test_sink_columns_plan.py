"""sink_columns.ColumnConverter over several RecordBatches: the columns are those of the batches joined in order,
keyed and keyless batches and empty ones mixed, one ColumnBatch per topic."""

from miniconnect.converters.json import JsonConverter
from miniconnect.converters.string import StringConverter
from miniconnect.runtime.runner import no_keys
from miniconnect.runtime.sink_columns import ColumnConverter
from miniconnect.transport.base import RecordBatch

SCHEMA = b'{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"n"}],"optional":false},'


def _batch(topic: str, partition: int, first: int, n: int, keyed: bool) -> RecordBatch:
    offsets = list(range(first, first + n))
    return RecordBatch(
        topic,
        partition,
        offsets,
        [1_000 + o for o in offsets],
        [b"k%d" % o if keyed and o % 2 else None for o in offsets],
        [SCHEMA + b'"payload":{"n":%d}}' % o for o in offsets],
        [() for _ in offsets],
        "CreateTime",
    )


def test_the_columns_of_a_put_are_its_batches_joined_in_order_per_topic():
    raw = [
        _batch("a", 0, 0, 3, keyed=False),
        RecordBatch("a", 2, [], [], [], [], [], ""),
        _batch("b", 0, 10, 2, keyed=False),
        _batch("a", 1, 5, 4, keyed=True),
    ]
    columns = ColumnConverter(StringConverter(), JsonConverter())
    units = columns.plan(raw)
    assert units is not None
    a, b = columns.read(units) or []
    assert a.topic == "a" and a.partitions == [0] * 3 + [1] * 4 and a.offsets == [0, 1, 2, 5, 6, 7, 8]
    assert a.timestamps == [1_000 + o for o in a.offsets]
    assert a.values.column("n").to_pylist() == a.offsets
    assert a.keys.column("k").to_pylist() == [None, None, None, "k5", None, "k7", None]
    assert b.topic == "b" and b.offsets == [10, 11] and b.partitions == [0, 0] and b.keys is None
    assert b.values.column("n").to_pylist() == [10, 11]


def test_a_batch_is_keyless_only_when_every_key_is_null():
    assert no_keys([]) and no_keys([None] * 5)
    assert not no_keys([None, b"", None]) and not no_keys([b"k", None]) and not no_keys([None] * 4 + [b"k"])
