"""secondary_contradicts_official: a secondary value that no official fact in the same slot states."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from diffs.amounts import belongs_to_earlier_year
from diffs.facts import fact_field as _f
from diffs.match import evidence_of, fact_norm, program_key, same_program_exactly, same_slot
from diffs.references import AS_OF_KINDS, DATE_KINDS, FISCAL_YEAR_KINDS, UPDATE_KINDS
from diffs.rules.base import Cross, FlagFinding, Rule, evidence_of_flag, fact_row, secondary_row
from diffs.rules.base import key as _key

NON_COMPARABLE_KINDS = FISCAL_YEAR_KINDS | AS_OF_KINDS | UPDATE_KINDS | DATE_KINDS


def secondary_contradicts_official(
    official_facts: list[Any], secondary_facts: list[Any], *,
    official_source: str | None = None, secondary_source: str | None = None,
    kinds: Iterable[str] | None = None, today: date | None = None,
) -> list[FlagFinding]:
    """Flag secondary facts whose value no official fact in the same slot states.

    Slot = kind + compatible qualifier + the same program: equal ``program_id`` when both facts have
    one, else a fuzzy name match (official facts with the same name key are then preferred over
    containment matches). Both lists are of one municipality (the caller pairs them). Secondary facts
    with no official counterpart are not flagged. ``kinds`` limits the kinds checked (default: every
    kind except dates, periods and fiscal years, which are stale_reference's business). With ``today``,
    a national program amount of an earlier fiscal year (``diffs.amounts``) is left to ``outdated_amount``;
    an amount that belongs to no year is still flagged here.
    """
    allowed = set(kinds) if kinds is not None else None
    out, seen = [], set()
    for s in secondary_facts:
        kind = _f(s, "kind")
        if (kind not in allowed) if allowed is not None else (kind in NON_COMPARABLE_KINDS):
            continue
        if belongs_to_earlier_year(s, today):
            continue
        cands = [o for o in official_facts if same_slot(o, s)]
        exact = [o for o in cands if same_program_exactly(o, s)]
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
                               kind, evidence, key, program_id=_f(cands[0], "program_id") or _f(s, "program_id")))
    return out


def check(pair: Cross) -> list[FlagFinding]:
    return secondary_contradicts_official(pair.official_facts, pair.secondary_facts, today=pair.today, **pair.sources())


def evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Any) -> list[dict[str, Any]]:
    return [secondary_row(flag, texts, snippet)] + [
        fact_row("公式の記載", o, None, texts, snippet) for o in evidence_of_flag(flag).get("official") or []]


def summary(flag: dict[str, Any]) -> str:
    ev = evidence_of_flag(flag)
    official = ", ".join(o.get("text") or "" for o in ev.get("official", []))
    return f"{flag.get('url')} says {ev.get('secondary', {}).get('text')}, official pages say {official}"


RULE = Rule("secondary_contradicts_official", "cross", "medium", "二次情報と公式情報の不一致", check, evidence, summary)
