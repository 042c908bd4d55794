"""java.util.regex patterns and Matcher replacement strings in Python's re, wherever Connect takes a regex
(RegexRouter, TopicNameMatches, a sink's `topics.regex`).

java_to_python translates a pattern's source (its `\\Q...\\E` first written as escapes, as Java does); named groups
`(?<n>...)`; character classes with Java's nested classes, unions and `&&` intersections (a class that Python's
`[...]` cannot say becomes lookaheads that match one character); POSIX and Unicode category classes `\\p{Lower}`,
`\\p{Punct}`, `\\p{L}`, `\\p{Lu}`, `\\P{...}` (categories from Python's unicodedata); `\\h`, `\\v`, `\\R`, `\\z`,
`\\Z`, `\\e`, `\\x{...}`; inline flags in the middle of a pattern (`a(?i)b`: Python takes global flags only at the
start, so they become a scoped group to the end of the enclosing one); quantifiers on zero-width items (`^*`), which
Java allows, and on nothing (`{2}` first, or after another quantifier: Java reads an empty atom there); back
references as Java's Pattern.ref reads them (`\\11` is group 11 only if that many groups were opened before it, else
group 1 and a `1`), a reference to a group not closed before it as what never matches (as in Java for a group that
does not exist; for one still open or further on, Java can match it in a later pass of an enclosing loop, this
cannot). Possessive quantifiers and atomic groups are Python's own (3.11+). Like Java's defaults, `\\d`, `\\w`,
`\\s`, `\\b` and case-insensitivity are ASCII only (the pattern is one `(?a:...)` group). What has no Python form
(`\\G`, `\\X`, scripts and blocks such as `\\p{IsLatin}`, the java* classes, the d/u/U flags' effects beyond ASCII)
raises re.error, as an invalid pattern does.
compile_java raises re.error with PatternSyntaxException's message for a pattern Java refuses: each error is raised
with the index Java names (the translator reads the pattern as Pattern does, and says where its cursor stood).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from functools import cache

from .configdef import custom

_POSIX = {  # java.util.regex's US-ASCII classes, as Python class contents
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r",
}
_ALIASES = {"IsLetter": "L", "IsDigit": "Nd", "IsUppercase": "Lu", "IsLowercase": "Ll", "IsTitlecase": "Lt"}
_ESCAPES = {  # escapes whose Java meaning Python spells otherwise, as class contents
    "h": " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000",
    "v": "\\n\\x0b\\f\\r\\x85\\u2028\\u2029",
    "e": "\\x1b",
    "a": "\\x07",
}
_SAME = set("dDwWsStnrf")  # escapes that mean the same in a Python class or outside one (ASCII mode)
_ZERO_WIDTH_ESCAPES = set("bBAzZ")


@cache
def _categories() -> dict[str, str]:
    """Every general category (and its one-letter group) as Python class contents of code point ranges."""
    ranges: dict[str, list[list[int]]] = {}
    for cp in range(sys.maxunicode + 1):
        cat = unicodedata.category(chr(cp))
        for key in (cat, cat[0]):
            rs = ranges.setdefault(key, [])
            if rs and rs[-1][1] == cp - 1:
                rs[-1][1] = cp
            else:
                rs.append([cp, cp])
    return {k: "".join(_char(a) + ("-" + _char(b) if b > a else "") for a, b in rs) for k, rs in ranges.items()}


def _char(cp: int) -> str:
    return f"\\U{cp:08x}"


def _property(name: str, pattern: str, at: int) -> str:
    """The class contents of \\p{name}."""
    if name in _POSIX:
        return _POSIX[name]
    name = _ALIASES.get(name, name)
    for prefix in ("general_category=", "gc=", "Is"):
        if name.startswith(prefix) and name[len(prefix) :] in _categories():
            name = name[len(prefix) :]
    found = _categories().get(name)
    key, eq, value = name.partition("=")
    if found is None and eq and key not in ("gc", "general_category"):  # Java's name=value form
        raise re.error(f"Unknown Unicode property {{name=<{key}>, value=<{value}>}}", pattern, at)
    if found is None:
        raise re.error(f"Unknown character property name {{{name}}}", pattern, at)
    return found


class _Class:
    """A Java character class: a union of parts (Python class contents, nested classes), possibly negated, possibly
    intersected with further classes."""

    def __init__(self) -> None:
        self.negated = False
        self.contents: list[str] = []  # Python class contents
        self.others: list[_Class] = []  # nested classes (or complemented properties) in the union
        self.intersect: list[_Class] = []  # && operands after this union

    def union(self) -> str | None:
        """A Python pattern for one character of this class's union (before any &&), None when it is empty."""
        parts = [f"[{''.join(self.contents)}]"] if self.contents else []
        parts += [c.python() for c in self.others]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"

    def python(self) -> str:
        """A Python pattern that matches one character of this class; an empty && operand counts for nothing, as
        in Java (`[a&&]` is `[a]`)."""
        operands = [u for u in (c.union() for c in [self, *self.intersect]) if u is not None]
        if not operands:
            raise re.error("Empty character class")
        last = operands[-1]
        one = last if len(operands) == 1 else "(?:" + "".join(f"(?={o})" for o in operands[:-1]) + last + ")"
        if not self.negated:
            return one
        if len(operands) == 1 and not self.others:
            return "[^" + one[1:]  # a plain [...]
        return f"(?:(?!{one})[\\s\\S])"


class _Translator:
    def __init__(self, pattern: str):
        self.p = pattern
        self.i = 0
        self.out: list[str] = []
        # per open group: where it starts in out, the scoped-flag groups opened in it, whether it is zero-width
        self.groups: list[tuple[int, list[str], bool]] = []
        self.top: list[str] = []  # scoped-flag groups opened at the top level
        self.atom: int | None = None  # where the last atom starts in out
        self.zero_width = False
        self.opened = 0  # capturing groups opened so far (Java's capturingGroupCount - 1)
        self.numbers: list[int | None] = []  # per open group: its number if capturing
        self.closed: set[int] = set()
        self.names: dict[str, int] = {}  # named groups opened so far, by name: their numbers

    def error(self, message: str, at: int | None = None) -> re.error:
        """PatternSyntaxException's description and index: `at`, else self.i (where Java's cursor stands, less one:
        the character it read last)."""
        return re.error(message, self.p, self.i if at is None else at)

    def run(self) -> str:
        p, n = self.p, len(self.p)
        while self.i < n:
            c = p[self.i]
            if c == "\\":
                self._escape()
            elif c == "[":
                start = len(self.out)
                self.out.append(self._class().python())
                self._atom(start, False)
            elif c == "(":
                self._open()
            elif c == ")":
                self._close()
            elif c == "|":  # an inline flag goes on into the next alternatives: close its groups, open them again
                specs = self.groups[-1][1] if self.groups else self.top
                self.out.append(")" * len(specs) + "|" + "".join(f"(?{spec}:" for spec in specs))
                self.i += 1
                self.atom = None
            elif c in "*+?" or (c == "{" and re.match(r"\{\d+(,\d*)?\}", p[self.i :])):
                self._quantifier()
            elif c in "^$":
                start = len(self.out)
                self.out.append(c)
                self.i += 1
                self._atom(start, True)
            elif c == "{":
                counted = re.match(r"\{\d+(?:,\d*)?", p[self.i :])
                if counted:  # Java's closure: the character that ends the count is not its '}'
                    self.i += len(counted.group(0))
                    raise self.error("Unclosed counted closure")
                raise self.error("Illegal repetition", self.i + 1)
            else:
                start = len(self.out)
                self.out.append(re.escape(c) if c == "}" else c)
                self.i += 1
                self._atom(start, False)
        if self.groups:
            raise self.error("Unclosed group")
        self.out.append(")" * len(self.top))
        return "(?a:" + "".join(self.out) + ")"  # scoped, so that callers may wrap it

    def _atom(self, start: int, zero_width: bool) -> None:
        self.atom, self.zero_width = start, zero_width

    def _quantifier(self) -> None:
        p = self.p
        m = re.match(r"(?:[*+?]|\{\d+(?:,\d*)?\})[?+]?", p[self.i :])
        assert m is not None
        if self.atom is None and p[self.i] == "{":  # Java reads an empty atom before it: it repeats nothing
            self._atom(len(self.out), False)
            self.out.append("(?:)")
        if self.atom is None:
            raise self.error(f"Dangling meta character '{p[self.i]}'")
        counts = re.match(r"\{(\d+),(\d+)\}", m.group(0))
        if counts and int(counts.group(2)) < int(counts.group(1)):
            self.i += len(counts.group(0)) - 1
            raise self.error("Illegal repetition range")
        if self.zero_width:  # Java repeats a zero-width item; Python wants it in a group first
            self.out[self.atom :] = ["(?:", *self.out[self.atom :], ")"]
        self.out.append(m.group(0))
        self.i += len(m.group(0))
        self.atom = None

    def _open(self) -> None:
        p, start = self.p, len(self.out)
        flags = re.match(r"\(\?([idmsuxU]*)(?:-([idmsuxU]*))?([:)])", p[self.i :])
        if flags and (flags.group(1) or flags.group(2) or flags.group(3) == ":"):
            on, off = (_py_flags(flags.group(1)), _py_flags(flags.group(2) or ""))
            spec = on + ("-" + off if off else "")
            self.i += len(flags.group(0))
            if flags.group(3) == ":":
                self.out.append(f"(?{spec}:" if spec else "(?:")
                self._push((start, [], False))
            elif spec:  # (?i) to the end of the enclosing group: a scoped group closed with it
                self.out.append(f"(?{spec}:")
                (self.groups[-1][1] if self.groups else self.top).append(spec)
            self.atom = None  # nothing to repeat after flags
            return
        if p.startswith("(?<", self.i) and p[self.i + 3 : self.i + 4] not in ("=", "!"):
            m = re.match(r"\(\?<([a-zA-Z][a-zA-Z0-9]*)>", p[self.i :])
            if m is None:
                self.i += 3
                raise self._group_name_error()
            if m.group(1) in self.names:
                self.i += len(m.group(0)) - 1
                raise self.error(f"Named capturing group <{m.group(1)}> is already defined")
            self.out.append(f"(?P<{m.group(1)}>")
            self.i += len(m.group(0))
            self._push((start, [], False), capturing=True)
            self.names.setdefault(m.group(1), self.opened)
            return
        for opener in ("(?:", "(?>", "(?=", "(?!", "(?<=", "(?<!"):
            if p.startswith(opener, self.i):
                self.out.append(opener)
                self.i += len(opener)
                self._push((start, [], opener in ("(?=", "(?!", "(?<=", "(?<!")))
                return
        if p.startswith("(?", self.i):  # Java names the first character after (? and its flags
            m = re.match(r"\(\?[idmsuxUc]*(?:-[idmsuxUc]*)?", p[self.i :])
            raise self.error("Unknown inline modifier", self.i + (len(m.group(0)) if m else 2))
        self.out.append("(")
        self.i += 1
        self._push((start, [], False), capturing=True)

    def _group_name_error(self) -> re.error:
        """Java's groupname() on the name at self.i, which it refuses: where and why."""
        p = self.p
        if not (self.i < len(p) and p[self.i].isascii() and p[self.i].isalpha()):
            return self.error("capturing group name does not start with a Latin letter")
        while self.i < len(p) and p[self.i].isascii() and p[self.i].isalnum():
            self.i += 1
        return self.error("named capturing group is missing trailing '>'")

    def _push(self, group: tuple[int, list[str], bool], capturing: bool = False) -> None:
        self.atom = None  # a quantifier right after the opening is Java's dangling one
        if capturing:
            self.opened += 1
        self.groups.append(group)
        self.numbers.append(self.opened if capturing else None)

    def _close(self) -> None:
        if not self.groups:
            raise self.error("Unmatched closing ')'", self.i - 1)
        number = self.numbers.pop()
        if number is not None:
            self.closed.add(number)
        start, specs, zero_width = self.groups.pop()
        self.out.append(")" * (len(specs) + 1))
        self.i += 1
        self._atom(start, zero_width)

    def _escape(self) -> None:
        p, i, start = self.p, self.i, len(self.out)
        if i + 1 >= len(p):  # Java reads past the end: an open group is reported first
            if self.groups:
                self.i = len(p) + 1
                raise self.error("Unclosed group")
            raise self.error("Unexpected internal error", i + 1)
        e = p[i + 1]  # (no \\Q here: remove_qe_quoting has written its text as escapes)
        if e in _ZERO_WIDTH_ESCAPES:
            self.out.append({"z": "\\Z", "Z": "(?=\\n?\\Z)"}.get(e, "\\" + e))
            self.i += 2
            self._atom(start, True)
            return
        if e == "R":
            self.out.append("(?:\\r\\n|[\\n\\x0b\\f\\r\\x85\\u2028\\u2029])")
            self.i += 2
            self._atom(start, False)
            return
        if e == "k":
            m = re.match(r"\\k<([a-zA-Z][a-zA-Z0-9]*)>", p[i:])
            if m is None:
                self.i = i + 2
                if not p.startswith("<", self.i):
                    raise self.error("\\k is not followed by '<' for named capturing group")
                self.i += 1
                raise self._group_name_error()
            if m.group(1) not in self.names:
                self.i = i + len(m.group(0)) - 1
                raise self.error(f"named capturing group <{m.group(1)}> does not exist")
            # a group still open has not matched yet: in Java the reference fails
            self.out.append(f"(?P={m.group(1)})" if self.names[m.group(1)] in self.closed else "(?!)")
            self.i += len(m.group(0))
            self._atom(start, False)
            return
        if e in "GXNK":
            raise self.error(f"\\{e} has no Python form here")
        if e.isdigit() and e != "0":  # a back reference: Java's Pattern.ref reads digits while they name a group
            number, self.i = int(e), i + 2
            while self.i < len(p) and p[self.i].isdigit() and number * 10 + int(p[self.i]) <= self.opened:
                number, self.i = number * 10 + int(p[self.i]), self.i + 1
            # a group not set yet (one that does not exist, is still open or comes later) never matches in Java
            self.out.append(f"(?:\\{number})" if number in self.closed else "(?!)")
            self._atom(start, False)
            return
        content, negated, self.i = _class_escape(p, i)
        self.out.append(f"[{'^' if negated else ''}{content}]")
        self._atom(start, False)

    def _class(self) -> _Class:
        """The class at self.i ('['); self.i moves past its ']'."""
        p, n = self.p, len(self.p)
        cls = current = _Class()
        self.i += 1
        if self.i < n and p[self.i] == "^":
            cls.negated = True
            self.i += 1
        first = True
        while True:
            if self.i >= n:
                raise self.error("Unclosed character class", n - 1)
            c = p[self.i]
            if c == "\\" and self.i + 1 >= n:
                raise self.error("Unclosed character class", n)
            if c == "]" and not first:
                self.i += 1
                return cls
            first = False
            if c == "[":
                current.others.append(self._class())
            elif p.startswith("&&", self.i):
                if not (cls.intersect or cls.contents or cls.others) and p[self.i + 2 : self.i + 3] in ("]", "&"):
                    self.i += 1  # nothing on either side of the first &&
                    raise self.error("Bad class syntax")
                self.i += 2
                current = _Class()
                cls.intersect.append(current)
            else:
                low, low_content, negated, after = self._class_char()
                if negated:  # \P{...}, \D ... complemented: Python's [^...] inside a union is a nested class
                    other = _Class()
                    other.contents.append(low_content)
                    other.negated = True
                    current.others.append(other)
                    self.i = after
                    continue
                if low is not None and p.startswith("-", after) and after + 1 >= n:
                    self.i = n  # Java reads the range's end past the pattern
                    raise self.error("Illegal character range")
                if low is not None and p.startswith("-", after) and after + 1 < n and p[after + 1] not in "][":
                    self.i = after + 1
                    if p[self.i] == "\\" and self.i + 1 >= n:
                        self.i = n
                        raise self.error("Illegal character range")
                    if p.startswith(("\\p", "\\P"), self.i):  # Java takes no family as a range's end
                        raise self.error("Illegal/unsupported escape sequence", self.i + 1)
                    high, high_content, hneg, after2 = self._class_char()
                    if high is None or hneg or high < low:
                        self.i = after2 - 1  # Java names the range's last character
                        raise self.error("Illegal character range")
                    current.contents.append(f"{low_content}-{high_content}")
                    self.i = after2
                else:
                    current.contents.append(low_content)
                    self.i = after

    def _class_char(self) -> tuple[int | None, str, bool, int]:
        """One member at self.i inside a class: (its code point if a single character, Python class contents,
        complemented, where it ends)."""
        p, i = self.p, self.i
        if p[i] != "\\":
            return ord(p[i]), _in_class(p[i]), False, i + 1
        content, negated, end = _class_escape(p, i)
        single = _single(p, i, end)
        return single, content, negated, end


def _single(p: str, i: int, end: int) -> int | None:
    """The code point of a one-character escape p[i:end], else None (a class such as \\d)."""
    text = p[i:end]
    e = text[1] if len(text) > 1 else ""
    if e in "xu0" or (len(text) == 2 and not e.isalnum()):
        return ord(_literal(text))
    if e in "tnrfae":
        return {"t": 9, "n": 10, "r": 13, "f": 12, "a": 7, "e": 27}[e]
    if e == "c":
        return ord(text[2]) ^ 64
    return None


def _literal(text: str) -> str:
    e = text[1]
    if e == "x":
        return chr(int(text[3:-1] if text[2] == "{" else text[2:4], 16))
    if e == "u":
        return chr(int(text[2:6], 16))
    if e == "0":
        return chr(int(text[2:] or "0", 8))
    return e


def _class_escape(p: str, i: int) -> tuple[str, bool, int]:
    """The escape at p[i] as Python class contents: (contents, complemented, where it ends)."""
    if i + 1 >= len(p):
        raise re.error("Unexpected internal error", p, i + 1)
    e = p[i + 1]
    if e in "pP":
        if p.startswith("{", i + 2):
            end = p.find("}", i + 3)
            if end < 0:
                raise re.error("Unclosed character family", p, len(p))
            name, after = p[i + 3 : end], end + 1
        elif i + 2 < len(p):  # a one-letter name
            name, after = p[i + 2], i + 3
        else:  # Java reads the pattern's terminating 0 as the name
            raise re.error("Unknown character property name {\x00}", p, i + 2)
        return _property(name, p, after - 1), e == "P", after  # Java names its last character
    if e in _SAME:
        return "\\" + e, False, i + 2
    if e in "hH" or e in "vV":
        return _ESCAPES[e.lower()], e.isupper(), i + 2
    if e in "ea":
        return _ESCAPES[e], False, i + 2
    if e == "x":
        m = re.match(r"\\x(\{[0-9a-fA-F]+\}|[0-9a-fA-F]{2})", p[i:])
        braced = re.match(r"\\x\{[0-9a-fA-F]+", p[i:])
        if m is None and braced:  # Java: digits in braces, then not the closing one
            raise re.error("Unclosed hexadecimal escape sequence", p, i + len(braced.group(0)))
        if m is None:  # \x{ and no hex digit, or \x then a digit that is not hex or a second one that is not
            first = p[i + 2 : i + 3]
            raise re.error("Illegal hexadecimal escape sequence", p, i + 3 if first and first in _HEX else i + 2)
        return _in_class(_literal(m.group(0))), False, i + len(m.group(0))
    if e == "u":
        m = re.match(r"\\u[0-9a-fA-F]{4}", p[i:])
        if m is None:  # Java names the first character that is not one of four hex digits
            four = p[i + 2 : i + 6]
            raise re.error("Illegal Unicode escape sequence", p, i + 2 + len(four) - len(four.lstrip(_HEX)))
        return _in_class(_literal(m.group(0))), False, i + 6
    if e == "0":
        m = re.match(r"\\0([0-3]?[0-7]{1,2}|[0-7])", p[i:])
        if m is None:
            raise re.error("Illegal octal escape sequence", p, i + 2)
        return _in_class(_literal(m.group(0))), False, i + len(m.group(0))
    if e == "c":
        if i + 2 >= len(p):
            raise re.error("Illegal control escape sequence", p, i)
        return _in_class(chr(ord(p[i + 2]) ^ 64)), False, i + 3
    if e.isalpha() or e in "123456789":  # a back reference has no place in a class
        raise re.error("Illegal/unsupported escape sequence", p, i + 1)
    return _in_class(e), False, i + 2


_HEX = "0123456789abcdefABCDEF"


def _in_class(ch: str) -> str:
    return "\\" + ch if ch in "\\]^-[" else re.escape(ch) if not ch.isalnum() and ch.isprintable() else ch


def _py_flags(java: str) -> str:
    """Java's inline flags as Python's: i, m, s and x have their meaning; d, u and U have no Python form and are
    left out (Unix lines only change what `.` and `$` take at \\r; Unicode case only letters beyond ASCII)."""
    return "".join(f for f in java if f in "imsx")


def java_to_python(pattern: str) -> str:
    """The Python re source of a java.util.regex pattern (see the module's text); re.error where it has none."""
    return _Translator(remove_qe_quoting(pattern)).run()


def remove_qe_quoting(p: str) -> str:
    """Pattern.RemoveQEQuoting: the pattern with each `\\Q...\\E` written as escaped characters, as Java parses it
    (and counts the indexes of its errors in)."""
    start = p.find("\\Q")
    while start > 0 and _escaped(p, start):
        start = p.find("\\Q", start + 1)
    if start < 0:
        return p
    out, i, n = [p[:start]], start + 2, len(p)
    quoting = begin = True
    while i < n:
        c = p[i]
        i += 1
        if not c.isascii() or c.isalpha():
            out.append(c)
        elif c.isdigit():
            out.append("\\x3" + c if begin else c)  # not read as part of an escape before the quote
        elif c != "\\":
            out.append("\\" + c if quoting else c)
        elif quoting:
            if p.startswith("E", i):
                i += 1
                quoting = False
            else:
                out.append("\\\\")
        elif p.startswith("Q", i):
            i += 1
            quoting = begin = True
            continue
        else:
            out.append(p[i - 1 : i + 1])
            i += 1
        begin = False
    return "".join(out)


def _escaped(p: str, at: int) -> bool:
    """Whether the backslash at p[at] is the second of an escaped one (Java scans escapes two characters at a
    time)."""
    i = 0
    while i < at:
        i += 2 if p[i] == "\\" else 1
    return i != at


def compile_java(pattern: str) -> re.Pattern[str]:
    """Compiles a Java regex; re.error when it is not valid, its text PatternSyntaxException's: what is wrong, near
    which index, the pattern and a caret under that index."""
    unquoted = remove_qe_quoting(pattern)
    try:
        source = _Translator(unquoted).run()
    except re.error as e:
        raise re.error(java_error_text(e.msg, pattern, e.pos or 0)) from None
    return re.compile(source)


def java_error_text(desc: str, pattern: str, index: int) -> str:
    """PatternSyntaxException.getMessage()."""
    text = f"{desc} near index {index}\n{pattern}" if index >= 0 else f"{desc}\n{pattern}"
    if 0 <= index < len(pattern):
        text += "\n" + "".join("\t" if c == "\t" else " " for c in pattern[:index]) + "^"
    return text


def java_replacement(replacement: str) -> Callable[[re.Match[str]], str]:
    """Matcher.appendReplacement's reading of a replacement string, as a function of the match: `$n` takes as many
    digits as name a group of the pattern, `${name}` a named group; an unknown group is Java's error."""
    parts: list[str | tuple[str, str]] = []  # text, ("digits", "12...") or ("name", name)
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
                parts.append(("name", replacement[i + 1 : end]))
                i = end + 1
            elif replacement[i].isdigit():
                m = re.match(r"\d+", replacement[i:])
                assert m is not None
                parts.append(("digits", m.group(0)))
                i += len(m.group(0))
            else:
                raise ValueError("Illegal group reference")
        else:
            text.append(c)
            i += 1
    if text:
        parts.append("".join(text))

    def expand(m: re.Match[str]) -> str:
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            kind, ref = part
            if kind == "name":
                if ref not in m.re.groupindex:
                    raise ValueError(f"No group with name {{{ref}}}")
                out.append(m.group(ref) or "")
                continue
            group, used = int(ref[0]), 1  # the first digit always, then more while they name a group
            while used < len(ref) and group * 10 + int(ref[used]) <= m.re.groups:
                group, used = group * 10 + int(ref[used]), used + 1
            if group > m.re.groups:
                raise IndexError(f"No group {group}")
            out.append((m.group(group) or "") + ref[used:])
        return "".join(out)

    return expand


def regex_validator(null_fails: bool = True):
    """Kafka's RegexValidator: `Invalid regex: <message>`; `null_fails`: a null value is its NullPointerException (the
    transforms' validator), else valid (SinkConnectorConfig's `topics.regex`)."""

    def check(v: object) -> str | None:
        try:
            compile_java(str(v))
        except re.error as e:
            return f"Invalid regex: {e}"
        return None

    validator = custom(check, "valid regex")
    if null_fails:  # Kafka's Pattern.compile(null) fails with this NullPointerException text
        validator.null_reason = (  # type: ignore[attr-defined]
            'Invalid regex: Cannot invoke "String.isEmpty()" because "this.pattern" is null'
        )
    return validator
