"""Dates, periods and fiscal years on real phrasings (issue 11): month ends, lists and ranges that
write a year/month once, open ends, brackets with a second year, era initials, PDF weekday artifacts.

Sentences are written here in the style of municipal pages and newsletters; each class has
negatives next to it (a rule that fires everywhere must fail them).
"""

from __future__ import annotations

import pytest

from extractors.facts import extract_facts
from extractors.lineview import LineView
from extractors.model import Document
from extractors.rules_dates import DateContext, find_dates

DATE_KINDS = {"date", "period", "fiscal_year"}


def dates_of(*lines: str) -> list[tuple]:
    """(kind, value, text[, qualifier/extra]) of the date facts of a text of ``lines``."""
    doc = Document.from_blocks([(line, {}) for line in lines], "text/plain")
    out = []
    for f in extract_facts(doc):
        assert doc.text[f.start:f.end] == f.text
        if f.kind in DATE_KINDS:
            row: tuple = (f.kind, f.value, f.text)
            if f.qualifier or f.extra:
                row += (f.qualifier,) + ((f.extra,) if f.extra else ())
            out.append(row)
    return out


EOM = {"end_of_month": True}

MONTH_END = [
    ("人口（令和7年3月末現在）", [("date", "2025-03-31", "令和7年3月末現在", "現在", EOM)]),
    ("令和9年3月末までに資格を取得する見込みの方", [("date", "2027-03-31", "令和9年3月末まで", "まで", EOM)]),
    ("令和7年5月末日までに提出してください", [("date", "2025-05-31", "令和7年5月末日まで", "まで", EOM)]),
    ("2024年9月末をもって退職します", [("date", "2024-09-30", "2024年9月末", None, EOM)]),
    ("令和6年2月末", [("date", "2024-02-29", "令和6年2月末", None, EOM)]),  # leap year
    ("令和7年2月末", [("date", "2025-02-28", "令和7年2月末", None, EOM)]),
    ("10月～12月分を11月末までに納付", [("period", {"start": "--10", "end": "--12"}, "10月～12月"),
                                     ("date", "--11-30", "11月末まで", "まで", EOM)]),
    ("毎年3月末日", [("date", "--03-31", "毎年3月末日", None, EOM)]),
    # the last day of a yearless February is not known: month precision, flagged as month end
    ("前納は2月末までに金融機関へ", [("date", "--02", "2月末まで", "まで", EOM)]),
    ("3月、6月、9月、12月の末日", [("date", v, "3月、6月、9月、12月の末日", None, EOM)
                                  for v in ("--03-31", "--06-30", "--09-30", "--12-31")]),
    # 月末 without a month number is relative (当月末 = the current month's end): no date
    ("使用料は当月末に口座から引き落とします", []),
]

YEAR_SHARED = [
    ("令和8年1月と4月に実施します", [("date", "2026-01", "令和8年1月"), ("date", "2026-04", "4月")]),
    ("令和7年6月、7月及び8月", [("date", "2025-06", "令和7年6月"), ("date", "2025-07", "7月"),
                             ("date", "2025-08", "8月")]),
    ("令和7年12月と1月", [("date", "2025-12", "令和7年12月"), ("date", "2026-01", "1月")]),  # lists run forward
    ("令和7年5月18日（日）、19日（月）のいずれか", [("date", "2025-05-18", "令和7年5月18日（日）"),
                                           ("date", "2025-05-19", "19日（月）")]),
    ("7月20日（日）と21日（月・祝）に夏祭り", [("date", "--07-20", "7月20日（日）"),
                                      ("date", "--07-21", "21日（月・祝）")]),
    ("休館日：9月15日（月・祝）、22日（月）、23日（火・祝）",
     [("date", "--09-15", "9月15日（月・祝）"), ("date", "--09-22", "22日（月）"), ("date", "--09-23", "23日（火・祝）")]),
    ("5月、7月、9月の各11日", [("date", f"--{m:02d}-11", "5月、7月、9月の各11日") for m in (5, 7, 9)]),
    ("令和7年5月、7月、9月の各11日", [("date", f"2025-{m:02d}-11", "令和7年5月、7月、9月の各11日") for m in (5, 7, 9)]),
    ("支給月は偶数月（2月・4月・6月・8月・10月・12月）の15日",
     [("date", f"--{m:02d}-15", "（2月・4月・6月・8月・10月・12月）の15日") for m in (2, 4, 6, 8, 10, 12)]),
    ("4月、5月の10日間", [("date", "--04", "4月"), ("date", "--05", "5月")]),  # a number of days
    ("6月と12月の10日", [("date", "--06-10", "6月と12月の10日"), ("date", "--12-10", "6月と12月の10日")]),
    ("ごみの収集は毎月5日・20日", [("date", "---05", "毎月5日"), ("date", "---20", "20日")]),
    # PDF tables: the separator is lost between two cells
    ("試験日 | 6月13日（金）、14日（土）15日（日）", [("date", "--06-13", "6月13日（金）"),
                                             ("date", "--06-14", "14日（土）"), ("date", "--06-15", "15日（日）")]),
    # 同年 / 同月 refer back to the date before, however far before in the line
    ("令和7年4月1日に施行し、同年10月1日から適用", [("date", "2025-04-01", "令和7年4月1日"),
                                          ("date", "2025-10-01", "10月1日から", "から")]),
    ("令和7年4月15日に受付、同月1日に遡って適用", [("date", "2025-04-15", "令和7年4月15日"), ("date", "2025-04-01", "1日")]),
    ("同年10月1日", [("date", "--10-01", "10月1日")]),  # nothing to refer to
    # a recurring date never takes a neighbour's year
    ("令和7年4月1日、毎年8月に更新", [("date", "2025-04-01", "令和7年4月1日"), ("date", "--08", "毎年8月")]),
]

BARE_DAY_NEGATIVES = [
    ("1日、15日に開催", []),  # a bare day without a month is no date
    ("年に20日以内の休暇", []),
    ("週休2日制の職場", []),
    ("8月25日の試験の結果は30日以内に通知", [("date", "--08-25", "8月25日")]),
    ("毎月第3月曜日", []),  # 3月曜日 is not March
    ("賞与: 年間4.5月分（6月・12月の2回）", [("date", "--06", "6月"), ("date", "--12", "12月")]),
]

PERIODS = [
    ("令和7年12月17日（水）から令和7年12月29日（月）まで",
     [("period", {"start": "2025-12-17", "end": "2025-12-29"}, "令和7年12月17日（水）から令和7年12月29日（月）まで")]),
    ("令和7年4月1日から同年9月30日まで",
     [("period", {"start": "2025-04-01", "end": "2025-09-30"}, "令和7年4月1日から同年9月30日まで")]),
    ("6月1日〜30日", [("period", {"start": "--06-01", "end": "--06-30"}, "6月1日〜30日")]),
    ("令和6年7月16日(火)から25日(木)まで",
     [("period", {"start": "2024-07-16", "end": "2024-07-25"}, "令和6年7月16日(火)から25日(木)まで")]),
    ("令和6年12月25日から1月10日まで",
     [("period", {"start": "2024-12-25", "end": "2025-01-10"}, "令和6年12月25日から1月10日まで")]),
    ("6月1~30日", [("period", {"start": "--06-01", "end": "--06-30"}, "6月1~30日")]),
    ("4〜5月頃に開花", [("period", {"start": "--04", "end": "--05"}, "4〜5月")]),
    ("令和7年4~5月", [("period", {"start": "2025-04", "end": "2025-05"}, "令和7年4~5月")]),
    ("第2期（10~3月分）", [("period", {"start": "--10", "end": "--03"}, "10~3月")]),
    ("越冬期（8月〜翌4月）", [("period", {"start": "--08", "end": "--04"}, "8月〜翌4月")]),
    ("令和7年12月1日～翌年2月28日", [("period", {"start": "2025-12-01", "end": "2026-02-28"}, "令和7年12月1日～翌年2月28日")]),
    ("令和6年4月分から9月分まで", [("period", {"start": "2024-04", "end": "2024-09"}, "令和6年4月分から9月分まで")]),
    ("大学を令和3年から令和6年までに卒業", [("period", {"start": "2021", "end": "2024"}, "令和3年から令和6年まで")]),
    ("2026-2027年シーズン", [("period", {"start": "2026", "end": "2027"}, "2026-2027年")]),
    ("平成30年~31年", [("period", {"start": "2018", "end": "2019"}, "平成30年~31年")]),
    # a year after から with a duration word is a length of time, not a period end
    ("令和2年から5年以上経過", [("date", "2020", "令和2年から", "から")]),
    ("1998年から5年間", [("date", "1998", "1998年から", "から")]),
    ("1968年〜69年、1995年〜96年に改修",
     [("period", {"start": "1968", "end": "1969"}, "1968年〜69年"), ("period", {"start": "1995", "end": "1996"}, "1995年〜96年")]),
    ("12月20日（土）〜3月下旬", [("period", {"start": "--12-20", "end": "--03"}, "12月20日（土）〜3月下旬")]),
    ("計画期間: 令和8(2026)年4月1日〜令和13(2031)年3月31日",
     [("period", {"start": "2026-04-01", "end": "2031-03-31"}, "令和8(2026)年4月1日〜令和13(2031)年3月31日")]),
    # two ranges on one line stay two
    ("◇前期 9月1日（月）～12日（金）◇後期 9月16日（火）～30日（火）",
     [("period", {"start": "--09-01", "end": "--09-12"}, "9月1日（月）～12日（金）"),
      ("period", {"start": "--09-16", "end": "--09-30"}, "9月16日（火）～30日（火）")]),
    ("受付は毎月5日から10日まで", [("period", {"start": "---05", "end": "---10"}, "毎月5日から10日まで")]),
    # open ends stay dates with their qualifier
    ("令和7年3月31日から着任", [("date", "2025-03-31", "令和7年3月31日から", "から")]),
    ("7月分以降は改めて申請", [("date", "--07", "7月分以降", "以降")]),
    # a range of days written after a duration is not a period end
    ("6月1日から30日間", [("date", "--06-01", "6月1日から", "から")]),
]

FORMS = [
    ("平成31年(2019年)4月1日に施行", [("date", "2019-04-01", "平成31年(2019年)4月1日")]),
    ("1931年（昭和6年）に開校", [("date", "1931", "1931年（昭和6年）")]),
    ("1981（昭和56）年", [("date", "1981", "1981（昭和56）年")]),
    ("令和6(2024)年度より", [("fiscal_year", 2024, "令和6(2024)年度より", "より")]),
    ("業務委託 | R6.7.1 R7.3.31", [("date", "2024-07-01", "R6.7.1"), ("date", "2025-03-31", "R7.3.31")]),
    ("令和3年5月31日（月(までに", [("date", "2021-05-31", "令和3年5月31日（月(まで", "まで")]),  # PDF: ")" read as "("
    ("11月 9日（火）", [("date", "--11-09", "11月 9日（火）")]),
    ("令和元年度から令和5年度まで", [("fiscal_year", 2019, "令和元年度から", "から"), ("fiscal_year", 2023, "令和5年度まで", "まで")]),
    ("令和0年4月1日", []),
    ("2月30日", []),
    ("ABCR6.7.1", []),
]


@pytest.mark.parametrize(("text", "expected"), MONTH_END, ids=[t for t, _ in MONTH_END])
def test_month_end(text: str, expected: list[tuple]) -> None:
    assert dates_of(text) == expected


@pytest.mark.parametrize(("text", "expected"), YEAR_SHARED, ids=[t for t, _ in YEAR_SHARED])
def test_year_and_month_shared_by_a_list(text: str, expected: list[tuple]) -> None:
    assert dates_of(text) == expected


@pytest.mark.parametrize(("text", "expected"), BARE_DAY_NEGATIVES, ids=[t for t, _ in BARE_DAY_NEGATIVES])
def test_bare_days_need_a_dated_neighbour(text: str, expected: list[tuple]) -> None:
    assert dates_of(text) == expected


@pytest.mark.parametrize(("text", "expected"), PERIODS, ids=[t for t, _ in PERIODS])
def test_periods(text: str, expected: list[tuple]) -> None:
    assert dates_of(text) == expected


@pytest.mark.parametrize(("text", "expected"), FORMS, ids=[t for t, _ in FORMS])
def test_written_forms(text: str, expected: list[tuple]) -> None:
    assert dates_of(text) == expected


def test_every_month_end_is_a_recurring_day() -> None:
    # rule level: a line with no digit at all (毎月末) is only reached once facts.py lets it through
    (c,) = find_dates(LineView.build("口座振替日は毎月末日です"), DateContext())
    assert (c.kind, c.value, c.extra) == ("date", "---31", EOM)


def test_era_less_year_takes_the_era_written_before() -> None:
    rows = dates_of("令和7年度の受付", "7年4月1日から8年3月31日まで")
    assert rows == [("fiscal_year", 2025, "令和7年度"),
                    ("period", {"start": "2025-04-01", "end": "2026-03-31"}, "7年4月1日から8年3月31日まで")]


def test_period_joined_across_a_pdf_line_break_once_the_text_layer_joins_it() -> None:
    # H3's text layer joins the two halves; the rule must then see one period (spaces allowed)
    assert dates_of("受付期間 令和7年4月1日（火） から 令和7年4月30日（水） まで") == [
        ("period", {"start": "2025-04-01", "end": "2025-04-30"}, "令和7年4月1日（火） から 令和7年4月30日（水） まで")]


def _lines(*lines: tuple[str, bool]) -> list[list[tuple]]:
    """find_dates over lines reported as facts.py would (``next_line(heading)`` before each)."""
    ctx, out = DateContext(), []
    for text, heading in lines:
        ctx.next_line(heading)
        out.append([(c.kind, c.value) for c in find_dates(LineView.build(text), ctx)])
    return out


def test_heading_gives_its_season_to_the_period_right_below() -> None:
    assert _lines(("2026-2027年シーズン営業予定", True), ("12月20日（土）〜3月下旬", False)) == [
        [("period", {"start": "2026", "end": "2027"})],
        [("period", {"start": "2026-12-20", "end": "2027-03"})]]
    # a fiscal year runs April-March
    assert _lines(("令和7年度 開館期間", True), ("1月5日〜3月31日", False))[1] == [
        ("period", {"start": "2026-01-05", "end": "2026-03-31"})]


@pytest.mark.parametrize("lines", [
    (("2025年の予定", False), ("12月1日〜3月31日", False)),  # not a heading
    (("2025年", True), ("4月1日〜3月31日", False)),  # runs past the one year named
    (("令和7年度", True), ("毎年4月1日〜3月31日", False)),  # recurring
    (("令和7年度", True), ("受付", False), ("4月1日〜4月30日", False)),  # not right below
], ids=["not-heading", "past-the-year", "recurring", "not-adjacent"])
def test_heading_year_stays_out_elsewhere(lines: tuple[tuple[str, bool], ...]) -> None:
    assert all(not isinstance(v, dict) or v["start"].startswith("--")
               for row in _lines(*lines)[1:] for _, v in row)


def test_heading_year_is_off_unless_lines_are_reported() -> None:
    ctx = DateContext()
    find_dates(LineView.build("2025-2026年シーズン"), ctx)
    (c,) = find_dates(LineView.build("12月19日〜3月下旬"), ctx)
    assert c.value == {"start": "--12-19", "end": "--03"}


def test_a_hostile_month_list_is_read_in_bounded_pieces() -> None:
    # 4,000 months and one shared day: the list pattern is bounded (12 months at most), so the
    # line is read in linear time; only the last months share the day
    line = "5月、" * 4000 + "7月の11日"
    cands = find_dates(LineView.build(line, sudachi=False), DateContext())
    assert len(cands) == 4001
    assert [c.value for c in cands[-13:]] == ["--05-11"] * 12 + ["--07-11"]
    assert {c.value for c in cands[:-13]} == {"--05"}
