"""missed_annual_update: a program's amounts not revised for the new fiscal year."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from diffs.facts import fact_field as _f
from diffs.match import evidence_of, fact_norm, program_key
from diffs.references import AMOUNT_KINDS, newest, reference_of
from diffs.rules.base import FlagFinding, Page, Rule, evidence_of_flag, fact_row
from diffs.rules.base import key as _key
from extractors.eras import fiscal_year_of, fiscal_year_start


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
    if today < fiscal_year_start(current) + timedelta(days=grace_days):
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
                               _key("missed_annual_update", source, program_key(program), f"FY{current}"),
                               program_id=next((_f(a, "program_id") for a in amounts if _f(a, "program_id")), None)))
    return out


def check(page: Page) -> list[FlagFinding]:
    if page.source_kind != "official" or not page.text or page.previous_year_facts is None:
        return []
    return missed_annual_update(page.facts, page.previous_year_facts, page.today, source=page.url)


def evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Any) -> list[dict[str, Any]]:
    ev, url = evidence_of_flag(flag), flag.get("url")
    return [fact_row("記載の年度", ev, url, texts, snippet, "stated_start", "stated_end", "stated_text")] + [
        fact_row("前年度と同じ金額", a, url, texts, snippet) for a in ev.get("amounts") or []]


def summary(flag: dict[str, Any]) -> str:
    ev = evidence_of_flag(flag)
    return (f"{flag.get('url')} — amounts unchanged since FY{ev.get('stated_fiscal_year')} "
            f"(now FY{ev.get('current_fiscal_year')})")


RULE = Rule("missed_annual_update", "page", "high", "年度更新漏れ", check, evidence, summary)
