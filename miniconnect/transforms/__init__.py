"""Single message transforms and predicates (Kafka's org.apache.kafka.connect.transforms), and the chain that
applies a connector's transforms to its records. Plugin authors subclass Transformation or Predicate."""

from .base import KeyOrValue, Predicate, Transformation, variants

__all__ = ["KeyOrValue", "Predicate", "Transformation", "variants"]
