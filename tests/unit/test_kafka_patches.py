"""The aiokafka speed patches go in when a Kafka client starts, not on import, and a patch whose aiokafka internals
changed falls back with a warning naming the aiokafka version."""

from __future__ import annotations

import subprocess
import sys

STATE = """
from aiokafka.protocol import produce
from miniconnect.transport.kafka import fetch, reader, wire
def state():
    return (fetch.installed, reader.installed, produce.ProduceRequest_v3.__dict__.get("encode") is wire.encode_produce_request)
"""


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", STATE + code], capture_output=True, text=True, check=True)


def test_importing_the_kafka_transport_patches_nothing_until_install() -> None:
    out = run(
        "import miniconnect.transport.kafka\n"
        "print(state())\n"
        "from miniconnect.transport.kafka import patches\n"
        "patches.install()\n"
        "print(state())\n"
    ).stdout.split("\n")
    assert out[0] == "(False, False, False)"
    assert out[1] == "(True, True, True)"


def test_a_patch_that_no_longer_fits_aiokafka_falls_back_with_a_warning() -> None:
    result = run(
        "import logging, aiokafka\n"
        "logging.basicConfig(level=logging.WARNING, format='%(levelname)s %(message)s')\n"
        "fetch._fetcher = None  # as if aiokafka's fetcher module had been reorganised\n"
        "reader._conn = None\n"
        "for v in range(3, 9):\n"
        "    cls = getattr(produce, f'ProduceRequest_v{v}', None)\n"
        "    if cls is not None:\n"
        "        cls.SCHEMA = None  # a request layout the encoder does not know\n"
        "from miniconnect.transport.kafka import patches\n"
        "patches.install()\n"
        "patches.install()  # once per process: no second round of warnings\n"
        "print(state(), aiokafka.__version__)\n"
    )
    state, version = result.stdout.strip().rsplit(" ", 1)
    assert state == "(False, False, False)"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 3
    assert all(f"aiokafka {version}" in w and "slower" in w for w in warnings)
    assert any("wire.py" in w for w in warnings) and any("fetch.py" in w for w in warnings)
    assert any("reader.py" in w for w in warnings)
