"""Version requirements of plugins (Kafka 4.1, KIP-891): texts as Kafka 4.1.1 gives them (also checked against
its JVM worker in tests/integration/test_rest_differential.py)."""

from __future__ import annotations

import pytest

from miniconnect.errors import BadRequest
from miniconnect.plugin_versions import check_plugin_version, version_key


@pytest.mark.parametrize("spec", [None, "", "latest", "4.1.1", "[4.0,5.0)", "(,4.1.1]", "[4.1.1]", "[1.0],[4.1,4.2)"])
def test_met(spec: str | None) -> None:
    check_plugin_version("X", "4.1.1", spec)


@pytest.mark.parametrize(
    "spec,shown",
    [
        ("9.9", "[9.9,9.9]"),
        ("x.y", "[x.y,x.y]"),
        ("[4.2,)", "[4.2,)"),
        ("(,4.1.1)", "(,4.1.1)"),
        ("(4.1.1,5]", "(4.1.1,5]"),
    ],
)
def test_not_met(spec: str, shown: str) -> None:
    with pytest.raises(BadRequest) as e:
        check_plugin_version("org.example.X", "4.1.1", spec)
    assert str(e.value) == (
        f"Plugin org.example.X not found that matches the version range {shown}, available versions: [4.1.1]"
    )


def test_order() -> None:
    assert version_key("4.1.1") < version_key("4.10") < version_key("10.9.7")
