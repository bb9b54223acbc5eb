"""`wardwatch extract FILE_OR_URL` and `wardwatch reextract`."""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from wardwatch.cli.common import Failed, add_db, add_format, resolve_db
from wardwatch.cli.summaries import extraction_summary

MAX_BYTES = 32 * 1024 * 1024


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="print the facts in one document (a file or a URL)",
                       description="Extract amounts, dates, ages and contacts from one HTML page or PDF.")
    p.add_argument("target", metavar="FILE_OR_URL")
    p.add_argument("--charset", help="charset to assume for HTML (default: detect)")
    add_format(p, ("json", "table"))
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("reextract", help="re-extract every stored version with the current extractor",
                       description="Extract facts for every stored version that the current extractor version has "
                                   "not seen (all of them after an extractor upgrade), from the stored raw bytes.")
    add_db(p)
    p.add_argument("--source", dest="source_id", metavar="ID", help="only this source's versions")
    p.add_argument("--force", action="store_true", help="redo versions already extracted by this extractor version")
    add_format(p)
    p.set_defaults(func=cmd_reextract)


def read_target(target: str) -> tuple[bytes, str | None, str | None, str]:
    """(body, media type, charset, name) of a local file or an http(s) URL."""

    if target.startswith(("http://", "https://")):
        from spiders.responses import charset_of, media_type_of
        from spiders.settings import USER_AGENT

        request = urllib.request.Request(target, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                body = resp.read(MAX_BYTES + 1)
                ctype = resp.headers.get("Content-Type")
        except (urllib.error.URLError, OSError) as exc:
            raise Failed(f"{target}: cannot fetch: {getattr(exc, 'reason', exc)}") from None
        if len(body) > MAX_BYTES:
            raise Failed(f"{target}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
        return body, media_type_of(ctype, body), charset_of(ctype), target
    path = Path(target)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise Failed(f"{target}: cannot read: {exc.strerror}") from None
    media = "application/pdf" if path.suffix.lower() == ".pdf" else ("text/html" if path.suffix.lower() in (".html", ".htm") else None)
    return body, media, None, str(path)


def cmd_extract(args: argparse.Namespace) -> int:
    from extractors.facts import extract_facts, facts_to_json
    from extractors.model import ExtractionError
    from extractors.text import extract_document

    body, media, charset, name = read_target(args.target)
    try:
        doc = extract_document(body, media, charset=args.charset or charset, url=name)
    except ExtractionError as exc:
        raise Failed(f"{name}: {exc}") from None
    facts = facts_to_json(extract_facts(doc))
    if args.format == "json":
        # ensure_ascii: crawled text may carry C1 controls or bidi overrides; \u escapes keep them inert
        print(json.dumps(facts, ensure_ascii=True, indent=2))
    else:
        print(facts_table(facts))
        for w in doc.warnings:
            print(f"warning: {name}: {w}")
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
    from wardwatch.stages.extract import extract_pending
    from warehouse.schema import migrate

    db = resolve_db(args)
    if not db.exists():
        raise Failed(f"{db}: no warehouse here (run `wardwatch crawl` first)")
    migrate(db)
    result = extract_pending(db, source_id=args.source_id, force=args.force)
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(extraction_summary(result))
    return 0
