"""ValueColumn: the serialized record values of a batch as one Arrow binary column (one buffer, n+1 offsets), what
a columnar source hands a transport that frames records from it without a Python object per value."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class ValueColumn:
    """Record values in order, none null: `array` is a pyarrow large_binary array. Slicing shares its buffers;
    `to_list()` gives the bytes per value for a transport that takes them one by one."""

    __slots__ = ("array",)

    def __init__(self, array: Any):
        self.array = array

    @classmethod
    def from_list(cls, values: Iterable[bytes]) -> ValueColumn:
        import pyarrow as pa

        return cls(pa.array(values, pa.large_binary()))

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, s: slice) -> ValueColumn:
        start, stop, step = s.indices(len(self.array))
        if step != 1:
            raise ValueError("a ValueColumn slices with step 1 only")
        return ValueColumn(self.array.slice(start, max(0, stop - start)))

    def to_list(self) -> list[bytes]:
        return self.array.to_pylist()  # type: ignore[no-any-return]

    def offsets_and_data(self) -> tuple[Any, Any]:
        """The values' n+1 offsets (numpy int64, absolute into `data`) and the pyarrow Buffer they index."""
        import numpy as np

        a = self.array
        _, offsets, data = a.buffers()
        return np.frombuffer(offsets, dtype=np.int64)[a.offset : a.offset + len(a) + 1], data
