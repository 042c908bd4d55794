"""Plugin discovery: connectors and converters from the `miniconnect.plugins` entry points and `plugin.path`,
resolved by full class name, simple name or simple name without its type suffix, as Kafka's Plugins does.

Startup cost: discovery only reads entry-point metadata; no plugin module is imported until a name has to be
resolved (then only the entry points whose name matches that simple name are loaded first) or the full list is
needed (`/connector-plugins`, plugin.path scanning, an unknown name). Heavy drivers (sqlalchemy, asyncpg, ...)
therefore load when the first JDBC connector is created, not when the worker starts.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import os
import pkgutil
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from . import __version__
from .config.providers import ConfigProvider
from .connector import Connector
from .converters.base import Converter
from .errors import BadRequest, ConnectError, NotFound
from .plugin_versions import check_plugin_version

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "miniconnect.plugins"
# Bundled plugins are always there, even when the installed entry-point metadata is stale or missing
# (a source checkout on sys.path, an old editable install).
BUILTIN_PLUGINS = {
    "FileStreamSourceConnector": "miniconnect_plugins.filestream.source:FileStreamSourceConnector",
    "FileStreamSinkConnector": "miniconnect_plugins.filestream.sink:FileStreamSinkConnector",
    "JdbcSourceConnector": "miniconnect_plugins.jdbc.source:JdbcSourceConnector",
    "JdbcSinkConnector": "miniconnect_plugins.jdbc.sink:JdbcSinkConnector",
    "JsonConverter": "miniconnect.converters.json:JsonConverter",
    "StringConverter": "miniconnect.converters.string:StringConverter",
    "ByteArrayConverter": "miniconnect.converters.bytearray:ByteArrayConverter",
    "AvroConverter": "miniconnect.converters.avro:AvroConverter",
    "JsonSchemaConverter": "miniconnect.converters.json_schema:JsonSchemaConverter",
    "ProtobufConverter": "miniconnect.converters.protobuf:ProtobufConverter",
    "BooleanConverter": "miniconnect.converters.number:BooleanConverter",
    "ShortConverter": "miniconnect.converters.number:ShortConverter",
    "IntegerConverter": "miniconnect.converters.number:IntegerConverter",
    "LongConverter": "miniconnect.converters.number:LongConverter",
    "FloatConverter": "miniconnect.converters.number:FloatConverter",
    "DoubleConverter": "miniconnect.converters.number:DoubleConverter",
    "SimpleHeaderConverter": "miniconnect.converters.simple_header:SimpleHeaderConverter",
    "FileConfigProvider": "miniconnect.config.providers:FileConfigProvider",
    "DirectoryConfigProvider": "miniconnect.config.providers:DirectoryConfigProvider",
    "EnvVarConfigProvider": "miniconnect.config.providers:EnvVarConfigProvider",
}
PLUGIN_TYPES = "sink, source, converter, header_converter, transformation, predicate"
_SUFFIXES = {
    "connector": "Connector",
    "converter": "Converter",
    "transformation": "Transformation",
    "predicate": "Predicate",
    "config_provider": "ConfigProvider",
}
_KINDS = tuple(_SUFFIXES)


class PluginNotFound(ConnectError):
    """No plugin class matches the name (REST turns it into 400 on create/update, 500 on validate)."""


def class_name_of(cls: type) -> str:
    """The name users write: the plugin's declared Java-style `class_name`, else its Python path."""
    return cls.__dict__.get("class_name") or getattr(cls, "class_name", "") or f"{cls.__module__}.{cls.__qualname__}"


def _kind(cls: Any) -> str | None:
    if not inspect.isclass(cls) or inspect.isabstract(cls):
        return None
    if issubclass(cls, Connector) and getattr(cls, "type", None) in ("source", "sink"):
        return "connector"
    if issubclass(cls, Converter):
        return "converter"
    if issubclass(cls, ConfigProvider) and cls is not ConfigProvider:
        return "config_provider"
    from .transforms.base import Predicate, Transformation

    if issubclass(cls, Transformation) and cls is not Transformation and getattr(cls, "class_name", ""):
        return "transformation"
    if issubclass(cls, Predicate) and cls is not Predicate and getattr(cls, "class_name", ""):
        return "predicate"
    return None


def _simple_name(class_name: str) -> str:
    return class_name.rsplit(".", 1)[-1].rsplit("$", 1)[-1]


def _aliases(class_name: str, kind: str) -> list[str]:
    simple = _simple_name(class_name)
    out = [simple]
    suffix = _SUFFIXES[kind]
    if simple.endswith(suffix) and len(simple) > len(suffix):
        out.append(simple[: -len(suffix)])
    return out


def plugin_version(cls: type) -> str | None:
    return getattr(cls, "version", __version__)


class Plugins:
    """The plugins this worker can run. Thread-safe; loading happens at most once per entry point/module."""

    def __init__(
        self,
        worker_config: Mapping[str, Any] | None = None,
        plugin_path: Iterable[str] | None = None,
        entry_points: Iterable[Any] | None = None,
    ):
        if plugin_path is None and worker_config is not None:
            plugin_path = worker_config.get("plugin.path") or []
            if isinstance(plugin_path, str):
                plugin_path = [p.strip() for p in plugin_path.split(",") if p.strip()]
        self._plugin_path = [str(p) for p in (plugin_path or [])]
        # Unloaded entry points, read on first use (reading every distribution's metadata costs tens of ms);
        # a plugin that fails to load is logged once and forgotten.
        self._entry_points = entry_points
        self._pending_eps: dict[str, Any] | None = None
        self._path_scanned = not self._plugin_path
        self._lock = threading.RLock()
        self._classes: dict[str, dict[str, type]] = {k: {} for k in _KINDS}  # class_name -> class
        self._by_name: dict[str, dict[str, type]] = {k: {} for k in _KINDS}  # full names and aliases
        self._ambiguous: dict[str, dict[str, list[str]]] = {k: {} for k in _KINDS}
        self._transforms_loaded = False

    @property
    def _pending(self) -> dict[str, Any]:
        with self._lock:
            if self._pending_eps is None:
                eps = self._entry_points
                if eps is None:
                    from importlib.metadata import entry_points as _eps

                    eps = _eps(group=ENTRY_POINT_GROUP)
                pending: dict[str, Any] = {}
                for ep in eps:
                    pending.setdefault(f"{ep.name}={ep.value}", ep)
                if self._entry_points is None:
                    from importlib.metadata import EntryPoint

                    for name, value in BUILTIN_PLUGINS.items():
                        pending.setdefault(f"{name}={value}", EntryPoint(name, value, ENTRY_POINT_GROUP))
                self._pending_eps = pending
            return self._pending_eps

    # -- registration ---------------------------------------------------------------------------------------
    def register(self, cls: type) -> bool:
        """Adds a Connector, Converter, Transformation, Predicate or ConfigProvider class (also for tests and
        embedding); False if it is none of them."""
        kind = _kind(cls)
        if kind is None:
            return False
        with self._lock:
            name = class_name_of(cls)
            known = self._classes[kind].get(name)
            if known is not None and known is not cls:
                log.warning(
                    "Plugin %s is provided twice (%s.%s and %s.%s); keeping the first",
                    name,
                    known.__module__,
                    known.__qualname__,
                    cls.__module__,
                    cls.__qualname__,
                )
                return True
            self._classes[kind][name] = cls
            self._reindex(kind)
        return True

    def _reindex(self, kind: str) -> None:
        classes = self._classes[kind]
        by_name: dict[str, type] = {}
        candidates: dict[str, set[str]] = {}
        for name, cls in classes.items():
            by_name[name] = cls
            python_path = f"{cls.__module__}.{cls.__qualname__}"
            by_name.setdefault(python_path, cls)
            for alias in _aliases(name, kind):
                candidates.setdefault(alias, set()).add(name)
        ambiguous: dict[str, list[str]] = {}
        for alias, names in candidates.items():
            if alias in classes:  # a full name always wins over an alias
                continue
            if len(names) == 1:
                by_name.setdefault(alias, classes[next(iter(names))])
            else:
                ambiguous[alias] = sorted(names)
        self._by_name[kind], self._ambiguous[kind] = by_name, ambiguous

    def _load_entry_point(self, key: str) -> None:
        ep = self._pending.pop(key, None)
        if ep is None:
            return
        try:
            cls = ep.load()
        except Exception as e:
            log.error("Failed to load plugin %s (%s): %s: %s", ep.name, ep.value, type(e).__name__, e)
            return
        if not self.register(cls):
            log.warning(
                "Entry point %s (%s) is not a Connector, Converter, Transformation, Predicate or "
                "ConfigProvider class; skipped",
                ep.name,
                ep.value,
            )

    def _load_matching(self, name: str) -> None:
        """Loads the entry points that could be `name`. Convention: an entry point is named after the simple
        class name of its plugin, so every candidate for an alias is found without importing the others.
        plugin.path is scanned first: its class names are unknown until imported."""
        simple = _simple_name(name)
        wanted = {simple, simple + "Connector", simple + "Converter", simple + "ConfigProvider"}
        with self._lock:
            self._scan_plugin_path()
            for key in [k for k, ep in self._pending.items() if ep.name in wanted or ep.value.endswith(":" + simple)]:
                self._load_entry_point(key)

    def load_all(self) -> None:
        """Imports every entry point and scans plugin.path (idempotent). Cheap to call again."""
        with self._lock:
            self._load_bundled_transforms()
            for key in list(self._pending):
                self._load_entry_point(key)
            self._scan_plugin_path()

    def _load_bundled_transforms(self) -> None:
        """Kafka's transformations and predicates, registered the first time one is looked up or listed."""
        if not self._transforms_loaded:
            self._transforms_loaded = True
            from .transforms.registry import PREDICATES, TRANSFORMATIONS

            for cls in TRANSFORMATIONS + PREDICATES:
                self.register(cls)

    def _scan_plugin_path(self) -> None:
        if not self._path_scanned:
            self._path_scanned = True
            for directory in self._plugin_path:
                self._scan_directory(directory)

    def _scan_directory(self, directory: str) -> None:
        if not os.path.isdir(directory):
            log.warning("plugin.path entry %s is not a directory; skipped", directory)
            return
        # Plugin modules may import their own sibling modules by absolute name.
        if directory not in sys.path:
            sys.path.append(directory)
        for entry in sorted(os.listdir(directory)):
            path = os.path.join(directory, entry)
            if entry.startswith((".", "_")):
                continue
            if entry.endswith(".py") and os.path.isfile(path):
                module = self._import_file(entry[:-3], path)
                if module is not None:
                    self._register_module(module)
            elif os.path.isfile(os.path.join(path, "__init__.py")) and entry.isidentifier():
                package = self._import_file(entry, os.path.join(path, "__init__.py"), package_dir=path)
                if package is None:
                    continue
                self._register_module(package)
                for info in pkgutil.walk_packages(
                    [path], prefix=entry + ".", onerror=lambda n: log.error("Failed to import plugin package %s", n)
                ):
                    try:
                        self._register_module(importlib.import_module(info.name))
                    except Exception as e:
                        log.error(
                            "Failed to import plugin module %s from %s: %s: %s",
                            info.name,
                            directory,
                            type(e).__name__,
                            e,
                        )

    @staticmethod
    def _import_file(name: str, path: str, package_dir: str | None = None) -> Any:
        if name in sys.modules:
            existing = sys.modules[name]
            if os.path.abspath(getattr(existing, "__file__", "") or "") == os.path.abspath(path):
                return existing
            log.warning("Plugin module %s at %s has the name of an already loaded module; skipped", name, path)
            return None
        spec = importlib.util.spec_from_file_location(
            name, path, submodule_search_locations=[package_dir] if package_dir else None
        )
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            sys.modules.pop(name, None)
            log.error("Failed to import plugin module %s: %s: %s", path, type(e).__name__, e)
            return None
        return module

    def _register_module(self, module: Any) -> None:
        for obj in list(vars(module).values()):
            if inspect.isclass(obj) and obj.__module__ == module.__name__:
                self.register(obj)

    # -- resolution -----------------------------------------------------------------------------------------
    def _find(self, kind: str, name: str) -> type | None:
        if kind in ("transformation", "predicate"):
            self._load_bundled_transforms()
        cls = self._by_name[kind].get(name)
        if cls is None and name not in self._ambiguous[kind]:
            self._load_matching(name)
            cls = self._by_name[kind].get(name)
            if cls is None and (self._pending or not self._path_scanned):
                self.load_all()
                cls = self._by_name[kind].get(name)
        return cls

    def _resolve(self, kind: str, name: str) -> type:
        name = (name or "").strip()
        cls = self._find(kind, name)
        if cls is not None:
            return cls
        if name in self._ambiguous[kind]:
            raise ConnectError(
                f"More than one {kind} matches alias {name}. Please use full package and class "
                f"name instead. Classes found: {', '.join(self._ambiguous[kind][name])}"
            )
        label = _SUFFIXES[kind]
        available = sorted(self._classes[kind].items())
        listed = ", ".join(_plugin_desc(n, c) if kind == "connector" else n for n, c in available)
        raise PluginNotFound(
            f"Failed to find any class that implements {label} and which name matches "
            f"{name}, available {label.lower()}s are: {listed}"
        )

    def resolve_connector(self, name: str) -> type[Connector]:
        return self._resolve("connector", name)

    def resolve_converter(self, name: str) -> type[Converter]:
        return self._resolve("converter", name)

    def resolve_transformation(self, name: str) -> type:
        return self._resolve("transformation", name)

    def resolve_predicate(self, name: str) -> type:
        return self._resolve("predicate", name)

    def resolve_config_provider(self, name: str) -> type[ConfigProvider]:
        return self._resolve("config_provider", name)

    def connector_type(self, name: str | None) -> str:
        """ "source", "sink", or "unknown" when the class cannot be resolved."""
        if not name:
            return "unknown"
        try:
            return self.resolve_connector(name).type
        except ConnectError:
            return "unknown"

    # -- REST views -----------------------------------------------------------------------------------------
    def connector_classes(self) -> list[type[Connector]]:
        self.load_all()
        return list(self._classes["connector"].values())

    def converter_classes(self) -> list[type[Converter]]:
        self.load_all()
        return list(self._classes["converter"].values())

    def plugin_infos(self, connectors_only: bool = True) -> list[dict[str, Any]]:
        """GET /connector-plugins: sinks then sources (each by class name), then the other plugins if asked."""
        self.load_all()
        out: list[dict[str, Any]] = []
        connectors = self._classes["connector"]
        for ptype in ("sink", "source"):
            for name in sorted(n for n, c in connectors.items() if c.type == ptype):
                out.append(_info(name, ptype, connectors[name]))
        if not connectors_only:  # in the order of Kafka's ConnectorPluginsResource
            for kind in ("transformation", "predicate"):
                classes = self._classes[kind]
                for name in sorted(classes):
                    out.append(_info(name, kind, classes[name]))
            converters = self._classes["converter"]
            for ptype, flag in (("converter", "converter"), ("header_converter", "header_converter")):
                for name in sorted(n for n, c in converters.items() if getattr(c, flag, ptype == "converter")):
                    out.append(_info(name, ptype, converters[name]))
        return out

    def plugin_config(self, name: str, version: str | None = None) -> list[dict[str, Any]]:
        """GET /connector-plugins/{name}/config[?version=]: ConfigKeyInfo list."""
        from .config.connector_config import plugin_config_keys

        name = (name or "").strip()
        cls = self._find("connector", name)
        if cls is not None:
            check_plugin_version(cls.class_name, plugin_version(cls), version)
            return plugin_config_keys(cls)
        for kind in ("converter", "transformation", "predicate"):
            found = self._find(kind, name)
            if found is not None:
                listed = kind == "converter" and getattr(found, "converter", True) and found.header_converter
                check_plugin_version(found.class_name, plugin_version(found), version, 2 if listed else 1)
                return [k.info() for k in found.config_def.keys.values()]
        if self._loaded_non_plugin_class(name):
            raise BadRequest(f"Invalid plugin class {name}. Valid types are {PLUGIN_TYPES}.")
        raise NotFound(f"Unknown plugin {name}.")

    @staticmethod
    def _loaded_non_plugin_class(name: str) -> bool:
        # Only already-imported modules are looked at: a REST request must never import code.
        module, _, attr = name.rpartition(".")
        obj = getattr(sys.modules.get(module), attr, None) if module else None
        return inspect.isclass(obj)


def _plugin_desc(class_name: str, cls: type) -> str:
    """Kafka's PluginDesc.toString(), as its "no such connector" message lists the connectors it has."""
    version = plugin_version(cls)
    return (
        f"PluginDesc{{klass=class {class_name}, name='{class_name}', version='{version}', "
        f"encodedVersion={version}, type={cls.type}, typeName='{cls.type}', location='classpath'}}"
    )


def _info(class_name: str, ptype: str, cls: type) -> dict[str, Any]:
    info: dict[str, Any] = {"class": class_name, "type": ptype}
    version = plugin_version(cls)
    if version != "undefined":
        info["version"] = "null" if version is None else str(version)
    return info
