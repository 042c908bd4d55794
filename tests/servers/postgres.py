"""A throwaway PostgreSQL server: initdb + postgres from the Debian packages, run as the `postgres` system user
when we are root (postgres refuses to run as root), password auth for a superuser `test`/`test`."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from .db import DbServer
from .proc import Restartable, ServerProcess, chown_tree, free_port, port_open, remove_tree, run_async, server_dir

USER = PASSWORD = DATABASE = "test"


def _bin_dir() -> Path:
    env = os.environ.get("MINICONNECT_PG_BIN")
    if env:
        return Path(env)
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name))
    if dirs:
        return Path(dirs[-1])
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server binaries not found: run scripts/test-deps.sh")


CERT_USER = "mc_cert"  # with tls=True, logs in by client certificate alone (pg_hba `cert`)


class PostgresServer(Restartable):
    def __init__(self, tls: bool = False) -> None:
        """tls: ssl=on with a certificate for 127.0.0.1 only, from a throwaway CA (`self.ca`); `self.client` is a
        certificate for the role CERT_USER."""
        self.tls = tls
        self.ca: Any = None
        self.client: Any = None
        self.dir: Path | None = None
        self.proc: ServerProcess | None = None
        self.server: DbServer | None = None
        self.startup_seconds = 0.0

    def start(self, timeout: float = 60) -> DbServer:
        t0 = time.monotonic()
        bindir = _bin_dir()
        self.dir = server_dir("pg")
        run_as = "postgres" if os.geteuid() == 0 else None
        pwfile = self.dir / "pw"
        pwfile.write_text(PASSWORD + "\n")
        tls_args: list[str] = []
        if self.tls:
            from .certs import CertAuthority

            self.ca = CertAuthority(self.dir / "certs")
            server = self.ca.issue("server", hosts=("127.0.0.1",))
            self.client = self.ca.issue(CERT_USER)
            server.key_pem.chmod(0o600)
            tls_args = [
                "-c",
                "ssl=on",
                "-c",
                f"ssl_cert_file={server.cert_pem}",
                "-c",
                f"ssl_key_file={server.key_pem}",
                "-c",
                f"ssl_ca_file={self.ca.cert_pem}",
            ]
        if run_as:
            chown_tree(self.dir, run_as)
        user_kwargs = dict(user=run_as, group=run_as, extra_groups=[]) if run_as else {}
        init = subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(self.dir / "data"),
                "-U",
                USER,
                "--pwfile",
                str(pwfile),
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            cwd=self.dir,
            capture_output=True,
            text=True,
            **user_kwargs,
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")
        if self.tls:
            hba = self.dir / "data" / "pg_hba.conf"
            hba.write_text(f"hostssl all {CERT_USER} 127.0.0.1/32 cert\n" + hba.read_text())
        port = free_port()
        # Durability off: these databases live for one test session.
        self.proc = ServerProcess(
            "postgres",
            [
                str(bindir / "postgres"),
                "-D",
                str(self.dir / "data"),
                "-p",
                str(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.dir}",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=64MB",
                "-c",
                "log_min_messages=warning",
                *tls_args,
            ],
            self.dir,
            user=run_as,
            stop_signal=signal.SIGINT,
        )
        self.proc.start()
        admin = DbServer("postgresql", "127.0.0.1", port, USER, PASSWORD, "postgres")

        async def ready() -> bool:
            conn = await admin.connect()
            try:
                await conn.execute(f"CREATE DATABASE {DATABASE}")
                if self.tls:
                    await conn.execute(f"CREATE ROLE {CERT_USER} LOGIN")
                    await conn.execute(f"GRANT ALL ON DATABASE {DATABASE} TO {CERT_USER}")
            finally:
                await conn.close()
            return True

        self.proc.wait_until(
            lambda: port_open("127.0.0.1", port) and run_async(ready, 10), timeout, "accepting connections"
        )
        self.server = admin.with_database(DATABASE)
        self.startup_seconds = time.monotonic() - t0
        return self.server

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
        if self.dir is not None:
            remove_tree(self.dir)
            self.dir = None
