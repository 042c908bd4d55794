"""Compiles and runs the small Java harnesses in tests/javaharness against Apache Kafka Connect's own jars (for
byte-for-byte comparisons with Kafka's classes)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

CONNECT_LIBS = Path(os.environ.get("MINICONNECT_CONNECT_LIBS", Path.home() / ".cache/miniconnect/connect-4.1.1/libs"))
HERE = Path(__file__).parent


class JavaHarness:
    def __init__(self, name: str, out_dir: Path, package: str = ""):
        """name: the class (tests/javaharness/<name>.java); package: its Java package, if any."""
        self.name, self.out_dir = f"{package}.{name}" if package else name, out_dir
        self.classpath = f"{out_dir}{os.pathsep}{CONNECT_LIBS}/*"
        proc = subprocess.run(
            ["javac", "-d", str(out_dir), "-cp", self.classpath, str(HERE / f"{name}.java")],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise AssertionError(f"javac {name}.java failed:\n{proc.stderr[-4000:]}")

    def run(self, cases: list[Any]) -> list[Any]:
        proc = subprocess.run(
            ["java", "-cp", self.classpath, self.name],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            raise AssertionError(f"{self.name} failed:\n{proc.stderr[-4000:]}")
        return json.loads(proc.stdout)
