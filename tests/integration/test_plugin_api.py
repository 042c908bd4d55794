"""A connector written only against miniconnect.api (examples/connector-template) runs in a real worker process,
found through plugin.path and through an installed distribution's entry point."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest
from worker_process import WorkerProcess

TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "connector-template"
PACKAGE = TEMPLATE / "connector_template"


def test_the_template_imports_nothing_of_miniconnect_but_the_api() -> None:
    imported = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
    assert "miniconnect.api" in imported
    assert {m for m in imported if m.split(".")[0] == "miniconnect"} == {"miniconnect.api"}


def _install_as_distribution(site: Path) -> None:
    """What `pip install` leaves for the worker to find: the package and a dist-info with the entry points."""
    shutil.copytree(PACKAGE, site / "connector_template")
    info = site / "miniconnect_connector_template-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: miniconnect-connector-template\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "[miniconnect.plugins]\n"
        "CounterSourceConnector = connector_template:CounterSourceConnector\n"
        "JsonLinesSinkConnector = connector_template:JsonLinesSinkConnector\n"
    )


@pytest.mark.parametrize("found_by", ["plugin.path", "entry point"])
def test_template_connectors_run_in_a_worker(tmp_path: Path, found_by: str) -> None:
    extra, env = {}, {}
    if found_by == "plugin.path":
        plugins = tmp_path / "plugins"
        shutil.copytree(PACKAGE, plugins / "connector_template")
        extra["plugin.path"] = str(plugins)
    else:
        site = tmp_path / "site"
        site.mkdir()
        _install_as_distribution(site)
        env["PYTHONPATH"] = str(site)
    out = tmp_path / "out.jsonl"
    worker = WorkerProcess(tmp_path / "worker", extra=extra, env=env)
    worker.start()
    try:
        listed = {p["class"] for p in worker.rest("GET", "/connector-plugins").json()}
        assert {
            "connector_template.source.CounterSourceConnector",
            "connector_template.sink.JsonLinesSinkConnector",
        } <= listed
        source = {"connector.class": "CounterSourceConnector", "topic": "numbers", "max.count": "300"}
        sink = {"connector.class": "JsonLinesSinkConnector", "topics": "numbers", "file": str(out)}
        for name, config in (("counter", source), ("jsonl", sink)):
            r = worker.rest("PUT", f"/connectors/{name}/config", json=config)
            assert r.status_code == 201, r.text
            worker.wait_running(name)

        def written() -> list[dict] | None:
            rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
            return rows if len(rows) >= 300 else None

        rows = worker.wait_for(written, 60, "300 lines in the sink's file")
        assert rows == [{"n": n, "text": f"record {n}"} for n in range(300)]
    finally:
        worker.stop()
