"""stale_reference: a page whose newest stated reference date is fiscal years old."""

from __future__ import annotations

from datetime import date
from typing import Any

from diffs.references import newest, reference_of, text_references
from diffs.rules.base import FlagFinding, Page, Rule, evidence_of_flag, fact_row, row
from diffs.rules.base import key as _key
from extractors.eras import fiscal_year_of

MAX_FISCAL_YEARS = 2


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
                        latest.program, latest.what, evidence, _key("stale_reference", source),
                        program_id=latest.program_id)]


def check(page: Page) -> list[FlagFinding]:
    if not page.text:
        return []
    return stale_reference(page.facts, page.today, MAX_FISCAL_YEARS, text=page.text, source=page.url)


def evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Any) -> list[dict[str, Any]]:
    ev = evidence_of_flag(flag)
    return [fact_row("最新の時点の記載", ev, flag.get("url"), texts, snippet),
            row("古さ", f"{ev.get('age')}年度前 (FY{ev.get('newest_fiscal_year')}、現在 FY{ev.get('current_fiscal_year')})")]


def summary(flag: dict[str, Any]) -> str:
    ev = evidence_of_flag(flag)
    return (f"{flag.get('url')} — newest date it states is {ev.get('text')} "
            f"({ev.get('age')} fiscal year(s) before FY{ev.get('current_fiscal_year')})")


RULE = Rule("stale_reference", "page", "medium", "古い時点の情報", check, evidence, summary)
