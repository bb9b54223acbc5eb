"""What every command shares: the two errors (exit 1 / exit 2), the common options, the warehouse
and registry they name."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

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


def add_sources(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sources", type=Path, default=Path("sources.toml"), metavar="FILE",
                   help="source registry (default: sources.toml)")
    p.add_argument("--source", action="append", dest="source_ids", metavar="ID",
                   help="only this source id (repeatable)")


def add_format(p: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json")) -> None:
    p.add_argument("--format", choices=choices, default=choices[0], help="output format")


def resolve_db(args: argparse.Namespace) -> Any:
    """The warehouse a command works on: ``--db``, else $WARDWATCH_DB, else data/wardwatch.duckdb — or
    the ``Warehouse`` object the caller of ``wardwatch.cli.main(argv, warehouse=...)`` passed (tests)."""
    if getattr(args, "warehouse", None) is not None:
        return args.warehouse
    return args.db if getattr(args, "db", None) is not None else db_default()


def file_db(args: argparse.Namespace) -> Path:
    """The warehouse as a file path, for commands that hand it to child processes (crawl, run)."""
    db = resolve_db(args)
    if getattr(db, "memory", False):
        raise Usage("this command needs a warehouse file (--db PATH), not an in-memory warehouse")
    return Path(db)


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
