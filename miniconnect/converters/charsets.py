"""Java character sets for StringConverter's `converter.encoding`: Java's names (case-insensitive, with their
aliases), and Java's bytes for the Unicode encodings, where Python's codecs differ: UTF-16 and UTF-32 are
big-endian unless a byte order mark says otherwise, "UTF-16" writes a big-endian mark, "UTF-32" none, and an
unpaired surrogate is written as U+FFFD (String.getBytes' replacement for them) instead of "?". Other names Java
knows are served by Python's codec of the same name, with "?" and U+FFFD for what does not map."""

from __future__ import annotations

import codecs
import re
import struct
from dataclasses import dataclass

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_REPL = "\ufffd"


def _paired(text: str) -> str:
    """Surrogates next to each other made the one character they are in Java's UTF-16 strings."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _continues(b: int) -> bool:
    return b & 0xC0 == 0x80


def _malformed3(b1: int, b2: int) -> bool:
    return (b1 == 0xE0 and b2 & 0xE0 == 0x80) or not _continues(b2)


def _malformed4_2(b1: int, b2: int) -> bool:
    return (b1 == 0xF0 and not 0x90 <= b2 <= 0xBF) or (b1 == 0xF4 and b2 & 0xF0 != 0x80) or not _continues(b2)


def java_utf8_decode(data: bytes) -> str:
    """new String(data, UTF_8) of JDK 17 (String.decodeUTF8_UTF16): what Python's decoder replaces byte by byte
    Java may replace as one: a surrogate's three bytes are one U+FFFD, so is a three-byte lead with one good
    continuation byte, and an incomplete sequence at the end."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        pass
    out: list[str] = []
    sp, sl = 0, len(data)
    while sp < sl:
        b1 = data[sp]
        sp += 1
        if b1 < 0x80:
            out.append(chr(b1))
        elif b1 >> 5 == 0b110 and b1 & 0x1E:
            if sp < sl:
                if not _continues(data[sp]):
                    out.append(_REPL)
                else:
                    out.append(chr((b1 & 0x1F) << 6 | data[sp] & 0x3F))
                    sp += 1
                continue
            out.append(_REPL)
            break
        elif b1 >> 4 == 0b1110:
            if sp + 1 < sl:
                b2, b3 = data[sp], data[sp + 1]
                if _malformed3(b1, b2) or not _continues(b3):
                    out.append(_REPL)
                    sp += 0 if _malformed3(b1, b2) else 1
                    continue
                c = (b1 & 0x0F) << 12 | (b2 & 0x3F) << 6 | b3 & 0x3F
                out.append(_REPL if 0xD800 <= c <= 0xDFFF else chr(c))
                sp += 2
                continue
            out.append(_REPL)
            if sp < sl and _malformed3(b1, data[sp]):
                continue
            break
        elif b1 >> 3 == 0b11110:
            if sp + 2 < sl:
                b2, b3, b4 = data[sp], data[sp + 1], data[sp + 2]
                uc = (b1 & 0x07) << 18 | (b2 & 0x3F) << 12 | (b3 & 0x3F) << 6 | b4 & 0x3F
                if not (_continues(b2) and _continues(b3) and _continues(b4)) or not 0x10000 <= uc <= 0x10FFFF:
                    out.append(_REPL)
                    sp += 0 if b1 > 0xF4 or _malformed4_2(b1, b2) else 1 if not _continues(b3) else 2
                    continue
                out.append(chr(uc))
                sp += 3
                continue
            if b1 > 0xF4 or (sp < sl and _malformed4_2(b1, data[sp])):
                out.append(_REPL)
                continue
            sp += 1
            out.append(_REPL)
            if sp < sl and not _continues(data[sp]):
                continue
            break
        else:
            out.append(_REPL)
    return "".join(out)


def _java_utf16_decode(data: bytes, big: bool) -> str:
    """Java's UTF-16 decoder on units of one byte order: an unpaired high surrogate is one U+FFFD with the unit
    after it, an unpaired low one alone, and what is left at the end (an odd byte, a high surrogate) one more."""
    try:
        return data.decode("utf-16-be" if big else "utf-16-le")
    except UnicodeDecodeError:
        pass
    units = struct.unpack(f"{'>' if big else '<'}{len(data) // 2}H", data[: len(data) // 2 * 2])
    out: list[str] = []
    i, n = 0, len(units)
    while i < n:
        c = units[i]
        if 0xD800 <= c <= 0xDBFF:
            if i + 1 >= n:
                return "".join(out) + _REPL  # with an odd byte after it, if any: one replacement
            c2 = units[i + 1]
            out.append(chr(0x10000 + ((c - 0xD800) << 10) + (c2 - 0xDC00)) if 0xDC00 <= c2 <= 0xDFFF else _REPL)
            i += 2
        else:
            out.append(_REPL if 0xDC00 <= c <= 0xDFFF else chr(c))
            i += 1
    return "".join(out) + (_REPL if len(data) % 2 else "")


def _java_utf32_decode(data: bytes, big: bool) -> str:
    """Java's UTF-32 decoder: a code point beyond U+10FFFF is one U+FFFD, a surrogate's is the char (two in a row
    make one character of Java's UTF-16 string), what is left at the end one U+FFFD."""
    try:
        return data.decode("utf-32-be" if big else "utf-32-le")
    except UnicodeDecodeError:
        pass
    n = len(data) // 4
    points = struct.unpack(f"{'>' if big else '<'}{n}I", data[: 4 * n])
    return _paired("".join(chr(p) if p <= 0x10FFFF else _REPL for p in points) + (_REPL if len(data) % 4 else ""))


@dataclass(frozen=True, slots=True)
class _Unicode:
    """A UTF-16 or UTF-32 charset: the Python codec of its fixed byte order, the mark it writes first (if any),
    and whether its decoder reads a leading mark of either order (else the mark is a character)."""

    codec: str
    writes_mark: bool
    reads_mark: bool
    unit: int  # 2 or 4 bytes

    def encode(self, text: str) -> bytes:
        if not text:
            return b""
        if _LONE_SURROGATE.search(text):
            text = _LONE_SURROGATE.sub("\ufffd", _paired(text))
        data = text.encode(self.codec)
        return ("\ufeff".encode(self.codec) + data) if self.writes_mark else data

    def decode(self, data: bytes) -> str:
        codec = self.codec
        if self.reads_mark and len(data) >= self.unit:
            head = data[: self.unit]
            for order in ("be", "le"):
                marked = f"utf-{8 * self.unit}-{order}"
                if head == "\ufeff".encode(marked):
                    codec, data = marked, data[self.unit :]
                    break
        if self.unit == 2:
            return _java_utf16_decode(data, codec.endswith("be"))
        return _java_utf32_decode(data, codec.endswith("be"))


_US_ASCII = "ANSI_X3.4-1968 cp367 csASCII iso-ir-6 ASCII iso_646.irv:1983 ANSI_X3.4-1986 ascii7 default"
_US_ASCII += " ISO_646.irv:1991 ISO646-US IBM367 646 us"
_LATIN_1 = "819 ISO8859-1 l1 ISO_8859-1:1987 ISO_8859-1 8859_1 iso-ir-100 latin1 cp819 ISO8859_1 IBM819 ISO_8859_1"
_LATIN_1 += " IBM-819 csISOLatin1"
# Java's name -> (its aliases, as JDK 17 lists them; how it is done: a Python codec name or a _Unicode)
_JAVA: dict[str, tuple[list[str], str | _Unicode]] = {
    "UTF-8": (["unicode-1-1-utf-8", "UTF8"], "utf-8"),
    "US-ASCII": (_US_ASCII.split(), "ascii"),
    "ISO-8859-1": (_LATIN_1.split(), "latin-1"),
    "windows-1252": (["ibm-1252", "cp1252", "ibm1252", "cp5348"], "cp1252"),
    "UTF-16": (["UTF_16", "unicode", "utf16", "UnicodeBig"], _Unicode("utf-16-be", True, True, 2)),
    "UTF-16BE": (
        ["X-UTF-16BE", "UTF_16BE", "ISO-10646-UCS-2", "UnicodeBigUnmarked"],
        _Unicode("utf-16-be", False, False, 2),
    ),
    "UTF-16LE": (["UnicodeLittleUnmarked", "UTF_16LE", "X-UTF-16LE"], _Unicode("utf-16-le", False, False, 2)),
    "x-UTF-16LE-BOM": (["UnicodeLittle"], _Unicode("utf-16-le", True, True, 2)),
    "UTF-32": (["UTF_32", "UTF32"], _Unicode("utf-32-be", False, True, 4)),
    "UTF-32BE": (["X-UTF-32BE", "UTF_32BE"], _Unicode("utf-32-be", False, False, 4)),
    "UTF-32LE": (["X-UTF-32LE", "UTF_32LE"], _Unicode("utf-32-le", False, False, 4)),
    "X-UTF-32BE-BOM": (["UTF_32BE_BOM", "UTF-32BE-BOM"], _Unicode("utf-32-be", True, True, 4)),
    "X-UTF-32LE-BOM": (["UTF_32LE_BOM", "UTF-32LE-BOM"], _Unicode("utf-32-le", True, True, 4)),
}
_BY_NAME = {alias.lower(): name for name, (aliases, _) in _JAVA.items() for alias in (name, *aliases)}
# Python codecs of the charsets above: reached by a Python-only name ("utf_8", "u8", "latin-1"), Java refuses it
_OURS = {codecs.lookup(how if isinstance(how, str) else how.codec).name for _, how in _JAVA.values()}
_OURS |= {codecs.lookup(c).name for c in ("utf-16", "utf-32", "utf-8-sig")}


@dataclass(frozen=True, slots=True)
class JavaCharset:
    """A charset by its Java name: encode as String.getBytes, decode as new String(bytes, charset)."""

    name: str
    how: str | _Unicode

    def encode(self, text: str) -> bytes:
        how = self.how
        if isinstance(how, _Unicode):
            return how.encode(text)
        try:
            return text.encode(how)
        except UnicodeEncodeError:  # "?" for what does not map, a surrogate pair first made its character
            return _paired(text).encode(how, "replace")

    def decode(self, data: bytes) -> str:
        how = self.how
        if isinstance(how, _Unicode):
            return how.decode(data)
        return java_utf8_decode(data) if how == "utf-8" else data.decode(how, "replace")


def java_charset(name: str) -> JavaCharset:
    """The charset Java's Charset.forName(name) finds; LookupError for a name it does not know. Names outside the
    table above are taken when Python has a text codec of that name that is none of the table's."""
    found = _BY_NAME.get(name.lower())
    if found is not None:
        return JavaCharset(found, _JAVA[found][1])
    info = codecs.lookup(name)  # LookupError if Python does not know it either
    if not getattr(info, "_is_text_encoding", True) or info.name in _OURS or not name:
        raise LookupError(name)
    return JavaCharset(name, info.name)
