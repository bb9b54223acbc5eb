"""Staged captures: what a crawl fetched, on disk, before it is loaded into DuckDB.

The crawler never holds the DuckDB write lock for a whole crawl. Each response becomes a
capture written atomically to the staging folder (body first, then the metadata file by
rename, so a metadata file always means a complete capture). The loader moves captures
into the warehouse in short transactions and deletes them only after the commit; a crawl
killed half way leaves captures that the next run loads first (idempotent by fetch id).

What a crash or a full disk can leave besides — ``*.tmp`` files of an unfinished write, a
``.body`` whose metadata file was never written — is swept by :func:`pending` (so at every
load) once it is older than this process and than :data:`ORPHAN_AGE_S`: such a file cannot
belong to a write still in progress in this or another crawl sharing the folder (a write
takes milliseconds, and this process did not exist when it began).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ORPHAN_AGE_S = 60.0
_STARTED = time.time()  # when this process imported the module: about when it started


@dataclass
class Capture:
    """One request's outcome: a response (any status) or a failure."""

    run_id: str
    source_id: str
    url: str
    requested_url: str
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    media_type: str | None = None
    charset: str | None = None
    body: bytes | None = field(default=None, repr=False)
    not_modified: bool = False  # a 304 (body, if any, is the stored version's)
    error_kind: str | None = None
    error: str | None = None
    depth: int | None = None
    referer: str | None = None
    elapsed_ms: int | None = None
    fetched_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    fetch_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.body).hexdigest() if self.body is not None and not self.not_modified else None


def write(folder: Path, capture: Capture) -> Path:
    """Write one capture atomically; returns the metadata path."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = asdict(capture)
    body = meta.pop("body")
    if body is not None and not capture.not_modified:
        _atomic_write(folder / f"{capture.fetch_id}.body", body)
        meta["has_body"] = True
    else:
        meta["has_body"] = False
    path = folder / f"{capture.fetch_id}.json"
    _atomic_write(path, json.dumps(meta, ensure_ascii=False).encode("utf-8"))
    return path


def pending(folder: Path) -> list[Path]:
    """Metadata files of captures waiting to be loaded, oldest first (orphans swept first)."""
    if not folder.is_dir():
        return []
    sweep(folder)
    return sorted(folder.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name))


def by_run(folder: Path) -> dict[str, list[str]]:
    """The fetch ids of the captures staged in ``folder``, by the run that staged them (a capture's metadata
    names its run: several crawls — parallel sources of one `wardwatch run` — share the folder). A file
    that vanishes meanwhile (loaded by another process) or cannot be read is left out."""
    found: dict[str, list[str]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.json")):
        try:
            run_id = json.loads(path.read_text(encoding="utf-8")).get("run_id")
        except (OSError, ValueError, AttributeError):
            continue
        found.setdefault(str(run_id), []).append(path.stem)
    return found


def orphans(folder: Path, *, now: float | None = None) -> list[Path]:
    """Leftovers of interrupted writes in ``folder``: ``*.tmp`` files, and ``.body`` files without their
    metadata file, last modified before this process started and more than ORPHAN_AGE_S ago."""
    cutoff = min(_STARTED, (time.time() if now is None else now) - ORPHAN_AGE_S)
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    names = {e.name for e in entries}
    for entry in entries:
        if not (entry.name.endswith(".tmp") or entry.name.endswith(".body") and entry.name[:-5] + ".json" not in names):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                found.append(Path(entry.path))
        except OSError:
            continue
    return sorted(found)


def sweep(folder: Path) -> list[Path]:
    """Delete :func:`orphans` (one that vanished or cannot be deleted meanwhile is skipped); returns those removed."""
    removed = []
    for path in orphans(folder):
        try:
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def read(path: Path) -> Capture:
    meta = json.loads(path.read_text(encoding="utf-8"))
    has_body = meta.pop("has_body", False)
    body = path.with_suffix(".body").read_bytes() if has_body else None
    return Capture(body=body, **meta)


def remove(path: Path) -> None:
    for p in (path, path.with_suffix(".body")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _atomic_write(path: Path, data: bytes) -> None:
    """Write-then-rename: a killed process never leaves a half-written capture.

    No fsync per file: a process crash keeps the page cache, and a capture lost to a power
    failure is only re-fetched by the next run (the warehouse itself is durable at each commit).
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:  # a full disk, a signal: leave no half-written temp file behind
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
