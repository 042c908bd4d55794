"""Worker configuration: Kafka Connect's worker keys (same names, defaults and docs) plus miniconnect's own
embedded-log keys, parsed once into typed values."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import ConfigError
from .configdef import ConfigDef, ConfigType, Importance, at_least, custom
from .http_headers import HeaderRulesValidator
from .kafka_keys import with_kafka_keys
from .providers import resolve_worker_props

log = logging.getLogger(__name__)
T, I = ConfigType, Importance

JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
SIMPLE_HEADER_CONVERTER = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
DEFAULT_OFFSETS_FILE = "/tmp/connect.offsets"

_LISTENER = re.compile(r"^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)")  # Kafka's RestServer.LISTENER_PATTERN


def parse_listeners(value: str | list[str] | None) -> list[tuple[str, str, int]]:
    """`listeners` / `admin.listeners` entries as (scheme, host, port); the scheme lower-cased, host may be ""."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [p.strip() for p in str(value).split(",") if p.strip()]
    out = []
    for item in items:
        m = _LISTENER.match(item)
        if not m:
            raise ConfigError(message="Listener doesn't have the right format (protocol://hostname:port).")
        scheme = m.group(1).lower()
        if scheme not in ("http", "https"):
            raise ConfigError(message=f'Listener protocol must be either "http" or "https", but is {m.group(1)}')
        out.append((scheme, m.group(2), int(m.group(3))))
    return out


def _check_listeners(value: list[str]) -> str | None:
    if not value:
        return "Empty list"
    try:
        parse_listeners(value)
    except ConfigError as e:
        return str(e)
    return None


def _check_admin_listeners(value: list[str]) -> str | None:
    return None if not value else _check_listeners(value)  # "" means "disabled", which is valid


def worker_keys() -> ConfigDef:
    """The common worker keys, as written out here (WORKER_CONFIG adds those read from Kafka's classes)."""
    d = ConfigDef()
    d.define(
        "bootstrap.servers",
        T.LIST,
        "",
        None,
        I.HIGH,
        "A list of host/port pairs to use for establishing the initial connection to the Kafka cluster. The "
        "client will make use of all servers irrespective of which servers are specified here for "
        "bootstrapping&mdash;this list only impacts the initial hosts used to discover the full set of servers. "
        "This list should be in the form <code>host1:port1,host2:port2,...</code>. Since these servers are just "
        "used for the initial connection to discover the full cluster membership (which may change "
        "dynamically), this list need not contain the full set of servers (you may want more than one, though, "
        "in case a server is down). miniconnect: leave empty to keep records in the embedded on-disk log "
        "instead of Kafka.",
    )
    d.define(
        "key.converter",
        T.CLASS,
        JSON_CONVERTER,
        None,
        I.HIGH,
        "Converter class used to convert between Kafka Connect format and the serialized form that is written "
        "to Kafka. This controls the format of the keys in messages written to or read from Kafka, and since "
        "this is independent of connectors it allows any connector to work with any serialization format. "
        "Examples of common formats include JSON and Avro.",
    )
    d.define(
        "value.converter",
        T.CLASS,
        JSON_CONVERTER,
        None,
        I.HIGH,
        "Converter class used to convert between Kafka Connect format and the serialized form that is written "
        "to Kafka. This controls the format of the values in messages written to or read from Kafka, and since "
        "this is independent of connectors it allows any connector to work with any serialization format. "
        "Examples of common formats include JSON and Avro.",
    )
    d.define(
        "header.converter",
        T.CLASS,
        SIMPLE_HEADER_CONVERTER,
        None,
        I.LOW,
        "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is "
        "written to Kafka. This controls the format of the header values in messages written to or read from "
        "Kafka, and since this is independent of connectors it allows any connector to work with any "
        "serialization format. Examples of common formats include JSON and Avro. By default, the "
        "SimpleHeaderConverter is used to serialize header values to strings and deserialize them by "
        "inferring the schemas.",
    )
    d.define(
        "task.shutdown.graceful.timeout.ms",
        T.LONG,
        5000,
        None,
        I.LOW,
        "Amount of time to wait for tasks to shutdown gracefully. This is the total amount of time, not per "
        "task. All task have shutdown triggered, then they are waited on sequentially.",
    )
    d.define(
        "offset.flush.interval.ms", T.LONG, 60000, None, I.LOW, "Interval at which to try committing offsets for tasks."
    )
    d.define(
        "offset.flush.timeout.ms",
        T.LONG,
        5000,
        None,
        I.LOW,
        "Maximum number of milliseconds to wait for records to flush and partition offset data to be committed "
        "to offset storage before cancelling the process and restoring the offset data to be committed in a "
        "future attempt. This property has no effect for source connectors running with exactly-once support.",
    )
    d.define(
        "auto.restart.enable",
        T.BOOLEAN,
        True,
        None,
        I.MEDIUM,
        "miniconnect: restart FAILED connectors and tasks by themselves, on Strimzi's schedule: the n-th restart in "
        "a row waits n*(n-1) times auto.restart.backoff.ms (0, 2, 6, 12, 20 ... minutes by default), at most "
        "auto.restart.backoff.max.ms. A connector or task that ran 10 minutes without failing starts the schedule "
        "again. Outages (a database, Kafka or the disk unavailable) are retried whatever this says.",
    )
    d.define(
        "auto.restart.backoff.ms",
        T.LONG,
        60000,
        at_least(0),
        I.LOW,
        "miniconnect: the unit of the auto-restart schedule (see auto.restart.enable).",
    )
    d.define(
        "auto.restart.backoff.max.ms",
        T.LONG,
        3600000,
        at_least(0),
        I.LOW,
        "miniconnect: the longest wait between two auto-restarts.",
    )
    d.define(
        "plugin.path",
        T.LIST,
        None,
        None,
        I.LOW,
        "List of paths separated by commas (,) that contain plugins (connectors, converters, transformations). "
        "miniconnect: each directory's .py modules and packages are imported and every Connector and Converter "
        "subclass defined in them is registered.",
    )
    d.define(
        "listeners",
        T.LIST,
        "http://:8083",
        custom(_check_listeners, "List of comma-separated URLs, ex: http://localhost:8080,https://localhost:8443."),
        I.LOW,
        "List of comma-separated URIs the REST API will listen on. The supported protocols are HTTP and HTTPS.\n"
        " Specify hostname as 0.0.0.0 to bind to all interfaces.\n"
        " Leave hostname empty to bind to default interface.\n"
        " Examples of legal listener lists: HTTP://myhost:8083,HTTPS://myhost:8084",
    )
    d.define(
        "rest.advertised.host.name",
        T.STRING,
        None,
        None,
        I.LOW,
        "If this is set, this is the hostname that will be given out to other workers to connect to.",
    )
    d.define(
        "rest.advertised.port",
        T.INT,
        None,
        None,
        I.LOW,
        "If this is set, this is the port that will be given out to other workers to connect to.",
    )
    d.define(
        "rest.advertised.listener",
        T.STRING,
        None,
        None,
        I.LOW,
        "Sets the advertised listener (HTTP or HTTPS) which will be given to other workers to use.",
    )
    d.define(
        "access.control.allow.origin",
        T.STRING,
        "",
        None,
        I.LOW,
        "Value to set the Access-Control-Allow-Origin header to for REST API requests.To enable cross origin "
        "access, set this to the domain of the application that should be permitted to access the API, or '*' "
        "to allow access from any domain. The default value only allows access from the domain of the REST API.",
    )
    d.define(
        "access.control.allow.methods",
        T.STRING,
        "",
        None,
        I.LOW,
        "Sets the methods supported for cross origin requests by setting the Access-Control-Allow-Methods "
        "header. The default value of the Access-Control-Allow-Methods header allows cross origin requests for "
        "GET, POST and HEAD.",
    )
    d.define(
        "admin.listeners",
        T.LIST,
        None,
        custom(
            _check_admin_listeners, "List of comma-separated URLs, ex: http://localhost:8080,https://localhost:8443."
        ),
        I.LOW,
        "List of comma-separated URIs the Admin REST API will listen on. The supported protocols are HTTP and "
        "HTTPS. An empty or blank string will disable this feature. The default behavior is to use the regular "
        "listener (specified by the 'listeners' property).",
    )
    d.define(
        "metrics.listeners",
        T.LIST,
        None,
        custom(_check_admin_listeners, "List of comma-separated URLs, ex: http://localhost:9404."),
        I.LOW,
        "miniconnect: where GET /metrics (Prometheus text) is served. Unset: on the REST listeners; an empty "
        "string: nowhere; URLs: only there (HTTPS keys under metrics.listeners.https., else the worker's ssl.*).",
    )
    d.define(
        "metrics.sample.window.ms",
        T.LONG,
        30000,
        at_least(1),
        I.LOW,
        "The window of time a metrics sample is computed over.",
    )
    d.define(
        "metrics.num.samples", T.INT, 2, at_least(1), I.LOW, "The number of samples maintained to compute metrics."
    )
    d.define(
        "log.format",
        T.STRING,
        "text",
        custom(lambda v: None if v in ("text", "json") else "must be text or json", "text or json"),
        I.LOW,
        "miniconnect: `json` writes one JSON object per log line (for log shippers); the environment variable "
        "MINICONNECT_LOG_FORMAT overrides it.",
    )
    d.define(
        "response.http.headers.config",
        T.STRING,
        "",
        HeaderRulesValidator(),
        I.LOW,
        "Rules for REST API HTTP response headers",
    )
    d.define(
        "rest.extension.classes",
        T.LIST,
        "",
        None,
        I.LOW,
        "Comma-separated names of <code>ConnectRestExtension</code> classes, loaded and called in the order specified.",
    )
    d.define(
        "topic.tracking.enable",
        T.BOOLEAN,
        True,
        None,
        I.LOW,
        "Enable tracking the set of active topics per connector during runtime.",
    )
    d.define(
        "topic.tracking.allow.reset",
        T.BOOLEAN,
        True,
        None,
        I.LOW,
        "If set to true, it allows user requests to reset the set of active topics per connector.",
    )
    d.define(
        "topic.creation.enable",
        T.BOOLEAN,
        True,
        None,
        I.LOW,
        "Whether to allow automatic creation of topics used by source connectors, when source connectors are "
        "configured with `topic.creation.` properties. Each task will use an admin client to create its topics "
        "and will not depend on the Kafka brokers to create topics automatically.",
    )
    d.define(
        "connector.client.config.override.policy",
        T.STRING,
        "All",
        None,
        I.MEDIUM,
        "Class name or alias of implementation of <code>ConnectorClientConfigOverridePolicy</code>. Defines what "
        "client configurations can be overridden by the connector. The default implementation is `All`, "
        "meaning connector configurations can override all client properties. The other possible policies in "
        "the framework include `None` to disallow connectors from overriding client properties, and "
        "`Principal` to allow connectors to override only client principals.",
    )
    d.define(
        "config.providers",
        T.LIST,
        "",
        None,
        I.LOW,
        "Comma-separated names of <code>ConfigProvider</code> classes, loaded and used in the order specified.",
    )
    # standalone
    d.define(
        "offset.storage.file.filename",
        T.STRING,
        DEFAULT_OFFSETS_FILE,
        None,
        I.HIGH,
        "File to store source connector offsets (standalone mode).",
    )
    d.define(
        "config.storage.file.filename",
        T.STRING,
        None,
        None,
        I.MEDIUM,
        "miniconnect, standalone mode: file where connectors created or changed through the REST API are kept "
        "so that they survive a restart. Default: <offset.storage.file.filename>.connectors.json.",
    )
    # distributed mode's keys: config/distributed_config.py
    # miniconnect's embedded log
    d.define(
        "embedded.log.dir",
        T.STRING,
        None,
        None,
        I.MEDIUM,
        "miniconnect: directory of the embedded on-disk log used when bootstrap.servers is empty. "
        "Default: <offset.storage.file.filename>.log, a directory beside the offsets file.",
    )
    d.define(
        "embedded.log.retention.bytes",
        T.LONG,
        -1,
        at_least(-1),
        I.LOW,
        "miniconnect: maximum size of each embedded-log partition before old segments are deleted; -1 means unbounded.",
    )
    d.define(
        "embedded.log.retention.ms",
        T.LONG,
        604800000,
        at_least(-1),
        I.LOW,
        "miniconnect: how long the embedded log keeps records before old segments are deleted (default 7 days, "
        "like Kafka's log.retention.ms); -1 means forever.",
    )
    d.define(
        "embedded.log.partitions",
        T.INT,
        1,
        at_least(1),
        I.LOW,
        "miniconnect: number of partitions of topics the embedded log creates on first use.",
    )
    # miniconnect's Schema Registry (Confluent's REST API, stored in a compacted topic of the log)
    d.define(
        "schema.registry.listeners",
        T.LIST,
        "",
        custom(_check_admin_listeners, "Comma-separated http or https URLs, ex: http://:8081."),
        I.MEDIUM,
        "miniconnect: where the worker serves Confluent's Schema Registry API, e.g. http://:8081 or https://:8081 "
        "(its keystore in schema.registry.ssl.*, else the worker's ssl.*); empty: not served.",
    )
    d.define(
        "schema.registry.topic",
        T.STRING,
        "_schemas",
        None,
        I.LOW,
        "miniconnect: the compacted topic that stores the registry's schemas (Confluent's kafkastore.topic).",
    )
    d.define(
        "schema.registry.topic.replication.factor",
        T.SHORT,
        -1,
        None,
        I.LOW,
        "miniconnect: replication factor of the registry's topic when it is created on Kafka; -1: the broker's.",
    )
    d.define(
        "schema.registry.compatibility.level",
        T.STRING,
        "BACKWARD",
        None,
        I.LOW,
        "miniconnect: the registry's default compatibility level (Confluent's schema.compatibility.level).",
    )
    d.define(
        "schema.registry.leader.url",
        T.STRING,
        "",
        None,
        I.LOW,
        "miniconnect: when several workers serve one schema.registry.topic, the URL of the one that writes it (its "
        "own is empty); the others follow the topic and forward writes there, as Confluent's followers forward to "
        "their leader. Empty: on Kafka the leader is elected in schema.registry.group.id; on the embedded log this "
        "worker writes the topic.",
    )
    d.define(
        "schema.registry.group.id",
        T.STRING,
        "schema-registry",
        None,
        I.LOW,
        "miniconnect: on Kafka without schema.registry.leader.url, the Kafka group (protocol type sr) in which the "
        "registries sharing schema.registry.topic elect their leader, as Confluent's schema.registry.group.id.",
    )
    d.define(
        "schema.registry.leader.eligibility",
        T.BOOLEAN,
        True,
        None,
        I.LOW,
        "miniconnect: whether this registry may be elected leader (Confluent's leader.eligibility).",
    )
    d.define(
        "schema.registry.leader.election.sticky",
        T.BOOLEAN,
        False,
        None,
        I.LOW,
        "miniconnect: Confluent's leader.election.sticky. true: the registry leader keeps its leadership, and keeps "
        "taking writes, through a rebalance of the registries' group while it is still a member; false: a "
        "rebalance pauses writes (50003/50004 answers, retried by clients) until the eligible registry with the "
        "smallest URL is elected.",
    )
    d.define(
        "schema.registry.host.name",
        T.STRING,
        "",
        None,
        I.LOW,
        "miniconnect: the host the other registries reach this one at (Confluent's host.name); empty: the "
        "listener's host, else this machine's name.",
    )
    for key, default, doc in (
        ("session.timeout.ms", 10000, "the registry group's session timeout (Confluent's kafkagroup.*)"),
        ("heartbeat.interval.ms", 3000, "the registry group's heartbeat interval (Confluent's kafkagroup.*)"),
        ("rebalance.timeout.ms", 300000, "the registry group's rebalance timeout (Confluent's kafkagroup.*)"),
    ):
        d.define(f"schema.registry.group.{key}", T.INT, default, at_least(1), I.LOW, f"miniconnect: {doc}.")
    d.define(
        "schema.registry.basic.auth.users",
        T.PASSWORD,
        None,
        None,
        I.LOW,
        "miniconnect: user:password pairs, comma-separated, that the registry requires (HTTP basic); empty: none.",
    )
    return d


WORKER_CONFIG: ConfigDef = with_kafka_keys(worker_keys(), "standalone")

# Prefixed keys that belong to a known consumer (clients, converters, listeners' SSL): never "unknown".
_KNOWN_PREFIXES = (
    "producer.",
    "consumer.",
    "admin.",
    "key.converter.",
    "value.converter.",
    "header.converter.",
    "listeners.https.",
    "admin.listeners.https.",
    "metrics.listeners.https.",
    "schema.registry.ssl.",
    "ssl.",
    "sasl.",
    "security.",
    "config.providers.",
    "metrics.",
    "metric.",
    "java.security.",
)
_logged_unknown: set[str] = set()


def worker_setting(worker_config: Any, key: str, default: Any) -> Any:
    """A worker config's value, or `default` where the config (or a test's plain mapping) has none."""
    try:
        return worker_config[key]
    except (KeyError, TypeError):
        return default


def worker_group(worker_config: Any) -> str | None:
    """A distributed worker's group.id; None for a standalone worker."""
    group = worker_setting(worker_config, "group.id", None)
    return None if group is None else str(group)


def _provider_class_resolver(props: Mapping[str, Any]) -> Any:
    """Finds provider plugins named in the worker's own properties (entry points and plugin.path)."""

    def resolve(name: str) -> type:
        from ..plugins import Plugins

        path = [p.strip() for p in str(props.get("plugin.path") or "").split(",") if p.strip()]
        return Plugins(plugin_path=path).resolve_config_provider(name)

    return resolve


class WorkerConfig(Mapping[str, Any]):
    """Parsed worker properties. `config[key]` gives the typed value of a defined key (or the raw value of an
    undefined one the user supplied); `originals` are the strings as given."""

    def __init__(self, props: Mapping[str, Any], config_def: ConfigDef = WORKER_CONFIG):
        self.config_def = config_def
        props = resolve_worker_props(props, _provider_class_resolver(props))
        self.originals: dict[str, Any] = dict(props)
        self._values = config_def.parse(props)
        offsets = self._values["offset.storage.file.filename"]
        if self._values.get("embedded.log.dir") is None:
            self._values["embedded.log.dir"] = f"{offsets}.log"
        if self._values.get("config.storage.file.filename") is None:
            self._values["config.storage.file.filename"] = f"{offsets}.connectors.json"
        self.listeners = parse_listeners(self._values["listeners"])
        for key in props:
            if key not in config_def.keys and not key.startswith(_KNOWN_PREFIXES) and key not in _logged_unknown:
                _logged_unknown.add(key)  # once per process, even if the CLI and the herder both parse the file
                log.info("The configuration '%s' was supplied but isn't a known config.", key)

    # Mapping protocol over defined keys plus supplied unknown ones
    def __getitem__(self, key: str) -> Any:
        if key in self._values:
            return self._values[key]
        return self.originals[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._values
        yield from (k for k in self.originals if k not in self._values)

    def __len__(self) -> int:
        return len(self._values) + sum(1 for k in self.originals if k not in self._values)

    def with_prefix(self, prefix: str, strip: bool = True) -> dict[str, Any]:
        """Supplied keys starting with prefix (e.g. "producer."), the prefix removed unless strip=False."""
        n = len(prefix) if strip else 0
        return {k[n:]: v for k, v in self.originals.items() if k.startswith(prefix)}

    def converter_config(self, kind: str) -> tuple[str, dict[str, Any]]:
        """(class name, options) of the worker's "key", "value" or "header" converter."""
        if kind not in ("key", "value", "header"):
            raise ValueError(f"converter kind must be key, value or header, not {kind!r}")
        return self._values[f"{kind}.converter"], self.with_prefix(f"{kind}.converter.")

    @property
    def uses_embedded_log(self) -> bool:
        """No bootstrap.servers: records live in the embedded on-disk log instead of Kafka."""
        return not self._values["bootstrap.servers"]

    @property
    def admin_listeners(self) -> list[tuple[str, str, int]] | None:
        """None: admin endpoints on the normal listeners; []: disabled; else their own listeners."""
        value = self._values["admin.listeners"]
        return None if value is None else parse_listeners(value)

    def advertised_listener(self) -> tuple[str, str, int]:
        """The listener whose URL the worker gives out: rest.advertised.listener's scheme if set, else the first."""
        wanted = (self._values["rest.advertised.listener"] or "").lower()
        for listener in self.listeners:
            if not wanted or listener[0] == wanted:
                return listener
        return self.listeners[0]

    def worker_id_host_port(self) -> str:
        """`host:port` of the advertised REST URL; Connect shows it as `worker_id` in status."""
        _, host, port = self.advertised_listener()
        host = self._values["rest.advertised.host.name"] or host or socket.gethostname()
        advertised_port = self._values["rest.advertised.port"]
        port = advertised_port if advertised_port is not None else port
        if ":" in host and not host.startswith("["):  # IPv6 literal, as in a URL authority
            host = f"[{host}]"
        return f"{host}:{port}"

    def rest_url(self) -> str:
        scheme = self.advertised_listener()[0]
        return f"{scheme}://{self.worker_id_host_port()}/"
