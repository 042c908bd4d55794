"""A throwaway MariaDB server: mariadb-install-db + mariadbd from the Debian packages, datadir and socket in a
temp dir, TCP on 127.0.0.1; users `test`/`test` (all privileges) and root with password `root`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from .db import DbServer
from .proc import Restartable, ServerProcess, free_port, port_open, remove_tree, run_async, server_dir

USER = PASSWORD = DATABASE = "test"
ROOT_PASSWORD = "root"


def _find(name: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if not found:
        raise RuntimeError(f"{name} not found: run scripts/test-deps.sh")
    return found


class MariaDbServer(Restartable):
    def __init__(self, tls: bool = False) -> None:
        """tls: --ssl with a certificate for 127.0.0.1 only, from a throwaway CA (`self.ca`); `self.client` a
        client certificate."""
        self.tls = tls
        self.ca: Any = None
        self.client: Any = None
        self.dir: Path | None = None
        self.proc: ServerProcess | None = None
        self.server: DbServer | None = None
        self.startup_seconds = 0.0

    def start(self, timeout: float = 60) -> DbServer:
        t0 = time.monotonic()
        self.dir = server_dir("mariadb")
        datadir, sock = self.dir / "data", self.dir / "mysqld.sock"
        user = ["--user=root"] if os.geteuid() == 0 else []
        init = subprocess.run(
            [
                _find("mariadb-install-db"),
                "--no-defaults",
                f"--datadir={datadir}",
                *user,
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ],
            cwd=self.dir,
            capture_output=True,
            text=True,
        )
        if init.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")
        tls_args: list[str] = []
        if self.tls:
            from .certs import CertAuthority

            self.ca = CertAuthority(self.dir / "certs")
            server = self.ca.issue("server", hosts=("127.0.0.1",))
            self.client = self.ca.issue("client")
            tls_args = [f"--ssl-cert={server.cert_pem}", f"--ssl-key={server.key_pem}", f"--ssl-ca={self.ca.cert_pem}"]
        port = free_port()
        # Durability traded for speed: the data lives for one test session.
        self.proc = ServerProcess(
            "mariadbd",
            [
                _find("mariadbd"),
                "--no-defaults",
                f"--datadir={datadir}",
                f"--socket={sock}",
                f"--port={port}",
                "--bind-address=127.0.0.1",
                *user,
                f"--pid-file={self.dir / 'mariadbd.pid'}",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=128M",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--max-connections=300",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
                *tls_args,
            ],
            self.dir,
            stop_signal=signal.SIGTERM,
        )
        self.proc.start()

        async def setup() -> bool:
            import aiomysql

            conn = await aiomysql.connect(unix_socket=str(sock), user="root", password="", autocommit=True)
            try:
                async with conn.cursor() as cur:
                    for sql in (
                        f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'",
                        f"CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}'",
                        f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%' WITH GRANT OPTION",
                        f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'localhost' WITH GRANT OPTION",
                        f"CREATE DATABASE {DATABASE}",
                        f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{ROOT_PASSWORD}'",
                        f"ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '{ROOT_PASSWORD}'",
                        "FLUSH PRIVILEGES",
                    ):
                        await cur.execute(sql)
            finally:
                conn.close()
            return True

        self.proc.wait_until(lambda: sock.exists() and port_open("127.0.0.1", port), timeout, "accepting connections")
        run_async(setup, 30)
        self.server = DbServer("mysql", "127.0.0.1", port, USER, PASSWORD, DATABASE)
        self.startup_seconds = time.monotonic() - t0
        return self.server

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
        if self.dir is not None:
            remove_tree(self.dir)
            self.dir = None
