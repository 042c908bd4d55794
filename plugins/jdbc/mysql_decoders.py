"""PyMySQL's result decoders for aiomysql connections, with DATETIME and TIMESTAMP values read by the C parser.

PyMySQL parses each of them with a regular expression and Python arithmetic (convert_datetime): a fifth of a MariaDB
source task's driver time on a table with a datetime column. The server writes them as 'YYYY-MM-DD hh:mm:ss[.ffffff]',
which datetime.fromisoformat reads to the same value; anything else (zero dates, impossible days, other shapes) goes
to PyMySQL's own function, which returns what it always did.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pymysql.constants import FIELD_TYPE
from pymysql.converters import convert_datetime, decoders

_fromisoformat = dt.datetime.fromisoformat


def decode_datetime(value: str | bytes) -> Any:
    """convert_datetime's result, by datetime.fromisoformat for the server's usual text."""
    if isinstance(value, str) and 19 <= len(value) <= 26 and value[10] == " " and value[19:20] in ("", "."):
        try:
            parsed = _fromisoformat(value)
        except ValueError:
            return convert_datetime(value)
        if parsed.tzinfo is None:
            return parsed
    return convert_datetime(value)


DECODERS = {**decoders, FIELD_TYPE.DATETIME: decode_datetime, FIELD_TYPE.TIMESTAMP: decode_datetime}
