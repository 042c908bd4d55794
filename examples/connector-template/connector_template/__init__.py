"""A template miniconnect plugin: a counting source and a JSON-lines file sink, written against miniconnect.api only."""

from .sink import JsonLinesSinkConnector, JsonLinesSinkTask
from .source import CounterSourceConnector, CounterSourceTask

__all__ = ["CounterSourceConnector", "CounterSourceTask", "JsonLinesSinkConnector", "JsonLinesSinkTask"]
