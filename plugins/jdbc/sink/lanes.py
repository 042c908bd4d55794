"""Lanes: a PostgreSQL upsert put split by key hash over several connections, so that several backends upsert at
once (issue 23: an upsert of an existing key costs one backend ~0.8 CPU-s/100k rows, a new row version and index
entry each, and one backend is one core).

Lane 0 is the task's own writer, the others are connections of their own. Every key goes to one lane (the hash of
its key columns) and each lane keeps the put's order, so each key's upserts and deletes happen in record order.
Each lane writes its part in its own transaction and commits it as soon as it is written; the put returns (and the
worker commits offsets) only after every lane committed. A lane does not wait for the others before committing: the
tables' other constraints or triggers can make one lane's statement wait for another's row, and a lane that waited
for the others' commits would then wait forever (PostgreSQL sees no deadlock in a wait across clients).
So a lane can fail after another committed (a bad row, the connection drops): put() fails, the failed lanes roll
back, and the worker redelivers the batch, whose upserts and deletes written again leave the same rows (the last
record of each key wins): idempotent, nothing is lost or doubled. Insert mode never splits: its redelivery would
meet its own rows, and a COPY reaches over 1M rows/s on one backend anyway.
An extra lane that cannot connect (max_connections reached, ...) is not retried: the task warns once and writes
through its own connection from then on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .keys import nan_possible, pg_key
from .plan import TableBatch
from .writer import Writer

log = logging.getLogger(__name__)

MIN_ROWS = 1000  # a smaller put is not worth a transaction (and a WAL flush) per lane


class Lanes:
    def __init__(self, main: Writer, count: int):
        self.main, self.count = main, count
        self.extra: list[Writer] = []
        self.disabled = count < 2 or main.dialect != "postgresql"

    def wanted(self, rows: int) -> bool:
        return not self.disabled and rows >= MIN_ROWS

    async def writers(self, wait: Callable[[float], Any] | None) -> list[Writer]:
        """The lanes' writers, connected (lane 0 already is); only the task's own when one cannot connect."""
        main = self.main
        if not self.extra:
            self.extra = [type(main)(main.jdbc, main.quote, 1, main.backoff_ms) for _ in range(self.count - 1)]
        try:
            await asyncio.gather(*(w.connect(wait) for w in self.extra if w.conn is None))
        except Exception as e:
            log.warning("A second connection for parallel upserts failed (%s): writing through one from now on", e)
            self.disabled = True
            await self.close()
            return [main]
        return [main, *self.extra]

    async def run(
        self,
        writers: list[Writer],
        work: Callable[[int, Writer], Awaitable[None]],
        committed: Callable[[int], None],
    ) -> None:
        """work(i, writer) for every lane in its own transaction, all at once, and committed(i) once lane i
        committed (so that what a lane committed is counted even when another lane fails); returns when all
        committed, else raises the first lane's error once every lane has finished (see above)."""

        async def write(i: int, w: Writer) -> None:
            try:
                await w.begin()
                await work(i, w)
                await w.commit()
            except BaseException:
                await _rollback(w)
                raise
            committed(i)

        results = await asyncio.gather(*(write(i, w) for i, w in enumerate(writers)), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:  # the lanes that committed are written again by the redelivery: idempotent (see above)
            raise failed[0]

    async def close(self) -> None:
        extra, self.extra = self.extra, []
        for w in extra:
            await w.close()


async def _rollback(w: Writer) -> None:
    try:
        if w.conn is not None:
            await w.rollback()
    except Exception as e:  # the connection is unusable: a new one next time
        log.debug("rollback failed: %s", e)
        await w.close()


def lane_indexes(keys: Sequence[Any], n: int, nan: bool = True) -> list[int] | None:
    """The lane of each key (a value, or a tuple of a composite key's values), the same for keys PostgreSQL holds
    equal (NaN, see keys; nan=False: the key columns cannot hold one); None when a key cannot be hashed."""
    try:
        return [hash(k) % n for k in (map(pg_key, keys) if nan else keys)]
    except TypeError:
        return None


def split_segments(segments: list[TableBatch], n: int) -> list[list[TableBatch]] | None:
    """Each lane's part of every segment, in the put's order; None when the put cannot be split by key."""
    parts: list[list[TableBatch]] = [[] for _ in range(n)]
    for seg in segments:
        if seg.plan.skip:
            continue
        nkeys = len(seg.plan.keys)
        if not nkeys:
            return None
        # an upsert's row and a delete's key row both start with the key columns' values (plan.sources)
        keys = [r[0] for r in seg.rows] if nkeys == 1 else [tuple(r[:nkeys]) for r in seg.rows]
        lanes = lane_indexes(keys, n, nan_possible(seg.table.info, seg.plan.db_cols[:nkeys]))
        if lanes is None:
            return None
        split = [TableBatch(seg.table, seg.plan) for _ in range(n)]
        for i, lane in enumerate(lanes):
            part = split[lane]
            part.rows.append(seg.rows[i])
            part.ops.append(seg.ops[i])
            part.records.append(seg.records[i])
        for lane, part in enumerate(split):
            if part.rows:
                part.has_deletes = seg.has_deletes and any(part.ops)
                parts[lane].append(part)
    return parts
