"""Golden cases from the issue: one row each, the whole fact list must come out exactly."""

from __future__ import annotations

import pytest

from extractors.facts import extract_facts
from extractors.model import Document


def facts_of(text: str) -> list[tuple]:
    doc = Document.from_blocks([(text, {})], "text/plain")
    out = []
    for f in extract_facts(doc):
        assert doc.text[f.start:f.end] == f.text
        row = (f.kind, f.value, f.text, f.qualifier)
        out.append(row + (f.extra,) if f.extra else row)
    return out


LIST_1 = "毎年4月、8月、12月の各月11日"

GOLDEN = [
    ("上限4万円", [("amount", 40000, "上限4万円", "上限")]),
    ("12か月間", [("duration", "P12M", "12か月間", None)]),
    ("月額13,500円", [("amount", 13500, "月額13,500円", "月額")]),
    ("15,500円", [("amount", 15500, "15,500円", None)]),
    ("一住宅20万円を上限", [("amount", 200000, "20万円を上限", "上限")]),
    ("合算額30万円を上限", [("amount", 300000, "30万円を上限", "上限")]),
    ("6割に相当する金額", [("rate", 0.6, "6割", None)]),
    ("上限20万円~下限12,000円",
     [("amount", 200000, "上限20万円", "上限"), ("amount", 12000, "下限12,000円", "下限")]),
    ("月額2,200~170,200円", [("amount", 2200, "月額2,200~170,200円", "月額", {"max": 170200})]),
    ("1人増えるごとに38万円を加算", [("amount", 380000, "38万円を加算", "加算")]),
    ("月額100,000円", [("amount", 100000, "月額100,000円", "月額")]),
    ("月額70,500円", [("amount", 70500, "月額70,500円", "月額")]),
    ("50,000円", [("amount", 50000, "50,000円", None)]),
    ("36ヶ月を限度", [("duration", "P36M", "36ヶ月を限度", "を限度")]),
    ("4月~11月が申込期間", [("period", {"start": "--04", "end": "--11"}, "4月~11月", None)]),
    ("登記完了の日から1年以内", [("duration", "P1Y", "1年以内", "以内")]),
    ("平成28年1月1日現在", [("date", "2016-01-01", "平成28年1月1日現在", "現在")]),
    ("平成27年度", [("fiscal_year", 2015, "平成27年度", None)]),
    ("2025年4月1日", [("date", "2025-04-01", "2025年4月1日", None)]),
    ("令和7年4月1日", [("date", "2025-04-01", "令和7年4月1日", None)]),
    ("令和元年5月1日", [("date", "2019-05-01", "令和元年5月1日", None)]),
    (LIST_1, [("date", "--04-11", LIST_1, None), ("date", "--08-11", LIST_1, None),
              ("date", "--12-11", LIST_1, None)]),
    ("18歳未満", [("age", 18, "18歳未満", "未満")]),
    ("20歳未満", [("age", 20, "20歳未満", "未満")]),
    ("10年以上", [("duration", "P10Y", "10年以上", "以上")]),
    ("55平方メートル以上", []),
    ("03-5984-1319", [("phone", "+81359841319", "03-5984-1319", None)]),
    ("TEL:03-3908-9201", [("phone", "+81339089201", "03-3908-9201", None)]),
    ("FAX 03-3908-9999", [("fax", "+81339089999", "03-3908-9999", None)]),
    ("03(3908)9201", [("phone", "+81339089201", "03(3908)9201", None)]),
    ("０３－５９８４－１３１９", [("phone", "+81359841319", "０３－５９８４－１３１９", None)]),
    ("info@mail.mamamoi.jp", [("email", "info@mail.mamamoi.jp", "info@mail.mamamoi.jp", None)]),
    ("東京都北区王子本町1-15-22", [("address", "東京都北区王子本町1-15-22", "東京都北区王子本町1-15-22", None)]),
    ("月曜から金曜:午前8時30分から午後5時15分まで",
     [("office_hours", "Mo-Fr 08:30-17:15", "月曜から金曜:午前8時30分から午後5時15分まで", None)]),
    ("生活福祉課ひとり親家庭支援係(本庁舎10階)",
     [("department", "生活福祉課ひとり親家庭支援係", "生活福祉課ひとり親家庭支援係", None)]),
    ("店番:3桁の漢数字(例:〇〇八)", []),
]

# further behaviour the issue names (not in its golden list, but stated as requirements)
MORE = [
    ("85%", [("rate", 0.85, "85%", None)]),
    ("1.26%", [("rate", 0.0126, "1.26%", None)]),
    ("3分の2", [("rate", 0.6667, "3分の2", None)]),
    ("平成28年8月", [("date", "2016-08", "平成28年8月", None)]),
    ("4月1日", [("date", "--04-01", "4月1日", None)]),
    ("毎年8月", [("date", "--08", "毎年8月", None)]),
    ("平成28年度", [("fiscal_year", 2016, "平成28年度", None)]),
    ("平成32年1月1日", [("date", "2020-01-01", "平成32年1月1日", None)]),
    ("平成31年4月30日", [("date", "2019-04-30", "平成31年4月30日", None)]),
    ("令和元年度", [("fiscal_year", 2019, "令和元年度", None)]),
    ("令和七年四月一日", [("date", "2025-04-01", "令和七年四月一日", None)]),
    ("四万三千百六十円", [("amount", 43160, "四万三千百六十円", None)]),
    ("ページ番号:805-576-132", []),
    ("5月、7月、9月の11日", [("date", f"--{m:02d}-11", "5月、7月、9月の11日", None) for m in (5, 7, 9)]),
    ("毎年10月1日~9月30日", [("period", {"start": "--10-01", "end": "--09-30"}, "毎年10月1日~9月30日", None)]),
    ("令和7年4月1日から令和8年3月31日まで",
     [("period", {"start": "2025-04-01", "end": "2026-03-31"}, "令和7年4月1日から令和8年3月31日まで", None)]),
    ("令和7年10月1日~3月31日", [("period", {"start": "2025-10-01", "end": "2026-03-31"}, "令和7年10月1日~3月31日", None)]),
    ("月額上限4万円", [("amount", 40000, "月額上限4万円", "月額,上限")]),
    ("電話 03-5984-1319 FAX 03-5984-1320",
     [("phone", "+81359841319", "03-5984-1319", None), ("fax", "+81359841320", "03-5984-1320", None)]),
    ("全額支給（月額） 46,690円", [("amount", 46690, "（月額） 46,690円", "月額")]),
    ("問 保健福祉センター ☎ 9-3050",
     [("department", "保健福祉センター", "保健福祉センター", None), ("phone", "9-3050", "9-3050", None, {"local": True})]),
    ("0~2歳", [("age", 0, "0~2歳", None, {"max": 2})]),
    ("二十歳の誕生日", [("age", 20, "二十歳", None)]),
    ("24時間職員在所", [("duration", "PT24H", "24時間", None)]),
    ("豊島区東池袋1丁目18番1号", [("address", "豊島区東池袋1丁目18番1号", "豊島区東池袋1丁目18番1号", None)]),
    ("練馬区豊玉北六丁目12番1号", [("address", "練馬区豊玉北6丁目12番1号", "練馬区豊玉北六丁目12番1号", None)]),
    ("貸付相談先:北区生活福祉課 生活支援係",
     [("department", "北区生活福祉課生活支援係", "北区生活福祉課 生活支援係", None)]),
    ("担当の各総合福祉事務所相談係にご連絡ください", []),
    ("所属課室:まちづくり部住宅課住宅計画係",
     [("department", "まちづくり部住宅課住宅計画係", "まちづくり部住宅課住宅計画係", None)]),
    ("平日午前九時から午後五時まで", [("office_hours", "Mo-Fr 09:00-17:00", "平日午前九時から午後五時まで", None)]),
    ("INFO@Example.JP まで", [("email", "info@example.jp", "INFO@Example.JP", None)]),
    ("一時金として支給。一部を助成。十分考慮。千葉市、八王子市。", []),
    ("五月雨式に", []),
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN, ids=[t for t, _ in GOLDEN])
def test_golden(text: str, expected: list[tuple]) -> None:
    assert facts_of(text) == expected


@pytest.mark.parametrize(("text", "expected"), MORE, ids=[t for t, _ in MORE])
def test_more(text: str, expected: list[tuple]) -> None:
    assert facts_of(text) == expected
