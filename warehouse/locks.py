"""OS file locks beside the warehouse (``<db dir>/locks/<db name>.<name>.lock``).

flock locks are released by the kernel when their holder dies, so a killed run never leaves a
lock behind. Used for: one run per source at a time, one diff/flag evaluation at a time,
and telling live runs from abandoned ones.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from warehouse.db import Warehouse


class LockTimeout(RuntimeError):
    pass


def lock_path(db: Warehouse | str | Path, name: str) -> Path:
    wh = Warehouse.of(db)
    return wh.lock_dir / f"{wh.name}.{name}.lock"


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


@contextlib.contextmanager
def hold(db_path: Warehouse | str | Path, name: str, *, timeout: float = 3600.0, poll: float = 0.2,
         on_wait: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Hold the named lock exclusively, waiting up to ``timeout`` seconds (LockTimeout after)."""
    path = lock_path(db_path, name)
    fd = _open(path)
    try:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"{path} is held by another wardwatch process (waited {timeout:.0f}s)") from None
                if not waited and on_wait is not None:
                    on_wait(path)
                waited = True
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)  # closing releases the flock


def is_held(db_path: Warehouse | str | Path, name: str) -> bool:
    """True while some live process holds the named lock."""
    path = lock_path(db_path, name)
    if not path.exists():
        return False
    fd = _open(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
