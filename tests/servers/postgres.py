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

from .db import DbServer
from .proc import ServerProcess, chown_tree, free_port, port_open, remove_tree, run_async, server_dir

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


class PostgresServer:
    def __init__(self) -> None:
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
        if run_as:
            chown_tree(self.dir, run_as)
        user_kwargs = dict(user=run_as, group=run_as, extra_groups=[]) if run_as else {}
        init = subprocess.run(
            [str(bindir / "initdb"), "-D", str(self.dir / "data"), "-U", USER, "--pwfile", str(pwfile),
             "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"],
            cwd=self.dir, capture_output=True, text=True, **user_kwargs)
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")
        port = free_port()
        # Durability off: these databases live for one test session.
        self.proc = ServerProcess(
            "postgres",
            [str(bindir / "postgres"), "-D", str(self.dir / "data"), "-p", str(port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200", "-c", "shared_buffers=64MB", "-c", "log_min_messages=warning"],
            self.dir, user=run_as, stop_signal=signal.SIGINT)
        self.proc.start()
        admin = DbServer("postgresql", "127.0.0.1", port, USER, PASSWORD, "postgres")

        async def ready() -> bool:
            conn = await admin.connect()
            try:
                await conn.execute(f"CREATE DATABASE {DATABASE}")
            finally:
                await conn.close()
            return True

        self.proc.wait_until(lambda: port_open("127.0.0.1", port) and run_async(ready, 10), timeout,
                             "accepting connections")
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
