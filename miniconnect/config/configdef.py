"""ConfigDef: each plugin declares its keys once; parsing, defaults, validation and the REST views come from it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..errors import ConfigError
from ..secrets import redact_url


class ConfigType(str, Enum):
    BOOLEAN = "BOOLEAN"
    STRING = "STRING"
    INT = "INT"
    SHORT = "SHORT"
    LONG = "LONG"
    DOUBLE = "DOUBLE"
    LIST = "LIST"
    CLASS = "CLASS"
    PASSWORD = "PASSWORD"


class Importance(str, Enum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Width(str, Enum):
    NONE = "NONE"
    SHORT = "SHORT"
    MEDIUM = "MEDIUM"
    LONG = "LONG"


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


class Password:
    """A secret value; never printed."""

    __slots__ = ("value",)
    HIDDEN = "[hidden]"

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return self.HIDDEN

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Password) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


# A validator raises ConfigError(name, value, reason) for a bad parsed value; str() of it shows in /config docs.
Validator = Callable[[str, Any], None]
# A recommender returns the values a UI should offer, given the other parsed values.
Recommender = Callable[[str, Mapping[str, Any]], list[Any]]

_INT_RANGES = {
    ConfigType.INT: (-(2**31), 2**31 - 1),
    ConfigType.SHORT: (-(2**15), 2**15 - 1),
    ConfigType.LONG: (-(2**63), 2**63 - 1),
}


_JAVA_BLANKS = "".join(map(chr, range(33)))


def java_trim(text: str) -> str:
    """String.trim(): what is at most U+0020 at both ends goes."""
    return text.strip(_JAVA_BLANKS)


# What Java's Integer/Short/Long.parseInt accept: a sign, then decimal digits (Character.digit: any Unicode Nd digit)
_JAVA_INTEGER = re.compile(r"[+-]?\d+")
# Double.parseDouble's grammar (Double.valueOf's javadoc), after String.trim: ASCII digits only, Java's suffixes
_DIGITS = r"[0-9]+"
_JAVA_DOUBLE = re.compile(
    rf"[+-]?(?:NaN|Infinity|(?:(?:{_DIGITS}\.?(?:{_DIGITS})?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?"
    rf"|0[xX](?:[0-9a-fA-F]+\.?|[0-9a-fA-F]*\.[0-9a-fA-F]+)[pP][+-]?{_DIGITS})[fFdD]?)",
    re.ASCII,
)
_LIST_SEPARATOR = re.compile(r"[ \t\n\x0b\f\r]*,[ \t\n\x0b\f\r]*")  # Java's "\\s*,\\s*"


def java_equals_ignore_case(text: str, ascii_word: str) -> bool:
    """String.equalsIgnoreCase against an ASCII word: chars equal once upper-cased one by one (so a long s,
    U+017F, is an s)."""
    return len(text) == len(ascii_word) and all(
        a == b or a.upper() == b.upper() for a, b in zip(text, ascii_word, strict=True)
    )


def java_parse_long(text: str) -> int:
    """Long.parseLong (ValueError where Java throws NumberFormatException); the range is the caller's."""
    if not _JAVA_INTEGER.fullmatch(text):
        raise ValueError(text)
    return int(text)


def java_parse_double(text: str) -> float:
    """Double.parseDouble of a trimmed text (ValueError where Java throws NumberFormatException)."""
    if not _JAVA_DOUBLE.fullmatch(text):
        raise ValueError(text)
    if text.endswith("NaN"):
        return math.nan  # whatever its sign, as Java's
    if text[-1] in "fFdD":  # a suffix: no digit of a matched number ends so
        text = text[:-1]
    if text.lstrip("+-")[:2] not in ("0x", "0X"):
        return float(text)
    try:
        return float.fromhex(text)
    except OverflowError:  # Java rounds to infinity
        return -math.inf if text[0] == "-" else math.inf


def parse_type(name: str, value: Any, type: ConfigType) -> Any:
    """Turns a raw value (usually a string) into the declared type as Kafka's ConfigDef.parseType does: strings
    trimmed as String.trim trims them, numbers read by Java's parsers, lists split at commas with Java's blanks
    around them; Kafka's error texts."""
    if value is None:
        return None
    text = java_trim(str(value))  # String.trim, as Kafka trims every string value first
    try:
        if type == ConfigType.BOOLEAN:
            if isinstance(value, bool):
                return value
            if isinstance(value, str):
                if java_equals_ignore_case(text, "true"):
                    return True
                if java_equals_ignore_case(text, "false"):
                    return False
            raise ConfigError(name, value, "Expected value to be either true or false")
        if type == ConfigType.PASSWORD:
            return value if isinstance(value, Password) else Password(text)
        if type in (ConfigType.STRING, ConfigType.CLASS):
            return text  # as Kafka's: a properties file's trailing blanks are not the value's
        if type in _INT_RANGES:
            if isinstance(value, bool):
                raise ValueError
            n = value if isinstance(value, int) else java_parse_long(text)
            lo, hi = _INT_RANGES[type]
            if not lo <= n <= hi:
                raise ValueError
            return n
        if type == ConfigType.DOUBLE:
            if isinstance(value, bool):
                raise ValueError
            return float(value) if isinstance(value, (int, float)) else java_parse_double(text)
        if type == ConfigType.LIST:
            if isinstance(value, (list, tuple)):
                return [str(v) for v in value]
            return _LIST_SEPARATOR.split(text) if text else []
    except (ValueError, TypeError, OverflowError):
        raise ConfigError(name, value, f"Not a number of type {type.value}") from None
    raise ConfigError(name, value, f"Unknown type {type}")


def render_value(value: Any, type: ConfigType | None = None) -> str | None:
    """A parsed value as Connect prints it in REST bodies (lists comma-joined, passwords hidden)."""
    if value is None:
        return None
    if isinstance(value, Password) or type == ConfigType.PASSWORD:
        return Password.HIDDEN
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        from ..converters.javatext import java_double

        return java_double(value)  # Double.toString: 1.0E10, not 1e+10
    if isinstance(value, (list, tuple)):
        return ",".join(redact_url(str(v)) for v in value)
    return redact_url(str(value))


@dataclass
class ConfigKey:
    name: str
    type: ConfigType
    default: Any = NO_DEFAULT
    validator: Validator | None = None
    importance: Importance = Importance.MEDIUM
    documentation: str = ""
    group: str | None = None
    order_in_group: int = -1
    width: Width = Width.NONE
    display_name: str | None = None
    dependents: list[str] = field(default_factory=list)
    recommender: Recommender | None = None
    internal: bool = False

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    def info(self) -> dict[str, Any]:
        """The ConfigKeyInfo JSON object, fields in Connect's order."""
        return {
            "name": self.name,
            "type": self.type.value,
            "required": not self.has_default,
            "default_value": render_value(self.default, None) if self.has_default else None,
            "importance": self.importance.value,
            "documentation": self.documentation,
            "group": self.group,
            "width": self.width.value,
            "display_name": self.display_name or self.name,
            "dependents": list(self.dependents),
            "order": self.order_in_group,
        }


@dataclass
class ConfigValue:
    name: str
    value: Any = None
    recommended_values: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    visible: bool = True

    def info(self, type: ConfigType | None = None) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": render_value(self.value, type),
            "recommended_values": [render_value(v) for v in self.recommended_values],
            "errors": list(self.errors),
            "visible": self.visible,
        }


class _NullValue(Exception):
    """A key given as JSON null: no parse error of its own (the herder reports null values it validates)."""


class ConfigDef:
    """An ordered set of ConfigKeys. `define` chains, like Kafka's ConfigDef."""

    def __init__(self, keys: Iterable[ConfigKey] = ()):
        self.keys: dict[str, ConfigKey] = {}
        for k in keys:
            self.keys[k.name] = k

    def define(
        self,
        name: str,
        type: ConfigType,
        default: Any = NO_DEFAULT,
        validator: Validator | None = None,
        importance: Importance = Importance.MEDIUM,
        documentation: str = "",
        group: str | None = None,
        order_in_group: int = -1,
        width: Width = Width.NONE,
        display_name: str | None = None,
        dependents: list[str] | None = None,
        recommender: Recommender | None = None,
        internal: bool = False,
    ) -> ConfigDef:
        if name in self.keys:
            raise ValueError(f"Configuration {name} is defined twice.")
        if default is not NO_DEFAULT and default is not None:
            default = parse_type(name, default, type)
            if validator is not None:
                validator(name, default)
        self.keys[name] = ConfigKey(
            name,
            type,
            default,
            validator,
            importance,
            documentation,
            group,
            order_in_group,
            width,
            display_name,
            list(dependents or []),
            recommender,
            internal,
        )
        return self

    def merge(self, other: ConfigDef) -> ConfigDef:
        """A new ConfigDef with self's keys, then other's keys not already defined."""
        merged = ConfigDef(self.keys.values())
        for k in other.keys.values():
            merged.keys.setdefault(k.name, k)
        return merged

    @property
    def groups(self) -> list[str]:
        seen: dict[str, None] = {}
        for k in self.keys.values():
            if k.group:
                seen.setdefault(k.group, None)
        return list(seen)

    def parse(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Parsed values for every defined key; raises ConfigError on the first bad or missing one."""
        out: dict[str, Any] = {}
        for key in self.keys.values():
            if key.name in props:
                value = parse_type(key.name, props[key.name], key.type)
            elif key.has_default:
                value = key.default
            else:
                raise ConfigError(message=f'Missing required configuration "{key.name}" which has no default value.')
            if key.validator is not None and not (value is None and key.has_default and key.default is None):
                key.validator(key.name, value)
            out[key.name] = value
        return out

    def validate(self, props: Mapping[str, Any]) -> dict[str, ConfigValue]:
        """Every key's ConfigValue with all its errors, for /config/validate. Never raises for bad values."""
        values: dict[str, ConfigValue] = {}
        parsed: dict[str, Any] = {}
        for key in self.keys.values():
            cv = ConfigValue(key.name)
            values[key.name] = cv
            if key.name in props:
                raw = props[key.name]
                try:
                    if raw is None:
                        raise _NullValue()
                    cv.value = parse_type(key.name, raw, key.type)
                except (ConfigError, _NullValue) as e:
                    if isinstance(e, ConfigError):
                        cv.errors.append(str(e))  # the value stays null, as in Kafka's ConfigDef.parseForValidate
                    # Kafka then runs the validator on the null value: a Range adds "Value must be non-null".
                    reason = getattr(key.validator, "null_reason", None)
                    if reason:
                        cv.errors.append(str(ConfigError(key.name, "null", reason)))
                    continue
            elif key.has_default:
                cv.value = key.default
            else:
                cv.errors.append(f'Missing required configuration "{key.name}" which has no default value.')
                continue
            parsed[key.name] = cv.value
            if key.validator is not None and cv.value is not None:
                try:
                    key.validator(key.name, cv.value)
                except ConfigError as e:
                    cv.errors.append(str(e))
        for key in self.keys.values():
            if key.recommender is not None:
                try:
                    values[key.name].recommended_values = list(key.recommender(key.name, parsed))
                except Exception:  # a recommender must not break validation
                    pass
        return values


# -- validators (texts as Kafka's ConfigDef validators print them) -------------------------------------
def java_str(value: Any) -> str:
    """A parsed value as Java's toString prints it inside "Invalid value X for configuration k" messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(java_str(v) for v in value) + "]"
    return str(value)


_NON_NULL = "Value must be non-null"  # Range's complaint when a value did not parse (Kafka validates null then)


class _Validator:
    def __init__(self, check: Callable[[Any], str | None], text: str, null_reason: str | None = None):
        self._check, self._text, self.null_reason = check, text, null_reason

    def __call__(self, name: str, value: Any) -> None:
        if value is None:
            return
        reason = self._check(value)
        if reason:
            raise ConfigError(name, java_str(value), reason)

    def __str__(self) -> str:
        return self._text


def at_least(minimum: float) -> Validator:
    return _Validator(
        lambda v: None if v >= minimum else f"Value must be at least {minimum}", f"[{minimum},...]", _NON_NULL
    )


def between(lo: float, hi: float) -> Validator:
    return _Validator(
        lambda v: (
            None if lo <= v <= hi else f"Value must be no more than {hi}" if v > hi else f"Value must be at least {lo}"
        ),
        f"[{lo},...,{hi}]",
        _NON_NULL,
    )


def one_of(*options: str, case_sensitive: bool = False, text: str | None = None) -> Validator:
    """ValidString (case_sensitive) or CaseInsensitiveValidString; `text`: its description, if not the list."""
    norm = (lambda s: s) if case_sensitive else (lambda s: str(s).lower())
    allowed = {norm(o) for o in options}
    text = text or f"[{', '.join(options)}]"
    return _Validator(
        lambda v: (
            None
            if norm(v) in allowed
            else f"String must be one of: {', '.join(options)}"
            if case_sensitive
            else f"String must be one of (case insensitive): {', '.join(options)}"
        ),
        text,
    )


def list_of(*options: str) -> Validator:
    def check(values: list[str]) -> str | None:
        bad = [v for v in values if v not in options]
        return f"Invalid value(s) {', '.join(bad)}; must be one of: {', '.join(options)}" if bad else None

    return _Validator(check, f"[{', '.join(options)}]")


def non_empty_string() -> Validator:
    return _Validator(lambda v: "String must be non-empty" if not str(v) else None, "non-empty string")


def non_empty_string_without_control_chars() -> Validator:
    def check(v: str) -> str | None:
        if not v:
            return "String may not be empty"
        bad = [str(ord(c)) for c in v if ord(c) < 32 or 127 <= ord(c) <= 159]
        if bad:
            return f"String may not contain control sequences but had the following ASCII chars: {', '.join(bad)}"
        return None

    return _Validator(check, "non-empty string without ISO control characters")


def matches(pattern: str, text: str | None = None) -> Validator:
    rx = re.compile(pattern)
    return _Validator(lambda v: None if rx.fullmatch(str(v)) else f"does not match {text or pattern}", text or pattern)


def custom(check: Callable[[Any], str | None], text: str) -> Validator:
    """A validator from a check returning the error reason (or None) for a non-null value."""
    return _Validator(check, text)


def recommend(*values: Any) -> Recommender:
    return lambda name, parsed: list(values)
