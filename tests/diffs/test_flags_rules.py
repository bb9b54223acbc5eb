"""diffs.rules: the rule registry, and each rule function with a flagged and a not-flagged example."""

from __future__ import annotations

from datetime import date

from diffs.facts import diff_facts
from diffs.match import program_key, programs_match
from diffs.references import reference_of
from diffs.rules import RULES, in_scope
from diffs.rules.base import FlagFinding
from diffs.rules.deadline_passed import deadline_passed
from diffs.rules.missed_annual_update import missed_annual_update
from diffs.rules.secondary_contradicts_official import secondary_contradicts_official
from diffs.rules.secondary_outdated import secondary_outdated
from diffs.rules.stale_reference import stale_reference
from extractors.facts import extract_facts
from extractors.model import Document


def fact(kind, value, text, start=0, qualifier=None, program=None, **extra):
    return {"kind": kind, "value": value, "text": text, "start": start, "end": start + len(text),
            "qualifier": qualifier, "program": program, "page": None, **extra}


# --- stale_reference ---------------------------------------------------------------------------
def test_stale_heisei_summary_read_in_2026_is_flagged():
    facts = [fact("as_of", "2016-08", "平成28年8月時点", 10), fact("amount", 200000, "20万円", 50)]
    [f] = stale_reference(facts, date(2026, 5, 1), source="https://press.example/225813")
    assert isinstance(f, FlagFinding)
    assert (f.rule, f.kind, f.severity) == ("stale_reference", "as_of", "high")
    assert f.evidence["newest_fiscal_year"] == 2016 and f.evidence["text"] == "平成28年8月時点"
    assert f.key == "stale_reference|https://press.example/225813"


def test_recent_fiscal_year_is_not_flagged():
    facts = [fact("fiscal_year", 2025, "令和7年度", 5), fact("as_of", "2016-08", "平成28年8月時点", 30)]
    assert stale_reference(facts, date(2026, 11, 1)) == []


def test_stale_boundary_and_configurable_age():
    facts = [fact("fiscal_year", "令和6年度", "令和6年度", 0)]  # FY2024
    assert stale_reference(facts, date(2026, 3, 31)) == []  # still FY2025: 1 year old
    assert len(stale_reference(facts, date(2026, 4, 1))) == 1  # FY2026: 2 years old
    assert stale_reference(facts, date(2026, 4, 1), max_fiscal_years=3) == []


def test_stale_uses_update_date_in_text_and_needs_some_date():
    assert stale_reference([], date(2026, 5, 1)) == []
    text = "児童扶養手当\n更新日：2019年4月1日\n本文"
    [f] = stale_reference([], date(2026, 5, 1), text=text)
    assert f.evidence["what"] == "update_date" and f.evidence["newest_fiscal_year"] == 2019


def test_reference_of_ignores_amounts_and_deadlines():
    assert reference_of(fact("amount", 46690, "46,690円")) is None
    assert reference_of(fact("date", "2025-05-30", "2025年5月30日", qualifier="申請期限")) is None
    assert reference_of(fact("date", "2025-04-01", "2025年4月1日現在")).what == "as_of"
    assert reference_of(fact("fiscal_year", None, "平成28年度")).fiscal_year == 2016


# --- missed_annual_update --------------------------------------------------------------------
P = "児童育成手当"


def page(amount_value, fy_text):
    return [fact("fiscal_year", None, fy_text, 0, program=P),
            fact("amount", amount_value, f"月額{amount_value:,}円", 20, "月額", P)]


def test_unchanged_amounts_with_old_fiscal_year_are_flagged():
    prev = page(13500, "令和6年度")
    now = page(13500, "令和6年度")  # the page was not updated for FY2025
    [f] = missed_annual_update(now, prev, date(2025, 4, 10), source="kita/ikusei")
    assert (f.rule, f.program, f.kind) == ("missed_annual_update", P, "amount")
    assert f.evidence["current_fiscal_year"] == 2025 and f.evidence["stated_fiscal_year"] == 2024
    assert f.key == "missed_annual_update|kita/ikusei|児童育成手当|FY2025"


def test_updated_amounts_or_current_fiscal_year_are_not_flagged():
    prev = page(13500, "令和6年度")
    assert missed_annual_update(page(14500, "令和6年度"), prev, date(2025, 4, 10)) == []
    assert missed_annual_update(page(13500, "令和7年度"), prev, date(2025, 4, 10)) == []
    # before April 1 + grace, nothing is expected yet
    assert missed_annual_update(page(13500, "令和6年度"), prev, date(2025, 4, 10), grace_days=30) == []
    # no fiscal year stated: nothing says the amounts are annual
    no_fy = [f for f in page(13500, "令和6年度") if f["kind"] == "amount"]
    assert missed_annual_update(no_fy, no_fy, date(2025, 6, 1)) == []


# --- deadline_passed ---------------------------------------------------------------------------
DEADLINE_TEXT = "親元近居助成\n現在、申請受付中です。\n申込期間\n令和7年4月1日から令和7年11月28日まで\n"


def deadline_fact(text=DEADLINE_TEXT):
    span = "令和7年4月1日から令和7年11月28日まで"
    start = text.index(span)
    return fact("period", {"start": "2025-04-01", "end": "2025-11-28"}, span, start, program="親元近居助成")


def test_deadline_passed_while_page_says_open():
    [f] = deadline_passed([deadline_fact()], DEADLINE_TEXT, date(2025, 12, 5), source="kita/oyamoto")
    assert f.rule == "deadline_passed" and f.evidence["end"] == "2025-11-28"
    assert f.evidence["status_text"] == "申請受付中"
    assert f.key == "deadline_passed|kita/oyamoto|親元近居助成|2025-11-28"


def test_deadline_not_passed_or_page_closed():
    assert deadline_passed([deadline_fact()], DEADLINE_TEXT, date(2025, 11, 28)) == []
    closed = DEADLINE_TEXT.replace("申請受付中です", "受付は終了しました")
    assert deadline_passed([deadline_fact(closed)], closed, date(2025, 12, 5)) == []
    stopped = DEADLINE_TEXT.replace("申請受付中です", "受付中止となりました")
    assert deadline_passed([deadline_fact(stopped)], stopped, date(2025, 12, 5)) == []


def test_deadline_from_text_and_yearless_period():
    text = "受付中\n申請期限：2025年4月1日から6月30日まで"
    span = "2025年4月1日から6月30日まで"
    f = fact("date", "2025-04-01", span, text.index(span))
    [finding] = deadline_passed([f], text, date(2025, 7, 1))
    assert finding.evidence["end"] == "2025-06-30"
    yearless = "受付中\n申込期間 4月～11月"
    g = fact("period", {"start": None, "end": None}, "4月～11月", yearless.index("4月"))
    assert deadline_passed([g], yearless, date(2025, 12, 1)) == []


def test_date_far_from_deadline_label_is_ignored():
    text = "受付中\n昭和56年6月1日施行の新耐震基準を満たす住宅"
    f = fact("date", "1981-06-01", "昭和56年6月1日", text.index("昭和"))
    assert deadline_passed([f], text, date(2025, 12, 1)) == []


# --- secondary vs official -----------------------------------------------------------------
def test_program_names_match_across_sites():
    assert programs_match("北区親元近居助成事業", "親元近居助成")
    assert programs_match("練馬区ひとり親家庭自立支援教育訓練給付金", "自立支援教育訓練給付金")
    assert not programs_match("児童育成手当", "児童扶養手当")
    assert not programs_match(None, "児童扶養手当")
    assert program_key(" 北区 ひとり親家庭 ホームヘルプ 事業 ") == "ホームヘルプ"


def test_secondary_outdated_after_official_change():
    before = [fact("amount", 200000, "20万円", 10, "上限", "北区親元近居助成事業")]
    after = [fact("amount", 300000, "30万円", 10, "上限", "北区親元近居助成事業")]
    [change] = diff_facts(before, after)
    secondary = [fact("amount", 200000, "20万円", 99, "上限", "親元近居助成")]
    [f] = secondary_outdated(change, secondary, official_source="kita/official", secondary_source="mamamoi")
    assert (f.rule, f.severity, f.program) == ("secondary_outdated", "high", "北区親元近居助成事業")
    assert f.evidence["official_change"]["after"] == 300000
    assert f.evidence["secondary"]["text"] == "20万円" and f.evidence["secondary"]["source"] == "mamamoi"
    # a secondary that already states the new value, or a different program, is fine
    assert secondary_outdated(change, [fact("amount", 300000, "30万円", 0, "上限", "親元近居助成")]) == []
    assert secondary_outdated(change.to_json(), [fact("amount", 200000, "20万円", 0, "上限", "転居費用助成")]) == []


def test_secondary_contradicts_official():
    official = [fact("amount", 13500, "13,500円", 5, "月額", "児童育成手当"),
                fact("phone", "03-3908-9111", "03-3908-9111", 40, None, "児童育成手当"),
                fact("fiscal_year", 2025, "令和7年度", 0, None, "児童育成手当")]
    secondary = [fact("amount", 13500, "１３，５００円", 5, "月額", "北区 児童育成手当"),
                 fact("phone", "03-3908-1234", "03-3908-1234", 30, None, "児童育成手当について"),
                 fact("fiscal_year", 2016, "平成28年度", 0, None, "児童育成手当"),
                 fact("amount", 5000, "5,000円", 60, "月額", "入学祝金")]
    [f] = secondary_contradicts_official(official, secondary, official_source="o", secondary_source="s")
    assert (f.rule, f.kind, f.program) == ("secondary_contradicts_official", "phone", "児童育成手当")
    assert f.evidence["official"][0]["value"] == "03-3908-9111"
    assert f.evidence["secondary"]["value"] == "03-3908-1234"
    again = secondary_contradicts_official(official, secondary, official_source="o", secondary_source="s")
    assert [x.key for x in again] == [f.key]


def test_phone_formatting_is_not_a_contradiction():
    official = [fact("phone", "03-3908-9111", "03-3908-9111", 0, None, "P")]
    secondary = [fact("phone", "03(3908)9111", "03(3908)9111", 0, None, "P"),
                 fact("phone", "+81339089111", "03-3908-9111", 20, None, "P")]  # E.164, as extract_facts gives
    assert secondary_contradicts_official(official, secondary) == []


def test_stale_reference_with_the_real_fact_extractor():
    lines = ["北区ひとり親家庭支援まとめ", "平成28年8月時点の情報です。", "一住宅20万円を上限として助成します。"]
    doc = Document.from_blocks([(t, {"kind": "para", "program": "親元近居助成"}) for t in lines], "text/html")
    facts = [f.to_json() for f in extract_facts(doc)]
    [f] = stale_reference(facts, date(2026, 5, 1), text=doc.text, source="mamamoi/225813")
    assert f.evidence["newest_fiscal_year"] == 2016 and "平成28年8月" in f.evidence["text"]
    fresh = doc.text.replace("平成28年8月時点", "令和7年度")
    fresh_doc = Document.from_blocks([(t, {"kind": "para"}) for t in fresh.split("\n")], "text/html")
    fresh_facts = [f.to_json() for f in extract_facts(fresh_doc)]
    assert stale_reference(fresh_facts, date(2026, 11, 1), text=fresh_doc.text) == []


def test_unqualified_secondary_amount_fills_a_monthly_slot_but_not_a_cap():

    official = [{"kind": "amount", "value": 56800, "qualifier": "月額", "program": "特別児童扶養手当", "text": "月額56,800円"}]
    secondary = [{"kind": "amount", "value": 51500, "qualifier": None, "program": "特別児童扶養手当", "text": "51,500円"}]
    (finding,) = secondary_contradicts_official(official, secondary, official_source="o", secondary_source="s")
    assert finding.evidence["secondary"]["value"] == 51500
    capped = [{**official[0], "qualifier": "上限"}]
    assert secondary_contradicts_official(capped, secondary, official_source="o", secondary_source="s") == []


# --- the registry -------------------------------------------------------------------------------
def test_every_rule_is_registered_once_with_label_scope_and_renderers():
    assert list(RULES) == ["fact_changed", "secondary_outdated", "secondary_contradicts_official", "outdated_amount",
                           "stale_reference", "missed_annual_update", "deadline_passed", "broken_link", "page_gone",
                           "source_failing"]
    assert {r.name for r in in_scope("source")} == {"source_failing"}
    assert {r.name for r in in_scope("page")} == {"fact_changed", "outdated_amount", "stale_reference",
                                                  "missed_annual_update", "deadline_passed"}
    assert RULES["outdated_amount"].label == "過年度の金額"
    assert {r.name for r in in_scope("cross")} == {"secondary_outdated", "secondary_contradicts_official"}
    assert {r.name for r in in_scope("fetch")} == {"broken_link", "page_gone"}
    assert RULES["secondary_outdated"].label == "二次情報が古いまま"


def test_rule_checks_take_their_scope_subject():
    from diffs.rules.base import Fetch, Page

    gone = Fetch(url="http://x/p.html", status=404, referer="http://x/", source_id="s", seen_at="2026-11-22",
                 had_content=True, response_class=None)
    assert [f.rule for r in in_scope("fetch") for f in r.check(gone)] == ["broken_link", "page_gone"]
    page = Page(url="http://x/a.html", source_id="s", source_kind="secondary", facts=[], text="本文", today=date(2026, 5, 1),
                latest_changes=[{"program": "p", "kind": "amount", "qualifier": None, "before": 1, "after": 2,
                                 "before_text": "1円", "after_text": "2円"}])
    assert RULES["fact_changed"].check(page) == []  # only official pages' changes are flagged
    official = Page(**{**page.__dict__, "source_kind": "official"})
    [f] = RULES["fact_changed"].check(official)
    assert (f.severity, f.key) == ("high", "fact_changed|http://x/a.html|p|amount|None|1|2")
    rows = RULES["fact_changed"].evidence({"rule": "fact_changed", "url": official.url, "evidence": f.evidence}, {},
                                          lambda *a: None)
    assert [(r["label"], r["text"]) for r in rows] == [("変更前", "1円"), ("変更後", "2円")]
