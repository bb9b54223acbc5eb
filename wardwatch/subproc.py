"""Run a crawl in a child process (Scrapy's reactor cannot restart within one process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


class CrawlProcessError(RuntimeError):
    pass


def crawl_subprocess(sources_file: Path, db_path: Path, source_ids: list[str] | None = None,
                     timeout: float | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """`wardwatch crawl --format json` in a child; returns its JSON result.

    A run where some sources failed still returns its result (status "partial"/"failed");
    a child that died or printed no result raises CrawlProcessError with its last stderr line.
    """
    cmd = [sys.executable, "-m", "wardwatch", "crawl", "--sources", str(sources_file), "--db", str(db_path), "--format", "json"]
    for sid in source_ids or []:
        cmd += ["--source", sid]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        last = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise CrawlProcessError(f"crawl process failed: {last}") from None
