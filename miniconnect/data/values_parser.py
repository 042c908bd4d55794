"""Values.parseString of Kafka 4.1: the schema and value a text stands for (SimpleHeaderConverter's reading of a
header, InsertHeader's literal). Ported from org.apache.kafka.connect.data.Values (ValueParser, Parser,
SchemaMerger), including its quirks: a top-level value that is not one token is a string, a number followed by
other tokens is the number, out-of-range integers become Decimals."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import struct
from typing import Any

from .schema import (
    BOOLEAN_SCHEMA,
    DATE,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    STRING_SCHEMA,
    TIME,
    TIMESTAMP,
    DataError,
    Schema,
    Type,
    date_schema,
    days_to_date,
    decimal_schema,
    millis_to_time,
    millis_to_timestamp,
    time_schema,
    timestamp_schema,
)
from .timeformat import SimpleDateFormat

SchemaAndValue = tuple[Schema | None, Any]
_DELIMITERS = frozenset(':,{}[]"')
_TEMPORALS = (  # by the length of the text, as ValueParser.parseAsTemporal
    (13, "time", SimpleDateFormat("HH:mm:ss.SSS'Z'")),
    (24, "timestamp", SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")),
    (10, "date", SimpleDateFormat("yyyy-MM-dd")),
)
_JAVA_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DELIMITER_IN = re.compile(r'[:,{}\[\]"]')
_JAVA_INTEGER = re.compile(r"[+-]?\d+")
_JAVA_WHITESPACE = "".join(map(chr, range(33)))  # what Java's String.trim removes
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1
_DAY = 86_400_000
_NUMERIC_ORDER = (Type.INT8, Type.INT16, Type.INT32, Type.INT64, Type.FLOAT32, Type.FLOAT64)


def parse_string(text: str | None) -> SchemaAndValue:
    """Values.parseString: (schema, value); (None, None) for null or the text "null"."""
    if text is None:
        return None, None
    if not text:
        return STRING_SCHEMA, text
    if _DELIMITER_IN.search(text) is None:  # one token: what most header values are, decided without the parser
        return _single_token(text)
    parsed = _ValueParser(_Parser(text)).parse(False)
    return (None, None) if parsed is None else parsed


def _single_token(text: str) -> SchemaAndValue:
    """ValueParser.parse(false) of a text without delimiters, as it would go."""
    token = text.strip(_JAVA_WHITESPACE)
    if token == "null":
        return None, None
    if token in ("true", "false"):
        return BOOLEAN_SCHEMA, token == "true"
    if not token:
        return STRING_SCHEMA, text
    first = token[0]
    if first.isdigit() and len(token) == 10:
        temporal = _as_temporal(token)
        if temporal is not None:
            return temporal
    if first.isdigit() or first in "+-":
        if len(token) < 19 and _JAVA_INTEGER.fullmatch(token):
            return _integer(int(token))
        number = _as_number(token)
        if number is not None:
            return number
    return STRING_SCHEMA, text


class _Parser:
    """Values.Parser: tokens split at unescaped : , { } [ ] and quotes, one-token look-ahead."""

    def __init__(self, original: str):
        self.original = original
        self.pos = 0
        self.next_token: str | None = None
        self.previous: str | None = None

    def mark(self) -> int:
        return self.pos - (len(self.next_token) if self.next_token is not None else 0)

    def rewind_to(self, position: int) -> None:
        self.pos, self.next_token, self.previous = position, None, None

    def has_next(self) -> bool:
        return self.next_token is not None or self.pos < len(self.original)

    def next(self) -> str:
        if self.next_token is not None:
            self.previous, self.next_token = self.next_token, None
        else:
            self.previous = self._consume()
        return self.previous

    def next_n(self, n: int) -> str | None:
        start = self.mark()
        for _ in range(n):
            if not self.has_next():
                self.rewind_to(start)
                return None
            self.next()
        return self.original[start : self.pos]

    def _consume(self) -> str:
        s, start, escaped = self.original, self.pos, False
        while self.pos < len(s):
            c = s[self.pos]
            if c == "\\":
                escaped = not escaped
            elif c in _DELIMITERS:
                if not escaped:
                    if start < self.pos:
                        return s[start : self.pos]
                    self.pos += 1
                    return s[start : start + 1]
                escaped = False
            else:
                escaped = False
            self.pos += 1
        return s[start : self.pos]

    def can_consume(self, expected: str) -> bool:
        if self._is_next(expected):
            self.next_token = None
            return True
        return False

    def _is_next(self, expected: str) -> bool:
        if self.next_token is None:
            if not self.has_next():
                return False
            self.next_token = self._consume()
        while _blank(self.next_token) and self.pos < len(self.original):
            self.next_token = self._consume()
        return self.next_token.strip(_JAVA_WHITESPACE) == expected


class _ValueParser:
    def __init__(self, parser: _Parser):
        self.parser = parser

    def _single_token_literal(self, embedded: bool, literal: str) -> bool:
        start = self.parser.mark()
        if self.parser.can_consume(literal) and (embedded or not self.parser.has_next()):
            return True
        self.parser.rewind_to(start)
        return False

    def parse(self, embedded: bool) -> SchemaAndValue | None:
        p = self.parser
        if not p.has_next():
            return None
        if embedded and p.can_consume('"'):
            return self._quoted_string()
        if self._single_token_literal(embedded, "null"):
            return None
        if self._single_token_literal(embedded, "true"):
            return BOOLEAN_SCHEMA, True
        if self._single_token_literal(embedded, "false"):
            return BOOLEAN_SCHEMA, False
        start = p.mark()
        try:
            if p.can_consume("["):
                return self._array()
            if p.can_consume("{"):
                return self._map()
        except DataError:
            p.rewind_to(start)
        token = p.next()
        if _blank(token):
            return STRING_SCHEMA, token
        return self._next_token(embedded, token.strip(_JAVA_WHITESPACE))

    def _next_token(self, embedded: bool, token: str) -> SchemaAndValue:
        first = token[0]
        if first.isdigit():
            temporal = self._multiple_tokens_as_temporal(token)
            if temporal is not None:
                return temporal
        if first.isdigit() or first in "+-":
            number = _as_number(token)
            if number is not None:
                return number
        if embedded:
            raise DataError("Failed to parse embedded value")
        return STRING_SCHEMA, self.parser.original

    def _quoted_string(self) -> SchemaAndValue:
        parts = []
        while self.parser.has_next():
            if self.parser.can_consume('"'):
                break
            parts.append(self.parser.next())
        content = "".join(parts)
        return _as_temporal(content) or (STRING_SCHEMA, content)

    def _array(self) -> SchemaAndValue:
        p, result, merger = self.parser, [], _SchemaMerger()
        while p.has_next():
            if p.can_consume("]"):
                if merger.common is None:
                    return Schema(Type.ARRAY, value_schema=None), result
                return Schema.array(merger.common), [_align(merger.common, v) for v in result]
            if p.can_consume(","):
                raise DataError(f"Unable to parse an empty array element: {p.original}")
            element = self.parse(True)
            merger.merge(element)
            result.append(_own(element))
            position = p.mark()
            if p.can_consume("]"):
                p.rewind_to(position)
            elif not p.can_consume(","):
                raise DataError("Array elements missing ',' delimiter")
        if p.previous == ",":
            raise DataError(f"Array is missing element after ',': {p.original}")
        raise DataError(f"Array is missing terminating ']': {p.original}")

    def _map(self) -> SchemaAndValue:
        p, result = self.parser, {}
        keys, values = _SchemaMerger(), _SchemaMerger()
        while p.has_next():
            if p.can_consume("}"):
                if keys.common is not None and values.common is not None:
                    schema = Schema.map(keys.common, values.common)
                    return schema, {_align(keys.common, k): _align(values.common, v) for k, v in result.items()}
                if keys.common is not None:
                    schema = Schema(Type.MAP, key_schema=keys.common, value_schema=None)
                    return schema, {_align(keys.common, k): v for k, v in result.items()}
                return Schema(Type.MAP, key_schema=None, value_schema=None), result
            if p.can_consume(","):
                raise DataError(f"Unable to parse a map entry with no key or value: {p.original}")
            key = self.parse(True)
            if key is None or key[1] is None:
                raise DataError(f"Map entry may not have a null key: {p.original}")
            if not p.can_consume(":"):
                raise DataError(f"Map entry is missing ':' at {p.pos} in {p.original}")
            value = self.parse(True)
            k = _hashable(_own(key))
            if k in result and next(x for x in result if x == k).__class__ is not k.__class__:
                raise DataError("map keys Java holds apart and Python equal (false and 0, 1 and 1.0)")
            result[k] = _own(value)
            p.can_consume(",")
            keys.merge(key)
            values.merge(value)
        if p.previous == ",":
            raise DataError(f"Map is missing element after ',': {p.original}")
        raise DataError(f"Map is missing terminating '}}': {p.original}")

    def _multiple_tokens_as_temporal(self, token: str) -> SchemaAndValue | None:
        # a time or timestamp is split into 5 tokens at its unescaped colons
        position = self.parser.mark()
        remainder = self.parser.next_n(4)
        if remainder is not None:
            temporal = _as_temporal(token + remainder)
            if temporal is not None:
                return temporal
        self.parser.rewind_to(position)
        return _as_temporal(token)


class _SchemaMerger:
    """Values.SchemaMerger: the schema common to a list's elements (or a map's keys or values), None if none."""

    def __init__(self) -> None:
        self.common: Schema | None = None
        self.compatible = True

    def merge(self, latest: SchemaAndValue | None) -> None:
        if latest is None or latest[0] is None or not self.compatible:
            return
        if self.common is None:
            self.common = latest[0]
        else:
            self.common = _merge_schemas(self.common, latest[0])
            self.compatible = self.common is not None


def _merge_schemas(previous: Schema, new: Schema) -> Schema | None:
    if previous.type != new.type:
        if previous.type in _NUMERIC_ORDER and new.type in _NUMERIC_ORDER:
            return previous if _NUMERIC_ORDER.index(previous.type) > _NUMERIC_ORDER.index(new.type) else new
        return None
    if previous.optional == new.optional:
        return previous if previous.optional else new
    return previous if previous == new else None


def _align(schema: Schema, value: Any) -> Any:
    """Values.convertTo(schema, null, value) for what a parsed list or map can hold: numbers widened; a number
    made the common Timestamp, Date or Time (as Java's Date of those millis); a temporal value for a numeric common
    schema, or a null where it requires a value, fails (the text is then a string)."""
    if value is None:
        if not schema.optional:
            raise DataError("Unable to convert a null value to a schema that requires a value")
        return value
    name, t = schema.name, schema.type
    if name in (TIMESTAMP, DATE, TIME):
        if isinstance(value, (dt.date, dt.time)):
            return value  # no schema to convert from: as it is
        n = _as_long(value)
        if name == TIMESTAMP:
            return millis_to_timestamp(n)
        n = _int32(n)
        if name == DATE:
            return millis_to_timestamp(n * _DAY)  # a java.util.Date of those days' millis
        if not 0 <= n <= _DAY:
            raise DataError("Time values must use number of milliseconds greater than 0 and less than 86400000")
        return millis_to_time(n % _DAY) if n < _DAY else millis_to_timestamp(n)
    if name is not None or isinstance(value, bool) or t not in _NUMERIC_ORDER:
        return value
    if t in (Type.FLOAT32, Type.FLOAT64):
        d = float(_as_double(value))
        return _float32(d) if t == Type.FLOAT32 else d
    return _as_long(value)


def _as_long(value: Any) -> int:
    """Values.asLong without a schema: a number's longValue, else Java's error."""
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        raise DataError(f"Unable to convert {value} to a number")
    if isinstance(value, float):
        if math.isnan(value):
            return 0
        if math.isinf(value):
            return _LONG_MAX if value > 0 else _LONG_MIN
        return max(_LONG_MIN, min(_LONG_MAX, int(value)))  # (long) of a double saturates
    return (int(value) + (1 << 63)) % (1 << 64) - (1 << 63)  # BigDecimal.longValue: the low 64 bits


def _as_double(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        raise DataError(f"Unable to convert {value} to a number")
    return float(value)


def _int32(n: int) -> int:
    return (n + (1 << 31)) % (1 << 32) - (1 << 31)


class JavaFloat(float):
    """A float32 that keeps its type where no common schema says it (a list or map of mixed elements), so that it is
    written as Java writes a Float (`0.001`, not the double `0.0010000000474974513`)."""

    __slots__ = ()


def _own(parsed: SchemaAndValue | None) -> Any:
    """A parsed element's value with its float32s (in it, at any depth) marked as such: a common schema, when there
    is one, says it again; when there is none, the mark does."""
    return None if parsed is None else _marked(parsed[0], parsed[1])


def _marked(schema: Schema | None, value: Any) -> Any:
    if schema is None or value is None:
        return value
    if schema.type == Type.FLOAT32:
        return JavaFloat(value) if value.__class__ is float else value
    if schema.type == Type.ARRAY and schema.value_schema is not None:
        return [_marked(schema.value_schema, v) for v in value]
    if schema.type == Type.MAP and (schema.key_schema is not None or schema.value_schema is not None):
        return {_marked(schema.key_schema, k): _marked(schema.value_schema, v) for k, v in value.items()}
    return value


def _hashable(value: Any) -> Any:
    """A map key as a dict holds it: a list as a tuple; a map (Java's HashMap takes one) cannot be, and fails the
    map's parse (the text is then a string)."""
    if isinstance(value, list):
        value = tuple(value)
    try:
        hash(value)
    except TypeError:
        raise DataError("a map or a list holding one as a map key") from None
    return value


def _as_number(token: str) -> SchemaAndValue | None:
    """ValueParser.parseAsNumber: None where Java's BigDecimal would not parse the token."""
    if not _JAVA_NUMBER.fullmatch(token):
        return None
    d = decimal.Decimal(token)
    scale = -int(d.as_tuple().exponent)
    exact = _as_exact_integer(d)
    if exact is not None:
        return exact
    if scale != 0:
        f32 = _float32(float(d))
        if not math.isinf(f32):
            return FLOAT32_SCHEMA, f32
        f64 = float(d)
        if not math.isinf(f64):
            return FLOAT64_SCHEMA, f64
    return decimal_schema(scale), d


def _as_exact_integer(d: decimal.Decimal) -> SchemaAndValue | None:
    """ValueParser.parseAsExactDecimal: an integral value as the smallest integer type that holds it."""
    if d != d.to_integral_value():
        return None
    n = int(d)
    if len(str(abs(n))) >= 19 and not _LONG_MIN <= n <= _LONG_MAX:
        return None
    return _integer((n + (1 << 63)) % (1 << 64) - (1 << 63))  # BigInteger.longValue: the low 64 bits


def _integer(n: int) -> SchemaAndValue:
    """The smallest integer type that holds n (a long)."""
    if -128 <= n < 128:
        return INT8_SCHEMA, n
    if -32768 <= n < 32768:
        return INT16_SCHEMA, n
    return (INT32_SCHEMA if -(1 << 31) <= n < 1 << 31 else INT64_SCHEMA), n


def _as_temporal(token: str | None) -> SchemaAndValue | None:
    if token is None:
        return None
    token = token.replace("\\:", ":")
    for length, kind, fmt in _TEMPORALS:
        if len(token) == length:
            try:
                millis = fmt.parse(token)
            except (ValueError, OverflowError):
                return None
            if kind == "date":
                return date_schema(), days_to_date(millis // 86_400_000)
            if kind == "time":
                return time_schema(), millis_to_time(millis % 86_400_000)
            return timestamp_schema(), millis_to_timestamp(millis)
    return None


def _float32(x: float) -> float:
    try:
        return struct.unpack(">f", struct.pack(">f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def _blank(token: str | None) -> bool:
    """Utils.isBlank: null, empty or only whitespace (Java's trim: characters up to U+0020)."""
    return token is None or not token.strip(_JAVA_WHITESPACE)
