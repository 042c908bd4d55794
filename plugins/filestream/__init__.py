"""Kafka's FileStreamSource and FileStreamSink connectors, with Kafka's config keys and offsets."""
