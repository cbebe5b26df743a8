"""One writer at a time in a results folder.

Snakemake locks its working directory, not the folder the outputs go to: two runs
started from two directories on the same ``results:`` would both write there and
leave a catalog that points at files the other run removed. The workflow therefore
holds :class:`ResultsLock` on the results folder for the whole run, and an ``ebscan``
command that writes into a results folder holds it for the command.

The lock is the file ``RESULTS/.ebscan.lock``: an exclusive ``flock`` on it while
held (the kernel releases it when the holder dies, however it dies), and inside a
line naming the holder for the message the next one gets. Where the file system
has no ``flock`` (some cluster file systems), the line alone decides, and a holder
that died leaves it behind: the message says how to clear it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import json
import os
import socket
from datetime import UTC, datetime

LOCK_NAME = ".ebscan.lock"

#: ``flock`` errors of file systems that do not support it (Lustre without
#: ``-o flock``, some NFS setups).
_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


class ResultsLocked(Exception):
    """The results folder is held by another run; the message names it."""

    def __init__(self, folder: str, holder: dict) -> None:
        self.folder, self.holder = folder, holder
        path = os.path.join(folder, LOCK_NAME)
        who = _describe(holder) if holder else "another run (it did not say which)"
        super().__init__(
            f"results folder {folder} is in use by {who}. Wait for it to end. If it is "
            f"no longer running (killed, or its machine went down), remove {path} "
            "and start again."
        )


def _describe(holder: dict) -> str:
    return (
        f"{holder.get('command', '?')} (pid {holder.get('pid', '?')} on host "
        f"{holder.get('host', '?')}, user {holder.get('user', '?')}, started "
        f"{holder.get('started', '?')}, working directory {holder.get('cwd', '?')})"
    )


def _alive(holder: dict) -> bool:
    """Whether the holder may still run: always for another host, which we cannot ask."""
    if holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, KeyError, ValueError):
        return True
    return True


class ResultsLock:
    """The lock of a results folder, for one run or command.

    Use as a context manager, or :meth:`acquire` and :meth:`release` (the workflow's
    ``onstart`` and ``onsuccess``/``onerror`` handlers).

    Parameters
    ----------
    folder : path
        The results folder (created if missing).
    command : str
        What holds it, for the message another run gets (``"snakemake ..."``).
    """

    def __init__(self, folder: str | os.PathLike, command: str) -> None:
        self.folder = os.path.abspath(folder)
        self.path = os.path.join(self.folder, LOCK_NAME)
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`ResultsLocked` naming its holder."""
        os.makedirs(self.folder, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise ResultsLocked(self.folder, holder) from None
        except OSError as exc:
            if exc.errno not in _NO_LOCKS:
                os.close(fd)
                raise
            holder = _read_holder(fd)
            if holder and _alive(holder):
                os.close(fd)
                raise ResultsLocked(self.folder, holder) from None
        holder = {
            "command": self.command,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "user": _user(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "cwd": os.getcwd(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock back (the file stays: it marks the folder as a results folder)."""
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> ResultsLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _user() -> str:
    """The user's name, or the uid where it has none (containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def _read_holder(fd: int) -> dict:
    text = os.pread(fd, 4096, 0).decode(errors="replace").strip()
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {"command": text}


def results_folder(path: str | os.PathLike) -> str | None:
    """The results folder that ``path`` (a file or folder to write) lies in, if any:
    the nearest folder at or above it that holds a :data:`LOCK_NAME` file."""
    folder = os.path.abspath(path)
    while True:
        if os.path.isfile(os.path.join(folder, LOCK_NAME)):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
