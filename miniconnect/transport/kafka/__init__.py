"""The Kafka transport: the transport/base.py interface over aiokafka, and speed patches of aiokafka's internals.

config maps Java client settings to aiokafka's; producer, consumer and transport (admin) are the three clients;
outage is what happens while the cluster cannot be reached; protocol holds the requests aiokafka lacks; fetch,
reader and wire are the speed patches, installed by patches.
"""

from . import patches
from .config import client_kwargs
from .consumer import KafkaConsumer
from .producer import KafkaProducer
from .transport import KafkaTransport

patches.install()

__all__ = ["KafkaConsumer", "KafkaProducer", "KafkaTransport", "client_kwargs"]
