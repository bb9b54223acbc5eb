"""Japanese labels of the report and the review app, and each flag rule's evidence as display rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

STATUS_LABELS = {"new": "未確認", "follow_up": "要確認", "reviewed": "確認済み", "noise": "ノイズ",
                 "noise_rule": "ノイズルール", "mixed": "混在"}
STATUS_FILTER_LABELS = {"open": "対応待ち(未確認・要確認)", "new": "未確認", "follow_up": "要確認", "reviewed": "確認済み",
                        "noise": "ノイズ", "noise_rule": "ノイズルール該当", "all": "すべて"}
CHANGE_LABELS = {"changed": "変更", "added": "追加", "removed": "削除"}
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}
RULE_LABELS = {
    "fact_changed": "公式情報の変更",
    "secondary_outdated": "二次情報が古いまま",
    "secondary_contradicts_official": "二次情報と公式情報の不一致",
    "stale_reference": "古い時点の情報",
    "missed_annual_update": "年度更新漏れ",
    "deadline_passed": "受付期限切れ",
    "broken_link": "リンク切れ",
    "page_gone": "ページ削除",
}
KIND_LABELS = {
    "amount": "金額", "rate": "割合", "date": "日付", "fiscal_year": "年度", "period": "期間", "duration": "期間(長さ)",
    "age": "年齢", "phone": "電話番号", "fax": "FAX", "email": "メール", "address": "住所", "department": "担当",
    "office_hours": "受付時間", "url": "URL",
}

Snippet = Callable[..., "dict[str, str] | None"]


def _row(label: str, text: Any = None, url: str | None = None, version_id: str | None = None,
         snip: dict[str, str] | None = None) -> dict[str, Any]:
    return {"label": label, "text": None if text is None else str(text), "url": url, "version_id": version_id,
            "snippet": snip}


def _fact(label: str, ev: Any, default_url: str | None, texts: dict[str, str], snippet: Snippet,
          start: str = "start", end: str = "end", text: str = "text") -> dict[str, Any]:
    ev = ev if isinstance(ev, dict) else {}
    url = ev.get("source") or default_url
    value = ev.get(text)
    snip = snippet(texts.get(url or ""), ev.get(start), ev.get(end), value) if value else None
    return _row(label, value, url, snip=snip)


def flag_evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Snippet) -> list[dict[str, Any]]:
    """Display rows {label, text, url, version_id, snippet} for a flag's evidence (all plain text)."""
    ev = flag.get("evidence") if isinstance(flag.get("evidence"), dict) else {}
    rule, url = flag.get("rule"), flag.get("url")
    if rule == "fact_changed":
        return [_row("変更前", ev.get("before_text"), url, ev.get("before_version_id")),
                _row("変更後", ev.get("after_text"), url, ev.get("after_version_id"))]
    if rule == "secondary_outdated":
        oc = ev.get("official_change") or {}
        return [_fact("二次情報の記載", ev.get("secondary"), url, texts, snippet),
                _row("公式の変更", f"{oc.get('before_text')} → {oc.get('after_text')}", oc.get("url") or oc.get("source"),
                     oc.get("after_version_id"))]
    if rule == "secondary_contradicts_official":
        return [_fact("二次情報の記載", ev.get("secondary"), url, texts, snippet)] + [
            _fact("公式の記載", o, None, texts, snippet) for o in ev.get("official") or []]
    if rule == "stale_reference":
        row = _fact("最新の時点の記載", ev, url, texts, snippet)
        return [row, _row("古さ", f"{ev.get('age')}年度前 (FY{ev.get('newest_fiscal_year')}、現在 FY{ev.get('current_fiscal_year')})")]
    if rule == "missed_annual_update":
        return [_fact("記載の年度", ev, url, texts, snippet, "stated_start", "stated_end", "stated_text")] + [
            _fact("前年度と同じ金額", a, url, texts, snippet) for a in ev.get("amounts") or []]
    if rule == "deadline_passed":
        return [_fact("期限", ev.get("deadline"), url, texts, snippet), _row("期限日", ev.get("end")),
                _row("ページの記載", ev.get("status_text"))]
    if rule == "broken_link":
        return [_row("リンク先", f"HTTP {ev.get('status')}" if ev.get("status") else ev.get("response_class"), ev.get("url")),
                _row("リンク元", None, ev.get("linked_from"))]
    if rule == "page_gone":
        return [_row("ページ", f"HTTP {ev.get('status')}", ev.get("url"))]
    return [_row(str(k), v if isinstance(v, (str, int, float)) else json.dumps(v, ensure_ascii=False, default=str))
            for k, v in ev.items()]
