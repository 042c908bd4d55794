"""JAAS text as Java reads it: Kafka clients' sasl.jaas.config and login configuration files."""

from __future__ import annotations

import pytest

from miniconnect.config.jaas import login_config_path, parse_jaas_config, parse_login_file
from miniconnect.errors import ConfigError


def test_sasl_jaas_config() -> None:
    m = parse_jaas_config(
        "org.apache.kafka.common.security.scram.ScramLoginModule required\n"
        '  username="alice" password="p\\"w;x=y#//z" tokenauth=false; // the end'
    )
    assert (m.name, m.flag, m.options) == (
        "org.apache.kafka.common.security.scram.ScramLoginModule",
        "required",
        {"username": "alice", "password": 'p"w;x=y#//z', "tokenauth": "false"},
    )
    with pytest.raises(ConfigError, match="not terminated by semi-colon"):
        parse_jaas_config('a.B required username="x"')
    with pytest.raises(ConfigError, match="control flag"):
        parse_jaas_config('a.B username="x";')
    with pytest.raises(ConfigError, match="contains 2 login modules") as e:
        parse_jaas_config('a.B required password="secret1"; c.D optional;')
    assert "secret1" not in str(e.value)
    for broken in ('a.B required password="secret1;', 'a.B required user="u" "secret1";'):
        with pytest.raises(ConfigError) as e:
            parse_jaas_config(broken)
        assert "secret1" not in str(e.value)


def test_login_file_sections_and_comments() -> None:
    text = """
    // Kafka's connect_jaas.conf
    KafkaConnect {
      org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
      file="/opt/kafka/config/connect.password";   /* users */
    };
    Other { x.Y sufficient; };
    """
    sections = parse_login_file(text)
    assert list(sections) == ["KafkaConnect", "Other"]
    assert sections["KafkaConnect"][0].options == {"file": "/opt/kafka/config/connect.password"}
    assert sections["Other"][0].flag == "sufficient"


def test_login_config_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_OPTS", "-Xmx1g -Djava.security.auth.login.config=/etc/kafka/jaas.conf -Dx=y")
    assert login_config_path({}) == "/etc/kafka/jaas.conf"
    assert login_config_path({"java.security.auth.login.config": "/w.conf"}) == "/w.conf"
    monkeypatch.delenv("KAFKA_OPTS")
    assert login_config_path({}) is None
