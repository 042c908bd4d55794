"""miniconnect: a light asyncio Kafka Connect worker."""

__version__ = "0.1.0"
# The Apache Kafka Connect release whose REST answers and behaviour this worker follows. GET / reports
# CONNECT_VERSION-miniconnect-__version__: clients that gate features on the Connect version (stop and offsets
# from 3.5, PATCH config from 3.9) parse the major.minor.patch before the suffix, as with Confluent's "-ccs".
CONNECT_VERSION = "4.1.1"
SERVER_VERSION = f"{CONNECT_VERSION}-miniconnect-{__version__}"
