"""`wardwatch crawl` and `wardwatch migrate`."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys

from wardwatch.cli.common import (
    Failed,
    Usage,
    add_db,
    add_format,
    add_sources,
    file_db,
    load_registry,
    print_json,
    resolve_db,
)

RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("crawl", help="crawl the registry's sources into the warehouse",
                       description="Fetch every source's pages and linked PDFs; store fetches and new versions.")
    add_sources(p)
    add_db(p)
    add_format(p)
    add_concurrency(p)
    add_shard(p)
    p.add_argument("--run-id", default=None, help=argparse.SUPPRESS)  # chosen by a parent run (wardwatch run)
    p.add_argument("--events", action="store_true", help=argparse.SUPPRESS)  # a line per finished source (runner)
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("migrate", help="create or upgrade the warehouse schema")
    add_db(p)
    p.set_defaults(func=cmd_migrate)


def add_concurrency(p: argparse.ArgumentParser, extra: str = "") -> None:
    from spiders.settings import DEFAULT_CONCURRENCY

    p.add_argument("--concurrency", type=int, default=None, metavar="N",
                   help=f"crawl up to N sources (hosts) at once in one crawl process (default {DEFAULT_CONCURRENCY}, "
                        "sized for a laptop); each host still gets one request at a time, its delay_seconds apart"
                        + extra)


def add_shard(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shard", default=None, metavar="K/N",
                   help="only shard K of N of the registry's sources (a stable split by a CRC-32 of the source id: "
                        "run 1/N … N/N on N machines to share the sources; 1/1 = all)")


def check_concurrency(args: argparse.Namespace, default: int | None = None) -> int:
    """``--concurrency`` (``default``, else DEFAULT_CONCURRENCY, when not given); Usage when below 1."""
    from spiders.settings import DEFAULT_CONCURRENCY

    if args.concurrency is None:
        return default or DEFAULT_CONCURRENCY
    if args.concurrency < 1:
        raise Usage(f"--concurrency {args.concurrency}: must be at least 1")
    return args.concurrency


def sharded(args: argparse.Namespace, sources: list) -> list:
    """``sources`` (already narrowed by ``--source``) less those outside ``--shard K/N``; a malformed shard
    is bad usage (exit 2, one line)."""
    from spiders.registry import parse_shard, select_shard

    if getattr(args, "shard", None) is None:
        return sources
    try:
        shard = parse_shard(args.shard)
    except ValueError as exc:
        raise Usage(str(exc)) from None
    return select_shard(sources, shard)


def say_empty_shard(args: argparse.Namespace) -> None:
    """One line on stderr: this machine's shard holds no source (a small registry split many ways)."""
    print(f"shard {args.shard} of {args.sources} has no sources; nothing to do", file=sys.stderr)


def cmd_crawl(args: argparse.Namespace) -> int:
    from spiders.progress import ProgressDisplay
    from wardwatch.cli.summaries import crawl_summary
    from wardwatch.stages import interrupt
    from wardwatch.stages.crawl import crawl
    from wardwatch.stages.errors import Interrupted

    if os.environ.get(interrupt.PARENT_ENV):  # a child of `wardwatch run`: stop when it dies
        interrupt.die_with_parent()
    if args.run_id is not None and not RUN_ID.fullmatch(args.run_id):
        raise Usage(f"--run-id {args.run_id!r}: not a run id (like 20261122T182202Z-a9d185)")
    concurrency = check_concurrency(args)
    sources = sharded(args, load_registry(args))
    db_path = file_db(args)
    if not sources:
        say_empty_shard(args)
        return 0
    child = bool(os.environ.get(interrupt.PARENT_ENV))  # `wardwatch run` prints its own progress lines
    progress = ProgressDisplay(lines=None if child else (sys.stderr if args.format == "json" else sys.stdout))
    progress.starting([s.id for s in sources])
    on_source = None
    if args.events:  # for the parent run: each source's result as soon as it is done
        from wardwatch.stages.crawl import event_line

        def on_source(source_id: str, result: dict) -> None:
            print(event_line(source_id, result), file=sys.stderr, flush=True)

    result = crawl(sources, db_path, progress=progress, run_id=args.run_id, concurrency=concurrency,
                   on_source=on_source)
    if args.format == "json":
        print_json(result.to_json())
    else:
        print(crawl_summary(result))
    if result.status == "interrupted":  # never "ok": summary and JSON say so, and the exit code
        by = result.interrupted_by or ""
        sys.stdout.flush()
        if by.startswith("SIG") and hasattr(signal, by):
            raise Interrupted(getattr(signal, by), f"crawl {result.run_id} interrupted by {by}; "
                                                   "what was fetched is stored, the next run crawls again")
        raise Failed(f"crawl {result.run_id} was interrupted (spider closed: {by or 'shutdown'})")
    if result.status != "ok":
        raise Failed(f"{len(result.failed_sources)} of {len(result.sources)} sources failed "
                     f"(first: {result.failed_sources[0]['source_id']}: {result.failed_sources[0]['reason']})")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from warehouse.schema import migrate

    db = resolve_db(args)
    applied = migrate(db)
    print(f"{db}: applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0
