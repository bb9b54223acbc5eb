"""The GIF 「行政サービス・制度」 mapping (wardwatch.report.gif): program records as ``program_records`` returns
them (current facts with their evidence and the words around each value) → GIF 制度 records.

The records are written after real pages: 練馬区's ひとり親家庭自立支援プログラム策定事業 page with its
ひとり親家庭住宅支援資金貸付 section (上限4万円, 12か月間), 北区's 親元近居助成, 練馬区's 児童扶養手当 guide and
自立支援教育訓練給付金 page, and a secondary summary restating them.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wardwatch.report.gif import CONTACT, csv_header, gif_record, program_type, to_csv

SHARED = Path(__file__).resolve().parents[3] / "shared"
MODEL = SHARED / "corpus" / "standards" / "digital-go-jp_GIF" / "451-4-1_制度データモデル_クラス図.mmd"

SYUUROU = "https://www.city.nerima.tokyo.jp/kurashi/jinken/hitorioya/syuurou.html"
MATOME = "https://hitorioya-memo.example.jp/nerima-matome.html"
TITLE = ["練馬区ひとり親家庭自立支援プログラム策定事業 練馬区公式ホームページ", "練馬区ひとり親家庭自立支援プログラム策定事業"]
LOAN = "ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)"
V1 = datetime(2025, 4, 1, 0, 30, tzinfo=UTC)
V2 = datetime(2026, 4, 1, 0, 30, tzinfo=UTC)


def fact(kind: str, text: str, value, *, start: int, before: str = "", after: str = "", qualifier: str | None = None,
         heading_path: list[str] | None = None, url: str = SYUUROU, version_id: str = "v-syuurou-1",
         source_kind: str = "official", valid_from: datetime = V1, program_name: str | None = None) -> dict:
    """One fact as program_records gives it (value_num for numbers, the words around the span)."""
    num = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    return {"program_name": program_name, "source_id": "nerima" if source_kind == "official" else "memo",
            "source_kind": source_kind, "origin_kind": "page", "url": url, "version_id": version_id,
            "valid_from": valid_from, "kind": kind, "qualifier": qualifier, "value": value, "value_num": num,
            "text": text, "page": None, "start_offset": start, "end_offset": start + len(text),
            "heading_path": heading_path if heading_path is not None else [*TITLE, LOAN],
            "context_before": before, "context_after": after}


def record(name: str, facts: list[dict], *, program_id: str = "hitorioya-jutaku-shien-shikin-kashitsuke",
           scope: str = "national", municipality: str = "練馬区", code: str = "131202",
           official_urls: list[str] | None = None, secondary_urls: list[str] | None = None,
           page_contacts: list[dict] | None = None, catalog_urls: list[str] | None = None,
           last_changed: datetime = V1) -> dict:
    if official_urls is None:
        official_urls = sorted({f["url"] for f in facts if f["source_kind"] == "official"})
    if secondary_urls is None:
        secondary_urls = sorted({f["url"] for f in facts if f["source_kind"] == "secondary"})
    return {"program_id": program_id, "name": name, "scope": scope, "municipality": municipality, "code": code,
            "official_urls": official_urls, "secondary_urls": secondary_urls, "urls": official_urls + secondary_urls,
            "first_seen": V1, "last_seen": V2, "last_changed": last_changed, "current_facts": len(facts),
            "catalog_urls": catalog_urls or [], "facts": facts, "page_contacts": page_contacts or []}


def housing_loan(amount_text: str = "上限4万円", yen: int = 40000, **kw) -> dict:
    """練馬区's housing-loan section, with its own お問い合わせ below it (as a ward page that gives each loan its
    contact), and the repayment terms the 東京都社会福祉協議会 states."""
    contact = [*TITLE, LOAN, "お問い合わせ"]
    facts = [
        fact("duration", "1年以内", "P1Y", start=1362, qualifier="以内",
             before="児童扶養手当を受給している方(所得が受給相当額の方や所得水準を超えて", **kw),
        fact("amount", amount_text, yen, start=1463, qualifier="上限",
             before="東京都社会福祉協議会が家賃相当額を貸し付けます。\n貸付額は", after="、12か月間です。", **kw),
        fact("duration", "12か月間", "P12M", start=1469, before="貸付額は" + amount_text + "、", **kw),
        fact("duration", "1年", "P1Y", start=1500, before="据置期間は", **kw),
        fact("duration", "5年以内", "P5Y", start=1511, qualifier="以内", before="据置期間は1年、償還期間は据置期間経過後", **kw),
        fact("department", "生活福祉課ひとり親家庭支援係", "生活福祉課ひとり親家庭支援係", start=1532,
             heading_path=contact, **kw),
        fact("phone", "03-5984-4742", "+81359844742", start=1550, before="生活福祉課ひとり親家庭支援係 電話 ",
             heading_path=contact, **kw),
    ]
    return record("ひとり親家庭住宅支援資金貸付", facts)


def test_housing_loan_maps_its_ceiling_repayment_and_contact_with_evidence():
    rec = gif_record(housing_loan(), agency="こども家庭庁")
    assert rec["タイトル"] == "ひとり親家庭住宅支援資金貸付"
    assert rec["地域"] == "練馬区" and rec["_code"] == "131202"
    assert rec["制度所管組織"] == "こども家庭庁"  # a national program: the catalog's agency
    assert rec["借入限度額"] == 40000
    assert "給付上限額" not in rec  # a loan, not a benefit
    assert rec["償還期限"] == "P5Y"  # 据置期間経過後5年以内, not the 1年 据置期間 nor 12か月間 of lending
    assert rec["詳細URL"] == SYUUROU
    assert rec[CONTACT] == {"連絡先名称": "生活福祉課ひとり親家庭支援係", "連絡先電話番号": "03-5984-4742"}
    assert rec["お問い合わせ先"] == "生活福祉課ひとり親家庭支援係 03-5984-4742"

    ev = rec["_evidence"]["借入限度額"]
    assert ev["source_kind"] == "official" and ev["candidates"] == 1 and ev["disagreeing"] == 0
    (span,) = ev["spans"]
    assert span == {"url": SYUUROU, "version_id": "v-syuurou-1", "source_kind": "official", "start": 1463,
                    "end": 1468, "text": "上限4万円", "page": None, "heading_path": [*TITLE, LOAN],
                    "valid_from": V1.isoformat()}
    phone = rec["_evidence"][f"{CONTACT}.連絡先電話番号"]
    assert phone["value"] == "+81359844742"  # as written in the record, E.164 in the evidence
    assert [s["text"] for s in phone["spans"]] == ["03-5984-4742"]
    assert rec["_evidence"]["償還期限"]["spans"][0]["text"] == "5年以内"
    assert rec["_secondary_fields"] == []


def test_repayment_term_is_the_duration_the_sentence_says_is_the_repayment():
    head = ["ひとり親家庭住宅支援資金貸付｜練馬区公式ホームページ", "ひとり親家庭住宅支援資金貸付"]
    facts = [
        fact("amount", "月額上限4万円", 40000, start=120, qualifier="月額,上限", before="", heading_path=[*head, "貸付額"]),
        fact("duration", "12か月間", "P12M", start=128, before="月額上限4万円(最長", heading_path=[*head, "貸付額"]),
        fact("duration", "20年以内", "P20Y", start=160, qualifier="以内", before="償還期限は貸付期間満了後",
             heading_path=[*head, "償還"]),
        fact("duration", "1年以内", "P1Y", start=172, qualifier="以内", before="償還期限は貸付期間満了後20年以内です。",
             heading_path=[*head, "償還"]),
    ]
    rec = gif_record(record("ひとり親家庭住宅支援資金貸付", facts))
    assert rec["借入限度額"] == 40000
    assert rec["償還期限"] == "P20Y"  # not 12か月間 of lending, not the 1年以内 of the 償還免除 condition
    assert rec["_evidence"]["償還期限"]["spans"][0]["text"] == "20年以内"
    lending = [f for f in facts if f["text"] != "20年以内"]
    assert "償還期限" not in gif_record(record("ひとり親家庭住宅支援資金貸付", lending[:2]))


def test_fields_the_pages_do_not_state_are_absent():
    rec = gif_record(housing_loan(), agency="こども家庭庁")
    for name in ("概要", "対象者", "最大補助率", "募集時期", "公募開始日", "公募終了日", "給付上限額"):
        assert name not in rec and name not in rec["_evidence"]
    assert "連絡先メールアドレス" not in rec[CONTACT] and "連絡先住所" not in rec[CONTACT]

    bare = gif_record(record("母子生活支援施設", [], program_id="boshi-seikatsu-shien-shisetsu", official_urls=[]))
    assert set(k for k in bare if not k.startswith("_")) == {"タイトル", "地域", "最終更新日"}  # no agency given
    assert set(bare["_evidence"]) == {"タイトル", "地域", "最終更新日"}


def test_a_revision_changes_the_record():
    before = gif_record(housing_loan())
    after = gif_record(housing_loan("上限5万円", 50000, version_id="v-syuurou-2", valid_from=V2))
    assert (before["借入限度額"], after["借入限度額"]) == (40000, 50000)
    assert after["_evidence"]["借入限度額"]["spans"][0]["version_id"] == "v-syuurou-2"


def test_official_beats_a_newer_secondary_and_the_newest_official_version_wins():
    loan = housing_loan("上限5万円", 50000, version_id="v-syuurou-2", valid_from=V1)
    stale = fact("amount", "上限4万円", 40000, start=141, qualifier="上限", url=MATOME, version_id="v-memo",
                 source_kind="secondary", valid_from=V2, before="家賃相当額を貸付。",
                 heading_path=["練馬区のひとり親家庭支援まとめ【令和7年版】", "ひとり親家庭住宅支援資金貸付"])
    rec = gif_record(record("ひとり親家庭住宅支援資金貸付", [*loan["facts"], stale]))
    assert rec["借入限度額"] == 50000
    ev = rec["_evidence"]["借入限度額"]
    assert ev["source_kind"] == "official" and ev["secondary_ignored"] == 1
    assert rec["_secondary_fields"] == []

    guide = "https://www.city.nerima.tokyo.jp/kurashi/jinken/hitorioya/documents/hitorioya_guide.pdf"
    old_pdf = fact("amount", "上限4万円", 40000, start=90, qualifier="上限", url=guide, version_id="v-guide",
                   valid_from=datetime(2025, 6, 1, tzinfo=UTC), before="住宅支援資金 貸付額 ",
                   heading_path=["ひとり親家庭のしおり", "住宅支援資金貸付"])
    newer_page = housing_loan("上限5万円", 50000, version_id="v-syuurou-2", valid_from=V2)
    rec = gif_record(record("ひとり親家庭住宅支援資金貸付", [*newer_page["facts"], old_pdf]))
    assert rec["借入限度額"] == 50000
    ev = rec["_evidence"]["借入限度額"]
    assert (ev["candidates"], ev["disagreeing"]) == (2, 1)  # the older PDF still says 4万円: counted, not used
    assert rec["詳細URL"] == SYUUROU  # the HTML page before the PDF


def test_a_field_only_a_secondary_source_states_is_filled_and_marked():
    kita = ["東京都北区のひとり親家庭支援内容まとめ【北区のシングルマザー必見】", "くらしのサポート", "親元近居助成", "助成額"]
    amount = fact("amount", "20万円を上限", 200000, start=1073, qualifier="上限", url=MATOME, version_id="v-mamamoi",
                  source_kind="secondary", before="一住宅", heading_path=kita)
    rec = gif_record(record("親元近居助成", [amount], program_id="131172:親元近居助成", scope="municipal",
                            municipality="北区", code="131172"))
    assert rec["給付上限額"] == 200000
    assert rec["_evidence"]["給付上限額"]["source_kind"] == "secondary"
    assert rec["_secondary_fields"] == ["給付上限額"]
    assert "詳細URL" not in rec  # no official page: never the summary's URL


def test_benefit_ceiling_ignores_additions_and_income_limits():
    head = ["ひとり親家庭の方へ｜東京都北区", "北区親元近居助成事業"]
    facts = [
        fact("amount", "20万円を上限", 200000, start=40, qualifier="上限", before="一住宅",
             heading_path=[*head, "助成額"]),
        fact("amount", "38万円を加算", 380000, start=80, qualifier="加算", before="1人増えるごとに",
             heading_path=[*head, "所得基準"]),
        fact("amount", "2,360,000円", 2360000, start=120, before="所得制限限度額(扶養親族2人) ",
             heading_path=[*head, "所得基準"]),
    ]
    rec = gif_record(record("親元近居助成事業", facts, program_id="131172:親元近居助成", scope="municipal",
                            municipality="北区", code="131172"))
    assert rec["給付上限額"] == 200000
    assert rec["_evidence"]["給付上限額"]["rule"].startswith("amount stated as a ceiling")


def test_without_a_stated_ceiling_the_largest_benefit_amount_is_used():
    guide = "https://www.city.nerima.tokyo.jp/kurashi/jinken/hitorioya/documents/hitorioya_guide.pdf"
    head = ["児童扶養手当"]
    facts = [
        fact("amount", "月額46,690円", 46690, start=100, qualifier="月額", before="全部支給 ", url=guide,
             version_id="v-guide", heading_path=head),
        fact("amount", "月額11,030円を加算", 11030, start=124, qualifier="月額,加算", before="第2子 ", url=guide,
             version_id="v-guide", heading_path=head),
        fact("amount", "2,080,000円", 2080000, start=200, before="所得制限限度額 ", url=guide, version_id="v-guide",
             heading_path=head),
        fact("amount", "46,680円~11,010円", 46680, start=260, before="一部支給 ", url=guide, version_id="v-guide",
             heading_path=head),
    ]
    rec = gif_record(record("児童扶養手当", facts, program_id="jido-fuyo-teate"), agency="こども家庭庁")
    assert rec["給付上限額"] == 46690
    assert rec["_evidence"]["給付上限額"]["rule"].startswith("the largest benefit amount")
    assert rec["_evidence"]["給付上限額"]["spans"][0]["text"] == "月額46,690円"


def test_subsidy_rate_and_application_period():
    page = "https://www.city.nerima.tokyo.jp/kurashi/jinken/hitorioya/jiritsushien.html"
    head = ["ひとり親家庭自立支援教育訓練給付金｜練馬区", "ひとり親家庭自立支援教育訓練給付金"]
    facts = [
        fact("rate", "60%", 0.6, start=300, before="支給額\n対象講座の受講料の", url=page, heading_path=[*head, "支給額"]),
        fact("amount", "上限20万円", 200000, start=305, qualifier="上限", before="対象講座の受講料の60%(", url=page,
             heading_path=[*head, "支給額"]),
        fact("period", "令和7年10月1日~令和8年3月31日", {"start": "2025-10-01", "end": "2026-03-31"}, start=400,
             before="", url=page, heading_path=[*head, "申請期間"]),
        fact("date", "2025年4月1日", "2025-04-01", start=60, before="更新日:", url=page, heading_path=head),
    ]
    rec = gif_record(record("自立支援教育訓練給付金", facts, program_id="jiritsu-shien-kyoiku-kunren-kyufukin"))
    assert rec["最大補助率"] == 0.6
    assert rec["給付上限額"] == 200000
    assert rec["募集時期"] == "令和7年10月1日~令和8年3月31日"
    assert (rec["公募開始日"], rec["公募終了日"]) == ("2025-10-01", "2026-03-31")  # the 更新日 is no deadline


def test_recurring_application_months_give_the_period_text_but_no_dates():
    kita = ["東京都北区のひとり親家庭支援内容まとめ", "親元近居助成", "申込期限"]
    facts = [fact("period", "4月~11月", {"start": "--04", "end": "--11"}, start=1230, heading_path=kita),
             fact("period", "12月~3月", {"start": "--12", "end": "--03"}, start=1269, heading_path=kita),
             fact("rate", "5%", 0.05, start=1500, before="世帯人数が4人を超える場合は、上記の面積から",
                  heading_path=["東京都北区のひとり親家庭支援内容まとめ", "親元近居助成", "最低居住面積水準とは"])]
    rec = gif_record(record("親元近居助成", facts, program_id="131172:親元近居助成", scope="municipal"))
    assert rec["募集時期"] == "4月~11月、12月~3月"
    assert [s["text"] for s in rec["_evidence"]["募集時期"]["spans"]] == ["4月~11月", "12月~3月"]
    assert "公募開始日" not in rec and "公募終了日" not in rec
    assert "最大補助率" not in rec  # an area rule's 5%, not a subsidy rate


def test_an_interest_rate_is_not_a_subsidy_rate():
    facts = housing_loan()["facts"] + [fact("rate", "年1.0%", 0.01, start=1600, before="保証人がいない場合の貸付利率は")]
    assert "最大補助率" not in gif_record(record("ひとり親家庭住宅支援資金貸付", facts))


def test_the_page_level_contact_section_applies_to_the_programs_it_encloses():
    section = [f for f in housing_loan()["facts"] if f["kind"] not in ("department", "phone")]
    page_contact = [
        fact("department", "練馬総合福祉事務所相談係", "練馬総合福祉事務所相談係", start=900,
             heading_path=[*TITLE, "策定の手順", "1 相談予約", "各総合福祉事務所の相談係"]),
        fact("phone", "03-5984-4742", "+81359844742", start=913,
             heading_path=[*TITLE, "策定の手順", "1 相談予約", "各総合福祉事務所の相談係"]),
        fact("department", "生活福祉課ひとり親家庭支援係", "生活福祉課ひとり親家庭支援係", start=1532,
             heading_path=[*TITLE, "お問い合わせ"]),
        fact("phone", "03-5984-1319", "+81359841319", start=1558, heading_path=[*TITLE, "お問い合わせ"]),
        fact("phone", "03-3993-1111", "+81339931111", start=10, heading_path=["別のページ", "お問い合わせ"]),
    ]
    for c in page_contact:
        c["program_id"] = "jiritsu-shien-program-sakutei"
    rec = gif_record(record("ひとり親家庭住宅支援資金貸付", section, page_contacts=page_contact), agency="こども家庭庁")
    assert rec[CONTACT] == {"連絡先名称": "生活福祉課ひとり親家庭支援係", "連絡先電話番号": "03-5984-1319"}
    assert rec["_evidence"][f"{CONTACT}.連絡先電話番号"]["rule"] == "the contact section of its official page"

    alone = gif_record(record("ひとり親家庭住宅支援資金貸付", section, page_contacts=page_contact[:2]))
    assert CONTACT not in alone and "お問い合わせ先" not in alone  # the offices listed under 策定の手順 are no contact


def test_a_municipal_programs_organisation_is_its_official_department_only():
    zaitaku = "https://www.city.nerima.tokyo.jp/kurashi/jinken/hitorioya/zaitaku.html"
    contact = ["在宅就業推進事業｜練馬区", "在宅就業推進事業", "お問い合わせ"]
    official = [fact("department", "こども家庭部 子育て支援課 ひとり親家庭支援係", "こども家庭部子育て支援課ひとり親家庭支援係",
                     start=84, url=zaitaku, heading_path=contact),
                fact("phone", "03-5984-4724", "+81359844724", start=111, url=zaitaku, heading_path=contact)]
    rec = gif_record(record("在宅就業推進事業", official, program_id="131202:在宅就業推進", scope="municipal"))
    assert rec["制度所管組織"] == "こども家庭部子育て支援課ひとり親家庭支援係"
    assert rec["_evidence"]["制度所管組織"]["spans"][0]["text"] == "こども家庭部 子育て支援課 ひとり親家庭支援係"

    secondary = [dict(f, source_kind="secondary", url=MATOME) for f in official]
    rec = gif_record(record("在宅就業推進事業", secondary, program_id="131202:在宅就業推進", scope="municipal"))
    assert "制度所管組織" not in rec  # a summary's department is not the program's 所管
    assert rec[CONTACT]["連絡先電話番号"] == "03-5984-4724" and "連絡先情報.連絡先電話番号" in rec["_secondary_fields"]


def test_program_type_reads_the_name_and_the_matched_headings():
    assert program_type(record("母子父子寡婦福祉資金貸付金", [])) == "loan"
    assert program_type(record("高等職業訓練促進給付金", [])) == "benefit"
    assert program_type(record("児童育成手当", [])) == "benefit"
    assert program_type(record("母子生活支援施設", [])) is None


def test_last_update_is_the_date_in_tokyo():
    rec = gif_record(record("児童扶養手当", [], last_changed=datetime(2026, 3, 31, 16, 0, tzinfo=UTC)))
    assert rec["最終更新日"] == "2026-04-01"


def test_csv_flattens_records_with_evidence_columns_and_a_bom():
    recs = [gif_record(housing_loan(), agency="こども家庭庁"),
            gif_record(record("=HYPERLINK(\"http://x\")", [], program_id="131202:x", scope="municipal"))]
    text = to_csv(recs, bom=True)
    assert text.startswith("\ufeffprogram_id,")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert list(rows[0]) == csv_header()
    loan = rows[0]
    assert (loan["借入限度額"], loan["借入限度額_根拠URL"], loan["借入限度額_根拠"]) == ("40000", SYUUROU, "上限4万円")
    assert (loan["連絡先電話番号"], loan["連絡先電話番号_根拠"]) == ("03-5984-4742", "03-5984-4742")
    assert loan["給付上限額"] == "" and loan["給付上限額_根拠URL"] == ""
    assert (loan["地域"], loan["地域コード"], loan["償還期限"]) == ("練馬区", "131202", "P5Y")
    assert rows[1]["タイトル"].startswith("'=")  # never a formula in a spreadsheet
    assert to_csv([]).splitlines() == [",".join(csv_header())]


def test_field_names_are_the_gif_models():
    if not MODEL.exists():
        pytest.skip(f"{MODEL} is not here (../shared absent)")
    model = MODEL.read_text(encoding="utf-8")
    names = {line.strip().split(":", 1)[1].split("（")[0] for line in model.splitlines()
             if line.strip().startswith(("ad:", "pd:"))}
    rec = gif_record(housing_loan(), agency="こども家庭庁")
    assert {k for k in rec if not k.startswith("_")} <= names
    assert set(rec[CONTACT]) <= names
    assert "連絡先情報" in names and "給付上限額" in names and "借入限度額" in names
