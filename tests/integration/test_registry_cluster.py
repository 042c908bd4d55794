"""The worker's Schema Registry over HTTPS (a throwaway CA made here), and two workers serving one `_schemas` topic on
real Kafka: each sees the other's writes, writes go through one of them (schema.registry.leader.url), ids stay
unique."""

from __future__ import annotations

import json
import ssl
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from helpers.log_records import consume
from registry_testkit import free_port
from servers.certs import STORE_PASSWORD, CertAuthority
from worker_process import WorkerProcess

from miniconnect.converters.avro import AvroConverter
from miniconnect.data.schema import DataError

AVRO = "io.confluent.connect.avro.AvroConverter"
STRING = "org.apache.kafka.connect.storage.StringConverter"
CT = {"Content-Type": "application/vnd.schemaregistry.v1+json"}


def record(name: str, *fields: str) -> str:
    return json.dumps({"type": "record", "name": name, "fields": [{"name": f, "type": "string"} for f in fields]})


def test_the_registry_over_https_and_converters_trusting_it(tmp_path: Path) -> None:
    ca = CertAuthority(tmp_path / "ca")
    identity = ca.issue("registry")
    url = f"https://127.0.0.1:{free_port()}"
    worker = WorkerProcess(
        tmp_path,
        extra={
            "schema.registry.listeners": url,
            "schema.registry.ssl.keystore.location": str(identity.p12),
            "schema.registry.ssl.keystore.password": STORE_PASSWORD,
            "schema.registry.ssl.keystore.type": "PKCS12",
            "key.converter": STRING,
            "value.converter": AVRO,
            "value.converter.schema.registry.url": url,
            "value.converter.schema.registry.ssl.truststore.location": str(ca.cert_pem),
            "value.converter.schema.registry.ssl.truststore.type": "PEM",
        },
    )
    lines = tmp_path / "in.txt"
    lines.write_text("one\ntwo\n")
    worker.start(timeout=60)
    try:
        trusting = ssl.create_default_context(cafile=str(ca.cert_pem))
        assert httpx.get(f"{url}/subjects", verify=trusting, timeout=10).json() == []
        with pytest.raises(httpx.ConnectError):  # the certificate is not trusted without the CA
            httpx.get(f"{url}/subjects", timeout=10)
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the HTTPS port
            httpx.get(f"{url.replace('https:', 'http:')}/subjects", timeout=10)

        # the worker's converter (its schema.registry.ssl.* keys: a PEM truststore) registers over TLS
        r = worker.rest(
            "POST",
            "/connectors",
            {"name": "lines", "config": {"connector.class": "FileStreamSource", "file": str(lines), "topic": "lines"}},
        )
        assert r.status_code == 201, r.text
        records = worker.wait_for(lambda: len(r := consume(tmp_path, None, "lines")) == 2 and r, 60, "2 lines")
        values = [r.value for r in records]
        assert httpx.get(f"{url}/subjects", verify=trusting, timeout=10).json() == ["lines-value"]

        # a converter here, trusting the CA through a PKCS12 truststore, reads them; one that does not trust it
        # says why
        reader = AvroConverter()
        reader.configure(
            {
                "schema.registry.url": url,
                "schema.registry.ssl.truststore.location": str(ca.truststore_p12),
                "schema.registry.ssl.truststore.password": STORE_PASSWORD,
                "schema.registry.ssl.truststore.type": "PKCS12",
            },
            False,
        )
        assert [reader.to_connect_data("lines", v)[1] for v in values] == ["one", "two"]
        stranger = AvroConverter()
        stranger.configure({"schema.registry.url": url, "max.retries": "0"}, False)
        with pytest.raises(DataError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            stranger.to_connect_data("lines", values[0])
    finally:
        worker.stop()


def registry_worker(workdir: Path, bootstrap: str, topic: str, leader: str = "") -> tuple[WorkerProcess, str]:
    url = f"http://127.0.0.1:{free_port()}"
    extra = {
        "bootstrap.servers": bootstrap,
        "schema.registry.listeners": url,
        "schema.registry.topic": topic,
        "schema.registry.topic.replication.factor": "1",
        "schema.registry.compatibility.level": "NONE",  # the test's schemas are not compatible with each other
        "key.converter": STRING,
        "value.converter": STRING,
    }
    if leader:
        extra["schema.registry.leader.url"] = leader
    return WorkerProcess(workdir, extra=extra), url


def register(url: str, subject: str, schema: str) -> httpx.Response:
    return httpx.post(f"{url}/subjects/{subject}/versions", json={"schema": schema}, headers=CT, timeout=60)


def test_two_workers_serve_one_schemas_topic_on_kafka(tmp_path: Path, kafka_bootstrap: str) -> None:
    topic = f"_schemas_{uuid.uuid4().hex[:8]}"
    a, a_url = registry_worker(tmp_path / "a", kafka_bootstrap, topic)
    a.start(timeout=90)
    b, b_url = registry_worker(tmp_path / "b", kafka_bootstrap, topic, leader=a_url)
    try:
        b.start(timeout=90)
        # written through the follower (forwarded to the leader): both answer for it at once
        r = register(b_url, "one-value", record("One", "a"))
        assert r.status_code == 200, r.text
        one = r.json()["id"]
        for url in (a_url, b_url):
            assert json.loads(httpx.get(f"{url}/schemas/ids/{one}", timeout=10).json()["schema"])["name"] == "One"
        # written through the leader: the follower has it when asked (it catches up with the topic first)
        two = register(a_url, "two-value", record("Two", "a")).json()["id"]
        assert json.loads(httpx.get(f"{b_url}/schemas/ids/{two}", timeout=10).json()["schema"])["name"] == "Two"
        assert httpx.get(f"{b_url}/subjects/two-value/versions", timeout=10).json() == [1]

        # many writers at once through both: every schema one id, no id given twice, versions in order
        jobs = [
            ((a_url, b_url)[i % 2], f"many-{i % 4}-value", record(f"M{i}", *(f"f{j}" for j in range(i // 4 + 1))))
            for i in range(24)
        ]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda job: register(*job), jobs))
        assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
        ids = [r.json()["id"] for r in answers]
        assert len(set(ids)) == len(jobs) and one not in ids and two not in ids
        # the same schema through both, at once: one id
        same = record("Same", "x")
        with ThreadPoolExecutor(4) as pool:
            same_ids = {r.json()["id"] for r in pool.map(lambda u: register(u, "same-value", same), [a_url, b_url] * 2)}
        assert len(same_ids) == 1
        views = []
        for url in (a_url, b_url):
            httpx.get(f"{url}/schemas/ids/{max(ids)}", timeout=10)  # caught up
            views.append(httpx.get(f"{url}/schemas?deleted=true", timeout=10).json())
        assert views[0] == views[1] and len(views[0]) == 2 + len(jobs) + 1
        for n in range(4):
            versions = httpx.get(f"{a_url}/subjects/many-{n}-value/versions", timeout=10).json()
            assert versions == list(range(1, 7))

        # config and deletes through the follower reach the leader
        r = httpx.put(f"{b_url}/config/one-value", json={"compatibility": "NONE"}, headers=CT, timeout=10)
        assert r.json() == {"compatibility": "NONE"}
        assert httpx.get(f"{a_url}/config/one-value", timeout=10).json() == {"compatibilityLevel": "NONE"}
        assert httpx.delete(f"{b_url}/subjects/one-value", timeout=10).json() == [1]
        assert "one-value" not in httpx.get(f"{a_url}/subjects", timeout=10).json()
        assert "one-value" not in httpx.get(f"{b_url}/subjects", timeout=10).json()

        # a write forwarded to a follower (a leader.url naming a follower) is refused, not forwarded in a loop
        r = httpx.post(
            f"{b_url}/subjects/loop-value/versions",
            json={"schema": record("Loop", "a")},
            headers={**CT, "X-Miniconnect-Forwarded": "true"},
            timeout=10,
        )
        assert r.status_code == 500 and r.json()["error_code"] == 50003
        assert "loop-value" not in httpx.get(f"{a_url}/subjects", timeout=10).json()

        # the leader away: the follower still reads, and says why it cannot write
        a.stop()
        assert httpx.get(f"{b_url}/schemas/ids/{two}", timeout=10).status_code == 200
        r = register(b_url, "three-value", record("Three", "a"))
        assert r.status_code == 500 and r.json()["error_code"] == 50003 and a_url in r.json()["message"]
    finally:
        b.stop()
        a.stop()
