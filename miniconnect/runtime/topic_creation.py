"""KIP-158 topic creation for source connectors: which settings a topic a source task writes to gets when the
worker creates it.

On for a connector when the worker has `topic.creation.enable=true` and the connector sets both
`topic.creation.default.replication.factor` and `topic.creation.default.partitions`. Groups listed in
`topic.creation.groups` are tried in that order (a topic must fully match one of the group's `include` regexes
and none of its `exclude` ones); the `default` group applies when none matches. A group's partitions and
replication factor default to the default group's; every other `topic.creation.<group>.<name>` is passed as topic
config `<name>`. -1 for partitions or replication factor means the broker's default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..transport.base import NewTopic

PREFIX = "topic.creation."
GROUPS = PREFIX + "groups"
DEFAULT_GROUP = "default"
_STRUCTURAL = ("include", "exclude", "replication.factor", "partitions")


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _int(config: Mapping[str, Any], key: str, default: int | None, minimum: int) -> int | None:
    raw = config.get(key)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(key, raw, "Not a number") from None
    if value != -1 and value < minimum:
        raise ConfigError(key, raw, f"Must be -1 (broker default) or at least {minimum}")
    return value


def _pattern(key: str, regexes: list[str]) -> re.Pattern | None:
    if not regexes:
        return None
    try:
        return re.compile("|".join(f"(?:{r})" for r in regexes))
    except re.error as e:
        raise ConfigError(key, ",".join(regexes), f"Invalid regex: {e}") from None


@dataclass(frozen=True)
class TopicCreationGroup:
    name: str
    include: re.Pattern | None
    exclude: re.Pattern | None
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)

    def matches(self, topic: str) -> bool:
        return (
            self.include is not None
            and self.include.fullmatch(topic) is not None
            and (self.exclude is None or self.exclude.fullmatch(topic) is None)
        )

    def new_topic(self, topic: str) -> NewTopic:
        return NewTopic(topic, self.partitions, self.replication_factor, dict(self.configs))


class TopicCreation:
    """Built once per connector; `new_topic_for` is called for topics the task has not written to yet."""

    def __init__(self, worker_enabled: bool, connector_config: Mapping[str, Any]):
        self.groups: list[TopicCreationGroup] = []
        self.default: TopicCreationGroup | None = None
        cfg = connector_config
        default_rf = _int(cfg, PREFIX + "default.replication.factor", None, 1)
        default_partitions = _int(cfg, PREFIX + "default.partitions", None, 1)
        if not worker_enabled or default_rf is None or default_partitions is None:
            return
        self.default = self._group(DEFAULT_GROUP, cfg, default_rf, default_partitions)
        seen = {DEFAULT_GROUP}
        for name in _list(cfg.get(GROUPS)):
            if name not in seen:  # a group named "default" is the default group, configured once
                seen.add(name)
                self.groups.append(self._group(name, cfg, default_rf, default_partitions))
        self._cache: dict[str, TopicCreationGroup] = {}

    @staticmethod
    def _group(name: str, cfg: Mapping[str, Any], default_rf: int, default_partitions: int) -> TopicCreationGroup:
        p = f"{PREFIX}{name}."
        include = _list(cfg.get(p + "include")) or ([".*"] if name == DEFAULT_GROUP else [])
        others = {
            k[len(p) :]: str(v)
            for k, v in cfg.items()
            if k.startswith(p) and v is not None and k[len(p) :] not in _STRUCTURAL
        }
        return TopicCreationGroup(
            name=name,
            include=_pattern(p + "include", include),
            exclude=_pattern(p + "exclude", _list(cfg.get(p + "exclude"))),
            partitions=_int(cfg, p + "partitions", default_partitions, 1),
            replication_factor=_int(cfg, p + "replication.factor", default_rf, 1),
            configs=others,
        )

    @property
    def enabled(self) -> bool:
        return self.default is not None

    def group_for(self, topic: str) -> TopicCreationGroup | None:
        if self.default is None:
            return None
        group = self._cache.get(topic)
        if group is None:
            group = next((g for g in self.groups if g.matches(topic)), self.default)
            self._cache[topic] = group
        return group

    def new_topic_for(self, topic: str) -> NewTopic | None:
        """The topic to create for `topic` (settings of the first matching group), or None when disabled."""
        group = self.group_for(topic)
        return group.new_topic(topic) if group is not None else None
