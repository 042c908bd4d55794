"""Reads worker and connector files: java.util.Properties syntax, and the JSON shapes Connect accepts."""

from __future__ import annotations

import json
import os
import re
from typing import Any

from ..errors import ConfigError

_NEWLINE = re.compile(r"\r\n|\r|\n")
_WS = " \t\f"  # the whitespace Properties.load skips (not \v, not unicode spaces)
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _logical_lines(text: str):
    """Natural lines joined across backslash continuations, comments and blank lines dropped."""
    lines = _NEWLINE.split(text)
    i, n = 0, len(lines)
    while i < n:
        line = lines[i].lstrip(_WS)
        i += 1
        # Only the first natural line of a logical line can be a comment; a comment never continues.
        if not line or line[0] in "#!":
            continue
        parts = []
        while True:
            trailing = len(line) - len(line.rstrip("\\"))
            if trailing % 2 == 0:
                parts.append(line)
                break
            parts.append(line[:-1])  # odd backslash count: the last one joins the next line
            if i >= n:  # a continuation at end of input is simply dropped, like Java's LineReader
                break
            line = lines[i].lstrip(_WS)
            i += 1
        yield "".join(parts)


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        i += 1
        if c != "\\" or i >= n:
            out.append(c)
            continue
        c = s[i]
        i += 1
        if c == "u":
            hexits = s[i : i + 4]
            if len(hexits) < 4 or any(h not in "0123456789abcdefABCDEF" for h in hexits):
                raise ValueError("Malformed \\uxxxx encoding.")
            out.append(chr(int(hexits, 16)))
            i += 4
        else:
            out.append(_ESCAPES.get(c, c))
    return "".join(out)


def _split_key_value(line: str) -> tuple[str, str]:
    n = len(line)
    key_len, value_start, has_sep, backslash = 0, n, False, False
    while key_len < n:
        c = line[key_len]
        if c in "=:" and not backslash:
            value_start, has_sep = key_len + 1, True
            break
        if c in _WS and not backslash:
            value_start = key_len + 1
            break
        backslash = (not backslash) if c == "\\" else False
        key_len += 1
    # Skip whitespace, then at most one '=' or ':' (if the key ended on whitespace), then whitespace.
    while value_start < n:
        c = line[value_start]
        if c not in _WS:
            if not has_sep and c in "=:":
                has_sep = True
            else:
                break
        value_start += 1
    return _unescape(line[:key_len]), _unescape(line[value_start:])


def parse_properties(text: str) -> dict[str, str]:
    """Parses text exactly as java.util.Properties.load does; later duplicates win."""
    props: dict[str, str] = {}
    for line in _logical_lines(text):
        key, value = _split_key_value(line)
        props[key] = value
    return props


def _read_text(path: str | os.PathLike) -> str:
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # Java reads properties as ISO-8859-1; accept such files too
        return data.decode("latin-1")


def load_properties(path: str | os.PathLike) -> dict[str, str]:
    try:
        text = _read_text(path)
    except OSError as e:
        raise ConfigError(message=f"Could not read properties file {path}: {e.strerror or e}") from None
    try:
        return parse_properties(text)
    except ValueError as e:
        raise ConfigError(message=f"Could not parse properties file {path}: {e}") from None


def _json_scalar(path: Any, key: str, value: Any) -> str | None:
    """A JSON config value as Connect stores it in Map<String, String>."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise ConfigError(
        message=f"Connector config file {path}: the value of '{key}' must be a string, number or "
        f"boolean, not a JSON {'object' if isinstance(value, dict) else 'array'}"
    )


def load_connector_file(path: str | os.PathLike) -> tuple[str, dict[str, str]]:
    """A connector given on the command line: `.json` in the POST shape ({"name", "config"}) or the PUT shape
    (a flat map with `name`), anything else as a properties file. Returns (name, config with `name` in it)."""
    if str(path).lower().endswith(".json"):
        try:
            data = json.loads(_read_text(path))
        except OSError as e:
            raise ConfigError(message=f"Could not read connector config file {path}: {e.strerror or e}") from None
        except ValueError as e:
            raise ConfigError(message=f"Connector config file {path} is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError(
                message=f"Connector config file {path} must hold a JSON object, either "
                '{"name": ..., "config": {...}} or a flat map of configs with "name"'
            )
        if "config" in data and isinstance(data.get("config"), dict):
            raw, name = data["config"], data.get("name")
            if name is not None and not isinstance(name, str):
                raise ConfigError(message=f'Connector config file {path}: "name" must be a string')
            name = name.strip() if isinstance(name, str) else None
        else:
            raw, name = data, None
        config = {str(k): _json_scalar(path, k, v) for k, v in raw.items()}
        if name is None:
            name = config.get("name")
        elif config.get("name") not in (None, name):
            raise ConfigError(
                message=f"Connector config file {path}: connector name configuration "
                f"({config['name']}) doesn't match connector name ({name})"
            )
    else:
        config = load_properties(path)
        name = config.get("name")
    if not name:
        raise ConfigError(
            message=f"Connector config file {path} does not name the connector: "
            'set "name" (properties: name=...; JSON: {"name": ..., "config": {...}})'
        )
    config["name"] = name
    return name, config
