"""Japanese labels of the report and the review app; flag rules' labels and evidence rows come from
``diffs.rules``."""

from __future__ import annotations

import json
from typing import Any

from diffs.rules import LABELS, RULES
from diffs.rules.base import Snippet, row

STATUS_LABELS = {"new": "未確認", "follow_up": "要確認", "reviewed": "確認済み", "noise": "ノイズ",
                 "noise_rule": "ノイズルール", "mixed": "混在"}
STATUS_FILTER_LABELS = {"open": "対応待ち(未確認・要確認)", "new": "未確認", "follow_up": "要確認", "reviewed": "確認済み",
                        "noise": "ノイズ", "noise_rule": "ノイズルール該当", "all": "すべて"}
CHANGE_LABELS = {"changed": "変更", "added": "追加", "removed": "削除"}
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}
RULE_LABELS = LABELS  # from the flag rules' registry (diffs/rules/)
KIND_LABELS = {
    "amount": "金額", "rate": "割合", "date": "日付", "fiscal_year": "年度", "period": "期間", "duration": "期間(長さ)",
    "age": "年齢", "phone": "電話番号", "fax": "FAX", "email": "メール", "address": "住所", "department": "担当",
    "office_hours": "受付時間", "url": "URL",
}

def flag_evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Snippet) -> list[dict[str, Any]]:
    """Display rows {label, text, url, version_id, snippet} for a flag's evidence (all plain text),
    by its rule's own renderer; a rule no longer known gets one row per evidence field."""
    rule = RULES.get(flag.get("rule") or "")
    if rule is not None:
        return rule.evidence(flag, texts, snippet)
    ev = flag.get("evidence") if isinstance(flag.get("evidence"), dict) else {}
    return [row(str(k), v if isinstance(v, (str, int, float)) else json.dumps(v, ensure_ascii=False, default=str))
            for k, v in ev.items()]
