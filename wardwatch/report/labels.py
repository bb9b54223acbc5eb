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
# a program's scope (programs.scope, program_catalog.scope) as its badge in the report and the review app
SCOPE_LABELS = {"national": "国", "prefectural": "都道府県", "municipal": "区市町村"}
NO_PROGRAM = "(プログラム名なし)"  # the group of items whose fact has neither a program id nor a heading
RULE_LABELS = LABELS  # from the flag rules' registry (diffs/rules/)
KIND_LABELS = {
    "amount": "金額", "rate": "割合", "date": "日付", "fiscal_year": "年度", "period": "期間", "duration": "期間(長さ)",
    "age": "年齢", "phone": "電話番号", "fax": "FAX", "email": "メール", "address": "住所", "department": "担当",
    "office_hours": "受付時間", "url": "URL",
}
# what each fetch error kind (fetches.error_kind) means for an editor, and what to do about it
ERROR_KIND_LABELS = {
    "dns": "ホスト名を解決できません(ドメインの誤り・ネットワーク未接続)",
    "timeout": "応答がありません(タイムアウト)",
    "connection": "接続が切れました",
    "connection_refused": "接続を拒否されました(サーバー停止中)",
    "truncated": "応答が途中で切れました",
    "too_large": "サイズ上限を超えました",
    "empty": "本文が空でした",
    "ignored": "取得を取りやめました",
    "robots": "robots.txt で禁止されています",
    "robots_unavailable": "robots.txt を取得できません(サーバーエラーのため全体を取得しません)",
    "offsite": "対象サイトの外です",
    "offsite_redirect": "別サイトへ転送されました",
    "redirect_scheme": "http/https 以外へ転送されました",
    "redirect_loop": "転送がループしています",
    "too_many_redirects": "転送が多すぎます",
    "private_address": "内部ネットワークのアドレスです(取得しません)",
    "scheme": "http/https 以外のURLです",
    "http_404": "ページがありません(404)",
    "http_410": "ページは削除されました(410)",
    "http_403": "アクセスを拒否されました(403)",
    "http_429": "アクセスが多すぎると言われました(429)",
    "http_500": "サーバーエラー(500)",
    "http_502": "サーバーエラー(502)",
    "http_503": "サーバーが一時的に利用できません(503)",
    "http_504": "サーバーの応答待ちで時間切れ(504)",
}


def error_kind_label(kind: str) -> str:
    """Japanese explanation of an error kind; HTTP statuses without their own label are described generically."""
    if kind in ERROR_KIND_LABELS:
        return ERROR_KIND_LABELS[kind]
    if kind.startswith("http_") and kind[5:].isdigit():
        code = int(kind[5:])
        return f"サーバーエラー({code})" if code >= 500 else f"HTTPエラー({code})"
    return kind


def flag_evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Snippet) -> list[dict[str, Any]]:
    """Display rows {label, text, url, version_id, snippet} for a flag's evidence (all plain text),
    by its rule's own renderer; a rule no longer known gets one row per evidence field."""
    rule = RULES.get(flag.get("rule") or "")
    if rule is not None:
        return rule.evidence(flag, texts, snippet)
    ev = flag.get("evidence") if isinstance(flag.get("evidence"), dict) else {}
    return [row(str(k), v if isinstance(v, (str, int, float)) else json.dumps(v, ensure_ascii=False, default=str))
            for k, v in ev.items()]
