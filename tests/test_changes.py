"""Change detection and flags end to end: the fixture site served v1 then v2 on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import NERIMA, q
from wardwatch.demo.script import demo_registry
from wardwatch.stages.crawl import crawl_subprocess
from wardwatch.stages.extract import extract_pending as extract_stage

SYUUROU = Path(NERIMA.lstrip("/")) / "syuurou.html"



@pytest.fixture
def pipeline(tmp_path, site, db):
    """crawl + extract + diff over the demo registry (official and secondary sources)."""
    reg = tmp_path / "demo.toml"
    reg.write_text(demo_registry(site.base), encoding="utf-8")

    def run(today: date = date(2026, 11, 22)):
        result = crawl_subprocess(reg, db, timeout=180)
        extract_stage(db)
        from wardwatch.stages.changes import detect_changes

        result["diff"] = detect_changes(db, today=today)
        return result

    return run


def test_v1_to_v2_gives_exactly_the_expected_changes_and_flags(site, site_versions, pipeline, db):
    pipeline()
    assert q(db, "SELECT count(*) FROM changes")[0][0] == 0
    site.root = site_versions["v2"]
    second = pipeline()
    rows = q(db, "SELECT program, kind, qualifier, change, before::VARCHAR, after::VARCHAR, before_text, after_text FROM changes "
                 "ORDER BY kind")
    assert rows == [
        ("ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)", "amount", "上限", "changed", "40000", "50000", "上限4万円", "上限5万円"),
        ("練馬区ひとり親家庭自立支援プログラム策定事業", "phone", None, "changed", '"+81359844742"', '"+81359844700"',
         "03-5984-4742", "03-5984-4700"),
    ]
    assert second["diff"]["content"] == 1 and second["diff"]["changes"] == 2
    open_flags = {(r[0], r[1]) for r in q(db, "SELECT rule, source_id FROM flags WHERE open AND rule <> 'broken_link'")}
    assert open_flags == {
        ("fact_changed", "demo-nerima"),
        ("secondary_outdated", "demo-matome-nerima"),
        ("secondary_contradicts_official", "demo-matome-nerima"),
        ("secondary_contradicts_official", "demo-mamamoi-kita"),
        ("stale_reference", "demo-mamamoi-kita"),
    }
    (evidence,) = q(db, "SELECT evidence FROM flags WHERE rule = 'secondary_outdated'")[0]
    evidence = json.loads(evidence)
    assert evidence["secondary"]["text"] == "上限4万円"
    assert evidence["official_change"]["before_text"] == "上限4万円" and evidence["official_change"]["after_text"] == "上限5万円"
    # the summary view sees the change and the flags
    (summary,) = q(db, "SELECT fact_changes, open_flags FROM program_summary WHERE program LIKE 'ひとり親家庭住宅支援資金貸付%' "
                       "AND municipality = '練馬区'")
    assert summary[0] == 1 and summary[1] >= 1


def test_flags_close_themselves_when_the_cause_disappears(site, site_versions, pipeline, db):
    pipeline()
    site.root = site_versions["v2"]
    pipeline()
    assert q(db, "SELECT open FROM flags WHERE rule = 'secondary_outdated'") == [(True,)]
    site.root = site_versions["v1"]  # the ward reverts: the secondary's 上限4万円 is right again
    pipeline()
    (closed_at, reason) = q(db, "SELECT closed_at, close_reason FROM flags WHERE rule = 'secondary_outdated'")[0]
    assert closed_at is not None and reason == "cause disappeared"
    assert q(db, "SELECT count(*) FROM flags WHERE rule = 'secondary_contradicts_official' AND open "
                 "AND source_id = 'demo-matome-nerima'")[0][0] == 0


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_noise_only_and_update_date_only_revisions_are_not_content_changes(site, site_versions, pipeline, db):
    pipeline()
    page = site_versions["v1"] / SYUUROU
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("</head>", "<script>gtm('GTM-ZZZ999', '?v=20261122')</script>\n</head>")
                    .replace("<p>", "<p>\n   "), encoding="utf-8")
    pipeline()
    edit(page, "2025年4月1日", "2025年5月1日")
    pipeline()
    classes = [r[0] for r in q(db, "SELECT change_class FROM version_diffs WHERE url LIKE '%/syuurou.html' "
                                   "ORDER BY detected_at")]
    assert classes == ["first", "noise", "update_date_only"]
    assert q(db, "SELECT count(*) FROM changes")[0][0] == 0


def test_a_soft_404_never_becomes_the_baseline(site, site_versions, pipeline, db):
    pipeline()
    page = site_versions["v1"] / SYUUROU
    original = page.read_bytes()
    page.write_text("<html><head><title>ページが見つかりません</title></head><body><h1>ページが見つかりません</h1>"
                    "<p>ご指定のページは見つかりませんでした。</p></body></html>", encoding="utf-8")
    pipeline()
    page.write_bytes(original.replace("上限4万円".encode(), "上限6万円".encode()))
    pipeline()
    rows = q(db, "SELECT response_class, change_class FROM version_diffs WHERE url LIKE '%/syuurou.html' ORDER BY detected_at")
    assert rows == [("ok", "first"), ("soft_404", "not_baseline"), ("ok", "content")]
    # the change is measured against the last good version, not the soft-404
    assert q(db, "SELECT before_text, after_text FROM changes WHERE kind = 'amount'") == [("上限4万円", "上限6万円")]
    # the soft-404 was flagged as a broken link while it lasted, and the flag closed itself after
    assert q(db, "SELECT open FROM flags WHERE rule = 'broken_link' AND url LIKE '%/syuurou.html'") == [(False,)]


def test_page_gone_and_broken_link(site, site_versions, pipeline, db):
    pipeline()
    (site_versions["v1"] / SYUUROU).unlink()
    pipeline()
    rules = {r[0] for r in q(db, "SELECT rule FROM flags WHERE open AND url LIKE '%/syuurou.html'")}
    assert {"page_gone", "broken_link"} <= rules


def wardwatch(*args):
    return subprocess.run([sys.executable, "-m", "wardwatch", *args], capture_output=True, text=True, timeout=120)


def test_changes_and_flags_json_contracts(site, site_versions, pipeline, db):
    pipeline()
    site.root = site_versions["v2"]
    pipeline()
    out = wardwatch("changes", "--db", str(db), "--format", "json")
    assert out.returncode == 0, out.stderr
    changes = json.loads(out.stdout)
    assert len(changes) == 2
    assert set(changes[0]) == {"url", "source_id", "program", "kind", "qualifier", "change", "before", "after",
                               "before_text", "after_text", "detected_at"}
    amount = next(c for c in changes if c["kind"] == "amount")
    assert (amount["before"], amount["after"]) == (40000, 50000)
    assert json.loads(wardwatch("changes", "--db", str(db), "--since", "2999-01-01", "--format", "json").stdout) == []
    out = wardwatch("flags", "--db", str(db), "--open", "--format", "json")
    flags = json.loads(out.stdout)
    assert flags and all(set(f) == {"rule", "severity", "source_id", "url", "program", "kind", "evidence", "first_seen",
                                    "closed_at"} for f in flags)
    assert all(f["closed_at"] is None for f in flags)


def test_query_is_read_only_and_export_writes_parquet(site, pipeline, db, tmp_path):
    pipeline()
    out = wardwatch("query", "--db", str(db), "SELECT count(*) AS n FROM current_facts", "--format", "json")
    assert out.returncode == 0 and json.loads(out.stdout)[0]["n"] > 0
    refused = wardwatch("query", "--db", str(db), "DELETE FROM facts")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert q(db, "SELECT count(*) FROM facts")[0][0] > 0
    out = wardwatch("export", str(tmp_path / "pq"), "--db", str(db))
    assert out.returncode == 0, out.stderr
    for name in ("documents", "current_facts", "fact_history", "changes", "flags", "program_summary", "versions"):
        assert (tmp_path / "pq" / f"{name}.parquet").exists()
    n = duckdb.sql(f"SELECT count(*) FROM '{tmp_path / 'pq' / 'current_facts.parquet'}'").fetchone()[0]
    assert n == q(db, "SELECT count(*) FROM current_facts")[0][0]
