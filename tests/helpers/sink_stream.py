"""The order stream of the sink kill/failover tests (N seed orders, then updates) and a row counter on the database."""

from __future__ import annotations

import asyncio
import time
import uuid

from servers import DbServer, run_async

N = 50_000


UPDATES = 5_000  # upsert runs: the first UPDATES keys are sent again at the end, with qty + 1000


SCHEMA = (
    '{"type": "struct", "fields": [{"type": "string", "optional": true, "field": "order_id"}, '
    '{"type": "string", "optional": true, "field": "user_id"}, {"type": "string", "optional": true, "field": '
    '"product_id"}, {"type": "int32", "optional": true, "field": "qty"}, {"type": "int32", "optional": true, '
    '"field": "unit_price"}, {"type": "int32", "optional": true, "field": "total_price"}], "optional": false, '
    '"name": "orders"}'
)


KEY_SCHEMA = '{"type": "string", "optional": false}'


def order_id(i: int) -> str:
    return str(uuid.UUID(int=i * 7919 + 1))


def seed_value(i: int, qty: int | None = None) -> str:
    """The seed message's format, one order per i."""
    qty = i % 50 + 1 if qty is None else qty
    price = (i % 7 + 1) * 1000
    return (
        f'{{"schema": {SCHEMA}, "payload": {{"order_id": "{order_id(i)}", "user_id": "{uuid.UUID(int=i * 104729)}", '
        f'"product_id": "CATALOG-{i % 1000:03d}", "qty": {qty}, "unit_price": {price}, '
        f'"total_price": {qty * price}}}}}'
    )


def seed_key(i: int) -> str:
    return f'{{"schema": {KEY_SCHEMA}, "payload": "{order_id(i)}"}}'


def stream(updates: int) -> list[tuple[str, str]]:
    """(key, value) of N orders, then `updates` of them again with a new qty."""
    out = [(seed_key(i), seed_value(i)) for i in range(N)]
    out += [(seed_key(i), seed_value(i, qty=i % 50 + 1001)) for i in range(updates)]
    return out


class Counter:
    """Polls COUNT(*) of a table (PostgreSQL or MariaDB) on one connection, every few milliseconds, in its own
    thread."""

    def __init__(self, server: DbServer, table: str):
        self.server, self.table = server, table

    async def _rows(self, conn, sql: str) -> list[tuple]:
        if self.server.kind == "postgresql":
            return [tuple(r) for r in await conn.fetch(sql)]
        async with conn.cursor() as cur:
            await cur.execute(sql)
            return [tuple(r) for r in await cur.fetchall()]

    async def _close(self, conn) -> None:
        if self.server.kind == "postgresql":
            await conn.close()
        else:
            conn.close()

    def wait_at_least(self, n: int, timeout: float) -> int:
        async def run() -> int:
            conn = await self.server.connect()
            try:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    try:
                        count = (await self._rows(conn, f"SELECT COUNT(*) FROM {self.table}"))[0][0]
                    except Exception:  # not created yet
                        count = 0
                    if count >= n:
                        return count
                    await asyncio.sleep(0.005)
                raise TimeoutError(f"fewer than {n} rows in {self.table} after {timeout} s")
            finally:
                await self._close(conn)

        return run_async(run, timeout=timeout + 10)

    def fetch(self, sql: str) -> list[tuple]:
        async def run() -> list[tuple]:
            conn = await self.server.connect()
            try:
                return await self._rows(conn, sql)
            finally:
                await self._close(conn)

        return run_async(run)
