"""What every command shares: the two errors (exit 1 / exit 2), the common options, the warehouse
and registry they name."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path
from typing import Any

# The one way user data reaches the terminal (text: safe_print; --format json: print_json / safe_json).
from extractors.termsafe import safe_json, safe_print

__all__ = ["Failed", "Usage", "add_db", "add_format", "add_sources", "check_db_path", "existing_db", "file_db",
           "lake_warehouse", "load_registry", "print_json", "resolve_db", "safe_print", "write_output_file"]

DEFAULT_DB = Path("data") / "wardwatch.duckdb"


class Failed(Exception):
    """The work failed: exit 1 with this one-line reason."""


class Usage(Exception):
    """Bad usage or configuration: exit 2 with this one-line reason."""


def db_default() -> Path:
    return Path(os.environ.get("WARDWATCH_DB") or DEFAULT_DB)


def add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, default=None, metavar="PATH",
                   help="warehouse file (default: $WARDWATCH_DB, else data/wardwatch.duckdb)")
    p.add_argument("--warehouse", dest="warehouse_url", default=None, metavar="URL",
                   help="a shared DuckLake warehouse instead of a file: DuckLake's connection string with a "
                        "Postgres catalog, e.g. 'ducklake:postgres:dbname=ww host=127.0.0.1 user=postgres' "
                        "(default: $WARDWATCH_WAREHOUSE)")
    p.add_argument("--data-path", dest="data_path", default=None, metavar="DIR",
                   help="where a DuckLake warehouse keeps its Parquet files and raw bytes: a directory or "
                        "s3://bucket/prefix/ (default: $WARDWATCH_DATA_PATH; needed when the lake is created)")


def add_sources(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sources", type=Path, default=Path("sources.toml"), metavar="FILE",
                   help="source registry (default: sources.toml)")
    p.add_argument("--source", action="append", dest="source_ids", metavar="ID",
                   help="only this source id (repeatable)")


def add_format(p: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json")) -> None:
    p.add_argument("--format", choices=choices, default=choices[0], help="output format")


def resolve_db(args: argparse.Namespace) -> Any:
    """The warehouse a command works on: ``--warehouse URL`` (a DuckLake warehouse, with ``--data-path``),
    else ``--db``, else $WARDWATCH_WAREHOUSE, else $WARDWATCH_DB, else data/wardwatch.duckdb — or
    the ``Warehouse`` object the caller of ``wardwatch.cli.main(argv, warehouse=...)`` passed (tests).
    A lake is returned as a ``Warehouse``; ``--db`` also takes a lake's URL or its pointer file.
    A path that is not a regular file (a FIFO, a device, a directory) or lies under /dev, /proc or /sys
    is refused (Usage): DuckDB would block on a FIFO, and locks/staging would be created beside it."""
    if getattr(args, "warehouse", None) is not None:
        return args.warehouse
    url, db = getattr(args, "warehouse_url", None), getattr(args, "db", None)
    if url is not None and db is not None:
        raise Usage("give --db PATH or --warehouse URL, not both")
    if url is None and db is None:
        url = os.environ.get("WARDWATCH_WAREHOUSE") or None
    if url is None and db is not None and (str(db).startswith("ducklake:") or str(db).endswith(".lake.json")):
        url = str(db)
    data_path = getattr(args, "data_path", None)
    if url is None:
        if data_path is not None:
            raise Usage("--data-path goes with a DuckLake warehouse (--warehouse URL)")
        return check_db_path(db if db is not None else db_default())
    return lake_warehouse(url, data_path)


def lake_warehouse(url: str, data_path: str | None = None) -> Any:
    """The DuckLake warehouse ``url`` names (a connection string or a pointer file); Usage when malformed."""
    from warehouse.db import Warehouse, WarehouseError

    if not (url.startswith("ducklake:") or url.endswith(".lake.json")):
        raise Usage(f"--warehouse {url!r}: not a DuckLake connection string "
                    "(give 'ducklake:postgres:dbname=… host=… user=…')")
    try:
        wh = Warehouse(url, data_path=data_path or os.environ.get("WARDWATCH_DATA_PATH") or None)
    except WarehouseError as exc:
        raise Usage(f"--warehouse: {exc}") from None
    return wh  # child processes (crawls) get ``--db <its pointer file>``: URL and data path


_SPECIAL_ROOTS = (Path("/dev"), Path("/proc"), Path("/sys"))
_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def check_db_path(path: Path) -> Path:
    """``path`` when it can be a warehouse file: absent or a regular file, outside /dev, /proc, /sys."""
    path = Path(path)
    try:
        st = os.stat(path)  # follows a symlink: what DuckDB would open; never blocks, even on a FIFO
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise Usage(f"--db {path}: cannot use it: {exc.strerror or exc}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise Usage(f"--db {path}: is {kind}, not a warehouse file (give a path to a .duckdb file)")
    resolved = Path(os.path.realpath(path))
    if any(resolved == root or root in resolved.parents for root in _SPECIAL_ROOTS):
        raise Usage(f"--db {path}: is under {resolved.parts[0]}{resolved.parts[1]}, not a warehouse file "
                    "(give a path to a .duckdb file)")
    return path


def file_db(args: argparse.Namespace) -> Path:
    """The warehouse as a file path, for commands that hand it to child processes (crawl, run)."""
    db = resolve_db(args)
    if getattr(db, "memory", False):
        raise Usage("this command needs a warehouse file (--db PATH), not an in-memory warehouse")
    return Path(db)  # a lake: its pointer file in its home folder (names the lake in a child process)


def existing_db(args: argparse.Namespace) -> Path:
    """The warehouse the command names; Failed when there is none yet."""
    db = resolve_db(args)
    if not db.exists():
        raise Failed(f"{db}: no warehouse here (run `wardwatch crawl` or `wardwatch demo` first)")
    return db


def load_registry(args: argparse.Namespace) -> list[Any]:
    from spiders.registry import RegistryError, load_sources, select

    try:
        return select(load_sources(args.sources), args.source_ids)
    except RegistryError as exc:
        raise Usage(str(exc)) from None


def write_output_file(path: Path, data: str | bytes) -> None:
    """Write a file the user named (``-o FILE``) via the one output-file helper: atomic, never through a
    symlink (Usage when the target is a link or not a regular file; Failed when it cannot be written)."""
    from wardwatch.outfile import OutputRefused, write_output

    try:
        write_output(path, data)
    except OutputRefused as exc:
        raise Usage(str(exc)) from None
    except OSError as exc:
        raise Failed(f"{path}: cannot write: {exc.strerror or exc}") from None


def print_json(obj: Any, file: Any = None, **kw: Any) -> None:
    """``--format json`` output: valid JSON with C1/DEL/bidi controls escaped (extractors.termsafe.safe_json)."""
    import sys

    kw.setdefault("indent", 2)
    print(safe_json(obj, **kw), file=file or sys.stdout)
