"""Every development document of ../shared/corpus (pdf/ and html_noise/) extracts without an
exception, a failed line or a budget cut, with facts wherever there is text, evidence spans
exact and storable text. The held-out documents (see the project's held-out list) are not
read here: they measure generalisation, not robustness under test."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.facts import extract_facts_result
from extractors.model import Budget
from extractors.text import extract_document
from tests.support.helpers import SHARED
from tests.support.pdfs import HELD_OUT_PDFS as HELD_OUT

CORPUS = SHARED / "corpus"


def _files(folder: str, suffix: str) -> list[Path]:
    root = CORPUS / folder
    return sorted(p for p in root.glob(f"*{suffix}") if p.name not in HELD_OUT) if root.is_dir() else []


PDFS = _files("pdf", ".pdf")
HTML = _files("html_noise", ".html")


def _check(path: Path, media_type: str) -> tuple[int, str]:
    doc = extract_document(path.read_bytes(), media_type, url=path.name, budget=Budget())
    result = extract_facts_result(doc, budget=Budget())
    assert doc.partial is None and result.partial is None, (path.name, doc.partial, result.partial)
    assert result.failed_lines == 0, (path.name, result.warnings)
    doc.text.encode("utf-8")  # storable: no surrogates left
    assert all(doc.text[f.start:f.end] == f.text for f in result.facts), path.name
    return len(result.facts), doc.text


@pytest.mark.slow
@pytest.mark.skipif(not PDFS, reason="../shared/corpus/pdf not available")
@pytest.mark.parametrize("path", PDFS, ids=[p.stem for p in PDFS])
def test_every_corpus_pdf_extracts_with_facts(path: Path) -> None:
    n, text = _check(path, "application/pdf")
    assert text and n > 0, path.name


@pytest.mark.slow
@pytest.mark.skipif(not HTML, reason="../shared/corpus/html_noise not available")
@pytest.mark.parametrize("path", HTML, ids=[p.stem for p in HTML])
def test_every_corpus_html_page_extracts(path: Path) -> None:
    n, text = _check(path, "text/html")
    if any(c.isdigit() for c in text):  # a page with numbers in its main text has facts
        assert n > 0, path.name
