"""Speed patches of aiokafka's internals (see fetch, reader, wire); each falls back to aiokafka's own code
when aiokafka's internals are not the ones it was written against."""

from __future__ import annotations

from . import fetch as kafka_fetch
from . import reader as kafka_reader
from .wire import install as _install_produce_encoder


def install() -> None:
    _install_produce_encoder()
    kafka_fetch.install()
    kafka_reader.install()
