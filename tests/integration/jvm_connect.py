"""Runs Apache Kafka Connect's own JVM worker (4.1.1, jars from scripts/test-deps.sh) for differential and
mixed-cluster tests: `start("standalone"|"distributed", props, connector_files)` returns a running JvmConnect."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from servers.kafka import _java
from worker_process import free_port

CONNECT_VERSION = "4.1.1"
MAIN_CLASSES = {"standalone": "org.apache.kafka.connect.cli.ConnectStandalone",
                "distributed": "org.apache.kafka.connect.cli.ConnectDistributed"}
_LOG4J = """\
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
"""


def libs_dir() -> Path:
    return Path(os.environ.get("MINICONNECT_CONNECT_LIBS",
                               Path.home() / ".cache" / "miniconnect" / f"connect-{CONNECT_VERSION}" / "libs"))


def available() -> bool:
    """Whether the JVM worker's jars were resolved (scripts/test-deps.sh)."""
    libs = libs_dir()
    return libs.is_dir() and any(libs.glob("connect-runtime-*.jar"))


class JvmConnect:
    """One JVM Connect worker process; stop() is safe to call twice and after a failed start."""

    def __init__(self, mode: str, props: dict[str, str], connector_files: list[str] | None = None,
                 workdir: Path | None = None):
        if mode not in MAIN_CLASSES:
            raise ValueError(f"mode must be one of {sorted(MAIN_CLASSES)}, not {mode!r}")
        self.mode = mode
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"jvm-connect-{mode}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        defaults = {"listeners": self.url,
                    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
                    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                    "offset.flush.interval.ms": "500"}
        if mode == "standalone":
            defaults["offset.storage.file.filename"] = str(self.workdir / "connect.offsets")
        self.props = {**defaults, **props}
        self.props_path = self.workdir / "worker.properties"
        self.props_path.write_text("".join(f"{k}={v}\n" for k, v in self.props.items()))
        (self.workdir / "log4j2.properties").write_text(_LOG4J)
        self.connector_files = list(connector_files or [])
        self.log_path = self.workdir / "worker.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [_java(), "-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.properties'}",
                "-cp", f"{libs_dir()}/*", MAIN_CLASSES[self.mode], str(self.props_path), *self.connector_files]

    def start(self, timeout: float = 120.0) -> float:
        """Starts the JVM and returns the seconds until GET / answered 200 (resources are registered after
        the herder started, so earlier answers are Jetty's 404s)."""
        t0 = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        try:
            while time.monotonic() - t0 < timeout:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"JVM Connect exited with {self.proc.returncode}:\n{self.log()[-5000:]}")
                try:
                    if httpx.get(self.url + "/", timeout=1.0).status_code == 200:
                        return time.monotonic() - t0
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            raise TimeoutError(f"JVM Connect did not answer within {timeout} s:\n{self.log()[-5000:]}")
        except BaseException:
            self.kill()
            raise

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (Connect's shutdown hook stops connectors and tasks), SIGKILL after `timeout`."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start(mode: str = "standalone", props: dict[str, str] | None = None, connector_files: list[str] | None = None,
          workdir: Path | None = None, timeout: float = 120.0) -> JvmConnect:
    """A started JVM Connect worker in `mode` with the worker `props` (listeners, converters and, in standalone,
    the offsets file have defaults)."""
    worker = JvmConnect(mode, props or {}, connector_files, workdir)
    worker.start(timeout)
    return worker
