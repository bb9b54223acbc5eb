"""Staged captures: what a crawl fetched, on disk, before it is loaded into DuckDB.

The crawler never holds the DuckDB write lock for a whole crawl. Each response becomes a
capture written atomically to the staging folder (body first, then the metadata file by
rename, so a metadata file always means a complete capture). The loader moves captures
into the warehouse in short transactions and deletes them only after the commit; a crawl
killed half way leaves captures that the next run loads first (idempotent by fetch id).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path


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
    """Metadata files of captures waiting to be loaded, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name))


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
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
