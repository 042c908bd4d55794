"""`response.http.headers.config`: the REST server's response header rules, checked as Kafka's WorkerConfig checks
them (ResponseHttpHeadersValidator) and read as Jetty's HeaderFilter reads them."""

from __future__ import annotations

import re
import unicodedata

from ..errors import ConfigError
from .configdef import java_trim

KEY = "response.http.headers.config"
ACTIONS = ("set", "add", "setDate", "addDate")
_BLANKS = re.compile("[ \t\n\x0b\f\r]+")  # Java's \\s


def _java_whitespace(c: str) -> bool:
    """Character.isWhitespace: Unicode's separators but the no-break ones, and the ASCII controls Java counts."""
    if c in "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f":
        return True
    return unicodedata.category(c) in ("Zs", "Zl", "Zp") and c not in "\u00a0\u2007\u202f"


def csv_split(value: str) -> list[str]:
    """Jetty's StringUtil.csvSplit: items between commas, blanks around them dropped; an item that starts with a
    double quote runs to the next unescaped one (backslash escapes), anything after it up to a comma ignored."""
    items: list[str] = []
    out: list[str] = []
    state, last = "pre", -1
    for ch in value:
        if state == "pre":
            if _java_whitespace(ch):
                continue
            if ch == '"':
                state = "quote"
            elif ch == ",":
                items.append("")
            else:
                state = "data"
                out.append(ch)
        elif state == "data":
            if _java_whitespace(ch):
                last = len(out)
                out.append(ch)
                state = "white"
            elif ch == ",":
                items.append("".join(out))
                out, state = [], "pre"
            else:
                out.append(ch)
        elif state == "white":
            if _java_whitespace(ch):
                out.append(ch)
            elif ch == ",":
                items.append("".join(out[:last]))
                out, state = [], "pre"
            else:
                state, last = "data", -1
                out.append(ch)
        elif state == "quote":
            if ch == "\\":
                state = "slosh"
            elif ch == '"':
                items.append("".join(out))
                out, state = [], "post"
            else:
                out.append(ch)
        elif state == "slosh":
            out.append(ch)
            state = "quote"
        elif ch == ",":  # post: after a quoted item
            state = "pre"
    if state in ("data", "quote", "slosh"):
        items.append("".join(out))
    elif state == "white":
        items.append("".join(out[:last]))
    return items


def _check_rule(rule: str) -> tuple[str, str, str]:
    """WorkerConfig.validateHttpResponseHeaderConfig, with its texts; the rule as (action, name, value), as
    Jetty's HeaderFilter reads it."""
    tokens = _BLANKS.split(java_trim(rule), maxsplit=1)
    if len(tokens) != 2:
        raise ConfigError(
            message=f"Invalid format of header config '{rule}'. Expected: '[action] [header name]:[header value]'"
        )
    action, header = java_trim(tokens[0]), tokens[1]
    if not any(action.lower() == a.lower() for a in ACTIONS):
        raise ConfigError(message=f"Invalid header config action: '{action}'. Expected one of [{', '.join(ACTIONS)}]")
    pair = java_trim(header).split(":")
    while len(pair) > 1 and pair[-1] == "":  # String.split drops trailing empty strings
        pair.pop()
    if len(pair) != 2:
        raise ConfigError(
            message=f"Invalid format of header name and header value pair '{header}'. "
            "Expected: '[header name]:[header value]'"
        )
    name = java_trim(pair[0])
    if not name or _BLANKS.search(name):
        raise ConfigError(message=f"Invalid header name '{name}'. The '[header name]' cannot contain whitespace")
    return action, name, java_trim(java_trim(header).split(":", 1)[1])


class HeaderRulesValidator:
    """The config key's validator (Kafka's ResponseHttpHeadersValidator): its errors are the bare texts above."""

    def __call__(self, name: str, value: str | None) -> None:
        if value is None or not java_trim(value):
            return
        for rule in csv_split(value):
            _check_rule(rule)

    def __str__(self) -> str:
        return (
            "Comma-separated header rules, where each header rule is of the form '[action] [header name]:[header "
            "value]' and optionally surrounded by double quotes if any part of a header rule contains a comma"
        )


def parse_header_rules(value: str | None) -> list[tuple[str, str, str]]:
    """The rules as (action, name, value), as Jetty's HeaderFilter reads them once checked; ConfigError if not."""
    return [_check_rule(rule) for rule in csv_split(value or "")]
