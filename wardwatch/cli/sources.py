"""`wardwatch sources list | check [ID…] | add`: the registry, for maintainers.

``check`` tries each start URL the way the crawler would (DNS, robots.txt, the first page, which links
``follow`` takes) without touching the warehouse; ``add`` validates a new source with the registry's
own rules and writes it into the TOML file with its comments and layout kept (tomlkit).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from wardwatch.cli.common import Failed, Usage, add_format, load_registry
from wardwatch.cli.crawl import add_shard, sharded


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sources", help="list, check or add registry sources",
                       description="The source registry (sources.toml): list it, check sources against their sites "
                                   "without crawling, or add a validated source.")
    inner = p.add_subparsers(dest="sources_command", metavar="ACTION", required=True)

    ls = inner.add_parser("list", help="the registry's sources")
    _sources_file(ls)
    add_format(ls)
    add_shard(ls)
    ls.set_defaults(func=cmd_list)

    check = inner.add_parser("check", help="DNS, robots.txt, first page and followed links of sources (no warehouse)")
    _sources_file(check)
    check.add_argument("source_ids", nargs="*", metavar="ID", help="only these sources (default: all)")
    check.add_argument("--timeout", type=float, default=10.0, metavar="S", help="per request (default 10)")
    add_format(check)
    check.set_defaults(func=cmd_check)

    add = inner.add_parser("add", help="add a source to the registry (validated; comments kept)")
    _sources_file(add)
    add.add_argument("--id", required=True)
    add.add_argument("--municipality", required=True, help="e.g. 練馬区")
    add.add_argument("--code", required=True, help="6-digit 全国地方公共団体コード, e.g. 131202")
    add.add_argument("--kind", default="official", choices=("official", "secondary"))
    add.add_argument("--name", default=None)
    add.add_argument("--start-url", action="append", required=True, dest="start_urls", metavar="URL")
    add.add_argument("--allowed-domain", action="append", dest="allowed_domains", metavar="HOST",
                     help="default: the start URLs' hosts")
    add.add_argument("--follow", action="append", default=[], metavar="REGEX", help="URL path regex (repeatable)")
    add.add_argument("--max-depth", type=int, default=2)
    add.add_argument("--schedule", default="0 6 * * *", help="cron, Asia/Tokyo (default: 0 6 * * *)")
    add.add_argument("--delay-seconds", type=float, default=None)
    add.add_argument("--max-pages", type=int, default=None)
    add.add_argument("--notes", default=None)
    add.set_defaults(func=cmd_add)


def _sources_file(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sources", type=Path, default=Path("sources.toml"), metavar="FILE",
                   help="source registry (default: sources.toml)")


def cmd_list(args: argparse.Namespace) -> int:
    from extractors.termsafe import terminal_safe

    args.source_ids = None
    sources = sharded(args, load_registry(args))
    if args.format == "json":
        print(json.dumps([{**s.to_row(), "follow": list(s.follow), "max_depth": s.max_depth} for s in sources],
                         ensure_ascii=False, indent=2))
        return 0
    for s in sources:
        print(terminal_safe(f"{s.id:<24} {s.kind:<9} {s.municipality} ({s.code})  {len(s.start_urls)} start URL(s)  "
                            f"schedule {s.schedule}"))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from extractors.termsafe import terminal_safe
    from wardwatch.stages.sources import check_source

    sources = load_registry(argparse.Namespace(sources=args.sources, source_ids=args.source_ids or None))
    results = [check_source(s, timeout=args.timeout) for s in sources]
    if args.format == "json":
        print(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            print(terminal_safe(f"{r.source_id}: {'ok' if r.ok else 'PROBLEM'}"))
            for s in r.starts:
                state = "ok" if s.ok else "problem"
                print(terminal_safe(f"  {state:<8} {s.url}"))
                if s.problem:
                    print(terminal_safe(f"           {s.problem}"))
                else:
                    print(terminal_safe(f"           HTTP {s.status} {s.media_type or '?'} {s.size} bytes · robots.txt "
                                        f"{s.robots} · follows {len(s.follow)} page(s), {len(s.documents)} document(s)"))
                    for url in s.follow[:10]:
                        print(terminal_safe(f"             → {url}"))
                    if len(s.follow) > 10:
                        print(f"             … {len(s.follow) - 10} more")
    bad = [r.source_id for r in results if not r.ok]
    if bad:
        raise Failed(f"{len(bad)} of {len(results)} source(s) have problems: {', '.join(bad)}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    import tomlkit

    from spiders.registry import RegistryError, load_sources

    path: Path = args.sources
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    except (tomlkit.exceptions.ParseError, UnicodeDecodeError) as exc:
        raise Usage(f"{path}: not valid TOML: {exc}") from None
    hosts = list(dict.fromkeys(urlsplit(u).hostname or "" for u in args.start_urls))
    entry = {"id": args.id, "municipality": args.municipality, "code": args.code, "kind": args.kind,
             **({"name": args.name} if args.name else {}), "start_urls": args.start_urls,
             "allowed_domains": args.allowed_domains or [h for h in hosts if h], "follow": args.follow,
             "max_depth": args.max_depth, "schedule": args.schedule,
             **({"delay_seconds": args.delay_seconds} if args.delay_seconds is not None else {}),
             **({"max_pages": args.max_pages} if args.max_pages is not None else {}),
             **({"notes": args.notes} if args.notes else {})}
    table = tomlkit.table()
    for key, value in entry.items():
        table.add(key, value)
    if "source" not in doc:
        doc.add("source", tomlkit.aot())
    doc["source"].append(table)
    text = tomlkit.dumps(doc)
    # validate the whole new registry with the crawler's own rules before anything is written
    fd, tmp = tempfile.mkstemp(prefix=".sources-", suffix=".toml", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            load_sources(tmp)
        except RegistryError as exc:
            raise Usage(str(exc).replace(tmp, str(path))) from None
        if path.is_symlink():
            raise Usage(f"{path}: is a symbolic link; refusing to replace it")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    print(f"added source {args.id!r} to {path}")
    return 0
