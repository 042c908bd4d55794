"""JAAS configuration text, as Java reads it: login config files (`Name { module flag key="value"; };`) and the
single-entry `sasl.jaas.config` strings of Kafka clients (`module flag key="value";`)."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field

from ..errors import ConfigError

# a quoted string, punctuation, a bare word, or a comment (/* */ and //, as Java's StreamTokenizer skips them)
_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([{};=])|(/\*.*?\*/|//[^\n]*)|([^\s{};="]+))', re.S)
FLAGS = ("required", "requisite", "sufficient", "optional")
LOGIN_CONFIG_PROPERTY = "java.security.auth.login.config"


@dataclass(slots=True)
class LoginModule:
    name: str
    flag: str
    options: dict[str, str] = field(default_factory=dict)


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(token, quoted) pairs; quoted strings keep `\\"` escapes resolved."""
    out: list[tuple[str, bool]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise ConfigError(message=f"Invalid JAAS configuration at character {pos} (an unterminated quote?)")
        pos = m.end()
        if m.group(1) is not None:
            out.append((re.sub(r"\\(.)", r"\1", m.group(1)), True))
        elif m.group(3) is None:
            out.append((m.group(2) or m.group(4), False))
    return out


def _modules(tokens: list[tuple[str, bool]], i: int, end: str | None) -> tuple[list[LoginModule], int]:
    modules: list[LoginModule] = []
    while i < len(tokens) and (end is None or tokens[i] != (end, False)):
        name, _ = tokens[i]
        if i + 1 >= len(tokens) or tokens[i + 1][0].lower() not in FLAGS:
            raise ConfigError(message=f"Login module control flag is not available in the JAAS config for {name}")
        flag = tokens[i + 1][0].lower()
        i += 2
        options: dict[str, str] = {}
        while i < len(tokens) and tokens[i] != (";", False):
            if i + 2 >= len(tokens) or tokens[i + 1] != ("=", False):
                raise ConfigError(message=f'Invalid JAAS option for login module {name}: expected key="value"')
            options[tokens[i][0]] = tokens[i + 2][0]
            i += 3
        if i >= len(tokens):
            raise ConfigError(message=f"JAAS config entry not terminated by semi-colon for login module {name}")
        modules.append(LoginModule(name, flag, options))
        i += 1
    return modules, i


def parse_jaas_config(text: str) -> LoginModule:
    """A client's `sasl.jaas.config`: exactly one login module (Kafka's JaasConfig rules)."""
    modules, _ = _modules(_tokens(text), 0, None)
    if len(modules) != 1:
        raise ConfigError(
            "sasl.jaas.config",
            "[hidden]",
            f"JAAS config property contains {len(modules)} login modules, should be 1 module",
        )
    return modules[0]


def parse_login_file(text: str) -> dict[str, list[LoginModule]]:
    """A JAAS login configuration file: its sections by name."""
    tokens = _tokens(text)
    sections: dict[str, list[LoginModule]] = {}
    i = 0
    while i < len(tokens):
        if i + 1 >= len(tokens) or tokens[i + 1] != ("{", False):
            raise ConfigError(message=f"Invalid JAAS login configuration: expected '{{' after {tokens[i][0]!r}")
        name = tokens[i][0]
        modules, i = _modules(tokens, i + 2, "}")
        i += 1  # "}"
        if i < len(tokens) and tokens[i] == (";", False):
            i += 1
        sections.setdefault(name, []).extend(modules)
    return sections


def login_config_path(worker_props: dict[str, str] | None = None) -> str | None:
    """Where the JAAS file is: the worker's `java.security.auth.login.config`, else the
    `-Djava.security.auth.login.config=...` of KAFKA_OPTS (how Kafka's scripts pass it to the JVM)."""
    if worker_props and worker_props.get(LOGIN_CONFIG_PROPERTY):
        return str(worker_props[LOGIN_CONFIG_PROPERTY])
    for arg in shlex.split(os.environ.get("KAFKA_OPTS", "")):
        if arg.startswith(f"-D{LOGIN_CONFIG_PROPERTY}="):
            return arg.split("=", 1)[1].lstrip("=")  # "==path" replaces rather than adds files in Java
    return None
