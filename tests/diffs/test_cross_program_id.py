"""Cross-source rules compare programs by program id (before/after pairs: without ids, the names decide).

An official page and a summary of one municipality name one program differently (母子及び父子福祉資金 vs
母子父子寡婦福祉資金貸付金, ひとり親家庭等医療費助成 vs マル親): equal program ids match them. Different programs
with similar names (児童扶養手当 vs 特別児童扶養手当) are never matched once both sides have ids.
"""

from __future__ import annotations

from datetime import date

from diffs.facts import diff_facts
from diffs.match import programs_match, same_program, same_slot
from diffs.rules import RULES
from diffs.rules.base import Cross
from diffs.rules.secondary_contradicts_official import secondary_contradicts_official
from diffs.rules.secondary_outdated import secondary_outdated

FUKUSHI_SHIKIN, MARU_OYA = "boshi-fushi-kafu-fukushi-shikin", "tokyo-hitorioya-iryohi-josei"
FUYO, TOKUBETSU = "jido-fuyo-teate", "tokubetsu-jido-fuyo-teate"
OYAMOTO = "131172:親元近居助成"
OFFICIAL, SUMMARY = "https://www.city.kita.tokyo.jp/seikatsufukushi/hitorioya.html", "https://mamamoi.example/225813"


def fact(kind, value, text, program, program_id=None, qualifier=None, start=0):
    return {"kind": kind, "value": value, "text": text, "start": start, "end": start + len(text),
            "qualifier": qualifier, "program": program, "program_id": program_id, "page": None}


def without_ids(facts):
    return [{**f, "program_id": None} for f in facts]


def test_same_program_named_differently_is_matched_by_equal_program_id():
    official = [fact("phone", "+81339081234", "03-3908-1234", "母子及び父子福祉資金", FUKUSHI_SHIKIN)]
    secondary = [fact("phone", "+81339089999", "03-3908-9999", "母子父子寡婦福祉資金貸付金", FUKUSHI_SHIKIN)]
    assert not programs_match("母子及び父子福祉資金", "母子父子寡婦福祉資金貸付金")  # the names alone do not match
    assert secondary_contradicts_official(without_ids(official), without_ids(secondary)) == []
    [f] = secondary_contradicts_official(official, secondary, official_source=OFFICIAL, secondary_source=SUMMARY)
    assert (f.rule, f.kind, f.program, f.program_id) == (
        "secondary_contradicts_official", "phone", "母子及び父子福祉資金", FUKUSHI_SHIKIN)
    assert f.evidence["secondary"]["program_id"] == FUKUSHI_SHIKIN


def test_a_changed_official_value_still_in_a_summary_under_another_name():
    before = [fact("phone", "+81339089111", "03-3908-9111", "ひとり親家庭等医療費助成", MARU_OYA, start=40)]
    after = [fact("phone", "+81339089200", "03-3908-9200", "ひとり親家庭等医療費助成", MARU_OYA, start=40)]
    [change] = diff_facts(before, after)
    assert change.program_id == MARU_OYA
    secondary = [fact("phone", "+81339089111", "03-3908-9111", "マル親", MARU_OYA, start=300)]
    assert not programs_match("ひとり親家庭等医療費助成", "マル親")
    assert secondary_outdated(change, without_ids(secondary)) == []
    [f] = secondary_outdated(change, secondary, official_source=OFFICIAL, secondary_source=SUMMARY)
    assert (f.rule, f.severity, f.program_id) == ("secondary_outdated", "high", MARU_OYA)
    assert f.evidence["official_change"]["program_id"] == MARU_OYA


def test_different_programs_with_similar_names_are_not_matched():
    # 特別児童扶養手当 contains 児童扶養手当: the fuzzy name match pairs them, the ids do not
    official = [fact("phone", "+81339089111", "03-3908-9111", "児童扶養手当", FUYO)]
    secondary = [fact("phone", "+81339089096", "03-3908-9096", "特別児童扶養手当", TOKUBETSU)]
    assert programs_match("児童扶養手当", "特別児童扶養手当")
    assert len(secondary_contradicts_official(without_ids(official), without_ids(secondary))) == 1  # before: wrong
    assert secondary_contradicts_official(official, secondary) == []
    before = [fact("phone", "+81339089096", "03-3908-9096", "児童扶養手当", FUYO)]
    [change] = diff_facts(before, official)
    assert len(secondary_outdated(change.to_json(), without_ids(secondary))) == 1  # before: wrong
    assert secondary_outdated(change.to_json(), secondary) == []


def test_a_side_without_program_id_falls_back_to_the_name():
    official = fact("amount", 200000, "20万円を上限", "北区親元近居助成事業", OYAMOTO, "上限")
    assert same_program(official, fact("amount", 200000, "上限20万円", "親元近居助成", None, "上限"))
    assert not same_program(official, fact("amount", 300000, "上限30万円", "ファミリー世帯転居費用助成", None, "上限"))
    assert not same_program(official, fact("amount", 200000, "上限20万円", "親元近居助成", "131172:転居費用助成"))
    # slots still need the kind and a compatible qualifier
    assert same_slot(official, fact("amount", 1, "1円", "親元近居助成", OYAMOTO, "上限"))
    assert not same_slot(official, fact("amount", 1, "1円", "親元近居助成", OYAMOTO, "下限"))
    assert not same_slot(official, fact("phone", "+81339089201", "03-3908-9201", "親元近居助成", OYAMOTO))
    # two facts under no program heading at all share a slot, as before program ids
    assert same_program(fact("phone", "+81339081111", "03-3908-1111", None), fact("phone", "+1", "x", None))


def test_an_earlier_year_national_amount_is_outdated_amount_not_a_contradiction():
    official = [fact("amount", 56800, "1級:月額56,800円", "特別児童扶養手当", TOKUBETSU, "月額"),
                fact("amount", 37830, "2級:月額37,830円", "特別児童扶養手当", TOKUBETSU, "月額")]
    secondary = [fact("amount", 51500, "51,500円", "特別児童扶養手当", TOKUBETSU),  # FY2016's 1級
                 fact("amount", 51000, "51,000円", "特別児童扶養手当", TOKUBETSU)]  # no year's amount at all
    today = date(2026, 11, 22)
    before = secondary_contradicts_official(official, secondary)  # without the day: both are contradictions
    assert sorted(f.evidence["secondary"]["value"] for f in before) == [51000, 51500]
    [f] = secondary_contradicts_official(official, secondary, today=today)
    assert f.evidence["secondary"]["value"] == 51000
    pair = Cross(official_url=OFFICIAL, official_facts=official, official_changes=[], secondary_source_id="mamamoi",
                 secondary_origin=SUMMARY, secondary_facts=secondary, today=today)
    [g] = RULES["secondary_contradicts_official"].check(pair)
    assert (g.evidence["secondary"]["value"], g.program_id) == (51000, TOKUBETSU)
