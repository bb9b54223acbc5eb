"""secondary_outdated: a secondary source still states an official value that has since changed."""

from __future__ import annotations

from typing import Any

from diffs.facts import FactChange, fact_field
from diffs.match import evidence_of, fact_norm, norm_value, program_key, same_slot
from diffs.rules.base import Cross, FlagFinding, Rule, evidence_of_flag, row, secondary_row
from diffs.rules.base import key as _key


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
    official versions. A secondary fact matches when it is in the change's slot (``diffs.match.same_slot``:
    kind, compatible qualifier, equal ``program_id`` when both have one, else a fuzzy name match; both
    sides are of one municipality) and its value equals the change's ``before``.
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
                                   c.get("program"), kind, evidence, key,
                                   program_id=c.get("program_id") or fact_field(s, "program_id")))
    return out


def check(pair: Cross) -> list[FlagFinding]:
    return secondary_outdated(pair.official_changes, pair.secondary_facts, **pair.sources())


def evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Any) -> list[dict[str, Any]]:
    oc = evidence_of_flag(flag).get("official_change") or {}
    return [secondary_row(flag, texts, snippet),
            row("公式の変更", f"{oc.get('before_text')} → {oc.get('after_text')}", oc.get("url") or oc.get("source"),
                oc.get("after_version_id"))]


def summary(flag: dict[str, Any]) -> str:
    ev = evidence_of_flag(flag)
    ch, sec = ev.get("official_change", {}), ev.get("secondary", {})
    return f"{flag.get('url')} still says {sec.get('text')} (official: {ch.get('before_text')} → {ch.get('after_text')})"


RULE = Rule("secondary_outdated", "cross", "high", "二次情報が古いまま", check, evidence, summary)
