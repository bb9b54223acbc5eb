"""Fault cases that need their own site or warehouse (the rest share one faulted warehouse in
tests/e2e/test_faults.py): 429 slow-down, robots.txt 5xx, crawler traps, inert terminal output."""

from __future__ import annotations

import json
import time

import pytest

from tests.support import faultsrv as F
from tests.support.faultsrv import FAST, assert_inert, page
from tests.support.helpers import q, wardwatch
from tests.support.registry import NERIMA, registry_text
from wardwatch.demo.server import SiteConfig, SiteServer
from wardwatch.stages.crawl import crawl_subprocess


@pytest.mark.slow  # a real crawl
def test_429_slows_the_domain_down_and_is_recorded(tmp_path):
    root = tmp_path / "site"
    (root / "p").mkdir(parents=True)
    pages = [f"/p/{i}.html" for i in range(6)]
    (root / "p" / "index.html").write_bytes(("<html><body>" + "".join(f'<a href="{p}">{p}</a>' for p in pages)
                                             + '<a href="/p/busy.html">busy</a></body></html>').encode())
    for p in pages:
        (root / p[1:]).write_bytes(page(p))
    db = tmp_path / "data" / "w.duckdb"
    with SiteServer(root, SiteConfig(faults={"/p/busy.html": F.too_many_requests(1)})) as site:
        clock = F.Clock(site)
        reg = tmp_path / "sources.toml"
        reg.write_text(registry_text(site.base, sid="faults", start="/p/index.html", follow=("^/p/",)), encoding="utf-8")
        result = crawl_subprocess(reg, db, timeout=120, env=FAST)
    assert result["status"] == "ok"
    busy = clock.times("/p/busy.html")
    assert len(busy) == 3, busy
    first_429 = busy[0]
    later = [t for t, p, _ in clock.after(first_429)]
    assert later and later[0] - first_429 >= 0.95, later[:3]  # Retry-After 1 paused the whole host
    # ... and the host stays slowed down afterwards: requests are spaced, not back to back
    normal = sorted(t for t in later if t not in busy)
    gaps = [b - a for a, b in zip(normal, normal[1:])]
    assert gaps and max(gaps) >= 0.4, gaps
    (kind, error), = q(db, "SELECT error_kind, error FROM fetches WHERE url LIKE '%/busy.html'")
    assert kind == "http_429" and "after 3 attempts" in error


@pytest.mark.slow  # a real crawl
def test_robots_txt_5xx_means_complete_disallow(tmp_path, site_versions):
    db = tmp_path / "data" / "w.duckdb"
    with SiteServer(site_versions["v1"], SiteConfig(faults={"/robots.txt": F.status(503)})) as site:
        reg = tmp_path / "sources.toml"
        reg.write_text(registry_text(site.base, sid="faults", start=f"{NERIMA}/index.html", follow=("^/nerima/",)),
                       encoding="utf-8")
        result = crawl_subprocess(reg, db, timeout=120, env=FAST)
        asked = site.paths()
    assert asked == ["/robots.txt"] * 3, asked  # retried like any 503, then nothing else was requested
    (kind, error), = q(db, "SELECT error_kind, error FROM fetches")
    assert kind == "robots_unavailable" and "RFC 9309" in error
    assert result["status"] == "failed" and "robots_unavailable" in result["sources"][0]["reason"]


@pytest.mark.slow  # a real crawl
def test_crawler_trap_is_bounded_by_the_page_cap_and_canonical_urls(tmp_path):
    db = tmp_path / "data" / "w.duckdb"
    root = tmp_path / "site"
    (root / "cal").mkdir(parents=True)
    (root / "cal" / "index.html").write_bytes(b'<html><body><a href="/cal/calendar.html?ym=2026-01">cal</a></body></html>')
    with SiteServer(root, SiteConfig(faults={"/cal/calendar.html": F.calendar("/cal/calendar.html")})) as site:
        reg = tmp_path / "sources.toml"
        reg.write_text(registry_text(site.base, sid="faults", start="/cal/index.html", follow=("^/cal/",), max_depth=1000,
                                     max_pages=40),
                       encoding="utf-8")
        started = time.monotonic()
        result = crawl_subprocess(reg, db, timeout=120, env=FAST)
        elapsed = time.monotonic() - started
    assert result["status"] == "ok"
    urls = [r[0] for r in q(db, "SELECT url FROM fetches")]
    # max_pages (CLOSESPIDER_PAGECOUNT) + the requests already handed to the downloader (CONCURRENT_REQUESTS - 1)
    assert 30 <= len(urls) <= 40 + 7, len(urls)
    assert len(set(urls)) == len(urls)
    assert not [u for u in urls if "utm_" in u or "jsessionid" in u.lower()]  # canonical: no tracking / session ids
    assert elapsed < 60


@pytest.mark.slow  # a real crawl
def test_crawl_summary_is_inert(tmp_path):
    hostile = "http://evil.example/\x1b[2J\x1b]0;pwned\x07\u202e/"
    with SiteServer(tmp_path, SiteConfig(faults={"/start.html": F.redirect(hostile)})) as site:
        reg = tmp_path / "sources.toml"
        reg.write_text(registry_text(site.base, sid="faults", start="/start.html", follow=("^/",)), encoding="utf-8")
        proc = wardwatch("crawl", "--sources", str(reg), "--db", str(tmp_path / "data" / "w.duckdb"), "--format", "table",
                         env=FAST, timeout=120)
    assert proc.returncode == 1 and "offsite_redirect" in proc.stdout, (proc.stdout, proc.stderr[-1000:])
    assert_inert(proc.stdout)
    assert_inert(proc.stderr)


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_extract_output_escapes_injection_strings(tmp_path, fmt):
    page_file = tmp_path / "hostile.html"
    page_file.write_bytes(F.hostile_page())
    proc = wardwatch("extract", str(page_file), "--format", fmt, timeout=120)
    assert proc.returncode == 0 and "internal error" not in proc.stderr, proc.stderr[-500:]
    assert_inert(proc.stdout)
    if fmt == "json":
        facts = json.loads(proc.stdout)
        assert any(f["kind"] == "amount" and f["value"] == 45500 for f in facts)
