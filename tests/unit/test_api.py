"""miniconnect.api: the plugin authors' package exports what it lists and never pulls in the runtime."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import miniconnect.api as api

RUNTIME = ("runtime", "storage", "rest", "transport", "distributed", "cli", "plugins")


def test_every_listed_name_is_exported() -> None:
    assert len(api.__all__) == len(set(api.__all__))
    assert [n for n in api.__all__ if not hasattr(api, n)] == []
    assert {
        "SourceConnector",
        "SinkConnector",
        "SourceTask",
        "SinkTask",
        "SourceRecord",
        "SinkRecord",
        "Schema",
        "Struct",
        "ConfigDef",
        "Converter",
        "Transformation",
        "Predicate",
    } <= set(api.__all__)


def test_importing_the_api_loads_no_runtime_module() -> None:
    code = "import sys, json, miniconnect.api; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout)
    runtime = [m for m in loaded if m.startswith("miniconnect.") and m.split(".")[1] in RUNTIME]
    assert runtime == []
    assert "aiokafka" not in loaded and "starlette" not in loaded


def test_no_api_module_imports_the_runtime_even_inside_a_function() -> None:
    """Lazy imports count too: an API class that reaches into the stores at call time still ties plugins to the
    runtime."""
    code = "import sys, json, miniconnect.api; print(json.dumps(sorted(m for m in sys.modules if m.startswith('miniconnect'))))"
    modules = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout)
    offenders = []
    for name in modules:
        module = importlib.import_module(name)
        path = getattr(module, "__file__", None)
        if not path:
            continue
        package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(Path(path).read_text())):
            if isinstance(node, ast.ImportFrom):
                target = (
                    importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                    if node.level
                    else node.module
                )
                targets = [target or ""]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for t in targets:
                parts = t.split(".")
                if parts[0] == "miniconnect" and len(parts) > 1 and parts[1] in RUNTIME:
                    offenders.append(f"{name} imports {t}")
    assert offenders == []
