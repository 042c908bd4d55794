"""FileStreamSink: writes each record's value as a line to a file (or stdout); flush makes it durable."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from typing import Any

from miniconnect import CONNECT_VERSION
from miniconnect.config.configdef import ConfigDef, ConfigType, Importance
from miniconnect.connector import SinkConnector, SinkTask, TopicPartition
from miniconnect.converters.javatext import java_to_string
from miniconnect.data.records import SinkRecord


class FileStreamSinkTask(SinkTask):
    class_name = "org.apache.kafka.connect.file.FileStreamSinkTask"
    version = CONNECT_VERSION  # a re-implementation of Kafka's own class reports its version, as Kafka does

    filename: str | None = None
    stream: Any = None  # stop() after a start() that could not open the file has nothing to close

    async def start(self, props: dict[str, str]) -> None:
        self.filename = props.get("file") or None
        self.stream = (
            await asyncio.to_thread(open, self.filename, "a", encoding="utf-8", errors="replace")
            if self.filename
            else sys.stdout
        )

    async def put(self, records: list[SinkRecord]) -> None:
        # PrintStream.println(value): String.valueOf, so a Struct is Struct{a=1}, a map {k=v}, a Date Java's
        self.stream.write("".join(java_to_string(r.value, r.value_schema) + "\n" for r in records))

    async def flush(self, current_offsets: dict[TopicPartition, int]) -> None:
        self.stream.flush()
        if self.filename:
            os.fsync(self.stream.fileno())

    async def stop(self) -> None:
        if self.filename and self.stream is not None and not self.stream.closed:
            self.stream.close()


class FileStreamSinkConnector(SinkConnector):
    class_name = "org.apache.kafka.connect.file.FileStreamSinkConnector"
    version = CONNECT_VERSION  # a re-implementation of Kafka's own class reports its version, as Kafka does
    task_class = FileStreamSinkTask
    config_def = ConfigDef().define(
        "file",
        ConfigType.STRING,
        None,
        None,
        Importance.HIGH,
        "Destination filename. If not specified, the standard output will be used",
    )

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props) for _ in range(max_tasks)]  # the connector's config, as Kafka's gives

    async def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[TopicPartition, int | None]
    ) -> bool:
        return True  # nothing kept outside Kafka's consumer offsets (Kafka's FileStreamSinkConnector says the same)
