"""What the Worker, the herders and the REST app need of the worker config and of the plugin registry, as Protocols.

config.worker_config.WorkerConfig (and DistributedConfig) and plugins.Plugins are the implementations; tests and
embedders may pass their own. Typing the seams with these instead of Any lets mypy (strict on these modules, see
pyproject.toml) check every call across them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from ..config.providers import ConfigProvider
from ..connector import Connector
from ..converters.base import Converter


class WorkerSettings(Protocol):
    """The parsed worker config: a read-only mapping of setting name -> parsed value."""

    def __getitem__(self, key: str, /) -> Any: ...

    def __iter__(self) -> Iterator[str]: ...

    def __len__(self) -> int: ...

    def with_prefix(self, prefix: str, strip: bool = True) -> dict[str, Any]:
        """The settings under `prefix` (producer., consumer., ...), the prefix removed when `strip`."""
        ...

    def converter_config(self, kind: str) -> tuple[str, dict[str, Any]]:
        """(class name, options) of the worker's "key", "value" or "header" converter."""
        ...

    def worker_id_host_port(self) -> str: ...


class PluginRegistry(Protocol):
    """Finds plugin classes by the names users write (class name, simple name, alias) and describes them."""

    def resolve_connector(self, name: str) -> type[Connector]: ...

    def resolve_converter(self, name: str) -> type[Converter]: ...

    def resolve_transformation(self, name: str) -> type: ...

    def resolve_predicate(self, name: str) -> type: ...

    def resolve_config_provider(self, name: str) -> type[ConfigProvider]: ...

    def connector_type(self, name: str | None) -> str: ...

    def plugin_infos(self, connectors_only: bool = True) -> list[dict[str, Any]]: ...

    def plugin_config(self, name: str, version: str | None = None) -> list[dict[str, Any]]: ...
