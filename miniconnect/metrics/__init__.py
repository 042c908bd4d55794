"""Kafka Connect's metric groups, recorded by the runtime and served as Prometheus text on GET /metrics."""
