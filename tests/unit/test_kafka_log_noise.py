"""aiokafka's log lines as miniconnect lets them through (transport/kafka/outage.py RepeatFilter)."""

import logging

from miniconnect.transport.kafka.outage import RepeatFilter


def _record(level: int, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("aiokafka.cluster", level, __file__, 1, msg, args, None)


def test_a_topic_missing_from_metadata_is_a_warning_and_repeats_are_counted():
    f = RepeatFilter(window_s=60)
    first = _record(logging.ERROR, "Topic %s not found in cluster metadata", "orders")
    assert f.filter(first) and (first.levelno, first.levelname) == (logging.WARNING, "WARNING")
    assert not f.filter(_record(logging.ERROR, "Topic %s not found in cluster metadata", "orders"))
    assert f.filter(_record(logging.ERROR, "Topic %s not found in cluster metadata", "other"))
    other = _record(logging.ERROR, "Topic %s is not authorized for this client", "orders")
    assert f.filter(other) and other.levelno == logging.ERROR
    f._seen[("aiokafka.cluster", "Topic %s not found in cluster metadata", "('orders',)")][0] -= 61
    again = _record(logging.ERROR, "Topic %s not found in cluster metadata", "orders")
    assert f.filter(again) and "(repeated 1 times in the last" in again.getMessage()
    assert f.filter(_record(logging.INFO, "anything")) and f.filter(_record(logging.INFO, "anything"))
