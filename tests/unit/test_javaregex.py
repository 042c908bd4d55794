"""config/javaregex against java.util.regex: each pattern matches exactly the inputs Java 17's Pattern.matches
accepts, and replacement strings expand as Matcher.replaceFirst expands them (the expected values were printed by
Java 17; tests/unit/test_transforms_differential.py also runs random regexes through Kafka's RegexRouter)."""

from __future__ import annotations

import re

import pytest

from miniconnect.config.javaregex import compile_java, java_replacement, java_to_python

INPUTS = ["a", "b", "c", "e", "x", "]", "1", "_", "A", "é", "É", "d", "-", "&"]
JAVA_MATCHES = {
    "[^a-z&&[^e]]": "e ] 1 _ A é É - &",
    "[a-z&&[^e]]": "a b c x d",
    "[^a[b]]": "c e x ] 1 _ A é É d - &",
    "[a[^b]]": "a c e x ] 1 _ A é É d - &",
    "[]a]": "a ]",
    "[^]a]": "b c e x 1 _ A é É d - &",
    "[a-c&&b-d&&c]": "c",
    "[\\w&&[^\\d]]": "a b c e x _ A d",
    "[^\\p{Lower}x]": "] 1 _ A é É - &",
    "[a-c[x-z]&&[b-y]]": "b c x",
    "\\p{L}": "a b c e x A é É d",
    "\\w": "a b c e x 1 _ A d",
    "(?i)É": "É",
    "^*a": "a",
    "[&&a]": "a",
    "[a&&]": "a",
}


@pytest.mark.parametrize("pattern", list(JAVA_MATCHES))
def test_patterns_match_what_java_matches(pattern: str) -> None:
    regex = compile_java(pattern)
    assert " ".join(s for s in INPUTS if regex.fullmatch(s)) == JAVA_MATCHES[pattern]


def test_inline_flags_go_on_to_the_end_of_their_group_and_its_next_alternatives() -> None:
    assert compile_java("a(?i)b(c)D").fullmatch("aBCd")
    assert not compile_java("a(?i)b(c)D").fullmatch("ABCd")
    mixed = compile_java("(x(?i)y|z)")  # the flag holds for the alternative after it too
    assert [bool(mixed.fullmatch(s)) for s in ("xY", "Z", "XY")] == [True, True, False]


def test_named_groups_quotes_properties_and_zero_width_repeats() -> None:
    assert compile_java("\\Qdb.orders\\E-(?<env>prod|dev)\\k<env>").fullmatch("db.orders-prodprod")
    assert not compile_java("\\Qdb.orders\\E").fullmatch("dbxorders")
    assert compile_java("\\p{Punct}+\\P{Alnum}").fullmatch("!?/-")
    assert compile_java("\\bx\\z{1,3}").fullmatch("x")
    assert compile_java("a++b").fullmatch("aab") and not compile_java("a++a").fullmatch("aa")  # possessive
    assert java_to_python("a").startswith("(?a:")  # ASCII \d, \w, \b and case-insensitivity, as Java's defaults


@pytest.mark.parametrize("pattern", ["a{", "(a", "a)", "*a", "[a-", "[z-a]", "\\p{IsLatin}", "\\G", "(?<1>a)"])
def test_what_java_refuses_or_python_cannot_say_is_an_error(pattern: str) -> None:
    with pytest.raises(re.error):
        compile_java(pattern)


@pytest.mark.parametrize(
    "pattern,text,replacement,expected",
    [
        ("(a)(b)", "ab", "$10-$21", "a0-b1"),
        ("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)", "abcdefghijk", "$11|$10|$12", "k|j|a2"),
        ("(?<first>o)r(?<rest>.*)", "orders", "${rest}_${first}", "ders_o"),
        ("(.*)", "x.y", "db.\\$1.$1", "db.$1.x.y"),
        ("(a)|(b)", "b", "[$1][$2]", "[][b]"),
        ("(a)", "a", "$2", "No group 2"),
        ("(a)", "a", "${zz}", "No group with name {zz}"),
    ],
)
def test_replacements_expand_as_javas(pattern: str, text: str, replacement: str, expected: str) -> None:
    match = compile_java(pattern).fullmatch(text)
    assert match is not None
    try:
        got = java_replacement(replacement)(match)
    except (IndexError, ValueError) as e:
        got = str(e)
    assert got == expected
