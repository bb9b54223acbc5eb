"""The change stage and the flags over warehouses filled from the demo site's files (no crawl): the v1 → v2
revision, noise, update-date-only edits, soft 404s, pages that disappear, flags that close themselves.
(The same v1 → v2 through real crawls of the loopback site: tests/e2e/test_pipeline.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.helpers import TODAY, demo_site, fill_demo, q
from tests.support.registry import NERIMA
from wardwatch.stages.changes import detect_changes

SYUUROU = Path(NERIMA.lstrip("/")) / "syuurou.html"
NERIMA_ONLY = ["demo-nerima"]  # the official source alone, for what happens to one of its pages
EXPECTED_FLAGS = {
    ("fact_changed", "demo-nerima"),
    ("secondary_outdated", "demo-matome-nerima"),
    ("secondary_contradicts_official", "demo-matome-nerima"),
    ("secondary_contradicts_official", "demo-mamamoi-kita"),
    ("stale_reference", "demo-mamamoi-kita"),
    ("outdated_amount", "demo-mamamoi-kita"),  # 特別児童扶養手当 51,500円 / 34,300円: FY2016's amounts
    ("outdated_amount", "demo-nerima"),  # the 令和7年度版 guide PDF's 児童扶養手当 46,690円 in FY2026
}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def open_flags(wh) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in q(wh, "SELECT rule, source_id FROM flags WHERE open AND rule <> 'broken_link'")}


def test_v1_to_v2_gives_exactly_the_expected_changes_and_flags(demo_runs):
    memory_warehouse, (first, second) = demo_runs
    assert (first["diff"]["first"], first["diff"]["changes"]) == (21, 0)  # 7 demo pages + 14 stand-ins they link to
    assert (second["diff"]["versions_diffed"], second["diff"]["content"], second["diff"]["changes"]) == (1, 1, 2)
    rows = q(memory_warehouse, "SELECT program, kind, qualifier, change, before::VARCHAR, after::VARCHAR, before_text, "
                               "after_text FROM changes ORDER BY kind")
    assert rows == [
        ("ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)", "amount", "上限", "changed", "40000", "50000", "上限4万円", "上限5万円"),
        ("練馬区ひとり親家庭自立支援プログラム策定事業", "phone", None, "changed", '"+81359844742"', '"+81359844700"',
         "03-5984-4742", "03-5984-4700"),
    ]
    assert open_flags(memory_warehouse) == EXPECTED_FLAGS
    (evidence,) = q(memory_warehouse, "SELECT evidence FROM flags WHERE rule = 'secondary_outdated'")[0]
    evidence = json.loads(evidence)
    assert evidence["secondary"]["text"] == "上限4万円"
    assert (evidence["official_change"]["before_text"], evidence["official_change"]["after_text"]) == ("上限4万円", "上限5万円")
    # the summary view sees the change and the program's open flags, the secondaries' included
    program = "ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)"
    assert q(memory_warehouse, "SELECT fact_changes, open_flags FROM program_summary WHERE program = ? "
                               "AND municipality = '練馬区'", [program]) == [(1, 3)]
    assert q(memory_warehouse, "SELECT rule FROM flags WHERE open AND program = ? ORDER BY rule", [program]) == [
        ("fact_changed",), ("secondary_contradicts_official",), ("secondary_outdated",)]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_diffing_again_changes_nothing_and_flags_close_when_the_cause_disappears(memory_warehouse):
    fill_demo(memory_warehouse, [demo_site("v1"), demo_site("v2")])
    assert q(memory_warehouse, "SELECT open FROM flags WHERE rule = 'secondary_outdated'") == [(True,)]
    before = q(memory_warehouse, "SELECT rule, url, open FROM flags ORDER BY ALL")
    again = detect_changes(memory_warehouse, today=TODAY)  # nothing new was crawled
    assert (again["versions_diffed"], again["changes"], again["flags_opened"], again["flags_closed"]) == (0, 0, 0, 0)
    assert q(memory_warehouse, "SELECT rule, url, open FROM flags ORDER BY ALL") == before
    (third,) = fill_demo(memory_warehouse, [demo_site("v1")])  # the ward reverts: the secondary's 上限4万円 is right again
    # the revert is itself a change (5万円 → 4万円): two new fact_changed flags replace the two of v2
    assert (third["diff"]["changes"], third["diff"]["flags_opened"], third["diff"]["flags_closed"]) == (2, 2, 4)
    assert sorted(q(memory_warehouse, "SELECT rule, source_id FROM flags WHERE NOT open")) == [
        ("fact_changed", "demo-nerima"), ("fact_changed", "demo-nerima"),
        ("secondary_contradicts_official", "demo-matome-nerima"), ("secondary_outdated", "demo-matome-nerima")]
    (closed_at, reason) = q(memory_warehouse, "SELECT closed_at, close_reason FROM flags WHERE rule = 'secondary_outdated'")[0]
    assert closed_at is not None and reason == "cause disappeared"
    assert q(memory_warehouse, "SELECT count(*) FROM flags WHERE rule = 'secondary_contradicts_official' AND open "
                               "AND source_id = 'demo-matome-nerima'") == [(0,)]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_noise_only_and_update_date_only_revisions_are_not_content_changes(memory_warehouse, site_versions):
    page = site_versions["v1"] / SYUUROU
    fill_demo(memory_warehouse, [site_versions["v1"]], sources=NERIMA_ONLY)
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("</head>", "<script>gtm('GTM-ZZZ999', '?v=20261122')</script>\n</head>")
                    .replace("<p>", "<p>\n   "), encoding="utf-8")
    fill_demo(memory_warehouse, [site_versions["v1"]], sources=NERIMA_ONLY)
    edit(page, "2025年4月1日", "2025年5月1日")
    fill_demo(memory_warehouse, [site_versions["v1"]], sources=NERIMA_ONLY)
    classes = q(memory_warehouse, "SELECT change_class FROM version_diffs WHERE url LIKE '%/syuurou.html' ORDER BY detected_at")
    assert classes == [("first",), ("noise",), ("update_date_only",)]
    assert q(memory_warehouse, "SELECT count(*) FROM changes") == [(0,)]
    assert q(memory_warehouse, "SELECT count(*) FROM versions WHERE url LIKE '%/syuurou.html'") == [(3,)]  # all kept


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_a_soft_404_never_becomes_the_baseline(memory_warehouse, site_versions):
    page = site_versions["v1"] / SYUUROU
    original = page.read_bytes()
    fill_demo(memory_warehouse, [site_versions["v1"]], sources=NERIMA_ONLY)
    page.write_text("<html><head><title>ページが見つかりません</title></head><body><h1>ページが見つかりません</h1>"
                    "<p>ご指定のページは見つかりませんでした。</p></body></html>", encoding="utf-8")
    fill_demo(memory_warehouse, [site_versions["v1"]], sources=NERIMA_ONLY)
    page.write_bytes(original.replace("上限4万円".encode(), "上限6万円".encode()))
    fill_demo(memory_warehouse, [site_versions["v1"]], sources=NERIMA_ONLY)
    rows = q(memory_warehouse, "SELECT response_class, change_class FROM version_diffs WHERE url LIKE '%/syuurou.html' "
                               "ORDER BY detected_at")
    assert rows == [("ok", "first"), ("soft_404", "not_baseline"), ("ok", "content")]
    # the change is measured against the last good version, not the soft-404
    assert q(memory_warehouse, "SELECT before_text, after_text FROM changes WHERE kind = 'amount'") == [("上限4万円", "上限6万円")]
    # the soft-404 was flagged as a broken link while it lasted, and the flag closed itself after
    assert q(memory_warehouse, "SELECT open FROM flags WHERE rule = 'broken_link' AND url LIKE '%/syuurou.html'") == [(False,)]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_page_gone_and_broken_link(memory_warehouse, site_versions):
    fill_demo(memory_warehouse, [site_versions["v1"]], sources=NERIMA_ONLY)
    assert q(memory_warehouse, "SELECT count(*) FROM flags WHERE url LIKE '%/syuurou.html'") == [(0,)]
    (site_versions["v1"] / SYUUROU).unlink()  # the server now answers 404
    fill_demo(memory_warehouse, [site_versions["v1"]], sources=NERIMA_ONLY)
    rows = q(memory_warehouse, "SELECT rule, severity, evidence FROM flags WHERE open AND url LIKE '%/syuurou.html' "
                               "ORDER BY rule")
    assert [(r[0], r[1]) for r in rows] == [("broken_link", "medium"), ("page_gone", "high")]
    broken = json.loads(rows[0][2])
    assert broken["status"] == 404 and broken["linked_from"].endswith(f"{NERIMA}/index.html")
    # the last good version stays current: a 404 does not close it
    assert q(memory_warehouse, "SELECT count(*) FROM versions WHERE url LIKE '%/syuurou.html' AND valid_to IS NULL") == [(1,)]
