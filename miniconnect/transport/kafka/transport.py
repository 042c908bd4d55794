"""Kafka transport: the log/base.py interface over aiokafka.

Client settings arrive in Kafka's Java naming (`linger.ms`, `sasl.jaas.config`, ...) and are mapped to aiokafka
keyword arguments here, in one place; settings aiokafka has no equivalent for are logged and ignored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sized
from itertools import count, repeat
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka import TopicPartition as AioTP
from aiokafka import errors as kerrors
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin import NewTopic as AioNewTopic
from aiokafka.protocol.admin import DeleteGroupsRequest
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.commit import OffsetCommitRequest
from aiokafka.protocol.types import Array, Int16, Int32, Schema, String

from ...connector import TopicPartition
from ...data.records import field_getter
from ...errors import ConnectError, RetriableError
from ..base import (
    CommitFailed,
    Consumer,
    ConsumerRecord,
    GroupNotEmpty,
    NewTopic,
    Producer,
    ProducerRecord,
    RebalanceCallback,
    RecordBatch,
    RecordMetadata,
    Transport,
    records_of,
)
from ..base import (
    new_record_metadata as _new_record_metadata,
)
from ..embedded.partitioner import partition_for_key
from . import fetch as kafka_fetch
from . import reader as kafka_reader
from .wire import install as _install_produce_encoder

log = logging.getLogger(__name__)
T = TypeVar("T")

# --- configuration mapping ---------------------------------------------------------------------------------


def _int(v: Any) -> int:
    return int(v)


def _bool(v: Any) -> bool:
    return v if isinstance(v, bool) else str(v).strip().lower() == "true"


def _acks(v: Any) -> Any:
    s = str(v).strip().lower()
    return "all" if s in ("all", "-1") else int(s)


def _compression(v: Any) -> str | None:
    s = str(v).strip().lower()
    return None if s in ("none", "") else s


def _assignors(v: Any) -> tuple:
    from aiokafka.coordinator.assignors.range import RangePartitionAssignor
    from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor

    names = v if isinstance(v, (list, tuple)) else str(v).split(",")
    out = []
    for name in names:
        simple = name.strip().rsplit(".", 1)[-1]
        cls = {
            "RangeAssignor": RangePartitionAssignor,
            "RoundRobinAssignor": RoundRobinPartitionAssignor,
            "StickyAssignor": StickyPartitionAssignor,
            "CooperativeStickyAssignor": StickyPartitionAssignor,
        }.get(simple)
        if cls is None:
            log.warning("Ignoring unsupported partition.assignment.strategy %s", name.strip())
        elif cls not in out:
            out.append(cls)
    return tuple(out) or (RangePartitionAssignor,)


_COMMON = {
    "client.id": ("client_id", str),
    "request.timeout.ms": ("request_timeout_ms", _int),
    "retry.backoff.ms": ("retry_backoff_ms", _int),
    "metadata.max.age.ms": ("metadata_max_age_ms", _int),
    "connections.max.idle.ms": ("connections_max_idle_ms", _int),
    "security.protocol": ("security_protocol", lambda v: str(v).upper()),
    "sasl.mechanism": ("sasl_mechanism", lambda v: str(v).upper()),
    "sasl.kerberos.service.name": ("sasl_kerberos_service_name", str),
}
_PRODUCER = {
    **_COMMON,
    "acks": ("acks", _acks),
    "linger.ms": ("linger_ms", _int),
    "batch.size": ("max_batch_size", _int),
    "compression.type": ("compression_type", _compression),
    "max.request.size": ("max_request_size", _int),
    "enable.idempotence": ("enable_idempotence", _bool),
    "transaction.timeout.ms": ("transaction_timeout_ms", _int),
}
_CONSUMER = {
    **_COMMON,
    "auto.offset.reset": ("auto_offset_reset", lambda v: str(v).lower()),
    "fetch.max.wait.ms": ("fetch_max_wait_ms", _int),
    "fetch.min.bytes": ("fetch_min_bytes", _int),
    "fetch.max.bytes": ("fetch_max_bytes", _int),
    "max.partition.fetch.bytes": ("max_partition_fetch_bytes", _int),
    "max.poll.interval.ms": ("max_poll_interval_ms", _int),
    "session.timeout.ms": ("session_timeout_ms", _int),
    "heartbeat.interval.ms": ("heartbeat_interval_ms", _int),
    "isolation.level": ("isolation_level", lambda v: str(v).lower()),
    "partition.assignment.strategy": ("partition_assignment_strategy", _assignors),
    "client.rack": ("client_rack", str),
    "check.crcs": ("check_crcs", _bool),
    "exclude.internal.topics": ("exclude_internal_topics", _bool),
    "group.instance.id": ("group_instance_id", str),
}
_ADMIN = dict(_COMMON)

# Java settings that have no aiokafka equivalent or that we handle ourselves: ignored without a warning.
_QUIET = {
    "bootstrap.servers",
    "sasl.jaas.config",
    "sasl.login.class",
    "sasl.client.callback.handler.class",
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "group.id",
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "buffer.memory",
    "retries",
    "delivery.timeout.ms",
    "max.in.flight.requests.per.connection",
    "max.block.ms",
    "default.api.timeout.ms",
    "max.poll.records",
    "send.buffer.bytes",
    "receive.buffer.bytes",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
    "retry.backoff.max.ms",
    "interceptor.classes",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.sample.window.ms",
    "metrics.recording.level",
    "client.dns.lookup",
    "partitioner.class",
    "partitioner.ignore.keys",
    "partitioner.adaptive.partitioning.enable",
    "socket.connection.setup.timeout.ms",
    "socket.connection.setup.timeout.max.ms",
    "auto.include.jmx.reporter",
    "ssl.truststore.type",
    "ssl.keystore.type",
    "ssl.protocol",
    "ssl.enabled.protocols",
    "ssl.keymanager.algorithm",
    "ssl.trustmanager.algorithm",
    "ssl.secure.random.implementation",
    "ssl.provider",
    "ssl.engine.factory.class",
}
_warned: set[str] = set()
_install_produce_encoder()
kafka_fetch.install()
kafka_reader.install()

# send_batch hands aiokafka whole record batches, so lingering would only add latency. A poll's worth of records
# goes out as one batch of up to ~1 MB (Kafka's default max.message.bytes is 1048588): compared with 256 KiB
# batches this cut the broker's CPU per record by a third and the worker's by a tenth (bench_jdbc_source_e2e).
PRODUCER_DEFAULTS = {
    "acks": "all",
    "enable_idempotence": True,
    "linger_ms": 0,
    "max_batch_size": 1_000_000,
    "max_request_size": 1048576,
}
CONSUMER_DEFAULTS = {"auto_offset_reset": "earliest", "enable_auto_commit": False}


def _value(v: Any) -> Any:
    return getattr(v, "value", v) if type(v).__name__ == "Password" else v


# Both put username and password in the client's Subject, which is all PLAIN and SCRAM read (Kafka's
# SaslClientCallbackHandler), so either serves either mechanism, as in the Java client.
_SASL_MODULES = (
    "org.apache.kafka.common.security.plain.PlainLoginModule",
    "org.apache.kafka.common.security.scram.ScramLoginModule",
)


def _sasl_credentials(jaas: str) -> dict[str, str]:
    """sasl_plain_username/password from a Java client's `sasl.jaas.config`; the password joins the masked
    secrets."""
    from ...config.jaas import parse_jaas_config
    from ...secrets import remember

    module = parse_jaas_config(jaas)
    if module.name not in _SASL_MODULES:
        raise ConnectError(
            f"Unsupported login module {module.name} in sasl.jaas.config; miniconnect supports "
            f"{' and '.join(_SASL_MODULES)}"
        )
    user, password = module.options.get("username"), module.options.get("password")
    if user is None or password is None:
        raise ConnectError(f"sasl.jaas.config for {module.name} needs username and password options")
    remember([password])
    return {"sasl_plain_username": user, "sasl_plain_password": password}


def client_kwargs(
    config: Mapping[str, Any] | None, table: Mapping[str, tuple[str, Callable[[Any], Any]]], role: str
) -> dict[str, Any]:
    """Maps Java-named client settings to aiokafka keyword arguments; warns once about unknown ones.
    Security: `security.protocol` SSL/SASL_SSL get an SSL context from the `ssl.*` keys (PKCS12 or PEM stores),
    SASL_* get their credentials from `sasl.jaas.config`."""
    cfg = {k: _value(v) for k, v in (config or {}).items() if v is not None}
    out: dict[str, Any] = {}
    for key, raw in cfg.items():
        if key in table:
            name, conv = table[key]
            try:
                out[name] = conv(raw)
            except (TypeError, ValueError) as e:
                raise ConnectError(f"Invalid value {raw} for {role} configuration {key}: {e}") from None
        elif key.startswith("ssl.") or key in _QUIET:
            continue
        elif key not in _warned:
            _warned.add(key)
            log.warning("Ignoring %s setting %s: not supported by the Kafka client", role, key)
    protocol = out.get("security_protocol", "PLAINTEXT")
    if protocol not in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
        raise ConnectError(
            f"Invalid value {protocol} for {role} configuration security.protocol: String must be "
            f"one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"
        )
    if protocol.startswith("SASL_"):
        mechanism = out.setdefault("sasl_mechanism", "GSSAPI")
        if mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
            if not cfg.get("sasl.jaas.config"):
                raise ConnectError(f"{role} configuration sasl.jaas.config is required for sasl.mechanism {mechanism}")
            out.update(_sasl_credentials(str(cfg["sasl.jaas.config"])))
        elif mechanism != "GSSAPI":
            raise ConnectError(
                f"Unsupported sasl.mechanism {mechanism}: miniconnect supports PLAIN, SCRAM-SHA-256 "
                f"and SCRAM-SHA-512 (GSSAPI is handed to aiokafka as it is)"
            )
    if protocol in ("SSL", "SASL_SSL"):
        from ...config.tls import client_context

        try:
            out["ssl_context"] = client_context(cfg)
        except ConnectError as e:
            raise ConnectError(f"Invalid {role} SSL configuration: {e}") from None
    return out


# --- log noise while the cluster is unreachable -----------------------------------------------------------


class _RepeatFilter(logging.Filter):
    """aiokafka logs each failed reconnect, metadata, fetch and produce attempt (hundreds of lines a second
    while a broker restarts). Lets each distinct warning or error through once per `window_s`, and notes how
    often it repeated meanwhile, so an outage reads as a few clear lines."""

    def __init__(self, window_s: float = 10.0):
        super().__init__()
        self.window_s = window_s
        self._seen: dict[tuple, list] = {}  # key -> [last emitted (monotonic), suppressed count]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        if record.msg == _UNKNOWN_TOPIC and record.levelno == logging.ERROR:
            # a topic being created or not created yet: Kafka's Java client says so at WARN, not ERROR
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        key = (record.name, record.msg, str(record.args))
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self.window_s:
            seen[1] += 1
            return False
        if seen is not None and seen[1]:
            record.msg = f"{record.getMessage()} (repeated {seen[1]} times in the last {now - seen[0]:.0f}s)"
            record.args = None
        if len(self._seen) > 1000:
            self._seen.clear()
        self._seen[key] = [now, 0]
        return True


_UNKNOWN_TOPIC = "Topic %s not found in cluster metadata"  # aiokafka.cluster's ERROR line
_REPEATS = _RepeatFilter()
for _name in (
    "aiokafka",
    "aiokafka.conn",
    "aiokafka.cluster",
    "aiokafka.admin.client",
    "aiokafka.producer.producer",
    "aiokafka.producer.sender",
    "aiokafka.consumer.consumer",
    "aiokafka.consumer.fetcher",
    "aiokafka.consumer.group_coordinator",
):
    logging.getLogger(_name).addFilter(_REPEATS)


# --- startup retry -----------------------------------------------------------------------------------------


async def _retry(what: str, bootstrap: str, fn: Callable[[], Awaitable[T]], timeout_s: float | None) -> T:
    """Retries `fn` while the cluster cannot be reached, with backoff capped at 4 s (a broker that comes up is
    used within seconds); gives up after timeout_s (None: never). Other errors propagate at once."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    delay, attempt = 0.5, 1
    while True:
        try:
            return await fn()
        except (
            kerrors.KafkaConnectionError,
            kerrors.KafkaTimeoutError,
            kerrors.NoBrokersAvailable,
            kerrors.NodeNotReadyError,
            kerrors.GroupCoordinatorNotAvailableError,
            kerrors.CoordinatorNotAvailableError,
            kerrors.RequestTimedOutError,
            OSError,
        ) as e:
            if deadline is not None and time.monotonic() + delay > deadline:
                raise RetriableError(f"{what}: Kafka at {bootstrap} unreachable after {timeout_s:g}s: {e!r}") from e
            log.warning(
                "%s: Kafka at %s not reachable (attempt %d: %r); retrying in %.1fs", what, bootstrap, attempt, e, delay
            )
            await asyncio.sleep(delay)
            delay, attempt = min(delay * 2, 4.0), attempt + 1


# --- producer ----------------------------------------------------------------------------------------------


def _consume_outcome(f: asyncio.Future) -> None:
    if not f.cancelled():
        f.exception()  # retrieved: no "exception was never retrieved" noise for the records after a failure


class KafkaProducer(Producer):
    def __init__(self, bootstrap_servers: str, config: Mapping[str, Any] | None = None):
        self.bootstrap = bootstrap_servers
        kwargs = {**PRODUCER_DEFAULTS, **client_kwargs(config, _PRODUCER, "producer")}
        if kwargs.get("acks") != "all":
            kwargs["enable_idempotence"] = False  # idempotence requires acks=all
        self._kwargs = kwargs
        self._start_timeout = int((config or {}).get("max.block.ms", 60000)) / 1000
        self._producer: AIOKafkaProducer | None = None
        self._ready_topics: set[str] = set()
        self._round_robin = 0

    async def start(self) -> None:
        if self._producer is not None:
            return

        async def attempt() -> AIOKafkaProducer:
            p = AIOKafkaProducer(bootstrap_servers=self.bootstrap, **self._kwargs)
            try:
                await p.start()
            except BaseException:
                await p.stop()
                raise
            return p

        self._producer = await _retry("producer", self.bootstrap, attempt, self._start_timeout)

    async def stop(self) -> None:
        p, self._producer = self._producer, None
        if p is not None:
            await p.stop()  # flushes pending batches

    async def send_batch(self, records: list[ProducerRecord]) -> list[RecordMetadata]:
        """Builds one record batch per partition (aiokafka's BatchBuilder) instead of one send() per record,
        which costs several Python calls and a future per record; offsets follow from each batch's base."""
        p = self._producer
        if p is None:
            raise ConnectError("producer is not started")
        pending: list[tuple[asyncio.Future, str, list[int] | range, int]] = []
        try:
            for (topic, part), indices in (await self._partitioned(p, records)).items():
                batch, start, n = p.create_batch(), 0, 0
                append = batch._builder.append  # the C builder itself: BatchBuilder.append adds a call per record
                if indices.__class__ is range and self._fits_whole(records):
                    # all records, in order, into this one batch: appended by map(), no Python code per record
                    if None in list(
                        map(
                            append,
                            count(),
                            map(_TIMESTAMP, records),
                            map(_KEY, records),
                            map(_VALUE, records),
                            repeat(_NO_HEADERS_LIST),
                        )
                    ):
                        raise ConnectError("Internal error: a record batch refused a record it should have held")
                    n = len(records)
                for i in () if n else indices:
                    r = records[i]
                    headers = r.headers
                    if headers.__class__ is not list:  # the C builder takes lists only
                        headers = list(headers) if headers else _NO_HEADERS_LIST
                    if append(n, r.timestamp, r.key, r.value, headers) is None:
                        batch._relative_offset = n
                        future = await p.send_batch(batch, topic, partition=part)
                        pending.append((future, topic, indices[start : start + n], batch.size()))
                        batch, start, n = p.create_batch(), start + n, 0
                        append = batch._builder.append
                        if append(0, r.timestamp, r.key, r.value, headers) is None:
                            raise ConnectError(
                                f"A record for topic {topic} is larger than the producer's "
                                f"batch.size / max.request.size"
                            )
                    n += 1
                batch._relative_offset = n
                future = await p.send_batch(batch, topic, partition=part)
                pending.append((future, topic, indices[start : start + n], batch.size()))
            if len(pending) == 1 and pending[0][2] == range(len(records)):  # one batch: offsets base, base+1, ...
                future, topic, members, size = pending[0]
                m = await self._acked(future, topic, members, size)
                return list(
                    map(
                        _new_record_metadata,
                        zip(repeat(topic), repeat(m.partition), range(m.offset, m.offset + len(records))),
                    )
                )
            out: list[RecordMetadata | None] = [None] * len(records)
            for future, topic, members, size in pending:
                m = await self._acked(future, topic, members, size)
                base, partition = m.offset, m.partition
                for j, i in enumerate(members):
                    out[i] = RecordMetadata(topic, partition, base + j)
        except BaseException:
            for future, _, _, _ in pending:
                if not future.done():
                    future.add_done_callback(_consume_outcome)
                else:
                    _consume_outcome(future)
            raise
        return out  # type: ignore[return-value]

    async def _acked(self, future: asyncio.Future, topic: str, members: Sized, size: int) -> Any:
        """The broker's answer for one batch (its base offset and partition)."""
        try:
            return await future
        except kerrors.MessageSizeTooLargeError as e:
            raise ConnectError(
                f"Kafka refused a batch of {len(members)} records ({size} bytes) for topic {topic} as too "
                f"large: the topic's max.message.bytes (or the broker's message.max.bytes) is smaller. "
                f"Set producer.batch.size (worker) or producer.override.batch.size (connector) below it; "
                f"it is now {self._kwargs['max_batch_size']}."
            ) from e

    def _fits_whole(self, records: list[ProducerRecord]) -> bool:
        """Whether these records, none with headers, surely fit one batch: values and keys plus the most a record's
        framing takes (length, attributes, timestamp and offset deltas, key and value lengths, header count)."""
        if any(map(_HEADERS, records)):
            return False
        try:
            size = sum(map(len, map(_VALUE, records))) + sum(map(len, filter(None, map(_KEY, records))))
        except TypeError:  # a null value (tombstone)
            return False
        return size + 32 * len(records) + BATCH_OVERHEAD <= self._kwargs["max_batch_size"]

    async def _partitioned(
        self, p: AIOKafkaProducer, records: list[ProducerRecord]
    ) -> dict[tuple[str, int], list[int] | range]:
        """Record indices per (topic, partition): explicit partition, else murmur2 of the key like Kafka's default
        partitioner, else one partition per call and topic (sticky, round robin across calls)."""
        if not records:
            return {}
        topic = records[0].topic
        for r in records:  # the common batch: one topic, no key, no explicit partition
            if r.key is not None or r.partition is not None or r.topic != topic:
                break
        else:
            if topic not in self._ready_topics:
                await p.client._wait_on_metadata(topic)
                self._ready_topics.add(topic)
            return {(topic, self._sticky(p, topic)): range(len(records))}
        for t in {r.topic for r in records if r.partition is None} - self._ready_topics:
            await p.client._wait_on_metadata(t)
            self._ready_topics.add(t)
        by_partition: dict[tuple[str, int], list[int]] = {}
        sticky: dict[str, int] = {}
        counts: dict[str, int] = {}
        for i, r in enumerate(records):
            part = r.partition
            if part is None:
                if r.key is not None:
                    count = counts.get(r.topic)
                    if count is None:
                        count = counts[r.topic] = len(p.client.cluster.partitions_for_topic(r.topic))
                    part = partition_for_key(r.key, count)
                else:
                    part = sticky.get(r.topic)
                    if part is None:
                        part = sticky[r.topic] = self._sticky(p, r.topic)
            by_partition.setdefault((r.topic, part), []).append(i)
        return by_partition  # type: ignore[return-value]

    def _sticky(self, p: AIOKafkaProducer, topic: str) -> int:
        parts = sorted(
            p.client.cluster.available_partitions_for_topic(topic) or p.client.cluster.partitions_for_topic(topic)
        )
        self._round_robin += 1
        return parts[self._round_robin % len(parts)]


# --- consumer ----------------------------------------------------------------------------------------------


class _Listener(ConsumerRebalanceListener):
    def __init__(self, consumer: KafkaConsumer):
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        if revoked and self.consumer.on_revoked is not None:
            await self.consumer.on_revoked([TopicPartition(tp.topic, tp.partition) for tp in revoked])

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if self.consumer.on_assigned is not None:
            await self.consumer.on_assigned([TopicPartition(tp.topic, tp.partition) for tp in assigned])


_NO_HEADERS: Any = ()  # shared by every record without headers (immutable, so no list per record)
_NO_HEADERS_LIST: list = []  # the same for the C batch builder, which takes lists only (and never changes them)
BATCH_OVERHEAD = 61  # a v2 record batch's header
_TIMESTAMP, _KEY, _VALUE, _HEADERS = (field_getter(ProducerRecord, n) for n in ("timestamp", "key", "value", "headers"))
_LOST_MEMBERSHIP = (
    kerrors.CommitFailedError,
    kerrors.UnknownMemberIdError,
    kerrors.IllegalGenerationError,
    kerrors.RebalanceInProgressError,
)


def _stock_batch(records: list[Any]) -> RecordBatch:
    """aiokafka's own records of one partition as a RecordBatch (where kafka_fetch is not in place)."""
    types = kafka_fetch.TIMESTAMP_TYPES
    first = records[0]
    return RecordBatch(
        first.topic,
        first.partition,
        [r.offset for r in records],
        [r.timestamp for r in records],
        [r.key for r in records],
        [r.value for r in records],
        [list(r.headers) if r.headers else _NO_HEADERS for r in records],
        [types[r.timestamp_type] for r in records],
    )


class KafkaConsumer(Consumer):
    def __init__(self, bootstrap_servers: str, group_id: str, config: Mapping[str, Any] | None = None):
        self.bootstrap = bootstrap_servers
        self.group_id = group_id
        # Kafka's consumers offer "range" first (partition.assignment.strategy's default): a sink's group can then
        # hold JVM workers' consumers and ours at once (aiokafka alone offers only "roundrobin")
        self._kwargs = {
            **CONSUMER_DEFAULTS,
            "partition_assignment_strategy": _assignors("RangeAssignor"),
            **client_kwargs(config, _CONSUMER, "consumer"),
            "enable_auto_commit": False,
        }
        self._start_timeout = int((config or {}).get("default.api.timeout.ms", 60000)) / 1000
        self._consumer: AIOKafkaConsumer | None = None
        self._subscription: tuple[list[str] | None, str | None] | None = None
        self.on_assigned: RebalanceCallback | None = None
        self.on_revoked: RebalanceCallback | None = None
        self._next_refresh = 0.0  # monotonic time of the next metadata refresh for missing subscribed topics

    async def start(self) -> None:
        if self._consumer is not None:
            return

        async def attempt() -> AIOKafkaConsumer:
            c = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=self.group_id, **self._kwargs)
            try:
                await c.start()
            except BaseException:
                await c.stop()
                raise
            return c

        self._consumer = await _retry(f"consumer {self.group_id}", self.bootstrap, attempt, self._start_timeout)
        if self._subscription is not None:
            self._apply_subscription()

    async def stop(self) -> None:
        c, self._consumer = self._consumer, None
        if c is None:
            return
        try:
            assigned = c.assignment()
            if assigned and self.on_revoked is not None:
                # aiokafka leaves the group without telling the listener; Connect's contract revokes first.
                try:
                    await self.on_revoked([TopicPartition(tp.topic, tp.partition) for tp in assigned])
                except Exception:
                    log.exception("Revoke callback of group %s failed on stop", self.group_id)
        finally:
            await c.stop()

    async def subscribe(
        self,
        topics: list[str] | None = None,
        pattern: str | None = None,
        on_assigned: RebalanceCallback | None = None,
        on_revoked: RebalanceCallback | None = None,
    ) -> None:
        if not topics and not pattern:
            raise ConnectError("subscribe needs topics or a pattern")
        self.on_assigned, self.on_revoked = on_assigned, on_revoked
        self._subscription = (list(topics) if topics else None, pattern)
        if self._consumer is not None:
            self._apply_subscription()

    def _apply_subscription(self) -> None:
        topics, pattern = self._subscription
        if topics:
            self._consumer.subscribe(topics=topics, listener=_Listener(self))
        else:
            # aiokafka matches from the start only; Connect's topics.regex must match the whole name.
            self._consumer.subscribe(pattern=f"(?:{pattern})\\Z", listener=_Listener(self))

    def _refresh_missing_topics(self) -> None:
        """aiokafka refreshes metadata only every metadata.max.age.ms (5 min), so a sink subscribed before its
        topic exists (or while the broker still creates it) would stay without partitions that long. Like the
        Java client, ask again every second while a subscribed topic has no partitions yet."""
        now = time.monotonic()
        if now < self._next_refresh:
            return
        self._next_refresh = now + 1.0
        topics = self._subscription[0] if self._subscription else None
        client = self._consumer._client
        if topics and any(client.cluster.partitions_for_topic(t) is None for t in topics):
            client.force_metadata_update().add_done_callback(_consume_outcome)

    async def poll(self, max_records: int = 500, timeout_ms: int = 1000) -> list[ConsumerRecord]:
        return records_of(await self.poll_batches(max_records, timeout_ms))

    async def poll_batches(self, max_records: int = 500, timeout_ms: int = 1000) -> list[RecordBatch]:
        self._refresh_missing_topics()
        fetched = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        # RecordBatches already (see kafka_fetch), unless it could not install itself
        return [b if b.__class__ is RecordBatch else _stock_batch(b) for b in fetched.values()]

    def assignment(self) -> set[TopicPartition]:
        if self._consumer is None:
            return set()
        return {TopicPartition(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            await self._consumer.commit({AioTP(tp[0], tp[1]): off for tp, off in offsets.items()})
        except _LOST_MEMBERSHIP as e:
            # The group moved on without us (rebalance, or a broker restart expired the session).
            raise CommitFailed(f"Commit of group {self.group_id} failed: {e!r}") from e
        except kerrors.KafkaError as e:
            if isinstance(e, kerrors.KafkaConnectionError) or getattr(e, "retriable", False):
                raise RetriableError(f"Commit of group {self.group_id} failed: {e!r}") from e
            raise

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._consumer.seek(AioTP(tp[0], tp[1]), offset)

    def pause(self, partitions: list[TopicPartition]) -> None:
        self._consumer.pause(*(AioTP(tp[0], tp[1]) for tp in partitions))

    def resume(self, partitions: list[TopicPartition]) -> None:
        self._consumer.resume(*(AioTP(tp[0], tp[1]) for tp in partitions))


# --- admin protocol pieces aiokafka lacks ------------------------------------------------------------------


class _OffsetDeleteResponse_v0(Response):
    API_KEY = 47
    API_VERSION = 0
    SCHEMA = Schema(
        ("error_code", Int16),
        ("throttle_time_ms", Int32),
        (
            "topics",
            Array(("name", String("utf-8")), ("partitions", Array(("partition_index", Int32), ("error_code", Int16)))),
        ),
    )


class _OffsetDeleteRequest_v0(RequestStruct):
    API_KEY = 47
    API_VERSION = 0
    RESPONSE_TYPE = _OffsetDeleteResponse_v0
    SCHEMA = Schema(
        ("group_id", String("utf-8")), ("topics", Array(("name", String("utf-8")), ("partitions", Array(Int32))))
    )


class _OffsetDeleteRequest(Request[_OffsetDeleteRequest_v0]):
    API_KEY = 47

    def __init__(self, group_id: str, topics: list[tuple[str, list[int]]]):
        self._group_id, self._topics = group_id, topics

    def build(self, request_struct_class: type[_OffsetDeleteRequest_v0]) -> _OffsetDeleteRequest_v0:
        return request_struct_class(self._group_id, self._topics)


_NON_EMPTY_GROUP = 68
_GROUP_ID_NOT_FOUND = 69
_GROUP_SUBSCRIBED_TO_TOPIC = 86
_UNKNOWN_MEMBER_ID = 25
_ILLEGAL_GENERATION = 22
_TOPIC_ALREADY_EXISTS = 36


def _by_topic(partitions: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for item in partitions:
        out.setdefault(item[0][0], []).append(item)
    return out


def _aio_new_topic(t: NewTopic) -> AioNewTopic:
    nt = AioNewTopic(t.name, 1, 1, topic_configs={k: str(v) for k, v in t.configs.items()})
    # -1 asks for the broker default (KIP-464); aiokafka's constructor only allows it with explicit replicas.
    nt.num_partitions, nt.replication_factor = t.partitions, t.replication_factor
    return nt


# --- transport ---------------------------------------------------------------------------------------------


class KafkaTransport(Transport):
    kind = "kafka"

    def __init__(
        self,
        bootstrap_servers: str,
        producer_config: Mapping[str, Any] | None = None,
        consumer_config: Mapping[str, Any] | None = None,
        admin_config: Mapping[str, Any] | None = None,
        *,
        startup_timeout_s: float | None = None,
    ):
        """startup_timeout_s: how long start() keeps retrying an unreachable cluster (None: until it answers)."""
        self.bootstrap = bootstrap_servers
        self.producer_config = dict(producer_config or {})
        self.consumer_config = dict(consumer_config or {})
        self.admin_config = dict(admin_config or {})
        self.startup_timeout_s = startup_timeout_s
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets_client: AIOKafkaConsumer | None = None  # group-less consumer answering end_offsets
        self._lock = asyncio.Lock()

    # lifecycle

    async def start(self) -> None:
        if self._admin is not None:
            return
        kwargs = client_kwargs(self.admin_config, _ADMIN, "admin")

        async def attempt() -> AIOKafkaAdminClient:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, **kwargs)
            try:
                await admin.start()
                await admin.describe_cluster()  # bootstrap alone may succeed against a half-started broker
            except BaseException:
                await admin.close()
                raise
            return admin

        self._admin = await _retry("worker", self.bootstrap, attempt, self.startup_timeout_s)
        log.info("Connected to Kafka at %s (cluster %s)", self.bootstrap, await self.cluster_id())

    async def stop(self) -> None:
        admin, self._admin = self._admin, None
        offsets, self._offsets_client = self._offsets_client, None
        if offsets is not None:
            await offsets.stop()
        if admin is not None:
            await admin.close()

    def _require(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            raise ConnectError("Kafka transport is not started")
        return self._admin

    # clients

    def producer(self, config: Mapping[str, Any] | None = None) -> Producer:
        return KafkaProducer(self.bootstrap, {**self.producer_config, **(config or {})})

    def consumer(self, group_id: str, config: Mapping[str, Any] | None = None) -> Consumer:
        return KafkaConsumer(self.bootstrap, group_id, {**self.consumer_config, **(config or {})})

    # admin

    async def cluster_id(self) -> str | None:
        return (await self._require().describe_cluster()).get("cluster_id")

    async def list_topics(self) -> dict[str, int]:
        topics = await self._require().describe_topics()
        return {t["topic"]: len(t["partitions"]) for t in topics if not t.get("is_internal")}

    async def describe_topic_configs(self, topic: str) -> dict[str, str]:
        """Effective configs of a topic (an addition to the Transport interface, for checks and tooling)."""
        from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

        responses = await self._require().describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        out: dict[str, str] = {}
        for resp in responses:
            for resource in resp.resources:
                error_code, error_message = resource[0], resource[1]
                if error_code:
                    raise kerrors.for_code(error_code)(error_message)
                for entry in resource[4]:
                    out[entry[0]] = entry[1]
        return out

    async def create_topics(self, topics: list[NewTopic]) -> list[str]:
        if not topics:
            return []
        resp = await self._require().create_topics([_aio_new_topic(t) for t in topics])
        created: list[str] = []
        for item in resp.topic_errors:
            name, code = item[0], item[1]
            message = item[2] if len(item) > 2 else None
            if code == 0:
                created.append(name)
            elif code != _TOPIC_ALREADY_EXISTS:
                raise ConnectError(
                    f"Could not create topic {name}: {kerrors.for_code(code).__name__}"
                    f"{': ' + message if message else ''}"
                )
        await self._await_visible(created)
        return created

    async def _await_visible(self, names: list[str], timeout_s: float = 10.0) -> None:
        """Metadata reaches the brokers after CreateTopics answers: wait (bounded) until the new topics are listed,
        so that what a caller does next (list, describe, produce) sees them, as with the embedded log."""
        deadline = time.monotonic() + timeout_s
        delay = 0.02
        while names:
            listed = await self.list_topics()
            names = [n for n in names if n not in listed]
            if not names or time.monotonic() > deadline:
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        if names:
            log.warning("Topics %s created but not yet visible in the cluster metadata after %.0f s", names, timeout_s)

    async def committed_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        offsets = await self._require().list_consumer_group_offsets(group_id)
        return {TopicPartition(tp.topic, tp.partition): om.offset for tp, om in offsets.items() if om.offset >= 0}

    async def _group_members(self, group_id: str) -> int:
        for resp in await self._require().describe_consumer_groups([group_id]):
            for group in resp.groups:
                # (error_code, group_id, state, protocol_type, protocol, members, ...)
                if group[1] == group_id:
                    return len(group[5])
        return 0

    async def alter_committed_offsets(self, group_id: str, offsets: Mapping[TopicPartition, int | None]) -> None:
        admin = self._require()
        if await self._group_members(group_id):
            raise GroupNotEmpty(f"Consumer group {group_id} has active members")
        coordinator = await admin.find_coordinator(group_id)
        to_set = [(tp, off) for tp, off in offsets.items() if off is not None]
        to_delete = [tp for tp, off in offsets.items() if off is None]
        if to_set:
            # A commit outside the group's generation is accepted only while the group is empty.
            topics = [(t, [(tp[1], off, "") for tp, off in items]) for t, items in _by_topic(to_set).items()]
            req = OffsetCommitRequest(
                group_id,
                OffsetCommitRequest.DEFAULT_GENERATION_ID,
                "",
                OffsetCommitRequest.DEFAULT_RETENTION_TIME,
                topics,
            )
            resp = await admin._send_request(req, coordinator)
            for topic, partitions in resp.topics:
                for partition, code in partitions:
                    self._raise_group_error(group_id, code, f"{topic}-{partition}")
        if to_delete:
            topics = [(t, [p for _, p in items]) for t, items in _by_topic([(tp, tp[1]) for tp in to_delete]).items()]
            resp = await admin._send_request(_OffsetDeleteRequest(group_id, topics), coordinator)
            if resp.error_code != _GROUP_ID_NOT_FOUND:
                self._raise_group_error(group_id, resp.error_code, group_id)
            for topic, partitions in resp.topics:
                for partition, code in partitions:
                    self._raise_group_error(group_id, code, f"{topic}-{partition}")

    @staticmethod
    def _raise_group_error(group_id: str, code: int, what: str) -> None:
        if code == 0:
            return
        if code in (_NON_EMPTY_GROUP, _GROUP_SUBSCRIBED_TO_TOPIC, _UNKNOWN_MEMBER_ID, _ILLEGAL_GENERATION):
            raise GroupNotEmpty(f"Consumer group {group_id} has active members")
        raise ConnectError(f"Offset change for {what} in group {group_id} failed: {kerrors.for_code(code).__name__}")

    async def delete_group(self, group_id: str) -> None:
        admin = self._require()
        coordinator = await admin.find_coordinator(group_id)
        resp = await admin._send_request(DeleteGroupsRequest([group_id]), coordinator)
        for gid, code in resp.results:
            if code in (0, _GROUP_ID_NOT_FOUND):
                continue
            if code == _NON_EMPTY_GROUP:
                raise GroupNotEmpty(f"Consumer group {gid} has active members")
            raise ConnectError(f"Deleting consumer group {gid} failed: {kerrors.for_code(code).__name__}")

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        if not partitions:
            return {}
        async with self._lock:
            if self._offsets_client is None:
                kwargs = client_kwargs(self.consumer_config, _CONSUMER, "consumer")
                kwargs.pop("group_instance_id", None)
                c = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, **kwargs)
                await c.start()
                self._offsets_client = c
        ends = await self._offsets_client.end_offsets([AioTP(tp[0], tp[1]) for tp in partitions])
        return {TopicPartition(tp.topic, tp.partition): off for tp, off in ends.items()}
