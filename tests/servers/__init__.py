"""Real servers for the test suite: Apache Kafka (KRaft), PostgreSQL and MariaDB, each started on demand in a
temporary directory on a free loopback port (see tests/conftest.py for the fixtures).

Install what they need with `scripts/test-deps.sh`. Point the suite at servers of your own with
MINICONNECT_TEST_KAFKA=host:port, MINICONNECT_TEST_PG=postgresql://user:pw@host:port/db and
MINICONNECT_TEST_MYSQL=mysql://user:pw@host:port/db.
"""

from .db import DbServer, parse_db_url
from .env import db_server, kafka_server
from .kafka import KafkaServer, delete_topics
from .mariadb import MariaDbServer
from .postgres import PostgresServer
from .proc import run_async

__all__ = [
    "DbServer",
    "KafkaServer",
    "MariaDbServer",
    "PostgresServer",
    "db_server",
    "delete_topics",
    "kafka_server",
    "parse_db_url",
    "run_async",
]
