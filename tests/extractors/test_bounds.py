"""Extraction stays bounded and never crashes (issues 11 and 15): overlap resolution in
O(n log n) with the old output, per-document budgets ending in ``partial``, hostile characters,
failing lines, decompression bombs and text-operator bombs (all built here, never shipped)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.extract_dense import dense_page, old_resolve
from extractors import facts as engine
from extractors.facts import extract_facts, extract_facts_result
from extractors.html import extract_html, flatten_deep
from extractors.lineview import Candidate
from extractors.model import Budget, Document, ExtractionError
from extractors.normalize import sanitize_text
from extractors.pdf import extract_pdf
from extractors.pdf_guard import decompressed_size
from tests.support.pdfs import MiB, pdf_with_pages, text_page, zero_bomb

# ---------------------------------------------------------------- overlap resolution

def cand(start: int, end: int, priority: int, group: int | None = None) -> Candidate:
    return Candidate(kind=f"k{priority}", value=None, start=start, end=end, priority=priority, group=group)


def test_resolve_keeps_priority_masks_and_shared_group_spans() -> None:
    phone, amount = cand(0, 12, 1), cand(4, 8, 7)
    months = [cand(20, 26, 5, group=1), cand(23, 29, 5, group=1)]  # one list of months shares 23..26
    other_group = cand(24, 27, 5, group=2)
    masked_amount = cand(40, 44, 7)
    kept = engine._resolve([amount, phone, *months, other_group, masked_amount, cand(50, 50, 1)], [(39, 45)])
    assert kept == [phone, *months]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 8), st.integers(0, 4),
                          st.one_of(st.none(), st.integers(0, 2))), max_size=40),
       st.lists(st.tuples(st.integers(0, 40), st.integers(1, 6)), max_size=3))
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_resolve_gives_exactly_the_old_output(specs, masks) -> None:
    cands = [cand(s, s + length, prio, group) for s, length, prio, group in specs]
    masked = [(s, s + length) for s, length in masks]
    assert engine._resolve(cands, masked) == old_resolve(cands, masked)


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_resolve_on_a_long_line_of_candidates_matches_the_old_output() -> None:
    rng = random.Random(15)
    cands = []
    for i in range(3000):  # amount/qualifier pairs plus overlapping dates and a few grouped month lists
        base = i * 5
        cands += [cand(base, base + 5, 7), cand(base + 2, base + 5, 6)]
        if rng.random() < 0.2:
            cands.append(cand(base + 1, base + 9, rng.choice([3, 5]), group=rng.choice([None, 1, 2])))
    assert engine._resolve(cands, [(100, 130)]) == old_resolve(cands, [(100, 130)])


# ---------------------------------------------------------------- budgets

@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_a_dense_page_is_extracted_whole_and_the_fact_budget_ends_it_partial() -> None:
    doc = extract_html(dense_page(64 * 1024))
    whole = extract_facts_result(doc)
    assert whole.partial is None and whole.failed_lines == 0 and len(whole.facts) > 2000
    assert {(f.kind, f.value) for f in whole.facts} == {("amount", 40000)}
    cut = extract_facts_result(doc, budget=Budget(facts=100))
    assert len(cut.facts) == 100 and cut.facts == whole.facts[:100]
    assert cut.partial == "fact budget of 100 facts reached at line 1 of 1"


def test_a_line_longer_than_the_piece_size_gives_the_facts_of_the_whole_line(monkeypatch) -> None:
    sentence = "令和7年4月1日から上限4万円を支給します。問合せは電話03-5984-1319へ。"
    doc = Document.from_blocks([(sentence * 150, {"kind": "para"})], "text/plain")  # 6 000 chars
    monkeypatch.setattr(engine, "MAX_LINE_CHARS", 1000)
    pieces = extract_facts(doc)
    monkeypatch.setattr(engine, "MAX_LINE_CHARS", 10**9)
    assert pieces == extract_facts(doc) and len(pieces) == 150 * 3
    assert all(doc.text[f.start:f.end] == f.text for f in pieces)


def test_the_time_budget_ends_extraction_partial_with_the_facts_so_far() -> None:
    doc = Document.from_blocks([(f"第{i}回 上限{i}万円", {"kind": "para"}) for i in range(1, 6)], "text/plain")
    ticks = iter(range(100))
    result = extract_facts_result(doc, budget=Budget(seconds=2.5), clock=lambda: float(next(ticks)))
    assert [f.value for f in result.facts if f.kind == "amount"] == [10000, 20000]
    assert result.partial == "time budget of 2.5 s used up at line 3 of 5 (2 facts kept)"


def test_budget_from_env_reads_overrides_and_refuses_bad_values() -> None:
    assert Budget.from_env({}) == Budget()
    b = Budget.from_env({"WARDWATCH_EXTRACT_SECONDS": "2.5", "WARDWATCH_EXTRACT_FACTS": "10",
                         "WARDWATCH_EXTRACT_BYTES": "1048576", "WARDWATCH_EXTRACT_PAGES": "3",
                         "WARDWATCH_EXTRACT_MEMORY": "0"})
    assert (b.seconds, b.facts, b.decompressed_bytes, b.pages, b.memory_bytes) == (2.5, 10, MiB, 3, 0)
    for var, raw in (("WARDWATCH_EXTRACT_SECONDS", "inf"), ("WARDWATCH_EXTRACT_SECONDS", "nan"),
                     ("WARDWATCH_EXTRACT_FACTS", "-1"), ("WARDWATCH_EXTRACT_PAGES", "0"), ("WARDWATCH_EXTRACT_BYTES", "1e9x")):
        with pytest.raises(ValueError, match=var):
            Budget.from_env({var: raw})


# ---------------------------------------------------------------- hostile characters, failing lines

HOSTILE = ["\ud842", "\udfb7", "\udfb7\ud842", "\ud842\udfb7", "\x00", "\x07", "\x1b[31m", "\x85", "\u202e",
           "\ue000", "\uf8ff", "\U000f0001", "\ufffe", "\ufb01", "\u337f", "\u3231", "\u2460", "\u0301", "\uff9e"]
TEXT = ["上限4万円", "電話03-5984-1319", "令和7年4月1日から令和8年3月31日まで", "18歳", "月額46,690円", "〜", "－", " "]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(HOSTILE + TEXT), min_size=1, max_size=12))
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_hostile_characters_never_crash_and_evidence_spans_hold(pieces) -> None:
    raw = "".join(pieces)
    doc = Document.from_blocks([(raw, {"kind": "para"}), ("問合せ 電話03-5984-1319", {"kind": "para"})], "text/plain")
    assert not any(0xD800 <= ord(c) <= 0xDFFF or 0xE000 <= ord(c) <= 0xF8FF for c in doc.text)
    doc.text.encode("utf-8")  # storable
    result = extract_facts_result(doc)
    assert result.failed_lines == 0
    assert all(doc.text[f.start:f.end] == f.text for f in result.facts)
    assert "+81359841319" in {f.value for f in result.facts if f.kind == "phone"}


def test_sanitize_joins_split_pairs_and_replaces_what_is_unreadable() -> None:
    assert sanitize_text("\ud842\udfb7田 上限\x004万円\ue001") == ("𠮷田 上限4万円\ufffd", 3)
    assert sanitize_text("\udfb7\ud842田") == ("\ufffd\ufffd田", 2)  # reversed halves: no character
    assert sanitize_text("ﬁ ㍿ 普通の文") == ("ﬁ ㍿ 普通の文", 0)  # ligatures are NFKC's job (mapped)
    doc = Document.from_blocks([("\ud842上限4万円", {"kind": "para"})], "text/html", title="\udfb7題")
    assert doc.text == "\ufffd上限4万円" and doc.title == "\ufffd題"
    assert doc.warnings == ("1 unreadable or control character(s) in the text layer replaced",)
    (fact,) = extract_facts(doc)
    assert (fact.value, fact.text, fact.start) == (40000, "上限4万円", 1)


def test_ligatures_map_back_to_their_source_span() -> None:
    doc = Document.from_blocks([("㍿ﬁの上限4万円（℡03-5984-1319）", {"kind": "para"})], "text/plain")
    facts = {f.kind: f for f in extract_facts(doc)}
    assert facts["amount"].text == "上限4万円" and facts["phone"].value == "+81359841319"
    assert all(doc.text[f.start:f.end] == f.text for f in facts.values())


def test_a_line_whose_rules_fail_costs_only_that_line(monkeypatch) -> None:
    real = engine._line_candidates

    def flaky(line, ctx, sudachi):
        if "壊れ" in line:
            raise UnicodeEncodeError("utf-8", line, 0, 1, "surrogates not allowed")
        return real(line, ctx, sudachi)

    monkeypatch.setattr(engine, "_line_candidates", flaky)
    doc = Document.from_blocks([("上限4万円", {"kind": "para"}), ("壊れた行 上限9万円", {"kind": "para"}),
                                ("上限5万円", {"kind": "para"})], "text/plain")
    result = extract_facts_result(doc)
    assert [f.value for f in result.facts] == [40000, 50000]
    assert result.failed_lines == 1 and result.partial is None
    assert result.warnings == ("line 2: rules failed (UnicodeEncodeError: 'utf-8' codec can't encode character "
                               "'\\u58ca' in position 0: surrogates not allowed); its facts are missing",)


# ---------------------------------------------------------------- deep HTML

def test_html_nested_past_the_parser_limit_keeps_the_rest_of_the_page() -> None:
    depth = 5000
    body = ("<html><body><main>" + "<div>" * depth + "<p>上限4万円</p>" + "</div>" * depth
            + "<h2>住宅手当</h2><p>上限5万円</p></main></body></html>").encode()
    doc = extract_html(body)
    assert [b.text for b in doc.blocks] == ["上限4万円", "住宅手当", "上限5万円"]
    assert doc.blocks[2].program == "住宅手当"
    assert doc.warnings == ("HTML nested deeper than the parser's limit (2048 levels with huge_tree): container tags "
                            "below level 1000 flattened so the rest of the page is kept",)
    assert [f.value for f in extract_facts(doc)] == [40000, 50000]
    shallow = extract_html(b"<html><body><main>" + b"<div>" * 300 + b"<p>x 1</p>" + b"</div>" * 300 + b"</main></body></html>")
    assert shallow.warnings == ()


def test_flatten_deep_keeps_text_entities_scripts_and_tables() -> None:
    html = "<div><div><p>a &amp; b</p><script>if (a<b) x()</script><table><tr><td>c</td></tr></table></div></div>"
    assert flatten_deep(html, limit=1) == ("<div><br><br>a &amp; b<br><script>if (a<b) x()</script>"
                                           "<table><tr><td>c</td></tr></table><br></div>")


# ---------------------------------------------------------------- PDFs

def test_zlib_bombs_are_refused_before_parsing() -> None:
    small = Budget(decompressed_bytes=8 * MiB)
    for layers in (1, 2):
        bomb = zero_bomb(32 * MiB, layers)
        assert len(bomb) < MiB // 4
        assert decompressed_size(bomb, 8 * MiB) > 8 * MiB
        with pytest.raises(ExtractionError, match=r"^pdf too large when decompressed: its streams inflate past the "
                                                  r"budget of 8 MiB \(WARDWATCH_EXTRACT_BYTES\)$"):
            extract_pdf(bomb, budget=small)
    fine = pdf_with_pages([text_page("Tel 03-5984-1319")])
    assert decompressed_size(fine, MiB) == len(text_page("Tel 03-5984-1319"))


@pytest.mark.slow
def test_a_gigabyte_of_zeros_in_a_megabyte_is_refused_with_the_default_budget() -> None:
    bomb = zero_bomb(1024 * MiB, level=9)  # ~10 s to build
    assert len(bomb) < 2 * MiB
    with pytest.raises(ExtractionError, match="^pdf too large when decompressed: .* 256 MiB"):
        extract_pdf(bomb)


def test_a_page_of_too_many_text_operators_is_skipped_and_the_document_is_partial() -> None:
    bomb_page = b"BT /F1 12 Tf 10 10 Td " + b"(ABCDEFGHIJ) Tj " * 4000 + b"ET"  # 40 000 chars
    doc = extract_pdf(pdf_with_pages([text_page("Tel 03-5984-1319"), bomb_page]))
    assert doc.pages == 2 and doc.text == "Tel 03-5984-1319"
    assert doc.partial == "page 2: 40000 characters, more than 30000; skipped"


def test_page_and_time_budgets_end_pdf_extraction_partial() -> None:
    pdf = pdf_with_pages([text_page(f"Tel 03-5984-131{i}") for i in range(3)])
    doc = extract_pdf(pdf, budget=Budget(pages=2))
    assert doc.text == "Tel 03-5984-1310\nTel 03-5984-1311" and doc.pages == 3
    assert doc.partial == "page budget: the first 2 of 3 pages extracted (WARDWATCH_EXTRACT_PAGES)"
    late = extract_pdf(pdf, budget=Budget(seconds=1e-9))
    assert late.text == "" and late.partial == ("time budget of 1e-09 s used up: 0 of 3 pages extracted "
                                                "(WARDWATCH_EXTRACT_SECONDS)")


def test_the_parser_child_is_capped_and_its_death_is_a_clear_error() -> None:
    pdf = pdf_with_pages([text_page("Tel 03-5984-1319")])
    assert extract_pdf(pdf).text == extract_pdf(pdf, budget=Budget(memory_bytes=0)).text == "Tel 03-5984-1319"
    with pytest.raises(ExtractionError, match=r"^pdf too large when decompressed: parsing it needs more than the "
                                              r"memory budget of 16 MiB \(WARDWATCH_EXTRACT_MEMORY; parser "):
        extract_pdf(pdf, budget=Budget(memory_bytes=16 * MiB))  # the child cannot even start in 16 MiB


def test_parser_workers_are_reused_and_killed_when_over_time() -> None:
    import time

    from extractors import pdf_guard

    pdf = pdf_with_pages([text_page("Tel 03-5984-1319")])
    extract_pdf(pdf)
    pids = {w.proc.pid for w in pdf_guard._idle}
    assert len(pids) == 1
    assert extract_pdf(pdf).text == "Tel 03-5984-1319"
    assert {w.proc.pid for w in pdf_guard._idle} == pids  # the same worker served again
    with pytest.raises(ExtractionError, match=r"^pdf parse took longer than the time budget of 0 s"):
        pdf_guard.run_limited([(0, 1)], pdf, deadline=time.monotonic() + 60, memory_bytes=Budget().memory_bytes,
                              seconds=0)
    pdf_guard.stop_workers()
    assert pdf_guard._idle == []
