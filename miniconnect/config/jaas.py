"""JAAS configuration text, as Java reads it: login config files (`Name { module flag key="value"; };`) and the
single-entry `sasl.jaas.config` strings of Kafka clients (`module flag key="value";`)."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field

from ..errors import ConfigError
from .java_tokenizer import EOF, EOL, NUMBER, WORD, Token, tokenize

FLAGS = ("required", "requisite", "sufficient", "optional")
LOGIN_CONFIG_PROPERTY = "java.security.auth.login.config"


@dataclass(slots=True)
class LoginModule:
    name: str
    flag: str
    options: dict[str, str] = field(default_factory=dict)


def _flag(text: str | None, error: str) -> str:
    flag = (text or "").upper().lower()  # Java's toUpperCase: a dotless i is an I
    if flag not in FLAGS:
        raise ConfigError(message=error)
    return flag


def _key_name(token: Token) -> str:
    """The option key as an error names it: a quoted one is not echoed (it may be a misplaced secret)."""
    return token.text if token.kind == WORD else "a quoted string" if token.text is not None else repr(token.kind)


def parse_jaas_config(text: str) -> LoginModule:
    """A client's `sasl.jaas.config`: exactly one login module, read as Kafka's JaasConfig reads it (Java's
    StreamTokenizer: `-`, `_` and `$` in words, single or double quotes, comments; a value is a word or a quoted
    string). An option whose key is not one (a number, say) is left out: Kafka keys it null, which no module reads."""
    tokens = tokenize(text, word_chars="-_$")
    modules: list[LoginModule] = []
    i = 0
    while tokens[i].kind != EOF:
        name = tokens[i].text
        i += 1
        if tokens[i].kind == EOF:
            raise ConfigError(message="Login module control flag not specified in JAAS config")
        flag_token = tokens[i]
        if flag_token.text is None:
            raise ConfigError(message="Login module control flag is not available in the JAAS config")
        flag = _flag(flag_token.text, f"Invalid login module control flag '{flag_token.text}' in JAAS config")
        options: dict[str, str] = {}
        i += 1
        while tokens[i].kind not in (EOF, ";"):
            key = tokens[i]
            if tokens[i + 1].kind != "=" or tokens[i + 2].text is None:
                raise ConfigError(message=f"Value not specified for key '{_key_name(key)}' in JAAS config")
            if key.text is not None:
                options[key.text] = tokens[i + 2].text  # type: ignore[assignment]
            i += 3
        if tokens[i].kind != ";":
            raise ConfigError(message="JAAS config entry not terminated by semi-colon")
        i += 1
        if not name:
            raise ConfigError(message="Login module name not specified in JAAS config")
        modules.append(LoginModule(name, flag, options))
    if not modules:
        raise ConfigError(message="JAAS config property does not contain any login modules")
    if len(modules) != 1:
        raise ConfigError(
            "sasl.jaas.config",
            "[hidden]",
            f"JAAS config property contains {len(modules)} login modules, should be 1 module",
        )
    return modules[0]


def parse_login_file(text: str) -> dict[str, list[LoginModule]]:
    """A JAAS login configuration file, its sections by name, read as the JDK's ConfigFile reads it (double quotes
    only; `$`, `_`, `-` and `*` in words; `Name { module flag key=value ...; ... };`, the `;` after `}` required, a
    name given once). Java's `${property}` expansion in values is not done."""
    tokens = [t for t in tokenize(text, word_chars="$_-*", eol_significant=True) if t.kind != EOL]
    i = 0

    def expected(what: str) -> ConfigError:
        found = tokens[i]
        if found.kind == EOF:
            return ConfigError(message=f"Invalid JAAS login configuration: expected [{what}], read [end of file]")
        shown = found.text if found.kind == WORD else found.kind if found.text is None and found.kind != NUMBER else ""
        return ConfigError(message=f"Invalid JAAS login configuration: expected [{what}], found [{shown}]")

    def match(what: str) -> str | None:
        nonlocal i
        token = tokens[i]
        if what in ("{", "}", ";", "="):
            if token.kind != what:
                raise expected(what)
        elif token.kind not in (WORD, '"'):
            raise expected(what)
        i += 1
        return token.text

    sections: dict[str, list[LoginModule]] = {}
    while tokens[i].kind != EOF:
        name = tokens[i].text
        i += 1
        match("{")
        modules: list[LoginModule] = []
        while tokens[i].kind != "}":
            module = match("module class name")
            flag = _flag(match("controlFlag"), "Invalid JAAS login configuration: invalid control flag")
            options: dict[str, str] = {}
            while tokens[i].kind != ";":
                key = match("option key")
                match("=")
                options[key] = match("option value")  # type: ignore[index,assignment]
            i += 1
            modules.append(LoginModule(module, flag, options))  # type: ignore[arg-type]
        match("}")
        match(";")
        if name in sections:
            raise ConfigError(message=f"Invalid JAAS login configuration: can not specify multiple entries for {name}")
        sections[name] = modules  # type: ignore[index]
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
