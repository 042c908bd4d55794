"""Properties and connector-file parsing, checked against what java.util.Properties.load reads."""

import json

import pytest

from miniconnect.config.properties import load_connector_file, load_properties, parse_properties
from miniconnect.errors import ConfigError


def test_separators_and_whitespace():
    text = "a=1\nb: 2\nc 3\n  d   =   4  \ne\tf\ng = = x\nh ::y\nempty=\nbare\n"
    assert parse_properties(text) == {
        "a": "1",
        "b": "2",
        "c": "3",
        "d": "4  ",
        "e": "f",
        "g": "= x",
        "h": ":y",
        "empty": "",
        "bare": "",
    }


def test_comments_and_blank_lines():
    text = "# comment\n! also comment\n   # indented comment\n\n   \nk=v # not a comment\n"
    assert parse_properties(text) == {"k": "v # not a comment"}


def test_continuation_lines_skip_leading_whitespace():
    text = "fruits = apple, banana, \\\n         pear, \\\n    cherry\nnext=1\n"
    assert parse_properties(text) == {"fruits": "apple, banana, pear, cherry", "next": "1"}


def test_comment_is_not_continued_but_continuation_starting_with_hash_is_value():
    text = "# comment \\\nk=v\\\n  #x\n"
    assert parse_properties(text) == {"k": "v#x"}


def test_even_backslashes_do_not_continue():
    assert parse_properties("p=c:\\\\\nq=1") == {"p": "c:\\", "q": "1"}


def test_trailing_backslash_at_end_of_input_is_dropped():
    assert parse_properties("k=abc\\") == {"k": "abc"}
    assert parse_properties("k=abc\\\n") == {"k": "abc"}


def test_escapes():
    text = "k=tab\\there\\nnl\\rcr\\fff \\u00e9\\u0041 \\q\\\\"
    assert parse_properties(text) == {"k": "tab\there\nnl\rcr\fff éA q\\"}


def test_escaped_separators_in_keys():
    text = "a\\=b=c\nx\\:y:z\nsp\\ ace = v\n"
    assert parse_properties(text) == {"a=b": "c", "x:y": "z", "sp ace": "v"}


def test_windows_and_old_mac_line_endings():
    assert parse_properties("a=1\r\nb=2\rc=3") == {"a": "1", "b": "2", "c": "3"}


def test_last_duplicate_wins():
    assert parse_properties("k=1\nk=2\n") == {"k": "2"}


def test_malformed_unicode_escape_raises():
    with pytest.raises(ValueError):
        parse_properties("k=\\u12")


def test_load_properties_reports_file(tmp_path):
    p = tmp_path / "w.properties"
    p.write_text("k=\\uZZZZ\n")
    with pytest.raises(ConfigError, match="w.properties"):
        load_properties(p)
    with pytest.raises(ConfigError, match="missing.properties"):
        load_properties(tmp_path / "missing.properties")


def test_load_properties_latin1_file(tmp_path):
    p = tmp_path / "l.properties"
    p.write_bytes("k=caf\xe9\n".encode("latin-1"))
    assert load_properties(p) == {"k": "café"}


def test_connector_file_properties(tmp_path):
    p = tmp_path / "c.properties"
    p.write_text("name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\n")
    name, cfg = load_connector_file(p)
    assert name == "local-file-source"
    assert cfg == {"name": "local-file-source", "connector.class": "FileStreamSource", "tasks.max": "1"}


def test_connector_file_json_post_shape(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(
        json.dumps(
            {
                "name": " src ",
                "config": {"connector.class": "X", "tasks.max": 2, "flag": True, "ratio": 1.5, "off": False},
            }
        )
    )
    name, cfg = load_connector_file(p)
    assert name == "src"
    assert cfg == {
        "connector.class": "X",
        "tasks.max": "2",
        "flag": "true",
        "ratio": "1.5",
        "off": "false",
        "name": "src",
    }


def test_connector_file_json_put_shape(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"name": "snk", "connector.class": "FileStreamSink", "topics": "t"}))
    assert load_connector_file(p) == ("snk", {"name": "snk", "connector.class": "FileStreamSink", "topics": "t"})


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        (json.dumps({"connector.class": "X"}), "does not name the connector"),
        (json.dumps({"name": "a", "config": {"nested": {"x": 1}}}), "'nested' must be a string"),
        (json.dumps({"name": "a", "config": {"name": "b"}}), "doesn't match"),
    ],
)
def test_connector_file_json_errors_name_file_and_problem(tmp_path, content, fragment):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(ConfigError) as e:
        load_connector_file(p)
    assert "bad.json" in str(e.value) and fragment in str(e.value)


def test_connector_file_properties_without_name(tmp_path):
    p = tmp_path / "c.properties"
    p.write_text("connector.class=X\n")
    with pytest.raises(ConfigError, match="c.properties"):
        load_connector_file(p)
