"""Contact facts on real-world phrasings (departments, office hours, phones/fax), issue 11.

The sentences are modelled on the village pages and 広報 newsletters of ../shared/corpus (contact
blocks, staff tables, clinic hours, 問 lines), not copied from them; hostile shapes are built here.
"""

from __future__ import annotations

import pytest

from extractors.contact_context import resolve_contacts
from extractors.facts import extract_facts
from extractors.model import Document, Fact
from extractors.rules_hours import parse_days


def doc_of(*lines: str) -> Document:
    return Document.from_blocks([(line, {}) for line in lines], "text/plain")


def facts_of(*lines: str, kinds: tuple[str, ...] = ("department", "office_hours", "phone", "fax")) -> list[Fact]:
    doc = doc_of(*lines)
    facts = extract_facts(doc)
    for f in facts:
        assert doc.text[f.start:f.end] == f.text
    return [f for f in facts if f.kind in kinds]


def rows(*lines: str, kind: str) -> list[tuple]:
    return [(f.value, f.text) + ((f.extra,) if f.extra else ()) for f in facts_of(*lines, kinds=(kind,))]


# ---------------------------------------------------------------- departments

@pytest.mark.parametrize(("line", "value", "text"), [
    ("お問い合わせ 福祉課 子育て支援係", "福祉課子育て支援係", "福祉課 子育て支援係"),
    ("担当：健康推進課\u3000予防係（電話でご予約ください）", "健康推進課予防係", "健康推進課\u3000予防係"),
    ("住民課 戸籍室 証明係", "住民課戸籍室証明係", "住民課 戸籍室 証明係"),
    ("教育委員会 社会教育係 電話 01632-2-1111", "教育委員会社会教育係", "教育委員会 社会教育係"),
    ("産業課商工観光係までご連絡ください。", "産業課商工観光係", "産業課商工観光係"),
    ("問 町民課町民生活室 ☎ 2-1234", "町民課町民生活室", "町民課町民生活室"),
    ("㉄旭川道税事務所自動車税部納税担当", "旭川道税事務所自動車税部納税担当", "旭川道税事務所自動車税部納税担当"),
    ("健康福祉部 子育て支援課 手当係", "健康福祉部子育て支援課手当係", "健康福祉部 子育て支援課 手当係"),
    ("環境部 環境衛生課 総務企画グループ", "環境部環境衛生課総務企画グループ", "環境部 環境衛生課 総務企画グループ"),
])
def test_department_division_and_section_are_one(line: str, value: str, text: str) -> None:
    assert rows(line, kind="department") == [(value, text)]


def test_a_division_or_group_alone_is_not_a_department() -> None:
    assert rows("環境部からのお知らせ", kind="department") == []
    assert rows("一部 改正があります", kind="department") == []
    assert rows("総務企画グループの活動", kind="department") == []


def test_two_units_of_the_same_level_are_two_departments() -> None:
    assert rows("提出先：町民課 税務課", kind="department") == [("町民課", "町民課"), ("税務課", "税務課")]
    # a place name starts a new unit inside one compound (print lost the separator)
    assert rows("提出先：役場町民課札幌年金事務所", kind="department") == [
        ("役場町民課", "役場町民課"), ("札幌年金事務所", "札幌年金事務所")]


@pytest.mark.parametrize("line", [
    "課税証明書は窓口で交付します。",
    "学校給食センター方式で提供しています。",
    "会議室をご利用ください。",
    "子育て支援センターだより",  # a column title: the unit modifies だより
    "浄化センター維持管理業務委託",
    "本委員会は年4回開催します。",  # points back at a committee named before
    "公租公課の負担",
    "担当課長 | 田中福祉課長 | 鈴木税務課参事",  # job titles in a staff table
])
def test_words_ending_in_unit_suffixes_that_are_not_departments(line: str) -> None:
    assert rows(line, kind="department") == []


def test_unit_followed_by_its_counter_or_staff_is_still_the_unit() -> None:
    assert rows("役場町民課窓口で受け付けます。", kind="department") == [("役場町民課", "役場町民課")]
    assert rows("お気軽に保健センター保健師までご相談ください。", kind="department") == [
        ("保健センター", "保健センター")]


def test_weak_units_need_a_contact_context_in_the_document() -> None:
    event = "7月7日（月）、ふれあいセンターにて七夕会が行われました。"
    assert rows(event, kind="department") == []  # a venue in a report
    assert rows("「ふれあいセンター」停留所は廃止されました。", kind="department") == []
    assert rows("相談室（和室も利用できます）", kind="department") == []
    # the same name in a 問 line makes it a contact unit, and then its other mentions too
    assert rows(event, "問 ふれあいセンター ☎ 2-4455", kind="department") == [
        ("ふれあいセンター", "ふれあいセンター"), ("ふれあいセンター", "ふれあいセンター")]
    # a contact block: the unit on its own line, the phone on the next
    assert rows("子ども家庭支援センター", "TEL: 01632-2-1180", kind="department") == [
        ("子ども家庭支援センター", "子ども家庭支援センター")]
    # listed with other institutions
    assert rows("児童相談所、子ども家庭支援センター、保健所などと連携します。", kind="department") == [
        ("子ども家庭支援センター", "子ども家庭支援センター")]


def test_surname_glued_to_a_unit_is_cut_when_the_document_names_the_unit() -> None:
    assert rows("問 子育て支援課 ☎ 2-1234", "山田子育て支援課", kind="department") == [
        ("子育て支援課", "子育て支援課"), ("子育て支援課", "子育て支援課")]
    # a 人名-looking place in front of a unit stays when nothing says it is a surname (大泉 of 練馬区)
    assert rows("大泉総合福祉事務所相談係 03-5905-5263", kind="department") == [
        ("大泉総合福祉事務所相談係", "大泉総合福祉事務所相談係")]


# ---------------------------------------------------------------- office hours

@pytest.mark.parametrize(("lines", "value", "text"), [
    (("受付時間：午前8時30分から午後5時15分まで（土日祝日を除く）",), "Mo-Fr 08:30-17:15", "午前8時30分から午後5時15分まで"),
    (("受付時間 午前9時～午後4時", "※土・日・祝日、年末年始を除きます"), "Mo-Fr 09:00-16:00", "午前9時～午後4時"),
    (("開庁時間", "8:45～17:30"), "Mo-Fr 08:45-17:30", "8:45～17:30"),
    (("窓口 9:00〜17:00（土日は休み）",), "Mo-Fr 09:00-17:00", "9:00〜17:00"),
    (("平日の午前9時から午後5時まで",), "Mo-Fr 09:00-17:00", "平日の午前9時から午後5時まで"),
])
def test_window_without_weekdays_is_mo_fr_from_its_context(lines: tuple[str, ...], value: str, text: str) -> None:
    assert rows(*lines, kind="office_hours") == [(value, text)]


def test_weekday_context_is_not_taken_from_other_words() -> None:
    assert rows("休館日 | 月曜日（祝日の場合は翌平日）", "開館時間 | 午前10時〜午後4時", kind="office_hours") == [
        ("10:00-16:00", "午前10時〜午後4時")]
    # the window's own line names other days (「…のみ」: only those): the previous line's 平日 is not its days
    assert rows("平日 | 9:00-17:00", "10:00-15:00（第2・第4土曜のみ）", kind="office_hours") == [
        ("Mo-Fr 09:00-17:00", "平日 | 9:00-17:00"), ("Sa[2,4] 10:00-15:00", "10:00-15:00（第2・第4土曜")]
    assert rows("第2・第4土曜 | 10:00-15:00", kind="office_hours") == [
        ("Sa[2,4] 10:00-15:00", "第2・第4土曜 | 10:00-15:00")]


def test_several_ranges_in_one_window_are_one_fact() -> None:
    assert rows("受付は午前8時30分から午前10時まで、正午から午後1時まで", kind="office_hours") == [
        ("08:30-10:00,12:00-13:00", "午前8時30分から午前10時まで、正午から午後1時まで")]
    assert rows("一般外来 | 9:00 ~ 11:30 14:00 ~ 16:00 |", kind="office_hours") == [
        ("09:00-11:30,14:00-16:00", "9:00 ~ 11:30 14:00 ~ 16:00")]
    # out of time order (two columns of a PDF table run together): two windows
    assert rows("診療時間 14:00 ~ 16:00 8:45 ~ 11:15", kind="office_hours") == [
        ("14:00-16:00", "14:00 ~ 16:00"), ("08:45-11:15", "8:45 ~ 11:15")]


@pytest.mark.parametrize(("line", "value", "text"), [
    ("午前8時30分から正午まで", "08:30-12:00", "午前8時30分から正午まで"),
    ("月曜日から木曜日の午前9時から10時", "Mo-Th 09:00-10:00", "月曜日から木曜日の午前9時から10時"),
    ("土曜日・日曜日 10:00～15:00", "Sa,Su 10:00-15:00", "土曜日・日曜日 10:00～15:00"),
    ("毎週火～日曜日 9:30-16:30", "Tu-Su 09:30-16:30", "毎週火～日曜日 9:30-16:30"),
    ("祝日は9:30〜16:30で営業", "PH 09:30-16:30", "祝日は9:30〜16:30"),
    ("相談ダイヤル 9:00～19:00（月曜～金曜）", "Mo-Fr 09:00-19:00", "9:00～19:00（月曜～金曜"),
    ("第1・第3土曜日 ９：００～１２：００", "Sa[1,3] 09:00-12:00", "第1・第3土曜日 ９：００～１２：００"),
    ("7月5日（土）13:30〜15:00に開催します", "13:30-15:00", "13:30〜15:00"),  # a date's weekday, not opening days
])
def test_office_hours_forms(line: str, value: str, text: str) -> None:
    assert rows(line, kind="office_hours") == [(value, text)]


def test_weekday_and_then_weekend_windows() -> None:
    assert rows("受付時間：平日9時30分から20時まで／土日祝日9時30分から17時30分まで", kind="office_hours") == [
        ("Mo-Fr 09:30-20:00", "平日9時30分から20時まで"), ("Sa,Su,PH 09:30-17:30", "土日祝日9時30分から17時30分まで")]


def test_closed_windows_and_non_times_are_not_office_hours() -> None:
    assert rows("12:00〜13:00は窓口を休止します", kind="office_hours") == []
    assert rows("16:30〜17:30はリフト点検のため運休", kind="office_hours") == []
    assert rows("比率は3:2〜4:3です", kind="office_hours") == []


def test_parse_days() -> None:
    assert [parse_days(s) for s in ("平日", "土日祝日", "月・水・金", "第2・第4土曜", "毎月第二土曜", "月曜から金曜")] == [
        "Mo-Fr", "Sa,Su,PH", "Mo,We,Fr", "Sa[2,4]", "Sa[2]", "Mo-Fr"]
    assert [parse_days(s) for s in ("", "第1", "9", "から金曜", "毎月")] == [None] * 5


# ---------------------------------------------------------------- phones

def phones(*lines: str) -> list[tuple]:
    return [(f.kind, f.value, f.text) + ((f.extra,) if f.extra else ())
            for f in facts_of(*lines, kinds=("phone", "fax"))]


def test_local_number_takes_the_area_code_of_the_same_exchange() -> None:
    page = ("問 税務係 ☎ 2-1234", "FAX 2-1235", "納期限は毎月末日です。", "○○町役場 電話 01632-2-1111")
    assert phones(*page) == [
        ("phone", "+81163221234", "2-1234"), ("fax", "+81163221235", "2-1235"), ("phone", "+81163221111", "01632-2-1111")]
    # a full number right next to a local one of the same exchange is from another area (the writer
    # left out the area code of the local one only): no inference from it
    assert phones("役場 電話 01632-2-1111", "問 税務係 ☎ 2-1234") == [
        ("phone", "+81163221111", "01632-2-1111"), ("phone", "2-1234", "2-1234", {"local": True})]


def test_local_number_takes_a_switchboard_of_another_exchange() -> None:
    assert phones("役場（代表）01632-2-1111", "問 保健センター ☎ 5-3050") == [
        ("phone", "+81163221111", "01632-2-1111"), ("phone", "+81163253050", "5-3050")]
    # without 代表 nothing says 01632 is the publisher's area for exchange 5
    assert phones("役場 01632-2-1111", "問 保健センター ☎ 5-3050") == [
        ("phone", "+81163221111", "01632-2-1111"), ("phone", "5-3050", "5-3050", {"local": True})]


@pytest.fixture
def with_switchboard(monkeypatch: pytest.MonkeyPatch) -> None:
    """extract_facts as the stage would call it for a source whose registry gives its main number."""
    import extractors.facts

    def with_main_number(facts: list[Fact], doc: Document, switchboard: str | None = None) -> list[Fact]:
        return resolve_contacts(facts, doc, "01656-5-3311")

    monkeypatch.setattr(extractors.facts, "resolve_contacts", with_main_number)


def test_switchboard_given_by_the_caller(with_switchboard: None) -> None:
    doc = doc_of("問 総務課 ☎５‐３３１１", "問 保健センター ☎ 9-3050", "FAX（5）3837")
    facts = extract_facts(doc)
    assert [(f.kind, f.value, f.text, f.extra) for f in facts if f.kind in ("phone", "fax")] == [
        ("phone", "+81165653311", "５‐３３１１", {}), ("phone", "+81165693050", "9-3050", {}),
        ("fax", "+81165653837", "（5）3837", {})]


def test_switchboard_area_is_the_home_of_every_local_number(with_switchboard: None) -> None:
    # another town's full number of the same exchange elsewhere does not beat the publisher's own area
    page = ("問 自衛隊地方協力本部 ☎ 01654-2-3921", "本文", "本文", "問 警察庁舎 ☎ 2-1110", "問 総務課 ☎ 5-3311")
    assert [f.value for f in facts_of(*page, kinds=("phone",))] == ["+81165423921", "+81165621110", "+81165653311"]
    # unless the document itself writes the publisher's area in full next to a local number of that exchange
    assert [f.value for f in facts_of("役場 ☎ 01656-5-3311 駐在所 ☎ 5-3300", kinds=("phone",))] == [
        "+81165653311", "5-3300"]


def test_without_a_switchboard_the_same_exchange_decides() -> None:
    page = ("問 自衛隊地方協力本部 ☎ 01654-2-3921", "本文", "本文", "問 警察庁舎 ☎ 2-1110", "問 総務課 ☎ 5-3311")
    assert [f.value for f in facts_of(*page, kinds=("phone",))] == ["+81165423921", "+81165421110", "5-3311"]


def test_local_number_stays_local_when_the_area_code_is_ambiguous() -> None:
    # a full number written next to a local one of the same exchange is from another area
    assert phones("中央警察署 ☎ 01654-3-0110 北庁舎 ☎ 3-2110") == [
        ("phone", "+81165430110", "01654-3-0110"), ("phone", "3-2110", "3-2110", {"local": True})]
    # two candidate "home" area codes in one document
    assert phones("A町役場 01654-2-1111", "B村役場 01656-5-2222", "問 ☎ 2-3333", "問 ☎ 5-4444") == [
        ("phone", "+81165421111", "01654-2-1111"), ("phone", "+81165652222", "01656-5-2222"),
        ("phone", "2-3333", "2-3333", {"local": True}), ("phone", "5-4444", "5-4444", {"local": True})]
    # a 4-digit subscriber with a 1-digit exchange needs a 4-digit area code: 0144 (3 digits) does not fit
    assert phones("電話 0144-22-3311", "問 ☎ 2-3312") == [
        ("phone", "+81144223311", "0144-22-3311"), ("phone", "2-3312", "2-3312", {"local": True})]


def test_local_fax_and_bracketed_forms() -> None:
    assert phones("TEL 5-3311 FAX 5-3837", "ファクス：5-3838", "電話（5）3312") == [
        ("phone", "5-3311", "5-3311", {"local": True}), ("fax", "5-3837", "5-3837", {"local": True}),
        ("fax", "5-3838", "5-3838", {"local": True}), ("phone", "5-3312", "（5）3312", {"local": True})]


def test_unlabelled_local_numbers_need_a_labelled_one_of_their_exchange() -> None:
    table = "担当課長 | 田中税務課長5-1112 | 鈴木福祉課長5-1113"
    assert phones(table, "問 総務課 ☎ 5-1111") == [
        ("phone", "5-1112", "5-1112", {"local": True}), ("phone", "5-1113", "5-1113", {"local": True}),
        ("phone", "5-1111", "5-1111", {"local": True})]
    assert phones(table) == []
    assert phones("規格 3-1200 型、寸法 2-1500", "問 総務課 ☎ 5-1111") == [
        ("phone", "5-1111", "5-1111", {"local": True})]


def test_full_numbers_with_spaced_dashes_and_typos() -> None:
    assert phones("札幌道税事務所（011 ‐ 746 ‐ 1190）までご連絡ください") == [
        ("phone", "+81117461190", "011 ‐ 746 ‐ 1190")]
    # a labelled number with a digit too many is still the number printed (kept as written)
    assert phones("☎０１５５‐２４５‐１２３４") == [("phone", "+811552451234", "０１５５‐２４５‐１２３４")]
    assert phones("整理 0155 2451234") == []  # no label and not valid: nothing


@pytest.mark.parametrize("line", [
    "〒098-2501 中川郡音威子府村字音威子府444番地1",
    "口座番号 0123456",
    "口座番号：0165653311",
    "ID 0165653311",
    "法人番号 1234567890123",
    "ISBN978-4-06-519981-7",
    "事業番号 01-2345-6789",
    "令和7年4月1日～2025-04-30",
    "2020-06-01 更新",
    "料金 1,500-3,000円",
    "内線25-516",
    "0165653311",  # ten digits, no label, no separator
])
def test_no_phone_from_identifiers_dates_and_amounts(line: str) -> None:
    assert phones(line) == []


def test_unseparated_number_after_a_phone_label() -> None:
    assert phones("電話 0165653311") == [("phone", "+81165653311", "0165653311")]


# ---------------------------------------------------------------- addresses (line rule)

@pytest.mark.parametrize(("line", "value"), [
    ("契約先 株式会社○○（東京都中央区明石町8番1号）", "東京都中央区明石町8番1号"),
    ("所在地 中川郡音威子府村字音威子府443（国道沿い）", "中川郡音威子府村字音威子府443"),
    ("東京都北区王子本町1-15-22", "東京都北区王子本町1-15-22"),
])
def test_address_block_numbers(line: str, value: str) -> None:
    from extractors.lineview import LineView
    from extractors.rules_contacts import find_addresses

    assert [c.value for c in find_addresses(LineView.build(line))] == [value]


def test_bare_number_after_a_town_is_not_an_address() -> None:
    from extractors.lineview import LineView
    from extractors.rules_contacts import find_addresses

    assert find_addresses(LineView.build("音威子府村443人が参加")) == []
    assert find_addresses(LineView.build("札幌市2025年度")) == []


def test_police_and_tax_offices_and_generic_institutions() -> None:
    assert rows("名寄警察署からのお知らせ", kind="department") == [("名寄警察署", "名寄警察署")]
    assert rows("最寄りの警察署や交番に届け出ましょう。", kind="department") == []  # any police station
    assert rows("問 警察署 ☎ 2-0110", kind="department") == [("警察署", "警察署")]
    # PDF lines run together: 問 starts the next contact
    assert rows("問北警察庁舎問南駐在所", kind="department") == [("南駐在所", "南駐在所")]


def test_unit_followed_by_a_staff_name_is_the_unit() -> None:
    assert rows("◇教育委員会阿部 郁也（旭川市出身）", kind="department") == [("教育委員会", "教育委員会")]
    assert rows("◇総務課総務財政室佐藤 花子", kind="department") == [("総務課総務財政室", "総務課総務財政室")]


def test_dense_contact_line_keeps_every_fact() -> None:
    # one long line of repeated contact items (a PDF text layer without line breaks): every item is read
    # once; the local number stays local (a full number of its exchange is written on the same line)
    item = "問 保健センター ☎ 5-3311 受付 9:00～17:00（土日祝日を除く） 総務課 税務係 01632-5-1111 "
    facts = facts_of(item * 150)
    counts: dict[tuple[str, str], int] = {}
    for f in facts:
        counts[(f.kind, str(f.value))] = counts.get((f.kind, str(f.value)), 0) + 1
    assert counts == {("department", "保健センター"): 150, ("phone", "5-3311"): 150,
                      ("office_hours", "Mo-Fr 09:00-17:00"): 150, ("department", "総務課税務係"): 150,
                      ("phone", "+81163251111"): 150}


# ---------------------------------------------------------------- classes of the opened held-out half (issue 11)

@pytest.mark.parametrize("label", ["TEL/FAX", "TEL・FAX", "電話／ファクス", "ＴＥＬ＆ＦＡＸ", "FAX/TEL"])
def test_one_number_under_a_shared_phone_and_fax_label_is_both(label: str) -> None:
    assert phones(f"町民ギャラリー {label}：01632-4-5678") == [
        ("phone", "+81163245678", "01632-4-5678"), ("fax", "+81163245678", "01632-4-5678")]


def test_shared_label_for_a_local_number_and_separate_labels() -> None:
    assert phones("問 公民館 TEL/FAX 4-5678") == [
        ("phone", "4-5678", "4-5678", {"local": True}), ("fax", "4-5678", "4-5678", {"local": True})]
    # each number its own label: one phone, one fax
    assert phones("TEL 0123-45-6789/FAX 0123-45-6790") == [
        ("phone", "+81123456789", "0123-45-6789"), ("fax", "+81123456790", "0123-45-6790")]
    assert phones("電話 0123-45-6789（FAXは受け付けていません）") == [("phone", "+81123456789", "0123-45-6789")]


def table(*rows_: str) -> Document:
    return Document.from_blocks([(r, {"kind": "row"}) for r in rows_], "text/html")


def table_phones(doc: Document, switchboard: str | None = "01656-5-3311") -> list[tuple]:
    return [(f.kind, f.value, f.text) + ((f.extra,) if f.extra else ())
            for f in extract_facts(doc, switchboard=switchboard) if f.kind in ("phone", "fax")]


def test_local_numbers_in_a_phone_column_are_phones() -> None:
    doc = table("施設 | 管理者（担当） | 電話番号", "林道 | 役場産業課林務係 | 5-3313（内線21）",
                "河川 | 土木現業所 | 3-1201", "国道 | 開発建設部道路事務所 | 3-2202")
    # the publisher's exchange (its switchboard's) takes its area code; another office's stays as written
    assert table_phones(doc) == [("phone", "+81165653313", "5-3313"), ("phone", "3-1201", "3-1201", {"local": True}),
                                 ("phone", "3-2202", "3-2202", {"local": True})]
    # a full number of that exchange in the same document confirms it
    page = Document.from_blocks([(r, {"kind": "row"}) for r in ("区分 | 連絡先", "河川 | 3-1201")]
                                + [("本文", {}), ("問 経済課 ☎ 01656-3-1111", {})], "text/html")
    assert table_phones(page)[0] == ("phone", "+81165631201", "3-1201")


def test_fax_column_and_columns_that_are_not_phones() -> None:
    assert table_phones(table("名称 | TEL | FAX", "地区会館 | 5-1234 | 5-1235"), None) == [
        ("phone", "5-1234", "5-1234", {"local": True}), ("fax", "5-1235", "5-1235", {"local": True})]
    assert table_phones(table("品名 | 規格 | 寸法", "側溝 | 3-1200 | 2-1500")) == []
    # the same shapes outside a table, without a label: nothing
    assert table_phones(doc_of("河川 土木現業所 3-1201")) == []


@pytest.mark.parametrize(("line", "value"), [
    ("㉄内閣府政策統括官（経済社会システム担当）付参事官（総括担当）付 山本 ☎03-1234-5678",
     "内閣府政策統括官（経済社会システム担当）付参事官（総括担当）付"),
    ("問い合わせ先：総務省自治行政局公務員部公務員課", "総務省自治行政局公務員部公務員課"),
    ("問 内閣府政策統括官(防災担当)付 ☎03-1234-5678", "内閣府政策統括官（防災担当）付"),
])
def test_units_of_national_ministries(line: str, value: str) -> None:
    assert [v for v, _ in rows(line, kind="department")] == [value]


def test_attached_office_needs_a_post_and_a_ministry() -> None:
    assert rows("書類を添付してください", kind="department") == []
    assert rows("令和8年度予算の交付について", kind="department") == []


def test_unit_followed_by_a_facility_name_is_the_facility() -> None:
    assert rows("地域交流センター 森の学び館", "TEL 0123-45-6789", kind="department") == []
    assert rows("問 農村・都市交流センター ふれあい温泉 ☎ 0123-45-6789", kind="department") == []
    # a lower unit or a staff name after the space keeps the unit
    assert rows("問 福祉課 保健センター ☎ 0123-45-6789", kind="department") == [
        ("福祉課保健センター", "福祉課 保健センター")]
    assert rows("問 子育て支援センター 佐藤 ☎ 0123-45-6789", kind="department") == [
        ("子育て支援センター", "子育て支援センター")]


def test_staff_surname_that_forms_a_word_with_the_unit_suffix() -> None:
    # 課 + 金… reads as 課金 to a substring filter; Sudachi still splits 会計課 | 金子
    assert rows("◇会計課金子 陽菜", kind="department") == [("会計課", "会計課")]
    assert rows("◇税務課金田 一郎（札幌市出身）", kind="department") == [("税務課", "税務課")]
    assert rows("アプリ内の課金にご注意ください", kind="department") == []


def test_words_coordinated_before_a_unit_belong_to_its_name() -> None:
    assert rows("問 高齢者・障害者相談センター ☎ 0123-45-6789", kind="department") == [
        ("高齢者・障害者相談センター", "高齢者・障害者相談センター")]
    assert rows("申請先：子ども・子育て支援課", kind="department") == [("子ども・子育て支援課", "子ども・子育て支援課")]
    # two units in a list stay two; a contact word before ・ is not part of the name
    assert rows("提出先：税務課・住民課", kind="department") == [("税務課", "税務課"), ("住民課", "住民課")]
    assert rows("お問い合わせ・子育て支援課", kind="department") == [("子育て支援課", "子育て支援課")]


# ---------------------------------------------------------------- broader phrasings (H12, issue 11)

@pytest.mark.parametrize(("lines", "expected"), [
    # 午後 carries to an end written without it
    (("診療時間：午前9時～12時\u3000午後2時～6時",), [("09:00-12:00,14:00-18:00", "午前9時～12時\u3000午後2時～6時")]),
    (("火曜日と金曜日の午後1時から3時まで",), [("Tu,Fr 13:00-15:00", "火曜日と金曜日の午後1時から3時まで")]),
    (("午後1時半～3時",), [("13:30-15:00", "午後1時半～3時")]),
    # AM/PM
    (("AM9:00～PM5:00",), [("09:00-17:00", "AM9:00～PM5:00")]),
    # the days, a bracket of excepted days, then the times
    (("月曜日～金曜日（祝日を除く）午前8時30分～午後5時15分",),
     [("Mo-Fr 08:30-17:15", "月曜日～金曜日（祝日を除く）午前8時30分～午後5時15分")]),
    # days after the times without a bracket
    (("受付時間 8:30～17:15 月～金",), [("Mo-Fr 08:30-17:15", "8:30～17:15 月～金")]),
    # one fact per day group
    (("平日 8:30-17:15 / 土曜 9:00-12:00",), [("Mo-Fr 08:30-17:15", "平日 8:30-17:15"), ("Sa 09:00-12:00", "土曜 9:00-12:00")]),
    # the break of a window is no window of its own
    (("9:00～17:00（12:00～13:00を除く）",), [("09:00-17:00", "9:00～17:00")]),
    # a window broken across two lines is one fact whose span covers the break
    (("開館時間 午前10時〜", "午後4時"), [("10:00-16:00", "午前10時〜\n午後4時")]),
    (("開館時間 10:00～", "16:00"), [("10:00-16:00", "10:00～\n16:00")]),
    (("平日 午前８時３０分から", "午後５時１５分まで"), [("Mo-Fr 08:30-17:15", "平日 午前８時３０分から\n午後５時１５分まで")]),
    (("営業時間 9:00〜17:00(最終入館16:30)",), [("09:00-17:00", "9:00〜17:00")]),
])
def test_broad_office_hours(lines: tuple[str, ...], expected: list[tuple]) -> None:
    assert rows(*lines, kind="office_hours") == expected


@pytest.mark.parametrize("lines", [
    ("毎週月曜休館",),  # closures
    ("休館日 毎週月曜日（祝日の場合は翌日）",),
    ("開場 12:30 開演 13:00",),  # two times, no window
    ("8時30分～",),  # an open end
    ("4月1日～", "5月31日"),  # a period broken across lines is no window
    ("受付 9時～", "01656-5-3311"),  # a phone number on the next line is no end time
])
def test_broad_not_office_hours(lines: tuple[str, ...]) -> None:
    assert rows(*lines, kind="office_hours") == []


@pytest.mark.parametrize(("line", "expected"), [
    ("上川支所 地域振興係 ☎01654-2-1111", [("上川支所地域振興係", "上川支所 地域振興係")]),
    ("問 上川支所 ☎01654-2-1111", [("上川支所", "上川支所")]),
    # an office above divisions, then a division after a space: one department
    ("名寄保健所 健康推進課 ☎01654-3-3121", [("名寄保健所健康推進課", "名寄保健所 健康推進課")]),
    ("北海道上川総合振興局 地域創生部 地域政策課", [("北海道上川総合振興局地域創生部地域政策課",
                                                  "北海道上川総合振興局 地域創生部 地域政策課")]),
    ("教育委員会事務局学校教育課", [("教育委員会事務局学校教育課", "教育委員会事務局学校教育課")]),
    ("（担当：保健福祉課）", [("保健福祉課", "保健福祉課")]),
    ("窓口：住民課", [("住民課", "住民課")]),
    ("地域振興課\u3000観光係", [("地域振興課観光係", "地域振興課\u3000観光係")]),
    ("担当部署：まちづくり推進課", [("まちづくり推進課", "まちづくり推進課")]),  # 担当部署 names no unit
    ("税務課 住民課", [("税務課", "税務課"), ("住民課", "住民課")]),  # two divisions stay two
])
def test_broad_departments(line: str, expected: list[tuple]) -> None:
    assert rows(line, kind="department") == expected


@pytest.mark.parametrize("line", ["上川支所で受付", "各支所の窓口", "支所", "保健センターで健診を行います"])
def test_broad_not_departments(line: str) -> None:
    assert rows(line, kind="department") == []
