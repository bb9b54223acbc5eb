"""Faults and hostile input, one test per row of docs/faults.md, sharing one warehouse: a baseline
crawl of a healthy site, then a crawl with every fault on (``faulted``); child `wardwatch crawl`
processes with short WARDWATCH_* timeouts. Host-wide faults: tests/e2e/test_faults_standalone.py.
Tests that check stored data report ``data_lost`` (a junit property read by benchmarks/fault_suite.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import faultsrv as F
from tests.support.faultsrv import BACKOFF, FAST, MAXSIZE, TIMEOUT, page
from tests.support.helpers import ROOT, q
from tests.support.registry import registry_text
from wardwatch.demo.script import demo_site_root
from wardwatch.demo.server import SiteConfig, SiteServer
from wardwatch.stages.crawl import crawl_subprocess

pytestmark = pytest.mark.slow  # one module-scoped faulted warehouse: two child crawls of a hostile site (~35 s)

JAPANESE = "児童扶養手当の支給額は月額45,500円です。ひとり親家庭の皆さまへのお知らせ。"


# ---------------------------------------------------------------- the shared faulted warehouse

NETWORK = {  # off in the baseline crawl (the pages then have a stored version), on in the second
    "/f/timeout.html": F.slow(6),
    "/f/reset.html": F.reset(),
    "/f/truncated.html": F.truncated(page("途中で切れるページ", "途中") * 50),
    "/f/e500.html": F.status(500),
    "/f/e503.html": F.service_unavailable(1),
    "/f/e503-date.html": F.service_unavailable(lambda: F.http_date_in(2)),
    "/f/e503-long.html": F.service_unavailable(3600),
    "/f/gzipbomb.html": F.gzip_bomb(64 << 20),
    "/f/endless.html": F.endless(max_seconds=30),
    "/f/huge.pdf": F.huge_pdf(200 << 20),
}
CHARSET_PAGES = {  # path -> (bytes, declared charset in the header)
    "/f/sjis-as-utf8.html": (F.charset_page(JAPANESE, "cp932", None), "utf-8"),
    "/f/utf8-as-sjis.html": (F.charset_page(JAPANESE, "utf-8", None), "Shift_JIS"),
    "/f/eucjp-bare.html": (F.charset_page(JAPANESE, "euc_jp", None), None),
    "/f/meta-lies.html": (F.charset_page(JAPANESE, "cp932", None, meta="euc-jp"), None),
    "/f/garbage.html": (bytes(__import__("random").Random(7).randrange(128, 256) for _ in range(6000)), "utf-8"),
}
PDFS = {"/f/malformed.pdf": F.malformed_pdf(), "/f/encrypted.pdf": F.encrypted_pdf(), "/f/image.pdf": F.image_only_pdf()}
REDIRECTS = {
    "/f/loop-a.html": F.redirect("/f/loop-b.html"),
    "/f/loop-b.html": F.redirect("/f/loop-a.html"),
    "/f/self.html": F.redirect("/f/self.html", 301),
    "/f/chain.html": F.redirect_chain("/f/chain.html"),
    "/f/offsite.html": F.redirect("http://localhost:{port}/elsewhere.html"),
    "/f/to-metadata.html": F.redirect("http://169.254.169.254/latest/meta-data/"),
    "/f/to-file.html": F.redirect("file:///etc/passwd"),
}
HUGE_PARAGRAPH = "<p>区のお知らせです。詳しくは窓口でご確認ください。ひとり親家庭のための支援制度があります。</p>\n"


@dataclass
class Faulted:
    db: Path
    site: SiteServer
    clock: F.Clock
    first: dict[str, Any]
    second: dict[str, Any]
    second_started: float
    baseline: dict[str, str]  # url -> sha256 after the baseline crawl
    extract: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.site.url(path)

    def fetch(self, path: str, run: str = "second") -> dict[str, Any]:
        run_id = (self.second if run == "second" else self.first)["run_id"]
        cols = ["url", "requested_url", "status", "outcome", "error_kind", "error", "sha256", "size"]
        rows = q(self.db, f"SELECT {', '.join(cols)} FROM fetches WHERE run_id = ? AND (url = ? OR requested_url = ?) "
                          "ORDER BY fetched_at DESC", [run_id, self.url(path), self.url(path)])
        assert rows, f"no fetch of {path} in the {run} crawl"
        return dict(zip(cols, rows[0]))

    def attempts(self, path: str) -> list[float]:
        """When the second crawl requested ``path``: one time per Scrapy attempt (Twisted re-sends a
        request at once, on a fresh connection, when a reused keep-alive connection fails)."""
        times = [t for t in self.clock.times(path) if t >= self.second_started]
        return [t for i, t in enumerate(times) if i == 0 or t - times[i - 1] > 0.1]

    def current(self, path: str) -> list[tuple]:
        return q(self.db, "SELECT sha256 FROM versions WHERE url = ? AND valid_to IS NULL", [self.url(path)])

    def data_lost(self) -> int:
        """Baseline versions that are no longer current or whose bytes are gone."""
        now = dict(q(self.db, "SELECT v.url, v.sha256 FROM versions v JOIN blobs b USING (sha256) WHERE v.valid_to IS NULL"))
        return sum(1 for url, sha in self.baseline.items() if now.get(url) != sha)


def build_fault_site(root: Path) -> None:
    f = root / "f"
    (f / "private").mkdir(parents=True)
    links = [*NETWORK, *CHARSET_PAGES, *PDFS, *REDIRECTS, "/f/ok.html", "/f/hostile.html", "/f/huge.html",
             "/f/autoreload.html", "/f/private/secret.html"]
    (f / "index.html").write_bytes(
        ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>障害テスト</title></head><body><h1>一覧</h1>"
         + "".join(f'<a href="{p}">{p}</a>' for p in links) + "</body></html>").encode("utf-8"))
    for path in NETWORK:
        if path.endswith(".pdf"):
            shutil.copy(demo_site_root() / "v1/nerima/kurashi/jinken/hitorioya/documents/hitorioya_guide.pdf", root / path[1:])
        else:
            (root / path[1:]).write_bytes(page(f"平常時のページ {path}"))
    for path, body in PDFS.items():
        (root / path[1:]).write_bytes(body)
    (f / "ok.html").write_bytes(page("平常のページ"))
    (f / "private" / "secret.html").write_bytes(page("非公開"))
    (f / "hostile.html").write_bytes(F.hostile_page())
    (f / "autoreload.html").write_bytes(page("自動更新").replace(
        b"<head>", b'<head><meta http-equiv="refresh" content="60; url=/f/autoreload.html">'))
    (f / "huge.html").write_bytes(
        ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>大きなページ</title></head><body><h1>児童扶養手当</h1>"
         "<p>支給額は月額45,500円です。</p>" + HUGE_PARAGRAPH * 70000 + "</body></html>").encode("utf-8"))


@pytest.fixture(scope="module")
def faulted(tmp_path_factory: pytest.TempPathFactory) -> Faulted:
    tmp = tmp_path_factory.mktemp("faults")
    build_fault_site(tmp / "site")
    db = tmp / "data" / "wardwatch.duckdb"
    config = SiteConfig(robots="User-agent: *\nDisallow: /f/private/\n")
    with SiteServer(tmp / "site", config) as site:
        clock = F.Clock(site)
        port = site.httpd.server_address[1]
        for path, (body, declared) in CHARSET_PAGES.items():
            config.faults[path] = F.lying_charset(body, declared)
        for path, fault in REDIRECTS.items():
            config.faults[path] = F.redirect(f"http://localhost:{port}/elsewhere.html") if path == "/f/offsite.html" else fault
        sources = tmp / "sources.toml"
        sources.write_text(registry_text(site.base, sid="faults", start="/f/index.html", follow=("^/f/",)), encoding="utf-8")
        first = crawl_subprocess(sources, db, timeout=300, env=FAST)
        baseline = dict(q(db, "SELECT url, sha256 FROM versions WHERE valid_to IS NULL"))
        config.faults.update(NETWORK)
        started = time.monotonic()
        second = crawl_subprocess(sources, db, timeout=300, env=FAST)
        F.stop_faults(site)
        result = Faulted(db, site, clock, first, second, started, baseline)
        result.extract = _extract_in_child(db)
        yield result


def _extract_in_child(db: Path) -> dict[str, Any]:
    """`extract_pending` in a child process, with its peak RSS and duration."""
    code = ("import json, resource, sys, time; from pathlib import Path; from wardwatch.stages.extract import extract_pending; "
            "t = time.monotonic(); r = extract_pending(Path(sys.argv[1])); "
            "r['seconds'] = time.monotonic() - t; r['maxrss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; "
            "print(json.dumps(r, default=str))")
    proc = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def extraction(faulted: Faulted, path: str) -> dict[str, Any]:
    cols = ["status", "error", "main_text", "pages", "fact_count"]
    rows = q(faulted.db, f"SELECT {', '.join('e.' + c for c in cols)} FROM versions v JOIN extractions e USING (sha256) "
                         "WHERE v.url = ? AND v.valid_to IS NULL", [faulted.url(path)])
    assert rows, f"no extraction for {path}"
    return dict(zip(cols, rows[0]))


def test_the_faulted_crawl_finishes_and_keeps_going(faulted, record_property):
    assert faulted.first["status"] == "ok", faulted.first
    assert faulted.second["status"] == "ok", faulted.second  # the faults are per URL, the source is fine
    assert faulted.fetch("/f/ok.html")["outcome"] in ("unchanged", "not_modified")
    record_property("data_lost", faulted.data_lost())
    assert faulted.data_lost() == 0


# ---------------------------------------------------------------- row: timeout / reset / truncated


@pytest.mark.parametrize("path, kind, wait", [
    ("/f/timeout.html", "timeout", TIMEOUT),
    ("/f/reset.html", "connection", 0.0),
    ("/f/truncated.html", "truncated", 0.0),
])
def test_network_faults_are_retried_with_backoff_then_recorded(faulted, path, kind, wait, record_property):
    attempts = faulted.attempts(path)
    assert len(attempts) == 3, attempts  # RETRY_TIMES = 2
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    assert gaps[0] >= wait + BACKOFF * 0.95 and gaps[1] >= wait + 2 * BACKOFF * 0.95, gaps  # exponential backoff
    fetch = faulted.fetch(path)
    assert (fetch["outcome"], fetch["error_kind"], fetch["sha256"]) == ("error", kind, None), fetch
    assert "after 3 attempts" in fetch["error"]
    assert faulted.current(path) == [(faulted.baseline[faulted.url(path)],)]  # the previous version stays current
    record_property("data_lost", faulted.data_lost())


# ---------------------------------------------------------------- row: 500 / 503 with Retry-After


@pytest.mark.parametrize("path, status, min_gap", [
    ("/f/e500.html", 500, BACKOFF * 0.95),
    ("/f/e503.html", 503, 1.0),  # Retry-After: 1
    ("/f/e503-date.html", 503, 0.9),  # Retry-After: <HTTP date 2 s ahead>, whole seconds
])
def test_server_errors_honour_retry_after_and_are_recorded(faulted, path, status, min_gap, record_property):
    attempts = faulted.attempts(path)
    assert len(attempts) == 3, attempts
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    assert min(gaps) >= min_gap, gaps
    fetch = faulted.fetch(path)
    assert (fetch["status"], fetch["outcome"], fetch["error_kind"]) == (status, "error", f"http_{status}"), fetch
    assert "after 3 attempts" in fetch["error"]
    if status == 503:
        assert "Retry-After" in fetch["error"]
    assert faulted.current(path) == [(faulted.baseline[faulted.url(path)],)]  # no new version from the error page
    assert q(faulted.db, "SELECT count(*) FROM versions WHERE url = ?", [faulted.url(path)])[0][0] == 1
    record_property("data_lost", faulted.data_lost())


def test_retry_after_beyond_the_cap_is_recorded_not_waited_for(faulted):
    assert len(faulted.attempts("/f/e503-long.html")) == 1
    fetch = faulted.fetch("/f/e503-long.html")
    assert fetch["error_kind"] == "http_503" and "exceeds the 10s cap" in fetch["error"], fetch


# ---------------------------------------------------------------- row: 429


# ---------------------------------------------------------------- row: charsets


@pytest.mark.parametrize("path", ["/f/sjis-as-utf8.html", "/f/utf8-as-sjis.html", "/f/eucjp-bare.html", "/f/meta-lies.html"])
def test_wrong_missing_or_lying_charset_is_decoded_correctly(faulted, path):
    body, declared = CHARSET_PAGES[path]
    stored = q(faulted.db, "SELECT b.data, v.charset FROM versions v JOIN blobs b USING (sha256) WHERE v.url = ?",
               [faulted.url(path)])
    assert stored and bytes(stored[0][0]) == body  # raw bytes kept exactly as served
    ex = extraction(faulted, path)
    assert ex["status"] == "ok", ex
    assert JAPANESE in ex["main_text"].replace("\n", "")  # never mojibake


def test_undecodable_page_is_recorded_as_such_never_as_text(faulted):
    ex = extraction(faulted, "/f/garbage.html")
    assert ex["status"] == "error" and "undecodable" in ex["error"], ex
    assert ex["main_text"] is None


# ---------------------------------------------------------------- row: size caps


@pytest.mark.parametrize("path", ["/f/gzipbomb.html", "/f/endless.html", "/f/huge.pdf"])
def test_oversized_bodies_stop_at_the_cap_and_are_recorded(faulted, path, record_property):
    fetch = faulted.fetch(path)
    assert (fetch["outcome"], fetch["error_kind"]) == ("error", "too_large"), fetch
    assert faulted.current(path) == [(faulted.baseline[faulted.url(path)],)]
    assert q(faulted.db, "SELECT max(size) FROM blobs")[0][0] <= MAXSIZE
    if path == "/f/endless.html":  # the server was cut off near the cap, not after 30 s of streaming
        sent = [s for _, p, s, _ in faulted.site.log if p == path + "#sent"]
        assert sent and max(sent) < 4 * MAXSIZE, sent
    record_property("data_lost", faulted.data_lost())


# ---------------------------------------------------------------- row: PDFs


@pytest.mark.parametrize("path, status, reason", [
    ("/f/malformed.pdf", "error", "malformed pdf"),
    ("/f/encrypted.pdf", "error", "encrypted pdf: a password is required"),
    ("/f/image.pdf", "no_text", "no text layer"),
])
def test_broken_pdfs_are_recorded_with_a_reason(faulted, path, status, reason):
    fetch = faulted.fetch(path, run="first")
    assert fetch["outcome"] == "new_version" and fetch["size"] == len(PDFS[path])  # raw bytes kept for later
    ex = extraction(faulted, path)
    assert ex["status"] == status and reason in (ex["error"] or ""), ex
    assert faulted.extract["errors"] >= 2 and faulted.extract["no_text"] >= 1  # the stage went on past them


# ---------------------------------------------------------------- row: redirects


@pytest.mark.parametrize("path, kind", [
    ("/f/loop-a.html", "redirect_loop"),
    ("/f/self.html", "redirect_loop"),
    ("/f/chain.html", "too_many_redirects"),
    ("/f/offsite.html", "offsite_redirect"),
    ("/f/to-metadata.html", "offsite_redirect"),
    ("/f/to-file.html", "redirect_scheme"),
])
def test_redirect_loops_and_offsite_redirects_are_stopped_and_recorded(faulted, path, kind):
    fetch = faulted.fetch(path)
    assert (fetch["outcome"], fetch["error_kind"]) == ("error", kind), fetch
    assert fetch["requested_url"] == faulted.url(path)
    assert "/elsewhere.html" not in faulted.site.paths()  # the other host's page was never requested
    assert len([p for p in faulted.site.paths() if p == "/f/chain.html"]) <= 2 * 6  # two crawls, 1 + 5 redirects


def test_meta_refresh_to_itself_or_offsite_keeps_the_page(faulted):
    for path in ("/f/autoreload.html", "/f/hostile.html"):  # the hostile page refreshes to 169.254.169.254
        assert faulted.fetch(path, run="first")["outcome"] == "new_version", path


# ---------------------------------------------------------------- row: private addresses, schemes


def test_private_link_local_and_non_http_links_are_never_fetched(faulted):
    urls = [r[0] for r in q(faulted.db, "SELECT url FROM fetches UNION SELECT requested_url FROM fetches")]
    assert urls and all(u.startswith(faulted.site.base + "/") for u in urls), [u for u in urls if "127.0.0.1" not in u]
    assert not [p for p in faulted.site.paths() if p.startswith("/beacon")]


# ---------------------------------------------------------------- row: robots.txt


def test_robots_txt_disallow_is_obeyed(faulted):
    assert "/f/private/secret.html" not in faulted.site.paths()
    fetch = faulted.fetch("/f/private/secret.html", run="first")
    assert fetch["error_kind"] == "robots" and fetch["status"] is None


# ---------------------------------------------------------------- row: crawler trap


# ---------------------------------------------------------------- row: hostile HTML


def test_hostile_html_is_stored_as_data_and_never_executed(faulted, record_property):
    (data,), = q(faulted.db, "SELECT b.data FROM versions v JOIN blobs b USING (sha256) WHERE v.url = ?",
                 [faulted.url("/f/hostile.html")])
    assert bytes(data) == F.hostile_page()  # byte for byte, as data
    asked = faulted.site.paths()
    assert not [p for p in asked if p.startswith("/beacon")], asked  # no script, image, form, object ran or loaded
    ex = extraction(faulted, "/f/hostile.html")
    # extracted as text: the injection strings are data, the control characters are gone, the amount is a fact
    assert ex["status"] == "ok" and ex["fact_count"] == 2, ex
    assert "月額 45,500円" in ex["main_text"] and "\x1b" not in ex["main_text"], ex
    record_property("data_lost", faulted.data_lost())


# ---------------------------------------------------------------- row: huge page


def test_huge_page_is_extracted_within_a_memory_bound(faulted):
    fetch = faulted.fetch("/f/huge.html", run="first")
    assert fetch["outcome"] == "new_version" and fetch["size"] > 9_000_000
    ex = extraction(faulted, "/f/huge.html")
    assert ex["status"] == "ok" and ex["fact_count"] >= 1, {k: v for k, v in ex.items() if k != "main_text"}
    assert faulted.extract["maxrss_mb"] < 1024, faulted.extract  # the whole extraction stage, huge page included
    assert faulted.extract["seconds"] < 120


# ---------------------------------------------------------------- the warehouse after all that


def test_faulted_warehouse_passes_doctor(faulted):
    from warehouse.doctor import check

    report = check(faulted.db)
    assert report.healthy, report.to_json()
