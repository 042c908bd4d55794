"""The text parsers under every worker and connector config, against the JVM's own (tests/javaharness/ParseHarness):
java.util.Properties.load, Kafka's ConfigDef.parseType, ConfigTransformer (`${provider:path:key}`), JaasConfig
(`sasl.jaas.config`), the JDK's JAAS login file parser, StringConverter's character sets and the worker configs' key
definitions and values, on generated text and on the cases they once differed."""

from __future__ import annotations

import base64
import random
import re
import struct
from typing import Any

import pytest
from javaharness.harness import JavaHarness

from miniconnect.config.configdef import ConfigType, Password, parse_type, render_value
from miniconnect.config.distributed_config import DISTRIBUTED_CONFIG, DistributedConfig
from miniconnect.config.jaas import parse_jaas_config, parse_login_file
from miniconnect.config.javaregex import compile_java
from miniconnect.config.properties import parse_properties
from miniconnect.config.providers import ConfigData, ConfigProvider, ConfigTransformer
from miniconnect.config.worker_config import WORKER_CONFIG, WorkerConfig
from miniconnect.converters.string import StringConverter
from miniconnect.errors import ConfigError


@pytest.fixture(scope="module")
def java(tmp_path_factory: pytest.TempPathFactory) -> JavaHarness:
    return JavaHarness("ParseHarness", tmp_path_factory.mktemp("parse-harness"))


def _compare(java: JavaHarness, cases: list[dict[str, Any]], ours: list[dict[str, Any]], same_errors: bool) -> None:
    """Each case answered alike: the same value, or an error on both sides (with Kafka's text if same_errors)."""
    theirs = java.run(cases)
    differences = []
    for case, o, t in zip(cases, ours, theirs, strict=True):
        t = {k: v for k, v in t.items() if k != "class"}
        if "error" in o and "error" in t and not same_errors:
            continue
        if o != t:
            differences.append(f"{case!r}\n  ours {o!r}\n  java {t!r}")
    assert not differences, f"{len(differences)} of {len(cases)} differ:\n" + "\n".join(differences[:20])


# -- java.util.Properties ---------------------------------------------------------------------------------------
PROPERTY_PIECES = [*"ab=: \t\f\\\n\r#!u0f9", "\\u0041", "\\u00e9", "\\uZZ", "\u00a0", "\u2028", "\x0b", "é", "\\\n"]
PROPERTY_PIECES += ["\\\r\n", "\r\n", "\\uD83D\\uDE00", "\\uD83D"]
PROPERTIES_ONCE_APART = [
    "\\\n#comment\nk=v",  # a comment right after an empty line's continuation
    "\\\n!x\\\n\\ ",  # ... which does not continue: the next line is the escaped blank key
    "a=1\n\\\n",  # a lone backslash line before the end is no entry
    "\\\n\n\\\r\n\f",
    "k=\\uD83D\\uDE00 \\uD83D",  # an escaped surrogate pair is one character, a lone one stays
    ":v\n\\\r\n",
    "\\",  # a lone backslash at the very end: Java reads the empty key
]


def _ours_properties(text: str) -> dict[str, Any]:
    try:
        return {"map": parse_properties(text)}
    except ValueError as e:
        return {"error": str(e)}


def test_properties_are_read_as_java_reads_them(java: JavaHarness) -> None:
    rnd = random.Random(20261205)
    texts = PROPERTIES_ONCE_APART + [
        "".join(rnd.choice(PROPERTY_PIECES) for _ in range(rnd.randint(0, 30))) for _ in range(3000)
    ]
    cases = [{"kind": "props", "text": t} for t in texts]
    _compare(java, cases, [_ours_properties(t) for t in texts], same_errors=True)


# -- ConfigDef.parseType ----------------------------------------------------------------------------------------
VALUE_PIECES = [*"0123456789+-_. eEdDfFxXpP,", "NaN", "Infinity", "nan", "inf", "true", "TRUE", "false", "falſe"]
VALUE_PIECES += ["\u00a0", "\u0661", "\t", "\n", "0x", "0X1", "p-", "\u2003", "\x1f", "ſ", "9999999999", "2147483648"]
VALUE_PIECES += ["32768", "-9223372036854775808", "9223372036854775808", "\x00", "a", "F"]
VALUES_ONCE_APART = [
    ("INT", "1_0"),  # Python's int() reads underscores and Unicode blanks; Integer.parseInt does not
    ("INT", "\u00a05"),
    ("INT", "\u0661\u0662"),  # ... both read Unicode digits
    ("LONG", "+7"),
    ("DOUBLE", "1d"),  # Java's suffixes, hexadecimal floats, NaN and Infinity (but not nan or inf)
    ("DOUBLE", "0x1.8p3f"),
    ("DOUBLE", "0X1deP32768"),
    ("DOUBLE", "-NaN"),
    ("DOUBLE", "inf"),
    ("DOUBLE", "\u0661"),
    ("DOUBLE", "1_0.5"),
    ("BOOLEAN", "falſe"),  # equalsIgnoreCase: a long s is an s
    ("BOOLEAN", "true\u00a0"),
    ("LIST", "a\u00a0, b\x1f ,c,"),  # split at commas with Java's \s around them, after String.trim
    ("LIST", "\u2003"),
]
TYPES = ["BOOLEAN", "STRING", "INT", "SHORT", "LONG", "DOUBLE", "LIST", "PASSWORD"]


def _ours_parsed(type_name: str, value: str) -> dict[str, Any]:
    try:
        parsed = parse_type("k", value, ConfigType[type_name])
    except ConfigError as e:
        return {"error": str(e)}
    if isinstance(parsed, float):
        return {"bits": str(struct.unpack("<q", struct.pack("<d", parsed))[0])}
    return {"value": parsed.value if isinstance(parsed, Password) else parsed}


def test_config_values_are_parsed_as_kafkas_configdef_parses_them(java: JavaHarness) -> None:
    rnd = random.Random(1205)
    pairs = VALUES_ONCE_APART + [
        (rnd.choice(TYPES), "".join(rnd.choice(VALUE_PIECES) for _ in range(rnd.randint(0, 6)))) for _ in range(12000)
    ]
    cases = [{"kind": "parse", "type": t, "value": v} for t, v in pairs]
    _compare(java, cases, [_ours_parsed(t, v) for t, v in pairs], same_errors=True)


# -- ConfigTransformer ------------------------------------------------------------------------------------------
class _Provider(ConfigProvider):
    """The harness's TestProvider: "<name>|<path>|<key>" for every key not starting with x."""

    def __init__(self, name: str):
        self.name = name

    def get(self, path: str, keys: set[str] | None = None) -> ConfigData:
        return ConfigData({k: f"{self.name}|{path}|{k}" for k in keys or () if not k.startswith("x")})


def test_config_variables_are_replaced_as_kafkas_config_transformer_does(java: JavaHarness) -> None:
    rnd = random.Random(5)
    pieces = [*"${}:pqx ab\\", "${", "${p:", "${q:", "::", "${p:a}", "${p:path:key}", "${r:a}", "${p:x}"]
    configs = [
        {f"k{i}": "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8))) for i in range(rnd.randint(1, 3))}
        for _ in range(3000)
    ]
    transformer = ConfigTransformer({"p": _Provider("p"), "q": _Provider("q")})
    ours = [{"configs": transformer.transform(c)} for c in configs]
    _compare(java, [{"kind": "transform", "configs": c} for c in configs], ours, same_errors=True)


# -- JAAS -------------------------------------------------------------------------------------------------------
JAAS_PIECES = ["org.apache.kafka.common.security.plain.PlainLoginModule", " ", "required", "optional", "REQUIRED"]
JAAS_PIECES += ["sufficient", "requisite", "bad", "username", "=", '"alice"', '"a\\"b"', "'x'", ";", "\n", "/* c */"]
JAAS_PIECES += [
    "// c\n",
    "key_1",
    "$x",
    "-k",
    "9",
    "1.5",
    '"',
    "a.b",
    "é",
    "{",
    "}",
    '"\\n"',
    '"\\101"',
    "#",
    "/",
    "\\",
]
JAAS_ONCE_APART = [
    'a.B required username=alice password="s";',  # a word is a value too
    'a.B required username=} password="s";',  # ... an ordinary character is not
    '-ka.B required username="u";',  # "-" before a letter is a character of its own, not a word's
    '9a.B required username="u";',  # a number, then a word
    'a.B required user/* c */name="alice";',
    "a.B required user='x' pass='y';",  # single quotes quote too
    '"\\101" required username="u";',  # octal escapes
    'a.B requıred username="u";',  # the flag upper-cased as Java does: a dotless i is an I
    'a.B required 1.5="s" username="u";',  # a number as key: Kafka keys it null
    '; required username="u";',  # no module name
    'a.B required username="u" / password="p";',  # a lone slash comments out the rest of the line
]


def _ours_jaas(text: str) -> dict[str, Any]:
    try:
        m = parse_jaas_config(text)
    except ConfigError as e:
        return {"error": str(e)}
    return {"modules": [[m.name, m.flag, m.options]]}


def _mutated(rnd: random.Random, base: list[str], pieces: list[str], least: int, most: int) -> str:
    """`base` joined after `least` to `most` random pieces were inserted, dropped or put in place of others."""
    tokens = list(base)
    for _ in range(rnd.randint(least, most)):
        i = rnd.randrange(len(tokens))
        op = rnd.random()
        if op < 0.4:
            tokens.insert(i, rnd.choice(pieces))
        elif op < 0.7:
            tokens.pop(i)
        else:
            tokens[i] = rnd.choice(pieces)
    return "".join(tokens)


JAAS_BASE = [JAAS_PIECES[0], " required ", "username", "=", '"alice"', " ", "password", "=", '"s"', ";"]


def _jaas_text(rnd: random.Random) -> str:
    if rnd.random() < 0.5:
        return " ".join(rnd.choice(JAAS_PIECES) for _ in range(rnd.randint(1, 12)))
    return _mutated(rnd, JAAS_BASE, JAAS_PIECES, 1, 3)


def test_sasl_jaas_config_is_read_as_kafkas_jaas_config_reads_it(java: JavaHarness) -> None:
    rnd = random.Random(6)
    texts = JAAS_ONCE_APART + [_jaas_text(rnd) for _ in range(3000)]
    _compare(java, [{"kind": "jaas", "text": t} for t in texts], [_ours_jaas(t) for t in texts], same_errors=False)


FILE_PIECES = ["KafkaServer", "Other", "{", "}", ";", " ", "\n", "x.Y", "required", "optional", "bad", "k", "="]
FILE_PIECES += ['"v"', "'q'", "v2", "9", "/* c */", "// c\n", "*", "$a", "-", '"', "é", "\\"]
FILE_BASE = ["KafkaServer", " {", "\n  x.Y", " required", " k", "=", '"v"', " k2", "=", "w", ";", "\n", "}", ";", "\n"]
FILE_BASE += ["Other", "{", "a.B", " optional", ";", "}", ";"]
FILES_ONCE_APART = [
    "A { x.Y required; }",  # the ";" after "}" is required
    "A { x.Y required; }; A { z.W optional; };",  # a name given twice
    "A { x.Y required k='v'; };",  # double quotes only
    "A { x.Y required k=v*w; };",  # "*" is a word character here
    "A { };",
]


def test_jaas_login_files_are_read_as_the_jdk_reads_them(java: JavaHarness) -> None:
    rnd = random.Random(7)
    texts = FILES_ONCE_APART + [_mutated(rnd, FILE_BASE, FILE_PIECES, 0, 3) for _ in range(1500)]
    cases, ours = [], []
    for text in texts:
        names = {"A", "KafkaServer", "Other", *(p for p in FILE_PIECES if p.strip())}
        try:
            sections = parse_login_file(text)
            names |= {k for k in sections if k is not None}
            # the JDK answers an empty section as none
            ours.append(
                {"sections": {k: [[m.name, m.flag, m.options] for m in v] for k, v in sections.items() if k and v}}
            )
        except ConfigError as e:
            ours.append({"error": str(e)})
        cases.append({"kind": "jaasfile", "text": text, "names": sorted(names)})
    _compare(java, cases, ours, same_errors=False)


# -- StringConverter's converter.encoding -----------------------------------------------------------------------
ENCODINGS = ["UTF-8", "utf8", "UTF-16", "UTF-16BE", "UTF-16LE", "ISO-8859-1", "latin1", "US-ASCII", "ascii"]
ENCODINGS += ["windows-1252", "Cp1252", "UTF-32", "UTF-32LE", "X-UTF-32BE-BOM", "x-UTF-16LE-BOM", "UnicodeBig"]
ENCODINGS += ["cp437", "KOI8-R"]
NAMES_JAVA_REFUSES = ["utf_8", "u8", "latin-1", "utf-8-sig", "rot13", "base64", "nonsense", ""]
BYTES = [0x00, 0x41, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xFF, 0xFE, 0xED, 0xA0, 0xD8, 0x3D, 0xDC]
BYTES += [0xE0, 0xF4, 0x90, 0xF5, 0xC0, 0xC1, 0x8F, 0xBF]
CHARS = ["a", "é", "€", "😀", "\ud83d", "\ude00", "\x00", "ÿ", "日", "\u0100", "\ufeff", "\u00a0"]
STRINGS_ONCE_APART = [
    ("UTF-16", "encode", "a"),  # a big-endian mark, then big-endian units (Python: its machine's order)
    ("UTF-32", "encode", "a"),  # no mark at all
    ("UTF-16", "encode", "\ud83d"),  # an unpaired surrogate is U+FFFD's bytes, not "?"
    ("UTF-16", "decode", b"\x00a"),  # no mark: big-endian
    ("UTF-8", "decode", b"\xed\xa0\x80"),  # a surrogate's three bytes: one U+FFFD
    ("UTF-8", "decode", b"\xe2\x82"),
    ("UTF-16BE", "decode", b"\xd8\x3d\x00a"),  # an unpaired high surrogate takes the unit after it along
    ("UTF-32", "decode", b"\x00\x00\xd8\x3d\x00\x00\xde\x00"),  # surrogate code points pair up as in Java
]


def _ours_string(case: dict[str, Any]) -> dict[str, Any]:
    converter = StringConverter()
    try:
        converter.configure({"converter.encoding": case["encoding"]}, False)
    except ConfigError as e:
        return {"error": str(e)}
    if "decode" in case:
        return {"value": converter.to_connect_data("t", base64.b64decode(case["decode"]))[1]}
    if "encode" in case:
        return {"b64": base64.b64encode(converter.from_connect_data("t", None, case["encode"]) or b"").decode()}
    return {}


def test_string_converter_charsets_are_javas(java: JavaHarness) -> None:
    """Names as Charset.forName takes them; bytes as String.getBytes writes them and new String(bytes) reads them,
    malformed input and unpaired surrogates included (the CJK charsets, served by Python's codecs, are not compared:
    their replacements of malformed bytes differ)."""
    rnd = random.Random(9)
    cases: list[dict[str, Any]] = [{"kind": "string", "encoding": e} for e in ENCODINGS + NAMES_JAVA_REFUSES]
    for encoding, op, value in STRINGS_ONCE_APART:
        text = base64.b64encode(value).decode() if isinstance(value, bytes) else value
        cases.append({"kind": "string", "encoding": encoding, op: text})
    for _ in range(6000):
        encoding = rnd.choice(ENCODINGS)
        if rnd.random() < 0.5:
            data = bytes(rnd.choice([*BYTES, rnd.randrange(256)]) for _ in range(rnd.randint(0, 8)))
            cases.append({"kind": "string", "encoding": encoding, "decode": base64.b64encode(data).decode()})
        else:
            text = "".join(rnd.choice(CHARS) for _ in range(rnd.randint(0, 5)))
            cases.append({"kind": "string", "encoding": encoding, "encode": text})
    _compare(java, cases, [_ours_string(c) for c in cases], same_errors=False)


# -- worker configs ---------------------------------------------------------------------------------------------
WORKER_CLASSES = {
    "distributed": ("org.apache.kafka.connect.runtime.distributed.DistributedConfig", DISTRIBUTED_CONFIG),
    "standalone": ("org.apache.kafka.connect.runtime.standalone.StandaloneConfig", WORKER_CONFIG),
}
# What differs on purpose in the keys both define (README): a worker without bootstrap.servers runs on the embedded
# log, converters default to JsonConverter, standalone offsets default to a file; a sample window of 0 is refused
# (Kafka's Rate divides by it); listeners are checked when read (Kafka: when the server starts); exactly-once source
# support is not implemented; class names are resolved when the worker starts
DEFINITIONS_APART = {
    "bootstrap.servers": "default",
    "key.converter": "default",
    "value.converter": "default",
    "offset.storage.file.filename": "default",
    "metrics.sample.window.ms": "validator",
    "exactly.once.source.support": "validator",
}
VALUES_APART = {"metrics.sample.window.ms", "listeners", "admin.listeners", "exactly.once.source.support"}
WORKER_VALUES = ["", " ", "0", "-1", "1", "abc", "true", "TRUE", "1.5", "x,y", "http://:8083", "2147483648"]
WORKER_VALUES += ["sessioned", "eager", "compatible", "HmacSHA256", "All", "None", "Principal", "PLAINTEXT"]
WORKER_VALUES += ["add X-A:b", 'set "X:a,b"', "bogus rule", "SET X:1", "set X", "set X:a:b", "set X Y:1", "nope X:1"]
WORKER_VALUES += [
    '"set X:a, b" , add Y:2',
    "set X:1,,add Y:2",
    'set X:1, "add Y:\\"q\\"" x',
    "set X:\u00a01",
    "set\u2003X:1",
]
WORKER_BASE = {
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "bootstrap.servers": "localhost:9092",
}
DISTRIBUTED_BASE = {
    "group.id": "g",
    "config.storage.topic": "c",
    "offset.storage.topic": "o",
    "status.storage.topic": "s",
}


def _default_text(key: Any) -> str | None:
    if not key.has_default:
        return "<none>"
    if key.type is ConfigType.PASSWORD:
        return None if key.default is None else "[hidden]"
    return render_value(key.default, key.type)


@pytest.mark.parametrize("mode", ["distributed", "standalone"])
def test_worker_config_keys_are_defined_as_kafkas(java: JavaHarness, mode: str) -> None:
    """Every key Kafka's worker defines is defined here, with Kafka's type, default, importance and validator."""
    java_class, ours = WORKER_CLASSES[mode]
    (theirs,) = java.run(
        [{"kind": "configkeys", "class": java_class} | ({"field": "CONFIG"} if mode == "standalone" else {})]
    )
    shared = sorted(set(theirs["keys"]) & set(ours.keys))
    assert shared == sorted(theirs["keys"]), "a key Kafka's worker defines is not defined here"
    differences = []
    for name in shared:
        t, o = theirs["keys"][name], ours.keys[name]
        found = {
            "type": (t["type"], o.type.value),
            "default": (t["default"], _default_text(o)),
            "importance": (t["importance"], o.importance.value),
            "validator": (t["validator"], None if o.validator is None else str(o.validator)),
        }
        differences += [
            f"{name} {what}: kafka {k!r} ours {m!r}"
            for what, (k, m) in found.items()
            if k != m and DEFINITIONS_APART.get(name) != what
        ]
    assert not differences, "\n".join(differences)


@pytest.mark.parametrize("mode", ["distributed", "standalone"])
def test_worker_config_values_are_taken_or_refused_as_kafkas(java: JavaHarness, mode: str) -> None:
    java_class, ours = WORKER_CLASSES[mode]
    (theirs,) = java.run(
        [{"kind": "configkeys", "class": java_class} | ({"field": "CONFIG"} if mode == "standalone" else {})]
    )
    config_class = DistributedConfig if mode == "distributed" else WorkerConfig
    base = WORKER_BASE | (DISTRIBUTED_BASE if mode == "distributed" else {"offset.storage.file.filename": "/tmp/x"})
    names = [
        n
        for n in sorted(set(theirs["keys"]) & set(ours.keys))
        if n not in VALUES_APART and ours.keys[n].type is not ConfigType.CLASS
    ]
    cases, answers = [], []
    for name in names:
        for value in WORKER_VALUES:
            props = base | {name: value}
            cases.append(
                {"kind": "workerconfig", "distributed": mode == "distributed", "props": props, "names": [name]}
            )
            try:
                parsed, key = config_class(props)[name], ours.keys[name]
            except ConfigError as e:
                answers.append({"error": str(e)})
                continue
            shown = parsed.value if isinstance(parsed, Password) else render_value(parsed, key.type)
            answers.append({"values": {name: shown}})
    _compare(java, cases, answers, same_errors=False)


# -- java.util.regex --------------------------------------------------------------------------------------------
REGEX_PIECES = [*"ab()[]{}*+?|^$.\\-&:<>=!,0123dws", "\\p{L}", "(?<n>", "(?:", "[a-", "{1,", "\\Q", "\\E", "\\x"]
REGEX_PIECES += ["\\u", "\\k<n>", "(?i", "&&", "\\1", "\\2", "\\12", "(a)", "(b)", "{2}", "\\31", "\\k<", "\\p", "\\P="]
REGEX_INPUTS = ["", "a", "b", "aa", "ab", "ba", "aaa", "abab", "{2}", "a1", "a2", "}", "-"]
REGEXES_ONCE_APART = [
    "{2}",  # Java repeats an empty atom before a leading quantifier; it was refused here
    "a*{2}",
    "{1,}.}",
    "\\1",  # a group that does not exist never matches; it was refused here
    "(a)\\1",
    "(a)\\11",  # 11 names no group: \1 and a literal 1
    "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)\\11",  # it does here
    "(a\\1)",  # an open group has not matched yet
    "\\2(a)(b)",
    "(?<n>a)\\k<n>\\1",
    "\\Q12\\E",  # Java's indexes count in the pattern with its quoting removed
    "a(\\Q",
    "[&&]",
    "a{3,1}",
    "\ta\t[",  # the caret line keeps tabs
]


def _ours_regex(pattern: str) -> dict[str, Any]:
    try:
        compiled = compile_java(pattern)
    except re.error as e:
        return {"error": str(e)}
    return {"matches": [compiled.fullmatch(s) is not None for s in REGEX_INPUTS]}


def test_regexes_are_taken_or_refused_and_match_as_javas(java: JavaHarness) -> None:
    """java.util.regex.Pattern on generated patterns (every metacharacter, classes, groups, back references,
    quantifiers where Java reads an empty atom, quoting): taken or refused alike, with PatternSyntaxException's
    message (what, near which index, the pattern, a caret), and matches() alike on short inputs."""
    rng = random.Random(20261205)
    patterns = REGEXES_ONCE_APART + [
        "".join(rng.choice(REGEX_PIECES) for _ in range(rng.randint(1, 7))) for _ in range(4000)
    ]
    cases = [{"kind": "regex", "pattern": p, "inputs": REGEX_INPUTS} for p in patterns]
    _compare(java, cases, [_ours_regex(p) for p in patterns], same_errors=True)
