"""Kafka's metric stats over sample windows (org.apache.kafka.common.metrics.stats): one Sensor keeps the windows
that Kafka keeps once per stat, since every stat of a sensor records the same values at the same times.

A Sensor answers Rate (WindowedSum over the window size), Avg, Max, the boolean Frequencies of a 0/1 sensor and
CumulativeSum, with Kafka's sampling: `metrics.num.samples` windows of `metrics.sample.window.ms`, a sample is
complete when its window elapsed, samples without an event for num.samples windows are reset when measured, and a
rate's elapsed time is at least num.samples - 1 full windows (Rate.windowSize). Recording is a few attribute
updates, called once per batch by the task runners, never per record.
"""

from __future__ import annotations

import math
import time
from enum import Enum
from typing import Any

DEFAULT_WINDOW_MS = 30_000
DEFAULT_SAMPLES = 2


def now_ms() -> float:
    return time.monotonic() * 1000.0


class _Sample:
    __slots__ = ("count", "last", "max", "start", "sum")

    def __init__(self, now: float):
        self.reset(now)

    def reset(self, now: float) -> None:
        self.start = self.last = now
        self.count = 0
        self.sum = 0.0
        self.max = -math.inf


class MetricWindow:
    """The sampling settings of one worker (MetricConfig)."""

    __slots__ = ("samples", "window_ms")

    def __init__(self, window_ms: float = DEFAULT_WINDOW_MS, samples: int = DEFAULT_SAMPLES):
        self.window_ms = float(window_ms)
        self.samples = max(1, int(samples))


DEFAULT_WINDOW = MetricWindow()


class Sensor:
    """Values recorded over time: rate(), avg(), max(), frequency(), `total` (CumulativeSum) and `events` (how many
    values were recorded, ever)."""

    __slots__ = ("_current", "_samples", "events", "total", "window")

    def __init__(self, window: MetricWindow = DEFAULT_WINDOW):
        self.window = window
        self._samples: list[_Sample] = []
        self._current = 0
        self.total = 0.0
        self.events = 0

    def record(self, value: float = 1.0, now: float | None = None) -> None:
        if now is None:
            now = now_ms()
        self.total += value
        self.events += 1
        samples = self._samples
        if not samples:
            samples.append(_Sample(now))
        s = samples[self._current]
        if now - s.start >= self.window.window_ms:  # SampledStat.advance: one extra slot for the overlapping sample
            self._current = (self._current + 1) % (self.window.samples + 1)
            if self._current >= len(samples):
                s = _Sample(now)
                samples.append(s)
            else:
                s = samples[self._current]
                s.reset(now)
        s.count += 1
        s.sum += value
        if value > s.max:
            s.max = value
        s.last = now

    def _purge(self, now: float) -> list[_Sample]:
        expire = self.window.samples * self.window.window_ms
        for s in self._samples:
            if now - s.last >= expire:
                s.reset(now)
        return self._samples

    def rate(self, now: float | None = None) -> float:
        """Per second over the window: Rate(WindowedSum).measure."""
        if now is None:
            now = now_ms()
        samples = self._purge(now)
        if not samples:
            samples.append(_Sample(now))
        value = sum(s.sum for s in samples)
        elapsed = now - min(s.start for s in samples)
        full = int(elapsed // self.window.window_ms)
        if full < self.window.samples - 1:
            elapsed += (self.window.samples - 1 - full) * self.window.window_ms
        return value / (max(elapsed, 1.0) / 1000.0)

    def avg(self, now: float | None = None) -> float:
        samples = self._purge(now_ms() if now is None else now)
        count = sum(s.count for s in samples)
        return sum(s.sum for s in samples) / count if count else math.nan

    def max(self, now: float | None = None) -> float:
        samples = self._purge(now_ms() if now is None else now)
        if not any(s.count for s in samples):
            return math.nan
        return max(s.max for s in samples)

    def frequency(self, value: bool, now: float | None = None) -> float:
        """Frequencies.forBooleanValues on a sensor recording 1.0 (true) and 0.0 (false): the share of events that
        recorded `value` in the window, 0.0 without events."""
        samples = self._purge(now_ms() if now is None else now)
        count = sum(s.count for s in samples)
        if not count:
            return 0.0
        trues = sum(s.sum for s in samples)
        return (trues if value else count - trues) / count


class StateTracker:
    """Time spent in each state, for running-ratio and pause-ratio (Kafka's StateTracker)."""

    __slots__ = ("since", "state", "totals")

    def __init__(self) -> None:
        self.state: Any = None
        self.since = 0.0
        self.totals: dict[Any, float] = {}

    def change(self, state: Enum, now: float | None = None) -> None:
        if now is None:
            now = now_ms()
        if self.state is None:
            self.state, self.since = state, now
            return
        if state == self.state:
            return
        self.totals[self.state] = self.totals.get(self.state, 0.0) + now - self.since
        self.state, self.since = state, now

    def ratio(self, state: Enum, now: float | None = None) -> float:
        if self.state is None:
            return 0.0
        if now is None:
            now = now_ms()
        current = now - self.since
        total = current + sum(self.totals.values())
        wanted = self.totals.get(state, 0.0) + (current if state == self.state else 0.0)
        return wanted / total if total else 0.0
