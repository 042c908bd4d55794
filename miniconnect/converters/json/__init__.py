"""Kafka's JsonConverter: the converter (converter), its compiled encoders and decoders, the schema <-> JSON mapping."""

from .converter import (
    CONVERTER_TYPE_CONFIG,
    ENVELOPE_ERROR,
    JsonConverter,
    converter_config_def,
    jackson_supplementary_escapes,
)

__all__ = [
    "CONVERTER_TYPE_CONFIG",
    "ENVELOPE_ERROR",
    "JsonConverter",
    "converter_config_def",
    "jackson_supplementary_escapes",
]
