"""The extraction stage over a crawled warehouse: idempotent, re-extractable, queryable."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import NERIMA, q
from wardwatch.stages.extract import extract_pending


def test_run_crawls_then_extracts_and_facts_carry_evidence(site, registry, db):
    out = subprocess.run([sys.executable, "-m", "wardwatch", "run", "--no-prefect", "--sources", str(registry), "--db", str(db),
                          "--format", "json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["extract"]["extracted"] == 4 and result["extract"]["errors"] == 0
    (row,) = q(db, "SELECT program, qualifier, value_num, text, url FROM current_facts "
                   "WHERE kind = 'amount' AND url LIKE '%/syuurou.html'")
    assert row[:4] == ("ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)", "上限", 40000, "上限4万円")
    # the span points into the stored main text
    assert q(db, "SELECT substr(e.main_text, f.start_offset + 1, f.end_offset - f.start_offset) = f.text "
                 "FROM facts f JOIN extractions e USING (sha256, extractor_version)") == [(True,)] * q(db, "SELECT count(*) FROM facts")[0][0]
    # the PDF's facts carry their page
    assert q(db, "SELECT count(*) FROM current_facts WHERE url LIKE '%.pdf' AND page >= 1")[0][0] > 0


def test_extraction_is_idempotent_and_follows_the_extractor_version(site, crawl, db, monkeypatch):
    crawl()
    first = extract_pending(db)
    assert first["extracted"] == 4
    again = extract_pending(db)
    assert again["extracted"] == 0
    n_facts = q(db, "SELECT count(*) FROM facts")[0][0]

    import extractors.facts

    monkeypatch.setattr(extractors.facts, "EXTRACTOR_VERSION", "facts-test-next")
    upgraded = extract_pending(db)
    assert upgraded["extracted"] == 4 and upgraded["extractor_version"] == "facts-test-next"
    assert q(db, "SELECT count(*) FROM facts")[0][0] == 2 * n_facts  # history kept
    assert set(q(db, "SELECT DISTINCT extractor_version FROM current_facts")) == {("facts-test-next",)}


def test_a_changed_page_has_fact_history(site, site_versions, crawl, db):
    crawl()
    extract_pending(db)
    site.root = site_versions["v2"]
    crawl()
    extract_pending(db)
    rows = q(db, "SELECT value_num, valid_to IS NULL FROM fact_history WHERE kind = 'amount' AND qualifier = '上限' "
                 "AND url LIKE ? ORDER BY valid_from", [f"%{NERIMA}/syuurou.html"])
    assert rows == [(40000, False), (50000, True)]


def test_a_broken_pdf_is_recorded_not_fatal(tmp_path, site, site_versions, crawl, db):
    pdf = site_versions["v1"] / NERIMA.lstrip("/") / "documents" / "hitorioya_guide.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntruncated garbage")
    crawl()
    result = extract_pending(db)
    assert result["errors"] == 1 and result["extracted"] == 4
    (failure,) = result["failures"]
    assert failure["url"].endswith(".pdf") and failure["error"]
    assert q(db, "SELECT status FROM extractions WHERE media_type = 'application/pdf' OR error IS NOT NULL")[0][0] == "error"


def test_extract_command_prints_facts_of_a_file(tmp_path):
    from wardwatch.demo.script import demo_site_root

    page = demo_site_root() / "v1" / NERIMA.lstrip("/") / "syuurou.html"
    out = subprocess.run([sys.executable, "-m", "wardwatch", "extract", str(page), "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    facts = json.loads(out.stdout)
    assert {"kind": "amount", "value": 40000, "text": "上限4万円", "qualifier": "上限"}.items() <= next(
        f for f in facts if f["kind"] == "amount").items()
    table = subprocess.run([sys.executable, "-m", "wardwatch", "extract", str(page), "--format", "table"],
                           capture_output=True, text=True, timeout=120)
    assert "上限4万円" in table.stdout and "+81359841319" in table.stdout
