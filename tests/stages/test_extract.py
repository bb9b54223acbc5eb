"""The extraction stage over a warehouse filled from the demo site's files (no crawl): idempotent,
re-extractable from the stored bytes, fact history across versions, failures recorded per version.
(`wardwatch run --no-prefect` crawling then extracting: tests/e2e/test_pipeline.py.)"""

from __future__ import annotations

import pytest

from tests.support.helpers import crawl_files, demo_site, demo_sources, q
from tests.support.registry import NERIMA
from wardwatch.stages.extract import extract_pending

SYUUROU = f"%{NERIMA}/syuurou.html"
NERIMA_SOURCE = demo_sources("demo-nerima")  # the official 練馬区 section alone: 3 pages and a PDF


def stored(wh) -> int:
    """How many distinct contents (sha256) the warehouse holds: what one extraction pass covers."""
    return q(wh, "SELECT count(DISTINCT sha256) FROM versions")[0][0]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_every_version_is_extracted_and_facts_carry_evidence(memory_warehouse):
    crawl_files(memory_warehouse, demo_site("v1"))
    result = extract_pending(memory_warehouse)
    assert (result["extracted"], result["errors"], result["no_text"], result["failures"]) == (stored(memory_warehouse), 0, 0, [])
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


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_extraction_is_idempotent_and_follows_the_extractor_version(memory_warehouse, monkeypatch):
    crawl_files(memory_warehouse, demo_site("v1"), sources=NERIMA_SOURCE)
    assert extract_pending(memory_warehouse)["extracted"] == stored(memory_warehouse)
    again = extract_pending(memory_warehouse)
    assert (again["extracted"], again["facts"]) == (0, 0)
    n_facts = q(memory_warehouse, "SELECT count(*) FROM facts")[0][0]

    import extractors.facts

    monkeypatch.setattr(extractors.facts, "EXTRACTOR_VERSION", "facts-test-next")
    upgraded = extract_pending(memory_warehouse)
    assert upgraded["extracted"] == stored(memory_warehouse) and upgraded["extractor_version"] == "facts-test-next"
    assert q(memory_warehouse, "SELECT count(*) FROM facts")[0][0] == 2 * n_facts  # history kept
    assert q(memory_warehouse, "SELECT DISTINCT extractor_version FROM current_facts") == [("facts-test-next",)]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_only_new_versions_are_extracted_and_a_changed_page_has_fact_history(memory_warehouse):
    crawl_files(memory_warehouse, demo_site("v1"), sources=NERIMA_SOURCE)
    extract_pending(memory_warehouse)
    crawl_files(memory_warehouse, demo_site("v2"), sources=NERIMA_SOURCE)  # only syuurou.html differs
    second = extract_pending(memory_warehouse)
    assert second["extracted"] == 1
    rows = q(memory_warehouse, "SELECT value_num, valid_to IS NULL FROM fact_history WHERE kind = 'amount' "
                               "AND qualifier = '上限' AND url LIKE ? ORDER BY valid_from", [SYUUROU])
    assert rows == [(40000, False), (50000, True)]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_a_broken_pdf_is_recorded_not_fatal(memory_warehouse, site_versions):
    pdf = site_versions["v1"] / NERIMA.lstrip("/") / "documents" / "hitorioya_guide.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntruncated garbage")
    crawl_files(memory_warehouse, site_versions["v1"], sources=NERIMA_SOURCE)
    result = extract_pending(memory_warehouse)
    assert result["errors"] == 1 and result["extracted"] == stored(memory_warehouse)
    (failure,) = result["failures"]
    assert failure["url"].endswith("/hitorioya_guide.pdf") and failure["error"].startswith("malformed pdf")
    assert q(memory_warehouse, "SELECT e.status, e.main_text FROM extractions e JOIN versions v USING (sha256) "
                               "WHERE v.url LIKE '%.pdf'") == [("error", None)]
    assert q(memory_warehouse, "SELECT count(*) FROM current_facts WHERE url LIKE '%.pdf'") == [(0,)]
    assert q(memory_warehouse, "SELECT count(*) FROM extractions WHERE status = 'ok'") == [(stored(memory_warehouse) - 1,)]  # the rest went on


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_over_budget_documents_are_stored_partial_or_error_with_the_reason(memory_warehouse, site_versions,
                                                                          monkeypatch):
    from benchmarks.extract_dense import dense_page
    from tests.support.pdfs import zero_bomb

    root = site_versions["v1"] / NERIMA.lstrip("/")
    (root / "syuurou.html").write_bytes(dense_page(64 * 1024))  # 上限4万円 repeated: thousands of facts
    (root / "documents" / "hitorioya_guide.pdf").write_bytes(zero_bomb(32 * 1024 * 1024))
    crawl_files(memory_warehouse, site_versions["v1"], sources=NERIMA_SOURCE)
    monkeypatch.setenv("WARDWATCH_EXTRACT_FACTS", "500")
    monkeypatch.setenv("WARDWATCH_EXTRACT_BYTES", str(8 * 1024 * 1024))
    result = extract_pending(memory_warehouse)
    assert (result["extracted"], result["partial"], result["errors"]) == (stored(memory_warehouse), 1, 1)
    rows = q(memory_warehouse, "SELECT v.url, e.status, e.error, e.fact_count FROM extractions e JOIN versions v "
                               "USING (sha256) ORDER BY v.url")
    by_name = {url.rsplit("/", 1)[1]: (status, error, n) for url, status, error, n in rows}
    assert by_name["syuurou.html"] == ("partial", "fact budget of 500 facts reached at line 1 of 1", 500)
    assert by_name["hitorioya_guide.pdf"] == ("error", "pdf too large when decompressed: its streams inflate past "
                                              "the budget of 8 MiB (WARDWATCH_EXTRACT_BYTES)", 0)
    assert q(memory_warehouse, "SELECT count(*) FROM facts f JOIN versions v USING (sha256) "
                               "WHERE v.url LIKE ?", [SYUUROU]) == [(500,)]  # the facts found so far are kept
    assert sorted(s for s, _, _ in by_name.values()) == ["error", *["ok"] * (len(by_name) - 2), "partial"]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_reextract_brings_history_of_the_previous_extractor_up_to_date(memory_warehouse, monkeypatch):
    import extractors.facts

    current = extractors.facts.EXTRACTOR_VERSION
    assert current == "facts-6"
    crawl_files(memory_warehouse, demo_site("v1"), sources=NERIMA_SOURCE)
    crawl_files(memory_warehouse, demo_site("v2"), sources=NERIMA_SOURCE)
    monkeypatch.setattr(extractors.facts, "EXTRACTOR_VERSION", "facts-1")
    n = stored(memory_warehouse)  # the pages of v1 + the changed one of v2
    assert extract_pending(memory_warehouse)["extracted"] == n
    monkeypatch.setattr(extractors.facts, "EXTRACTOR_VERSION", current)
    upgraded = extract_pending(memory_warehouse)
    assert (upgraded["extracted"], upgraded["errors"], upgraded["partial"]) == (n, 0, 0)
    assert q(memory_warehouse, "SELECT extractor_version, count(*) FROM extractions GROUP BY ALL ORDER BY 1") == [
        ("facts-1", n), (current, n)]
    assert q(memory_warehouse, "SELECT DISTINCT extractor_version FROM fact_history") == [(current,)]
