"""Confluent Schema Registry API served by the worker, and the client the converters use."""
