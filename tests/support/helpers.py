"""Helpers the tests share: read a test warehouse, run the CLI in a child process or in-process, a free
loopback port, and filling a warehouse from site files in this process (no server, no Scrapy engine)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb

from warehouse.db import Warehouse

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"  # seeds and corpus beside the project (optional: tests needing it skip)
DEMO_BASE = "http://127.0.0.1:8000"  # where the demo site's files are said to come from (never contacted)


def q(db: Warehouse | Path | str, sql: str, params: list | tuple = ()) -> list[tuple]:
    """Rows of a read-only query on a test warehouse (a file, or a ``Warehouse``, in-memory ones included)."""
    if isinstance(db, Warehouse):
        with db.connect(read_only=True) as con:
            return con.execute(sql, list(params)).fetchall()
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def child_env(env: dict[str, str] | None = None, without: str | None = None) -> dict[str, str]:
    """This process's environment plus ``env``, minus the variables starting with ``without``."""
    base = {k: v for k, v in os.environ.items() if not (without and k.startswith(without))}
    return {**base, **(env or {})}



def wardwatch(*args: str, env: dict[str, str] | None = None, without: str | None = None, timeout: float = 300,
              cwd: Path | str | None = None, **kw) -> subprocess.CompletedProcess:
    """`python -m wardwatch ARGS` in a child process (text output captured); environment: :func:`child_env`."""
    return subprocess.run([sys.executable, "-m", "wardwatch", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout, env=child_env(env, without), **kw)


def main(argv: list[str], warehouse: object | None = None) -> int:
    """`wardwatch ARGS` in this process; the exit code (argparse's usage errors included).
    ``warehouse`` (e.g. ``Warehouse(":memory:")``) stands in for ``--db``."""
    from wardwatch.cli import main as cli_main

    try:
        return cli_main(argv, warehouse=warehouse)
    except SystemExit as exc:
        return int(exc.code or 0)


def free_port() -> int:
    """A loopback port nothing listens on (a connection to it is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_tags(html: str) -> list[tuple[str, dict]]:
    """Every start tag and its attributes, as a browser's parser would build them."""
    from html.parser import HTMLParser

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, dict]] = []

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, dict(attrs)))

    collector = Collector()
    collector.feed(html)
    return collector.tags


# ---------------------------------------------------------------- a warehouse from site files


def demo_sources(*only: str, base: str = DEMO_BASE) -> list[Any]:
    """The demo registry's sources (`wardwatch demo`; those of the ``only`` ids when given), pointing at ``base``."""
    from spiders.registry import Source
    from wardwatch.demo.script import demo_registry

    out = []
    for e in tomllib.loads(demo_registry(base))["source"]:
        if only and e["id"] not in only:
            continue
        out.append(Source(id=e["id"], municipality=e["municipality"], code=e["code"], kind=e["kind"],
                          start_urls=tuple(e["start_urls"]), allowed_domains=tuple(e["allowed_domains"]),
                          follow=tuple(e["follow"]), max_depth=e["max_depth"], schedule=e["schedule"],
                          delay_seconds=e["delay_seconds"]))
    return out


def saved_response(root: Path, request: Any, *, redirects: dict[str, str] | None = None,
                   no_charset: Iterable[str] = ()) -> Any:
    """The response the demo server (``wardwatch.demo.server``) would give ``request`` from the files
    under ``root``: the file (``text/html; charset=utf-8``, bare ``text/html`` for ``no_charset``
    paths, ``application/pdf``), its 404 page, or — for a ``redirects`` path — the target's
    response as Scrapy hands it over after following the redirect."""
    from scrapy.http import HtmlResponse, Response

    from wardwatch.demo.server import NOT_FOUND_PAGE

    parts = urlsplit(request.url)
    path = parts.path
    if redirects and path in redirects:
        target = f"{parts.scheme}://{parts.netloc}{redirects[path]}"
        request = request.replace(url=target, meta={**request.meta, "redirect_urls": [request.url]})
        path = redirects[path]
    file = root / path.lstrip("/")
    if not file.is_file():
        return HtmlResponse(request.url, status=404, body=NOT_FOUND_PAGE, request=request,
                            headers={"Content-Type": "text/html; charset=utf-8"})
    body = file.read_bytes()
    if path.endswith(".pdf"):
        return Response(request.url, status=200, body=body, request=request, headers={"Content-Type": "application/pdf"})
    ctype = "text/html" if path in set(no_charset) else "text/html; charset=utf-8"
    return HtmlResponse(request.url, status=200, body=body, request=request, headers={"Content-Type": ctype})


def crawl_files(wh: Warehouse, root: Path, *, sources: list[Any] | None = None, at: datetime | None = None,
                run_id: str | None = None) -> dict[str, Any]:
    """One run of ``sources`` (default: the demo registry) over the files under ``root``, in this process.

    ``MunicipalSpider`` parses saved responses (:func:`saved_response`, with the demo server's
    redirects and charset quirks) and the requests it yields are answered the same way, breadth
    first, so the captures — 404s of linked missing pages and their referers included — are what a
    crawl of the demo server would stage. They are staged with ``warehouse.staging`` and loaded
    with ``warehouse.load.load_pending`` under one ``runs`` row; fetch times start at ``at`` (default:
    now, as the run's own start time is).
    Returns ``{"run_id", "fetched", "new_versions", "unchanged", "errors"}``.
    """
    from scrapy import Request

    from spiders.links import canonical
    from spiders.municipal import MunicipalSpider
    from wardwatch.demo.server import DEMO_CONFIG
    from warehouse import runs, staging
    from warehouse.load import load_pending
    from warehouse.schema import migrate

    sources = sources or demo_sources()
    run_id = run_id or runs.new_run_id()
    migrate(wh)
    runs.upsert_sources(wh, [s.to_row() for s in sources])
    runs.start_run(wh, run_id, [s.id for s in sources])
    at = at or datetime.now(UTC)  # after the run's start, as a crawl's fetches are
    tick = 0
    for source in sources:
        spider = MunicipalSpider(source)
        queue = [Request(canonical(u), meta={"ww_depth": 0, "ww_referer": None}) for u in source.start_urls]
        seen: set[str] = set()
        while queue:
            request = queue.pop(0)
            if request.url in seen:
                continue
            seen.add(request.url)
            response = saved_response(root, request, redirects=DEMO_CONFIG.redirects, no_charset=DEMO_CONFIG.no_charset)
            for out in spider.parse(response):
                if isinstance(out, Request):
                    queue.append(out)
                    continue
                out.run_id = run_id
                out.fetched_at = (at + timedelta(milliseconds=tick)).isoformat()
                tick += 1
                staging.write(wh.staging_dir, out)
    counts = load_pending(wh, wh.staging_dir)
    runs.finish_run(wh, run_id, counts, "ok")
    return {"run_id": run_id, "fetched": counts.fetched, "new_versions": counts.new_versions,
            "unchanged": counts.unchanged, "errors": counts.errors}


def demo_site(version: str = "v1") -> Path:
    """The bundled demo site's files (``v1`` or ``v2``)."""
    from wardwatch.demo.script import demo_site_root

    return demo_site_root() / version


TODAY = date(2026, 11, 22)  # the date flag rules are evaluated on (stale references, deadlines)


def fill_demo(wh: Warehouse, roots: Iterable[Path] | None = None, *, sources: Iterable[str] | None = None,
              today: date = TODAY) -> list[dict[str, Any]]:
    """One run per site tree in ``roots`` (default: the demo site v1, then v2): crawl the demo sources
    (:func:`crawl_files`; only the ``sources`` ids when given), extract, diff and evaluate flags as of
    ``today``, as `wardwatch run` does.
    Returns each run's counts, with the extraction (``"extract"``) and diff (``"diff"``) results."""
    from wardwatch.stages.changes import detect_changes
    from wardwatch.stages.extract import extract_pending

    roots = list(roots) if roots is not None else [demo_site("v1"), demo_site("v2")]
    chosen = demo_sources(*(sources or ()))
    results = []
    for root in roots:
        result = crawl_files(wh, root, sources=chosen)
        result["extract"] = extract_pending(wh)
        result["diff"] = detect_changes(wh, today=today)
        results.append(result)
    return results


# ---------------------------------------------------------------- a damaged warehouse

T = "TIMESTAMPTZ '2026-01-0{}T00:00:00Z'"


class Rows:
    """Writes versions (with their first fetch), blobs and facts straight into a warehouse."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def version(self, vid: str, url: str, sha: str, day_from: int, day_to: int | None = None) -> None:
        self.con.execute(f"INSERT INTO versions VALUES (?, ?, 's', ?, 'text/html', NULL, {T.format(day_from)}, "
                         + (T.format(day_to) if day_to else "NULL") + ", ?)", [vid, url, sha, vid])
        self.con.execute("INSERT INTO fetches (fetch_id, run_id, source_id, url, requested_url, fetched_at, outcome, sha256) "
                         f"VALUES (?, 'r', 's', ?, ?, {T.format(day_from)}, 'new_version', ?)", [vid, url, url, sha])

    def blob(self, data: bytes, sha: str | None = None) -> str:
        sha = sha or hashlib.sha256(data).hexdigest()
        self.con.execute("INSERT INTO blobs VALUES (?, 'text/html', ?, ?, now())", [sha, len(data), data])
        return sha


def healthy_history(wh: Warehouse) -> Warehouse:
    """``wh`` migrated, with one URL's two versions (blobs ``a`` and ``b``), first fetches and their run included."""
    from warehouse.schema import migrate

    migrate(wh)
    with wh.connect() as con:
        con.execute("INSERT INTO runs (run_id, started_at, status) VALUES ('r', now(), 'ok')")  # the fetches' run
        rows = Rows(con)
        a, b = rows.blob(b"a"), rows.blob(b"b")
        rows.version("v1", "http://x/ok", a, 1, 2)
        rows.version("v2", "http://x/ok", b, 2)
    return wh


def damaged(wh: Warehouse) -> Warehouse:
    """``wh`` with :func:`healthy_history` and one example of every kind of damage `wardwatch doctor` looks for."""
    healthy_history(wh)
    a = hashlib.sha256(b"a").hexdigest()
    with wh.connect() as con:
        rows = Rows(con)
        rows.version("v3", "http://x/noblob", "f" * 64, 1)  # version without its blob
        bad = rows.blob(b"tampered", sha="0" * 64)  # bytes do not hash to the key
        rows.version("v4", "http://x/two", bad, 1)
        rows.version("v5", "http://x/two", a, 2)  # two current versions of one URL, and overlapping
        rows.version("v6", "http://x/back", a, 3, 1)  # ends before it starts
        rows.version("v7", "http://x/dup", a, 1, 2)
        rows.version("v8", "http://x/dup", a, 2)  # same content twice in a row
        con.execute("INSERT INTO facts (sha256, extractor_version, seq, kind, text, start_offset, end_offset) "
                    "VALUES ('9999', 'facts-1', 0, 'amount', 'x', 0, 1)")  # a fact of no version, no extraction
        con.execute("DELETE FROM fetches WHERE fetch_id = 'v2'")  # a version whose first fetch is gone
    return wh
