"""Rules that flag outdated program data. Pure functions over fact dicts (``Fact.to_json()`` shape:
kind, value, text, start, end, qualifier, program, page, plus extras such as ``max``); ``Fact``
objects work too. Each rule returns a list of ``FlagFinding``; ``key`` is stable across runs for
the same underlying problem, so the warehouse can open a flag when a key appears and close it
when the key is no longer reported. Pass ``source`` (URL or page id) so keys differ across pages.

Fact kinds understood: the *_KINDS constants in ``diffs.references``; a fact also counts as a
reference date when its qualifier/text says 時点/現在 (as-of), 更新日 (update date) or 年度 (fiscal year).
Severity is "low" | "medium" | "high".
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable

from diffs.facts import FactChange, fact_field as _f
from diffs.jpdate import JPDate, fiscal_year_of, nfkc, parse_jp_date, period_end
from diffs.match import evidence_of, fact_norm, norm_value, program_key, same_slot
from diffs.references import (
    AMOUNT_KINDS, AS_OF_KINDS, DATE_KINDS, FISCAL_YEAR_KINDS, UPDATE_KINDS, Reference, newest, reference_of,
    text_references,
)

NON_COMPARABLE_KINDS = FISCAL_YEAR_KINDS | AS_OF_KINDS | UPDATE_KINDS | DATE_KINDS

DEADLINE_LABEL_RE = re.compile(
    r"申込期間|申し込み期間|申込期限|申し込み期限|申請期間|申請期限|受付期間|受付期限|募集期間|"
    r"応募期間|応募期限|提出期限|締切|締め切り|〆切"
)
# 受付中 but not 受付中止/受付中断; closed wording competes with it for the nearest status
_STATUS_RE = re.compile(
    r"(?P<open>(?:申込|申請)?(?:受付中|募集中)(?![止断]))"
    r"|(?P<closed>受付(?:は)?終了|募集(?:は|を)?終了|受付を終了|締め切りました|締切りました)"
)


@dataclass(frozen=True)
class FlagFinding:
    """One finding. ``evidence`` holds the facts (with spans and sources) that support it."""

    rule: str
    severity: str
    program: str | None
    kind: str | None
    evidence: dict[str, Any] = field(default_factory=dict, hash=False)
    key: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "program": self.program,
                "kind": self.kind, "evidence": self.evidence, "key": self.key}


def _key(*parts: Any) -> str:
    return "|".join("" if p is None else str(p) for p in parts)


def stale_reference(
    facts: list[Any], today: date, max_fiscal_years: int = 2, *, text: str | None = None,
    source: str | None = None,
) -> list[FlagFinding]:
    """Flag a page whose newest stated reference (fiscal year, "…時点"/"…現在" date, 更新日) is at
    least ``max_fiscal_years`` fiscal years before today's fiscal year. With the default 2, in
    FY2026 a page whose newest reference is FY2024 or older is flagged, FY2025 is tolerated.
    ``text`` (the page's main text, the facts' offsets point into it), when given, adds its 更新日
    and "…時点" dates and lets a date fact followed by 時点/現在 count.
    A page stating no reference date is not flagged. Severity "high" from 3 years past the limit.
    """
    refs = [r for f in facts if (r := reference_of(f, text))] + (text_references(text) if text else [])
    latest = newest(refs)
    if latest is None:
        return []
    current = fiscal_year_of(today)
    age = current - latest.fiscal_year
    if age < max_fiscal_years:
        return []
    evidence = {"newest_fiscal_year": latest.fiscal_year, "current_fiscal_year": current, "age": age,
                "what": latest.what, "text": latest.text, "start": latest.start, "end": latest.end,
                "max_fiscal_years": max_fiscal_years, "source": source}
    return [FlagFinding("stale_reference", "high" if age >= max_fiscal_years + 3 else "medium",
                        latest.program, latest.what, evidence, _key("stale_reference", source))]


def _amounts(facts: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for f in facts:
        if _f(f, "kind") in AMOUNT_KINDS:
            out.setdefault(_f(f, "program") or "", []).append(f)
    return out


def missed_annual_update(
    current_facts: list[Any], previous_year_facts: list[Any], today: date, *,
    source: str | None = None, grace_days: int = 0,
) -> list[FlagFinding]:
    """Flag a program whose amounts were not revised for the new fiscal year.

    ``current_facts``: the page's facts now. ``previous_year_facts``: the facts of the page's
    last version in the previous fiscal year (FY = today's fiscal year - 1).
    A program (exact program name on this page) is flagged when, on/after April 1 + ``grace_days``
    of today's fiscal year F: (1) it states at least one amount; (2) its amounts — the multiset
    of (qualifier, value, max) — are identical to those the previous-year version stated; and
    (3) the newest fiscal year the page states for it (fiscal-year and "…時点" facts of that
    program, else of the whole page; update dates do not count) is older than F.
    A page stating no fiscal year is not flagged (nothing says the amounts are annual).
    """
    current = fiscal_year_of(today)
    if today < date(current, 4, 1) + timedelta(days=grace_days):
        return []
    refs = [r for r in map(reference_of, current_facts) if r and r.what != "update_date"]
    page_newest = newest(refs)
    prev = _amounts(previous_year_facts)
    out = []
    for program, amounts in _amounts(current_facts).items():
        sig = Counter((_f(a, "qualifier"), fact_norm(a)) for a in amounts)
        if sig != Counter((_f(a, "qualifier"), fact_norm(a)) for a in prev.get(program, [])):
            continue
        stated = newest(r for r in refs if (r.program or "") == program) or page_newest
        if stated is None or stated.fiscal_year >= current:
            continue
        evidence = {"current_fiscal_year": current, "stated_fiscal_year": stated.fiscal_year,
                    "stated_text": stated.text, "stated_start": stated.start, "stated_end": stated.end,
                    "amounts": [evidence_of(a) for a in amounts], "source": source}
        out.append(FlagFinding("missed_annual_update", "high", program or None, "amount", evidence,
                               _key("missed_annual_update", source, program_key(program), f"FY{current}")))
    return out


def _end_date(fact: Any) -> JPDate | None:
    value = _f(fact, "value")
    cands = [value.get("end"), value.get("max")] if isinstance(value, dict) else []
    cands += [_f(fact, "max"), _f(fact, "end_date")]
    for cand in cands:
        d = parse_jp_date(cand)
        if d is not None:
            return d
    return period_end(_f(fact, "text") or "") or (parse_jp_date(value) if isinstance(value, str) else None)


def _near_label(fact: Any, text: str) -> bool:
    if DEADLINE_LABEL_RE.search(nfkc(_f(fact, "qualifier") or "")):
        return True
    start = _f(fact, "start")
    if not isinstance(start, int):
        return False
    window = text[max(0, start - 80): start]
    window = "\n".join(window.split("\n")[-2:])  # the fact's line and the one before
    return bool(DEADLINE_LABEL_RE.search(nfkc(window)))


def deadline_passed(
    facts: list[Any], text: str, today: date, *, source: str | None = None
) -> list[FlagFinding]:
    """Flag an application period/deadline that has ended while the page still says 受付中.

    Deadline facts: kind in DATE_KINDS (or a value with an "end") whose qualifier, or the text
    just before them (same line or the line above), names 申込期間/申請期限/受付期間/締切 …
    The end is the period's "end"/``max`` or the last date in the fact text; year-less dates
    ("4月～11月") are skipped. Flagged when end < today and the status wording nearest to the
    fact is 受付中/募集中 (not 受付中止, and not outweighed by a nearer 受付終了/締め切りました).
    """
    text = text or ""
    statuses = [(m.start(), bool(m.group("open")), m.group(0)) for m in _STATUS_RE.finditer(text)]
    if not any(is_open for _, is_open, _ in statuses):
        return []
    out, seen = [], set()
    for f in facts:
        dated = _f(f, "kind") in DATE_KINDS or isinstance(_f(f, "value"), dict)
        if not dated or not _near_label(f, text):
            continue
        end = _end_date(f)
        if end is None or end.to_date(end=True) >= today:
            continue
        pos = _f(f, "start") if isinstance(_f(f, "start"), int) else 0
        where, is_open, said = min(statuses, key=lambda s: abs(s[0] - pos))
        key = _key("deadline_passed", source, program_key(_f(f, "program")), end.iso())
        if not is_open or key in seen:
            continue
        seen.add(key)
        evidence = {"deadline": evidence_of(f, source), "end": end.iso(), "today": today.isoformat(),
                    "status_text": said, "status_start": where}
        out.append(FlagFinding("deadline_passed", "high", _f(f, "program"), _f(f, "kind"), evidence, key))
    return out


def _changes(official_change: Any) -> list[Any]:
    if isinstance(official_change, (FactChange, dict)):
        return [official_change]
    return list(official_change)


def secondary_outdated(
    official_change: Any, secondary_facts: list[Any], *,
    official_source: str | None = None, secondary_source: str | None = None,
) -> list[FlagFinding]:
    """Flag secondary facts that still state an official value that has since changed or been removed.

    ``official_change``: a FactChange (or its to_json dict), or a list of them, from diffing two
    official versions. A secondary fact matches when kind and qualifier are equal, the program
    matches fuzzily (``diffs.match.programs_match``) and its value equals the change's ``before``.
    "changed" -> severity "high"; "removed" -> "medium"; "added" is ignored.
    """
    out, seen = [], set()
    for ch in _changes(official_change):
        c = ch.to_json() if isinstance(ch, FactChange) else ch
        if c.get("change") not in ("changed", "removed"):
            continue
        kind = c.get("kind")
        old = norm_value(c.get("before"), kind)
        for s in secondary_facts:
            if not same_slot(s, c) or fact_norm(s) != old:
                continue
            key = _key("secondary_outdated", secondary_source, official_source,
                       program_key(c.get("program")), kind, c.get("qualifier"), old)
            if key in seen:
                continue
            seen.add(key)
            evidence = {"official_change": {**c, "source": official_source},
                        "secondary": evidence_of(s, secondary_source)}
            out.append(FlagFinding("secondary_outdated", "high" if c["change"] == "changed" else "medium",
                                   c.get("program"), kind, evidence, key))
    return out


def secondary_contradicts_official(
    official_facts: list[Any], secondary_facts: list[Any], *,
    official_source: str | None = None, secondary_source: str | None = None,
    kinds: Iterable[str] | None = None,
) -> list[FlagFinding]:
    """Flag secondary facts whose value no official fact in the same slot states.

    Slot = kind + qualifier + fuzzy program match; official facts whose program key equals the
    secondary's are preferred over containment matches. Secondary facts with no official
    counterpart are not flagged. ``kinds`` limits the kinds checked (default: every kind except
    dates, periods and fiscal years, which are stale_reference's business).
    """
    allowed = set(kinds) if kinds is not None else None
    out, seen = [], set()
    for s in secondary_facts:
        kind = _f(s, "kind")
        if (kind not in allowed) if allowed is not None else (kind in NON_COMPARABLE_KINDS):
            continue
        cands = [o for o in official_facts if same_slot(o, s)]
        exact = [o for o in cands if program_key(_f(o, "program")) == program_key(_f(s, "program"))]
        cands = exact or cands
        if not cands or fact_norm(s) in {fact_norm(o) for o in cands}:
            continue
        key = _key("secondary_contradicts_official", secondary_source, official_source,
                   program_key(_f(s, "program")), kind, _f(s, "qualifier"), fact_norm(s))
        if key in seen:
            continue
        seen.add(key)
        evidence = {"secondary": evidence_of(s, secondary_source),
                    "official": [evidence_of(o, official_source) for o in cands]}
        out.append(FlagFinding("secondary_contradicts_official", "medium", _f(cands[0], "program"),
                               kind, evidence, key))
    return out


__all__ = [
    "FlagFinding", "Reference", "reference_of", "stale_reference", "missed_annual_update",
    "deadline_passed", "secondary_outdated", "secondary_contradicts_official",
]
