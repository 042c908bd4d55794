"""Admin loggers (KIP-495/KIP-976) over Python's logging: Log4j level names, prefix updates, last_modified."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

ROOT = "root"

# Log4j level names -> Python levels. ALL must stay above NOTSET (0 means "inherit" in Python).
LEVELS: dict[str, int] = {
    "OFF": logging.CRITICAL + 10,
    "FATAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARN": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "TRACE": 5,
    "ALL": 1,
}
_BY_VALUE = sorted(((v, k) for k, v in LEVELS.items()), reverse=True)


def level_name(level: int) -> str:
    """The Log4j name of a Python level (levels between two names take the lower one's name)."""
    for value, name in _BY_VALUE:
        if level >= value:
            return name
    return "ALL"


def parse_level(text: str) -> int | None:
    return LEVELS.get(text.upper())


@dataclass(slots=True)
class LoggerLevel:
    level: str
    last_modified: int | None  # epoch ms of the last change through the API


class Loggers:
    """The worker's view of its loggers; levels set here live in memory only, like Kafka's."""

    def __init__(self) -> None:
        self._last_modified: dict[str, int] = {}

    @staticmethod
    def _current() -> dict[str, logging.Logger]:
        """Existing loggers by name (placeholders created for dotted parents are not loggers)."""
        return {n: lg for n, lg in list(logging.Logger.manager.loggerDict.items()) if isinstance(lg, logging.Logger)}

    def _level(self, name: str, logger: logging.Logger) -> LoggerLevel:
        return LoggerLevel(level_name(logger.level or logger.getEffectiveLevel()), self._last_modified.get(name))

    def all_levels(self) -> dict[str, LoggerLevel]:
        """Loggers whose level was set explicitly, plus root, sorted by name."""
        result = {n: self._level(n, lg) for n, lg in self._current().items() if lg.level != logging.NOTSET}
        result[ROOT] = self._level(ROOT, logging.getLogger())
        return dict(sorted(result.items()))

    def level(self, name: str) -> LoggerLevel | None:
        if name.lower() == ROOT:
            return self._level(ROOT, logging.getLogger())
        logger = self._current().get(name)
        return self._level(name, logger) if logger is not None else None

    def set_level(self, namespace: str, level: str) -> list[str]:
        """Sets `namespace` and every logger whose name starts with it (plain prefix; root: all loggers).
        Returns the affected names, sorted. Creates the logger if it does not exist yet."""
        value = LEVELS[level.upper()]
        current = self._current()
        if namespace.lower() == ROOT:
            targets = [*current.items(), (ROOT, logging.getLogger())]
        else:
            targets = [(n, lg) for n, lg in current.items() if n.startswith(namespace)]
            if namespace not in current:
                targets.append((namespace, logging.getLogger(namespace)))
        now = int(time.time() * 1000)
        for name, logger in targets:
            if (logger.level or logger.getEffectiveLevel()) != value:
                logger.setLevel(value)
                self._last_modified[name] = now
        return sorted(n for n, _ in targets)
