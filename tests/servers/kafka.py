"""A throwaway single-node Apache Kafka broker in KRaft mode, run from the jars that scripts/test-deps.sh
resolves from Maven Central into ~/.cache/miniconnect/kafka-<version>/libs. Tuned to start in seconds."""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from .proc import ServerProcess, free_port, port_open, remove_tree, server_dir

_LOG4J = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
"""

# Small heap, serial GC and C1 only: the broker serves test traffic on a small shared machine, so start-up
# time and footprint matter more than peak throughput.
_JVM_OPTS = [
    "-Xms128m",
    "-Xmx768m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:-UsePerfData",
    "-Djava.awt.headless=true",
]


def _free_port_besides(taken: set[int]) -> int:
    port = free_port()
    while port in taken:
        port = free_port()
    return port


def _version_key(path: Path) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.-]", path.name.removeprefix("kafka-")))


def kafka_home() -> Path:
    env = os.environ.get("MINICONNECT_KAFKA_HOME")
    if env:
        return Path(env)
    cache = Path(os.environ.get("MINICONNECT_CACHE_DIR", Path.home() / ".cache" / "miniconnect"))
    homes = sorted((p.parent for p in cache.glob("kafka-*/.complete")), key=_version_key)
    if not homes:
        raise RuntimeError(f"no Kafka found in {cache}: run scripts/test-deps.sh")
    return homes[-1]


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.access(Path(java_home) / "bin" / "java", os.X_OK):
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise RuntimeError("java not found: run scripts/test-deps.sh")
    return found


# Users of the secure listeners: PLAIN users are in the listeners' JAAS config, SCRAM users are created by
# `kafka-storage format --add-scram` before the first start.
SASL_USERS = {"alice": "alice-secret", "connect": "connect-S3cret"}
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")


class KafkaServer:
    def __init__(self, extra_config: dict[str, str] | None = None, secure: bool = False) -> None:
        """secure: also SASL_SSL, SSL (client certificates required) and SASL_PLAINTEXT listeners, with
        certificates from a throwaway CA (`self.ca`) and the SASL_USERS for PLAIN and SCRAM-SHA-256/512."""
        self.extra_config = extra_config or {}
        self.secure = secure
        self.dir: Path | None = None
        self.proc: ServerProcess | None = None
        self.bootstrap: str | None = None
        self.listeners: dict[str, str] = {}  # security protocol -> host:port
        self.ca: Any = None
        self.startup_seconds = 0.0

    def _secure_properties(self, ports: dict[str, int]) -> dict[str, str]:
        from .certs import CertAuthority

        assert self.dir is not None
        self.ca = CertAuthority(self.dir / "certs")
        broker = self.ca.issue("broker")
        plain = (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + " ".join(f'user_{u}="{p}"' for u, p in SASL_USERS.items())
            + ";"
        )
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        props = {
            "sasl.enabled.mechanisms": "PLAIN," + ",".join(SCRAM_MECHANISMS),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self.dir / "certs" / "broker-keystore.pem"),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca.cert_pem),
            "listener.name.ssl.ssl.client.auth": "required",
        }
        (self.dir / "certs" / "broker-keystore.pem").write_bytes(
            broker.key_pem.read_bytes() + broker.chain_pem.read_bytes()
        )
        for name in ("sasl_ssl", "sasl_plaintext"):
            props[f"listener.name.{name}.plain.sasl.jaas.config"] = plain
            for m in SCRAM_MECHANISMS:
                props[f"listener.name.{name}.{m.lower()}.sasl.jaas.config"] = scram
        return props

    def _properties(self, port: int, controller_port: int) -> dict[str, str]:
        assert self.dir is not None
        ports = {"PLAINTEXT": port}
        if self.secure:
            for protocol in ("SASL_SSL", "SSL", "SASL_PLAINTEXT"):
                ports[protocol] = _free_port_besides({controller_port, *ports.values()})
        self.listeners = {protocol: f"127.0.0.1:{p}" for protocol, p in ports.items()}
        listeners = ",".join(f"{protocol}://127.0.0.1:{p}" for protocol, p in ports.items())
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller_port}",
            "listeners": f"{listeners},CONTROLLER://127.0.0.1:{controller_port}",
            "advertised.listeners": listeners,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": ",".join(f"{p}:{p}" for p in ports) + ",CONTROLLER:PLAINTEXT",
            **(self._secure_properties(ports) if self.secure else {}),
            "log.dirs": str(self.dir / "data"),
            "auto.create.topics.enable": "true",
            "num.partitions": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "group.min.session.timeout.ms": "500",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "num.recovery.threads.per.data.dir": "1",
            "log.retention.check.interval.ms": "3600000",
            **self.extra_config,
        }

    def start(self, timeout: float = 120) -> str:
        t0 = time.monotonic()
        home = kafka_home()
        self.dir = server_dir("kafka")
        port, controller_port = free_port(), free_port()
        while controller_port == port:
            controller_port = free_port()
        props = self.dir / "server.properties"
        props.write_text("".join(f"{k}={v}\n" for k, v in self._properties(port, controller_port).items()))
        (self.dir / "log4j2.properties").write_text(_LOG4J)
        base = [
            _java(),
            *_JVM_OPTS,
            f"-Dlog4j2.configurationFile={self.dir / 'log4j2.properties'}",
            "-cp",
            f"{home / 'libs'}/*",
        ]
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        scram = (
            [
                arg
                for m in SCRAM_MECHANISMS
                for u, p in SASL_USERS.items()
                for arg in ("--add-scram", f"{m}=[name={u},password={p}]")
            ]
            if self.secure
            else []
        )
        fmt = subprocess.run(
            [
                *base,
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={cluster_id}",
                "-c",
                str(props),
                "--standalone",
                *scram,
            ],
            cwd=self.dir,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if fmt.returncode != 0:
            raise RuntimeError(f"kafka storage format failed ({fmt.returncode}):\n{fmt.stdout}\n{fmt.stderr}")
        # SIGKILL at the end: the data dir is thrown away, so a controlled shutdown would only cost time.
        self.proc = ServerProcess("kafka", [*base, "kafka.Kafka", str(props)], self.dir, stop_signal=signal.SIGKILL)
        self.proc.start()
        self.proc.wait_until(
            lambda: (
                port_open("127.0.0.1", port)
                and "Kafka Server started" in self.proc.log_path.read_text(errors="replace")
            ),
            timeout,
            "started",
        )
        self.bootstrap = f"127.0.0.1:{port}"
        self.startup_seconds = time.monotonic() - t0
        return self.bootstrap

    def halt(self) -> None:
        """Stops the broker as an administrator would (SIGTERM, a controlled shutdown; its data kept); `resume`
        starts it again on the same ports."""
        assert self.proc is not None
        self.proc.stop_signal = signal.SIGTERM
        try:
            self.proc.stop(timeout=60)
        finally:
            self.proc.stop_signal = signal.SIGKILL

    def resume(self, timeout: float = 120) -> None:
        assert self.proc is not None
        proc = self.proc
        started = proc.log_path.read_text(errors="replace").count("Kafka Server started")
        proc.start()
        proc.wait_until(
            lambda: proc.log_path.read_text(errors="replace").count("Kafka Server started") > started,
            timeout,
            "started again",
        )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
        if self.dir is not None:
            remove_tree(self.dir)
            self.dir = None


async def delete_topics(bootstrap: str, topics: list[str]) -> None:
    """Deletes topics a benchmark wrote (a million records each: left behind, they fill a named server's disk)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(topics)
    finally:
        await admin.close()
