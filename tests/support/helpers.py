"""Helpers the tests share: read a test warehouse, run the CLI in a child process or in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]


def q(db: Path | str, sql: str, params: list | tuple = ()) -> list[tuple]:
    """Rows of a read-only query on a test warehouse file."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def wardwatch(*args: str, env: dict[str, str] | None = None, timeout: float = 300, cwd: Path | str | None = None,
              **kw) -> subprocess.CompletedProcess:
    """`python -m wardwatch ARGS` in a child process (text output captured)."""
    return subprocess.run([sys.executable, "-m", "wardwatch", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout, env={**os.environ, **(env or {})}, **kw)


def main(argv: list[str], warehouse: object | None = None) -> int:
    """`wardwatch ARGS` in this process; the exit code (argparse's usage errors included).
    ``warehouse`` (e.g. ``Warehouse(":memory:")``) stands in for ``--db``."""
    from wardwatch.cli import main as cli_main

    try:
        return cli_main(argv, warehouse=warehouse)
    except SystemExit as exc:
        return int(exc.code or 0)
