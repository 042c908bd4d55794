"""The Kafka transport: the transport/base.py interface over aiokafka, and speed patches of aiokafka's internals."""

from .transport import KafkaConsumer, KafkaProducer, KafkaTransport, client_kwargs

__all__ = ["KafkaConsumer", "KafkaProducer", "KafkaTransport", "client_kwargs"]
