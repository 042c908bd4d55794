"""Builds the key/value/header converters of a connector: its own `key.converter`/`value.converter`/
`header.converter`, else the worker's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..converters.base import Converter


def converter_for(plugins: Any, worker_config: Any, connector_config: Mapping[str, str], kind: str) -> Converter:
    """kind is "key", "value" or "header". Options come from `<kind>.converter.*` of whichever config names the class."""
    prefix = f"{kind}.converter"
    if connector_config.get(prefix):
        class_name = connector_config[prefix]
        options = {k[len(prefix) + 1 :]: v for k, v in connector_config.items() if k.startswith(prefix + ".")}
    else:
        class_name, options = worker_config.converter_config(kind)
    converter = plugins.resolve_converter(class_name)()
    if kind == "header":  # Plugins.newHeaderConverter: the converter learns its role from converter.type
        options = {**options, "converter.type": "header"}
    converter.configure(options, kind == "key")
    return converter
