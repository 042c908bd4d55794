"""Connector config validation for create, update and /config/validate, shaped as Kafka's AbstractHerder
builds ConfigInfos (framework keys, the connector's own validate(), converter keys, sink and topic-creation rules,
and the keys of each transformation and predicate alias)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..data.javahash import hash_map_copy_order, hash_map_order
from ..errors import BadRequest, ConfigError
from ..plugin_versions import check_plugin_version
from .client_overrides import PREFIXES, parsed_overrides, uses_clients, worker_policy
from .configdef import (
    NO_DEFAULT,
    ConfigDef,
    ConfigKey,
    ConfigType,
    ConfigValue,
    Importance,
    Width,
    java_str,
    parse_type,
)
from .connector_config import (
    COMMON_CONFIG,
    CONNECTOR_CLASS_CONFIG,
    CONNECTOR_VERSION_CONFIG,
    DLQ_TOPIC_NAME_CONFIG,
    TOPICS_CONFIG,
    TOPICS_REGEX_CONFIG,
    framework_config,
)
from .javaregex import compile_java
from .kafka_keys import client_config_def
from .worker_config import worker_group, worker_setting

NULL_VALUE_ERROR = "Null value can not be supplied as the configuration value."
_CONVERTER_KEYS = (("header", "header.converter"), ("key", "key.converter"), ("value", "value.converter"))


def java_map_str(d: Mapping[str, Any]) -> str:
    """A connector config as Kafka prints it in error texts: AbstractMap.toString ({k1=v1, k2=v2}) of the
    HashMap copy Kafka holds at that point."""
    return "{" + ", ".join(f"{k}={'null' if d[k] is None else d[k]}" for k in hash_map_copy_order(d)) + "}"


def _is_blank(s: Any) -> bool:
    return s is None or not str(s).strip()


def _add_error(values: dict[str, ConfigValue], name: str, value: Any, message: str) -> None:
    cv = values.get(name)
    if cv is None:
        cv = values[name] = ConfigValue(name, value)
    cv.errors.append(message)


def validate_sink_group_id(props: Mapping[str, Any], values: dict[str, ConfigValue], group: str) -> None:
    """DistributedHerder.validateSinkConnectorGroupId: a sink's consumers must not join the workers' own group, by
    `consumer.override.group.id` (listed, with no definition) or by the default `connect-<name>`."""
    key = "consumer.override.group.id"
    if key in props:
        cv = values.setdefault(key, ConfigValue(key, props[key]))
        if props[key] == group:
            cv.errors.append(f"Consumer group {props[key]} conflicts with Connect worker group {group}")
        return
    name = values.get("name")
    if name is not None and group == f"connect-{java_str(name.value)}":
        name.errors.append(
            f"Consumer group for sink connector named {java_str(name.value)} conflicts with Connect worker group "
            f"{group}"
        )


def validate_sink_topics(props: Mapping[str, Any], values: dict[str, ConfigValue]) -> None:
    """SinkConnectorConfig.validate: exactly one of topics / topics.regex, and the DLQ topic not consumed."""
    topics, regex = props.get(TOPICS_CONFIG), props.get(TOPICS_REGEX_CONFIG)
    dlq = str(props.get(DLQ_TOPIC_NAME_CONFIG) or "").strip()
    has_topics, has_regex = not _is_blank(topics), not _is_blank(regex)
    if has_topics and has_regex:
        msg = f"{TOPICS_CONFIG} and {TOPICS_REGEX_CONFIG} are mutually exclusive options, but both are set."
        _add_error(values, TOPICS_CONFIG, topics, msg)
        _add_error(values, TOPICS_REGEX_CONFIG, regex, msg)
    if not has_topics and not has_regex:
        msg = f"Must configure one of {TOPICS_CONFIG} or {TOPICS_REGEX_CONFIG}"
        _add_error(values, TOPICS_CONFIG, topics, msg)
        _add_error(values, TOPICS_REGEX_CONFIG, regex, msg)
    if dlq:
        if has_topics:
            listed = list(dict.fromkeys(t for t in parse_type(TOPICS_CONFIG, topics, ConfigType.LIST) if t))
            if dlq in listed:
                _add_error(
                    values,
                    TOPICS_CONFIG,
                    topics,
                    f"The DLQ topic '{dlq}' may not be included in the list of topics "
                    f"('{TOPICS_CONFIG}={java_str(listed)}') consumed by the connector",
                )
        if has_regex:
            try:
                matched = compile_java(str(regex)).fullmatch(dlq) is not None
            except re.error:
                matched = False  # already reported as "Invalid regex" by the key's validator
            if matched:
                _add_error(
                    values,
                    TOPICS_REGEX_CONFIG,
                    regex,
                    f"The DLQ topic '{dlq}' may not be matched by the regex for the topics "
                    f"('{TOPICS_REGEX_CONFIG}={regex}') consumed by the connector",
                )


_ALIASES = (
    ("transforms", "Transforms", "transformation", "Transformation"),
    ("predicates", "Predicates", "predicate", "Predicate"),
)
_TRANSFORM_IMPLICIT = (
    ConfigDef()
    .define(
        "predicate",
        ConfigType.STRING,
        None,
        None,
        Importance.MEDIUM,
        "The alias of a predicate used to determine whether to apply this transformation.",
    )
    .define(
        "negate",
        ConfigType.BOOLEAN,
        False,
        None,
        Importance.MEDIUM,
        "Whether the configured predicate should be negated.",
    )
)


class _Unprefixed:
    """ConfigDef.embed's validator: the plugin's own validator, given the key name without the alias prefix."""

    def __init__(self, prefix: str, base: Any):
        self.prefix, self.base = prefix, base

    def __call__(self, name: str, value: Any) -> None:
        self.base(name[len(self.prefix) :], value)

    def null_error(self, name: str) -> str | None:
        """What Kafka's validator says when it is run on a missing required value (ConfigDef.validate runs it on
        null): a validator declares it as `null_message` (whole) or `null_reason` (after "Invalid value null ...")."""
        message = getattr(self.base, "null_message", None)
        if message:
            return message
        reason = getattr(self.base, "null_reason", None)
        return f"Invalid value null for configuration {name[len(self.prefix) :]}: {reason}" if reason else None

    def __str__(self) -> str:
        return str(self.base)


_IMPORTANCE_ORDER = {Importance.HIGH: 0, Importance.MEDIUM: 1, Importance.LOW: 2}


def _embed_order(key: ConfigKey) -> tuple:
    """ConfigDef.sortedConfigs: group, order in group, keys without default first, importance, name."""
    return (key.group is not None, key.order_in_group, key.has_default, _IMPORTANCE_ORDER[key.importance], key.name)


def _version_tuple(text: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-]", text.strip()))


def version_matches(spec: str, version: str) -> bool:
    """A Maven version range ("[4.0,5.0)", "(,4.1]") or a plain version (an exact match), as KIP-891 takes them."""
    spec = spec.strip()
    if not spec or spec[0] not in "[(":
        return _version_tuple(spec) == _version_tuple(version)
    lo, _, hi = spec[1:-1].partition(",") if "," in spec else (spec[1:-1], "", spec[1:-1])
    v = _version_tuple(version)
    if lo.strip() and (v < _version_tuple(lo) or (spec[0] == "(" and v == _version_tuple(lo))):
        return False
    if hi.strip() and (v > _version_tuple(hi) or (spec[-1] == ")" and v == _version_tuple(hi))):
        return False
    return True


def _range_text(spec: str) -> str:
    spec = spec.strip()
    return spec if spec[:1] in "[(" else f"[{spec},{spec}]"


class _VersionValidator:
    """`<alias>.plugin.version`: the named class must have a version in the range (one version per class here)."""

    def __init__(self, plugins: Any, kind: str, type_key: str, props: Mapping[str, Any]):
        self.plugins, self.kind, self.type_key, self.props = plugins, kind, type_key, props

    def __call__(self, name: str, value: Any) -> None:
        message = _version_error(self.plugins, self.kind, self.type_key, self.props)
        if message:
            raise ConfigError(message=message)

    def __str__(self) -> str:
        return "valid plugin version"


def _version_error(plugins: Any, kind: str, type_key: str, props: Mapping[str, Any]) -> str | None:
    prefix = type_key[: -len("type")]
    spec = props.get(prefix + "plugin.version")
    if plugins is None or _is_blank(spec) or _is_blank(props.get(type_key)):
        return None
    try:
        cls = _resolve_alias_class(plugins, kind, type_key, props.get(type_key))
    except ConfigError:
        return None
    from ..plugins import class_name_of, plugin_version

    version = str(plugin_version(cls))
    if version_matches(str(spec), version):
        return None
    return (
        f"Plugin {class_name_of(cls)} not found that matches the version range {_range_text(str(spec))}, "
        f"available versions: [{version}]"
    )


class _TypeValidator:
    """The `<alias>.type` key's check (ConnectorConfig.EnrichablePlugin): a transformation's `negate` needs a
    `predicate`, and the class must be one of the kind."""

    def __init__(self, plugins: Any, kind: str, prefix: str, props: Mapping[str, Any], alias: str):
        self.plugins, self.kind, self.prefix, self.props, self.alias = plugins, kind, prefix, props, alias

    def __call__(self, name: str, value: Any) -> None:
        named = self.plugins is not None and value is not None
        if named:  # a class not found: Kafka's parse error, before the others
            _resolve_alias_class(self.plugins, self.kind, name, value)
        negate = _negate_error(self.kind, self.prefix, self.props)
        if negate:
            raise ConfigError(message=negate)
        if named:
            message = _version_error(self.plugins, self.kind, name, self.props)
            if message:
                raise ConfigError(message=message)

    def __str__(self) -> str:
        return f"valid configs for {self.alias} {self.kind}"


def _negate_error(kind: str, prefix: str, props: Mapping[str, Any]) -> str | None:
    if kind == "transformation" and prefix + "negate" in props and prefix + "predicate" not in props:
        return (
            f"Config '{prefix}negate' was provided but there is no config '{prefix}predicate' defining a predicate "
            "to be negated."
        )
    return None


def _class_recommender(plugins: Any, kind: str) -> Any:
    """EnrichablePlugin.ClassRecommender: every installed class of the kind, by name."""

    def recommend(name: str, parsed: Mapping[str, Any]) -> list[str]:
        if plugins is None:
            return []
        return [i["class"] for i in plugins.plugin_infos(connectors_only=False) if i["type"] == kind]

    return recommend


def _resolve_alias_class(plugins: Any, kind: str, name: str, value: Any) -> type:
    try:
        return getattr(plugins, f"resolve_{kind}")(str(value).strip())
    except Exception:
        raise ConfigError(name, value, f"Class {value} could not be found.") from None


def alias_def(props: Mapping[str, Any], plugins: Any = None) -> ConfigDef:
    """ConnectorConfig.enrich: for each alias listed, a required `<transforms|predicates>.<alias>.type` key, then
    the keys of the class it names (for transformations also `predicate` and `negate`), embedded with the alias
    prefix and group, in ConfigDef.embed's order (sorted by group, order, name)."""
    d = ConfigDef()
    for config, group, kind, base in _ALIASES:
        try:
            aliases = parse_type(config, props.get(config), ConfigType.LIST) if props.get(config) is not None else []
        except ConfigError:
            continue  # reported on the list key itself
        for alias in dict.fromkeys(aliases or []):
            prefix = f"{config}.{alias}."
            label = f"{group}: {alias}"
            d.define(
                prefix + "type",
                ConfigType.CLASS,
                NO_DEFAULT,
                _TypeValidator(plugins, kind, prefix, props, alias),
                Importance.HIGH,
                f"Class for the '{alias}' {kind}.",
                label,
                0,
                Width.LONG,
                f"{base} type for {alias}",
                recommender=_class_recommender(plugins, kind),
            )
            value = props.get(prefix + "type")
            try:
                if plugins is None or _is_blank(value):
                    raise ConfigError(prefix + "type", value, "no class")
                cls = _resolve_alias_class(plugins, kind, prefix + "type", value)
            except ConfigError:  # Kafka still lists the version key, without a default or a recommendation
                d.keys[prefix + "plugin.version"] = ConfigKey(
                    prefix + "plugin.version",
                    ConfigType.STRING,
                    None,
                    None,
                    Importance.HIGH,
                    f"Version of the '{alias}' {kind}.",
                    label,
                    1,
                    Width.LONG,
                    f"{base} version for {alias}",
                )
                continue
            from ..plugins import plugin_version

            # set directly: define() would run the validator on the default, which depends on the props
            d.keys[prefix + "plugin.version"] = ConfigKey(
                prefix + "plugin.version",
                ConfigType.STRING,
                str(plugin_version(cls)),
                _VersionValidator(plugins, kind, prefix + "type", props),
                Importance.HIGH,
                f"Version of the '{alias}' {kind}.",
                label,
                1,
                Width.LONG,
                f"{base} version for {alias}",
                recommender=lambda name, parsed, v=str(plugin_version(cls)): [v],
            )
            keys = dict(_TRANSFORM_IMPLICIT.keys) if kind == "transformation" else {}
            for key in cls.config_def.keys.values():
                keys.setdefault(key.name, key)  # the implicit predicate/negate mask the plugin's own
            for order, key in enumerate(sorted(keys.values(), key=_embed_order), start=2):
                d.keys[prefix + key.name] = replace(
                    key,
                    name=prefix + key.name,
                    group=label + (f": {key.group}" if key.group else ""),
                    order_in_group=order,
                    display_name=key.display_name or key.name,
                    validator=_Unprefixed(prefix, key.validator) if key.validator else None,
                    recommender=None,
                )
    return d


def _unparsed_alias_classes(aliases: ConfigDef, props: Mapping[str, Any], values: dict[str, ConfigValue]) -> None:
    """An alias's class that cannot be found has no value, as a CLASS key that fails to parse has none in Kafka,
    and Kafka's validator then reports a transformation's `negate` without `predicate` as well."""
    for name in aliases.keys:
        cv = values.get(name)
        if name.endswith(".type") and cv is not None and any(e.endswith(" could not be found.") for e in cv.errors):
            cv.value = None
            prefix = name[: -len("type")]
            negate = _negate_error("transformation" if prefix.startswith("transforms.") else "predicate", prefix, props)
            if negate:
                cv.errors.append(negate)


def _add_null_validation_errors(aliases: ConfigDef, props: Mapping[str, Any], values: dict[str, ConfigValue]) -> None:
    """Kafka validates a missing required value too (as null): the embedded validators' second error."""
    for name, key in aliases.keys.items():
        cv = values.get(name)
        if cv is not None and name not in props and not key.has_default and isinstance(key.validator, _Unprefixed):
            message = key.validator.null_error(name)
            if message:
                cv.errors.append(message)


def _check_predicate_aliases(props: Mapping[str, Any], values: dict[str, ConfigValue]) -> None:
    """A transformation's `predicate` must name a declared predicate alias (Kafka finds out when the task starts,
    with this message; miniconnect says so before the connector is created)."""
    try:
        declared = set(parse_type("predicates", props.get("predicates"), ConfigType.LIST) or [])
    except ConfigError:
        return
    for name, cv in values.items():
        if (
            name.startswith("transforms.")
            and name.endswith(".predicate")
            and cv.value
            and not cv.errors
            and cv.value not in declared
        ):
            cv.errors.append(
                f"Invalid value {cv.value} for configuration {name}: Unknown configuration 'predicates.{cv.value}.type'"
            )


def _key_info(key: ConfigKey, prefix: str = "") -> dict[str, Any]:
    info = key.info()
    if prefix:
        info["name"] = prefix + info["name"]
    return info


def generate_result(
    conn_type: str, keys: Mapping[str, ConfigKey], values: list[ConfigValue], groups: list[str]
) -> dict[str, Any]:
    """AbstractHerder.generateResult: values without a definition first, then every defined key (with its
    value if one was validated). A later value of the same name replaces an earlier one."""
    error_count = 0
    configs: list[dict[str, Any]] = []
    by_name: dict[str, ConfigValue] = {}
    for cv in values:
        by_name[cv.name] = cv
        if cv.name not in keys:
            configs.append({"definition": None, "value": cv.info(None)})
            error_count += len(cv.errors)
    for name, key in keys.items():
        cv = by_name.get(name)
        if cv is not None:
            error_count += len(cv.errors)
        configs.append({"definition": key.info(), "value": cv.info(key.type) if cv is not None else None})
    return {"name": conn_type, "error_count": error_count, "groups": list(groups), "configs": configs}


def _prefixed_infos(config_def: ConfigDef, values: list[ConfigValue], prefix: str) -> dict[str, Any]:
    """AbstractHerder.prefixedConfigInfos: one entry per value, names prefixed; error_count counts entries."""
    error_count, groups, configs = 0, [], []
    for cv in values:
        key = config_def.keys.get(cv.name)
        if key is not None and key.group is not None and key.group not in groups:  # "" too, as in Kafka
            groups.append(key.group)
        if cv.errors:
            error_count += 1
        value = ConfigValue(prefix + cv.name, cv.value, cv.recommended_values, cv.errors, cv.visible)
        configs.append(
            {
                "definition": _key_info(key, prefix) if key is not None else None,
                "value": value.info(key.type if key is not None else None),
            }
        )
    return {"name": "", "error_count": error_count, "groups": groups, "configs": configs}


def _client_infos(connector_type: str, props: Mapping[str, Any], worker_config: Any) -> list[dict[str, Any]]:
    """AbstractHerder.validateClientOverrides for each client the connector's tasks create: one entry per override,
    with its client key's definition and the worker's override policy's verdict. A value the client cannot parse is
    that key's error (Kafka answers 500)."""
    policy = worker_policy(worker_config)
    infos = []
    for client in uses_clients(connector_type, props, worker_config):
        parsed, errors = parsed_overrides(props, client)
        if not parsed:
            continue  # Kafka's ConfigInfos of no overrides adds nothing
        values = policy.validate(parsed)
        for v in values:
            if v.name in errors:
                v.errors.insert(0, errors[v.name])
        infos.append(_prefixed_infos(client_config_def(client), values, PREFIXES[client]))
    return infos


def _merge(conn_type: str, *infos: dict[str, Any] | None) -> dict[str, Any]:
    error_count, groups, configs = 0, [], []
    for info in infos:
        if info is None:
            continue
        error_count += info["error_count"]
        configs.extend(info["configs"])
        groups.extend(g for g in info["groups"] if g not in groups)
    return {"name": conn_type, "error_count": error_count, "groups": groups, "configs": configs}


def _check_converter_classes(plugins: Any, props: Mapping[str, Any], values: dict[str, ConfigValue]) -> dict:
    """Resolves the converters the connector names; a class that cannot be found is a key error (as a CLASS
    key fails to parse in Kafka). Returns {config key: converter class} for the resolvable ones."""
    found = {}
    for _, key in _CONVERTER_KEYS:
        name = props.get(key)
        cv = values.get(key)
        if name is None or cv is None or cv.errors:
            continue
        try:
            if _is_blank(name):  # Class.forName("") fails as an unknown name does
                raise LookupError(key)
            found[key] = plugins.resolve_converter(str(name).strip())
            cv.value = found[key].class_name  # the parsed Class, named in full (an alias resolved)
        except Exception:
            cv.value = None  # a CLASS value that does not parse; then its version is not shown either
            version_value = values.get(key + ".plugin.version")
            if version_value is not None:
                version_value.visible = False
                version_value.value = None
                version_value.recommended_values = []
            cv.errors.append(
                f"Invalid value {str(name).strip()} for configuration {key}: "
                f"Class {str(name).strip()} could not be found."
            )
    return found


def _converter_infos(props: Mapping[str, Any], converters: dict[str, type]) -> list[dict[str, Any]]:
    out = []
    for kind, key in _CONVERTER_KEYS:
        cls = converters.get(key)
        config_def = getattr(cls, "config_def", None) if cls is not None else None
        if config_def is None:
            continue
        prefix = key + "."
        options = {k[len(prefix) :]: v for k, v in props.items() if k.startswith(prefix)}
        options.setdefault("converter.type", kind)
        try:
            validated = config_def.validate(options)
        except Exception as e:
            raise BadRequest(f"Failed to validate the {kind} converter configuration: {e}") from e
        # ConfigDef.validate lists the values of ConfigDef.validateAll's HashMap, in its order
        values = [validated[name] for name in hash_map_order(list(validated))]
        out.append(_prefixed_infos(config_def, values, prefix))
    return out


def _converter_version(plugins: Any, name: Any) -> str | None:
    from ..plugins import plugin_version

    try:
        return plugin_version(plugins.resolve_converter(str(name).strip())) if not _is_blank(name) else None
    except Exception:
        return None


def _invalid_version_result(cls: type, conn_type: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """When connector.plugin.version names no version of the connector here, Kafka 4.1's answer
    (AbstractHerder.invalidVersionedConnectorValidation): only the common framework keys, the error on both
    connector.class and connector.plugin.version, the converter version keys not visible. Else None."""
    from ..plugins import plugin_version

    version, spec = plugin_version(cls), props.get(CONNECTOR_VERSION_CONFIG)
    if _is_blank(spec):
        return None
    try:
        check_plugin_version(cls.class_name, version, str(spec))
        return None
    except BadRequest as e:
        error = str(e)
    keys = dict(COMMON_CONFIG.keys)
    keys[CONNECTOR_VERSION_CONFIG] = dataclasses.replace(
        keys[CONNECTOR_VERSION_CONFIG], default=version, recommender=lambda _n, _p: [version]
    )
    values = ConfigDef(keys.values()).validate(props)
    for name in (CONNECTOR_CLASS_CONFIG, CONNECTOR_VERSION_CONFIG):
        values[name].errors.append(error)
    for _, key in _CONVERTER_KEYS:
        values[key + ".plugin.version"].visible = False
    return generate_result(conn_type, keys, list(values.values()), COMMON_CONFIG.groups)


def with_plugin_defaults(
    config_def: ConfigDef, cls: type, plugins: Any, props: Mapping[str, Any], worker_config: Any
) -> ConfigDef:
    """Kafka 4.1's ConnectorConfig.enrichedConfigDef for validation: the connector's version, the worker's
    converters as the defaults of the converter keys, every converter class as their recommended values, and the
    version of the converter each key names."""
    from ..plugins import plugin_version

    classes = plugins.converter_classes()
    # Kafka recommends Converter implementations for key/value and HeaderConverter ones for header.converter
    recommended = {
        kind: sorted(c.class_name for c in classes if getattr(c, flag, kind != "header"))
        for kind, flag in (("key", "converter"), ("value", "converter"), ("header", "header_converter"))
    }
    version = plugin_version(cls)
    keys = dict(config_def.keys)
    keys[CONNECTOR_VERSION_CONFIG] = dataclasses.replace(
        keys[CONNECTOR_VERSION_CONFIG], default=version, recommender=lambda _n, _p: [version]
    )
    for kind, key in _CONVERTER_KEYS:
        default = None if worker_config is None else worker_setting(worker_config, key, None)
        keys[key] = dataclasses.replace(
            keys[key], default=default, recommender=lambda _n, _p, names=recommended[kind]: names
        )
        named = props.get(key)
        converter_version = _converter_version(plugins, default if named is None else named)  # "" names no class
        keys[key + ".plugin.version"] = dataclasses.replace(
            keys[key + ".plugin.version"],
            default=converter_version,
            recommender=lambda _n, _p, v=converter_version: [v] if v is not None else [],
        )
    return ConfigDef(keys.values())


def validate_connector_config(plugins: Any, props: Mapping[str, Any], worker_config: Any = None) -> dict[str, Any]:
    """The ConfigInfos JSON of PUT /connector-plugins/{p}/config/validate, also run before create and update.

    Raises BadRequest when connector.class is missing, PluginNotFound (or ConnectError for an ambiguous alias)
    when it names no known connector. Errors in values are reported in the result, never raised."""
    props = dict(props)
    conn_type = props.get(CONNECTOR_CLASS_CONFIG)
    if conn_type is None:
        raise BadRequest(f"Connector config {java_map_str(props)} contains no connector type")
    cls = plugins.resolve_connector(str(conn_type))
    connector_type = cls.type

    aliases = alias_def(props, plugins)
    config_def = with_plugin_defaults(framework_config(connector_type), cls, plugins, props, worker_config)
    config_def = config_def.merge(aliases)
    # Kafka 4.1 validates topic.creation.groups only; the groups' keys are read (and refused) when the connector
    # starts (runtime/topic_creation.py), so a validation lists them no more than Kafka's does
    invalid_version = _invalid_version_result(cls, str(conn_type), props)
    if invalid_version is not None:
        return invalid_version
    values = config_def.validate(props)
    _check_predicate_aliases(props, values)
    _add_null_validation_errors(aliases, props, values)
    _unparsed_alias_classes(aliases, props, values)
    if connector_type == "sink":
        validate_sink_topics(props, values)
        group = worker_group(worker_config)
        if group is not None:
            validate_sink_group_id(props, values, group)
    elif connector_type == "source" and worker_group(worker_config):
        # a distributed worker's checks (a standalone one has no exactly-once source support to ask about)
        eos = worker_setting(worker_config, "exactly.once.source.support", "disabled") == "enabled"
        validate_exactly_once_keys(cls, props, values, eos)
    converters = _check_converter_classes(plugins, props, values)
    for k, v in props.items():
        if v is None and k not in cls.config_def.keys:  # the connector's own keys may be null (Kafka 4.1)
            _add_error(values, k, None, NULL_VALUE_ERROR)

    connector = cls()
    own = connector.validate(props)
    if own is None:
        raise BadRequest(f"{cls.class_name}.validate() must return a Config that is not null.")
    keys: dict[str, ConfigKey] = dict(config_def.keys)
    keys.update(cls.config_def.keys)  # the connector's definition wins, at the framework key's position
    groups = list(config_def.groups)
    groups.extend(g for g in cls.config_def.groups if g not in groups)
    own_values = list(own.values()) if isinstance(own, Mapping) else list(own)
    connector_info = generate_result(str(conn_type), keys, list(values.values()) + own_values, groups)
    client_infos = _client_infos(connector_type, props, worker_config)
    return _merge(str(conn_type), connector_info, *client_infos, *_converter_infos(props, converters))


def invalid_config_message(infos: Mapping[str, Any]) -> str | None:
    """The 400 message for create/update when validation found errors (AbstractHerder.maybeAddConfigErrors)."""
    count = infos.get("error_count", 0)
    if not count:
        return None
    lines = [f"Connector configuration is invalid and contains the following {count} error(s):"]
    for entry in infos.get("configs", []):
        value = entry.get("value")
        if value:
            lines.extend(value.get("errors") or [])
    lines.append(
        "You can also find the above list of errors at the endpoint "
        "`/connector-plugins/{connectorType}/config/validate`"
    )
    return "\n".join(lines)


_NO_PREFLIGHT = (
    "The connector does not implement the API required for preflight validation of exactly-once source support. "
    "Please consult the documentation for the connector to determine whether it supports exactly-once semantics, "
    'and then consider reconfiguring the connector to use the value "requested" for this property (which will '
    "disable this preflight check and allow the connector to be created)."
)


def _unexpected(e: Exception) -> str:
    message = str(e).strip()
    return "An unexpected error occurred during validation" + (f": {message}" if message else "")


def validate_exactly_once_keys(cls: type, props: Mapping[str, Any], values: dict[str, ConfigValue], eos: bool) -> None:
    """DistributedHerder.validateSourceConnectorConfig: `exactly.once.support=required` needs the worker's support
    (`eos`) and the connector's word; `transaction.boundary=connector` the connector's ability to define them."""
    raw = {k: v for k, v in props.items() if v is not None}
    support = values.get("exactly.once.support")
    if support is not None and not support.errors and str(support.value).lower() == "required":
        if not eos:
            support.errors.append("This worker does not have exactly-once source support enabled.")
        try:
            answer = cls().exactly_once_support(raw)
            if answer is None:
                support.errors.append(_NO_PREFLIGHT)
            elif answer != "SUPPORTED":
                support.errors.append(
                    "The connector does not support exactly-once semantics with the provided configuration."
                )
        except Exception as e:
            support.errors.append(_unexpected(e))
    boundary = values.get("transaction.boundary")
    if boundary is not None and not boundary.errors and str(boundary.value).lower() == "connector":
        try:
            answer = cls().can_define_transaction_boundaries(raw)
            if answer is None:
                boundary.errors.append(
                    "This connector has returned a null value from its canDefineTransactionBoundaries method, which "
                    "is not permitted. The connector will be treated as if it cannot define its own transaction "
                    "boundaries, and cannot be configured with 'transaction.boundary' set to 'CONNECTOR'."
                )
            elif answer != "SUPPORTED":
                boundary.errors.append(
                    "The connector does not support connector-defined transaction boundaries with the given "
                    "configuration. Please reconfigure it to use a different transaction boundary definition."
                )
        except Exception as e:
            boundary.errors.append(_unexpected(e))


def validate_or_raise(plugins: Any, props: Mapping[str, Any], worker_config: Any = None) -> dict[str, Any]:
    """Create/update path: the ConfigInfos if valid, else BadRequest with Connect's multi-line message."""
    infos = validate_connector_config(plugins, props, worker_config)
    message = invalid_config_message(infos)
    if message is not None:
        raise BadRequest(message)
    return infos


__all__ = [
    "NULL_VALUE_ERROR",
    "generate_result",
    "invalid_config_message",
    "java_map_str",
    "validate_connector_config",
    "validate_or_raise",
    "validate_sink_topics",
]
