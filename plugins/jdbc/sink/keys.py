"""Keys as PostgreSQL's unique indexes compare them, for grouping a put's records by key in Python: every NaN is
equal to every other (double precision, real and numeric NaN sort above all numbers and equal each other), where
Python's NaN equals nothing, not even itself, and hashes by identity. -0.0 == 0.0 holds in both already."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .writer import TableInfo

NAN = ("NaN",)  # stands for every NaN: hashable, equal to itself
_NAN_TYPES = ("double precision", "real", "numeric")


def nan_possible(info: TableInfo | None, key_columns: Iterable[str]) -> bool:
    """Whether the table's key columns can hold NaN (double precision, real, numeric; unknown: maybe); if not, keys
    need no pg_key, which costs a call per row."""
    if info is None:
        return True
    return any(info.columns.get(info.find(c) or c, "").startswith(_NAN_TYPES) for c in key_columns)


def pg_key(key: Any) -> Any:
    """key (a value, or a tuple of a composite key's values) with each float or Decimal NaN replaced by NAN."""
    if key.__class__ is tuple:
        return tuple(map(_value, key)) if any(map(_is_nan, key)) else key
    return NAN if _is_nan(key) else key


def _is_nan(v: Any) -> bool:
    return (v.__class__ is float and v != v) or (isinstance(v, Decimal) and v.is_nan())


def _value(v: Any) -> Any:
    return NAN if _is_nan(v) else v
