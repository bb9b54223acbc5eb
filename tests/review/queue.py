"""A small review warehouse written row by row (no crawl), on disk (the review app opens a file).

練馬区 (src-a, official) revises an amount and a phone number on one page (three versions: the amount
change is in the second), with the ``fact_changed`` flags the flag stage raises for both; 北区 (src-b)
states the same amount revision; src-a also has three broken links and a secondary source (src-h) a
``secondary_outdated`` flag.
"""

from __future__ import annotations

import json

import duckdb

A_URL, B_URL, H_URL = "https://a.example.jp/syuurou.html", "https://b.example.jp/jutaku.html", "https://h.example.jp/m.html"
TEXTS = {
    "va1": "ひとり親家庭住宅支援資金貸付\n貸付額は上限4万円、12か月間です。\n相談係 | 03-5984-4742\n",
    "va2": "ひとり親家庭住宅支援資金貸付\n貸付額は上限5万円、12か月間です。\n相談係 | 03-5984-4700\n",
    "va3": "ひとり親家庭住宅支援資金貸付\n貸付額は上限5万円、12か月間です。\n相談係 | 03-5984-4700\n申請は窓口へ。\n",
    "vb1": "住宅支援資金\n家賃の貸付は上限4万円です。\n",
    "vb2": "住宅支援資金\n家賃の貸付は上限5万円です。\n",
    "vh1": "まとめ\n住宅支援は上限4万円です。\n",
}
PAGES = {"va1": ("src-a", A_URL, 1), "va2": ("src-a", A_URL, 2), "va3": ("src-a", A_URL, 3),
         "vb1": ("src-b", B_URL, 1), "vb2": ("src-b", B_URL, 2), "vh1": ("src-h", H_URL, 1)}
BROKEN = [f"https://a.example.jp/gone-{n}.html" for n in range(3)]
AMOUNT_A, PHONE_A, AMOUNT_B = "va2:0", "va2:1", "vb2:0"
FLAG_AMOUNT_A, FLAG_PHONE_A, FLAG_SECONDARY = "fc-amount-a", "fc-phone-a", "so-h"


def _span(text: str, value: str) -> tuple[int, int]:
    start = text.index(value)
    return start, start + len(value)


def fill(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("INSERT INTO sources VALUES ('src-a', '練馬区', '131202', 'official', NULL, [], [], '0 6 * * *', now(), NULL),"
                "('src-b', '北区', '131172', 'official', NULL, [], [], '0 6 * * *', now(), NULL),"
                "('src-h', '練馬区', '131202', 'secondary', NULL, [], [], '0 6 * * *', now(), NULL)")
    last = {"va3", "vb2", "vh1"}
    for vid, (sid, url, n) in PAGES.items():
        text, sha = TEXTS[vid], vid * 16
        body = f"<html><body><h1>{vid}</h1><p>{text}</p></body></html>".encode()
        con.execute("INSERT INTO blobs VALUES (?, 'text/html', ?, ?, now())", [sha, len(body), body])
        valid_to = "NULL" if vid in last else f"TIMESTAMPTZ '2026-11-0{n + 1}T00:00:00Z'"
        con.execute(f"INSERT INTO versions VALUES (?, ?, ?, ?, 'text/html', 'utf-8', "
                    f"TIMESTAMPTZ '2026-11-0{n}T00:00:00Z', {valid_to}, 'f')", [vid, url, sid, sha])
        con.execute("INSERT INTO extractions VALUES (?, 'facts-1', now(), 'ok', NULL, 'text/html', ?, NULL, ?, 1)",
                    [sha, vid, text])
        if n > 1:
            before = vid[:2] + str(n - 1)
            con.execute("INSERT INTO version_diffs VALUES (?, ?, ?, ?, TIMESTAMPTZ '2026-11-02T00:00:00Z', 'run-2', "
                        "'ok', 'content', NULL, NULL, 0, 0, 1, '[]', 'facts-1', now())", [vid, before, url, sid])

    def change(key: str, program: str, kind: str, qualifier: str | None, before, after, bt: str, at: str) -> dict:
        vid, seq = key.split(":")
        prev = vid[:2] + "1"
        con.execute("INSERT INTO fact_changes VALUES (?, ?, ?, ?, ?, 'changed', ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                    [vid, int(seq), program, kind, qualifier, json.dumps(before), json.dumps(after), bt, at,
                     *_span(TEXTS[prev], bt), *_span(TEXTS[vid], at)])
        return {"program": program, "kind": kind, "qualifier": qualifier, "change": "changed", "before": before,
                "after": after, "before_text": bt, "after_text": at, "before_version_id": prev, "after_version_id": vid}

    amount = change(AMOUNT_A, "ひとり親家庭住宅支援資金貸付", "amount", "上限", 40000, 50000, "上限4万円", "上限5万円")
    phone = change(PHONE_A, "ひとり親家庭住宅支援資金貸付", "phone", None, "+81359844742", "+81359844700",
                   "03-5984-4742", "03-5984-4700")
    change(AMOUNT_B, "住宅支援資金", "amount", "上限", 40000, 50000, "上限4万円", "上限5万円")

    def flag(flag_id: str, rule: str, severity: str, sid: str, url: str, program, kind, evidence: dict) -> None:
        con.execute("INSERT INTO flag_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, TIMESTAMPTZ '2026-11-02T01:00:00Z', "
                    "now(), NULL, NULL, NULL)", [flag_id, rule, severity, sid, url, program, kind, json.dumps(evidence)])

    flag(FLAG_AMOUNT_A, "fact_changed", "high", "src-a", A_URL, amount["program"], "amount", {"url": A_URL, **amount})
    flag(FLAG_PHONE_A, "fact_changed", "medium", "src-a", A_URL, phone["program"], "phone", {"url": A_URL, **phone})
    flag(FLAG_SECONDARY, "secondary_outdated", "high", "src-h", H_URL, "ひとり親家庭住宅支援資金貸付", "amount",
         {"secondary": {"text": "上限4万円", "version_id": "vh1"},
          "official_change": {"before_text": "上限4万円", "after_text": "上限5万円", "url": A_URL}})
    for n, url in enumerate(BROKEN):
        flag(f"bl-{n}", "broken_link", "medium", "src-a", url, None, None,
             {"url": url, "status": 404, "linked_from": A_URL})
    con.execute("INSERT INTO runs VALUES ('run-2', now(), now(), 'ok', ['src-a', 'src-b', 'src-h'], 3, 0, 0, 0, 0, "
                "'{}', NULL)")
    con.execute("INSERT INTO fetches (fetch_id, run_id, source_id, url, requested_url, fetched_at, status, outcome, "
                "error_kind, error, depth) VALUES ('f1', 'run-2', 'src-a', 'u', 'u', now(), 200, 'unchanged', NULL, "
                "NULL, 0), ('f2', 'run-2', 'src-b', 'v', 'v', now(), 200, 'unchanged', NULL, NULL, 0), "
                "('f3', 'run-2', 'src-h', 'w', 'w', now(), 200, 'unchanged', NULL, NULL, 0)")
