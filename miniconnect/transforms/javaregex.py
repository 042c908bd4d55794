"""java.util.regex patterns and Matcher replacement strings in Python's re: named groups `(?<n>...)`, possessive
quantifiers and `\\Q...\\E` are translated; `$1` / `${name}` references and `\\` escapes in replacements too."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..config.configdef import custom


def compile_java(pattern: str) -> re.Pattern[str]:
    """Compiles a Java regex; re.error (with Python's message) when it is not valid."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            if pattern[i + 1] == "Q":
                end = pattern.find("\\E", i + 2)
                end = n if end < 0 else end
                out.append(re.escape(pattern[i + 2 : end]))
                i = end + 2
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if pattern.startswith("(?<", i) and i + 3 < n and pattern[i + 3] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        if c in "+*?}" and i + 1 < n and pattern[i + 1] == "+":
            out.append(c)  # possessive: the same matches for the patterns topic names meet
            i += 2
            continue
        out.append(c)
        i += 1
    return re.compile("".join(out))


def java_replacement(replacement: str) -> Callable[[re.Match[str]], str]:
    """Matcher.appendReplacement's reading of a replacement string, as a function of the match."""
    parts: list[str | int] = []
    i, n = 0, len(replacement)
    text: list[str] = []
    while i < n:
        c = replacement[i]
        if c == "\\":
            i += 1
            if i >= n:
                raise ValueError("character to be escaped is missing")
            text.append(replacement[i])
            i += 1
        elif c == "$":
            i += 1
            if i >= n:
                raise ValueError("Illegal group reference: group index is missing")
            if text:
                parts.append("".join(text))
                text = []
            if replacement[i] == "{":
                end = replacement.find("}", i)
                if end < 0:
                    raise ValueError("named capturing group is missing trailing '}'")
                parts.append(replacement[i + 1 : end])  # type: ignore[arg-type]
                parts[-1] = ("name", parts[-1])  # type: ignore[assignment]
                i = end + 1
            elif replacement[i].isdigit():
                parts.append(int(replacement[i]))
                i += 1
            else:
                raise ValueError("Illegal group reference")
        else:
            text.append(c)
            i += 1
    if text:
        parts.append("".join(text))

    def expand(m: re.Match[str]) -> str:
        out = []
        for p in parts:
            if isinstance(p, str):
                out.append(p)
            else:
                g = m.group(p[1] if isinstance(p, tuple) else p)  # type: ignore[index]
                out.append(g or "")
        return "".join(out)

    return expand


def regex_validator():
    """Kafka's transforms RegexValidator: `Invalid regex: <message>`."""

    def check(v: object) -> str | None:
        try:
            compile_java(str(v))
        except re.error as e:
            return f"Invalid regex: {e}"
        return None

    validator = custom(check, "valid regex")
    # Kafka's Pattern.compile(null) fails with this NullPointerException text
    validator.null_reason = (  # type: ignore[attr-defined]
        'Invalid regex: Cannot invoke "String.isEmpty()" because "this.pattern" is null'
    )
    return validator
