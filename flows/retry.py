"""The one retry policy of wardwatch's Prefect tasks: which failures are worth retrying, and how
long to wait between tries."""

from __future__ import annotations

from typing import Any

from wardwatch.stages.errors import TransientStageError
from warehouse.db import WarehouseError

# Seconds before retry 1, 2, 3. A site that is down for maintenance or a warehouse held by
# another writer usually comes back within minutes.
RETRY_DELAYS = [10, 60, 300]
JITTER = 0.2


def is_transient(exc: BaseException | None) -> bool:
    """TransientStageError, an error marked ``transient`` (a DuckLake commit conflict), or a WarehouseError saying
    the warehouse is locked."""
    if isinstance(exc, TransientStageError) or getattr(exc, "transient", False) is True:
        return True  # (a DuckLake commit conflict says so itself: WarehouseConflict.transient)
    return isinstance(exc, WarehouseError) and "locked" in str(exc).lower()


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only transient failures.

    The engine hands over a Failed state whose ``data`` is the exception the task raised.
    """
    data = getattr(state, "data", None)
    return is_transient(data if isinstance(data, BaseException) else None)
