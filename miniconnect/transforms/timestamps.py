"""Time-based transforms, as Kafka's: TimestampConverter (between unix epoch numbers, formatted strings and Connect's
Date/Time/Timestamp) and TimestampRouter (topic named after the record's timestamp)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..config.configdef import NO_DEFAULT, ConfigDef, one_of
from ..config.configdef import ConfigType as T
from ..config.configdef import Importance as I
from ..data.javahash import java_hash_map_copy
from ..data.schema import (
    DATE,
    INT64_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    TIME,
    TIMESTAMP,
    DataError,
    Schema,
    Struct,
    Type,
    date_schema,
    date_to_days,
    days_to_date,
    millis_to_time,
    millis_to_timestamp,
    time_schema,
    time_to_millis,
    timestamp_schema,
    timestamp_to_millis,
)
from ..data.timeformat import SimpleDateFormat
from ..errors import ConfigError, ConnectError
from .base import (
    REPLACE_NULL_WITH_DEFAULT_CONFIG,
    REPLACE_NULL_WITH_DEFAULT_DOC,
    KeyOrValue,
    SchemaCache,
    Transformation,
    field_value,
    fields_of,
    java_class_name,
    require_map,
    require_struct_or_null,
    struct_schema,
    variants,
    with_fields,
)

STRING, UNIX, DATE_T, TIME_T, TIMESTAMP_T = "string", "unix", "Date", "Time", "Timestamp"
_MS_PER_DAY = 86_400_000
_PRECISION = {"seconds": 1000, "milliseconds": 1, "microseconds": -1000, "nanoseconds": -1_000_000}


_TARGET_TYPES = one_of(STRING, UNIX, DATE_T, TIME_T, TIMESTAMP_T, case_sensitive=True)
_TARGET_TYPES.null_reason = "String must be one of: string, unix, Date, Time, Timestamp"  # type: ignore[attr-defined]


def _schema_for(target: str, optional: bool) -> Schema:
    if target == STRING:
        return OPTIONAL_STRING_SCHEMA if optional else STRING_SCHEMA
    if target == UNIX:
        return OPTIONAL_INT64_SCHEMA if optional else INT64_SCHEMA
    if target == DATE_T:
        return date_schema(optional)
    if target == TIME_T:
        return time_schema(optional)
    return timestamp_schema(optional)


def _java_class(v: Any) -> str:
    return "class " + java_class_name(v)


class TimestampConverter(KeyOrValue, Transformation):
    """Convert timestamps between different formats such as Unix epoch, strings, and Connect Date/Timestamp types."""

    config_def = (
        ConfigDef()
        .define(
            "field",
            T.STRING,
            "",
            None,
            I.HIGH,
            "The field containing the timestamp, or empty if the entire value is a timestamp",
        )
        .define(
            "target.type",
            T.STRING,
            NO_DEFAULT,
            _TARGET_TYPES,
            I.HIGH,
            "The desired timestamp representation: string, unix, Date, Time, or Timestamp",
        )
        .define(
            "format",
            T.STRING,
            "",
            None,
            I.MEDIUM,
            "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string "
            "or used to parse the input if the input is a string.",
        )
        .define(
            "unix.precision",
            T.STRING,
            "milliseconds",
            one_of("nanoseconds", "microseconds", "milliseconds", "seconds", case_sensitive=True),
            I.LOW,
            "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. "
            "Used to generate the output when type=unix or used to parse the input if the input is a Long.Note: "
            "This SMT will cause precision loss during conversions from, and to, values with sub-millisecond "
            "components.",
        )
        .define(REPLACE_NULL_WITH_DEFAULT_CONFIG, T.BOOLEAN, True, None, I.MEDIUM, REPLACE_NULL_WITH_DEFAULT_DOC)
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        self.field: str = c["field"]
        self.target: str = c["target.type"]
        pattern: str = c["format"]
        self.precision = _PRECISION[c["unix.precision"]]
        self.with_default = c[REPLACE_NULL_WITH_DEFAULT_CONFIG]
        if self.target == STRING and not pattern.strip():
            raise ConfigError(
                message="TimestampConverter requires format option to be specified when using string timestamps"
            )
        try:
            self.format = SimpleDateFormat(pattern) if pattern.strip() else None
        except ValueError as e:  # Kafka's ConfigException(name, value): the message stands where the key's name goes
            raise ConfigError(
                message=f"Invalid value java.lang.IllegalArgumentException: {e} for configuration TimestampConverter "
                f"requires a SimpleDateFormat-compatible pattern for string timestamps: {pattern}"
            ) from None
        self.cache = SchemaCache()

    # -- the translators: to epoch millis and back ---------------------------------------------------------------
    def _to_raw(self, kind: str, v: Any) -> int:
        if kind == STRING:
            if not isinstance(v, str):
                raise DataError(f"Expected string timestamp to be a String, but found {_java_class(v)}")
            if self.format is None:  # Kafka fails the same way (a NullPointerException) without a format
                raise DataError(
                    'Cannot invoke "java.text.SimpleDateFormat.parse(String)" because "config.format" is null'
                )
            try:
                return self.format.parse(v)
            except ValueError:
                raise DataError(
                    f"Could not parse timestamp: value ({v}) does not match pattern ({self.format.pattern})"
                ) from None
        if kind == UNIX:
            if not isinstance(v, int) or isinstance(v, bool):
                raise DataError(f"Expected Unix timestamp to be a Long, but found {_java_class(v)}")
            p = self.precision
            return v * p if p > 0 else _java_div(v, -p)
        name = {DATE_T: "Date", TIME_T: "Time", TIMESTAMP_T: "Timestamp"}[kind]
        if isinstance(v, dt.datetime):
            return timestamp_to_millis(v)
        if isinstance(v, dt.date):
            return date_to_days(v) * _MS_PER_DAY
        if isinstance(v, dt.time):
            return time_to_millis(v)
        raise DataError(f"Expected {name} to be a java.util.Date, but found {_java_class(v)}")

    def _to_type(self, millis: int) -> Any:
        t = self.target
        if t == STRING:
            assert self.format is not None
            return self.format.format(millis)
        if t == UNIX:
            p = self.precision
            return _java_div(millis, p) if p > 0 else millis * -p
        if t == DATE_T:
            return days_to_date(millis // _MS_PER_DAY)
        if t == TIME_T:
            return millis_to_time(millis % _MS_PER_DAY)
        return millis_to_timestamp(millis)

    def _convert(self, v: Any, kind: str | None) -> Any:
        if v is None:
            return None
        if kind is None:
            if isinstance(v, (dt.date, dt.time)):
                kind = TIMESTAMP_T
            elif isinstance(v, int) and not isinstance(v, bool):
                kind = UNIX
            elif isinstance(v, str):
                kind = STRING
            else:
                raise DataError(f"TimestampConverter does not support {_java_class(v)} objects as timestamps")
        millis = self._to_raw(kind, v)
        try:
            return self._to_type(millis)
        except (OverflowError, ValueError):  # Java's Date goes on past the years 1 to 9999 that datetime holds
            raise DataError(
                f"Timestamp of {millis} ms since the epoch is outside the years 1 to 9999 that miniconnect's dates "
                "and times hold"
            ) from None

    @staticmethod
    def _kind_of(schema: Schema) -> str:
        if schema.name == TIMESTAMP:
            return TIMESTAMP_T
        if schema.name == DATE:
            return DATE_T
        if schema.name == TIME:
            return TIME_T
        if schema.type == Type.STRING:
            return STRING
        if schema.type == Type.INT64:
            return UNIX
        text = f"Schema{{{schema.name}:{schema.type.name}}}" if schema.name else f"Schema{{{schema.type.name}}}"
        raise ConnectError(f"Schema {text} does not correspond to a known timestamp type format")

    def apply(self, record: Any) -> Any:
        schema = self.operating_schema(record)
        value = self.operating_value(record)
        if schema is None:
            if value is None or not self.field:
                return self.new_record(record, None, self._convert(value, None))
            value = require_map(value, "converting timestamp formats")
            converted = self._convert(value.get(self.field), None)
            return self.new_record(record, None, java_hash_map_copy(value, {self.field: converted}))
        if not self.field:
            return self.new_record(
                record, _schema_for(self.target, schema.optional), self._convert(value, self._kind_of(schema))
            )
        struct = require_struct_or_null(value, "converting timestamp formats", schema)
        updated_schema = self.cache.get(schema)
        if updated_schema is None:
            fields = [
                (f.name, _schema_for(self.target, f.schema.optional) if f.name == self.field else f.schema)
                for f in fields_of(schema)
            ]
            base = struct_schema(fields, schema)
            default = self._apply_struct(schema.default, base) if isinstance(schema.default, Struct) else None
            updated_schema = self.cache.put(schema, base.with_(optional=schema.optional, default=default))
        return self.new_record(record, updated_schema, self._apply_struct(struct, updated_schema))

    def _apply_struct(self, struct: Struct | None, updated: Schema) -> Struct | None:
        if struct is None:
            return None
        values = []
        for f in struct.schema.fields:
            v = field_value(struct, f, self.with_default)
            values.append(self._convert(v, self._kind_of(f.schema)) if f.name == self.field else v)
        return Struct(updated, values)


def _java_div(a: int, b: int) -> int:
    """Java's long division (towards zero), as TimeUnit conversions do."""
    q = abs(a) // b
    return q if a >= 0 else -q


class TimestampRouter(Transformation):
    """Update the record's topic field as a function of the original topic value and the record timestamp."""

    class_name = "org.apache.kafka.connect.transforms.TimestampRouter"
    config_def = (
        ConfigDef()
        .define(
            "topic.format",
            T.STRING,
            "${topic}-${timestamp}",
            None,
            I.HIGH,
            "Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as placeholders "
            "for the topic and timestamp, respectively.",
        )
        .define(
            "timestamp.format",
            T.STRING,
            "yyyyMMdd",
            None,
            I.HIGH,
            "Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>.",
        )
    )

    def configure(self, props: Mapping[str, Any]) -> None:
        c = self.config_def.parse(props)
        self.topic_format: str = c["topic.format"]
        self.format = SimpleDateFormat(c["timestamp.format"])

    def apply(self, record: Any) -> Any:
        if record.timestamp is None:
            raise DataError(f"Timestamp missing on record: {record!r}")
        stamp = self.format.format(record.timestamp)
        topic = self.topic_format.replace("${topic}", record.topic).replace("${timestamp}", stamp)
        return with_fields(record, topic=topic)


TimestampConverterKey, TimestampConverterValue = variants(TimestampConverter)
