"""Secrets never printed: URL passwords and remembered PASSWORD values become [hidden] in messages, log lines,
tracebacks and validation answers."""

from __future__ import annotations

import io
import logging

from miniconnect import secrets
from miniconnect.config.configdef import ConfigDef, ConfigType


def test_url_passwords_hidden() -> None:
    assert (
        secrets.redact_url("jdbc:postgresql://h/db?user=u&password=pw&ssl=true")
        == "jdbc:postgresql://h/db?user=u&password=[hidden]&ssl=true"
    )
    assert secrets.redact_url("jdbc:mariadb://bob:pw@h/db") == "jdbc:mariadb://bob:[hidden]@h/db"
    assert secrets.redact_url("no url here") == "no url here"
    assert secrets.url_passwords("jdbc:mysql://a:b1@h/db?password=c2") == ["c2", "b1"]


def test_remembered_secrets_masked_in_log_lines_and_tracebacks() -> None:
    secrets.remember_config(
        {
            "connection.password": "Zq-unit-secret-91",
            "connection.url": "jdbc:x://u:Url-pw-77@h/d",
            "producer.override.ssl.key.password": "Key-pw-55",
            "user": "bob",
            "short": "test",
        },
        ["connection.password", "short"],
    )
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("test_secrets_logger")
    logger.addHandler(handler)
    logger.propagate = False
    secrets.install_log_masking(logger)
    try:
        logger.error("driver said %s with %s", "password Zq-unit-secret-91 rejected", "Url-pw-77")
        logger.error("key Key-pw-55 in a test")  # too short to mask without masking ordinary words: "test" stays
        try:
            raise RuntimeError("connect failed: Zq-unit-secret-91")
        except RuntimeError:
            logger.exception("failed for bob")
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert "Zq-unit-secret-91" not in text and "Url-pw-77" not in text
    assert "driver said password [hidden] rejected with [hidden]" in text
    assert "key [hidden] in a test" in text
    assert "RuntimeError: connect failed: [hidden]" in text and "failed for bob" in text


def test_validation_values_hide_passwords_and_url_passwords() -> None:
    d = (
        ConfigDef()
        .define("connection.url", ConfigType.STRING, None)
        .define("connection.password", ConfigType.PASSWORD, None)
    )
    values = d.validate({"connection.url": "jdbc:postgresql://h/db?password=abc123", "connection.password": "x"})
    assert values["connection.url"].info(ConfigType.STRING)["value"] == "jdbc:postgresql://h/db?password=[hidden]"
    assert values["connection.password"].info(ConfigType.PASSWORD)["value"] == "[hidden]"
