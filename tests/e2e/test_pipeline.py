"""The stages through real crawls of the loopback fixture site: crawl (a child process) → extract →
diff, v1 then v2. (The same stages over site files without a server: tests/stages/.)"""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.support.helpers import q, wardwatch
from wardwatch.demo.script import demo_registry
from wardwatch.stages.changes import detect_changes
from wardwatch.stages.crawl import crawl_subprocess
from wardwatch.stages.extract import extract_pending

pytestmark = pytest.mark.slow  # real crawls in child processes


def test_v1_to_v2_gives_exactly_the_expected_changes_and_flags(tmp_path, site, site_versions, db):
    reg = tmp_path / "demo.toml"
    reg.write_text(demo_registry(site.base), encoding="utf-8")
    results = []
    for version in ("v1", "v2"):
        site.root = site_versions[version]
        crawled = crawl_subprocess(reg, db, timeout=180)
        assert crawled["status"] == "ok", crawled
        extract_pending(db)
        results.append(detect_changes(db, today=date(2026, 11, 22)))
    assert results[0]["changes"] == 0 and results[0]["first"] == 21  # 7 demo pages + the 14 stand-ins they link to
    assert (results[1]["content"], results[1]["changes"]) == (1, 2)
    rows = q(db, "SELECT program, kind, qualifier, change, before::VARCHAR, after::VARCHAR, before_text, after_text "
                 "FROM changes ORDER BY kind")
    assert rows == [
        ("ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)", "amount", "上限", "changed", "40000", "50000", "上限4万円", "上限5万円"),
        ("練馬区ひとり親家庭自立支援プログラム策定事業", "phone", None, "changed", '"+81359844742"', '"+81359844700"',
         "03-5984-4742", "03-5984-4700"),
    ]
    open_flags = {(r[0], r[1]) for r in q(db, "SELECT rule, source_id FROM flags WHERE open AND rule <> 'broken_link'")}
    assert open_flags == {
        ("fact_changed", "demo-nerima"),
        ("secondary_outdated", "demo-matome-nerima"),
        ("secondary_contradicts_official", "demo-matome-nerima"),
        ("secondary_contradicts_official", "demo-mamamoi-kita"),
        ("stale_reference", "demo-mamamoi-kita"),
        ("outdated_amount", "demo-mamamoi-kita"),  # 特別児童扶養手当 51,500円: FY2016's amount
        ("outdated_amount", "demo-nerima"),  # the 令和7年度版 guide's 児童扶養手当 46,690円 in FY2026
    }
    (evidence,) = q(db, "SELECT evidence FROM flags WHERE rule = 'secondary_outdated'")[0]
    evidence = json.loads(evidence)
    assert evidence["secondary"]["text"] == "上限4万円"
    assert (evidence["official_change"]["before_text"], evidence["official_change"]["after_text"]) == ("上限4万円", "上限5万円")


def test_run_crawls_then_extracts_and_facts_carry_evidence(site, registry, db):
    out = wardwatch("run", "--no-prefect", "--sources", str(registry), "--db", str(db), "--format", "json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["extract"]["extracted"] == 9 and result["extract"]["errors"] == 0
    (run_id,) = result["crawl"]["run_ids"]
    assert result["crawl"]["run_id"] == run_id
    (kinds,) = q(db, "SELECT error_kinds FROM runs WHERE run_id = ?", [run_id])[0]
    assert json.loads(kinds) == result["crawl"]["sources"][0]["error_kinds"] == {"http_404": 1, "robots": 1}
    (row,) = q(db, "SELECT program, qualifier, value_num, text, url FROM current_facts "
                   "WHERE kind = 'amount' AND url LIKE '%/syuurou.html'")
    assert row[:4] == ("ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)", "上限", 40000, "上限4万円")
    assert row[4] == site.url("/nerima/kurashi/jinken/hitorioya/syuurou.html")
    n_facts = q(db, "SELECT count(*) FROM facts")[0][0]
    assert n_facts == result["extract"]["facts"] > 0
    assert q(db, "SELECT substr(e.main_text, f.start_offset + 1, f.end_offset - f.start_offset) = f.text "
                 "FROM facts f JOIN extractions e USING (sha256, extractor_version)") == [(True,)] * n_facts
    assert q(db, "SELECT DISTINCT page FROM current_facts WHERE url LIKE '%.pdf' ORDER BY page") == [(1,), (2,)]
