"""Reads worker and connector files: java.util.Properties syntax, and the JSON shapes Connect accepts."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from ..errors import ConfigError

_WS = " \t\f"  # the whitespace Properties.load skips (not \v, not unicode spaces)
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _logical_lines(text: str) -> Iterator[str]:
    """The logical lines of java.util.Properties.LineReader (JDK 9+): natural lines joined across an odd number of
    trailing backslashes, with the next line's leading whitespace skipped; blank lines and comments dropped. A line
    is a comment when `#` or `!` is its first character after whitespace while the logical line is still empty,
    so also right after a continuation of an empty line."""
    n = len(text)
    i = 0
    line: list[str] = []
    skip_white, appended_begin, backslash = True, False, False
    while i < n:
        c = text[i]
        i += 1
        if skip_white:
            if c in _WS or (not appended_begin and c in "\r\n"):
                continue
            skip_white = appended_begin = False
        if not line and c in "#!":  # a comment: the rest of the natural line, never continued
            while i < n and text[i] not in "\r\n":
                i += 1
            skip_white = True
            continue
        if c not in "\r\n":
            line.append(c)
            backslash = not backslash if c == "\\" else False
            continue
        if not line:
            skip_white = True
            continue
        if i >= n:  # the input ends with this line break
            break
        if not backslash:
            yield "".join(line)
            line, skip_white = [], True
            continue
        line.pop()  # a backslash before the line break joins the next line, which starts after its whitespace
        skip_white, appended_begin, backslash = True, True, False
        if c == "\r" and text[i] == "\n":
            i += 1
    if line:  # the end of the input: Java reads what is left as a line, even if only a backslash was
        if backslash:
            line.pop()
        yield "".join(line)


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    out: list[str] = []
    i, n = 0, len(s)
    surrogates = False
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
            unit = int(hexits, 16)
            surrogates = surrogates or 0xD800 <= unit <= 0xDFFF
            out.append(chr(unit))
            i += 4
        else:
            out.append(_ESCAPES.get(c, c))
    text = "".join(out)
    # Java's String is UTF-16: an escaped surrogate pair (`\\uD83D\\uDE00`, as native2ascii writes) is one character
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass") if surrogates else text


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
