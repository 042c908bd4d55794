"""JdbcSinkTask: turns SinkRecords into batched, transactional writes (reference 8.1-8.5) through a JdbcDbWriter.

Everything put() received is durable when it returns (flush() has nothing left to do), and a RetriableError
(database errors, up to max.retries) makes the worker redeliver exactly the rolled-back batch. With
errors.tolerance=all, a failed batch is halved until the bad records are found and reported.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from miniconnect.connector import SinkTask, TopicPartition
from miniconnect.data.columns import ColumnBatch
from miniconnect.data.records import SinkRecord
from miniconnect.errors import ConnectError, RetriableError

from ..dialects import resolve_dialect
from ..url import parse_jdbc_url
from .columnar import put_columns
from .config import SinkConfig
from .db_writer import JdbcDbWriter
from .ddl import TableAlterOrCreateError
from .errors import RecordError, exception_chain
from .writer import WRITERS, Writer

log = logging.getLogger(__name__)


class JdbcSinkTask(SinkTask):
    class_name = "io.confluent.connect.jdbc.sink.JdbcSinkTask"
    commits_on_put = True  # put() commits its transaction: the worker commits the positions right after it
    accepts_columns = True

    def __init__(self) -> None:
        self.cfg: SinkConfig | None = None
        self.writer: Writer | None = None
        self.db: JdbcDbWriter | None = None
        self.remaining_retries = 0
        self.wrote_columns = False

    async def start(self, props: dict[str, str]) -> None:
        cfg = self.cfg = SinkConfig.parse(props)
        jdbc = parse_jdbc_url(cfg.connection_url, cfg.connection_user, cfg.connection_password)
        dialect = resolve_dialect(jdbc.dialect, cfg.dialect_name or None)
        if dialect.kind != jdbc.dialect:
            raise ConnectError(f"dialect.name '{cfg.dialect_name}' does not match the connection URL's database")
        try:
            self.tz = ZoneInfo(cfg.db_timezone)
        except Exception:
            raise ConnectError(f"Invalid db.timezone '{cfg.db_timezone}'") from None
        self.nanos = cfg.timestamp_precision_mode == "nanoseconds"
        self.writer = WRITERS[jdbc.dialect](
            jdbc, cfg.quote_identifiers, cfg.connection_attempts, cfg.connection_backoff_ms
        )
        self.remaining_retries = cfg.max_retries
        self.db = JdbcDbWriter(cfg, self.writer, self.tz, self.nanos)
        metrics = getattr(getattr(self, "context", None), "metrics", None)
        if metrics is not None:  # rows committed per table and statement kind, read at each scrape
            db = self.db
            metrics.add_gauge(
                "jdbc-sink-task-metrics",
                "rows-written-total",
                lambda: [({"table": t, "statement": kind}, n) for (t, kind), n in list(db.rows_written.items())],
            )
        log.info(
            "JDBC sink task starting: %s, insert.mode=%s, pk.mode=%s", jdbc.redacted(), cfg.insert_mode, cfg.pk_mode
        )

    async def stop(self) -> None:
        if self.db is not None:
            await self.db.close()
        elif self.writer is not None:
            await self.writer.close()

    async def flush(self, current_offsets: dict[TopicPartition, int]) -> None:
        """Nothing buffered: put() commits everything it is given before returning."""

    async def put(self, records: list[SinkRecord]) -> None:
        if not records:
            return
        assert self.cfg is not None and self.writer is not None, "put() before start()"
        try:
            await self._write(records)
        except (RecordError, TableAlterOrCreateError, ConnectError) as e:
            if self._reporter() is None:
                raise
            await self._isolate(records, e)
        except Exception as e:
            if self._reporter() is None:
                await self._failed(e)
            await self._isolate(records, e)
        self.remaining_retries = self.cfg.max_retries

    async def put_columns(self, batches: list[ColumnBatch]) -> bool:
        """The batch written as columns (see columnar); False, nothing written, when it must go record by record
        (also always with errors.tolerance=all, whose reporting is per record)."""
        assert self.cfg is not None and self.db is not None, "put_columns() before start()"
        if not batches or self._reporter() is not None:
            return False
        ctx = getattr(self, "context", None)
        if not await put_columns(self.db, batches, ctx.wait if ctx is not None else None):
            return False
        self.remaining_retries = self.cfg.max_retries
        if not self.wrote_columns:
            self.wrote_columns = True
            log.info("JDBC sink task writes batches as columns (%s)", self.db.writer.dialect)  # type: ignore[union-attr]
        return True

    async def _write(self, records: list[SinkRecord]) -> None:
        assert self.db is not None
        ctx = getattr(self, "context", None)
        await self.db.write(records, ctx.wait if ctx is not None else None)

    def _reporter(self) -> Any:
        """The worker's errant record reporter when bad records are to be reported and skipped (errors.tolerance
        all), else None: the task then fails on them as before."""
        ctx = getattr(self, "context", None)
        return getattr(ctx, "errant_record_reporter", None) if ctx is not None else None

    async def _isolate(self, records: list[SinkRecord], error: BaseException) -> None:
        """A batch that failed is halved and each half written again, down to the single records that fail:
        those go to the errant record reporter (then the DLQ) with the database's error; the others are
        written. A bad record among n costs about 2*log2(n) small transactions."""
        reporter = self._reporter()
        if len(records) == 1:
            log.warning("Record at %s is reported as errant: %s", records[0].coordinates, exception_chain(error))
            reporter(records[0], error)
            return
        mid = len(records) // 2
        for half in (records[:mid], records[mid:]):
            try:
                await self._write(half)
            except Exception as e:
                if self.writer is not None and self.writer.conn is None:
                    raise  # the connection is gone: not a record's fault
                await self._isolate(half, e)

    async def _failed(self, e: Exception) -> None:
        """A database error: retry through the worker (RetriableError) until max.retries, then fail the task."""
        assert self.cfg is not None and self.writer is not None
        msg = exception_chain(e)
        if self.db is not None:
            await self.db.close()
            self.db.forget_tables()
        else:
            await self.writer.close()  # metadata may be stale after whatever happened: read it again
        if self.remaining_retries > 0:
            self.remaining_retries -= 1
            log.warning("Write of records failed, remaining retries=%d: %s", self.remaining_retries, msg)
            ctx = getattr(self, "context", None)
            if ctx is not None:
                ctx.timeout(self.cfg.retry_backoff_ms)
            raise RetriableError(msg) from e
        raise ConnectError(f"Write of records failed after {self.cfg.max_retries} retries: {msg}") from e
