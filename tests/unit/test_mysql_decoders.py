"""The MariaDB/MySQL DATETIME decoder gives exactly what PyMySQL's convert_datetime gives, for the server's usual
text and for every odd value (zero dates, impossible days, offsets, other shapes)."""

from __future__ import annotations

import datetime as dt

import pytest
from miniconnect_plugins.jdbc.mysql_decoders import DECODERS, decode_datetime
from pymysql.constants import FIELD_TYPE
from pymysql.converters import convert_datetime

TEXTS = [
    "2024-01-01 00:00:00",
    "2024-01-01 00:00:00.123",
    "2024-01-01 23:59:59.999999",
    "2024-01-01 00:00:00.5",
    "1000-01-01 00:00:00.000001",
    "9999-12-31 23:59:59",
    "0000-00-00 00:00:00",
    "2024-00-10 00:00:00",
    "2024-02-31 00:00:00",
    "2024-01-01 24:00:00",
    "2024-01-01 00:00:00.1234567",
    "2024-01-01 00:00:00,5",
    "2024-01-01 00:00:00.",
    "2024-01-01 00:00:00.12a",
    "2024-01-01 00:00:00.1Z",
    "2024-01-01 00:00:00.123+01:00",
    "2024-01-01 00:00:00+01:00",
    "2024-01-01 00:00:00Z",
    "2024-01-01T00:00:00",
    "2024-01-01",
    "2024-1-1 0:0:0",
    "not a datetime at all",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_same_as_pymysql(text: str) -> None:
    expected = convert_datetime(text)
    got = decode_datetime(text)
    assert got == expected and type(got) is type(expected)


def test_every_instant_of_a_range_the_same() -> None:
    start = dt.datetime(1969, 12, 31, 23, 59, 58)
    for i in range(2000):
        value = start + dt.timedelta(seconds=i * 3607, microseconds=i * 999_983 % 1_000_000)
        for text in (value.isoformat(" "), value.isoformat(" ", "milliseconds"), value.isoformat(" ", "seconds")):
            assert decode_datetime(text) == convert_datetime(text)


def test_used_for_datetime_and_timestamp_columns_only() -> None:
    assert DECODERS[FIELD_TYPE.DATETIME] is decode_datetime
    assert DECODERS[FIELD_TYPE.TIMESTAMP] is decode_datetime
    assert DECODERS[FIELD_TYPE.DATE] is not decode_datetime
