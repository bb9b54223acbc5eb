"""A warehouse of two municipalities and three programs, written row by row (no crawl), for the grouping by
municipality › program (tests/report/test_program_grouping.py, tests/review/test_program_queue.py).

練馬区 (official page ``A``, a 広報 PDF ``K``, a secondary summary ``S``):
  * 児童扶養手当 (catalog ``jido-fuyo-teate``, 国): 全部支給 月額45,500円 → 月額46,690円 on ``A`` (with its
    ``fact_changed`` flag), and ``S`` still says 月額45,500円 (``outdated_amount``, high);
  * ひとり親家庭住宅支援資金貸付 (catalog ``hitorioya-jutaku-shien-shikin-kashitsuke``, 国): 上限4万円 → 上限5万円
    on ``A`` (heading 「ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)」) and on ``K`` (heading 「住宅支援資金の貸付」:
    the same program named differently), and ``S`` (heading 「住宅支援資金」) still says 上限4万円
    (``secondary_outdated``, medium).
北区 (official page ``B``, a secondary summary ``T``):
  * 北区親元近居助成事業 (municipal ``131172:親元近居助成``, 区市町村): 上限20万円 → 上限30万円 on ``B``; ``T`` calls it
    親元近居助成 and dates itself 平成28年8月時点 (``stale_reference``, high);
  * a generic heading 「助成額」 no program fits (program_id NULL): 月額上限2万円 → 月額上限2万5千円 on ``B``, and ``T``
    states 月額上限2万円 (``secondary_contradicts_official``, medium).
Every change was detected on 2026-04-01 (Japan time).
"""

from __future__ import annotations

import json

import duckdb

JIDO, JUTAKU, OYAMOTO = "jido-fuyo-teate", "hitorioya-jutaku-shien-shikin-kashitsuke", "131172:親元近居助成"
A_URL = "https://www.city.nerima.tokyo.jp/kurashi/jinken/hitorioya/teate.html"
K_URL = "https://www.city.nerima.tokyo.jp/kusei/koho/2026/0401.pdf"
S_URL = "https://matome.example.jp/nerima/hitorioya.html"
B_URL = "https://www.city.kita.tokyo.jp/jutaku/oyamoto.html"
T_URL = "https://matome.example.jp/kita/sumai.html"
TEXTS = {
    "vA1": "児童扶養手当\n全部支給の場合、月額45,500円です。\nひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)\n"
           "貸付額は上限4万円、12か月間です。\n",
    "vA2": "児童扶養手当\n全部支給の場合、月額46,690円です。\nひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)\n"
           "貸付額は上限5万円、12か月間です。\n",
    "vK1": "住宅支援資金の貸付\nひとり親家庭に家賃を上限4万円貸し付けます。\n",
    "vK2": "住宅支援資金の貸付\nひとり親家庭に家賃を上限5万円貸し付けます。\n",
    "vS1": "児童扶養手当について\n全部支給 月額45,500円\n住宅支援資金\n上限4万円を貸し付けます。\n",
    "vB1": "北区親元近居助成事業\n助成金額は上限20万円です。\n助成額\n家賃は月額上限2万円を助成します。\n",
    "vB2": "北区親元近居助成事業\n助成金額は上限30万円です。\n助成額\n家賃は月額上限2万5千円を助成します。\n",
    "vT1": "親元近居助成\n平成28年8月時点の情報です。\n助成額\n月額上限2万円\n",
}
PAGES = {"vA1": ("nerima", A_URL, 1), "vA2": ("nerima", A_URL, 2), "vK1": ("nerima", K_URL, 1),
         "vK2": ("nerima", K_URL, 2), "vS1": ("nerima-matome", S_URL, 1), "vB1": ("kita", B_URL, 1),
         "vB2": ("kita", B_URL, 2), "vT1": ("kita-matome", T_URL, 1)}
# item keys of the changes, and the flags
JIDO_A, JUTAKU_A, JUTAKU_K, OYAMOTO_B, JOSEI_B = "vA2:0", "vA2:1", "vK2:0", "vB2:0", "vB2:1"
FC_JIDO, OA_JIDO, SO_JUTAKU, SR_OYAMOTO, SC_JOSEI = "fc-jido", "oa-jido", "so-jutaku", "sr-oyamoto", "sc-josei"
LINE_JUTAKU = "練馬区 › ひとり親家庭住宅支援資金貸付: 上限4万円 → 5万円 (2026-04-01)"


def _span(text: str, value: str) -> tuple[int, int]:
    start = text.index(value)
    return start, start + len(value)


def fill(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""INSERT INTO sources (source_id, municipality, code, kind, name, start_urls, allowed_domains, schedule,
                                        updated_at) VALUES
        ('nerima', '練馬区', '131202', 'official', NULL, [], [], '0 6 * * *', now()),
        ('nerima-matome', '練馬区', '131202', 'secondary', NULL, [], [], '0 6 * * *', now()),
        ('kita', '北区', '131172', 'official', NULL, [], [], '0 6 * * *', now()),
        ('kita-matome', '北区', '131172', 'secondary', NULL, [], [], '0 6 * * *', now())""")
    con.execute("""INSERT INTO program_catalog (program_id, name, scope, prefecture, agency, aliases, urls, synced_at)
        VALUES (?, '児童扶養手当', 'national', NULL, 'こども家庭庁', ['児童扶養手当'], [], now()),
               (?, 'ひとり親家庭住宅支援資金貸付', 'national', NULL, 'こども家庭庁', ['住宅支援資金貸付'], [], now())""",
                [JIDO, JUTAKU])
    for vid, (sid, url, n) in PAGES.items():
        text, sha = TEXTS[vid], vid.lower() * 21 + "x"
        media = "application/pdf" if url.endswith(".pdf") else "text/html"
        body = text.encode() if media == "text/html" else b"%PDF-1.7 " + text.encode()
        con.execute("INSERT INTO blobs VALUES (?, ?, ?, ?, now())", [sha, media, len(body), body])
        current = vid in ("vA2", "vK2", "vS1", "vB2", "vT1")
        valid_to = "NULL" if current else "TIMESTAMPTZ '2026-04-01T09:00:00+09:00'"
        valid_from = "TIMESTAMPTZ '2026-03-01T09:00:00+09:00'" if n == 1 else "TIMESTAMPTZ '2026-04-01T09:00:00+09:00'"
        con.execute(f"""INSERT INTO versions (version_id, url, source_id, sha256, media_type, charset, valid_from,
                                              valid_to, first_fetch_id)
                        VALUES (?, ?, ?, ?, ?, 'utf-8', {valid_from}, {valid_to}, ?)""", [vid, url, sid, sha, media, vid])
        con.execute("""INSERT INTO extractions (sha256, extractor_version, extracted_at, status, error, media_type, title,
                                                pages, main_text, fact_count)
                       VALUES (?, 'facts-5', now(), 'ok', NULL, ?, ?, NULL, ?, 0)""", [sha, media, vid, text])
        if n == 2:
            con.execute("""INSERT INTO version_diffs VALUES (?, ?, ?, ?, TIMESTAMPTZ '2026-04-01T09:00:00+09:00',
                           'run-1', 'ok', 'content', NULL, NULL, 0, 0, 1, '[]', 'facts-5', now())""",
                        [vid, vid[:2] + "1", url, sid])

    facts: dict[str, int] = {}

    def fact(vid: str, kind: str, value, text: str, qualifier: str | None, heading: str, program_id: str | None,
             program_name: str | None) -> None:
        seq = facts[vid] = facts.get(vid, -1) + 1
        start, end = _span(TEXTS[vid], text)
        con.execute("""INSERT INTO facts (sha256, extractor_version, seq, kind, value, value_num, text, qualifier, program,
                                          page, start_offset, end_offset, extra, heading_path, program_id, program_name)
                       VALUES (?, 'facts-5', ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, ?, ?, ?)""",
                    [vid.lower() * 21 + "x", seq, kind, json.dumps(value), value if isinstance(value, int) else None,
                     text, qualifier, heading, start, end, [heading], program_id, program_name])

    jutaku_a = "ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)"
    for vid, yen, loan in (("vA1", "月額45,500円", "上限4万円"), ("vA2", "月額46,690円", "上限5万円")):
        fact(vid, "amount", int(yen[2:-1].replace(",", "")), yen, "月額", "児童扶養手当", JIDO, "児童扶養手当")
        fact(vid, "amount", int(loan[2]) * 10000, loan, "上限", jutaku_a, JUTAKU, "ひとり親家庭住宅支援資金貸付")
        fact(vid, "duration", "P12M", "12か月間", None, jutaku_a, JUTAKU, "ひとり親家庭住宅支援資金貸付")
    for vid, loan in (("vK1", "上限4万円"), ("vK2", "上限5万円")):
        fact(vid, "amount", int(loan[2]) * 10000, loan, "上限", "住宅支援資金の貸付", JUTAKU, "住宅支援資金の貸付")
    fact("vS1", "amount", 45500, "月額45,500円", "月額", "児童扶養手当について", JIDO, "児童扶養手当")
    fact("vS1", "amount", 40000, "上限4万円", "上限", "住宅支援資金", JUTAKU, "住宅支援資金")
    for vid, grant, rent in (("vB1", "上限20万円", "月額上限2万円"), ("vB2", "上限30万円", "月額上限2万5千円")):
        fact(vid, "amount", int(grant[2:4]) * 10000, grant, "上限", "北区親元近居助成事業", OYAMOTO, "北区親元近居助成事業")
        fact(vid, "amount", 20000 if vid == "vB1" else 25000, rent, "月額,上限", "助成額", None, None)
    fact("vT1", "date", "2016-08", "平成28年8月", "現在", "親元近居助成", OYAMOTO, "親元近居助成")
    fact("vT1", "amount", 20000, "月額上限2万円", "月額,上限", "助成額", None, None)

    def change(key: str, heading: str, program_id: str | None, qualifier: str, before: int, after: int, bt: str,
               at: str) -> None:
        vid, seq = key.split(":")
        prev = vid[:2] + "1"
        con.execute("""INSERT INTO fact_changes (after_version_id, seq, program, kind, qualifier, change, before, after,
                                                 before_text, after_text, before_start, before_end, after_start,
                                                 after_end, page, program_id)
                       VALUES (?, ?, ?, 'amount', ?, 'changed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [vid, int(seq), heading, qualifier, json.dumps(before), json.dumps(after), bt, at,
                     *_span(TEXTS[prev], bt), *_span(TEXTS[vid], at), 1 if vid == "vK2" else None, program_id])

    change(JIDO_A, "児童扶養手当", JIDO, "月額", 45500, 46690, "月額45,500円", "月額46,690円")
    change(JUTAKU_A, jutaku_a, JUTAKU, "上限", 40000, 50000, "上限4万円", "上限5万円")
    change(JUTAKU_K, "住宅支援資金の貸付", JUTAKU, "上限", 40000, 50000, "上限4万円", "上限5万円")
    change(OYAMOTO_B, "北区親元近居助成事業", OYAMOTO, "上限", 200000, 300000, "上限20万円", "上限30万円")
    change(JOSEI_B, "助成額", None, "月額,上限", 20000, 25000, "月額上限2万円", "月額上限2万5千円")

    def flag(flag_id: str, rule: str, severity: str, sid: str, url: str, heading: str, program_id: str | None,
             evidence: dict) -> None:
        con.execute("""INSERT INTO flag_records (flag_id, rule, severity, source_id, url, program, kind, evidence,
                                                 first_seen, last_seen, closed_at, close_reason, program_id)
                       VALUES (?, ?, ?, ?, ?, ?, 'amount', ?, TIMESTAMPTZ '2026-04-01T10:00:00+09:00', now(), NULL, NULL,
                               ?)""", [flag_id, rule, severity, sid, url, heading, json.dumps(evidence), program_id])

    flag(FC_JIDO, "fact_changed", "high", "nerima", A_URL, "児童扶養手当", JIDO,
         {"url": A_URL, "program": "児童扶養手当", "kind": "amount", "qualifier": "月額", "before_text": "月額45,500円",
          "after_text": "月額46,690円", "before_version_id": "vA1", "after_version_id": "vA2"})
    flag(OA_JIDO, "outdated_amount", "high", "nerima-matome", S_URL, "児童扶養手当について", JIDO,
         {"program_name": "児童扶養手当", "current_fiscal_year": 2025,
          "amounts": [{"text": "月額45,500円", "yen": 45500, "version_id": "vS1",
                       "belongs_to": [{"label": "全部支給", "years": [2024], "now_fiscal_year": 2025, "now_yen": 46690}]}]})
    flag(SO_JUTAKU, "secondary_outdated", "medium", "nerima-matome", S_URL, "住宅支援資金", JUTAKU,
         {"secondary": {"text": "上限4万円", "version_id": "vS1", "source": S_URL},
          "official_change": {"before_text": "上限4万円", "after_text": "上限5万円", "url": A_URL}})
    flag(SR_OYAMOTO, "stale_reference", "high", "kita-matome", T_URL, "親元近居助成", OYAMOTO,
         {"text": "平成28年8月", "version_id": "vT1", "newest_fiscal_year": 2016, "current_fiscal_year": 2025, "age": 9})
    flag(SC_JOSEI, "secondary_contradicts_official", "medium", "kita-matome", T_URL, "助成額", None,
         {"secondary": {"text": "月額上限2万円", "version_id": "vT1", "source": T_URL},
          "official": [{"text": "月額上限2万5千円", "url": B_URL, "version_id": "vB2"}]})
    con.execute("INSERT INTO runs VALUES ('run-1', now(), now(), 'ok', ['nerima', 'nerima-matome', 'kita', "
                "'kita-matome'], 4, 0, 0, 0, 0, '{}', NULL)")
    con.execute("""INSERT INTO fetches (fetch_id, run_id, source_id, url, requested_url, fetched_at, status, outcome, depth)
        VALUES ('f1', 'run-1', 'nerima', 'a', 'a', now(), 200, 'unchanged', 0),
               ('f2', 'run-1', 'nerima-matome', 's', 's', now(), 200, 'unchanged', 0),
               ('f3', 'run-1', 'kita', 'b', 'b', now(), 200, 'unchanged', 0),
               ('f4', 'run-1', 'kita-matome', 't', 't', now(), 200, 'unchanged', 0)""")
