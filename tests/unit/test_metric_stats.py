"""miniconnect.metrics.stats against Kafka's own Rate, Avg, Max, CumulativeSum and boolean Frequencies
(tests/javaharness/MetricStatsHarness.java, run on Kafka Connect 4.1.1's jars): the same records at the same times
give the same measures, with the windows advancing, expiring and starting short as Kafka's do."""

from __future__ import annotations

import math
import random
import shutil
from pathlib import Path

import pytest
from javaharness.harness import CONNECT_LIBS, JavaHarness

from miniconnect.metrics.stats import MetricWindow, Sensor, StateTracker
from miniconnect.runtime.states import State

needs_java = pytest.mark.skipif(
    not CONNECT_LIBS.is_dir() or shutil.which("javac") is None,
    reason="Kafka Connect 4.1.1 jars (scripts/test-deps.sh) and a JDK are needed",
)


def _cases() -> list[dict]:
    rnd = random.Random(17)
    cases = []
    for window_ms, samples in ((30_000, 2), (1_000, 3), (500, 1), (100, 11)):
        steps: list[list] = [["measure", 0]]  # before anything was recorded
        t = 5
        for _ in range(300):
            t += rnd.choice((0, 1, 7, 50, 230, 999, 1_000, 4_000, 31_000, 65_000))
            if rnd.random() < 0.7:
                steps.append(["record", t, float(rnd.choice((0, 1, 1, 3, 500, 1000, 12.5)))])
            else:
                steps.append(["measure", t])
        steps.append(["measure", t + 10 * window_ms * samples])  # everything expired
        cases.append({"window_ms": window_ms, "samples": samples, "steps": steps})
    # a batch-sized pattern: frequent records, measured as a scrape would be
    steps = []
    for i in range(200):
        steps.append(["record", 1_000 + i * 97, float(400 + i % 3)])
        if i % 10 == 0:
            steps.append(["measure", 1_000 + i * 97 + 13])
    cases.append({"window_ms": 30_000, "samples": 2, "steps": steps})
    return cases


def _ours(case: dict) -> list[dict]:
    sensor = Sensor(MetricWindow(case["window_ms"], case["samples"]))
    out = []
    for step in case["steps"]:
        if step[0] == "record":
            sensor.record(step[2], step[1])
        else:
            t = step[1]
            out.append(
                {
                    "rate": sensor.rate(t),
                    "avg": sensor.avg(t),
                    "max": sensor.max(t),
                    "total": sensor.total,
                    "true": sensor.frequency(True, t),
                    "false": sensor.frequency(False, t),
                }
            )
    return out


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@needs_java
def test_sensor_measures_as_kafka_stats(tmp_path: Path) -> None:
    cases = _cases()
    theirs = JavaHarness("MetricStatsHarness", tmp_path).run(cases)
    for case, expected in zip(cases, theirs, strict=True):
        got = _ours(case)
        assert len(got) == len(expected)
        for i, (mine, java) in enumerate(zip(got, expected, strict=True)):
            for key, value in java.items():
                # Frequencies records into a 2-bin histogram: only 0.0/1.0 values are frequencies
                if key in ("true", "false") and any(s[0] == "record" and s[2] not in (0.0, 1.0) for s in case["steps"]):
                    continue
                assert _same(mine[key], float(value)), (case["window_ms"], case["samples"], i, key, mine, java)


def test_boolean_frequencies_and_startup_style_totals() -> None:
    s = Sensor(MetricWindow(30_000, 2))
    assert s.frequency(True, 0) == 0.0 and math.isnan(s.avg(0)) and math.isnan(s.max(0))
    for t, ok in ((1, 1.0), (2, 1.0), (3, 0.0), (4, 1.0)):
        s.record(ok, t)
    assert s.frequency(True, 5) == 0.75 and s.frequency(False, 5) == 0.25
    assert (s.events, s.total) == (4, 3.0)


def test_state_tracker_ratios() -> None:
    tracker = StateTracker()
    assert tracker.ratio(State.RUNNING, 0) == 0.0
    tracker.change(State.RUNNING, 0)
    tracker.change(State.PAUSED, 300)
    tracker.change(State.RUNNING, 400)
    assert tracker.ratio(State.RUNNING, 1000) == pytest.approx(0.9)
    assert tracker.ratio(State.PAUSED, 1000) == pytest.approx(0.1)
