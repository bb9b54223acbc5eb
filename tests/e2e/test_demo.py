"""`wardwatch demo` end to end: offline, two crawls of the bundled site, changes, flags, report."""

from __future__ import annotations

import json

import pytest

from tests.support.helpers import wardwatch
from wardwatch.stages.crawl import crawl_subprocess

pytestmark = pytest.mark.slow  # the demo serves its site and runs the whole job twice (~15 s); the other test crawls


def test_demo_shows_the_changed_facts_and_flags(tmp_path):
    db = tmp_path / "data" / "demo.duckdb"
    out = wardwatch("demo", "--db", str(db), "--format", "json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [r["status"] for r in result["runs"]] == ["ok", "ok"]
    assert sorted((c["kind"], c["before_text"], c["after_text"]) for c in result["changes"]) == [
        ("amount", "上限4万円", "上限5万円"), ("phone", "03-5984-4742", "03-5984-4700")]
    rules = {f["rule"] for f in result["flags"]}
    assert rules == {"fact_changed", "secondary_outdated", "secondary_contradicts_official", "outdated_amount",
                     "stale_reference", "broken_link"}
    assert [f["url"].rsplit("/", 1)[1] for f in result["flags"] if f["rule"] == "broken_link"] == ["missing.html"]
    report = (tmp_path / "data" / "demo-report.html").read_text(encoding="utf-8")
    assert "上限5万円" in report and "<script" not in report


def test_demo_refuses_a_warehouse_with_real_sources(tmp_path, site, registry, db):
    crawl_subprocess(registry, db, timeout=120)  # a warehouse holding a non-demo source
    out = wardwatch("demo", "--db", str(db), timeout=120)
    assert out.returncode == 2 and "non-demo sources" in out.stderr
    assert db.exists()
