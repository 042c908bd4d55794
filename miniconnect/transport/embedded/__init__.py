"""The embedded log: miniconnect's default record transport, durable topics in a local directory."""

from .log import EmbeddedLog, InvalidTopic
from .partitioner import murmur2, partition_for_key

__all__ = ["EmbeddedLog", "InvalidTopic", "murmur2", "partition_for_key"]
