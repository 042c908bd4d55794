"""Config providers (KIP-297/KIP-421): `${provider:[path:]key}` variables resolved from files, directories or the
environment by the classes named in `config.providers`, as Kafka's ConfigTransformer and its three providers do.

A provider plugin subclasses ConfigProvider (configure, get, close) and is found like any other plugin (entry
point or plugin.path), by full class name or simple name.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

log = logging.getLogger(__name__)

# Kafka's ConfigTransformer.DEFAULT_PATTERN
VARIABLE = re.compile(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}")
CONFIG_PROVIDERS = "config.providers"


@dataclass(slots=True)
class ConfigData:
    data: dict[str, str] = field(default_factory=dict)
    ttl: int | None = None


class ConfigProvider:
    """Kafka's ConfigProvider: `get(path, keys)` returns the values of `keys` (all of them when None) at `path`."""

    class_name = ""

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Receives the `config.providers.<name>.param.*` keys, prefix removed."""

    def get(self, path: str, keys: set[str] | None = None) -> ConfigData:
        raise NotImplementedError

    def close(self) -> None:
        """Releases what configure opened."""


class AllowedPaths:
    """Kafka's AllowedPaths: `allowed.paths` (absolute, existing) bound what a provider may read."""

    def __init__(self, value: str | None):
        self.paths: list[str] | None = None
        if value:
            self.paths = []
            for item in value.split(","):
                path = os.path.normpath(item)
                if not os.path.isabs(path):
                    raise ConfigError(message=f"Path {path} is not absolute")
                if not os.path.exists(path):
                    raise ConfigError(message=f"Path {path} does not exist")
                self.paths.append(path)

    def parse_untrusted(self, path: str) -> str | None:
        """The path to read, or None when it lies outside every allowed path."""
        if self.paths is None:
            return path
        normal = os.path.normpath(path)
        for allowed in self.paths:  # Path.startsWith compares whole components
            if normal == allowed or normal.startswith(allowed.rstrip(os.sep) + os.sep):
                return normal
        return None


class _PathProvider(ConfigProvider):
    def __init__(self) -> None:
        self.allowed: AllowedPaths | None = None

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.allowed = AllowedPaths(configs.get("allowed.paths"))

    def _path(self, path: str) -> str | None:
        if self.allowed is None:
            raise ConfigError(message="The provider has not been configured yet.")
        if not path:
            return None
        checked = self.allowed.parse_untrusted(path)
        if checked is None:
            log.warning("The path %s is not allowed to be accessed", path)
        return checked


class FileConfigProvider(_PathProvider):
    """Values from a java.util.Properties file: `${file:/etc/secrets.properties:db.password}`."""

    class_name = "org.apache.kafka.common.config.provider.FileConfigProvider"

    def get(self, path: str, keys: set[str] | None = None) -> ConfigData:
        from .properties import parse_properties

        checked = self._path(path)
        if checked is None:
            return ConfigData()
        try:
            with open(checked, encoding="utf-8") as f:
                props = parse_properties(f.read())
        except (OSError, ValueError) as e:
            log.error("Could not read properties from file %s: %s", path, e)
            raise ConfigError(message=f"Could not read properties from file {path}") from None
        return ConfigData({k: v for k, v in props.items() if keys is None or k in keys})


class DirectoryConfigProvider(_PathProvider):
    """One value per regular file of a directory (Kubernetes secret volumes): `${directory:/run/secrets:pw}`."""

    class_name = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"

    def get(self, path: str, keys: set[str] | None = None) -> ConfigData:
        checked = self._path(path)
        if checked is None:
            return ConfigData()
        if not os.path.isdir(checked):
            log.warning("The path %s is not a directory", path)
            return ConfigData()
        data: dict[str, str] = {}
        for name in os.listdir(checked):
            file = os.path.join(checked, name)
            if os.path.isfile(file) and (keys is None or name in keys):
                try:
                    with open(file, encoding="utf-8") as f:
                        data[name] = f.read()
                except OSError:
                    raise ConfigError(message=f"Could not read file {file} for property {name}") from None
        return ConfigData(data)


class EnvVarConfigProvider(ConfigProvider):
    """Environment variables matching `allowlist.pattern` (default: all): `${env:DB_PASSWORD}`."""

    class_name = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.allowed: dict[str, str] | None = None

    def configure(self, configs: Mapping[str, Any]) -> None:
        pattern = configs.get("allowlist.pattern")
        if pattern is None:
            log.info("No pattern for environment variables provided. Using default pattern '(.*)'.")
        regex = re.compile(".*" if pattern is None else str(pattern))
        self.allowed = {k: v for k, v in self.environ.items() if regex.fullmatch(k)}

    def get(self, path: str, keys: set[str] | None = None) -> ConfigData:
        if path:
            raise ConfigError(message=f"Path is not supported for EnvVarConfigProvider, invalid value '{path}'")
        if self.allowed is None:
            raise ConfigError(message="The provider has not been configured yet.")
        return ConfigData({k: v for k, v in self.allowed.items() if keys is None or k in keys})


BUILTIN_PROVIDERS: dict[str, type[ConfigProvider]] = {
    cls.class_name: cls for cls in (FileConfigProvider, DirectoryConfigProvider, EnvVarConfigProvider)
}


def has_variables(value: Any) -> bool:
    return isinstance(value, str) and VARIABLE.search(value) is not None


class ConfigTransformer:
    """Replaces `${provider:[path:]key}` in config values; unknown providers and keys are left as written."""

    def __init__(self, providers: Mapping[str, ConfigProvider]):
        self.providers = dict(providers)

    def transform(self, configs: Mapping[str, Any]) -> dict[str, Any]:
        wanted: dict[tuple[str, str], set[str]] = {}
        for value in configs.values():
            if isinstance(value, str):
                for m in VARIABLE.finditer(value):
                    wanted.setdefault((m.group(1), m.group(3) or ""), set()).add(m.group(4))
        if not wanted:
            return dict(configs)
        lookups = {
            (name, path): provider.get(path, keys).data
            for (name, path), keys in wanted.items()
            if (provider := self.providers.get(name)) is not None
        }

        def replace(m: re.Match[str]) -> str:
            found = lookups.get((m.group(1), m.group(3) or ""))
            return m.group(0) if found is None else found.get(m.group(4), m.group(0))

        return {k: VARIABLE.sub(replace, v) if isinstance(v, str) else v for k, v in configs.items()}

    def close(self) -> None:
        for provider in self.providers.values():
            try:
                provider.close()
            except Exception as e:
                log.warning("Failed to close config provider: %s", e)


def reverse_transform(raw: Mapping[str, Any], configs: list[dict[str, str]]) -> list[dict[str, str]]:
    """Kafka's AbstractHerder.reverseTransform: task configs get the connector's placeholders back for every
    key whose raw value has a variable, so that resolved secrets are never stored."""
    keys = [k for k, v in raw.items() if has_variables(v)]
    return [{**c, **{k: raw[k] for k in keys if k in c}} for c in configs]


def load_providers(props: Mapping[str, Any], resolve: Callable[[str], type] | None = None) -> ConfigTransformer:
    """The providers named in `config.providers`, each built from `config.providers.<name>.class` and configured
    with its `config.providers.<name>.param.*` keys; `resolve` finds plugin classes beyond the built-in three."""
    names = props.get(CONFIG_PROVIDERS) or ""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    providers: dict[str, ConfigProvider] = {}
    for name in names:
        class_key = f"{CONFIG_PROVIDERS}.{name}.class"
        class_name = props.get(class_key)
        if not class_name:
            continue  # Kafka skips a listed provider without a class
        class_name = str(class_name).strip()
        try:
            cls = BUILTIN_PROVIDERS.get(class_name) or _builtin_alias(class_name) or (resolve and resolve(class_name))
        except Exception as e:
            log.error("Could not load config provider class %s: %s", class_name, e)
            cls = None
        if cls is None:
            raise ConfigError(class_key, class_name, "Could not load config provider class or one of its dependencies")
        prefix = f"{CONFIG_PROVIDERS}.{name}.param."
        provider = cls()
        provider.configure({k[len(prefix) :]: v for k, v in props.items() if k.startswith(prefix)})
        providers[name] = provider
    return ConfigTransformer(providers)


def _builtin_alias(name: str) -> type[ConfigProvider] | None:
    for cls in BUILTIN_PROVIDERS.values():
        simple = cls.class_name.rsplit(".", 1)[-1]
        if name in (simple, simple[: -len("ConfigProvider")], f"{cls.__module__}.{cls.__qualname__}"):
            return cls
    return None


def resolve_worker_props(props: Mapping[str, Any], resolve: Callable[[str], type] | None = None) -> dict[str, Any]:
    """KIP-421: the worker's own properties may use the providers they declare."""
    if not props.get(CONFIG_PROVIDERS) or not any(has_variables(v) for v in props.values()):
        return dict(props)
    transformer = load_providers(props, resolve)
    try:
        return transformer.transform(props)
    finally:
        transformer.close()
