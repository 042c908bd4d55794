"""CounterSourceConnector: writes the numbers 0, 1, 2, ... to a topic as structs, resuming after its stored offset.

The shape of every source connector: the connector declares its settings and splits the work into task configs;
the task's poll() returns records that carry a source partition and offset, and start() reads the offset stored
for its partition to continue where the last run stopped.
"""

from __future__ import annotations

from typing import Any

from miniconnect.api import (
    INT64_SCHEMA,
    STRING_SCHEMA,
    ConfigDef,
    ConfigType,
    Importance,
    Schema,
    SourceConnector,
    SourceRecord,
    SourceTask,
    Struct,
    at_least,
    non_empty_string,
)

TOPIC_CONFIG = "topic"
BATCH_SIZE_CONFIG = "batch.size"
MAX_COUNT_CONFIG = "max.count"

VALUE_SCHEMA = Schema.struct([("n", INT64_SCHEMA), ("text", STRING_SCHEMA)], name="connector_template.Count")


class CounterSourceTask(SourceTask):
    async def start(self, props: dict[str, str]) -> None:
        self.topic = props[TOPIC_CONFIG]
        self.batch_size = int(props.get(BATCH_SIZE_CONFIG, "100"))
        self.max_count = int(props.get(MAX_COUNT_CONFIG, "-1"))
        self.partition = {"counter": self.topic}
        stored = await self.context.offset_storage_reader.offset(self.partition)
        self.next = int(stored["next"]) if stored else 0

    async def poll(self) -> list[SourceRecord] | None:
        if 0 <= self.max_count <= self.next:
            await self.context.wait(0.1)  # nothing left: wait (returns early when the task is stopped)
            return None
        end = self.next + self.batch_size if self.max_count < 0 else min(self.next + self.batch_size, self.max_count)
        records = [
            SourceRecord(
                self.partition,
                {"next": n + 1},  # the offset to resume from once this record is in the log
                self.topic,
                None,
                STRING_SCHEMA,
                str(n),
                VALUE_SCHEMA,
                Struct(VALUE_SCHEMA, [n, f"record {n}"]),
            )
            for n in range(self.next, end)
        ]
        self.next = end
        return records


class CounterSourceConnector(SourceConnector):
    task_class = CounterSourceTask
    config_def = (
        ConfigDef()
        .define(
            TOPIC_CONFIG,
            ConfigType.STRING,
            validator=non_empty_string(),
            importance=Importance.HIGH,
            documentation="The topic to write the numbers to.",
        )
        .define(
            BATCH_SIZE_CONFIG,
            ConfigType.INT,
            100,
            validator=at_least(1),
            importance=Importance.LOW,
            documentation="Records returned by one poll().",
        )
        .define(
            MAX_COUNT_CONFIG,
            ConfigType.LONG,
            -1,
            importance=Importance.LOW,
            documentation="Stop after this many numbers (-1: never).",
        )
    )

    async def task_configs(self, max_tasks: int) -> list[dict[str, Any]]:
        return [dict(self.props)]  # one counter: a single task whatever tasks.max says
