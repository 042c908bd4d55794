"""Writes miniconnect/config/client_configs.json: the key definitions of Kafka's ProducerConfig, ConsumerConfig and
AdminClientConfig, read from Kafka's own classes (the Connect jars scripts/test-deps.sh resolves), with which
`config/validate` lists a connector's client overrides as Kafka does. Run after a Kafka version change:

    .venv/bin/python scripts/gen_client_configs.py

tests/unit/test_client_overrides_differential.py checks that the file is what Kafka's classes give."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from javaharness.harness import JavaHarness  # noqa: E402

CLIENTS = {
    "producer": "org.apache.kafka.clients.producer.ProducerConfig",
    "consumer": "org.apache.kafka.clients.consumer.ConsumerConfig",
    "admin": "org.apache.kafka.clients.admin.AdminClientConfig",
}
OUT = ROOT / "miniconnect" / "config" / "client_configs.json"


def kafka_client_keys(harness: JavaHarness) -> dict[str, list[dict[str, Any]]]:
    """Each client's keys in its ConfigDef's order, as the ParseHarness dumps them."""
    answers = harness.run([{"kind": "clientkeys", "class": cls} for cls in CLIENTS.values()])
    return {client: answer["keys"] for client, answer in zip(CLIENTS, answers, strict=True)}


def file_text(keys: dict[str, list[dict[str, Any]]]) -> str:
    """The file: each distinct definition once (the clients share most), one per line, and each client's list of
    them by index."""
    definitions: list[str] = []
    index: dict[str, int] = {}
    clients: dict[str, list[int]] = {}
    for client, defs in keys.items():
        for d in defs:
            text = json.dumps(d, ensure_ascii=False)
            if text not in index:
                index[text] = len(definitions)
                definitions.append(text)
            clients.setdefault(client, []).append(index[text])
    body = ",\n".join(f"  {d}" for d in definitions)
    return (
        '{"kafka": "4.1.1",\n "clients": '
        + json.dumps(clients, separators=(",", ":"))
        + ',\n "definitions": [\n'
        + body
        + "\n ]\n}\n"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        text = file_text(kafka_client_keys(JavaHarness("ParseHarness", Path(tmp))))
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(text):,} bytes)")


if __name__ == "__main__":
    main()
