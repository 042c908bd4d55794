"""Files at rest: owner-only, atomically replaced, durable when written (connector configs hold secrets)."""

from __future__ import annotations

import logging
import os
import stat
import tempfile

log = logging.getLogger(__name__)

PRIVATE_MODE = 0o600


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: str, data: bytes, mode: int = PRIVATE_MODE) -> None:
    """Replaces `path` with `data`: a temporary file in the same directory, created with `mode`, fsynced, renamed
    over the old file, then the directory fsynced. A crash at any point leaves the old file or the new one."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)  # mkstemp makes 0600 already; an explicit mode also serves non-private files
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(directory)


def tighten(path: str) -> None:
    """A file that may hold secrets and is readable by group or others is made owner-only, with a WARN."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        os.chmod(path, PRIVATE_MODE)
        log.warning(
            "%s was readable by group or others (mode %o): changed to %o, as it may hold connector secrets",
            path,
            stat.S_IMODE(st.st_mode),
            PRIVATE_MODE,
        )
