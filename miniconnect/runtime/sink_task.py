"""Runs one SinkTask: consume in group connect-<name>, convert, put, and commit positions only after flush."""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from ..config.configdef import java_trim
from ..config.javaregex import java_to_python
from ..connector import SinkTask, SinkTaskContext, TopicPartition
from ..converters.base import Converter, reads_headers
from ..converters.simple_header import SimpleHeaderConverter
from ..data.columns import ColumnBatch
from ..data.records import Header, SinkRecord, new_sink_record
from ..errors import ConnectError, RetriableError
from ..metrics.groups import SinkTaskMetrics
from ..retry import Backoff, describe, is_retriable
from ..schema_registry.pending import converted
from ..transforms.chain import TransformationChain
from ..transport.base import CommitFailed, RecordBatch, Transport
from .error_handling import (
    HEADER_CONVERTER,
    KEY_CONVERTER,
    TRANSFORMATION,
    VALUE_CONVERTER,
    ErrorHandler,
    ErrorPath,
    Original,
)
from .runner import TaskRunner, no_keys, worker_metrics_window
from .sink_columns import ColumnConverter, columns_enabled
from .states import TaskId

log = logging.getLogger(__name__)

# put() batches: a full poll is followed by further non-waiting polls while records are already there, up to this
# many polls' worth of records or bytes. Sinks that write one transaction per put() (JDBC) get far fewer, larger
# transactions under load, and nothing waits for records that have not arrived, so latency stays that of one poll.
PUT_BATCH_POLLS = 32
PUT_BATCH_BYTES = 16 << 20
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
READ_AHEAD_SLICE = 100  # records converted between two chances for put() to go on
READ_AHEAD_WAIT_MS = 20  # while put() runs, the next batch is read in polls that wait at most this long
PROMPT_COMMITS_PER_S = 10  # commits right after put() (SinkTask.commits_on_put), spaced at most this often
PUT_BACKOFF = Backoff(initial=1.0, maximum=10.0)  # redelivery after a RetriableError the task gave no timeout for

# After a batch went record by record (no column form, or the task refused its columns), the next ones are converted
# as records ahead of put(), as without the column path; every this many such batches, columns are tried again
COLUMNS_RETRY_EVERY = 16
# A batch read ahead: its records, the SinkRecords of each RecordBatch if converted, and, if read as columns, the
# parse of its columns, still running in a worker thread while the batch before is written
Columns = asyncio.Future[list[ColumnBatch] | None]
Ahead = tuple[list[RecordBatch], list[list[SinkRecord]] | None, Columns | None]


def sink_group_id(connector: str, connector_config: dict[str, str]) -> str:
    return connector_config.get("consumer.override.group.id") or f"connect-{connector}"


class RecordConversionError(ConnectError):
    pass


TASK_PUT_STAGE = "TASK_PUT"


def _where(batch: RecordBatch) -> str:
    return f"the records at topic '{batch.topic}', partition {batch.partition}, from offset {batch.offsets[0]}"


def _original(batch: RecordBatch, i: int) -> Original:
    return Original(
        batch.topic,
        batch.partition,
        batch.offsets[i],
        batch.keys[i],
        batch.values[i],
        batch.timestamps[i],
        batch.headers[i],
    )


class _Originals:
    """The consumed records of a put(), found by (topic, partition, offset) only when the task reports one."""

    def __init__(self, raw: list[RecordBatch]):
        self.raw = raw

    def get(self, coordinates: tuple[str, int, int]) -> Original | None:
        """The record read at these coordinates; a topic renamed by a transform is found by partition and offset
        when only one batch holds them."""
        topic, partition, offset = coordinates
        found = [b for b in self.raw if b.partition == partition and b.offsets[0] <= offset <= b.offsets[-1]]
        exact = [b for b in found if b.topic == topic]
        for batch in exact or (found if len(found) == 1 else []):
            try:
                return _original(batch, list(batch.offsets).index(offset))
            except ValueError:
                pass
        return None


class SinkTaskRunner(TaskRunner):
    metrics: SinkTaskMetrics

    def __init__(
        self,
        task_id: TaskId,
        task: SinkTask,
        task_config: dict[str, str],
        connector_config: dict[str, str],
        worker: Any,
        key_converter: Converter,
        value_converter: Converter,
        transport: Transport,
        consumer_config: dict[str, Any],
        chain: TransformationChain | None = None,
        producer_config: dict[str, Any] | None = None,
        header_converter: Converter | None = None,
    ):
        self.errors = ErrorHandler(task_id, connector_config, sink=True)
        self.metrics = SinkTaskMetrics(task_id, worker_metrics_window(worker))
        super().__init__(task_id, task, task_config, worker)
        self.errors.stopping = self.context.stopping
        self.task: SinkTask = task
        self.connector_config = connector_config
        self.key_converter, self.value_converter = key_converter, value_converter
        self.header_converter = header_converter or SimpleHeaderConverter()
        self.headers_wanted = reads_headers(key_converter) or reads_headers(value_converter)
        self.consumer = transport.consumer(sink_group_id(task_id.connector, connector_config), consumer_config)
        self.max_records = int(consumer_config.get("max.poll.records", 500))
        self.max_batch = self.max_records * PUT_BATCH_POLLS
        self.current: dict[TopicPartition, int] = {}  # next offset to read, per partition, after put()
        self.committed: dict[TopicPartition, int] = {}
        self.known_topics: set[str] = set()
        self.commit_interval = worker.config["offset.flush.interval.ms"] / 1000
        self.last_commit = time.monotonic()
        self.started_consumer = False
        self.closing = False  # set at shutdown: the revoke callback from consumer.stop() has nothing left to do
        self._put: asyncio.Future[None] | None = None  # put() in flight while the next batch is read ahead
        self._originals = _Originals([])
        self._rebalances = 0  # assignment changes so far
        self.chain = chain  # None without transforms: the conversion path is then the same as without this feature
        self.transport = transport
        self.producer_config = producer_config or {}
        kind = type(task)
        self.prompt_commits = kind.commits_on_put or (
            kind.flush is SinkTask.flush and kind.pre_commit is SinkTask.pre_commit
        )
        self._committer: asyncio.Task[None] | None = None
        # batches go to put_columns() first when the task takes columns and nothing needs a SinkRecord per record
        self.columns = (
            ColumnConverter(key_converter, value_converter)
            if task.accepts_columns and chain is None and not self.headers_wanted and columns_enabled()
            else None
        )
        self._by_records = 0  # batches delivered record by record since the last one written as columns

    def make_context(self) -> SinkTaskContext:
        context = SinkTaskContext(self.id.connector, self.id.task, self.task_config)
        context.errant_record_reporter = self._report_errant if self.errors.tolerate_all else None
        return context

    def _report_errant(self, record: SinkRecord, error: BaseException) -> None:
        """SinkTaskContext.errantRecordReporter(): a record the task could not write (stage TASK_PUT), reported with
        the bytes it was read as (found again by its offset) and skipped, or failing the task with tolerance none."""
        self.errors.failed(
            TASK_PUT_STAGE,
            type(self.task).__module__ + "." + type(self.task).__qualname__,
            error,
            self._originals.get((record.topic, record.kafka_partition, record.kafka_offset)),
            record,
        )

    async def execute(self) -> None:
        await self.errors.start(self.transport, self.producer_config)
        await self.consumer.start()
        self.started_consumer = True
        topics = [t.strip() for t in self.connector_config.get("topics", "").split(",") if t.strip()]
        regex = java_trim(self.connector_config.get("topics.regex") or "") or None
        pattern = java_to_python(regex) if regex else None  # validated as a Java regex: see the config's key
        await self.consumer.subscribe(
            topics or None, None if topics else pattern, on_assigned=self._on_assigned, on_revoked=self._on_revoked
        )
        ctx = self.context
        ahead: Ahead | None = None
        while not ctx.stopping.is_set():
            if not await self.wait_if_paused():
                break
            self._apply_context()
            if ahead is not None:
                (raw, records, columns), ahead = ahead, None
            else:
                raw = await self._poll()
                records, columns = None, None
            if raw:
                if records is None and columns is None:
                    if self._try_columns():
                        columns = asyncio.ensure_future(self._read_columns(raw))
                    else:
                        records = await self._convert_all(raw)
                ahead = await self._put_and_read_ahead(raw, records, columns)
            if ctx.commit_requested or time.monotonic() - self.last_commit >= self.commit_interval:
                ctx.commit_requested = False
                await self._settle_commit()
                await self.commit()
            elif self.prompt_commits and raw:
                self._commit_soon()

    def _commit_soon(self) -> None:
        """Commits the delivered positions in the background (see SinkTask.commits_on_put): one commit at a time,
        positions delivered meanwhile go with the next."""
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_loop(), name=f"commit-{self.id}")

    async def _commit_loop(self) -> None:
        while any(self.committed.get(tp) != o for tp, o in self.current.items()):
            before = dict(self.current)
            started = time.monotonic()
            await self.commit()
            if self.current == before:
                return  # nothing new, or the commit failed (it is tried again after the next put)
            # at most PROMPT_COMMITS_PER_S commits: under load, each covers several put()s
            await self.context.wait(max(0.0, 1 / PROMPT_COMMITS_PER_S - (time.monotonic() - started)))

    async def _settle_commit(self) -> None:
        if self._committer is not None:
            await asyncio.wait([self._committer])
            self._committer = None

    async def _put_and_read_ahead(
        self, raw: list[RecordBatch], records: list[list[SinkRecord]] | None, columns: Columns | None
    ) -> Ahead | None:
        """put() this batch while the next one is polled and converted, so that a sink waiting on its database
        and the worker's decoding overlap. Reading ahead goes on while put() runs and, once it returned, while
        records are there, up to a full batch (see _poll). What was read ahead is kept only for partitions that
        are still assigned, not paused and not rewound once put() returned (see _still_wanted). A batch read as
        columns is parsed in a worker thread from the moment it is read: the parse goes on while this put() ends
        and the next put() awaits it, so the thread parses while the event loop fetches and writes."""
        put = self._put = asyncio.ensure_future(self._deliver_tracked(raw, records, columns))
        rebalances = self._rebalances
        ahead: list[RecordBatch] = []
        count = 0
        as_columns = self._try_columns()
        converted: list[list[SinkRecord]] | None = None if as_columns else []
        read: Columns | None = None
        try:
            try:
                limit = self.max_batch
                while count < limit:
                    if put.done() and (put.cancelled() or put.exception() is not None):
                        break  # the task is failing: no use reading further
                    want = min(self.max_records, limit - count)
                    chunk = await self.consumer.poll_batches(want, 0 if put.done() else READ_AHEAD_WAIT_MS)
                    got = sum(map(len, chunk))
                    if not got:
                        if put.done():
                            break
                        continue
                    self.metrics.record_read(got)
                    if not ahead:
                        limit = self._batch_limit(chunk)
                    ahead += chunk
                    count += got
                    # converted in slices, yielding between them: a poll that finds records does not yield, and
                    # put()'s database round trips would otherwise wait for a whole batch to be converted (or, read
                    # as columns, for the whole batch to be read: the embedded log hands over 16,000 records in
                    # ~10 ms of polls that never wait)
                    if converted is not None:
                        converted = await self._convert_sliced(chunk, converted)
                    else:
                        await asyncio.sleep(0)
                    if put.done() and got < want:
                        break
                if as_columns and ahead:
                    read = asyncio.ensure_future(self._read_columns(ahead))
            except asyncio.CancelledError:
                put.cancel()
                raise
            except BaseException:
                await asyncio.wait([put])  # the batch in flight still lands (and is tracked) before the error
                raise
            try:
                await put
            except BaseException:
                if read is not None and not read.done():
                    await asyncio.wait([read])  # the thread's work is not cancellable: let it end
                raise
        finally:
            self._put = None
        return self._still_wanted(ahead, converted, read, rebalances) if ahead else None

    def _try_columns(self) -> bool:
        return self.columns is not None and self._by_records % COLUMNS_RETRY_EVERY == 0

    async def _read_columns(self, raw: list[RecordBatch]) -> list[ColumnBatch] | None:
        """The batch as columns, parsed in a worker thread; None when it has no column form (see sink_columns)."""
        assert self.columns is not None
        for batch in raw:
            self._note_topic(batch.topic)
        try:
            units = self.columns.plan(raw)
            return None if units is None else await asyncio.to_thread(self.columns.read, units)
        except Exception as e:  # the record path is the reference: it converts the batch (or says what is wrong)
            log.warning("Task %s: batch not read as columns, converting record by record: %r", self.id, e)
            return None

    async def _convert_sliced(
        self, batches: list[RecordBatch], converted: list[list[SinkRecord]]
    ) -> list[list[SinkRecord]] | None:
        """Appends the batches' SinkRecords to `converted`, READ_AHEAD_SLICE records between two yields; None when
        a record does not convert (converted again next round, after the batch in flight is safely delivered)."""
        for batch in batches:
            n = len(batch)
            slices = (
                [batch]
                if n <= READ_AHEAD_SLICE
                else [batch.slice(lo, lo + READ_AHEAD_SLICE) for lo in range(0, n, READ_AHEAD_SLICE)]
            )
            out: list[SinkRecord] = []
            for part in slices:
                try:
                    out += await self._converted(part)
                except (RecordConversionError, ErrorPath):
                    return None
                await asyncio.sleep(0)
            converted.append(out)
        return converted

    def _still_wanted(
        self,
        raw: list[RecordBatch],
        records: list[list[SinkRecord]] | None,
        columns: Columns | None,
        rebalances: int,
    ) -> Ahead | None:
        ctx = self.context
        if not ctx.paused and not ctx.rewinds and self._rebalances == rebalances:
            return raw, records, columns  # the usual case, decided without looking at every record
        assigned = self.consumer.assignment()
        drop = {
            tp
            for tp in (TopicPartition(b.topic, b.partition) for b in raw)
            if tp not in assigned or tp in ctx.paused or tp in ctx.rewinds
        }
        if not drop:
            return raw, records, columns
        keep = [i for i, b in enumerate(raw) if TopicPartition(b.topic, b.partition) not in drop]
        first: dict[TopicPartition, int] = {}
        for b in raw:
            tp = TopicPartition(b.topic, b.partition)
            if tp in drop and tp not in first:
                first[tp] = b.offsets[0]
        for tp, offset in first.items():
            if tp in assigned and tp not in ctx.rewinds:  # paused: read again from here once resumed
                self.consumer.seek(tp, offset)
        # the columns of the whole batch, if parsing, are left to their thread: the kept part is converted afresh
        if not keep:
            return None
        return [raw[i] for i in keep], None if records is None else [records[i] for i in keep], None

    async def _deliver_tracked(
        self, raw: list[RecordBatch], records: list[list[SinkRecord]] | None, columns: Columns | None
    ) -> None:
        self._originals = _Originals(raw)
        parsed = await columns if columns is not None else None
        started = time.monotonic()
        if parsed is not None and await self.task.put_columns(parsed):
            self._by_records = 0
            sent = sum(map(len, raw))
        else:
            self._by_records += 1
            if records is None:  # the task refused the columns: the records, through the error handler if needed
                records = await self._convert_all(raw)
            flat = list(chain.from_iterable(records))  # without the records errors left out
            await self._deliver(flat)
            sent = len(flat)
        self.metrics.record_put(sent, (time.monotonic() - started) * 1000)
        await self.errors.flush()  # the DLQ has the failed records before their offsets can be committed
        current = self.current
        for batch in raw:  # a partition's batches come in offset order: the last one's end wins
            current[TopicPartition(batch.topic, batch.partition)] = batch.offsets[-1] + 1
        self.metrics.record_active(current, self.committed)

    async def _settle_put(self) -> bool:
        """Waits for a put() in flight (rebalance callbacks run inside the read-ahead poll); False if it failed."""
        put = self._put
        if put is None:
            return True
        await asyncio.wait([put])
        return not put.cancelled() and put.exception() is None

    async def _poll(self) -> list[RecordBatch]:
        """One poll, extended by non-waiting polls while each came back full (see PUT_BATCH_POLLS)."""
        want = self.max_records
        raw = await self.consumer.poll_batches(want, 500)
        got = count = sum(map(len, raw))
        if count < want or self.max_batch <= want:
            self.metrics.record_read(count)
            return raw
        limit = self._batch_limit(raw)
        raw = list(raw)
        while got >= want and count < limit:
            want = min(self.max_records, limit - count)
            last = await self.consumer.poll_batches(want, 0)
            got = sum(map(len, last))
            count += got
            raw += last
        self.metrics.record_read(count)
        return raw

    def _batch_limit(self, first: list[RecordBatch]) -> int:
        """Records per put(): PUT_BATCH_POLLS polls' worth, or PUT_BATCH_BYTES judged by the first poll's sizes
        (measuring every record would cost more)."""
        n = sum(map(len, first))
        size = sum(sum(map(len, filter(None, b.values))) + sum(map(len, filter(None, b.keys))) for b in first) or 1
        return min(self.max_batch, max(self.max_records, PUT_BATCH_BYTES * n // size))

    def _apply_context(self) -> None:
        ctx = self.context
        if ctx.rewinds:
            for tp, offset in ctx.rewinds.items():
                self.consumer.seek(tp, offset)
                self.current[tp] = offset
            ctx.rewinds.clear()
        assigned = self.consumer.assignment()
        self.consumer.pause([tp for tp in ctx.paused if tp in assigned])
        self.consumer.resume([tp for tp in assigned if tp not in ctx.paused])

    def _note_topic(self, topic: str) -> None:
        if topic not in self.known_topics:
            self.known_topics.add(topic)
            self.worker.topic_used(self.id.connector, topic, self.id.task)

    def _convert(self, batch: RecordBatch) -> list[SinkRecord]:
        """One partition's records converted with one converter batch call each for keys and values (the null key
        of keyless records converted once), built into SinkRecords from the columns, then transformed."""
        topic = batch.topic
        self._note_topic(topic)
        kc, vc = self.key_converter, self.value_converter
        has_headers = any(batch.headers)
        headers = batch.headers if self.headers_wanted and has_headers else None
        try:
            if headers is None and no_keys(batch.keys):
                key_schema, key = kc.to_connect_data(topic, None)
                key_schemas: Any = repeat(key_schema)
                key_column: Any = repeat(key)
            else:
                keys = kc.to_connect_batch(topic, batch.keys, headers)
                key_schemas, key_column = map(_FIRST, keys), map(_SECOND, keys)
            values = vc.to_connect_batch(topic, batch.values, headers)
            # then the header.converter, as WorkerSinkTask.convertAndTransformRecord
            connect_headers = [self._connect_headers(topic, h) for h in batch.headers] if has_headers else batch.headers
        except Exception:
            if not self.errors.handles_errors:
                self._raise_conversion_error(batch)
                raise
            raise ErrorPath from None
        records = list(
            map(
                new_sink_record,
                zip(
                    repeat(topic),
                    repeat(batch.partition),
                    key_schemas,
                    key_column,
                    map(_FIRST, values),
                    map(_SECOND, values),
                    batch.offsets,
                    batch.timestamps,
                    batch.types_column(),
                    connect_headers,
                ),
            )
        )
        if self.chain is None:
            return records
        try:
            transformed = self.chain.apply_batch(records)
        except Exception:
            raise ErrorPath from None
        return [r for r in transformed if r is not None]

    def _converted(self, batch: RecordBatch) -> Any:
        """_convert(batch), after the Schema Registry requests it needs were made off the event loop."""
        return converted(partial(self._convert, batch), _where(batch), self.context.wait, self.waiting)

    async def _convert_all(self, raw: list[RecordBatch]) -> list[list[SinkRecord]]:
        out = []
        for batch in raw:
            try:
                out.append(await self._converted(batch))
            except ErrorPath:
                out.append(await self._convert_each(batch))
        return out

    async def _convert_each(self, batch: RecordBatch) -> list[SinkRecord]:
        """The error path, as Kafka's WorkerSinkTask.convertAndTransformRecord: record by record, each conversion
        and transformation through the error handler (retried if retriable, then reported and skipped, or the
        task failed)."""
        topic, wait, waiting = batch.topic, self.context.wait, self.waiting
        hc, kc, vc = self.header_converter, self.key_converter, self.value_converter
        records = []
        for i, (offset, key, value, ts, ttype, headers) in enumerate(
            zip(
                batch.offsets,
                batch.keys,
                batch.values,
                batch.timestamps,
                batch.types_column(),
                batch.headers,
                strict=True,
            )
        ):
            original = _original(batch, i)
            where = f"the record at topic '{topic}', partition {batch.partition}, offset {offset}"

            def execute(operation: Any, *args: Any, where: str = where) -> Any:
                return converted(partial(self.errors.execute, operation, *args), where, wait, waiting)

            ok, k = await execute(
                partial(kc.to_connect_data, topic, key, headers), KEY_CONVERTER, kc.class_name, original
            )
            if not ok:
                continue
            ok, v = await execute(
                partial(vc.to_connect_data, topic, value, headers), VALUE_CONVERTER, vc.class_name, original
            )
            if not ok:
                continue
            if headers:
                convert_headers = partial(self._connect_headers, topic, headers)
                ok, headers = await execute(convert_headers, HEADER_CONVERTER, hc.class_name, original)
                if not ok:
                    continue
            (key_schema, connect_key), (value_schema, connect_value) = k, v
            record: SinkRecord | None = SinkRecord(
                topic, batch.partition, key_schema, connect_key, value_schema, connect_value, offset, ts, ttype, headers
            )
            if self.chain is not None:
                record = await self.chain.apply_each(record, partial(self._execute_transformation, original))
            if record is not None:
                records.append(record)
        return records

    def _connect_headers(self, topic: str, headers: Any) -> list[Header]:
        """A record's headers as Connect headers, by the header.converter (WorkerSinkTask.convertHeadersFor)."""
        if not headers:
            return []
        to_connect, out = self.header_converter.to_connect_header, []
        for key, data in headers:
            schema, value = to_connect(topic, key, data)
            out.append(Header(key, value, schema))
        return out

    def _execute_transformation(self, original: Original, operation: Any, transformation: Any) -> Any:
        return self.errors.execute(operation, TRANSFORMATION, transformation.class_name, original)

    def _raise_conversion_error(self, batch: RecordBatch) -> None:
        """Finds the first record that does not convert and names its coordinates."""
        for offset, key, value, headers in zip(batch.offsets, batch.keys, batch.values, batch.headers):
            for conv, data, what in ((self.key_converter, key, "key"), (self.value_converter, value, "value")):
                try:
                    conv.to_connect_data(batch.topic, data, headers)
                except Exception as e:
                    raise RecordConversionError(
                        f"Failed to convert the {what} of the record at topic '{batch.topic}', partition "
                        f"{batch.partition}, offset {offset}: {e}"
                    ) from e

    async def _deliver(self, records: list[SinkRecord]) -> None:
        """put(), redelivering the same batch after a RetriableError as Kafka's WorkerSinkTask does (without limit),
        after the task's context.timeout() or else with capped exponential back-off; the status trace says so."""
        attempt = 0
        while True:
            try:
                await self.task.put(records)
            except RetriableError as e:
                wait_ms = self.context.retry_timeout_ms
                self.context.retry_timeout_ms = None
                wait_s = wait_ms / 1000 if wait_ms else PUT_BACKOFF.delay(attempt)
                attempt += 1
                what = (
                    f"Waiting to redeliver {len(records)} records (attempt {attempt}, next in {wait_s:.1f} s): "
                    f"{describe(e)}"
                )
                log.warning("Task %s: %s", self.id, what)
                self.waiting(what)
                if await self.context.wait(wait_s):
                    raise ConnectError(f"Task {self.id} stopped while retrying: {e}") from e
                continue
            if attempt:
                log.info("Task %s: put() succeeded again after %d retries", self.id, attempt)
                self.waiting(None)
            return

    async def commit(self, partitions: set[TopicPartition] | None = None) -> None:
        """pre_commit (which flushes) and commit what the task says is safe, for the given or all partitions."""
        started = self.last_commit = time.monotonic()
        current = {tp: o for tp, o in self.current.items() if partitions is None or tp in partitions}
        if not current:
            return
        safe = await self.task.pre_commit(dict(current))
        safe = {tp: o for tp, o in safe.items() if tp in current and self.committed.get(tp) != o}
        if safe:
            try:
                await self.consumer.commit(safe)
            except Exception as e:
                if not isinstance(e, (CommitFailed, RetriableError)) and not is_retriable(e):
                    raise
                # Like Kafka's WorkerSinkTask: the records stay uncommitted and are delivered again after a
                # rebalance, or committed at the next interval; the task keeps running.
                log.warning("Task %s: commit of offsets failed (%s); will retry", self.id, e)
                self.metrics.record_commit((time.monotonic() - started) * 1000, False)
                return
            self.committed.update(safe)
            self.metrics.record_active(self.current, self.committed)
        # nothing new to commit counts as a completed commit, as in WorkerSinkTask.commitOffsets
        self.metrics.record_commit((time.monotonic() - started) * 1000, True)

    async def _on_assigned(self, partitions: list[TopicPartition]) -> None:
        self._rebalances += 1
        await self._settle_put()
        self.context.assignment.update(partitions)
        self.metrics.partition_count = len(self.context.assignment)
        await self.task.open(list(partitions))

    async def _on_revoked(self, partitions: list[TopicPartition]) -> None:
        if self.closing:
            return
        self._rebalances += 1
        delivered = await self._settle_put()
        if not self.failed and delivered:
            await self.commit(set(partitions))
        for tp in partitions:
            self.current.pop(tp, None)
            self.committed.pop(tp, None)
        self.context.assignment.difference_update(partitions)
        self.metrics.partition_count = len(self.context.assignment)
        self.metrics.record_active(self.current, self.committed)
        await self.task.close(list(partitions))

    async def shutdown(self) -> None:
        try:
            await self._settle_commit()
            if self.started_consumer and not self.failed:
                await self.commit()
                await self.task.close(sorted(self.context.assignment))
        finally:
            self.closing = True
            try:
                await self.consumer.stop()
            finally:
                await self.errors.stop()
                if self.chain is not None:
                    self.chain.close()
