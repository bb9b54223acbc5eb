"""page_gone: a URL that had content now answers 404/410."""

from __future__ import annotations

from typing import Any

from diffs.rules.base import Fetch, FlagFinding, Rule, evidence_of_flag, row
from diffs.rules.base import key as _key


def check(fetch: Fetch) -> list[FlagFinding]:
    if fetch.status not in (404, 410) or not fetch.had_content:
        return []
    return [FlagFinding("page_gone", "high", None, None,
                        {"url": fetch.url, "status": fetch.status, "seen_at": str(fetch.seen_at)},
                        _key("page_gone", fetch.url))]


def evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Any) -> list[dict[str, Any]]:
    ev = evidence_of_flag(flag)
    return [row("ページ", f"HTTP {ev.get('status')}", ev.get("url"))]


def summary(flag: dict[str, Any]) -> str:
    return f"{flag.get('url')} answers HTTP {evidence_of_flag(flag).get('status')}"


RULE = Rule("page_gone", "fetch", "high", "ページ削除", check, evidence, summary)
