"""The `wardwatch` command line.

Exit codes: 0 ok, 1 the work failed (one-line reason on stderr), 2 bad usage or a bad
registry. Machine output (`--format json`) goes to stdout; progress and human output to
the terminal. Commands import their stage lazily so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from wardwatch import __version__


class Failed(Exception):
    """The work failed: exit 1 with this one-line reason."""


class Usage(Exception):
    """Bad usage or configuration: exit 2 with this one-line reason."""


def _db_default() -> Path:
    return Path(os.environ.get("WARDWATCH_DB") or "data/wardwatch.duckdb")


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, default=None, metavar="PATH",
                   help="warehouse file (default: $WARDWATCH_DB, else data/wardwatch.duckdb)")


def _add_sources(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sources", type=Path, default=Path("sources.toml"), metavar="FILE",
                   help="source registry (default: sources.toml)")
    p.add_argument("--source", action="append", dest="source_ids", metavar="ID",
                   help="only this source id (repeatable)")


def _add_format(p: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json")) -> None:
    p.add_argument("--format", choices=choices, default=choices[0], help="output format")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wardwatch",
        description="Crawl municipal support-program pages and PDFs into a versioned DuckDB warehouse.",
    )
    parser.add_argument("--version", action="version", version=f"wardwatch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("crawl", help="crawl the registry's sources into the warehouse",
                       description="Fetch every source's pages and linked PDFs; store fetches and new versions.")
    _add_sources(p)
    _add_db(p)
    _add_format(p)
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("run", help="the main job: crawl, then the later stages",
                       description="One full pipeline run as a Prefect flow run: per source crawl, extract, diff and flag; "
                                   "then the change report and flags as artifacts.")
    _add_sources(p)
    _add_db(p)
    _add_format(p)
    p.add_argument("--no-prefect", action="store_true", help="run the stages directly, without a Prefect flow run")
    p.add_argument("--webhook", metavar="URL", default=None,
                   help="POST a JSON note when the run finds fact changes or new flags (default: $WARDWATCH_WEBHOOK_URL)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="offline demo: crawl a bundled site twice and show what changed",
                       description="Serve a bundled ward site on 127.0.0.1, crawl it, revise it, crawl again, "
                                   "print the changes. Uses its own warehouse, recreated each time.")
    p.add_argument("--db", type=Path, default=Path("data/demo.duckdb"), metavar="PATH",
                   help="demo warehouse (default: data/demo.duckdb; replaced on each demo)")
    _add_format(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("migrate", help="create or upgrade the warehouse schema")
    _add_db(p)
    p.set_defaults(func=cmd_migrate)

    from wardwatch import cli_more  # later stages register their commands here

    cli_more.register(sub)
    return parser


def resolve_db(args: argparse.Namespace) -> Path:
    return args.db if getattr(args, "db", None) is not None else _db_default()


def load_registry(args: argparse.Namespace) -> list[Any]:
    from wardwatch.registry import RegistryError, load_sources, select

    try:
        return select(load_sources(args.sources), args.source_ids)
    except RegistryError as exc:
        raise Usage(str(exc)) from None


def cmd_crawl(args: argparse.Namespace) -> int:
    from spiders.progress import ProgressDisplay
    from wardwatch.crawl import crawl
    from wardwatch.report_text import crawl_summary

    sources = load_registry(args)
    result = crawl(sources, resolve_db(args), progress=ProgressDisplay())
    if args.format == "json":
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print(crawl_summary(result))
    if result.status != "ok":
        raise Failed(f"{len(result.failed_sources)} of {len(result.sources)} sources failed "
                     f"(first: {result.failed_sources[0]['source_id']}: {result.failed_sources[0]['reason']})")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from wardwatch.pipeline import run_pipeline

    return run_pipeline(args, resolve_db(args), load_registry(args))


def cmd_demo(args: argparse.Namespace) -> int:
    from wardwatch.demo import run_demo

    return run_demo(args.db, fmt=args.format)


def cmd_migrate(args: argparse.Namespace) -> int:
    from warehouse.schema import migrate

    applied = migrate(resolve_db(args))
    print(f"{resolve_db(args)}: applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from warehouse.db import WarehouseError

    try:
        return args.func(args)
    except Usage as exc:
        print(f"wardwatch {args.command}: {exc}", file=sys.stderr)
        return 2
    except (Failed, WarehouseError) as exc:
        print(f"wardwatch {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"wardwatch {args.command}: interrupted", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"wardwatch {args.command}: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback to the user; WARDWATCH_DEBUG=1 shows it
        if os.environ.get("WARDWATCH_DEBUG"):
            raise
        print(f"wardwatch {args.command}: internal error: {type(exc).__name__}: {exc} (WARDWATCH_DEBUG=1 for details)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
