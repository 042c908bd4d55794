"""Process plumbing shared by the server helpers: free ports, readiness waits, owned child processes."""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If pytest itself is killed (no finalizers run), the kernel kills the server too instead of leaving it
    # orphaned. Runs in the child after any user switch (a uid change would clear the setting).
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:  # pragma: no cover - not Linux
        pass


_OWNER = ".owner-pid"
_UNOWNED_MAX_AGE_S = 24 * 3600


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_dir(kind: str) -> Path:
    """A fresh temp dir for a server (miniconnect-<kind>-XXXX), tagged with this process's pid. Dirs of earlier
    test sessions that died without their finalizers (SIGKILL, a killed CI job) are removed first: a Kafka data dir
    left behind by benchmark runs grew to 30 GB on a development machine."""
    base = Path(tempfile.gettempdir())
    for old in base.glob("miniconnect-*-*"):
        try:
            owner = old / _OWNER
            if owner.exists():
                stale = not _alive(int(owner.read_text().strip() or 0))
            else:  # made before dirs were tagged
                stale = time.time() - old.stat().st_mtime > _UNOWNED_MAX_AGE_S
            if stale and old.is_dir():
                remove_tree(old)
        except (OSError, ValueError):
            continue
    path = Path(tempfile.mkdtemp(prefix=f"miniconnect-{kind}-"))
    (path / _OWNER).write_text(str(os.getpid()))
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def run_async(fn: Callable[[], Awaitable[T]], timeout: float = 60) -> T:
    """Runs `fn()` to completion on a private event loop in a worker thread, so sync fixtures can use asyncpg
    and aiomysql whatever loop (if any) the test runs in."""
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        return ex.submit(lambda: asyncio.run(asyncio.wait_for(fn(), timeout))).result()


class ServerProcess:
    """A child server process we own: started in its own session, killed when pytest dies, stopped once."""

    def __init__(
        self,
        name: str,
        args: list[str],
        workdir: Path,
        *,
        user: str | None = None,
        env: dict[str, str] | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.args = args
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.user = user
        self.env = env
        self.stop_signal = stop_signal
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")
        kwargs: dict[str, Any] = {}
        if self.user is not None:
            kwargs.update(user=self.user, group=self.user, extra_groups=[])
        try:
            self.proc = subprocess.Popen(
                self.args,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
                **kwargs,
            )
        finally:
            log.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise RuntimeError(
                    f"{self.name} exited with {self.proc and self.proc.returncode} before "
                    f"{what}; log tail:\n{self.log_tail()}"
                )
            try:
                if ready():
                    return
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not {what} after {timeout}s; log tail:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self, timeout: float = 10) -> None:
        """Stops the process (once; `start` may run it again with the same arguments)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.send_signal(self.stop_signal)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        except ProcessLookupError:
            pass


class Restartable:
    """halt/resume for a database server class that keeps its ServerProcess in `proc` and its DbServer in
    `server`: stopped as an administrator would (data kept), started again on the same port."""

    proc: ServerProcess | None
    server: Any

    def halt(self) -> None:
        assert self.proc is not None
        self.proc.stop()

    def resume(self, timeout: float = 60) -> None:
        assert self.proc is not None and self.server is not None
        self.proc.start()
        port = self.server.port
        self.proc.wait_until(lambda: port_open("127.0.0.1", port), timeout, "accepting connections again")


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def chown_tree(path: Path, user: str) -> None:
    for root, dirs, files in os.walk(path):
        for n in (root, *[os.path.join(root, d) for d in dirs], *[os.path.join(root, f) for f in files]):
            shutil.chown(n, user, user)
