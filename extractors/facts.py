"""Fact extraction entry point: ``extract_facts(doc) -> list[Fact]``.

The document is processed line by line (Sudachi is fed lines, never whole documents). Each line
is normalised (:mod:`extractors.lineview`), every rule module proposes candidates, overlapping
candidates are resolved by priority (url/email > phone/fax > office_hours > address > period >
date/fiscal_year > amount > rate > age > duration > department) and the winners become
:class:`~extractors.model.Fact` objects whose ``text`` is the exact span of ``Document.text``.

``ページ番号:805-576-132`` (CMS page ids) is masked: it never yields a phone, amount or date.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from extractors.lineview import Candidate, LineView
from extractors.model import Block, Document, Fact
from extractors.qualifiers import join
from extractors.rules_contacts import find_addresses, find_departments, find_links, find_office_hours, find_phones
from extractors.rules_dates import DateContext, find_dates
from extractors.rules_quantities import find_ages, find_amounts, find_durations, find_rates

EXTRACTOR_VERSION = "facts-1"

_BOILERPLATE_RE = re.compile(r"ページ(?:番号|ID)\s*[:：]?\s*[0-9０-９\-－]+")

# rules that need a digit in the line (after numerals became digits; 元 for 令和元年度), each
# with the substrings one of which its matches always contain (a cheap filter before the regexes)
_NUMERIC_RULES: tuple[tuple[Callable[[LineView], list[Candidate]], tuple[str, ...]], ...] = (
    (find_phones, ("-", "(", "0")),
    (find_office_hours, ("時", ":")),
    (find_addresses, ("-", "丁目", "番地")),
    (find_amounts, ("円",)),
    (find_rates, ("%", "割", "分の", "パーセント")),
    (find_ages, ("歳", "才")),
    (find_durations, ("月", "年", "週", "日", "時間")),
)
_HAS_NUMBER = re.compile("[0-9元]")


def extract_facts(doc: Document, *, sudachi: bool = True) -> list[Fact]:
    """Every fact mention in ``doc``, in document order.

    ``sudachi=False`` replaces the Sudachi steps (numeral detection, department and address
    noun phrases) with plain regexes; it exists only for the ablation in
    ``benchmarks.extract_quality``.
    """
    starts = [b.start for b in doc.blocks]
    ctx = DateContext()
    facts: list[Fact] = []
    for line_start, line in _lines(doc.text):
        if not line or line.isspace():
            continue
        for cand in _line_candidates(line, ctx, sudachi):
            start, end = line_start + cand.start, line_start + cand.end
            block = _block_at(doc.blocks, starts, start)
            facts.append(Fact(
                kind=cand.kind,
                value=cand.value,
                text=doc.text[start:end],
                start=start,
                end=end,
                qualifier=join(cand.qualifiers),
                program=block.program if block else None,
                page=block.page if block else None,
                extra=dict(cand.extra),
            ))
    return facts


def facts_to_json(facts: Iterable[Fact]) -> list[dict[str, Any]]:
    """JSON-ready dicts: kind, value, text, start, end, qualifier, program, page + kind extras."""
    return [f.to_json() for f in facts]


def _lines(text: str) -> Iterator[tuple[int, str]]:
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1


def _block_at(blocks: tuple[Block, ...], starts: list[int], pos: int) -> Block | None:
    i = bisect.bisect_right(starts, pos) - 1
    if i >= 0 and pos < blocks[i].end:
        return blocks[i]
    return None


def _line_candidates(line: str, ctx: DateContext, sudachi: bool) -> list[Candidate]:
    lv = LineView.build(line, sudachi=sudachi)
    masked = [lv.norm_to_line(*m.span()) for m in _BOILERPLATE_RE.finditer(lv.norm.text)]
    cands: list[Candidate] = []
    text = lv.view.text
    if _HAS_NUMBER.search(text):
        cands += find_dates(lv, ctx)
        for rule, needles in _NUMERIC_RULES:
            if any(n in text for n in needles):
                cands += rule(lv)
    if "@" in lv.norm.text or "://" in lv.norm.text:
        cands += find_links(lv)
    cands += find_departments(lv)
    return _resolve(cands, masked)


def _resolve(cands: list[Candidate], masked: list[tuple[int, int]]) -> list[Candidate]:
    """Keep the highest-priority candidate among overlapping ones (a group may share spans)."""
    taken: list[tuple[int, int, int | None]] = [(a, b, None) for a, b in masked]
    kept: list[Candidate] = []
    for c in sorted(cands, key=lambda c: (c.priority, c.start, c.start - c.end)):
        if c.end <= c.start:
            continue
        clash = any(a < c.end and c.start < b and not (g is not None and g == c.group) for a, b, g in taken)
        if clash:
            continue
        kept.append(c)
        taken.append((c.start, c.end, c.group))
    kept.sort(key=lambda c: (c.start, c.end))
    return kept
