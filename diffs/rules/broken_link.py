"""broken_link: a linked URL answers 404/410 or is a soft-404 / redirect to the top page."""

from __future__ import annotations

from typing import Any

from diffs.rules.base import Fetch, FlagFinding, Rule, evidence_of_flag, row
from diffs.rules.base import key as _key

SOFT = ("soft_404", "redirect_to_top")


def check(fetch: Fetch) -> list[FlagFinding]:
    if not ((fetch.status in (404, 410) or fetch.response_class in SOFT) and fetch.referer):
        return []
    return [FlagFinding("broken_link", "medium", None, None,
                        {"url": fetch.url, "status": fetch.status, "linked_from": fetch.referer,
                         "response_class": fetch.response_class, "seen_at": str(fetch.seen_at)},
                        _key("broken_link", fetch.url))]


def evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Any) -> list[dict[str, Any]]:
    ev = evidence_of_flag(flag)
    return [row("リンク先", f"HTTP {ev.get('status')}" if ev.get("status") else ev.get("response_class"), ev.get("url")),
            row("リンク元", None, ev.get("linked_from"))]


def summary(flag: dict[str, Any]) -> str:
    ev = evidence_of_flag(flag)
    return f"{flag.get('url')} ({ev.get('status') or ev.get('response_class')}) linked from {ev.get('linked_from')}"


RULE = Rule("broken_link", "fetch", "medium", "リンク切れ", check, evidence, summary)
