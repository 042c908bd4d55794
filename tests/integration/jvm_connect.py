"""Runs Apache Kafka Connect's own JVM worker (ConnectDistributed or ConnectStandalone 4.1.1) for comparison tests.

The jars come from ~/.cache/miniconnect/connect-4.1.1/libs (scripts/test-deps.sh resolves them); the FileStream
connectors are on that classpath. Driven through its REST API like worker_process.WorkerProcess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from worker_process import WorkerProcess, free_port

LIBS = Path(os.environ.get("MINICONNECT_CONNECT_LIBS", Path.home() / ".cache/miniconnect/connect-4.1.1/libs"))
LOG4J2 = """status = error
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = org.apache.kafka.clients
logger.kafka.level = WARN
"""


def connect_libs() -> Path | None:
    """The directory of Connect's jars, or None when they (or java) are missing."""
    if shutil.which("java") is None or not (LIBS / "connect-runtime-4.1.1.jar").exists():
        return None
    return LIBS


class JvmConnectWorker(WorkerProcess):
    """stop/kill/rest/log/wait_for as WorkerProcess; the process is Connect's JVM worker."""

    # quick start-up for tests; bench/bench_vs_jvm.py runs it with Kafka's own script defaults instead
    java_options: tuple[str, ...] = ("-Xmx512m", "-XX:TieredStopAtLevel=1")

    def __init__(
        self,
        workdir: Path,
        props: dict[str, str],
        port: int | None = None,
        mode: str = "distributed",
        connector_files: list[str] | None = None,
    ):
        workdir.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        props = {"listeners": f"http://127.0.0.1:{port}", **props}
        if mode == "standalone":
            props.setdefault("offset.storage.file.filename", str(workdir / "jvm.offsets"))
        self.workdir, self.port, self.mode = workdir, port, mode
        self.url = f"http://127.0.0.1:{port}"
        self.props = workdir / "jvm-worker.properties"
        self.props.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (workdir / "log4j2.properties").write_text(LOG4J2)
        self.log_path = workdir / "jvm-worker.log"
        self.connector_files: list[str] = list(connector_files or [])  # standalone: connector .properties files
        self.proc: subprocess.Popen[bytes] | None = None
        self.client: dict = {}  # httpx arguments of every request (WorkerProcess.rest)
        self.env: dict[str, str] = {}

    def start(self, timeout: float = 120.0) -> float:
        """Starts the JVM and returns the seconds until its REST API answered."""
        libs = connect_libs()
        assert libs is not None, "Kafka Connect's jars are missing: run scripts/test-deps.sh"
        t0 = time.monotonic()
        out = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                "java",
                *self.java_options,
                f"-Dlog4j2.configurationFile={self.workdir}/log4j2.properties",
                "-cp",
                f"{libs}/*",
                f"org.apache.kafka.connect.cli.Connect{self.mode.capitalize()}",
                str(self.props),
                *self.connector_files,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JVM worker exited with {self.proc.returncode}:\n{self.log()[-5000:]}")
            try:
                if httpx.get(self.url + "/connectors", timeout=1).status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise TimeoutError(f"JVM worker did not answer within {timeout} s:\n{self.log()[-5000:]}")


def available() -> bool:
    """Whether the JVM worker can run here (its jars resolved by scripts/test-deps.sh, a java binary)."""
    return connect_libs() is not None


def start(
    mode: str = "standalone",
    props: dict[str, str] | None = None,
    connector_files: list[str] | None = None,
    workdir: Path | None = None,
    timeout: float = 120.0,
) -> JvmConnectWorker:
    """A started JVM Connect worker ("standalone" or "distributed") with the worker `props` (listeners and, in
    standalone, the offsets file have defaults): .url, .stop(), .kill(), .log_path."""
    worker = JvmConnectWorker(
        workdir or Path(tempfile.mkdtemp(prefix=f"jvm-connect-{mode}-")),
        props or {},
        mode=mode,
        connector_files=connector_files,
    )
    worker.start(timeout)
    return worker
