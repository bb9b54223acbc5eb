"""Waiting in tests: on a condition (polled with a deadline) — never a fixed sleep standing in for "long enough"."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_tick = threading.Event()  # never set: its wait() is the polling interval


def wait_until(predicate: Callable[[], T], timeout: float, what: str, *, proc: subprocess.Popen | None = None,
               interval: float = 0.1) -> T:
    """``predicate()``'s first truthy value, checked every ``interval`` s for up to ``timeout`` s. A ``proc``
    that exits first, or the deadline, fails the test naming ``what`` (the process is killed on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"exited ({proc.returncode}) before {what}: {(err or '')[-2000:]}")
        if time.monotonic() > deadline:
            if proc is not None:
                proc.kill()
            raise AssertionError(f"timed out waiting for {what}")
        _tick.wait(interval)


def read_line(proc: subprocess.Popen, timeout: float, what: str) -> str:
    """The next line ``proc`` writes on stdout (its own signal that it got somewhere), within ``timeout`` s."""
    import select

    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        raise AssertionError(f"timed out waiting for {what}")
    line: Any = proc.stdout.readline()  # type: ignore[union-attr]
    if not line:
        raise AssertionError(f"exited ({proc.wait()}) before {what}")
    return line


def has_open(pid: int, path: Any) -> bool:
    """Process ``pid`` has ``path`` open (Linux /proc): e.g. a stage waiting on a lock file."""
    import os
    from pathlib import Path

    target = str(Path(path).resolve())
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                return True
        except OSError:
            continue
    return False
