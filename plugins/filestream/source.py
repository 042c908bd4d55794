"""FileStreamSource: each line of a file (or stdin) becomes a string record; the offset is the byte position."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import orjson

from miniconnect import CONNECT_VERSION
from miniconnect.config.configdef import ConfigDef, ConfigType, Importance, non_empty_string
from miniconnect.connector import SourceConnector, SourceTask
from miniconnect.converters.charsets import java_utf8_decode
from miniconnect.data.records import SourceRecord
from miniconnect.data.schema import STRING_SCHEMA
from miniconnect.errors import ConnectError

log = logging.getLogger(__name__)
_LINE_END = re.compile(rb"\r\n?|\n")  # Kafka's FileStreamSourceTask ends lines at \n, \r\n and a lone \r

FILENAME_FIELD = "filename"
POSITION_FIELD = "position"


class FileStreamSourceTask(SourceTask):
    class_name = "org.apache.kafka.connect.file.FileStreamSourceTask"
    version = CONNECT_VERSION  # a re-implementation of Kafka's own class reports its version, as Kafka does

    async def start(self, props: dict[str, str]) -> None:
        self.filename = props.get("file") or None
        self.topic = props["topic"]
        self.batch_size = max(1, int(props.get("batch.size", "2000")))  # Kafka returns after one record when <= 0
        self.position = 0
        self.buffer = b""
        self.stream: Any = None
        if self.filename:
            offset = await self.context.offset_storage_reader.offset({FILENAME_FIELD: self.filename})
            if offset and isinstance(offset.get(POSITION_FIELD), int):
                self.position = offset[POSITION_FIELD]
                log.debug("Found previous offset %d for %s", self.position, self.filename)

    def _open(self) -> bool:
        if self.stream is not None:
            return True
        if not self.filename:
            self.stream = sys.stdin.buffer
            return True
        try:
            self.stream = open(self.filename, "rb")
        except FileNotFoundError:
            log.warning(
                "Couldn't find file %s for FileStreamSourceTask, sleeping to wait for it to be created", self.filename
            )
            return False
        self.stream.seek(self.position)
        return True

    async def poll(self) -> list[SourceRecord] | None:
        if not self._open():
            await self.context.wait(1.0)
            return None
        chunk = (
            await asyncio.to_thread(self.stream.read, 1 << 20) if self.filename is None else self.stream.read(1 << 20)
        )
        if chunk:
            self.buffer += chunk
        records = self._lines()
        if not records and not chunk:
            await self.context.wait(1.0)  # at EOF: wait for the file to grow, like Kafka's task
        return records

    def _lines(self) -> list[SourceRecord]:
        records: list[SourceRecord] = []
        buf = self.buffer
        start = 0
        partition = {FILENAME_FIELD: self.filename} if self.filename else None
        while len(records) < self.batch_size:
            found = _LINE_END.search(buf, start)
            if found is None or (found.end() == len(buf) and found.group() == b"\r"):
                break  # no line end yet, or a "\r" that a "\n" may still follow: Kafka's task waits too
            line = java_utf8_decode(buf[start : found.start()])
            self.position += found.end() - start
            start = found.end()
            offset = {POSITION_FIELD: self.position} if self.filename else None
            records.append(SourceRecord(partition, offset, self.topic, None, None, None, STRING_SCHEMA, line, None))
        self.buffer = buf[start:]
        return records

    async def stop(self) -> None:
        if self.stream is not None and self.filename:
            self.stream.close()
        self.stream = None


class FileStreamSourceConnector(SourceConnector):
    class_name = "org.apache.kafka.connect.file.FileStreamSourceConnector"
    version = CONNECT_VERSION  # a re-implementation of Kafka's own class reports its version, as Kafka does
    task_class = FileStreamSourceTask
    config_def = (
        ConfigDef()
        .define(
            "file",
            ConfigType.STRING,
            None,
            None,
            Importance.HIGH,
            "Source filename. If not specified, the standard input will be used",
        )
        .define(
            "topic",
            ConfigType.STRING,
            validator=non_empty_string(),
            importance=Importance.HIGH,
            documentation="The topic to publish data to",
        )
        .define(
            "batch.size",
            ConfigType.INT,
            2000,
            None,  # Kafka's FileStreamSourceConnector takes any int here
            Importance.LOW,
            "The maximum number of records the source task can read from the file each time it is polled",
        )
    )

    def exactly_once_support(self, connector_config: Mapping[str, str]) -> str | None:
        """Kafka's: exactly once when reading a file (only appended to), not standard input; a config that does not
        parse raises (the validation names it)."""
        filename = self.config_def.parse(connector_config)["file"]
        return "SUPPORTED" if filename else "UNSUPPORTED"

    async def start(self, props: dict[str, str]) -> None:
        self.config_def.parse(props)  # Kafka 4.1 checks no more than this (a "topic" of "a,b" is taken as it is)
        self.props = dict(props)

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        # Only one input stream makes sense; the task gets the connector's config, as Kafka's does.
        return [dict(self.props)]

    async def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[str, dict[str, Any] | None]
    ) -> bool:
        """Kafka's FileStreamSourceConnector.alterOffsets: only {"filename": ...} -> {"position": n >= 0}."""
        if not connector_config.get("file"):
            raise ConnectError(
                "Offsets cannot be modified if the 'file' configuration is unspecified. This is "
                "because stdin is used for input and offsets are not tracked."
            )
        for key, offset in offsets.items():
            if offset is None:
                continue  # a reset: Kafka's connector checks neither the offset nor the partition
            if POSITION_FIELD not in offset:
                raise ConnectError("Offset objects should either be null or contain the key 'position'")
            position = offset[POSITION_FIELD]
            if not isinstance(position, int) or isinstance(position, bool):
                raise ConnectError("The value for the 'position' key in the offset is expected to be a Long value")
            if position < 0:
                raise ConnectError("The value for the 'position' key in the offset should be a non-negative value")
            if FILENAME_FIELD not in orjson.loads(key):  # keys are the offset store's partition JSON
                raise ConnectError("Partition objects should contain the key 'filename'")
        return True
