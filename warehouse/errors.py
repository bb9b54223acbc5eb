"""The warehouse's errors (a module of their own, so db, ducklake and blobs share them without cycles)."""

from __future__ import annotations


class WarehouseError(RuntimeError):
    """The warehouse cannot be used (locked too long, read-only, corrupt, disk full)."""


class WarehouseConflict(WarehouseError):
    """A DuckLake commit lost to a concurrent, conflicting commit: transient, the work can be retried."""

    transient = True
