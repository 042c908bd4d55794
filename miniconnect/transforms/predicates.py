"""Predicates that decide whether a transformation applies, as Kafka's: HasHeaderKey, RecordIsTombstone,
TopicNameMatches."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..config.configdef import NO_DEFAULT, ConfigDef, non_empty_string
from ..config.configdef import ConfigType as T
from ..config.configdef import Importance as I
from ..config.javaregex import compile_java, regex_validator
from ..errors import ConfigError
from .base import Predicate


class _Both:
    """ConfigDef.CompositeValidator: each validator in turn."""

    def __init__(self, *validators: Any):
        self.validators = validators
        self.null_reason = next((r for r in (getattr(v, "null_reason", None) for v in validators) if r), None)

    def __call__(self, name: str, value: Any) -> None:
        for v in self.validators:
            v(name, value)

    def __str__(self) -> str:
        return "[" + ", ".join(map(str, self.validators)) + "]"


class HasHeaderKey(Predicate):
    """A predicate which is true for records with at least one header with the configured name."""

    class_name = "org.apache.kafka.connect.transforms.predicates.HasHeaderKey"
    config_def = ConfigDef().define("name", T.STRING, NO_DEFAULT, non_empty_string(), I.MEDIUM, "The header name.")

    def configure(self, props: Mapping[str, Any]) -> None:
        self.name = self.config_def.parse(props)["name"]

    def test(self, record: Any) -> bool:
        name = self.name
        return any(h[0] == name for h in record.headers)


class RecordIsTombstone(Predicate):
    """A predicate which is true for records which are tombstones (i.e. have null value)."""

    class_name = "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"

    def test(self, record: Any) -> bool:
        return record.value is None


class TopicNameMatches(Predicate):
    """A predicate which is true for records with a topic name that matches the configured regular expression."""

    class_name = "org.apache.kafka.connect.transforms.predicates.TopicNameMatches"
    config_def = ConfigDef().define(
        "pattern",
        T.STRING,
        NO_DEFAULT,
        _Both(non_empty_string(), regex_validator()),
        I.MEDIUM,
        "A Java regular expression for matching against the name of a record's topic.",
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        value = self.config_def.parse(props)["pattern"]
        try:
            self.pattern = compile_java(value)
        except re.error as e:
            raise ConfigError("pattern", value, f"entry must be a Java-compatible regular expression: {e}") from e
        self._topics: dict[str, bool] = {}

    def test(self, record: Any) -> bool:
        topic = record.topic
        hit = self._topics.get(topic)
        if hit is None:
            hit = topic is not None and self.pattern.fullmatch(topic) is not None
            if len(self._topics) < 1000:
                self._topics[topic] = hit
        return hit
