"""Error classes found on the second-round development gold ("dev2": other governments' real pages,
newsletters never used before; issue 11) and in the issue's list, each on realistic text.

The sentences are modelled on the phrasings of ../shared/corpus (animal-centre pages of 東京都 and
那覇市, 広報おといねっぷ 2020-2025), with other names and numbers; none is copied from a gold document.
"""

from __future__ import annotations

import pytest

from extractors.facts import extract_facts
from extractors.lineview import LineView
from extractors.model import Document, Fact
from extractors.normalize import normalize
from extractors.rules_dates import DateContext, find_dates

VILLAGE = "01656-5-3311"  # a village switchboard (area code 01656)


def facts_of(*lines: str, kinds: tuple[str, ...], switchboard: str | None = None) -> list[tuple]:
    doc = Document.from_blocks([(line, {}) for line in lines], "text/plain")
    facts = extract_facts(doc, switchboard=switchboard)
    for f in facts:
        assert doc.text[f.start:f.end] == f.text
    return [_row(f) for f in facts if f.kind in kinds]


def _row(f: Fact) -> tuple:
    return (f.kind, f.value, f.text) + ((f.qualifier,) if f.qualifier else ()) + ((f.extra,) if f.extra else ())


# ---------------------------------------------------------------- departments

def test_each_branch_of_a_unit_names_the_unit() -> None:
    # 各 after a unit: "each branch of" the office before it, not a unit called 保健所各出張所
    assert facts_of("離島で保護された犬は、八丈島保健所各出張所・支所に直接お問合せください。", kinds=("department",)) == [
        ("department", "八丈島保健所", "八丈島保健所")]


def test_an_ordinal_is_part_of_a_unit_name_but_a_meeting_number_is_not() -> None:
    assert facts_of("㉄第二管区海上保安本部 交通部 航行安全課 ☎０２２‐３６３‐０１１１", "第3回推進委員会を開催しました。",
                    kinds=("department",)) == [
        ("department", "第二管区海上保安本部交通部航行安全課", "第二管区海上保安本部 交通部 航行安全課"),
        ("department", "推進委員会", "推進委員会"),
    ]


def test_a_municipal_office_a_space_before_the_unit_is_part_of_it() -> None:
    assert facts_of("届出は、町役場 税務課税務係へ提出してください。", kinds=("department",)) == [
        ("department", "町役場税務課税務係", "町役場 税務課税務係")]


def test_a_venue_is_not_a_department_even_when_the_unit_is_a_contact_elsewhere() -> None:
    lines = ("日時：令和7年6月3日(火) 午前9時～ 場所：地域福祉センター", "問 地域福祉センター ☎ 2‐1234")
    assert facts_of(*lines, kinds=("department",)) == [("department", "地域福祉センター", "地域福祉センター")]
    # the one kept is the contact line's (the second line), not the venue
    doc = Document.from_blocks([(line, {}) for line in lines], "text/plain")
    (f,) = [f for f in extract_facts(doc) if f.kind == "department"]
    assert f.start > doc.text.index("\n")


def test_a_field_label_naming_the_responsible_office_is_a_contact_context() -> None:
    assert facts_of("管理支所", "川口出張所", kinds=("department",)) == [("department", "川口出張所", "川口出張所")]
    assert facts_of("管理支所 | 川口出張所", kinds=("department",)) == [("department", "川口出張所", "川口出張所")]
    # a place where something happened is no such label
    assert facts_of("保護した場所", "川口出張所", kinds=("department",)) == []


def test_being_in_charge_of_an_area_is_no_contact_context() -> None:
    # 担当している (the verb) is not 担当: (a contact label)
    assert facts_of("調理師の方は、勤務地を担当している受付事務所に提出してください。", kinds=("department",)) == []
    assert facts_of("担当：受付事務所（電話でご相談ください）", kinds=("department",)) == [
        ("department", "受付事務所", "受付事務所")]


# ---------------------------------------------------------------- office hours

def test_a_morning_word_between_weekday_words_and_the_times() -> None:
    assert facts_of("（見学できる時間帯：平日朝9時半～午後3時まで）", kinds=("office_hours",)) == [
        ("office_hours", "Mo-Fr 09:30-15:00", "平日朝9時半～午後3時まで")]


# ---------------------------------------------------------------- dates and periods

def test_ten_day_parts_of_months_in_periods() -> None:
    assert facts_of("面接試験 | 令和7年11月上旬～中旬※個別に通知します", "採用通知 | 令和7年11月中旬～12月上旬",
                    kinds=("date", "period")) == [
        ("period", {"start": "2025-11", "end": "2025-11"}, "令和7年11月上旬～中旬"),
        ("period", {"start": "2025-11", "end": "2025-12"}, "令和7年11月中旬～12月上旬"),
    ]
    # a lone month with its 旬 stays the month over 「9月」 (the first gold's convention)
    assert facts_of("9月下旬に発送します", kinds=("date", "period")) == [("date", "--09", "9月")]


def test_an_ordinal_of_fiscal_years_is_no_fiscal_year() -> None:
    assert facts_of("令和6年度の承認分について", "承認の翌年度から起算して3年度目以降は加算額がつきます",
                    kinds=("fiscal_year",)) == [("fiscal_year", 2024, "令和6年度")]


def test_a_day_with_its_weekday_takes_the_month_of_the_row_above() -> None:
    rows = facts_of("試験日 | 10月3日（金）～10月5日（日）", "会場 | 3日（金）：札幌会場 4日（土）・5日（日）：函館会場",
                    kinds=("date", "period"))
    assert rows == [
        ("period", {"start": "--10-03", "end": "--10-05"}, "10月3日（金）～10月5日（日）"),
        ("date", "--10-03", "3日（金）"),
        ("date", "--10-04", "4日（土）"),
        ("date", "--10-05", "5日（日）"),
    ]


def test_a_bare_day_without_its_weekday_still_never_stands_alone() -> None:
    assert facts_of("受付 | 10月3日（金）", "結果 | 3日後にお知らせします", kinds=("date",)) == [
        ("date", "--10-03", "10月3日（金）")]


def test_year_and_month_of_the_line_above_only() -> None:
    ctx, out = DateContext(), []
    for line in ("申込 | 令和7年9月1日（月）", "説明 | 詳しくは窓口へ", "会場 | 12日（金）：本会場"):
        ctx.next_line()
        out.append([(c.kind, c.value) for c in find_dates(LineView.build(line), ctx)])
    assert out == [[("date", "2025-09-01")], [], []]  # two lines below, the month is not known


def test_a_period_broken_across_a_line_break_is_one_period() -> None:
    assert facts_of("受付期間：令和7年4月1日（火）～", "令和7年6月30日（月）", kinds=("date", "period")) == [
        ("period", {"start": "2025-04-01", "end": "2025-06-30"}, "令和7年4月1日（火）～\n令和7年6月30日（月）")]
    assert facts_of("申請は12月1日から", "翌年1月9日までです。", kinds=("date", "period")) == [
        ("period", {"start": "--12-01", "end": "--01-09"}, "12月1日から\n翌年1月9日まで")]
    # a date that starts the next line without a range marker before the break stays a date
    assert facts_of("締切 | 令和7年4月1日（火）", "令和7年6月30日（月）発表", kinds=("date", "period")) == [
        ("date", "2025-04-01", "令和7年4月1日（火）"), ("date", "2025-06-30", "令和7年6月30日（月）")]


# ---------------------------------------------------------------- addresses

@pytest.mark.parametrize(("line", "value", "text"), [
    ("〒060-0001 札幌市中央区北1条西2丁目1-1", "札幌市中央区北1条西2丁目1-1", "札幌市中央区北1条西2丁目1-1"),
    ("会場 | 旭川市6条通8丁目 市民ホール", "旭川市6条通8丁目", "旭川市6条通8丁目"),
    ("〒071-0200上川郡美瑛町本町110", "上川郡美瑛町本町110", "上川郡美瑛町本町110"),
    ("収容場所 | 足立区 舎人2丁目", "足立区舎人2丁目", "足立区 舎人2丁目"),
])
def test_hokkaido_grids_postal_codes_and_a_space_after_the_municipality(line: str, value: str, text: str) -> None:
    assert facts_of(line, kinds=("address",)) == [("address", value, text)]


def test_no_address_from_law_articles_or_bare_numbers_without_a_postal_code() -> None:
    assert facts_of("風俗営業法第2条第5項に規定する営業", "上川郡美瑛町本町110", kinds=("address",)) == []


def test_an_address_broken_across_two_lines_is_one_address() -> None:
    assert facts_of("お問い合わせ先", "〒152-0001 東京都目黒区", "中央町三丁目5番1号", "電話 03-1234-5678",
                    kinds=("address",)) == [("address", "東京都目黒区中央町3丁目5番1号", "東京都目黒区\n中央町三丁目5番1号")]
    # a line above that is more than a place name is not the address's beginning
    assert facts_of("所在地は東京都目黒区", "中央町三丁目5番1号", kinds=("address",)) == [
        ("address", "中央町3丁目5番1号", "中央町三丁目5番1号")]


# ---------------------------------------------------------------- phones

def test_a_local_number_with_spaced_dashes() -> None:
    assert facts_of("㉄住民課税務係☎ 5 ‐ 3315", kinds=("phone",), switchboard=VILLAGE) == [
        ("phone", "+81165653315", "5 ‐ 3315")]


def test_spaced_digit_dashes_are_normalised_in_place() -> None:
    m = normalize("☎ 9 ‐ 1234、09：30 ‐ 09：50、メー トル")
    assert m.text == "☎ 9 - 1234、09:30 - 09:50、メー トル"
    assert len(m.text) == m.source_len and m.to_source(4, 5) == (4, 5)


# ---------------------------------------------------------------- ages

def test_an_age_bracket_is_not_an_age() -> None:
    assert facts_of("30～40歳代の女性で増えています。対象は40歳以上の方です。", kinds=("age",)) == [
        ("age", 40, "40歳以上", "以上")]
