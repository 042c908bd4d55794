"""Plugin discovery and resolution: entry points, plugin.path directories, aliases, REST views."""

import logging
import sys
import textwrap

import pytest

from miniconnect.config.configdef import ConfigDef, ConfigType, Importance
from miniconnect.connector import SinkConnector, SinkTask, SourceConnector, SourceTask
from miniconnect.converters.base import Converter
from miniconnect.errors import BadRequest, ConnectError, NotFound
from miniconnect.plugins import PluginNotFound, Plugins


class _Task(SourceTask):
    async def start(self, props):
        pass

    async def poll(self):
        return None


class _SinkTask(SinkTask):
    async def start(self, props):
        pass

    async def put(self, records):
        pass


class AlphaSourceConnector(SourceConnector):
    class_name = "com.example.AlphaSourceConnector"
    task_class = _Task
    version = "1.2.3"
    config_def = ConfigDef().define("alpha.url", ConfigType.STRING, importance=Importance.HIGH, documentation="URL")

    async def task_configs(self, max_tasks):
        return [{}]


class OtherAlphaSourceConnector(SourceConnector):
    class_name = "org.other.AlphaSourceConnector"  # same simple name as above: the alias becomes ambiguous
    task_class = _Task

    async def task_configs(self, max_tasks):
        return [{}]


class BetaSinkConnector(SinkConnector):
    class_name = "com.example.BetaSinkConnector"
    task_class = _SinkTask
    version = "undefined"
    config_def = ConfigDef().define("topics", ConfigType.LIST, "x", importance=Importance.HIGH, documentation="own")

    async def task_configs(self, max_tasks):
        return [{}]


class GammaSinkConnector(SinkConnector):
    class_name = "com.example.GammaSinkConnector"
    task_class = _SinkTask
    version = None

    async def task_configs(self, max_tasks):
        return [{}]


class UpperConverter(Converter):
    class_name = "com.example.UpperConverter"
    config_def = ConfigDef().define("shout", ConfigType.BOOLEAN, False, importance=Importance.LOW)

    def configure(self, configs, is_key):
        pass

    def from_connect_data(self, topic, schema, value, headers=None):
        return None

    def to_connect_data(self, topic, data, headers=None):
        return None, None


class FakeEntryPoint:
    """What Plugins needs of importlib.metadata.EntryPoint; counts loads to prove laziness."""

    def __init__(self, name, target):
        # Packaging convention: the entry-point name is the plugin's simple class name.
        simple = getattr(target, "class_name", name).rsplit(".", 1)[-1]
        self.name, self.value, self._target, self.loads = simple, f"fake.module:{name}", target, 0

    def load(self):
        self.loads += 1
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def make_plugins(*classes, plugin_path=()):
    eps = [FakeEntryPoint(c.__name__, c) for c in classes]
    return Plugins(plugin_path=list(plugin_path), entry_points=eps), eps


def test_resolves_full_name_simple_name_and_alias_case_sensitively():
    plugins, _ = make_plugins(AlphaSourceConnector, BetaSinkConnector, UpperConverter)
    for name in ("com.example.BetaSinkConnector", "BetaSinkConnector", "BetaSink", f"{__name__}.BetaSinkConnector"):
        assert plugins.resolve_connector(name) is BetaSinkConnector
    assert plugins.resolve_converter("Upper") is UpperConverter
    assert plugins.resolve_converter("com.example.UpperConverter") is UpperConverter
    with pytest.raises(PluginNotFound):
        plugins.resolve_connector("betasink")


def test_entry_points_load_lazily_only_when_a_name_needs_them():
    plugins, (alpha_ep, beta_ep, upper_ep) = make_plugins(AlphaSourceConnector, BetaSinkConnector, UpperConverter)
    assert [ep.loads for ep in (alpha_ep, beta_ep, upper_ep)] == [0, 0, 0]
    assert plugins.resolve_connector("BetaSink") is BetaSinkConnector
    assert [ep.loads for ep in (alpha_ep, beta_ep, upper_ep)] == [0, 1, 0]
    plugins.plugin_infos()
    assert [ep.loads for ep in (alpha_ep, beta_ep, upper_ep)] == [1, 1, 1]
    plugins.load_all()
    assert [ep.loads for ep in (alpha_ep, beta_ep, upper_ep)] == [1, 1, 1]


def test_unknown_connector_lists_available_ones():
    plugins, _ = make_plugins(AlphaSourceConnector, BetaSinkConnector)
    with pytest.raises(PluginNotFound) as e:
        plugins.resolve_connector("Nope")
    assert str(e.value).startswith(
        "Failed to find any class that implements Connector and which name matches Nope, available connectors are: "
    )
    assert "com.example.AlphaSourceConnector" in str(e.value) and "com.example.BetaSinkConnector" in str(e.value)
    assert e.value.status == 500 and isinstance(e.value, ConnectError)


def test_ambiguous_alias_is_dropped_but_full_names_work():
    plugins, _ = make_plugins(AlphaSourceConnector, OtherAlphaSourceConnector)
    with pytest.raises(ConnectError) as e:
        plugins.resolve_connector("AlphaSource")
    assert str(e.value) == (
        "More than one connector matches alias AlphaSource. Please use full package and class "
        "name instead. Classes found: com.example.AlphaSourceConnector, "
        "org.other.AlphaSourceConnector"
    )
    with pytest.raises(ConnectError, match="More than one connector matches alias AlphaSourceConnector"):
        plugins.resolve_connector("AlphaSourceConnector")
    assert plugins.resolve_connector("org.other.AlphaSourceConnector") is OtherAlphaSourceConnector


def test_broken_entry_point_is_logged_and_skipped(caplog):
    broken = FakeEntryPoint("BrokenConnector", ImportError("no driver"))
    not_a_plugin = FakeEntryPoint("NotAPlugin", dict)
    plugins = Plugins(plugin_path=[], entry_points=[broken, not_a_plugin, FakeEntryPoint("Gamma", GammaSinkConnector)])
    with caplog.at_level(logging.INFO, logger="miniconnect.plugins"):
        infos = plugins.plugin_infos()
    assert [i["class"] for i in infos] == ["com.example.GammaSinkConnector"]
    assert "no driver" in caplog.text and "NotAPlugin" in caplog.text


def test_connector_type():
    plugins, _ = make_plugins(AlphaSourceConnector, BetaSinkConnector)
    assert plugins.connector_type("AlphaSource") == "source"
    assert plugins.connector_type("BetaSinkConnector") == "sink"
    assert plugins.connector_type("Missing") == "unknown"
    assert plugins.connector_type(None) == "unknown"


def test_plugin_infos_order_and_versions():
    plugins, _ = make_plugins(UpperConverter, GammaSinkConnector, AlphaSourceConnector, BetaSinkConnector)
    assert plugins.plugin_infos() == [
        {"class": "com.example.BetaSinkConnector", "type": "sink"},  # "undefined" version is omitted
        {"class": "com.example.GammaSinkConnector", "type": "sink", "version": "null"},
        {"class": "com.example.AlphaSourceConnector", "type": "source", "version": "1.2.3"},
    ]
    everything = plugins.plugin_infos(connectors_only=False)
    # Kafka's order: connectors, transformations, predicates, converters, header converters
    types = [i["type"] for i in everything]
    assert types == sorted(
        types, key=["sink", "source", "transformation", "predicate", "converter", "header_converter"].index
    )
    assert [i["class"] for i in everything if i["type"] == "converter"][-1] == "com.example.UpperConverter"
    assert {i["version"] for i in everything[3:] if i["class"].startswith("org.apache.kafka.")} == {"4.1.1"}
    transforms = [i["class"] for i in everything if i["type"] == "transformation"]
    predicates = [i["class"] for i in everything if i["type"] == "predicate"]
    assert len(transforms) == 26 and "org.apache.kafka.connect.transforms.ExtractField$Key" in transforms
    assert predicates == [
        "org.apache.kafka.connect.transforms.predicates." + n
        for n in ("HasHeaderKey", "RecordIsTombstone", "TopicNameMatches")
    ]
    assert everything[-1]["type"] == "converter"
    assert [k["name"] for k in plugins.plugin_config("ValueToKey")] == ["fields", "replace.null.with.default"]
    assert [k["name"] for k in plugins.plugin_config("TopicNameMatches")] == ["pattern"]


def test_plugin_config_for_connector_and_converter():
    plugins, _ = make_plugins(AlphaSourceConnector, BetaSinkConnector, UpperConverter)
    alpha = [k["name"] for k in plugins.plugin_config("AlphaSource")]
    assert alpha[0] == "alpha.url"
    assert alpha[1:6] == ["name", "connector.class", "connector.plugin.version", "tasks.max", "tasks.max.enforce"]
    assert "topic.creation.groups" in alpha and "offsets.storage.topic" in alpha and "topics" not in alpha
    beta = plugins.plugin_config("BetaSink")
    names = [k["name"] for k in beta]
    assert names.count("topics") == 1 and names[0] == "topics" and beta[0]["documentation"] == "own"
    assert "topics.regex" in names and "errors.deadletterqueue.topic.name" in names
    assert [k["name"] for k in plugins.plugin_config("Upper")] == ["shout"]


def test_plugin_config_errors():
    plugins, _ = make_plugins(AlphaSourceConnector)
    with pytest.raises(NotFound, match=r"^Unknown plugin NoSuch\.$"):
        plugins.plugin_config("NoSuch")
    with pytest.raises(
        BadRequest,
        match=r"^Invalid plugin class collections\.OrderedDict\. Valid types are sink, "
        r"source, converter, header_converter, transformation, predicate\.$",
    ):
        plugins.plugin_config("collections.OrderedDict")


PLUGIN_MODULE = textwrap.dedent("""
    from miniconnect.connector import SourceConnector, SourceTask
    from miniconnect.converters.base import Converter
    from helper_lib import TOPIC

    class TinyTask(SourceTask):
        async def start(self, props):
            pass
        async def poll(self):
            return None

    class TinySourceConnector(SourceConnector):
        task_class = TinyTask
        async def task_configs(self, max_tasks):
            return [{"topic": TOPIC}]
""")


def test_plugin_path_discovers_modules_and_packages_and_skips_broken_ones(tmp_path, caplog):
    (tmp_path / "helper_lib.py").write_text("TOPIC = 'tiny'\n")
    (tmp_path / "tiny_plugin.py").write_text(PLUGIN_MODULE)
    (tmp_path / "broken_plugin.py").write_text("raise RuntimeError('boom at import')\n")
    pkg = tmp_path / "tinypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "conv.py").write_text(
        textwrap.dedent("""
        from miniconnect.converters.base import Converter
        class TinyConverter(Converter):
            class_name = "org.example.TinyConverter"
            def configure(self, configs, is_key): pass
            def from_connect_data(self, topic, schema, value, headers=None): return b"x"
            def to_connect_data(self, topic, data, headers=None): return None, None
    """)
    )
    try:
        plugins = Plugins({"plugin.path": [str(tmp_path)]}, entry_points=[])
        with caplog.at_level(logging.ERROR, logger="miniconnect.plugins"):
            cls = plugins.resolve_connector("TinySource")
        assert cls.class_name == "tiny_plugin.TinySourceConnector"
        assert plugins.resolve_converter("Tiny").class_name == "org.example.TinyConverter"
        assert "boom at import" in caplog.text
        # Only classes defined in the scanned modules count: the imported base classes are not plugins.
        listed = plugins.plugin_infos(connectors_only=False)
        assert [i["class"] for i in listed if i["type"] not in ("transformation", "predicate")] == [
            "tiny_plugin.TinySourceConnector",
            "org.example.TinyConverter",
        ]
    finally:
        for name in ("tiny_plugin", "helper_lib", "tinypkg", "tinypkg.conv", "broken_plugin"):
            sys.modules.pop(name, None)
        if str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))


def test_plugin_path_given_as_comma_string_and_missing_dir_is_skipped(tmp_path, caplog):
    plugins = Plugins({"plugin.path": f"{tmp_path / 'nope'}"}, entry_points=[])
    with caplog.at_level(logging.WARNING, logger="miniconnect.plugins"):
        assert plugins.plugin_infos() == []
    assert "not a directory" in caplog.text


def test_bundled_entry_points_resolve_filestream_and_json():
    plugins = Plugins({})
    assert (
        plugins.resolve_connector("FileStreamSource").class_name
        == "org.apache.kafka.connect.file.FileStreamSourceConnector"
    )
    assert plugins.resolve_connector("org.apache.kafka.connect.file.FileStreamSinkConnector").type == "sink"
    assert plugins.resolve_converter("org.apache.kafka.connect.json.JsonConverter").__name__ == "JsonConverter"


def test_resolving_filestream_does_not_import_database_drivers():
    import subprocess

    code = (
        "import sys\n"
        "from miniconnect.plugins import Plugins\n"
        "p = Plugins({})\n"
        "p.resolve_connector('FileStreamSource'); p.resolve_converter('JsonConverter')\n"
        "print(sorted(m for m in ('sqlalchemy', 'asyncpg', 'aiomysql', 'aiokafka') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_transformations_and_predicates_from_entry_points_and_kafkas_names():
    from miniconnect.transforms import Predicate, Transformation

    class MaskAll(Transformation):
        class_name = "com.example.MaskAllTransformation"

        def apply(self, record):
            return record

    class Always(Predicate):
        class_name = "com.example.AlwaysPredicate"

        def test(self, record):
            return True

    plugins, _ = make_plugins(MaskAll, Always)
    assert plugins.resolve_transformation("com.example.MaskAllTransformation") is MaskAll
    assert plugins.resolve_transformation("MaskAll") is MaskAll  # Kafka's alias: the suffix pruned
    assert plugins.resolve_predicate("Always") is Always
    assert plugins.resolve_transformation("ValueToKey").class_name == "org.apache.kafka.connect.transforms.ValueToKey"
    assert plugins.resolve_transformation("org.apache.kafka.connect.transforms.ExtractField$Key").class_name.endswith(
        "ExtractField$Key"
    )
    with pytest.raises(ConnectError, match="More than one transformation matches alias Key"):
        plugins.resolve_transformation("Key")  # every $Key variant: use the full name, as in Kafka
    with pytest.raises(PluginNotFound):
        plugins.resolve_predicate("ValueToKey")
