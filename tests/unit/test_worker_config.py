"""Worker configuration: Kafka's keys and defaults, miniconnect's derived defaults, accessors."""

import logging
import socket

import pytest

from miniconnect.config.worker_config import WORKER_CONFIG, WorkerConfig, parse_listeners
from miniconnect.errors import ConfigError


def test_defaults_match_kafka_and_quickstart():
    c = WorkerConfig({})
    assert c["listeners"] == ["http://:8083"]
    assert c["offset.flush.interval.ms"] == 60000 and c["offset.flush.timeout.ms"] == 5000
    assert c["task.shutdown.graceful.timeout.ms"] == 5000
    assert c["topic.tracking.enable"] is True and c["topic.tracking.allow.reset"] is True
    assert c["topic.creation.enable"] is True
    assert c["connector.client.config.override.policy"] == "All"
    assert c["key.converter"] == c["value.converter"] == "org.apache.kafka.connect.json.JsonConverter"
    assert c["offset.storage.file.filename"] == "/tmp/connect.offsets"
    assert c["embedded.log.retention.bytes"] == -1 and c["embedded.log.retention.ms"] == 604800000
    assert c["embedded.log.partitions"] == 1
    assert c["bootstrap.servers"] == [] and c.uses_embedded_log
    assert c["admin.listeners"] is None and c.admin_listeners is None


def test_paths_derive_from_offsets_file_unless_set():
    c = WorkerConfig({"offset.storage.file.filename": "/data/w.offsets"})
    assert c["embedded.log.dir"] == "/data/w.offsets.log"
    assert c["config.storage.file.filename"] == "/data/w.offsets.connectors.json"
    c = WorkerConfig({"embedded.log.dir": "/x/log", "config.storage.file.filename": "/x/c.json"})
    assert c["embedded.log.dir"] == "/x/log" and c["config.storage.file.filename"] == "/x/c.json"


def test_values_are_typed_and_originals_kept():
    c = WorkerConfig(
        {
            "offset.flush.interval.ms": "1000",
            "topic.tracking.enable": "FALSE",
            "bootstrap.servers": "a:9092, b:9092",
            "plugin.path": "/p1,/p2",
        }
    )
    assert c["offset.flush.interval.ms"] == 1000
    assert c["topic.tracking.enable"] is False
    assert c["bootstrap.servers"] == ["a:9092", "b:9092"] and not c.uses_embedded_log
    assert c["plugin.path"] == ["/p1", "/p2"]
    assert c.originals["offset.flush.interval.ms"] == "1000"


def test_bad_values_raise_with_kafka_text():
    with pytest.raises(
        ConfigError, match="Invalid value abc for configuration offset.flush.interval.ms: Not a number of type LONG"
    ):
        WorkerConfig({"offset.flush.interval.ms": "abc"})
    with pytest.raises(ConfigError, match=r"Listener doesn't have the right format \(protocol://hostname:port\)"):
        WorkerConfig({"listeners": "localhost"})
    with pytest.raises(ConfigError, match="Empty list"):
        WorkerConfig({"listeners": ""})


def test_unknown_keys_kept_and_logged_once(caplog):
    with caplog.at_level(logging.INFO, logger="miniconnect.config.worker_config"):
        c = WorkerConfig({"my.custom.key": "v", "producer.acks": "all", "key.converter.schemas.enable": "false"})
        WorkerConfig({"my.custom.key": "v"})
    msgs = [r.getMessage() for r in caplog.records]
    assert msgs.count("The configuration 'my.custom.key' was supplied but isn't a known config.") == 1
    assert not any("producer.acks" in m or "schemas.enable" in m for m in msgs)
    assert c["my.custom.key"] == "v" and "my.custom.key" in c
    with pytest.raises(KeyError):
        c["never.supplied"]


def test_with_prefix_and_converter_config():
    c = WorkerConfig(
        {
            "producer.acks": "all",
            "producer.linger.ms": "5",
            "consumer.max.poll.records": "10",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter.encoding": "latin1",
            "key.converter.schemas.enable": "false",
        }
    )
    assert c.with_prefix("producer.") == {"acks": "all", "linger.ms": "5"}
    assert c.with_prefix("consumer.", strip=False) == {"consumer.max.poll.records": "10"}
    assert c.converter_config("value") == ("org.apache.kafka.connect.storage.StringConverter", {"encoding": "latin1"})
    assert c.converter_config("key") == ("org.apache.kafka.connect.json.JsonConverter", {"schemas.enable": "false"})
    with pytest.raises(ValueError):
        c.converter_config("other")


def test_parse_listeners():
    assert parse_listeners("http://:8083, HTTPS://host.example:8443,http://[::1]:9000") == [
        ("http", "", 8083),
        ("https", "host.example", 8443),
        ("http", "::1", 9000),
    ]
    with pytest.raises(ConfigError):
        parse_listeners("ftp://host:21")


def test_admin_listeners_null_empty_or_list():
    assert WorkerConfig({}).admin_listeners is None
    assert WorkerConfig({"admin.listeners": ""}).admin_listeners == []
    assert WorkerConfig({"admin.listeners": "http://localhost:9093"}).admin_listeners == [("http", "localhost", 9093)]


def test_worker_id_host_port():
    assert WorkerConfig({"listeners": "http://localhost:8084"}).worker_id_host_port() == "localhost:8084"
    assert WorkerConfig({}).worker_id_host_port() == f"{socket.gethostname()}:8083"
    c = WorkerConfig({"listeners": "http://0.0.0.0:8083,https://secure:8443", "rest.advertised.listener": "https"})
    assert c.worker_id_host_port() == "secure:8443"
    c = WorkerConfig({"rest.advertised.host.name": "public.example", "rest.advertised.port": "18083"})
    assert c.worker_id_host_port() == "public.example:18083"
    assert c.rest_url() == "http://public.example:18083/"


def test_every_key_is_documented():
    assert all(k.documentation for k in WORKER_CONFIG.keys.values())
