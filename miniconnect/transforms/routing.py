"""Transforms that route or drop records, as Kafka's: RegexRouter (topic renamed by a regex) and Filter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config.configdef import NO_DEFAULT, ConfigDef
from ..config.configdef import ConfigType as T
from ..config.configdef import Importance as I
from ..config.javaregex import compile_java, java_replacement, regex_validator
from .base import Transformation, record_setter, with_fields


class RegexRouter(Transformation):
    """Update the record topic using the configured regular expression and replacement string."""

    class_name = "org.apache.kafka.connect.transforms.RegexRouter"
    config_def = (
        ConfigDef()
        .define("regex", T.STRING, NO_DEFAULT, regex_validator(), I.HIGH, "Regular expression to use for matching.")
        .define("replacement", T.STRING, NO_DEFAULT, None, I.HIGH, "Replacement string.")
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        self.regex = compile_java(c["regex"])
        self.expand = java_replacement(c["replacement"])
        self._topics: dict[str, str] = {}  # a task sees few topics: each is renamed once

    def apply(self, record: Any) -> Any:
        topic = record.topic
        renamed = self._topics.get(topic)
        if renamed is None:
            m = self.regex.fullmatch(topic)
            renamed = topic if m is None else self.regex.sub(self.expand, topic, count=1)
            if len(self._topics) < 1000:
                self._topics[topic] = renamed
        return record if renamed == topic else with_fields(record, topic=renamed)

    def apply_batch(self, records: Any) -> list[Any]:
        if not records:
            return []
        first = records[0].topic
        if all(r.topic == first for r in records):
            renamed = self.apply(records[0]).topic
            if renamed == first:
                return list(records)
            setter = record_setter(type(records[0]), ("topic",))
            return [setter(r, renamed) for r in records]
        return list(map(self.apply, records))


class Filter(Transformation):
    """Drops all records, filtering them from subsequent transformations in the chain. This is intended to be used
    conditionally to filter out records matching (or not matching) a particular Predicate."""

    class_name = "org.apache.kafka.connect.transforms.Filter"

    def apply(self, record: Any) -> None:
        return None

    def apply_batch(self, records: Any) -> list[None]:
        return [None] * len(records)
