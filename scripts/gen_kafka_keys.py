"""Writes miniconnect/config/kafka_keys.json from Kafka's own classes (the Connect jars scripts/test-deps.sh
resolves): the key definitions of ProducerConfig, ConsumerConfig and AdminClientConfig, with which `config/validate`
lists a connector's client overrides as Kafka does, and those keys of StandaloneConfig and DistributedConfig that
worker_config.py and distributed_config.py do not write out. Run after a Kafka version change, or after writing out
a key by hand:

    .venv/bin/python scripts/gen_kafka_keys.py

tests/unit/test_client_overrides.py checks that the file is what Kafka's classes give."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from javaharness.harness import JavaHarness  # noqa: E402

CLIENTS = {
    "producer": "org.apache.kafka.clients.producer.ProducerConfig",
    "consumer": "org.apache.kafka.clients.consumer.ConsumerConfig",
    "admin": "org.apache.kafka.clients.admin.AdminClientConfig",
}
WORKERS = {
    "standalone": {"class": "org.apache.kafka.connect.runtime.standalone.StandaloneConfig", "field": "CONFIG"},
    "distributed": {"class": "org.apache.kafka.connect.runtime.distributed.DistributedConfig"},
}
OUT = ROOT / "miniconnect" / "config" / "kafka_keys.json"

Keys = dict[str, list[dict[str, Any]]]


def kafka_keys(harness: JavaHarness) -> tuple[Keys, Keys]:
    """Each client's keys and each worker config's keys in their ConfigDef's order, as the ParseHarness dumps
    them (the workers' with their validators)."""
    cases = [{"kind": "clientkeys", "class": cls} for cls in CLIENTS.values()]
    cases += [{"kind": "configkeys", **spec} for spec in WORKERS.values()]
    answers = harness.run(cases)
    clients = {client: a["keys"] for client, a in zip(CLIENTS, answers[: len(CLIENTS)], strict=True)}
    workers = {worker: a["definitions"] for worker, a in zip(WORKERS, answers[len(CLIENTS) :], strict=True)}
    return clients, workers


def written_out() -> dict[str, set[str]]:
    """The worker keys miniconnect defines by hand (the distributed worker's include the common ones)."""
    from miniconnect.config.distributed_config import distributed_keys
    from miniconnect.config.worker_config import worker_keys

    common = set(worker_keys().keys)
    return {"standalone": common, "distributed": common | set(distributed_keys().keys)}


def file_text(clients: Keys, workers: Keys, by_hand: dict[str, set[str]]) -> str:
    """The file: each distinct definition once (the clients share most), one per line; each client's list of them
    by index, and each worker's list of the keys it lacks."""
    definitions: list[str] = []
    index: dict[str, int] = {}

    def indexes(defs: list[dict[str, Any]]) -> list[int]:
        out = []
        for d in defs:
            text = json.dumps(d, ensure_ascii=False)
            if text not in index:
                index[text] = len(definitions)
                definitions.append(text)
            out.append(index[text])
        return out

    listed = {client: indexes(defs) for client, defs in clients.items()}
    lacking = {
        worker: indexes([d for d in defs if d["name"] not in by_hand[worker]]) for worker, defs in workers.items()
    }
    body = ",\n".join(f"  {d}" for d in definitions)
    return (
        '{"kafka": "4.1.1",\n "clients": '
        + json.dumps(listed, separators=(",", ":"))
        + ',\n "workers": '
        + json.dumps(lacking, separators=(",", ":"))
        + ',\n "definitions": [\n'
        + body
        + "\n ]\n}\n"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        text = file_text(*kafka_keys(JavaHarness("ParseHarness", Path(tmp))), written_out())
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(text):,} bytes)")


if __name__ == "__main__":
    main()
