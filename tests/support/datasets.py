"""Small program datasets written by the tests: Civichat-style JSON records and CSV tables."""

from __future__ import annotations

import csv
import io
import json

URL = "https://ward.example.jp/kodomo/teate/hitorioya/hitorioya_teate.html#ikusei"

CSV_ROWS = [
    ["municipality", "program", "kind", "qualifier", "value", "text", "url"],
    ["渋谷区", "児童育成手当", "amount", "", "", "児童1人につき月額13,500円", URL],
    ["渋谷区", "児童育成手当", "phone", "", "03-3463-2558", "電話：03-3463-2558", ""],
    ["北区", "ひとり親家庭休養ホーム事業", "age", "未満", "18", "", ""],
    ["練馬区", "ひとり親家庭自立支援給付金", "email", "", "Hitorioya@City.Nerima.Tokyo.jp", "", ""],
]


def record(i: int, **over) -> dict:
    """One Civichat ``systemsData`` record (渋谷区 児童育成手当), with fields overridden."""
    rec = {"サービスID": f"test-{i}", "制度所管組織": "渋谷区", "都道府県": None, "市町村": None,
           "タイトル（制度名）": "児童育成手当", "概要": "養育されている子どものために支給される手当です。",
           "支援内容": "手当額（月額）\n児童1人につき13,500円", "対象者": "18歳未満の児童を養育しているひとり親家庭の方",
           "受付終了日": None, "詳細参照先": URL, "お問い合わせ先": "子ども青少年課子育て給付係（電話：03-3463-2558）"}
    rec.update(over)
    return rec


def civichat_json(records: list[dict]) -> bytes:
    return json.dumps({"systemsData": records}, ensure_ascii=False).encode("utf-8")


def csv_bytes(table: list[list[str]], encoding: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(table)
    return buf.getvalue().encode(encoding)
