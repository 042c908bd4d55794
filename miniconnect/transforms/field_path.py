"""Field paths of KIP-821 (`field.syntax.version` V1: one top-level name; V2: dotted steps with backtick quoting),
as Kafka's SingleFieldPath reads them."""

from __future__ import annotations

from typing import Any

from ..config.configdef import ConfigDef, ConfigType, Importance, one_of
from ..data.schema import Field, Schema, Struct
from ..errors import ConfigError
from .base import field_of, field_value, require_map, require_struct

FIELD_SYNTAX_VERSION_CONFIG = "field.syntax.version"
_DOC = (
    "Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to "
    "access the elements at the root level of the struct or map. If set to `V2`, the syntax will support "
    "accessing nested elements. To access nested elements, dotted notation is used. If dots are already included "
    "in the field name, then backtick pairs can be used to wrap field names containing dots. E.g. to access the "
    'subfield `baz` from a field named "foo.bar" in a struct/map the following format can be used to access '
    'its elements: "`foo.bar`.baz".'
)


def append_syntax_version(d: ConfigDef) -> ConfigDef:
    return d.define(FIELD_SYNTAX_VERSION_CONFIG, ConfigType.STRING, "V1", one_of("V1", "V2"), Importance.HIGH, _DOC)


def _incomplete(path: str, at: int) -> ConfigError:
    return ConfigError(
        message=f"Incomplete backtick pair in path: [{path}], consider adding a backslash before "
        f"backtick at position {at} to escape it"
    )


def _steps_v2(path: str) -> list[str]:
    steps: list[str] = []
    idx = 0
    n = len(path)
    while 0 <= idx < n:
        if path[idx] != "`":
            start = idx
            idx = path.find(".", idx)
            if idx >= 0:
                steps.append(path[start:idx])
                idx += 1
            else:
                steps.append(path[start:])
            continue
        backtick_at = idx
        idx += 1
        field = []
        start = idx
        while True:
            idx = path.find("`", idx)
            if idx == -1:
                raise _incomplete(path, backtick_at)
            escaped = path[idx - 1] == "\\"
            if idx >= n - 1:
                if escaped:
                    raise _incomplete(path, backtick_at)
                field.append(path[start:idx])
                steps.append("".join(field))
                idx += 1
                break
            if path[idx + 1] != ".":
                idx += 1
                continue
            if escaped:
                field.append(path[start : idx - 1] + "`")
                idx += 1
                start = idx
                continue
            field.append(path[start:idx])
            steps.append("".join(field))
            idx += 2
            break
    if path and path[-1] == ".":
        steps.append("")
    return steps


class SingleFieldPath:
    def __init__(self, path: str, version: str):
        self.steps = [path] if version.upper() == "V1" else _steps_v2(path)

    def field_from(self, schema: Schema | None) -> Field | None:
        if schema is None:
            return None
        current = schema
        for step in self.steps[:-1]:
            f = field_of(current, step)
            if f is None:
                return None
            current = f.schema
        return field_of(current, self.steps[-1])

    def value_from_struct(self, struct: Struct | None, with_default: bool = True) -> Any:
        current = struct
        for step in self.steps[:-1]:
            if current is None or current.schema.field(step) is None:
                return None
            sub = current.get(step)
            current = None if sub is None else require_struct(sub, "nested field access")
        if current is None:
            return None
        f = current.schema.field(self.steps[-1])
        return None if f is None else field_value(current, f, with_default)

    def value_from_map(self, value: dict | None) -> Any:
        current = value
        for step in self.steps[:-1]:
            if current is None:
                return None
            sub = current.get(step)
            current = None if sub is None else require_map(sub, "nested field access")
        return None if current is None else current.get(self.steps[-1])
