"""End-to-end crawls of the loopback fixture site into real DuckDB files."""

from __future__ import annotations

import pytest

from extractors.encoding import decode_html
from tests.support.helpers import q
from tests.support.registry import NERIMA, registry_text
from wardwatch.stages.crawl import crawl_subprocess

pytestmark = pytest.mark.slow  # every test crawls the loopback site in a child process


def test_first_crawl_fetches_the_right_urls(site, crawl, db):
    result = crawl()
    assert result["status"] == "ok", result
    fetched = set(site.paths())
    for page in ("index.html", "syuurou.html", "jiritsushien.html", "documents/hitorioya_guide.pdf",
                 "old.html", "missing.html"):
        assert f"{NERIMA}/{page}" in fetched, page
    assert "/robots.txt" in fetched
    assert "/nerima/private/staff.html" not in fetched  # disallowed by robots.txt
    assert not any(p.startswith("/nerima/kosodatekyoiku") for p in fetched)  # not in `follow`

    versions = dict(q(db, "SELECT regexp_extract(url, '/[^/]+$'), media_type FROM versions"))
    program_pages = ("koutou", "kousotsu", "zaitaku", "jidofuyo", "ikusei")  # linked from syuurou.html (depth 2)
    assert versions == {
        "/index.html": "text/html",
        "/syuurou.html": "text/html",
        "/jiritsushien.html": "text/html",
        "/hitorioya_guide.pdf": "application/pdf",
        **{f"/{p}.html": "text/html" for p in program_pages},
    }
    assert q(db, "SELECT count(*), count(DISTINCT sha256) FROM blobs")[0] == (9, 9)
    # every version's blob is there and its hash is honest
    assert q(db, "SELECT count(*) FROM versions v JOIN blobs b USING (sha256) WHERE sha256(b.data) = v.sha256")[0][0] == 9
    errors = dict(q(db, "SELECT regexp_extract(url, '/[^/]+$'), error_kind FROM fetches WHERE outcome = 'error'"))
    assert errors["/missing.html"] == "http_404" and errors["/staff.html"] == "robots"
    # the one page the section links to but does not have is a 404; robots.txt keeps staff.html out
    assert set(errors.values()) == {"http_404", "robots"}
    # the redirect was followed and recorded under the final URL, with the requested one kept; one of the two
    # fetches of syuurou.html stored its version (the scheduler's order decides which)
    rows = q(db, "SELECT regexp_extract(requested_url, '/[^/]+$'), status, outcome FROM fetches "
                 "WHERE url LIKE '%/syuurou.html' ORDER BY requested_url")
    assert [r[:2] for r in rows] == [("/old.html", 200), ("/syuurou.html", 200)]
    assert sorted(r[2] for r in rows) == ["new_version", "unchanged"]
    run = q(db, "SELECT status, fetched, new_versions, errors FROM runs")[0]
    assert run[0] == "ok" and run[2] == 9 and run[3] == len(errors)


def test_unchanged_recrawl_is_answered_by_304_and_adds_nothing(site, crawl, db):
    crawl()
    before = q(db, "SELECT (SELECT count(*) FROM versions), (SELECT count(*) FROM blobs), (SELECT sum(size) FROM blobs)")[0]
    site.log.clear()
    result = crawl()
    assert result["status"] == "ok"
    after = q(db, "SELECT (SELECT count(*) FROM versions), (SELECT count(*) FROM blobs), (SELECT sum(size) FROM blobs)")[0]
    assert after == before
    second = q(db, "SELECT outcome, count(*) FROM fetches WHERE run_id = ? GROUP BY ALL", [result["run_id"]])
    # 9 pages (4 + the 5 stand-ins syuurou.html links to) + old.html, whose redirect to syuurou.html is its own fetch
    assert dict(second)["not_modified"] == 10
    assert "new_version" not in dict(second)
    # the requests carried validators built from the warehouse
    conditional = [p for _, p, s, h in site.log if s == 304]
    assert len(conditional) == 10
    assert all("If-None-Match" in h for _, p, s, h in site.log if s == 304)
    # links of 304 pages were still followed (the PDF is only linked from index.html)
    assert f"{NERIMA}/documents/hitorioya_guide.pdf" in site.paths(304)


def test_changed_page_adds_one_version_and_closes_the_previous(site, site_versions, crawl, db):
    crawl()
    site.root = site_versions["v2"]
    result = crawl()
    rows = q(db, "SELECT valid_from, valid_to FROM versions WHERE url LIKE '%/syuurou.html' ORDER BY valid_from")
    assert len(rows) == 2
    (first_from, first_to), (second_from, second_to) = rows
    assert first_to == second_from and second_to is None
    assert q(db, "SELECT count(*) FROM versions")[0][0] == 10
    outcomes = dict(q(db, "SELECT outcome, count(*) FROM fetches WHERE run_id = ? GROUP BY ALL", [result["run_id"]]))
    assert outcomes["new_version"] == 1 and outcomes["not_modified"] == 8


def test_shift_jis_page_without_charset_decodes_to_japanese(site, crawl, db):
    crawl()
    body, charset = q(db, "SELECT b.data, v.charset FROM versions v JOIN blobs b USING (sha256) "
                          "WHERE url LIKE '%/jiritsushien.html'")[0]
    assert charset is None  # the server sent no charset
    text, encoding = decode_html(bytes(body), charset)
    assert encoding == "cp932"  # Shift_JIS with the Windows extensions
    assert "自立支援教育訓練給付金" in text


def test_pdf_is_detected_by_magic_bytes_when_mislabelled(site, crawl, db):
    site.config.headers[f"{NERIMA}/documents/hitorioya_guide.pdf"] = {"Content-Type": "text/html"}
    crawl()
    media, ctype = q(db, "SELECT v.media_type, f.content_type FROM versions v JOIN fetches f ON f.fetch_id = v.first_fetch_id "
                         "WHERE v.url LIKE '%.pdf'")[0]
    assert (media, ctype) == ("application/pdf", "text/html")


def test_page_cap_and_depth_bound_the_crawl(tmp_path, site, db):
    reg = tmp_path / "capped.toml"
    reg.write_text(registry_text(site.base, max_depth=0), encoding="utf-8")
    crawl_subprocess(reg, db, timeout=120)
    urls = {r[0].rsplit("/", 1)[1] for r in q(db, "SELECT url FROM fetches WHERE status IS NOT NULL")}
    # depth 0: only the start page, plus the PDF it links (PDFs are always fetched)
    assert urls == {"index.html", "hitorioya_guide.pdf"}


def test_a_finished_crawl_leaves_no_run_lock_behind(site, crawl, db):
    crawl()
    crawl()
    assert [p.name for p in (db.parent / "locks").glob("*run-*.lock")] == []
