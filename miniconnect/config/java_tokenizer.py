"""java.io.StreamTokenizer, the lexer that Java's JAAS parsers use (Kafka's JaasConfig for `sasl.jaas.config`, the
JDK's ConfigFile for login configuration files), ported so that both read text as Java does: words, quoted strings
with Java's escapes, numbers, ordinary characters, `//` and `/* */` comments (and a lone `/`, a comment to the end
of the line), unterminated strings ending at the line."""

from __future__ import annotations

from dataclasses import dataclass

_WHITESPACE, _DIGIT, _ALPHA, _QUOTE, _COMMENT = 1, 2, 4, 8, 16
WORD, NUMBER, EOL, EOF = "word", "number", "eol", "eof"
_ESCAPES = {"a": "\x07", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\x0b"}


@dataclass(slots=True)
class Token:
    """kind: WORD, NUMBER, EOL, EOF, a quote character (the token is a quoted string) or the ordinary character
    itself; text: the word's or the string's text (Java's sval), else None."""

    kind: str
    text: str | None = None


def _table(word_chars: str, quote_chars: str) -> list[int]:
    """StreamTokenizer's default syntax table, with `word_chars` made word characters and `quote_chars` quotes."""
    table = [0] * 256
    for c in range(256):
        if c <= 32:
            table[c] = _WHITESPACE
        elif "a" <= chr(c) <= "z" or "A" <= chr(c) <= "Z" or c >= 160:
            table[c] = _ALPHA
    for c in "0123456789.-":
        table[ord(c)] |= _DIGIT
    table[ord("/")] = _COMMENT
    for c in "\"'":
        table[ord(c)] = _QUOTE
    for c in word_chars:
        table[ord(c)] |= _ALPHA
    for c in quote_chars:
        table[ord(c)] = _QUOTE
    return table


def tokenize(text: str, word_chars: str = "", quote_chars: str = "", eol_significant: bool = False) -> list[Token]:
    """The tokens of `text` (EOF last) as a StreamTokenizer with slash-slash and slash-star comments on, whose
    `wordChars` calls were made for each of `word_chars` and `quoteChar` for each of `quote_chars`."""
    table = _table(word_chars, quote_chars)
    n = len(text)
    pos = 0

    def read() -> str:
        nonlocal pos
        if pos >= n:
            pos += 1
            return ""
        pos += 1
        return text[pos - 1]

    def ctype(c: str) -> int:
        if not c:
            return _WHITESPACE
        return table[ord(c)] if ord(c) < 256 else _ALPHA

    out: list[Token] = []
    peek: str | None = None  # a character read ahead
    while True:
        c = peek if peek is not None else read()
        peek = None
        if not c:
            out.append(Token(EOF))
            return out
        kind = ctype(c)
        if kind & _WHITESPACE:
            if c in "\r\n" and eol_significant:
                if c == "\r":
                    nxt = read()
                    if nxt != "\n":
                        peek = nxt
                out.append(Token(EOL))
            continue
        if kind & _DIGIT:  # a number: its value is not needed, only that it is not a word
            if c == "-":
                c = read()
                if c != "." and not "0" <= c <= "9":
                    peek = c
                    out.append(Token("-"))
                    continue
            dot = False
            while (c == "." and not dot) or "0" <= c <= "9":
                dot = dot or c == "."
                c = read()
            peek = c
            out.append(Token(NUMBER))
            continue
        if kind & _ALPHA:
            start = pos - 1
            while ctype(c := read()) & (_ALPHA | _DIGIT):
                pass
            out.append(Token(WORD, text[start : pos - 1]))
            peek = c
            continue
        if kind & _QUOTE:
            quote, chars = c, []
            d = read()
            while d and d != quote and d not in "\r\n":
                if d == "\\":
                    c = read()
                    if "0" <= c <= "7":  # octal: up to \377
                        first, value = c, int(c)
                        c2 = read()
                        if "0" <= c2 <= "7":
                            value = value * 8 + int(c2)
                            c2 = read()
                            if "0" <= c2 <= "7" and first <= "3":
                                value = value * 8 + int(c2)
                                d = read()
                            else:
                                d = c2
                        else:
                            d = c2
                        chars.append(chr(value))
                        continue
                    chars.append(_ESCAPES.get(c, c) if c else "\uffff")  # a backslash at the end: (char) -1
                    d = read()
                else:
                    chars.append(d)
                    d = read()
            if d != quote:
                peek = d
            out.append(Token(quote, "".join(chars)))
            continue
        if c == "/":
            c = read()
            if c == "*":
                prev = ""
                while (c := read()) != "/" or prev != "*":
                    if c == "\r":
                        c = read()
                        if c == "\n":
                            c = read()
                    elif c == "\n":
                        c = read()
                    if not c:
                        out.append(Token(EOF))
                        return out
                    prev = c
                continue
            if c != "/":  # "/" is also a comment character: the rest of the line, from the character after it
                c = read()
            while c and c not in "\r\n":
                c = read()
            peek = c
            continue
        out.append(Token(c))
