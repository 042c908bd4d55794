"""Multi-row `INSERT ... VALUES` statements for MySQL/MariaDB, with the rows' literals made a column at a time.

aiomysql's executemany escapes every value through Python calls (Connection.escape, escape_item, the encoder), which
took a third of a sink worker's CPU. Here the rows are formatted by one C-level `%` per row with a template whose
fields suit each column: a column of strings (the usual JSON payload) is escaped as a whole, by C-level operations
on the column joined into one string (PyMySQL's escape_string replacements, or the server's NO_BACKSLASH_ESCAPES
rule), and quoted by the template; a column of integers goes as it is; any other column (NULLs, floats, dates,
...) is made literals first, strings and integers again a column at a time, the rest value by value through the
`escape` given (the writer's SqlText.literal). Every literal is the one aiomysql would have sent. Rows are then
grouped into statements of at most `max_chars` characters, as aiomysql's max_stmt_length does (a larger row goes
alone). The escaping rule itself is sqltext's (MYSQL_ESCAPES, SqlText.no_backslash_escapes), applied here a
column at a time.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate, repeat
from typing import Any

from ..sqltext import MYSQL_ESCAPES as _ESCAPES

_REPLACEMENTS = tuple((chr(c), e) for c, e in sorted(_ESCAPES.items(), key=lambda ce: ce[0] != ord("\\")))
_PLAIN_REPLACEMENTS = (("'", "''"),)  # sql_mode NO_BACKSLASH_ESCAPES
_SEP = "\x01"
_NONE = type(None)
_STR, _INT = {str}, {int}


def _escaped(col: Sequence[str], no_backslash_escapes: bool) -> Sequence[str]:
    """Strings escaped for a quoted literal (the column itself when none needs it), made on the column joined into
    one string: C-level scans and replaces over it and one split (a Python call per value, or str.translate,
    costs several times more)."""
    joined = _SEP.join(col)
    replacements = _PLAIN_REPLACEMENTS if no_backslash_escapes else _REPLACEMENTS
    if not any(char in joined for char, _ in replacements):
        return col
    if joined.count(_SEP) != len(col) - 1:  # the separator occurs in the values themselves: one by one
        return [v.replace("'", "''") if no_backslash_escapes else v.translate(_ESCAPES) for v in col]
    for char, escaped in replacements:
        if char in joined:  # the backslash first: the other replacements add backslashes of their own
            joined = joined.replace(char, escaped)
    return joined.split(_SEP)


def _literals(
    col: Sequence[Any], kinds: set[type], escape: Callable[[Any], str], no_backslash_escapes: bool
) -> list[str]:
    """The SQL literal of each value of a column that is not all strings or all integers."""
    plain = kinds - {_NONE}
    if plain == _STR:
        present = [v for v in col if v is not None]
        it = iter(_escaped(present, no_backslash_escapes))
        return ["NULL" if v is None else "'" + next(it) + "'" for v in col]
    if plain == _INT:  # exactly int: bool is an int subclass that MySQL wants as 1/0 (escape does that)
        return ["NULL" if v is None else int.__repr__(v) for v in col]
    if not plain:
        return ["NULL"] * len(col)
    return list(map(escape, col))


def values_statements(
    prefix: str,
    suffix: str,
    rows: Sequence[Sequence[Any]],
    escape: Callable[[Any], str],
    no_backslash_escapes: bool,
    max_chars: int,
) -> Iterator[str]:
    """`prefix (row),(row),... suffix` statements holding every row once, in order, each of at most max_chars
    characters unless a single row is longer. Every literal is the one `escape` (aiomysql's Connection.escape)
    would write. A column of strings goes into the row template's quotes, a column of integers as it is; other
    columns are made literals first."""
    if not rows:
        return
    columns = list(zip(*rows))
    fields = []
    changed = False
    for i, col in enumerate(columns):
        kinds = set(map(type, col))
        if kinds == _STR:
            fields.append("'%s'")
            escaped = _escaped(col, no_backslash_escapes)
            if escaped is not col:
                columns[i], changed = escaped, True
        elif kinds == _INT:
            fields.append("%s")
        else:
            fields.append("%s")
            columns[i], changed = _literals(col, kinds, escape, no_backslash_escapes), True
    template = "(" + ",".join(fields) + ")"
    source = zip(*columns) if changed else map(tuple, rows)  # rows may be lists, or tuples and lists mixed
    tuples = list(map(template.__mod__, source))
    body = ",".join(tuples)
    if len(prefix) + len(body) + len(suffix) <= max_chars:
        yield prefix + body + suffix
        return
    budget = max_chars - len(prefix) - len(suffix)
    # ends[i]: the characters of the rows before i, each with the comma after it; rows lo..hi-1 take
    # ends[hi] - ends[lo] - 1 characters
    ends = list(accumulate(map(int.__add__, map(len, tuples), repeat(1)), initial=0))
    lo = 0
    while lo < len(tuples):
        hi = max(lo + 1, bisect_right(ends, ends[lo] + budget + 1) - 1)
        yield prefix + ",".join(tuples[lo:hi]) + suffix
        lo = hi
