"""The one registry of flag rules: ``RULES`` maps each rule's name to its ``Rule``.

Every module in this package except ``base`` defines ``RULE``; adding a rule is adding one
file. The warehouse's flag stage, the report, the review app and the demo read names, scopes,
severities, labels, evidence rows and summaries from here.
"""

from __future__ import annotations

import importlib
import pkgutil

from diffs.rules.base import Cross, Fetch, FlagFinding, Page, Rule, SourceRuns

ORDER = ("fact_changed", "secondary_outdated", "secondary_contradicts_official", "outdated_amount", "stale_reference",
         "missed_annual_update", "deadline_passed", "broken_link", "page_gone", "source_failing")  # display order; new rules follow


def _discover() -> dict[str, Rule]:
    found: dict[str, Rule] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base":
            continue
        rule = importlib.import_module(f"{__name__}.{info.name}").RULE
        if rule.name in found:
            raise ValueError(f"flag rule {rule.name!r} is defined twice")
        found[rule.name] = rule
    return {name: found[name] for name in sorted(found, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))}


RULES: dict[str, Rule] = _discover()


def in_scope(scope: str) -> list[Rule]:
    return [r for r in RULES.values() if r.scope == scope]


LABELS = {name: rule.label for name, rule in RULES.items()}

__all__ = ["RULES", "LABELS", "Rule", "FlagFinding", "Page", "Cross", "Fetch", "SourceRuns", "in_scope"]
