"""`wardwatch extract FILE_OR_URL` and `wardwatch reextract`."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from wardwatch.cli.common import Failed, Usage, add_db, add_format, print_json, resolve_db
from wardwatch.cli.summaries import extraction_summary

MAX_BYTES = 32 * 1024 * 1024  # the crawler's download cap
FETCH_SECONDS = 120.0  # a URL's whole download


BUDGET_HELP = ("Per-document budget (extraction past it ends 'partial' with the reason): WARDWATCH_EXTRACT_SECONDS "
               "(60, for the PDF parse and again for the fact rules), WARDWATCH_EXTRACT_FACTS (20000), "
               "WARDWATCH_EXTRACT_BYTES (decompressed PDF streams, 268435456), WARDWATCH_EXTRACT_PAGES (500), "
               "WARDWATCH_EXTRACT_MEMORY (address space of the PDF parser process, 2147483648; 0 = parse in-process).")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="print the facts in one document (a file or a URL)",
                       description="Extract amounts, dates, ages and contacts from one HTML page or PDF "
                                   "(a regular file or an http(s) URL, at most 32 MiB).",
                       epilog=BUDGET_HELP)
    p.add_argument("target", metavar="FILE_OR_URL")
    p.add_argument("--charset", help="charset to assume for HTML (default: detect)")
    p.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                   help="fetch from this host even if it is a private/loopback address (verbatim, like "
                        "allowed_domains; redirects elsewhere are still checked)")
    add_format(p, ("json", "table"))
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("reextract", help="re-extract every stored version with the current extractor",
                       description="Extract facts for every stored version that the current extractor version has "
                                   "not seen (all of them after an extractor upgrade), from the stored raw bytes.",
                       epilog=BUDGET_HELP)
    add_db(p)
    p.add_argument("--source", dest="source_id", metavar="ID", help="only this source's versions")
    p.add_argument("--force", action="store_true", help="redo versions already extracted by this extractor version")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_workers, default=1, metavar="N",
                       help="extract in N worker processes on a local Dask cluster started for this command "
                            "(default 1: in this process); the stored results are those of a serial run")
    where.add_argument("--dask", dest="dask_address", type=_dask_address, metavar="ADDRESS",
                       help="extract on the workers of an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (they must "
                            "run the same wardwatch); the warehouse is written from this process only")
    add_format(p)
    p.set_defaults(func=cmd_reextract)


def _workers(text: str) -> int:
    """``--workers N``: a whole number >= 1 (argparse turns the ValueError into a usage error, exit 2)."""
    from wardwatch.stages.parallel import check_workers

    try:
        return check_workers(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number of worker processes, at least 1") from None


def _dask_address(text: str) -> str:
    """``--dask ADDRESS``: tcp://HOST:PORT (HOST:PORT gets tcp://)."""
    from wardwatch.stages.parallel import check_address

    try:
        return check_address(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a Dask scheduler address (expected tcp://HOST:PORT)") from None


def read_target(target: str, allow_hosts: tuple[str, ...] = ()) -> tuple[bytes, str | None, str | None, str]:
    """(body, media type, charset, name) of a local file or an http(s) URL.

    Files: only regular files, at most MAX_BYTES (a FIFO, a device such as /dev/zero, a directory
    → Usage). URLs: the crawler's address guard applies to the first request and to every
    redirect (private, loopback, link-local … addresses refused unless the host is in
    ``allow_hosts`` verbatim), at most MAX_BYTES within FETCH_SECONDS.
    """
    if target.startswith(("http://", "https://")):
        return _fetch(target, frozenset(h.lower().strip("[]") for h in allow_hosts))
    path = Path(target)
    return _read_file(path, target), _media_of(path), None, str(path)


def _media_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return "application/pdf" if suffix == ".pdf" else ("text/html" if suffix in (".html", ".htm") else None)


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def _read_file(path: Path, target: str) -> bytes:
    """A regular file's bytes (opened non-blocking, so a FIFO never hangs the open)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Failed(f"{target}: cannot read: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((label for test, label in _KINDS if test(st.st_mode)), "not a regular file")
            raise Usage(f"{target}: is {kind}, not a regular file")
        if st.st_size > MAX_BYTES:
            raise Usage(f"{target}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, 1024 * 1024)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_BYTES:  # grew while being read
            raise Usage(f"{target}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
        return b"".join(chunks)
    except OSError as exc:
        raise Failed(f"{target}: cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)


def _fetch(target: str, allowed: frozenset[str]) -> tuple[bytes, str | None, str | None, str]:
    from extractors.termsafe import terminal_safe
    from spiders.fetch import Refused, check_url, opener
    from spiders.responses import charset_of, media_type_of
    from spiders.settings import USER_AGENT

    shown = terminal_safe(target[:200], keep_newlines=False)
    try:
        check_url(target, allowed)
    except Refused as exc:
        raise Usage(f"{shown}: refused: {terminal_safe(str(exc), keep_newlines=False)} "
                    "(--allow-host HOST to fetch it anyway)") from None
    request = urllib.request.Request(target, headers={"User-Agent": USER_AGENT})
    deadline = time.monotonic() + FETCH_SECONDS
    try:
        with opener(allowed).open(request, timeout=30) as resp:
            chunks, size = [], 0
            while size <= MAX_BYTES:
                if time.monotonic() > deadline:
                    raise Failed(f"{shown}: still downloading after {FETCH_SECONDS:g} s")
                chunk = resp.read(256 * 1024)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            body = b"".join(chunks)
            ctype = resp.headers.get("Content-Type")
    except Refused as exc:
        raise Failed(f"{shown}: refused: {terminal_safe(str(exc), keep_newlines=False)}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, Refused):
            raise Failed(f"{shown}: refused: {terminal_safe(str(reason), keep_newlines=False)}") from None
        raise Failed(f"{shown}: cannot fetch: {terminal_safe(str(reason), keep_newlines=False)}") from None
    if len(body) > MAX_BYTES:
        raise Failed(f"{shown}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return body, media_type_of(ctype, body), charset_of(ctype), target


def cmd_extract(args: argparse.Namespace) -> int:
    from extractors.facts import extract_facts_result, facts_to_json
    from extractors.model import Budget, ExtractionError
    from extractors.termsafe import terminal_safe
    from extractors.text import extract_document

    try:
        budget = Budget.from_env()
    except ValueError as exc:
        raise Usage(str(exc)) from None
    body, media, charset, name = read_target(args.target, tuple(args.allow_host))
    name = terminal_safe(name, keep_newlines=False)
    try:
        doc = extract_document(body, media, charset=args.charset or charset, url=name, budget=budget)
    except ExtractionError as exc:
        raise Failed(f"{name}: {exc}") from None
    result = extract_facts_result(doc, budget=budget)
    facts = facts_to_json(result.facts)
    notes = [*(f"partial: {r}" for r in (doc.partial, result.partial) if r), *result.warnings, *doc.warnings]
    if args.format == "json":
        print_json(facts)  # Japanese as is; C1 controls and bidi overrides \u-escaped (extractors.termsafe)
    else:
        print(facts_table(facts))
    for w in notes:
        print(f"warning: {name}: {terminal_safe(w, keep_newlines=False)}", file=sys.stderr)
    if not doc.text.strip() and doc.warnings:
        raise Failed(f"{name}: {doc.warnings[0]}")
    return 0


def facts_table(facts: list[dict[str, Any]]) -> str:
    from extractors.termsafe import terminal_safe

    def cell(value: Any) -> str:  # crawled text never reaches the terminal with escapes or controls
        return terminal_safe(str(value), keep_newlines=False)

    lines = [f"{'kind':<12} {'value':<22} {'qualifier':<10} {'program':<28} text"]
    for f in facts:
        value = json.dumps(f["value"], ensure_ascii=False) if isinstance(f["value"], dict) else str(f["value"])
        if "max" in f:
            value += f"..{f['max']}"
        page = f"p.{f['page']} " if f.get("page") else ""
        lines.append(f"{f['kind']:<12} {cell(value):<22} {cell(f['qualifier'] or ''):<10} "
                     f"{cell(f['program'] or '')[:26]:<28} {page}{cell(f['text'])}")
    lines.append(f"({len(facts)} facts)")
    return "\n".join(lines)


def cmd_reextract(args: argparse.Namespace) -> int:
    from extractors.model import Budget
    from wardwatch.stages.extract import extract_pending
    from wardwatch.stages.parallel import ClusterError
    from warehouse.schema import migrate

    try:
        budget = Budget.from_env()
    except ValueError as exc:
        raise Usage(str(exc)) from None
    db = resolve_db(args)
    if not db.exists():
        raise Failed(f"{db}: no warehouse here (run `wardwatch crawl` first)")
    migrate(db)
    if args.source_id:
        from wardwatch.cli.filters import require_known_sources

        require_known_sources(db, [args.source_id])
    try:
        result = extract_pending(db, source_id=args.source_id, force=args.force, budget=budget, workers=args.workers,
                                 dask_address=args.dask_address)
    except ClusterError as exc:
        raise Failed(str(exc)) from None
    if args.format == "json":
        print_json(result)
    else:
        print(extraction_summary(result))
        if result["workers"] > 1 or result["dask"]:
            where = f"the Dask cluster at {result['dask']}" if result["dask"] else "a local Dask cluster"
            print(f"  on {result['workers']} worker(s) of {where}")
    return 0
