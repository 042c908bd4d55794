"""A task's own metrics, as Kafka's PluginMetrics (KIP-877): gauges the task registers once on its context and the
worker reads at every scrape, so recording them costs the task nothing beyond keeping the values it has anyway."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

log = logging.getLogger(__name__)
Sample = tuple[dict[str, str], float]


class PluginMetrics:
    """`context.metrics` of every task. Exported as `kafka_connect_<group>_<name>{connector, task, <labels>}`
    (`-` as `_`); a name ending in `-total` is a counter."""

    def __init__(self) -> None:
        self._gauges: list[tuple[str, str, Callable[[], float | Iterable[Sample]]]] = []

    def add_gauge(self, group: str, name: str, read: Callable[[], float | Iterable[Sample]]) -> None:
        """`read()` answers a number, or (labels, number) pairs for a gauge with labels of its own."""
        self._gauges.append((group, name, read))

    def samples(self) -> Iterator[tuple[str, str, dict[str, str], float]]:
        for group, name, read in self._gauges:
            try:  # a gauge that cannot answer is left out of this scrape, not the scrape itself
                value = read()
                samples = (
                    [({}, float(value))] if isinstance(value, int | float) else [(ls, float(v)) for ls, v in value]
                )
            except Exception as e:
                log.debug("Metric %s %s could not be read: %r", group, name, e)
                continue
            for labels, v in samples:
                yield group, name, labels, v
