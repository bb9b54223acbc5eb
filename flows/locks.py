"""At most one run per source at a time: the per-source file lock of warehouse.locks, for async flows.

Why not a Prefect concurrency limit: in Prefect's local mode every `wardwatch run` starts its own
temporary server, and concurrency-slot leases live in that server's memory; a run killed half way
would leave its slot taken in the shared database with no server left to expire it. An OS file
lock (flock) is released by the kernel when its holder dies, and works the same with the local
mode, a `prefect server`, Prefect Cloud and `--no-prefect` (which takes the same lock files).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from wardwatch.stages import TerminalStageError


class SourceBusy(TerminalStageError):
    """Another run of the same source held the lock for longer than we were willing to wait."""


@contextlib.asynccontextmanager
async def source_lock(db_path: str | Path, source_id: str, timeout: float = 3600.0, poll: float = 0.2,
                      on_wait: Callable[[Path], None] | None = None) -> AsyncIterator[Path]:
    """Hold ``<db dir>/locks/<db name>.<source id>.lock``; wait (off the event loop) up to ``timeout`` s."""
    from warehouse.locks import LockTimeout, hold

    lock = hold(db_path, source_id, timeout=timeout, poll=poll, on_wait=on_wait)
    try:
        path = await asyncio.to_thread(lock.__enter__)  # other sources' subflows go on meanwhile
    except LockTimeout:
        raise SourceBusy(f"{source_id}: another run of this source is still going "
                         f"(waited {timeout:.0f}s for {lock_path(db_path, source_id)})") from None
    try:
        yield path
    finally:
        lock.__exit__(None, None, None)


def lock_path(db_path: str | Path, source_id: str) -> Path:
    from warehouse.locks import lock_path as path_of

    return path_of(db_path, source_id)
