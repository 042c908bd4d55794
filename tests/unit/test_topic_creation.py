"""KIP-158 topic creation rules."""

import pytest

from miniconnect.errors import ConfigError
from miniconnect.runtime.topic_creation import TopicCreation
from miniconnect.transport.base import NewTopic

BASE = {"topic.creation.default.replication.factor": "3", "topic.creation.default.partitions": "5"}


def test_disabled_without_worker_flag_or_default_settings():
    assert TopicCreation(False, BASE).new_topic_for("t") is None
    assert TopicCreation(True, {"topic.creation.default.partitions": "5"}).new_topic_for("t") is None
    assert TopicCreation(True, {"topic.creation.default.replication.factor": "1"}).new_topic_for("t") is None
    assert not TopicCreation(True, {}).enabled


def test_default_group_applies_to_every_topic_with_its_other_configs():
    tc = TopicCreation(
        True,
        {
            **BASE,
            "topic.creation.default.cleanup.policy": "compact",
            "topic.creation.default.min.insync.replicas": "2",
            "name": "x",
        },
    )
    assert tc.enabled
    assert tc.new_topic_for("any.topic") == NewTopic(
        "any.topic", 5, 3, {"cleanup.policy": "compact", "min.insync.replicas": "2"}
    )


def test_first_matching_group_in_given_order_wins_and_inherits_default_sizes():
    tc = TopicCreation(
        True,
        {
            **BASE,
            "topic.creation.groups": "inorder, compacted",
            "topic.creation.inorder.include": "status, orders.*",
            "topic.creation.inorder.partitions": "1",
            "topic.creation.compacted.include": "orders.*, .*config",
            "topic.creation.compacted.exclude": "orders.tmp",
            "topic.creation.compacted.replication.factor": "1",
            "topic.creation.compacted.cleanup.policy": "compact",
        },
    )
    assert tc.new_topic_for("orders.eu") == NewTopic("orders.eu", 1, 3, {})
    assert tc.new_topic_for("status") == NewTopic("status", 1, 3, {})
    assert tc.new_topic_for("app.config") == NewTopic("app.config", 5, 1, {"cleanup.policy": "compact"})
    # include is a full match: "status2" and "xstatus" fall through to the default group
    assert tc.new_topic_for("status2") == NewTopic("status2", 5, 3, {})
    assert tc.new_topic_for("xstatus").partitions == 5


def test_exclude_sends_topic_to_the_next_group_or_default():
    tc = TopicCreation(
        True,
        {
            **BASE,
            "topic.creation.groups": "a,b",
            "topic.creation.a.include": "logs\\..*",
            "topic.creation.a.exclude": "logs\\.debug.*",
            "topic.creation.a.partitions": "2",
            "topic.creation.b.include": "logs\\.debug",
            "topic.creation.b.partitions": "7",
        },
    )
    assert tc.new_topic_for("logs.app").partitions == 2
    assert tc.new_topic_for("logs.debug").partitions == 7
    assert tc.new_topic_for("logs.debug2").partitions == 5


def test_group_without_include_matches_nothing_and_minus_one_means_broker_default():
    tc = TopicCreation(
        True,
        {
            "topic.creation.default.replication.factor": "-1",
            "topic.creation.default.partitions": "-1",
            "topic.creation.groups": "g",
            "topic.creation.g.partitions": "9",
        },
    )
    assert tc.new_topic_for("t") == NewTopic("t", -1, -1, {})


@pytest.mark.parametrize(
    "key,value",
    [
        ("topic.creation.default.partitions", "0"),
        ("topic.creation.default.replication.factor", "abc"),
        ("topic.creation.g.include", "(unclosed"),
    ],
)
def test_invalid_settings_raise_config_errors_naming_the_key(key, value):
    with pytest.raises(ConfigError) as e:
        TopicCreation(True, {**BASE, "topic.creation.groups": "g", key: value})
    assert e.value.name == key
