"""Classes of errors found when the held-out halves of the first two rounds were opened and on the fourth
round's dev split (issue 11): each case is a phrasing class, written here in sentences of our own."""

from __future__ import annotations

import pytest

from extractors.facts import extract_facts
from extractors.model import Document
from extractors.normalize import normalize


def facts(*lines: str, kind: str) -> list[tuple]:
    doc = Document.from_blocks([(line, {}) for line in lines], "text/plain")
    return [(f.value, f.text) + ((f.extra,) if f.extra else ()) for f in extract_facts(doc) if f.kind == kind]


@pytest.mark.parametrize(("lines", "expected"), [
    (("無事故記録 2,140 日",), [("P2140D", "2,140 日")]),  # no month has a 32nd day: a length
    (("年間120日の休日",), []),  # days per year: a frequency base, no length
    (("3期12年にわたり議員を務めた",), [("P12Y", "12年")]),
    (("沸騰後60秒以上加熱する",), [("PT60S", "60秒以上")]),
    (("午前9時30分15秒に発生",), []),  # a time of day
    (("病名 | 潜伏期間", "はしか | 10～12日 | 発熱"), [("P10D", "10～12日", {"max": "P12D"})]),
    (("試験日 | 5月10日（土）", "会場 | 札幌会場（11～13日（"), []),  # days of the month above
    (("週２～３日の勤務",), []),  # days per week
    (("退院後3日（乳児は5日）を経過するまで",), [("P3D", "3日"), ("P5D", "5日")]),
    (("給付基礎日額の200日分を支給",), [("P200D", "200日分")]),
    (("加入期間が24月以上あること",), [("P24M", "24月以上")]),
    (("震災から5年が過ぎました",), [("P5Y", "5年")]),  # the time since an event
])
def test_durations(lines: tuple[str, ...], expected: list[tuple]) -> None:
    assert facts(*lines, kind="duration") == expected


def test_a_count_of_months_with_a_bound_is_no_date() -> None:
    assert facts("加入期間が24月以上あること", kind="date") == []
    assert facts("3月以降に申請", kind="date") == [("--03", "3月以降")]


@pytest.mark.parametrize(("line", "expected"), [
    ("月額12,3万円を支給", [(123000, "月額12,3万円")]),  # a decimal comma: thousands take three digits
    ("平均して月額25 万円程度", [(250000, "月額25 万円")]),  # a space before the multiplier
    ("月額30,000円〜9,000円", [(9000, "月額30,000円〜9,000円", {"max": 30000})]),  # written from the top
    ("1,234万円", [(12340000, "1,234万円")]),
])
def test_amounts(line: str, expected: list[tuple]) -> None:
    assert facts(line, kind="amount") == expected


@pytest.mark.parametrize(("line", "expected"), [
    ("年齢：7,8歳", [(7, "7,8歳", {"max": 8})]),
    ("年齢：1.5歳くらい", []),  # no whole number of years
    ("子が1歳6か月に達するまで", []),
])
def test_ages(line: str, expected: list[tuple]) -> None:
    assert facts(line, kind="age") == expected


def test_an_age_with_months_is_no_duration_either_way_it_is_read() -> None:
    assert facts("子が1歳6か月に達するまで", kind="duration") in ([], [("P6M", "6か月")])


@pytest.mark.parametrize(("line", "expected"), [
    ("届出先は消防署・支署または長野町村会事務局です", [("長野町村会事務局", "長野町村会事務局")]),
    ("本町税務課へ提出してください", [("税務課", "税務課")]),
    ("お住まいの市区町村の保育課にご相談ください", []),
    ("全国の精神保健福祉センターで受け付けます", []),
    ("札幌JrSKI大会事務局", [("札幌JrSKI大会事務局", "札幌JrSKI大会事務局")]),
])
def test_departments(line: str, expected: list[tuple]) -> None:
    assert facts(line, kind="department") == expected


def test_a_dash_typed_for_the_long_vowel_mark() -> None:
    assert normalize("動物愛護センタ－").text == "動物愛護センター"
    assert normalize("センタ-3").text == "センタ-3" and normalize("エリア-A").text == "エリア-A"


@pytest.mark.parametrize(("line", "expected"), [
    ("受付時間：午前9時から午後4時（平日のみ）", [("Mo-Fr 09:00-16:00", "午前9時から午後4時（平日")]),
    ("火曜日 | 定休日 | 祝日の場合は10:00〜15:00の営業", [("PH 10:00-15:00", "祝日の場合は10:00〜15:00")]),
])
def test_office_hours(line: str, expected: list[tuple]) -> None:
    assert facts(line, kind="office_hours") == expected


# ---------------------------------------------------------------- fifth round (municipal program records, dev5)

def test_a_fiscal_year_written_twice_is_one_fact() -> None:
    assert facts("令和2年度（2020年度）に申請", kind="fiscal_year") == [(2020, "令和2年度（2020年度）")]


@pytest.mark.parametrize(("line", "expected"), [
    ("対象経費の1/3を補助します", [(0.3333, "1/3")]),
    ("所得が一定（1/4)以上減少した方", [(0.25, "1/4")]),
    ("基準額×(3/4)", [(0.75, "3/4")]),
    ("1/3～全額を免除", [(0.3333, "1/3")]),
    ("受付は1/5から", []),  # January 5, not a share
])
def test_slash_fractions_that_are_shares(line: str, expected: list[tuple]) -> None:
    assert facts(line, kind="rate") == expected


@pytest.mark.parametrize(("line", "expected"), [
    ("3か月分の保険料", [("P3M", "3か月分")]),
    ("貸付期間は5年を上限とする", [("P5Y", "5年を上限")]),
])
def test_duration_portions_and_bounds(line: str, expected: list[tuple]) -> None:
    assert facts(line, kind="duration") == expected


def test_a_unit_before_its_post_is_the_department() -> None:
    assert facts("子育て支援課母子相談主査（電話：03-1111-2222）", kind="department") == [("子育て支援課", "子育て支援課")]
    assert facts("中井経済課長", kind="department") == []  # a person's title


def test_an_office_on_a_line_of_its_own_is_a_department() -> None:
    assert facts("住宅の修理を支援します", "住宅再建室", "熊本市", kind="department") == [("住宅再建室", "住宅再建室")]
    assert facts("会場", "第二会議室", kind="department") == []


def test_a_nickname_in_brackets_is_not_a_second_unit() -> None:
    assert facts("問合せは北海道立動物愛護センター（あいにきた道央センター）電話 011-398-9011", kind="department") == [
        ("北海道立動物愛護センター", "北海道立動物愛護センター")]
    assert facts("住民課（戸籍係）へ", kind="department") == [("住民課", "住民課"), ("戸籍係", "戸籍係")]


def test_the_years_since_an_event() -> None:
    assert facts("開校から50年を迎えました", kind="duration") == [("P50Y", "50年")]


# ---------------------------------------------------------------- sixth round (nursery records, dev6)

@pytest.mark.parametrize(("lines", "kind", "expected"), [
    (("暗証番号は2年更新",), "duration", []),  # a renewal interval, not a length
    (("原則０、１歳児のみ",), "age", [(0, "０、１歳", {"max": 1})]),
    (("見学は7月頃～9月頃",), "period", [({"start": "--07", "end": "--09"}, "7月頃～9月")]),
    (("園が指定する日の10時～11時",), "office_hours", [("10:00-11:00", "10時～11時")]),  # 日 of a phrase, not Sunday
    (("13時から14時の午睡時間以外",), "office_hours", []),  # when it is not possible
    (("申込先 | 山田保育室",), "department", []),  # a small nursery, a facility
])
def test_nursery_record_classes(lines: tuple[str, ...], kind: str, expected: list[tuple]) -> None:
    assert facts(*lines, kind=kind) == expected


@pytest.mark.parametrize(("line", "expected"), [
    ("2泊3日8,000円から", []),  # the stay a price is charged for
    ("1時間 500円", []),
    ("希望日の前月1日から10日前までに申請", [("P10D", "10日")]),  # 前月1日 is a day of a month
    ("1回3時間から5時間まで", [("PT3H", "3時間から5時間まで", {"max": "PT5H"})]),  # one range, unit written twice
    ("90日から30日前まで", [("P90D", "90日"), ("P30D", "30日")]),  # descending: two lengths
])
def test_price_bases_days_of_a_month_and_ranges(line: str, expected: list[tuple]) -> None:
    assert facts(line, kind="duration") == expected
