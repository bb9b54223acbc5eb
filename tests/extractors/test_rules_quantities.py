"""Amounts and durations on real phrasings (issue 11): ranges with the unit written once, durations
inside phrases (…の90日前から30日前まで, …から13年を経過, 修学資金2年の貸付), compound durations,
and the words that must NOT become durations (era years, dates, school years, frequencies).
"""

from __future__ import annotations

import pytest

from extractors.facts import extract_facts
from extractors.lineview import LineView
from extractors.model import Document
from extractors.rules_quantities import find_durations


def facts_of(text: str, kinds: set[str]) -> list[tuple]:
    doc = Document.from_blocks([(text, {})], "text/plain")
    out = []
    for f in extract_facts(doc):
        assert doc.text[f.start:f.end] == f.text
        if f.kind in kinds:
            row: tuple = (f.value, f.text)
            if f.qualifier or f.extra:
                row += (f.qualifier,) + ((f.extra,) if f.extra else ())
            out.append(row)
    return out


AMOUNTS = [
    ("補助額は300〜500万円です", [(3000000, "300〜500万円", None, {"max": 5000000})]),
    ("1万〜3万円", [(10000, "1万〜3万円", None, {"max": 30000})]),
    ("5千〜1万円", [(5000, "5千〜1万円", None, {"max": 10000})]),
    ("1～1.5万円程度", [(10000, "1～1.5万円", None, {"max": 15000})]),
    ("3～5千円", [(3000, "3～5千円", None, {"max": 5000})]),
    ("事業費1~1億5千万円", [(100000000, "1~1億5千万円", None, {"max": 150000000})]),
    ("上限1,000～1,500万円", [(10000000, "上限1,000～1,500万円", "上限", {"max": 15000000})]),
    # the first end written in full (円 or its own 万/千) is not scaled
    ("300円～500万円", [(300, "300円～500万円", None, {"max": 5000000})]),
    ("月額2,200~170,200円", [(2200, "月額2,200~170,200円", "月額", {"max": 170200})]),
    # scaling that would put the start above the end is not what was meant
    ("300~1万円", [(300, "300~1万円", None, {"max": 10000})]),
    ("契約額 71億2,690万円（税込）", [(7126900000, "71億2,690万円")]),
    ("二百～五百万円", [(2000000, "二百～五百万円", None, {"max": 5000000})]),
    ("3千～5万円", [(3000, "3千～5万円", None, {"max": 50000})]),
]

DURATIONS = [
    ("申込日の90日前から30日前までに届け出る", [("P90D", "90日"), ("P30D", "30日")]),
    ("工事を始める日の90日から30日前までの間に", [("P90D", "90日"), ("P30D", "30日")]),
    ("取得から13年を経過した建物", [("P13Y", "13年")]),
    ("卒業後12年を経過していない方", [("P12Y", "12年")]),
    ("修学資金2年の貸付", [("P2Y", "2年")]),
    ("申請は契約日から2週間以内", [("P2W", "2週間以内", "以内")]),
    ("3か月以内", [("P3M", "3か月以内", "以内")]),
    ("1年間", [("P1Y", "1年間")]),
    ("5カ年間の計画", [("P5Y", "5カ年間")]),
    ("休業が続くときは最長1年6か月まで", [("P1Y6M", "1年6か月まで", "まで")]),
    ("申請日から２年１か月前まで", [("P2Y1M", "２年１か月")]),
    ("直近1年分の記録", [("P1Y", "1年")]),
    ("3日分の飲料水", [("P3D", "3日分")]),  # days' worth: 分 in the span, as the gold has it (「3日分」)
    ("約10年周期で改修", [("P10Y", "10年")]),
    ("保管期間は1週間から10日程度", [("P1W", "1週間"), ("P10D", "10日")]),
    ("来庁3日前～前日", [("P3D", "3日")]),
    ("受付は終了時間10分前まで", [("PT10M", "10分")]),
    ("旭川から約2時間30分", [("PT2H30M", "2時間30分")]),
    ("滞在は3~4時間", [("PT3H", "3~4時間", None, {"max": "PT4H"})]),
    ("2～3週間程度でお届けします", [("P2W", "2～3週間", None, {"max": "P3W"})]),
    ("6月7日(土)・8日(日)の2日間", [("P2D", "2日間")]),
    ("登記完了の日から1年以内", [("P1Y", "1年以内", "以内")]),
    ("技術職 | 経験年数10年", [("P10Y", "10年")]),
]

NOT_DURATIONS = [
    "令和7年から実施",  # an era year
    "2025年の実績",  # a four-digit year
    "28年4月に改正",  # an era-less year before a month
    "高校3年の生徒",  # a school year
    "1年生と2年生",
    "週休2日制",
    "23日の本番では",  # a day of the month
    "2か月に1回発行",  # frequencies
    "2年ごとに届け出る",
    "1年に1回は検査を",
    "4日目以降",  # an ordinal
    "午前8時30分から",  # a time of day
    "2割5分",  # a rate
    "3分の2",
    "4月10日前後",  # a date before 前後
    "第2分団",
    "北緯43度03分",  # an angle
]


@pytest.mark.parametrize(("text", "expected"), AMOUNTS, ids=[t for t, _ in AMOUNTS])
def test_amount_ranges(text: str, expected: list[tuple]) -> None:
    assert facts_of(text, {"amount"}) == expected


@pytest.mark.parametrize(("text", "expected"), DURATIONS, ids=[t for t, _ in DURATIONS])
def test_durations_inside_phrases(text: str, expected: list[tuple]) -> None:
    assert facts_of(text, {"duration"}) == expected


@pytest.mark.parametrize("text", NOT_DURATIONS)
def test_not_durations(text: str) -> None:
    assert facts_of(text, {"duration"}) == []


def test_minutes_alone_are_a_duration() -> None:
    # rule level: a line whose only unit is 分 is only reached once facts.py lets it through
    (c,) = find_durations(LineView.build("駅から徒歩約15分"))
    assert (c.kind, c.value) == ("duration", "PT15M")


def test_ages_are_not_durations() -> None:
    assert facts_of("満65歳から70歳まで", {"duration"}) == []
    assert facts_of("満65歳から70歳まで", {"age"}) == [(65, "65歳から70歳まで", "まで", {"max": 70})]


def test_hostile_number_runs_yield_nothing_and_raise_nothing() -> None:
    # a PDF text layer can produce digit runs longer than int() accepts from a string
    from extractors.rules_dates import DateContext, find_dates
    from extractors.rules_quantities import find_ages, find_amounts, find_rates

    for text in ("1" * 16000 + "年", "1" * 16000 + "円", "1" * 16000 + "歳", "1" * 16000 + "%", "1" * 16000 + "か月"):
        lv = LineView.build(text, sudachi=False)
        found = (find_dates(lv, DateContext()) + find_durations(lv) + find_amounts(lv) + find_ages(lv)
                 + find_rates(lv))
        assert found == [], text[-3:]


# ---------------------------------------------------------------- classes of the opened held-out half (issue 11)

# N泊M日: a stay of M days (the nights are part of the span, not a second duration)
@pytest.mark.parametrize(("text", "expected"), [
    ("移住体験ツアー（1泊2日）の参加者を募集", [("P2D", "1泊2日")]),
    ("視察研修は３泊４日の日程です", [("P4D", "３泊４日")]),
    ("合宿（4泊5日間）に参加した", [("P5D", "4泊5日間")]),
    ("二泊三日のお試し居住", [("P3D", "二泊三日")]),
])
def test_nights_and_days_are_one_stay(text: str, expected: list[tuple]) -> None:
    assert facts_of(text, {"duration"}) == expected


@pytest.mark.parametrize("text", ["1泊につき3,000円", "5泊までご利用できます", "宿泊は12日の夜です"])
def test_nights_alone_are_not_a_stay(text: str) -> None:
    assert facts_of(text, {"duration"}) == []


# a term word as the topic of the sentence or a table header before the years: 任期は2年, 契約期間：1年
@pytest.mark.parametrize(("text", "expected"), [
    ("協力隊員の任期は2年です", [("P2Y", "2年")]),
    ("書類の保存期間は7年とします", [("P7Y", "7年")]),
    ("契約期間：1年（更新することがあります）", [("P1Y", "1年")]),
    ("在籍期間 | 4年", [("P4Y", "4年")]),
    ("貸付期間は最長10年", [("P10Y", "10年")]),
])
def test_years_after_a_term_word_and_a_particle(text: str, expected: list[tuple]) -> None:
    assert facts_of(text, {"duration"}) == expected


@pytest.mark.parametrize("text", [
    "任期は令和10年3月31日までです",  # an era date, not a length
    "期間は8年4月1日から",  # an era-less year before a month
    "任期は2028年まで",  # a four-digit year
    "期間は3年生の夏休み",  # a school year
])
def test_term_word_before_a_date_is_not_a_length(text: str) -> None:
    assert facts_of(text, {"duration"}) == []


# a decimal of a unit is a whole number of the next smaller one
@pytest.mark.parametrize(("text", "expected"), [
    ("木工機械の使用は1回3.5時間まで", [("PT3H30M", "3.5時間まで", "まで")]),
    ("所要時間は約1.5時間です", [("PT1H30M", "1.5時間")]),
    ("勤務時間 | 1日7.75時間", [("PT7H45M", "7.75時間")]),
    ("工期は約2.5年を予定", [("P2Y6M", "2.5年")]),
    ("研修（0.5日）に参加", [("PT12H", "0.5日")]),
])
def test_decimal_durations(text: str, expected: list[tuple]) -> None:
    assert facts_of(text, {"duration"}) == expected


@pytest.mark.parametrize("text", [
    "給付は0.3年分",  # 3.6 months: no exact reading
    "北緯44.5度",
    "令和7.11.5日付",  # a dotted date, not 11.5 days
    "集合は8.5時",  # a clock time written oddly, not a length
])
def test_decimals_that_are_not_durations(text: str) -> None:
    assert facts_of(text, {"duration"}) == []


# a "range" whose first number cannot be its low end: a title or a year runs into the age
@pytest.mark.parametrize(("text", "expected"), [
    ("写真展「U25 -2024-25歳以下の方の作品」", [(25, "25歳以下", "以下")]),
    ("第2024-18歳以上の部", [(18, "18歳以上", "以上")]),
    ("65-40歳", [(40, "40歳")]),
])
def test_age_after_an_impossible_low_end(text: str, expected: list[tuple]) -> None:
    assert facts_of(text, {"age"}) == expected


def test_age_ranges_still_read_both_ends() -> None:
    assert facts_of("対象は15-39歳の方", {"age"}) == [(15, "15-39歳", None, {"max": 39})]
    assert facts_of("年齢 | 60～64歳", {"age"}) == [(60, "60～64歳", None, {"max": 64})]
    assert facts_of("満200歳", {"age"}) == []  # no person's age


# ---------------------------------------------------------------- broader phrasings (H12, issue 11)
# Sentences written for the classes municipal pages and 広報 use across topics (tourism, taxes, health,
# recruitment, events, welfare); each positive has its negatives below.

BROAD_DURATIONS = [
    # a length counted from a day named in words, or with a bound word before it
    ("有効期間は交付日から3年", [("P3Y", "3年")]),
    ("有効期限は発行日から１年です", [("P1Y", "１年")]),
    ("貸出は最大30日", [("P30D", "30日")]),
    ("最長で1年", [("P1Y", "1年")]),
    ("最長90日まで延長できます", [("P90D", "90日まで", "まで")]),
    ("通算して5年", [("P5Y", "5年")]),
    ("築20年を超える住宅", [("P20Y", "20年")]),
    ("満1年に達した日", [("P1Y", "1年")]),
    # words after it that make it a length: 超え/満たない/有効/かかる/居住・勤務
    ("3年を超えない範囲で", [("P3Y", "3年")]),
    ("許可証は10年有効", [("P10Y", "10年")]),
    ("審査に7日かかります", [("P7D", "7日")]),
    ("引き続き3年居住している方", [("P3Y", "3年")]),
    ("半日コースと1日コース", [("PT12H", "半日"), ("P1D", "1日")]),
    # 半: N時間半, N年半, 半年, 半日
    ("講習は1時間半です", [("PT1H30M", "1時間半")]),
    ("工期は約2年半", [("P2Y6M", "2年半")]),
    ("申請は半年以内に1回", [("P6M", "半年以内", "以内")]),
    # kanji numerals: 三十分 is read 三 + 十分 by Sudachi
    ("三十分程度の講演", [("PT30M", "三十分")]),
    ("受付は二時間前まで", [("PT2H", "二時間")]),
    ("十日間の展示", [("P10D", "十日間")]),
    # table cells and PDF spacing
    ("期間 | 6か月", [("P6M", "6か月")]),
    ("所要時間 | 約１時間１０分", [("PT1H10M", "１時間１０分")]),
    ("所 要 時 間 40 分", [("PT40M", "40 分")]),
    ("10分以内", [("PT10M", "10分以内", "以内")]),
]

BROAD_NOT_DURATIONS = [
    "バスは30分間隔で運行",  # an interval: a frequency, not a length
    "10分間隔",
    "5分おきに発車",
    "1時間あたり500円",  # rate bases
    "１時間当たり",
    "1日あたり3,000円",
    "30分単位で貸し出します",
    "1時間ごとに巡回",
    "半年ごとに更新",
    "週2回の収集",
    "1日3回",
    "リフト1日券 2,500円",  # a ticket name is a product of the price list (as in the dev gold)
    "4時間券 3,500円",
    "半日券 2,000円",
    "1日乗車券",
    "1週間券",
    "令和2年半ばに",  # 半ば: the middle of a year
    "前半年度",  # 前半/後半
    "受付期間 | 10日~20日",  # days of a month
    "4月1日から3日まで",  # a date range, not a length from a named day
]


@pytest.mark.parametrize(("text", "expected"), BROAD_DURATIONS, ids=[t for t, _ in BROAD_DURATIONS])
def test_broad_durations(text: str, expected: list[tuple]) -> None:
    assert facts_of(text, {"duration"}) == expected


@pytest.mark.parametrize("text", BROAD_NOT_DURATIONS)
def test_broad_not_durations(text: str) -> None:
    assert facts_of(text, {"duration"}) == []


def test_kanji_thirty_minutes_keeps_the_enough_adverb_a_word() -> None:
    # 十分 alone (enough) stays a word; only a numeral glued before it makes 三十 + 分
    assert facts_of("十分に注意してください", {"duration"}) == []
    assert facts_of("約三十分", {"duration"}) == [("PT30M", "三十分")]


def test_half_year_and_half_day_at_rule_level() -> None:
    # a line with no digit at all (半年間の研修) reaches the rules only once facts.py's number filter
    # lets 半年/半日 through; the rule itself reads them
    assert [(c.value, c.start, c.end) for c in find_durations(LineView.build("半年間の研修"))] == [("P6M", 0, 3)]
    assert [c.value for c in find_durations(LineView.build("半日コース"))] == ["PT12H"]
    assert find_durations(LineView.build("前半年度と後半日程")) == []
