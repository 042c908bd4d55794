"""CounterSourceConnector in a real worker on the embedded log (miniconnect.testing)."""

from __future__ import annotations

from pathlib import Path

from connector_template import CounterSourceConnector

from miniconnect.testing import ConnectorHarness


async def test_source_writes_the_numbers_in_order() -> None:
    async with ConnectorHarness(CounterSourceConnector, {"topic": "numbers", "max.count": "250"}) as h:
        records = await h.consume("numbers", 250)
    assert [r.key for r in records] == [str(n) for n in range(250)]
    assert [r.value.get("n") for r in records] == list(range(250))
    assert records[7].value.get("text") == "record 7"


async def test_source_resumes_after_its_stored_offset(tmp_path: Path) -> None:
    config = {"topic": "numbers", "max.count": "100", "batch.size": "30"}
    async with ConnectorHarness(CounterSourceConnector, config, directory=tmp_path) as h:
        await h.consume("numbers", 100)
        await h.wait_for(lambda: h.offsets() == [({"counter": "numbers"}, {"next": 100})], what="offset flushed")
    # a second run over the same log and offsets continues at 100 instead of starting again
    async with ConnectorHarness(CounterSourceConnector, {**config, "max.count": "150"}, directory=tmp_path) as h:
        records = await h.consume("numbers", 150)
    assert [r.value.get("n") for r in records] == list(range(150))  # no number written twice
