"""ConfigDef.parseType as Kafka's: strings, passwords, class names and lists are read trimmed (String.trim: what is
at most U+0020 at both ends), so that a properties file's trailing blanks do not become part of a value."""

from __future__ import annotations

from miniconnect.config.configdef import ConfigDef, ConfigType, Importance, Password, parse_type


def test_strings_passwords_and_lists_are_trimmed_as_kafka_trims_them() -> None:
    assert parse_type("k", " jdbc:postgresql://db/x \t", ConfigType.STRING) == "jdbc:postgresql://db/x"
    assert parse_type("k", "\x00a b\x1f ", ConfigType.STRING) == "a b"
    assert parse_type("k", "\u00a0a\u00a0", ConfigType.STRING) == "\u00a0a\u00a0"  # not Java whitespace to trim
    password = parse_type("k", " secret ", ConfigType.PASSWORD)
    assert isinstance(password, Password) and password.value == "secret"
    assert parse_type("k", " a , b ,", ConfigType.LIST) == ["a", "b", ""]
    d = ConfigDef().define("name", ConfigType.STRING, "", None, Importance.HIGH, "doc")
    assert d.parse({"name": "  orders  "})["name"] == "orders"
