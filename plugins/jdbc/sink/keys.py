"""Keys as PostgreSQL's unique indexes compare them, for grouping a put's records by key in Python: every NaN is
equal to every other (double precision, real and numeric NaN sort above all numbers and equal each other), where
Python's NaN equals nothing, not even itself, and hashes by identity. -0.0 == 0.0 holds in both already."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

NAN = ("NaN",)  # stands for every NaN: hashable, equal to itself
_NAN_TYPES = ("double precision", "real", "numeric")


def nan_possible(db_types: Iterable[str]) -> bool:
    """Whether key columns of these PostgreSQL types can hold NaN (else keys need no pg_key, which costs a call per
    row)."""
    return any(t.startswith(_NAN_TYPES) for t in db_types)


def pg_key(key: Any) -> Any:
    """key (a value, or a tuple of a composite key's values) with each float or Decimal NaN replaced by NAN."""
    if key.__class__ is tuple:
        return tuple(map(_value, key)) if any(map(_is_nan, key)) else key
    return NAN if _is_nan(key) else key


def _is_nan(v: Any) -> bool:
    return (v.__class__ is float and v != v) or (isinstance(v, Decimal) and v.is_nan())


def _value(v: Any) -> Any:
    return NAN if _is_nan(v) else v
