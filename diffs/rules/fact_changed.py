"""fact_changed: a fact on an official page changed in its latest content change."""

from __future__ import annotations

from typing import Any

from diffs.rules.base import FlagFinding, Page, Rule, evidence_of_flag, row


def check(page: Page) -> list[FlagFinding]:
    if page.source_kind != "official" or not page.text:
        return []
    # the key spells None as "None" (as flag ids stored since the first release do)
    return [FlagFinding("fact_changed", "high" if c["kind"] == "amount" else "medium", c["program"], c["kind"], c,
                        f"fact_changed|{page.url}|{c['program']}|{c['kind']}|{c['qualifier']}|{c['before']}|{c['after']}",
                        program_id=c.get("program_id"))
            for c in page.latest_changes]


def evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Any) -> list[dict[str, Any]]:
    ev, url = evidence_of_flag(flag), flag.get("url")
    return [row("変更前", ev.get("before_text"), url, ev.get("before_version_id")),
            row("変更後", ev.get("after_text"), url, ev.get("after_version_id"))]


def summary(flag: dict[str, Any]) -> str:
    ev = evidence_of_flag(flag)
    return f"{ev.get('before_text')} → {ev.get('after_text')} on {flag.get('url')}"


RULE = Rule("fact_changed", "page", "high", "公式情報の変更", check, evidence, summary)
