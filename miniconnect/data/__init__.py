"""Connect's data model."""

from .records import Headers, SinkRecord, SourceRecord
from .schema import *  # noqa: F403
from .schema import DataError, Field, Schema, Struct, Type

__all__ = ["DataError", "Field", "Headers", "Schema", "SinkRecord", "SourceRecord", "Struct", "Type"]
