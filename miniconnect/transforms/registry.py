"""The transformations and predicates bundled with miniconnect, by Kafka's class names (Python plugins add theirs
through miniconnect.plugins)."""

from __future__ import annotations

from .. import CONNECT_VERSION
from . import cast, fields, headers, predicates, routing, timestamps

TRANSFORMATIONS: list[type] = [
    cast.CastKey,
    cast.CastValue,
    headers.DropHeaders,
    fields.ExtractFieldKey,
    fields.ExtractFieldValue,
    routing.Filter,
    fields.FlattenKey,
    fields.FlattenValue,
    headers.HeaderFromKey,
    headers.HeaderFromValue,
    fields.HoistFieldKey,
    fields.HoistFieldValue,
    fields.InsertFieldKey,
    fields.InsertFieldValue,
    headers.InsertHeader,
    fields.MaskFieldKey,
    fields.MaskFieldValue,
    routing.RegexRouter,
    fields.ReplaceFieldKey,
    fields.ReplaceFieldValue,
    fields.SetSchemaMetadataKey,
    fields.SetSchemaMetadataValue,
    timestamps.TimestampConverterKey,
    timestamps.TimestampConverterValue,
    timestamps.TimestampRouter,
    fields.ValueToKey,
]
PREDICATES: list[type] = [predicates.HasHeaderKey, predicates.RecordIsTombstone, predicates.TopicNameMatches]

for _cls in TRANSFORMATIONS + PREDICATES:
    _cls.version = CONNECT_VERSION  # type: ignore[attr-defined]  # Kafka's own classes report Kafka's version
