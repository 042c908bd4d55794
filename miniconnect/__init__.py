"""miniconnect: a light asyncio Kafka Connect worker."""

__version__ = "0.1.0"
