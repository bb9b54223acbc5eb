"""SIGINT / SIGTERM for a whole wardwatch process (`run`, `crawl`, `reextract`): stop within seconds.

:func:`install` puts one handler on both signals. The first signal

* is forwarded to every child process registered with :func:`track` (crawl children stop their
  spiders gracefully, store what they fetched and record their run as ``interrupted``);
* raises :class:`~wardwatch.stages.errors.Interrupted` in the main thread, which unwinds the command;
* starts a watchdog: if the process is still alive after the grace period (``WARDWATCH_INTERRUPT_GRACE``,
  default 15 s) — a worker thread stuck in a long stage, an event loop waiting for its threads — the
  watchdog kills the children, runs the registered cleanups (each bounded), and ends the process with
  ``os._exit(128 + signal)``.

A second signal ends the process at once the same way. Nothing here imports Scrapy or Prefect.
On Linux, :func:`die_with_parent` makes a child get SIGTERM when its parent dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from wardwatch.stages.errors import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)
GRACE_ENV = "WARDWATCH_INTERRUPT_GRACE"
PARENT_ENV = "WARDWATCH_PARENT_PID"  # set for children that should die with their parent
DEFAULT_GRACE_S = 15.0
CLEANUP_BUDGET_S = 5.0  # per cleanup, in the watchdog

_lock = threading.RLock()
_children: set[subprocess.Popen] = set()
_cleanups: list[Callable[[], None]] = []
_state: dict[str, Any] = {"signum": None, "installed": False, "previous": {}, "label": "wardwatch"}


def grace() -> float:
    try:
        return max(0.0, float(os.environ.get(GRACE_ENV) or DEFAULT_GRACE_S))
    except ValueError:
        return DEFAULT_GRACE_S


def requested() -> int | None:
    """The signal number that asked this process to stop, if one did."""
    return _state["signum"]


def check() -> None:
    """Raise Interrupted if a stop was requested (called between stages, from any thread)."""
    if _state["signum"] is not None:
        raise Interrupted(_state["signum"])


def install(label: str = "wardwatch") -> bool:
    """Install the handler on SIGINT and SIGTERM (main thread only; returns False elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    with _lock:
        _state.update(signum=None, label=label)
        if not _state["installed"]:
            _state["previous"] = {s: signal.getsignal(s) for s in SIGNALS}
            for s in SIGNALS:
                signal.signal(s, _handler)
            _state["installed"] = True
    return True


def uninstall() -> None:
    """Put back the handlers :func:`install` replaced, and forget the interrupt (for in-process callers)."""
    if threading.current_thread() is not threading.main_thread():
        return
    with _lock:
        if _state["installed"]:
            for s, h in _state["previous"].items():
                signal.signal(s, h if h is not None else signal.SIG_DFL)
        _state.update(installed=False, previous={}, signum=None)
        _cleanups.clear()


def _handler(signum: int, frame: Any) -> None:
    trigger(signum)
    raise Interrupted(signum)


def trigger(signum: int) -> None:
    """What a stop signal does, short of raising: record it, tell the children, start the watchdog.
    For signals a library caught first (Prefect turns SIGTERM into its own TerminationSignal during
    a flow run). A second call ends the process at once."""
    with _lock:
        first = _state["signum"] is None
        if first:
            _state["signum"] = signum
    _forward(signum)
    if not first:  # a second signal: no more waiting
        _exit_now(signum, "second signal")
    threading.Thread(target=_watchdog, args=(signum, grace()), name="wardwatch-interrupt", daemon=True).start()


def signal_of(exc: BaseException) -> int | None:
    """The stop signal an exception stands for: Interrupted, KeyboardInterrupt (SIGINT), or a library's
    termination exception carrying a ``signal`` number (Prefect's TerminationSignal)."""
    if isinstance(exc, Interrupted):
        return exc.signum
    if isinstance(exc, KeyboardInterrupt):
        return signal.SIGINT
    number = getattr(exc, "signal", None)
    return int(number) if isinstance(number, int) and number in (signal.SIGINT, signal.SIGTERM) else None


def _forward(signum: int) -> None:
    for child in list(_children):
        with contextlib.suppress(OSError):
            if child.poll() is None:
                child.send_signal(signum)


def _watchdog(signum: int, seconds: float) -> None:
    time.sleep(seconds)
    _exit_now(signum, f"still running {seconds:.0f}s after the signal")


def _exit_now(signum: int, why: str) -> None:
    for child in list(_children):
        with contextlib.suppress(OSError):
            if child.poll() is None:
                child.kill()
    run_cleanups()
    name = signal.Signals(signum).name
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    with contextlib.suppress(Exception):
        sys.stderr.write(f"{_state['label']}: interrupted by {name} ({why}: stopped)\n")
        sys.stderr.flush()
    os._exit(128 + signum)


@contextlib.contextmanager
def track(child: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """Forward stop signals to ``child`` while the block runs (and at once if one already came)."""
    with _lock:
        _children.add(child)
    try:
        if _state["signum"] is not None:
            _forward(_state["signum"])
        yield child
    finally:
        with _lock:
            _children.discard(child)


def children_alive() -> int:
    return sum(1 for c in list(_children) if c.poll() is None)


def wait_for_children(timeout: float) -> bool:
    """Wait until every tracked child has exited (True) or ``timeout`` passed (False)."""
    deadline = time.monotonic() + timeout
    while children_alive():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def on_exit(fn: Callable[[], None]) -> Callable[[], None]:
    """Register a cleanup the watchdog runs before it ends the process (e.g. stop a server);
    returns a function that unregisters it."""
    with _lock:
        _cleanups.append(fn)

    def remove() -> None:
        with _lock, contextlib.suppress(ValueError):
            _cleanups.remove(fn)

    return remove


def run_cleanups(budget: float = CLEANUP_BUDGET_S) -> None:
    """Each registered cleanup in a thread of its own, waited for up to ``budget`` seconds; never raises."""
    with _lock:
        todo = list(reversed(_cleanups))
        _cleanups.clear()
    for fn in todo:
        t = threading.Thread(target=_quietly, args=(fn,), daemon=True)
        t.start()
        t.join(budget)


def _quietly(fn: Callable[[], None]) -> None:
    with contextlib.suppress(BaseException):
        fn()


def bounded(fn: Callable[[], Any], timeout: float = CLEANUP_BUDGET_S) -> bool:
    """Run ``fn`` in a daemon thread, waiting up to ``timeout``; True if it finished without raising."""
    done: list[bool] = []

    def target() -> None:
        try:
            fn()
            done.append(True)
        except BaseException:
            pass

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    return bool(done)


# ---------------------------------------------------------------- children that die with their parent

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel (Linux) to send ``sig`` to this process when its parent dies — even by SIGKILL.
    If ``$WARDWATCH_PARENT_PID`` names a parent that is already gone, exit at once. Returns False
    where prctl is not available."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    expected = os.environ.get(PARENT_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):  # parent died before prctl
        os._exit(128 + int(sig))
    return True


def lingering_threads() -> list[threading.Thread]:
    """Non-daemon threads other than the main one that are still alive (they would keep the process up)."""
    return [t for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive() and not t.daemon]
