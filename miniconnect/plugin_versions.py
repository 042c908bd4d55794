"""Plugin version requirements as Kafka 4.1 takes them (KIP-891): "latest", one version, or Maven version ranges."""

from __future__ import annotations

import re
from typing import Any

from .errors import BadRequest

_RANGE = re.compile(r"([\[(])([^,\[\]()]*)(?:,([^,\[\]()]*))?([\])])")


def version_key(version: str) -> tuple[Any, ...]:
    """An ordering close to Maven's ComparableVersion for the usual dotted numbers (4.1.1 < 4.10 < 10.9.7)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.-]", version.strip()))


def _ranges(spec: str) -> list[tuple[str, str | None, str | None, str]]:
    """The restrictions of a version spec; a bare version means exactly that version, as Kafka treats it."""
    spec = spec.strip()
    if not spec.startswith(("[", "(")):
        return [("[", spec, spec, "]")]
    found = [
        (
            m.group(1),
            m.group(2).strip() or None,
            (m.group(3).strip() or None) if m.group(3) is not None else m.group(2).strip() or None,
            m.group(4),
        )
        for m in _RANGE.finditer(spec)
    ]
    if not found or _RANGE.sub("", spec).strip(", ") != "":
        raise BadRequest(f"Invalid version range {spec}")
    return found


def _text(ranges: list[tuple[str, str | None, str | None, str]]) -> str:
    """Maven's VersionRange.toString(): each restriction as [low,high), joined by commas."""
    return ",".join(f"{low_b}{low or ''},{high or ''}{high_b}" for low_b, low, high, high_b in ranges)


def _within(version: str, low_b: str, low: str | None, high: str | None, high_b: str) -> bool:
    key = version_key(version)
    if low is not None and (key < version_key(low) or (low_b == "(" and key == version_key(low))):
        return False
    if high is not None and (key > version_key(high) or (high_b == ")" and key == version_key(high))):
        return False
    return True


def check_plugin_version(class_name: str, version: str | None, spec: str | None, listed: int = 1) -> None:
    """BadRequest with Kafka's text when the plugin's one version does not meet `spec` (None or "latest": any).
    `listed`: how many plugin types the class is registered as (Kafka names its version once for each: a
    converter that is also a header converter twice)."""
    if spec is None or not spec.strip() or spec.strip() == "latest":
        return
    ranges = _ranges(spec)
    if version is not None and any(_within(version, *r) for r in ranges):
        return
    raise BadRequest(
        f"Plugin {class_name} not found that matches the version range {_text(ranges)}, available versions: "
        f"[{', '.join([str(version)] * listed)}]"
    )
