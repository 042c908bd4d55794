"""Config providers: Kafka's File, Directory and EnvVar providers with allowed.paths / allowlist.pattern, the
transformer's `${provider:[path:]key}` syntax, task configs given their placeholders back, worker properties
resolved (KIP-421), and a provider plugin from plugin.path."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from miniconnect.config.providers import (
    AllowedPaths,
    DirectoryConfigProvider,
    EnvVarConfigProvider,
    FileConfigProvider,
    load_providers,
    reverse_transform,
)
from miniconnect.config.worker_config import WorkerConfig
from miniconnect.errors import ConfigError
from miniconnect.plugins import Plugins


def _providers(tmp_path: Path, **extra: str):
    return load_providers(
        {
            "config.providers": "file,dir,env",
            "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
            "config.providers.dir.class": "DirectoryConfigProvider",
            "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
            **extra,
        }
    )


def test_file_directory_and_env_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "db.properties").write_text("db.password = s3cr\\u0065t\nuser=bob\n")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text("tok\n")
    monkeypatch.setenv("MC_TEST_PW", "from-env")
    t = _providers(tmp_path)
    out = t.transform(
        {
            "a": f"${{file:{tmp_path}/db.properties:db.password}}",
            "b": f"x-${{file:{tmp_path}/db.properties:user}}-${{env:MC_TEST_PW}}",
            "c": f"${{dir:{tmp_path}/secrets:token}}",
            "d": "${file:" + f"{tmp_path}/db.properties:nope}}",
            "e": "${vault:x:y}",
            "f": "plain",
            "g": None,
        }
    )
    assert out == {
        "a": "s3cret",
        "b": "x-bob-from-env",
        "c": "tok\n",
        "d": "${file:" + f"{tmp_path}/db.properties:nope}}",
        "e": "${vault:x:y}",
        "f": "plain",
        "g": None,
    }


def test_allowed_paths_and_allowlist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir(), outside.mkdir()
    (inside / "a.properties").write_text("k=in\n")
    (outside / "a.properties").write_text("k=out\n")
    monkeypatch.setenv("MC_OK_1", "one")
    monkeypatch.setenv("MC_NO_1", "two")
    t = _providers(
        tmp_path,
        **{
            "config.providers.file.param.allowed.paths": str(inside),
            "config.providers.env.param.allowlist.pattern": "MC_OK_.*",
        },
    )
    escaped = f"${{file:{inside}/../out/a.properties:k}}"
    with caplog.at_level(logging.WARNING):
        out = t.transform(
            {
                "a": f"${{file:{inside}/a.properties:k}}",
                "b": f"${{file:{outside}/a.properties:k}}",
                "c": escaped,
                "d": "${env:MC_OK_1}",
                "e": "${env:MC_NO_1}",
            }
        )
    assert out == {
        "a": "in",
        "b": f"${{file:{outside}/a.properties:k}}",
        "c": escaped,
        "d": "one",
        "e": "${env:MC_NO_1}",
    }
    assert "is not allowed to be accessed" in caplog.text
    with pytest.raises(ConfigError, match="is not absolute"):
        AllowedPaths("relative/dir")
    with pytest.raises(ConfigError, match="does not exist"):
        AllowedPaths(str(tmp_path / "missing"))
    env = EnvVarConfigProvider({"A": "1"})
    env.configure({})
    with pytest.raises(ConfigError, match="Path is not supported for EnvVarConfigProvider"):
        env.get("some/path", {"A"})


def test_direct_provider_calls(tmp_path: Path) -> None:
    (tmp_path / "f.properties").write_text("a=1\nb=2\n")
    f = FileConfigProvider()
    f.configure({})
    assert f.get(str(tmp_path / "f.properties")).data == {"a": "1", "b": "2"}
    assert f.get(str(tmp_path / "f.properties"), {"b"}).data == {"b": "2"}
    assert f.get("").data == {}
    with pytest.raises(ConfigError, match="Could not read properties from file"):
        f.get(str(tmp_path / "missing.properties"), {"a"})
    d = DirectoryConfigProvider()
    d.configure({})
    (tmp_path / "sub").mkdir()
    assert d.get(str(tmp_path)) == d.get(str(tmp_path), {"f.properties", "sub"})
    assert d.get(str(tmp_path), {"sub"}).data == {}  # directories are not values


def test_unknown_provider_class_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="config.providers.x.class: Could not load config provider class"):
        load_providers(
            {"config.providers": "x", "config.providers.x.class": "com.example.Nope"},
            Plugins(entry_points=[]).resolve_config_provider,
        )


def test_task_configs_get_their_placeholders_back() -> None:
    raw = {"connection.password": "${file:/s.properties:pw}", "connection.url": "jdbc:x", "topic": "${env:T}"}
    tasks = [{"connection.password": "resolved", "connection.url": "jdbc:x", "tables": "a"}]
    assert reverse_transform(raw, tasks) == [
        {"connection.password": "${file:/s.properties:pw}", "connection.url": "jdbc:x", "tables": "a"}
    ]


def test_worker_properties_use_their_own_providers(tmp_path: Path) -> None:
    (tmp_path / "w.properties").write_text("port=8099\n")
    config = WorkerConfig(
        {
            "config.providers": "file",
            "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
            "listeners": f"http://127.0.0.1:${{file:{tmp_path}/w.properties:port}}",
            "offset.storage.file.filename": str(tmp_path / "offsets"),
        }
    )
    assert config.listeners == [("http", "127.0.0.1", 8099)]


def test_provider_plugin_from_plugin_path(tmp_path: Path) -> None:
    (tmp_path / "vault_provider.py").write_text(
        "from miniconnect.config.providers import ConfigData, ConfigProvider\n"
        "class VaultConfigProvider(ConfigProvider):\n"
        "    class_name = 'com.example.VaultConfigProvider'\n"
        "    def configure(self, configs):\n"
        "        self.prefix = configs.get('prefix', '')\n"
        "    def get(self, path, keys=None):\n"
        "        return ConfigData({k: f'{self.prefix}{path}/{k}' for k in keys or ()})\n"
    )
    plugins = Plugins(plugin_path=[str(tmp_path)], entry_points=[])
    for name in ("com.example.VaultConfigProvider", "VaultConfigProvider", "Vault"):
        t = load_providers(
            {
                "config.providers": "vault",
                "config.providers.vault.class": name,
                "config.providers.vault.param.prefix": "v:",
            },
            plugins.resolve_config_provider,
        )
        assert t.transform({"a": "${vault:secret/db:pw}"}) == {"a": "v:secret/db/pw"}
