"""The framework's connector keys, declared as Kafka's ConnectorConfig / SinkConnectorConfig /
SourceConnectorConfig / TopicCreationConfig declare them (3.9: names, types, defaults, docs, groups, orders)."""

from __future__ import annotations

import dataclasses
from typing import Any

from .configdef import (
    NO_DEFAULT,
    ConfigDef,
    ConfigKey,
    ConfigType,
    Importance,
    Width,
    at_least,
    custom,
    non_empty_string,
    non_empty_string_without_control_chars,
    one_of,
)
from .javaregex import regex_validator

T, I, W = ConfigType, Importance, Width

COMMON_GROUP = "Common"
TRANSFORMS_GROUP = "Transforms"
PREDICATES_GROUP = "Predicates"
ERROR_GROUP = "Error Handling"
TOPIC_CREATION_GROUP = "Topic Creation"
EXACTLY_ONCE_SUPPORT_GROUP = "Exactly Once Support"
OFFSETS_TOPIC_GROUP = "offsets.topic"

NAME_CONFIG = "name"
CONNECTOR_CLASS_CONFIG = "connector.class"
CONNECTOR_VERSION_CONFIG = "connector.plugin.version"  # 4.1 (KIP-891), as each *.converter.plugin.version
TASKS_MAX_CONFIG = "tasks.max"
TOPICS_CONFIG = "topics"
TOPICS_REGEX_CONFIG = "topics.regex"
DLQ_PREFIX = "errors.deadletterqueue."
DLQ_TOPIC_NAME_CONFIG = DLQ_PREFIX + "topic.name"
TOPIC_CREATION_PREFIX = "topic.creation."
TOPIC_CREATION_GROUPS_CONFIG = TOPIC_CREATION_PREFIX + "groups"
DEFAULT_TOPIC_CREATION_GROUP = "default"

KEY_CONVERTER_CLASS_DOC = (
    "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka."
    " This controls the format of the keys in messages written to or read from Kafka, and since this is"
    " independent of connectors it allows any connector to work with any serialization format."
    " Examples of common formats include JSON and Avro."
)
VALUE_CONVERTER_CLASS_DOC = (
    "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka."
    " This controls the format of the values in messages written to or read from Kafka, and since this is"
    " independent of connectors it allows any connector to work with any serialization format."
    " Examples of common formats include JSON and Avro."
)
HEADER_CONVERTER_CLASS_DOC = (
    "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to"
    " Kafka. This controls the format of the header values in messages written to or read from Kafka, and since"
    " this is independent of connectors it allows any connector to work with any serialization format."
    " Examples of common formats include JSON and Avro. By default, the SimpleHeaderConverter is used to serialize"
    " header values to strings and deserialize them by inferring the schemas."
)

_CONNECTOR_CLASS_DOC = (
    "Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector. "
    "If the connector is org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify this full name, "
    ' or use "FileStreamSink" or "FileStreamSinkConnector" to make the configuration a bit shorter'
)
_TASKS_MAX_ENFORCE_DOC = (
    "(Deprecated) Whether to enforce that the tasks.max property is respected by the connector. "
    "By default, connectors that generate too many tasks will fail, and existing sets of tasks that exceed the "
    "tasks.max property will also be failed. If this property is set to false, then connectors will be allowed to "
    "generate more than the maximum number of tasks, and existing sets of tasks that exceed the tasks.max property "
    "will be allowed to run. This property is deprecated and will be removed in an upcoming major release."
)
_CONFIG_RELOAD_ACTION_DOC = (
    "The action that Connect should take on the connector when changes in external configuration providers result "
    "in a change in the connector's configuration properties. A value of 'none' indicates that Connect will do "
    "nothing. A value of 'restart' indicates that Connect should restart/reload the connector with the updated "
    "configuration properties.The restart may actually be scheduled in the future if the external configuration "
    "provider indicates that a configuration value will expire in the future."
)
_ERRORS_RETRY_TIMEOUT_DOC = (
    "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which "
    "means no retries will be attempted. Use -1 for infinite retries."
)
_ERRORS_RETRY_MAX_DELAY_DOC = (
    "The maximum duration in milliseconds between consecutive retry attempts. Jitter will be added to the delay "
    "once this limit is reached to prevent thundering herd issues."
)
_ERRORS_TOLERANCE_DOC = (
    "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any "
    "error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic "
    "records."
)
_ERRORS_LOG_ENABLE_DOC = (
    "If true, write each error and the details of the failed operation and problematic record to the Connect "
    "application log. This is 'false' by default, so that only errors that are not tolerated are reported."
)
_ERRORS_LOG_INCLUDE_MESSAGES_DOC = (
    "Whether to include in the log the Connect record that resulted in a failure. For sink records, the topic, "
    "partition, offset, and timestamp will be logged. For source records, the key and value (and their schemas), "
    "all headers, and the timestamp, Kafka topic, Kafka partition, source partition, and source offset will be "
    "logged. This is 'false' by default, which will prevent record keys, values, and headers from being written to "
    "log files."
)


def _unique_aliases(kind: str):
    return custom(lambda v: "Duplicate alias provided." if len(v) > len(set(v)) else None, f"unique {kind}")


def _common_config() -> ConfigDef:
    d = ConfigDef()
    order = iter(range(1, 100))
    d.define(
        NAME_CONFIG,
        T.STRING,
        NO_DEFAULT,
        non_empty_string_without_control_chars(),
        I.HIGH,
        "Globally unique name to use for this connector.",
        COMMON_GROUP,
        next(order),
        W.MEDIUM,
        "Connector name",
    )
    d.define(
        CONNECTOR_CLASS_CONFIG,
        T.STRING,
        NO_DEFAULT,
        None,
        I.HIGH,
        _CONNECTOR_CLASS_DOC,
        COMMON_GROUP,
        next(order),
        W.LONG,
        "Connector class",
    )
    d.define(
        CONNECTOR_VERSION_CONFIG,
        T.STRING,
        None,
        None,
        I.MEDIUM,
        "Version of the connector.",
        COMMON_GROUP,
        next(order),
        W.MEDIUM,
        "Connector version",
    )
    d.define(
        TASKS_MAX_CONFIG,
        T.INT,
        1,
        at_least(1),
        I.HIGH,
        "Maximum number of tasks to use for this connector.",
        COMMON_GROUP,
        next(order),
        W.SHORT,
        "Tasks max",
    )
    d.define(
        "tasks.max.enforce",
        T.BOOLEAN,
        True,
        None,
        I.LOW,
        _TASKS_MAX_ENFORCE_DOC,
        COMMON_GROUP,
        next(order),
        W.SHORT,
        "Enforce tasks max",
    )
    d.define(
        "key.converter",
        T.CLASS,
        None,
        None,
        I.LOW,
        KEY_CONVERTER_CLASS_DOC,
        COMMON_GROUP,
        next(order),
        W.SHORT,
        "Key converter class",
    )
    d.define(
        "key.converter.plugin.version",
        T.STRING,
        None,
        None,
        I.LOW,
        "Version of the key converter.",
        COMMON_GROUP,
        next(order),
        W.SHORT,
        "Key converter version",
    )
    d.define(
        "value.converter",
        T.CLASS,
        None,
        None,
        I.LOW,
        VALUE_CONVERTER_CLASS_DOC,
        COMMON_GROUP,
        next(order),
        W.SHORT,
        "Value converter class",
    )
    d.define(
        "value.converter.plugin.version",
        T.STRING,
        None,
        None,
        I.LOW,
        "Version of the value converter.",
        COMMON_GROUP,
        next(order),
        W.SHORT,
        "Value converter version",
    )
    d.define(
        "header.converter",
        T.CLASS,
        None,
        None,
        I.LOW,
        HEADER_CONVERTER_CLASS_DOC,
        COMMON_GROUP,
        next(order),
        W.SHORT,
        "Header converter class",
    )
    d.define(
        "header.converter.plugin.version",
        T.STRING,
        None,
        None,
        I.LOW,
        "Version of the header converter.",
        COMMON_GROUP,
        next(order),
        W.SHORT,
        "Header converter version",
    )
    d.define(
        "transforms",
        T.LIST,
        [],
        _unique_aliases("transformation aliases"),
        I.LOW,
        "Aliases for the transformations to be applied to records.",
        TRANSFORMS_GROUP,
        next(order),
        W.LONG,
        "Transforms",
    )
    d.define(
        "predicates",
        T.LIST,
        [],
        _unique_aliases("predicate aliases"),
        I.LOW,
        "Aliases for the predicates used by transformations.",
        PREDICATES_GROUP,
        next(order),
        W.LONG,
        "Predicates",
    )
    d.define(
        "config.action.reload",
        T.STRING,
        "restart",
        one_of("none", "restart", case_sensitive=True),
        I.LOW,
        _CONFIG_RELOAD_ACTION_DOC,
        COMMON_GROUP,
        next(order),
        W.MEDIUM,
        "Reload Action",
    )
    err = iter(range(1, 100))
    d.define(
        "errors.retry.timeout",
        T.LONG,
        0,
        None,
        I.MEDIUM,
        _ERRORS_RETRY_TIMEOUT_DOC,
        ERROR_GROUP,
        next(err),
        W.MEDIUM,
        "Retry Timeout for Errors",
    )
    d.define(
        "errors.retry.delay.max.ms",
        T.LONG,
        60000,
        None,
        I.MEDIUM,
        _ERRORS_RETRY_MAX_DELAY_DOC,
        ERROR_GROUP,
        next(err),
        W.MEDIUM,
        "Maximum Delay Between Retries for Errors",
    )
    d.define(
        "errors.tolerance",
        T.STRING,
        "none",
        one_of("none", "all", case_sensitive=True),
        I.MEDIUM,
        _ERRORS_TOLERANCE_DOC,
        ERROR_GROUP,
        next(err),
        W.SHORT,
        "Error Tolerance",
    )
    d.define(
        "errors.log.enable",
        T.BOOLEAN,
        False,
        None,
        I.MEDIUM,
        _ERRORS_LOG_ENABLE_DOC,
        ERROR_GROUP,
        next(err),
        W.SHORT,
        "Log Errors",
    )
    d.define(
        "errors.log.include.messages",
        T.BOOLEAN,
        False,
        None,
        I.MEDIUM,
        _ERRORS_LOG_INCLUDE_MESSAGES_DOC,
        ERROR_GROUP,
        next(err),
        W.SHORT,
        "Log Error Details",
    )
    return d


def _sink_config() -> ConfigDef:
    d = _common_config()
    d.define(
        TOPICS_CONFIG,
        T.LIST,
        "",
        None,
        I.HIGH,
        "List of topics to consume, separated by commas",
        COMMON_GROUP,
        4,
        W.LONG,
        "Topics",
    )
    d.define(
        TOPICS_REGEX_CONFIG,
        T.STRING,
        "",
        regex_validator(null_fails=False),
        I.HIGH,
        "Regular expression giving topics to consume. Under the hood, the regex is compiled to a "
        "<code>java.util.regex.Pattern</code>. Only one of topics or topics.regex should be specified.",
        COMMON_GROUP,
        4,
        W.LONG,
        "Topics regex",
    )
    d.define(
        DLQ_TOPIC_NAME_CONFIG,
        T.STRING,
        "",
        None,
        I.MEDIUM,
        "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error "
        "when processed by this sink connector, or its transformations or converters. The topic name is blank "
        "by default, which means that no messages are to be recorded in the DLQ.",
        ERROR_GROUP,
        6,
        W.MEDIUM,
        "Dead Letter Queue Topic Name",
    )
    d.define(
        DLQ_PREFIX + "topic.replication.factor",
        T.SHORT,
        3,
        None,
        I.MEDIUM,
        "Replication factor used to create the dead letter queue topic when it doesn't already exist.",
        ERROR_GROUP,
        7,
        W.MEDIUM,
        "Dead Letter Queue Topic Replication Factor",
    )
    d.define(
        DLQ_PREFIX + "context.headers.enable",
        T.BOOLEAN,
        False,
        None,
        I.MEDIUM,
        "If true, add headers containing error context to the messages written to the dead letter queue. To "
        "avoid clashing with headers from the original record, all error context header keys, all error "
        "context header keys will start with <code>__connect.errors.</code>",
        ERROR_GROUP,
        8,
        W.MEDIUM,
        "Enable Error Context Headers",
    )
    return d


_EXACTLY_ONCE_SUPPORT_DOC = (
    'Permitted values are requested, required. If set to "required", forces a preflight check for the connector to '
    "ensure that it can provide exactly-once semantics with the given configuration. Some connectors may be capable "
    "of providing exactly-once semantics but not signal to Connect that they support this; in that case, "
    "documentation for the connector should be consulted carefully before creating it, and the value for this "
    'property should be set to "requested". Additionally, if the value is set to "required" but the worker that '
    "performs preflight validation does not have exactly-once support enabled for source connectors, requests to "
    "create or validate the connector will fail."
)
_TRANSACTION_BOUNDARY_DOC = (
    "Permitted values are: poll, interval, connector. If set to 'poll', a new producer transaction will be started "
    "and committed for every batch of records that each task from this connector provides to Connect. If set to "
    "'connector', relies on connector-defined transaction boundaries; note that not all connectors are capable of "
    "defining their own transaction boundaries, and in that case, attempts to instantiate a connector with this "
    "value will fail. Finally, if set to 'interval', commits transactions only after a user-defined time interval "
    "has passed."
)
_TRANSACTION_BOUNDARY_INTERVAL_DOC = (
    "If 'transaction.boundary' is set to 'interval', determines the interval for producer transaction commits by "
    "connector tasks. If unset, defaults to the value of the worker-level 'offset.flush.interval.ms' property. It "
    "has no effect if a different transaction.boundary is specified."
)
_OFFSETS_TOPIC_DOC = (
    "The name of a separate offsets topic to use for this connector. If empty or not specified, the worker’s global "
    "offsets topic name will be used. If specified, the offsets topic will be created if it does not already exist "
    "on the Kafka cluster targeted by this connector (which may be different from the one used for the worker's "
    "global offsets topic if the bootstrap.servers property of the connector's producer has been overridden from "
    "the worker's). Only applicable in distributed mode; in standalone mode, setting this property will have no "
    "effect."
)


def _source_config() -> ConfigDef:
    d = _common_config()
    order = iter(range(1, 100))
    d.define(
        TOPIC_CREATION_GROUPS_CONFIG,
        T.LIST,
        [],
        _unique_aliases("topic creation groups"),
        I.LOW,
        "Groups of configurations for topics created by source connectors",
        TOPIC_CREATION_GROUP,
        next(order),
        W.LONG,
        "Topic Creation Groups",
    )
    d.define(
        "exactly.once.support",
        T.STRING,
        "requested",
        one_of("REQUIRED", "REQUESTED"),  # CaseInsensitiveValidString: upper case, in its HashSet's order
        I.MEDIUM,
        _EXACTLY_ONCE_SUPPORT_DOC,
        EXACTLY_ONCE_SUPPORT_GROUP,
        next(order),
        W.SHORT,
        "Exactly once support",
    )
    d.define(
        "transaction.boundary",
        T.STRING,
        "poll",
        one_of("INTERVAL", "POLL", "CONNECTOR"),  # the same
        I.MEDIUM,
        _TRANSACTION_BOUNDARY_DOC,
        EXACTLY_ONCE_SUPPORT_GROUP,
        next(order),
        W.SHORT,
        "Transaction Boundary",
    )
    d.define(
        "transaction.boundary.interval.ms",
        T.LONG,
        None,
        custom(lambda v: "Value must be at least 0" if v is not None and v < 0 else None, "[0,...]"),  # null: unset
        I.LOW,
        _TRANSACTION_BOUNDARY_INTERVAL_DOC,
        EXACTLY_ONCE_SUPPORT_GROUP,
        next(order),
        W.SHORT,
        "Transaction boundary interval",
    )
    d.define(
        "offsets.storage.topic",
        T.STRING,
        None,
        non_empty_string(),
        I.LOW,
        _OFFSETS_TOPIC_DOC,
        OFFSETS_TOPIC_GROUP,
        1,
        W.LONG,
        "Offsets topic",
    )
    return d


COMMON_CONFIG: ConfigDef = _common_config()
SINK_CONFIG: ConfigDef = _sink_config()
SOURCE_CONFIG: ConfigDef = _source_config()


# -- topic creation (KIP-158): topic.creation.<group>.{include,exclude,replication.factor,partitions} ----------


def framework_config(connector_type: str) -> ConfigDef:
    return SOURCE_CONFIG if connector_type == "source" else SINK_CONFIG if connector_type == "sink" else COMMON_CONFIG


def plugin_config_keys(connector_cls: type) -> list[dict[str, Any]]:
    """Body of GET /connector-plugins/{p}/config for a connector: its own keys in definition order, then the
    framework keys it does not define itself."""
    from ..plugins import plugin_version

    keys: dict[str, ConfigKey] = dict(connector_cls.config_def.keys)
    for name, key in framework_config(getattr(connector_cls, "type", "")).keys.items():
        if name == CONNECTOR_VERSION_CONFIG:
            key = dataclasses.replace(key, default=plugin_version(connector_cls))
        keys.setdefault(name, key)
    return [k.info() for k in keys.values()]
