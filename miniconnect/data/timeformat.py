"""java.text.SimpleDateFormat patterns in UTC (Locale.ROOT/English names), formatting and parsing epoch millis, for
TimestampConverter, TimestampRouter and Cast. Covers the letters G y Y M L d D E u a H k K h m s S z Z X and quoted
text; week-based fields (w, W, F) are refused."""

from __future__ import annotations

import datetime as dt
import re

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_LETTERS = set("GyYMLdDEuaHkKhmsSzZX")


def _tokens(pattern: str) -> list[tuple[str, str | int]]:
    """("lit", text) and (letter, count) pieces of a pattern; raises ValueError as Java's IllegalArgumentException."""
    out: list[tuple[str, str | int]] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "'":
            if i + 1 < n and pattern[i + 1] == "'":
                out.append(("lit", "'"))
                i += 2
                continue
            j = i + 1
            text = []
            while True:
                if j >= n:
                    raise ValueError("Unterminated quote")
                if pattern[j] == "'":
                    if j + 1 < n and pattern[j + 1] == "'":
                        text.append("'")
                        j += 2
                        continue
                    break
                text.append(pattern[j])
                j += 1
            out.append(("lit", "".join(text)))
            i = j + 1
        elif c.isascii() and c.isalpha():
            if c not in _LETTERS:
                raise ValueError(f"Illegal pattern character '{c}'")
            j = i
            while j < n and pattern[j] == c:
                j += 1
            out.append((c, j - i))
            i = j
        else:
            out.append(("lit", c))
            i += 1
    return out


def _week_year(t: dt.datetime) -> int:
    """Calendar.getWeekYear with the weeks of an English default locale (Kafka workers' usual one): weeks start on
    Sunday and the week holding January 1st is the first, so the last days of December may be next year's."""
    to_saturday = 6 if t.weekday() == 6 else 5 - t.weekday()  # Python's weeks start on Monday
    to_new_year = (dt.date(t.year, 12, 31) - t.date()).days + 1
    return t.year + 1 if to_saturday >= to_new_year else t.year


def _numeric(kind: str, count: str | int) -> bool:
    return kind in "yYdDuHkKhmsS" or (kind in "ML" and int(count) < 3)


class SimpleDateFormat:
    def __init__(self, pattern: str):
        self.pattern = pattern
        self.tokens = _tokens(pattern)  # ValueError: Java's IllegalArgumentException (its text)
        self._regex: re.Pattern[str] | None = None

    # -- format ------------------------------------------------------------------------------------------------
    def format(self, millis: int) -> str:
        t = _EPOCH + dt.timedelta(milliseconds=millis)
        out = []
        for kind, count in self.tokens:
            if kind == "lit":
                out.append(str(count))
                continue
            n = int(count)
            out.append(self._field(kind, n, t))
        return "".join(out)

    @staticmethod
    def _num(v: int, n: int) -> str:
        return str(v).zfill(n) if v >= 0 else "-" + str(-v).zfill(n)

    def _field(self, kind: str, n: int, t: dt.datetime) -> str:
        if kind == "G":
            return "AD" if t.year > 0 else "BC"
        if kind in "yY":
            year = t.year if kind == "y" else _week_year(t)
            return self._num(year % 100, 2) if n == 2 else self._num(year, n)
        if kind in "ML":
            if n >= 4:
                return _MONTHS[t.month - 1]
            if n == 3:
                return _MONTHS[t.month - 1][:3]
            return self._num(t.month, n)
        if kind == "d":
            return self._num(t.day, n)
        if kind == "D":
            return self._num(t.timetuple().tm_yday, n)
        if kind == "E":
            name = _DAYS[t.weekday()]
            return name if n >= 4 else name[:3]
        if kind == "u":
            return self._num(t.isoweekday(), n)
        if kind == "a":
            return "AM" if t.hour < 12 else "PM"
        if kind == "H":
            return self._num(t.hour, n)
        if kind == "k":
            return self._num(t.hour or 24, n)
        if kind == "K":
            return self._num(t.hour % 12, n)
        if kind == "h":
            return self._num(t.hour % 12 or 12, n)
        if kind == "m":
            return self._num(t.minute, n)
        if kind == "s":
            return self._num(t.second, n)
        if kind == "S":
            return self._num(t.microsecond // 1000, n)
        if kind == "z":
            return "Coordinated Universal Time" if n >= 4 else "UTC"
        if kind == "Z":
            return "+0000"
        return "Z"  # X in UTC

    # -- parse -------------------------------------------------------------------------------------------------
    def parse(self, text: str) -> int:
        """Epoch millis of text (UTC); ValueError when it does not match."""
        if self._regex is None:
            nexts = self.tokens[1:] + [("lit", "")]
            self._regex = re.compile(
                "".join(self._part(k, c, _numeric(*after)) for (k, c), after in zip(self.tokens, nexts))
            )
        m = self._regex.match(text)
        if m is None:
            raise ValueError(text)
        g = m.groupdict()
        year = int(g.get("y") or g.get("Y") or 1970)
        if (
            (g.get("y") or g.get("Y"))
            and self._count("y") + self._count("Y") <= 2
            and len(g.get("y") or g.get("Y") or "") <= 2
        ):
            # two-digit years: within 80 years before and 20 after now, as SimpleDateFormat's default start
            year += 2000
            if year > dt.date.today().year + 20:
                year -= 100
        month = 1
        if g.get("M"):
            mt = g["M"]
            month = int(mt) if mt.isdigit() else [x[:3].lower() for x in _MONTHS].index(mt[:3].lower()) + 1
        day = int(g.get("d") or 1)
        hour = 0
        if g.get("H") is not None:
            hour = int(g["H"])
        elif g.get("k") is not None:
            hour = int(g["k"]) % 24
        elif g.get("h") is not None or g.get("K") is not None:
            hour = int(g.get("h") or g.get("K") or 0) % 12
            if (g.get("a") or "").upper() == "PM":
                hour += 12
        minute, second = int(g.get("m") or 0), int(g.get("s") or 0)
        millis = int(g.get("S") or 0)
        offset = 0
        zone = g.get("Z") or g.get("X")
        if zone and zone not in ("Z", "UTC"):
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            offset = sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0))
        # lenient, as Java's default: out-of-range fields roll over
        months = (year - 1) * 12 + month - 1
        base = dt.datetime(months // 12 + 1, months % 12 + 1, 1, tzinfo=dt.UTC)
        if g.get("D") and not g.get("M") and not g.get("d"):
            base = dt.datetime(year, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=int(g["D"]) - 1)
            day = 1
        t = base + dt.timedelta(days=day - 1, hours=hour, minutes=minute - offset, seconds=second, milliseconds=millis)
        delta = t - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000

    def _count(self, letter: str) -> int:
        return next((int(c) for k, c in self.tokens if k == letter), 0)

    def _part(self, kind: str, count: str | int, abutting: bool = False) -> str:
        """The regex of one pattern field; a numeric field followed by another takes exactly its count of
        digits, as SimpleDateFormat parses abutting fields ("yyyyMMdd")."""
        if kind == "lit":
            return re.escape(str(count))
        n = int(count)
        if kind in "GaEz" or (kind in "ML" and n >= 3):
            group = {"G": "AD|BC", "a": "AM|PM|am|pm", "E": "[A-Za-z]+", "z": "[A-Za-z ]+"}.get(kind, "[A-Za-z]+")
            return f"(?P<{'M' if kind in 'ML' else kind}>{group})" if kind not in "GE" else f"(?:{group})"
        if kind in "ZX":
            return f"(?P<{kind}>Z|[+-]\\d{{2}}:?\\d{{2}}|[+-]\\d{{2}})"
        name = "M" if kind == "L" else kind
        if kind == "u":
            return "(?:\\d+)"
        if abutting and _numeric(kind, n):
            return f"(?P<{name}>\\d{{{n}}})"
        if kind in "yY":
            return f"(?P<{name}>-?\\d+)"
        # a field written with n > 1 letters takes at most n digits (2 at least), so that adjacent fields split
        return f"(?P<{name}>\\d{{1,{max(n, 2) if n > 1 else 9}}})"
