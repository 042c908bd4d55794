"""Kafka's JsonConverter: the converter, its settings, compiled encoders and decoders, the schema <-> JSON mapping."""

from .converter import ENVELOPE_ERROR, JsonConverter
from .encoders import jackson_supplementary_escapes

__all__ = ["ENVELOPE_ERROR", "JsonConverter", "jackson_supplementary_escapes"]
