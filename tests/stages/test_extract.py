"""The extraction stage over a warehouse filled from the demo site's files (no crawl): idempotent,
re-extractable from the stored bytes, fact history across versions, failures recorded per version.
(`wardwatch run --no-prefect` crawling then extracting: tests/e2e/test_pipeline.py.)"""

from __future__ import annotations

from tests.support.helpers import crawl_files, demo_site, demo_sources, q
from tests.support.registry import NERIMA
from wardwatch.stages.extract import extract_pending

SYUUROU = f"%{NERIMA}/syuurou.html"
NERIMA_SOURCE = demo_sources("demo-nerima")  # the official 練馬区 section alone: 3 pages and a PDF


def test_every_version_is_extracted_and_facts_carry_evidence(memory_warehouse):
    crawl_files(memory_warehouse, demo_site("v1"))
    result = extract_pending(memory_warehouse)
    assert (result["extracted"], result["errors"], result["no_text"], result["failures"]) == (7, 0, 0, [])
    assert result["facts"] == q(memory_warehouse, "SELECT count(*) FROM facts")[0][0] > 0
    (row,) = q(memory_warehouse, "SELECT program, qualifier, value_num, text FROM current_facts "
                                 "WHERE kind = 'amount' AND url LIKE ?", [SYUUROU])
    assert row == ("ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)", "上限", 40000, "上限4万円")
    # every fact's span points into the stored main text
    spans = q(memory_warehouse, "SELECT substr(e.main_text, f.start_offset + 1, f.end_offset - f.start_offset) = f.text "
                                "FROM facts f JOIN extractions e USING (sha256, extractor_version)")
    assert spans == [(True,)] * result["facts"]
    # the PDF's facts carry their page
    pages = q(memory_warehouse, "SELECT DISTINCT page FROM current_facts WHERE url LIKE '%.pdf' ORDER BY page")
    assert pages == [(1,), (2,)]


def test_extraction_is_idempotent_and_follows_the_extractor_version(memory_warehouse, monkeypatch):
    crawl_files(memory_warehouse, demo_site("v1"), sources=NERIMA_SOURCE)
    assert extract_pending(memory_warehouse)["extracted"] == 4
    again = extract_pending(memory_warehouse)
    assert (again["extracted"], again["facts"]) == (0, 0)
    n_facts = q(memory_warehouse, "SELECT count(*) FROM facts")[0][0]

    import extractors.facts

    monkeypatch.setattr(extractors.facts, "EXTRACTOR_VERSION", "facts-test-next")
    upgraded = extract_pending(memory_warehouse)
    assert upgraded["extracted"] == 4 and upgraded["extractor_version"] == "facts-test-next"
    assert q(memory_warehouse, "SELECT count(*) FROM facts")[0][0] == 2 * n_facts  # history kept
    assert q(memory_warehouse, "SELECT DISTINCT extractor_version FROM current_facts") == [("facts-test-next",)]


def test_only_new_versions_are_extracted_and_a_changed_page_has_fact_history(memory_warehouse):
    crawl_files(memory_warehouse, demo_site("v1"), sources=NERIMA_SOURCE)
    extract_pending(memory_warehouse)
    crawl_files(memory_warehouse, demo_site("v2"), sources=NERIMA_SOURCE)  # only syuurou.html differs
    second = extract_pending(memory_warehouse)
    assert second["extracted"] == 1
    rows = q(memory_warehouse, "SELECT value_num, valid_to IS NULL FROM fact_history WHERE kind = 'amount' "
                               "AND qualifier = '上限' AND url LIKE ? ORDER BY valid_from", [SYUUROU])
    assert rows == [(40000, False), (50000, True)]


def test_a_broken_pdf_is_recorded_not_fatal(memory_warehouse, site_versions):
    pdf = site_versions["v1"] / NERIMA.lstrip("/") / "documents" / "hitorioya_guide.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntruncated garbage")
    crawl_files(memory_warehouse, site_versions["v1"], sources=NERIMA_SOURCE)
    result = extract_pending(memory_warehouse)
    assert result["errors"] == 1 and result["extracted"] == 4
    (failure,) = result["failures"]
    assert failure["url"].endswith("/hitorioya_guide.pdf") and failure["error"].startswith("malformed pdf")
    assert q(memory_warehouse, "SELECT e.status, e.main_text FROM extractions e JOIN versions v USING (sha256) "
                               "WHERE v.url LIKE '%.pdf'") == [("error", None)]
    assert q(memory_warehouse, "SELECT count(*) FROM current_facts WHERE url LIKE '%.pdf'") == [(0,)]
    assert q(memory_warehouse, "SELECT count(*) FROM extractions WHERE status = 'ok'") == [(3,)]  # the rest went on
