"""`wardwatch crawl` and `wardwatch migrate`."""

from __future__ import annotations

import argparse
import json

from wardwatch.cli.common import Failed, add_db, add_format, add_sources, file_db, load_registry, resolve_db


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("crawl", help="crawl the registry's sources into the warehouse",
                       description="Fetch every source's pages and linked PDFs; store fetches and new versions.")
    add_sources(p)
    add_db(p)
    add_format(p)
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("migrate", help="create or upgrade the warehouse schema")
    add_db(p)
    p.set_defaults(func=cmd_migrate)


def cmd_crawl(args: argparse.Namespace) -> int:
    from spiders.progress import ProgressDisplay
    from wardwatch.cli.summaries import crawl_summary
    from wardwatch.stages.crawl import crawl

    sources = load_registry(args)
    result = crawl(sources, file_db(args), progress=ProgressDisplay())
    if args.format == "json":
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print(crawl_summary(result))
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
