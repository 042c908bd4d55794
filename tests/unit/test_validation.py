"""Connector config validation: the ConfigInfos of /config/validate and the 400 message of create/update."""

import pytest

from miniconnect.config.configdef import ConfigDef, ConfigType, ConfigValue, Importance, one_of
from miniconnect.config.connector_config import COMMON_CONFIG, SINK_CONFIG, SOURCE_CONFIG, plugin_config_keys
from miniconnect.config.validation import (
    invalid_config_message,
    java_map_str,
    validate_connector_config,
    validate_or_raise,
)
from miniconnect.connector import SinkConnector, SinkTask, SourceConnector, SourceTask
from miniconnect.converters.base import Converter
from miniconnect.errors import BadRequest, ConnectError
from miniconnect.plugins import PluginNotFound, Plugins


class _SrcTask(SourceTask):
    async def start(self, props):
        pass

    async def poll(self):
        return None


class _SinkTask(SinkTask):
    async def start(self, props):
        pass

    async def put(self, records):
        pass


class DemoSourceConnector(SourceConnector):
    class_name = "com.example.DemoSourceConnector"
    task_class = _SrcTask
    config_def = (
        ConfigDef()
        .define("topic", ConfigType.STRING, importance=Importance.HIGH, documentation="Target topic", group="Demo")
        .define("mode", ConfigType.STRING, "bulk", one_of("bulk", "incrementing"), documentation="Mode", group="Demo")
    )

    def validate(self, props):
        values = super().validate(props)
        if props.get("mode") == "incrementing" and not props.get("column"):
            values["column"] = ConfigValue("column", None, errors=["column is required in incrementing mode"])
        return values

    async def task_configs(self, max_tasks):
        return [{}]


class DemoSinkConnector(SinkConnector):
    class_name = "com.example.DemoSinkConnector"
    task_class = _SinkTask

    async def task_configs(self, max_tasks):
        return [{}]


class LoudConverter(Converter):
    class_name = "com.example.LoudConverter"
    config_def = (
        ConfigDef()
        .define("converter.type", ConfigType.STRING, validator=one_of("key", "value", "header"), documentation="type")
        .define("volume", ConfigType.INT, 1, documentation="how loud", group="Loudness")
    )

    def configure(self, configs, is_key):
        pass

    def from_connect_data(self, topic, schema, value, headers=None):
        return None

    def to_connect_data(self, topic, data, headers=None):
        return None, None


@pytest.fixture
def plugins():
    p = Plugins(plugin_path=[], entry_points=[])
    for cls in (DemoSourceConnector, DemoSinkConnector, LoudConverter):
        p.register(cls)
    return p


def errors_of(infos):
    return {c["value"]["name"]: c["value"]["errors"] for c in infos["configs"] if c["value"] and c["value"]["errors"]}


def entry(infos, name):
    return next(c for c in infos["configs"] if (c["value"] or c["definition"])["name"] == name)


def test_framework_config_defs_match_kafka():
    common = [k.name for k in COMMON_CONFIG.keys.values()]
    assert common == [
        "name",
        "connector.class",
        "connector.plugin.version",
        "tasks.max",
        "tasks.max.enforce",
        "key.converter",
        "key.converter.plugin.version",
        "value.converter",
        "value.converter.plugin.version",
        "header.converter",
        "header.converter.plugin.version",
        "transforms",
        "predicates",
        "config.action.reload",
        "errors.retry.timeout",
        "errors.retry.delay.max.ms",
        "errors.tolerance",
        "errors.log.enable",
        "errors.log.include.messages",
    ]
    assert COMMON_CONFIG.keys["tasks.max"].info() == {
        "name": "tasks.max",
        "type": "INT",
        "required": False,
        "default_value": "1",
        "importance": "HIGH",
        "documentation": "Maximum number of tasks to use for this connector.",
        "group": "Common",
        "width": "SHORT",
        "display_name": "Tasks max",
        "dependents": [],
        "order": 4,
    }
    assert SOURCE_CONFIG.groups == [
        "Common",
        "Transforms",
        "Predicates",
        "Error Handling",
        "Topic Creation",
        "Exactly Once Support",
        "offsets.topic",
    ]
    assert list(SINK_CONFIG.keys)[-5:] == [
        "topics",
        "topics.regex",
        "errors.deadletterqueue.topic.name",
        "errors.deadletterqueue.topic.replication.factor",
        "errors.deadletterqueue.context.headers.enable",
    ]
    assert SINK_CONFIG.keys["topics"].info()["default_value"] == ""
    assert SOURCE_CONFIG.keys["transaction.boundary"].default == "poll"
    assert SOURCE_CONFIG.keys["exactly.once.support"].default == "requested"


def test_plugin_config_keys_own_keys_first():
    names = [k["name"] for k in plugin_config_keys(DemoSourceConnector)]
    assert names[:3] == ["topic", "mode", "name"] and "topics" not in names
    assert len(names) == len(set(names))


def test_missing_connector_class_is_bad_request(plugins):
    with pytest.raises(BadRequest) as e:
        validate_connector_config(plugins, {"topics": "t", "name": "x"})
    # in the order of the java.util.HashMap Kafka prints (checked against Kafka 4.1.1 in the differential test)
    assert str(e.value) == "Connector config {name=x, topics=t} contains no connector type"
    with pytest.raises(BadRequest) as e:
        validate_connector_config(
            plugins,
            {"topics": "t", "a": "1", "zz": "2", "tasks.max": "3", "file": "f", "k1": "v", "k2": "v", "name": "x"},
        )
    assert str(e.value) == (
        "Connector config {zz=2, a=1, file=f, topics=t, tasks.max=3, k1=v, k2=v, name=x} contains no connector type"
    )


def test_unknown_connector_class(plugins):
    with pytest.raises(
        PluginNotFound,
        match="Failed to find any class that implements Connector and which name "
        "matches Nope, available connectors are: ",
    ):
        validate_connector_config(plugins, {"connector.class": "Nope", "name": "x"})


def test_valid_source_config(plugins):
    infos = validate_connector_config(
        plugins, {"connector.class": "DemoSource", "name": "src", "topic": "t", "tasks.max": "2"}
    )
    assert infos["name"] == "DemoSource" and infos["error_count"] == 0
    assert infos["groups"] == [
        "Common",
        "Transforms",
        "Predicates",
        "Error Handling",
        "Topic Creation",
        "Exactly Once Support",
        "offsets.topic",
        "Demo",
    ]
    assert entry(infos, "tasks.max")["value"] == {
        "name": "tasks.max",
        "value": "2",
        "recommended_values": [],
        "errors": [],
        "visible": True,
    }
    assert entry(infos, "topic")["definition"]["group"] == "Demo"
    assert invalid_config_message(infos) is None
    assert validate_or_raise(plugins, {"connector.class": "DemoSource", "name": "src", "topic": "t"}) is not None


def test_errors_and_message(plugins):
    props = {"connector.class": "DemoSource", "name": "", "tasks.max": "0", "mode": "incrementing", "undeclared": None}
    infos = validate_connector_config(plugins, props)
    errs = errors_of(infos)
    assert errs["name"] == ["Invalid value  for configuration name: String may not be empty"]
    assert errs["tasks.max"] == ["Invalid value 0 for configuration tasks.max: Value must be at least 1"]
    assert errs["topic"] == ['Missing required configuration "topic" which has no default value.']
    assert errs["undeclared"] == ["Null value can not be supplied as the configuration value."]
    assert errs["column"] == ["column is required in incrementing mode"]
    # values without a definition come first
    assert infos["configs"][0]["definition"] is None
    assert infos["error_count"] == 5
    message = invalid_config_message(infos)
    lines = message.split("\n")
    assert lines[0] == "Connector configuration is invalid and contains the following 5 error(s):"
    assert lines[-1] == (
        "You can also find the above list of errors at the endpoint "
        "`/connector-plugins/{connectorType}/config/validate`"
    )
    assert set(lines[1:-1]) == {e for es in errs.values() for e in es}
    with pytest.raises(BadRequest) as e:
        validate_or_raise(plugins, props)
    assert str(e.value) == message


def test_control_characters_in_name(plugins):
    infos = validate_connector_config(plugins, {"connector.class": "DemoSource", "name": "a\nb\x7f", "topic": "t"})
    assert errors_of(infos)["name"] == [
        "Invalid value a\nb\x7f for configuration name: String may not contain "
        "control sequences but had the following ASCII chars: 10, 127"
    ]


def test_unparseable_int_reports_like_kafka(plugins):
    infos = validate_connector_config(
        plugins, {"connector.class": "DemoSource", "name": "n", "topic": "t", "tasks.max": "abc"}
    )
    assert errors_of(infos)["tasks.max"] == [
        "Invalid value abc for configuration tasks.max: Not a number of type INT",
        "Invalid value null for configuration tasks.max: Value must be non-null",
    ]


def test_sink_needs_topics_or_regex(plugins):
    base = {"connector.class": "com.example.DemoSinkConnector", "name": "s"}
    errs = errors_of(validate_connector_config(plugins, base))
    assert errs["topics"] == errs["topics.regex"] == ["Must configure one of topics or topics.regex"]
    errs = errors_of(validate_connector_config(plugins, {**base, "topics": "a", "topics.regex": "b.*"}))
    assert errs["topics"] == ["topics and topics.regex are mutually exclusive options, but both are set."]
    assert errs["topics.regex"] == ["topics and topics.regex are mutually exclusive options, but both are set."]
    assert validate_connector_config(plugins, {**base, "topics": "a"})["error_count"] == 0
    assert validate_connector_config(plugins, {**base, "topics.regex": "a.*"})["error_count"] == 0


def test_sink_bad_regex_and_dlq_rules(plugins):
    base = {"connector.class": "DemoSink", "name": "s"}
    errs = errors_of(validate_connector_config(plugins, {**base, "topics.regex": "["}))
    assert errs["topics.regex"][0].startswith("Invalid value [ for configuration topics.regex: Invalid regex: ")
    errs = errors_of(
        validate_connector_config(plugins, {**base, "topics": "a, dlq,a", "errors.deadletterqueue.topic.name": "dlq"})
    )
    assert errs["topics"] == [
        "The DLQ topic 'dlq' may not be included in the list of topics ('topics=[a, dlq]') consumed by the connector"
    ]
    errs = errors_of(
        validate_connector_config(plugins, {**base, "topics.regex": "d.*", "errors.deadletterqueue.topic.name": "dlq"})
    )
    assert errs["topics.regex"] == [
        "The DLQ topic 'dlq' may not be matched by the regex for the topics "
        "('topics.regex=d.*') consumed by the connector"
    ]


def test_topic_creation_groups_are_not_validated_as_kafka_4_1_does_not(plugins):
    """Kafka 4.1's validation lists topic.creation.groups and none of the groups' keys (checked against its JVM
    worker in both modes): bad group settings are found when the connector starts (runtime/topic_creation.py)."""
    base = {"connector.class": "DemoSource", "name": "s", "topic": "t"}
    infos = validate_connector_config(
        plugins,
        {
            **base,
            "topic.creation.default.partitions": "0",
            "topic.creation.groups": "compacted",
            "topic.creation.compacted.include": "c.*",
        },
    )
    assert infos["error_count"] == 0
    names = [(e["definition"] or e["value"])["name"] for e in infos["configs"]]
    assert [n for n in names if n.startswith("topic.creation")] == ["topic.creation.groups"]
    assert entry(infos, "topic.creation.groups")["value"]["value"] == "compacted"


def test_converter_keys_validated_with_prefix(plugins):
    infos = validate_connector_config(
        plugins,
        {
            "connector.class": "DemoSource",
            "name": "n",
            "topic": "t",
            "value.converter": "Loud",
            "value.converter.volume": "x",
            "key.converter": "Missing",
        },
    )
    errs = errors_of(infos)
    assert errs["key.converter"] == [
        "Invalid value Missing for configuration key.converter: Class Missing could not be found."
    ]
    assert errs["value.converter.volume"] == ["Invalid value x for configuration volume: Not a number of type INT"]
    vol = entry(infos, "value.converter.volume")
    assert vol["definition"]["name"] == "value.converter.volume"
    assert entry(infos, "value.converter.converter.type")["value"]["value"] == "value"
    assert "Loudness" in infos["groups"]
    assert infos["error_count"] == 2


def test_ambiguous_class_raises(plugins):
    class OtherDemoSourceConnector(DemoSourceConnector):
        class_name = "org.other.DemoSourceConnector"

    plugins.register(OtherDemoSourceConnector)
    with pytest.raises(ConnectError, match="More than one connector matches alias DemoSource"):
        validate_connector_config(plugins, {"connector.class": "DemoSource", "name": "x"})


def test_java_map_str():
    assert java_map_str({"a": "1", "b": None, "c": "x y"}) == "{a=1, b=null, c=x y}"
    assert java_map_str({}) == "{}"


def test_transformation_and_predicate_aliases_are_enriched_with_their_class_keys(plugins):
    """ConnectorConfig.enrich: each alias gets a required `<transforms|predicates>.<alias>.type` key and the keys of
    the class it names, prefixed, in the alias's group, sorted by name (ConfigDef.embed of sortedConfigs), with the
    class's own validators and messages (names unprefixed, as Kafka's embedded validators report them)."""
    props = {
        "connector.class": "DemoSink",
        "name": "s",
        "topics": "t",
        "transforms": "route,unwrap,key,bad,cast",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": ".*",
        "predicates": "isT",
        "transforms.key.type": "ValueToKey",
        "transforms.key.fields": "",
        "transforms.bad.type": "org.example.Nope",
        "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.cast.spec": "a:foo",
        "transforms.cast.negate": "true",
    }
    infos = validate_connector_config(plugins, props)
    errs = errors_of(infos)
    assert errs == {
        "transforms.route.replacement": [
            'Missing required configuration "transforms.route.replacement" which has no default value.'
        ],
        "transforms.unwrap.type": [
            'Missing required configuration "transforms.unwrap.type" which has no default value.'
        ],
        "transforms.key.fields": ["Invalid value [] for configuration fields: Empty list"],
        "transforms.bad.type": [
            "Invalid value org.example.Nope for configuration transforms.bad.type: Class "
            "org.example.Nope could not be found."
        ],
        "transforms.cast.type": [
            "Config 'transforms.cast.negate' was provided but there is no config "
            "'transforms.cast.predicate' defining a predicate to be negated."
        ],
        "transforms.cast.spec": [
            "Invalid value java.lang.IllegalArgumentException: No enum constant "
            "org.apache.kafka.connect.data.Schema.Type.FOO for configuration Invalid type found in casting spec: foo"
        ],
        "predicates.isT.type": ['Missing required configuration "predicates.isT.type" which has no default value.'],
    }
    assert infos["error_count"] == 7
    definition = entry(infos, "transforms.route.type")["definition"]
    assert (definition["group"], definition["display_name"], definition["required"]) == (
        "Transforms: route",
        "Transformation type for route",
        True,
    )
    names = [
        c["definition"]["name"]
        for c in infos["configs"]
        if c["definition"] and c["definition"]["group"] == "Transforms: route"
    ]
    # Kafka 4.1's order: type, plugin.version, then the class's keys and predicate/negate as ConfigDef.sortedConfigs
    # orders them (no default first, then importance, then name)
    assert names == [
        "transforms.route.type",
        "transforms.route.plugin.version",
        "transforms.route.regex",
        "transforms.route.replacement",
        "transforms.route.negate",
        "transforms.route.predicate",
    ]
    regex = entry(infos, "transforms.route.regex")["definition"]
    assert (regex["order"], regex["display_name"], regex["documentation"]) == (
        2,
        "regex",
        "Regular expression to use for matching.",
    )
    version = entry(infos, "transforms.route.plugin.version")["definition"]
    assert (version["display_name"], version["documentation"], version["importance"], version["order"]) == (
        "Transformation version for route",
        "Version of the 'route' transformation.",
        "HIGH",
        1,
    )
    assert entry(infos, "predicates.isT.type")["definition"]["group"] == "Predicates: isT"
    # the type keys recommend every installed class of their kind (EnrichablePlugin.ClassRecommender)
    recommended = entry(infos, "transforms.route.type")["value"]["recommended_values"]
    assert len(recommended) == 26 and "org.apache.kafka.connect.transforms.ValueToKey" in recommended
    assert entry(infos, "predicates.isT.type")["value"]["recommended_values"] == [
        "org.apache.kafka.connect.transforms.predicates." + n
        for n in ("HasHeaderKey", "RecordIsTombstone", "TopicNameMatches")
    ]
    assert infos["groups"][:7] == [
        "Common",
        "Transforms",
        "Predicates",
        "Error Handling",
        "Transforms: route",
        "Transforms: unwrap",
        "Transforms: key",
    ]
    with pytest.raises(BadRequest, match=r"contains the following 7 error\(s\)"):
        validate_or_raise(plugins, props)
    # no aliases, no alias keys: an empty list is valid
    plain = {k: v for k, v in props.items() if not k.startswith(("transforms", "predicates"))}
    assert validate_connector_config(plugins, {**plain, "transforms": ""})["error_count"] == 0


def test_bad_transform_configs_are_refused_with_kafkas_messages(plugins):
    base = {"connector.class": "DemoSink", "name": "s", "topics": "t"}
    cases = [
        (
            {
                "transforms": "r",
                "transforms.r.type": "RegexRouter",
                "transforms.r.regex": "(a",
                "transforms.r.replacement": "x",
            },
            "transforms.r.regex",
            "Invalid value (a for configuration regex: Invalid regex: ",
        ),
        (
            {
                "transforms": "c",
                "transforms.c.type": "org.apache.kafka.connect.transforms.Cast$Key",
                "transforms.c.spec": "int33",
            },
            "transforms.c.spec",
            "Invalid value java.lang.IllegalArgumentException: No enum constant "
            "org.apache.kafka.connect.data.Schema.Type.INT33 for configuration Invalid type found in casting spec: int33",
        ),
        (
            {"transforms": "f", "transforms.f.type": "Filter", "transforms.f.predicate": "nope"},
            "transforms.f.predicate",
            "Invalid value nope for configuration transforms.f.predicate: Unknown configuration 'predicates.nope.type'",
        ),
        ({"transforms": "x"}, "transforms.x.type", 'Missing required configuration "transforms.x.type"'),
        (
            {"transforms": "v", "transforms.v.type": "ValueToKey", "transforms.v.plugin.version": "9.9"},
            "transforms.v.type",
            "Plugin org.apache.kafka.connect.transforms.ValueToKey not found that matches the "
            "version range [9.9,9.9], available versions: [",
        ),
        (
            {"predicates": "p", "predicates.p.type": "TopicNameMatches"},
            "predicates.p.pattern",
            'Missing required configuration "predicates.p.pattern"',
        ),
    ]
    for extra, key, message in cases:
        errs = errors_of(validate_connector_config(plugins, {**base, **extra}))
        assert key in errs and errs[key][0].startswith(message), (extra, errs)
        assert len(errs) == 1 or key == "transforms.v.type", errs
    # a missing required value is also run through its validator, as Kafka's ConfigDef.validate does
    errs = errors_of(
        validate_connector_config(
            plugins,
            {
                **base,
                "transforms": "r",
                "transforms.r.type": "RegexRouter",
                "predicates": "p",
                "predicates.p.type": "TopicNameMatches",
            },
        )
    )
    assert errs["transforms.r.regex"] == [
        'Missing required configuration "transforms.r.regex" which has no default value.',
        'Invalid value null for configuration regex: Invalid regex: Cannot invoke "String.isEmpty()" because '
        '"this.pattern" is null',
    ]
    assert errs["predicates.p.pattern"][1].startswith("Invalid value null for configuration pattern: Invalid regex")
    assert errs["transforms.r.replacement"] == [
        'Missing required configuration "transforms.r.replacement" which has no default value.'
    ]
    ok_version = {
        "transforms": "r",
        "transforms.r.type": "RegexRouter",
        "transforms.r.regex": "a",
        "transforms.r.replacement": "b",
        "transforms.r.plugin.version": "[0.0.1,99)",
    }
    assert validate_connector_config(plugins, {**base, **ok_version})["error_count"] == 0
    ok = {
        "transforms": "f",
        "transforms.f.type": "Filter",
        "transforms.f.predicate": "isT",
        "transforms.f.negate": "true",
        "predicates": "isT",
        "predicates.isT.type": "TopicNameMatches",
        "predicates.isT.pattern": "t.*",
    }
    assert validate_connector_config(plugins, {**base, **ok})["error_count"] == 0


def test_unknown_transformation_class_and_negate_without_predicate_are_both_reported(plugins):
    """Kafka: the class's parse error, then the `.type` validator's negate error, on a null value."""
    infos = validate_connector_config(
        plugins,
        {"connector.class": "DemoSink", "name": "x", "topics": "t", "transforms": "b"}
        | {"transforms.b.type": "NoSuch", "transforms.b.negate": "x"},
    )
    entry = next(c["value"] for c in infos["configs"] if c["value"] and c["value"]["name"] == "transforms.b.type")
    assert entry["value"] is None
    assert entry["errors"] == [
        "Invalid value NoSuch for configuration transforms.b.type: Class NoSuch could not be found.",
        "Config 'transforms.b.negate' was provided but there is no config 'transforms.b.predicate' defining a "
        "predicate to be negated.",
    ]


def test_a_distributed_sink_may_not_join_the_workers_group(plugins):
    """DistributedHerder.validateSinkConnectorGroupId; a standalone worker has no group to protect."""
    distributed = {"group.id": "connect-cluster"}
    sink = {"connector.class": "DemoSink", "topics": "t"}

    def entry(infos, name):
        return next(c for c in infos["configs"] if c["value"] and c["value"]["name"] == name)

    infos = validate_connector_config(plugins, sink | {"name": "cluster"}, distributed)
    assert entry(infos, "name")["value"]["errors"] == [
        "Consumer group for sink connector named cluster conflicts with Connect worker group connect-cluster"
    ]
    infos = validate_connector_config(
        plugins, sink | {"name": "s", "consumer.override.group.id": "connect-cluster"}, distributed
    )
    first = infos["configs"][0]  # a value with no definition is listed first
    assert first["definition"] is None and first["value"]["name"] == "consumer.override.group.id"
    assert first["value"]["errors"] == [
        "Consumer group connect-cluster conflicts with Connect worker group connect-cluster"
    ]
    assert infos["error_count"] == 1
    infos = validate_connector_config(plugins, sink | {"name": "s", "consumer.override.group.id": "mine"}, distributed)
    assert infos["configs"][0]["value"] == {
        "name": "consumer.override.group.id",
        "value": "mine",
        "recommended_values": [],
        "errors": [],
        "visible": True,
    }
    assert validate_connector_config(plugins, sink | {"name": "cluster"}, {})["error_count"] == 0
