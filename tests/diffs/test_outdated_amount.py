"""outdated_amount: national program amounts of an earlier fiscal year, as before/after pairs.

The amounts are the real ones (docs/programs.md): 児童扶養手当 全部支給 42,330円 (FY2016), 43,160円 (FY2020-2021),
46,690円 (FY2025), 48,050円 (FY2026); 特別児童扶養手当 1級/2級 51,500円/34,300円 (FY2016), 56,800円/37,830円
(FY2025; FY2026 not in the catalog); 児童手当 特例給付 5,000円 (until 2024-09).
"""

from __future__ import annotations

from datetime import date

import pytest

from diffs.amounts import amount_status, belongs_to_earlier_year, fiscal_year_label, variant_hint
from diffs.rules import RULES
from diffs.rules.base import Page
from diffs.rules.outdated_amount import outdated_amount
from extractors.facts import extract_facts
from extractors.model import Document
from extractors.programs import match_program

FUYO, TOKUBETSU, JIDO = "jido-fuyo-teate", "tokubetsu-jido-fuyo-teate", "jido-teate"
NOV_2026, MAY_2025 = date(2026, 11, 22), date(2025, 5, 1)  # FY2026, FY2025
SUMMARY = "https://mamamoi.example/225813"


def page_of(*lines: str) -> str:
    """A page's main text: its lines."""
    return "\n".join(lines)


def amount(page: str, line: str, span: str, yen: int, program_id: str | None, *, program: str | None = None,
           qualifier=None, headings=(), **extra) -> dict:
    """An amount fact as the extractor gives it: ``span`` inside ``line`` of ``page`` (offsets into the page)."""
    start = page.index(line) + line.index(span)
    return {"kind": "amount", "value": yen, "text": span, "start": start, "end": start + len(span),
            "qualifier": qualifier, "program": program, "page": None, "heading_path": list(headings),
            "program_id": program_id, **extra}


# --- the 北区 summary of 平成28年8月: 特別児童扶養手当 -------------------------------------------------
def tokubetsu(grade1: int, grade2: int) -> tuple[str, list[dict]]:
    text = page_of("特別児童扶養手当", "支給手当月額", f"重度:{grade1:,}円", f"中度:{grade2:,}円")
    heads = ("東京都北区のひとり親家庭支援内容まとめ", "特別児童扶養手当", "支給手当月額")
    return text, [
        amount(text, f"重度:{grade1:,}円", f"{grade1:,}円", grade1, TOKUBETSU, program="特別児童扶養手当", headings=heads),
        amount(text, f"中度:{grade2:,}円", f"{grade2:,}円", grade2, TOKUBETSU, program="特別児童扶養手当", headings=heads)]


def test_a_summary_with_fy2016_amounts_is_flagged_naming_the_year_and_the_newest_amount():
    text, facts = tokubetsu(51500, 34300)
    [f] = outdated_amount(facts, NOV_2026, source=SUMMARY, text=text)
    assert (f.rule, f.severity, f.program, f.program_id, f.kind) == (
        "outdated_amount", "high", "特別児童扶養手当", TOKUBETSU, "amount")
    assert f.key == f"outdated_amount|{SUMMARY}|{TOKUBETSU}"
    assert [a["description"] for a in f.evidence["amounts"]] == [
        "51,500円 is 特別児童扶養手当 1級 (重度) for FY2016; FY2025: 56,800円",
        "34,300円 is 特別児童扶養手当 2級 (中度) for FY2016; FY2025: 37,830円"]
    first = f.evidence["amounts"][0]
    assert text[first["start"]:first["end"]] == "51,500円" and first["source"] == SUMMARY
    assert first["current_unknown"] is True  # FY2026's 特別児童扶養手当 is not in the catalog: FY2025 is the newest
    assert (f.evidence["fiscal_years"], f.evidence["current_fiscal_year"]) == ([2016], 2026)


def test_the_summary_updated_to_the_newest_amounts_is_not_flagged():
    text, facts = tokubetsu(56800, 37830)
    assert outdated_amount(facts, NOV_2026, source=SUMMARY, text=text) == []
    assert outdated_amount(facts, MAY_2025, source=SUMMARY, text=text) == []  # FY2025: they are the current ones


def test_an_official_page_gets_medium_severity():
    text, facts = tokubetsu(51500, 34300)
    [f] = outdated_amount(facts, NOV_2026, source="https://www.city.kita.tokyo.jp/x.html", text=text,
                          source_kind="official")
    assert f.severity == "medium"


# --- 児童扶養手当 at the fiscal-year boundary -------------------------------------------------------
def fuyo_page(full: int, second: int) -> tuple[str, list[dict]]:
    line1, line2 = f"全部支給:月額{full:,}円", f"第2子加算(全部支給):{second:,}円"
    text = page_of("児童扶養手当", "手当額", line1, line2, "一部支給の額は所得に応じて決まります。")
    return text, [amount(text, line1, f"月額{full:,}円", full, FUYO, program="児童扶養手当", qualifier="月額"),
                  amount(text, line2, f"{second:,}円", second, FUYO, program="児童扶養手当")]


def test_fy2025_amounts_are_current_until_march_31_and_outdated_from_april_1():
    text, facts = fuyo_page(46690, 11030)
    assert outdated_amount(facts, date(2026, 3, 31), text=text) == []
    [f] = outdated_amount(facts, date(2026, 4, 1), text=text)
    assert f.evidence["amounts"][0]["description"] == "46,690円 is 児童扶養手当 全部支給 (児童1人目) for FY2025; FY2026: 48,050円"
    assert f.evidence["amounts"][0]["variant_hint"] == "full" and f.evidence["amounts"][0]["in_current_range"]
    updated_text, updated = fuyo_page(48050, 11350)
    assert outdated_amount(updated, date(2026, 4, 1), text=updated_text) == []


def test_an_old_full_amount_inside_this_years_partial_range_needs_its_context():
    # 42,330円 was FY2016's 全部支給 and is also a valid 一部支給 amount in FY2025 (11,010円–46,680円)
    line = "全部支給:42,330円"
    text = page_of("児童扶養手当", line)
    full = [amount(text, line, "42,330円", 42330, FUYO, program="児童扶養手当")]
    [f] = outdated_amount(full, MAY_2025, text=text)
    assert f.evidence["amounts"][0]["description"].startswith("42,330円 is 児童扶養手当 全部支給 (児童1人目) for FY2016")
    partial_line = "一部支給:42,330円"
    text = page_of("児童扶養手当", partial_line)
    partial = [amount(text, partial_line, "42,330円", 42330, FUYO, program="児童扶養手当")]
    assert outdated_amount(partial, MAY_2025, text=text) == []  # a valid 一部支給 amount this year
    bare_line = "手当の例:42,330円"
    text = page_of("児童扶養手当", bare_line)
    bare = [amount(text, bare_line, "42,330円", 42330, FUYO, program="児童扶養手当")]
    assert outdated_amount(bare, MAY_2025, text=text) == []  # nothing pins it to FY2016


def test_two_amounts_of_the_same_old_year_make_a_table_of_that_year():
    # a Civichat-style row: 43,160円 (全部支給) and 43,150円 (一部支給の上限) of FY2020-FY2021
    line = "対象児童1人 43,160円 43,150円～10,180円"
    text = page_of("児童扶養手当", line)
    facts = [amount(text, line, "43,160円", 43160, FUYO),
             amount(text, line, "43,150円～10,180円", 43150, FUYO, max=10180)]
    [f] = outdated_amount(facts, NOV_2026, text=text)
    assert [a["yen"] for a in f.evidence["amounts"]] == [43160, 43150, 10180]
    assert f.evidence["fiscal_years"] == [2020, 2021]
    alone = [amount(text, line, "43,160円", 43160, FUYO)]
    assert outdated_amount(alone, NOV_2026, text=text) == []  # one in-range amount alone is not conclusive


def test_a_revision_notice_or_history_is_not_flagged():
    notice = "令和7年4月から手当額(全部支給)が45,500円から46,690円に改定されました。"
    text = page_of("児童扶養手当", notice)
    facts = [amount(text, notice, "45,500円から46,690円", 45500, FUYO, max=46690)]
    assert outdated_amount(facts, MAY_2025, text=text) == []  # the new amount stands beside the old one
    history = "改定前の手当額(全部支給):45,500円"
    text = page_of("児童扶養手当", history, "全部支給:46,690円")
    facts = [amount(text, history, "45,500円", 45500, FUYO)]
    assert outdated_amount(facts, MAY_2025, text=text) == []
    # the same amount without the history word is flagged
    plain = "手当額(全部支給):45,500円"
    text = page_of("児童扶養手当", plain)
    assert len(outdated_amount([amount(text, plain, "45,500円", 45500, FUYO)], MAY_2025, text=text)) == 1


def test_an_abolished_benefit_still_stated_is_flagged_no_longer_paid():
    line = "所得制限限度額以上の方(特例給付):月額5,000円"
    text = page_of("児童手当", line)
    facts = [amount(text, line, "月額5,000円", 5000, JIDO, program="児童手当", qualifier="月額")]
    assert outdated_amount(facts, date(2023, 6, 1), text=text) == []  # FY2023: still paid
    [f] = outdated_amount(facts, NOV_2026, text=text)
    assert "特例給付" in f.evidence["amounts"][0]["description"]
    rows = RULES["outdated_amount"].evidence({"url": "u", "evidence": f.evidence}, {}, lambda *a: None)
    assert ("現在の金額", "支給終了(現在は支給されていません)") in [(r["label"], r["text"]) for r in rows]


def test_only_national_catalog_programs_and_amounts_of_some_year_are_checked():
    line = "育成手当:13,500円 ファミリー世帯転居費用助成:上限30万円 特別児童扶養手当:51,000円"
    text = page_of(line)
    facts = [amount(text, line, "13,500円", 13500, "tokyo-jido-ikusei-teate"),  # Tokyo's, not national
             amount(text, line, "上限30万円", 300000, "131172:ファミリー世帯転居費用助成", qualifier="上限"),  # municipal
             amount(text, line, "51,000円", 51000, TOKUBETSU),  # no year's: secondary_contradicts_official's business
             amount(text, line, "51,000円", 51000, None)]  # no program id
    assert outdated_amount(facts, NOV_2026, text=text) == []
    threshold = "所得が34,300円以上の方"
    text = page_of("特別児童扶養手当", threshold)
    assert outdated_amount([amount(text, threshold, "34,300円以上", 34300, TOKUBETSU, qualifier="以上")], NOV_2026,
                           text=text) == []
    assert belongs_to_earlier_year(facts[2], NOV_2026) is False
    assert belongs_to_earlier_year(tokubetsu(51500, 34300)[1][0], NOV_2026) is True
    assert belongs_to_earlier_year(tokubetsu(51500, 34300)[1][0], None) is False


def test_beyond_the_catalog_table_the_last_years_amounts_are_undecided():
    text, facts = fuyo_page(48050, 11350)  # FY2026's amounts, read in FY2027 (the table ends with FY2026)
    assert outdated_amount(facts, date(2027, 6, 1), text=text) == []
    text, old = fuyo_page(46690, 11030)
    [f] = outdated_amount(old, date(2027, 6, 1), text=text)
    assert f.evidence["amounts"][0]["description"].endswith("for FY2025; FY2026: 48,050円")
    assert f.evidence["amounts"][0]["current_unknown"] is True
    assert amount_status(FUYO, 48050, date(2027, 6, 1)).status == "unknown"


def test_dataset_cells_are_checked_without_page_text():
    # a Civichat-style dataset: one record, the amounts in its cells' lines (no offsets)
    cells = [{"kind": "amount", "value": 52500, "qualifier": None, "text": "1級認定 52,500円", "program": "特別児童扶養手当",
              "program_id": TOKUBETSU, "record_id": "shibuya-12", "field": "支給額"},
             {"kind": "amount", "value": 42330, "qualifier": None, "text": "一部支給 42,330円", "program": "児童扶養手当",
              "program_id": FUYO, "record_id": "shibuya-13", "field": "支給額"}]
    page = Page(url="data/civichat-shibuya.json", source_id="civichat-shibuya", source_kind="secondary", facts=cells,
                text="", today=NOV_2026, origin_kind="dataset")
    [f] = RULES["outdated_amount"].check(page)
    assert (f.program_id, f.severity) == (TOKUBETSU, "high")
    assert f.evidence["amounts"][0]["description"] == (
        "52,500円 is 特別児童扶養手当 1級 (重度) for FY2020-FY2021; FY2025: 56,800円")
    full = [{**cells[1], "text": "全部支給 42,330円"}]
    [g] = outdated_amount(full, NOV_2026, source="data/civichat-shibuya.json")
    assert g.program_id == FUYO
    assert RULES["outdated_amount"].check(Page(**{**page.__dict__, "facts": []})) == []


def test_variant_hint_reads_the_nearest_marker_before_the_amount():
    f = {"text": "11,030円", "qualifier": None, "program": "児童扶養手当"}
    assert variant_hint(f, "全額支給(月額)46,690円※第2子以降は") == "full"
    assert variant_hint(f, "全部支給 46,690円 一部支給 ") == "partial"
    assert variant_hint(f, "手当額 ", ["児童扶養手当", "一部支給の額"]) == "partial"
    assert variant_hint(f, "") is None
    assert fiscal_year_label(2016) == "FY2016 (平成28年度)" and fiscal_year_label(2019) == "FY2019 (令和元年度)"


def test_evidence_rows_and_summary_are_for_the_report():
    text, facts = tokubetsu(51500, 34300)
    [f] = outdated_amount(facts, NOV_2026, source=SUMMARY, text=text)
    flag = {"rule": "outdated_amount", "url": SUMMARY, "program": f.program, "evidence": f.evidence}
    snippets = []
    rows = RULES["outdated_amount"].evidence(flag, {SUMMARY: text}, lambda *a: snippets.append(a) or {"before": ""})
    assert [(r["label"], r["text"]) for r in rows[:3]] == [
        ("過年度の金額", "51,500円"),
        ("該当する年度", "51,500円 は 特別児童扶養手当 1級 (重度) の FY2016 (平成28年度) の金額"),
        ("カタログの最新の金額", "FY2025 (令和7年度): 56,800円(FY2026 の金額はカタログ未登録)")]
    assert rows[0]["url"] == SUMMARY and snippets[0][0] == text  # the sentence around the span comes from the page
    assert RULES["outdated_amount"].summary(flag) == (
        f"{SUMMARY} — 51,500円 is 特別児童扶養手当 1級 (重度) for FY2016; FY2025: 56,800円 / "
        "34,300円 is 特別児童扶養手当 2級 (中度) for FY2016; FY2025: 37,830円")


# --- through the real extractor and program matcher --------------------------------------------------
def extracted(lines: list[tuple[str, tuple[str, ...]]], municipality: str, code: str) -> tuple[str, list[dict]]:
    d = Document.from_blocks([(t, {"kind": "para", "program": h[-1] if h else None, "headings": h}) for t, h in lines],
                             "text/html")
    facts = [f.to_json() for f in extract_facts(d)]
    for f in facts:
        m = match_program(f["heading_path"], municipality, d.text[f["start"]:f["end"]], code=code)
        f["program_id"] = m.program_id if m else None
    return d.text, facts


@pytest.mark.slow  # > 0.2 s (Sudachi): kept out of `make test-fast`
def test_a_ward_guide_of_last_year_through_the_extractor():
    heads = ("ひとり親家庭のしおり", "児童扶養手当", "手当額")
    lines = [("手当額(全部支給)は、児童1人目が月額46,690円です。", heads),
             ("2人目以降は1人につき月額11,030円を加算します(一部支給は所得に応じて減額)。", heads),
             ("特別児童扶養手当は1級が月額56,800円、2級が月額37,830円です。", ("ひとり親家庭のしおり", "特別児童扶養手当"))]
    text, facts = extracted(lines, "練馬区", "131202")
    assert {f["program_id"] for f in facts if f["kind"] == "amount"} == {FUYO, TOKUBETSU}
    assert outdated_amount(facts, MAY_2025, text=text, source_kind="official") == []
    [f] = outdated_amount(facts, NOV_2026, text=text, source_kind="official")
    assert (f.program_id, f.severity, [a["yen"] for a in f.evidence["amounts"]]) == (FUYO, "medium", [46690, 11030])


@pytest.mark.slow  # > 0.2 s: reads and extracts a 12-page PDF
def test_the_real_2025_04_newsletter_is_current_in_fy2025_and_outdated_in_fy2026(kouhou_2025_04):
    facts = [f.to_json() for f in extract_facts(kouhou_2025_04)]
    text = kouhou_2025_04.text
    for f in facts:
        line = text[text.rfind("\n", 0, f["start"]) + 1:f["end"]]
        m = match_program(f["heading_path"], "音威子府村", line, code="014729")
        f["program_id"] = m.program_id if m else None
    assert outdated_amount(facts, MAY_2025, text=text, source_kind="official") == []
    found = outdated_amount(facts, NOV_2026, text=text, source_kind="official")
    descriptions = [a["description"] for f in found for a in f.evidence["amounts"]]
    assert "46,690円 is 児童扶養手当 全部支給 (児童1人目) for FY2025; FY2026: 48,050円" in descriptions
