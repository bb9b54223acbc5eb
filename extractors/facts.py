"""Fact extraction entry point: ``extract_facts(doc) -> list[Fact]``.

The document is processed line by line (Sudachi is fed lines, never whole documents). Each line
is normalised (:mod:`extractors.lineview`), every rule module proposes candidates, overlapping
candidates are resolved by priority (url/email > phone/fax > office_hours > address > period >
date/fiscal_year > amount > rate > age > duration > department) and the winners become
:class:`~extractors.model.Fact` objects whose ``text`` is the exact span of ``Document.text``.

``ページ番号:805-576-132`` (CMS page ids) is masked: it never yields a phone, amount or date.

Extraction never raises on the text it is given: a line whose rules fail is skipped with a
warning (the other lines' facts stand), and a :class:`~extractors.model.Budget` bounds the
time and the number of facts per document. :func:`extract_facts_result` reports both
(``FactsResult.partial`` says why extraction stopped early); :func:`extract_facts` returns
just the facts.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from extractors.contact_context import resolve_contacts
from extractors.lineview import Candidate, LineView
from extractors.model import Block, Budget, Document, Fact
from extractors.qualifiers import join
from extractors.rules_contacts import find_addresses, find_links, find_phones
from extractors.rules_dates import DateContext, find_dates
from extractors.rules_departments import find_departments
from extractors.rules_hours import find_office_hours
from extractors.rules_quantities import find_ages, find_amounts, find_durations, find_rates
from extractors.tokenizer import split_for_sudachi

EXTRACTOR_VERSION = "facts-6"

_BOILERPLATE_RE = re.compile(r"ページ(?:番号|ID)\s*[:：]?\s*[0-9０-９\-－]+")

# rules that need a digit in the line (after numerals became digits; 元 for 令和元年度), each
# with the substrings one of which its matches always contain (a cheap filter before the regexes)
_NUMERIC_RULE_NEEDLES: tuple[tuple[Callable[[LineView], list[Candidate]], tuple[str, ...]], ...] = (
    (find_phones, ("-", "(", "0")),
    (find_office_hours, ("時", ":")),
    (find_addresses, ("-", "丁目", "番", "字")),
    (find_amounts, ("円",)),
    (find_rates, ("%", "割", "分の", "パーセント", "/")),
    (find_ages, ("歳", "才")),
    (find_durations, ("月", "年", "週", "日", "時間", "分", "秒")),
)
# each rule's needles as one pattern (a C-speed scan instead of a substring test per needle)
_NUMERIC_RULES: tuple[tuple[Callable[[LineView], list[Candidate]], re.Pattern[str]], ...] = tuple(
    (rule, re.compile("|".join(map(re.escape, needles)))) for rule, needles in _NUMERIC_RULE_NEEDLES)
_HAS_NUMBER = re.compile("[0-9元]|月末|半[年日]")  # 毎月末, 半年, 半日 have no digit


SMALL_LINE = 12  # up to this many candidates (and no masked span) the direct comparison is cheaper
MAX_LINE_CHARS = 16_000  # longer lines (never seen on real pages) are processed in pieces
MAX_LINE_WARNINGS = 5  # failed lines named in the warnings; the rest are counted


@dataclass(frozen=True)
class FactsResult:
    """The facts of a document plus what went wrong on the way (never an exception)."""

    facts: list[Fact]
    warnings: tuple[str, ...] = ()  # e.g. "line 12: rules failed (…); its facts are missing"
    partial: str | None = None  # why extraction stopped before the end of the text (a budget)
    failed_lines: int = 0  # lines whose rules raised (their facts are missing)


def extract_facts(doc: Document, *, sudachi: bool = True, budget: Budget | None = None,
                  switchboard: str | None = None) -> list[Fact]:
    """Every fact mention in ``doc``, in document order (see :func:`extract_facts_result`).

    ``sudachi=False`` replaces the Sudachi steps (numeral detection, department and address
    noun phrases) with plain regexes; it exists only for the ablation in
    ``benchmarks.extract_quality``. ``switchboard`` is the municipality's main number (the registry's
    ``switchboard``): a phone printed without its area code takes that area code when nothing in the
    document contradicts it.
    """
    return extract_facts_result(doc, sudachi=sudachi, budget=budget, switchboard=switchboard).facts


def extract_facts_result(doc: Document, *, sudachi: bool = True, budget: Budget | None = None,
                         clock: Callable[[], float] = time.monotonic, switchboard: str | None = None) -> FactsResult:
    """The facts of ``doc`` within ``budget`` (default :class:`Budget()`), failed lines skipped."""
    budget = budget or Budget()
    deadline = clock() + budget.seconds
    starts = [b.start for b in doc.blocks]
    ctx = DateContext()
    facts: list[Fact] = []
    failed: list[str] = []
    partial: str | None = None
    total = doc.text.count("\n") + 1
    previous_number = None
    for number, line_start, line in _segments(doc.text):
        if number != previous_number:  # a new line: the date rules' context of the line above
            block = _block_at(doc.blocks, starts, line_start)
            ctx.next_line(heading=block is not None and block.kind == "heading")
            previous_number = number
        if clock() > deadline:
            partial = (f"time budget of {budget.seconds:g} s used up at line {number} of {total} "
                       f"({len(facts)} facts kept)")
            break
        try:
            cands = _line_candidates(line, ctx, sudachi)
        except Exception as exc:  # one bad line must not cost the document its other facts
            failed.append(f"line {number}: rules failed ({type(exc).__name__}: {str(exc)[:120]}); its facts are missing")
            continue
        if len(facts) + len(cands) > budget.facts:
            cands = cands[: max(0, budget.facts - len(facts))]
            partial = f"fact budget of {budget.facts} facts reached at line {number} of {total}"
        for cand in cands:
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
                heading_path=block.headings if block else (),
            ))
        if partial:
            break
    try:
        facts = resolve_contacts(facts, doc, switchboard)  # document-level contact context (area codes, 平日, contact units)
    except Exception as exc:  # the line facts stand without the document-level pass
        failed.append(f"contact post-pass failed ({type(exc).__name__}: {str(exc)[:120]})")
    warnings = tuple(failed[:MAX_LINE_WARNINGS])
    if len(failed) > MAX_LINE_WARNINGS:
        warnings += (f"... and {len(failed) - MAX_LINE_WARNINGS} more line(s) whose rules failed",)
    return FactsResult(facts, warnings, partial, len(failed))


def facts_to_json(facts: Iterable[Fact]) -> list[dict[str, Any]]:
    """JSON-ready dicts: kind, value, text, start, end, qualifier, program, page + kind extras."""
    return [f.to_json() for f in facts]


def _lines(text: str) -> Iterator[tuple[int, str]]:
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1


def _segments(text: str) -> Iterator[tuple[int, int, str]]:
    """(line number, offset, text) of each non-blank line; a line longer than MAX_LINE_CHARS
    comes in pieces cut at a sentence/space boundary, so budgets are checked inside it too."""
    for number, (line_start, line) in enumerate(_lines(text), start=1):
        if not line or line.isspace():
            continue
        if len(line) <= MAX_LINE_CHARS:
            yield number, line_start, line
            continue
        for offset, piece in split_for_sudachi(line, MAX_LINE_CHARS):
            if piece and not piece.isspace():
                yield number, line_start + offset, piece


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
            if needles.search(text) is not None:
                cands += rule(lv)
    if "@" in lv.norm.text or "://" in lv.norm.text:
        cands += find_links(lv)
    cands += find_departments(lv)
    return _resolve(cands, masked)


def _resolve(cands: list[Candidate], masked: list[tuple[int, int]]) -> list[Candidate]:
    """Keep the highest-priority candidate among overlapping ones (a group may share spans).

    Candidates are taken in priority order; one is kept unless it overlaps a masked span or a
    kept candidate of another (or no) group. Kept spans are held as sorted, disjoint
    components (a component is a run of overlapping kept spans, all of one group, or of masked
    spans: label None), so each candidate costs a bisect plus the components it merges:
    O(n log n) per line instead of comparing with every kept span.
    """
    if len(cands) <= SMALL_LINE and not masked:  # most lines: a handful of candidates, compare directly
        kept: list[Candidate] = []
        for c in sorted(cands, key=lambda c: (c.priority, c.start, c.start - c.end)):
            if c.end > c.start and not any(k.start < c.end and c.start < k.end and (c.group is None or k.group != c.group)
                                           for k in kept):
                kept.append(c)
        kept.sort(key=lambda c: (c.start, c.end))
        return kept
    starts: list[int] = []
    ends: list[int] = []
    labels: list[int | None] = []
    for a, b in sorted(masked):
        if b <= a:
            continue
        if ends and a < ends[-1]:
            ends[-1] = max(ends[-1], b)
        else:
            starts.append(a)
            ends.append(b)
            labels.append(None)
    kept = []
    for c in sorted(cands, key=lambda c: (c.priority, c.start, c.start - c.end)):
        s, e, g = c.start, c.end, c.group
        if e <= s:
            continue
        i = bisect.bisect_right(ends, s)  # first component ending after s
        j = i
        while j < len(starts) and starts[j] < e:
            if g is None or labels[j] != g:
                break
            j += 1
        else:
            kept.append(c)
            if j > i:  # merge the overlapped components (all of c's group) with c
                starts[i:j] = [min(s, starts[i])]
                ends[i:j] = [max(e, ends[j - 1])]
                labels[i:j] = [g]
            else:
                starts.insert(i, s)
                ends.insert(i, e)
                labels.insert(i, g)
    kept.sort(key=lambda c: (c.start, c.end))
    return kept
