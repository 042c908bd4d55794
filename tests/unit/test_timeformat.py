"""SimpleDateFormat patterns in UTC, as TimestampConverter and TimestampRouter use them (the differential test
checks formatting against Kafka's own; these check parsing of what Java parses)."""

from __future__ import annotations

import datetime as dt

import pytest

from miniconnect.data.timeformat import SimpleDateFormat


def millis(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    "pattern, text, expected",
    [
        ("yyyyMMdd", "20240102", millis(2024, 1, 2)),  # abutting fields take their widths
        ("yyyyMMddHHmmssSSS", "20240102101112123", millis(2024, 1, 2, 10, 11, 12) + 123),
        ("yyyy-MM-dd HH:mm:ss", "2024-1-2 3:04:05", millis(2024, 1, 2, 3, 4, 5)),
        ("dd/MM/yy", "31/12/99", millis(1999, 12, 31)),  # two-digit years: 80 back, 20 ahead
        ("dd/MM/yy", "01/02/24", millis(2024, 2, 1)),
        ("EEE, d MMM yyyy HH:mm:ss Z", "Tue, 2 Jan 2024 10:11:12 +0100", millis(2024, 1, 2, 9, 11, 12)),
        ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2024-01-02T10:11:12.500-02:30", millis(2024, 1, 2, 12, 41, 12) + 500),
        ("hh:mm a, MMMM d yyyy", "07:05 PM, March 9 2021", millis(2021, 3, 9, 19, 5)),
        ("yyyy-MM-dd", "2024-13-01", millis(2025, 1, 1)),  # lenient, as Java's default
    ],
)
def test_parse(pattern: str, text: str, expected: int) -> None:
    assert SimpleDateFormat(pattern).parse(text) == expected


def test_format_and_refusals() -> None:
    t = millis(2024, 3, 9, 19, 5, 7) + 42
    assert SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").format(t) == "2024-03-09T19:05:07.042Z"
    assert SimpleDateFormat("EEEE, MMMM d ''yy h:mm a z").format(t) == "Saturday, March 9 '24 7:05 PM UTC"
    assert SimpleDateFormat("D k K").format(t) == "69 19 7"
    with pytest.raises(ValueError):
        SimpleDateFormat("yyyy-MM-dd").parse("not a date")
    with pytest.raises(ValueError, match="^Illegal pattern character 'q'$"):  # Java's IllegalArgumentException
        SimpleDateFormat("yyyy-qq")
    # week years as an English default locale counts them: the week of January 1st is the new year's first
    assert SimpleDateFormat("YYYY yyyy E").format(millis(2023, 12, 31, 23, 59, 59)) == "2024 2023 Sun"
    assert SimpleDateFormat("YY yy").format(millis(2023, 12, 30)) == "23 23"
    assert SimpleDateFormat("YYYY").format(millis(1969, 12, 31)) == "1970"
