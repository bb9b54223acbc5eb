"""diffs.facts.diff_facts: fact-level changes between two versions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diffs.facts import FactChange, diff_facts
from extractors.facts import extract_facts
from extractors.model import Document, Fact

PROG = "ひとり親家庭自立支援教育訓練給付金"


def amount(value: int, start: int, qualifier: str | None = "上限", program: str = PROG, **extra) -> Fact:
    text = f"{qualifier or ''}{value:,}円"
    return Fact("amount", value, text, start, start + len(text), qualifier, program, None, extra)


def phone(value: str, start: int, program: str = PROG) -> Fact:
    return Fact("phone", value, value, start, start + len(value), None, program)


def test_amount_change_is_one_changed():
    before = [amount(40000, 100), phone("03-5984-1319", 300)]
    after = [amount(50000, 100), phone("03-5984-1319", 300)]
    changes = diff_facts(before, after)
    assert len(changes) == 1
    c = changes[0]
    assert (c.change, c.kind, c.qualifier, c.program) == ("changed", "amount", "上限", PROG)
    assert (c.before, c.after) == (40000, 50000)
    assert (c.before_text, c.after_text) == ("上限40,000円", "上限50,000円")
    assert (c.before_start, c.before_end, c.after_start, c.after_end) == (100, 109, 100, 109)


def test_phone_change():
    before = [amount(40000, 10), phone("03-5984-1319", 50)]
    after = [amount(40000, 10), phone("03-5984-2222", 50)]
    [c] = diff_facts(before, after)
    assert (c.change, c.kind, c.before, c.after) == ("changed", "phone", "03-5984-1319", "03-5984-2222")


def test_inserted_fact_is_one_added_and_nothing_else():
    before = [amount(10000, 10, "月額"), amount(20000, 40, "月額"), amount(30000, 70, "月額"), phone("03-1", 200)]
    # a new amount inserted in the middle shifts every later offset
    after = [amount(10000, 10, "月額"), amount(15000, 40, "月額"), amount(20000, 70, "月額"),
             amount(30000, 100, "月額"), phone("03-1", 230)]
    changes = diff_facts(before, after)
    assert [(c.change, c.after, c.after_start) for c in changes] == [("added", 15000, 40)]
    assert changes[0].before is None and changes[0].before_text is None


def test_removed_fact():
    before = [amount(10000, 10, "月額"), amount(20000, 40, "月額")]
    after = [amount(20000, 10, "月額")]
    [c] = diff_facts(before, after)
    assert (c.change, c.before, c.after, c.before_start, c.after_start) == ("removed", 10000, None, 10, None)


def test_moved_offsets_are_unchanged():
    before = [amount(40000, 100), phone("03-5984-1319", 300)]
    after = [amount(40000, 180), phone("03-5984-1319", 420)]
    assert diff_facts(before, after) == []


def test_key_includes_program_and_qualifier():
    before = [amount(40000, 10, "上限", "A事業"), amount(40000, 50, "下限", "A事業")]
    after = [amount(40000, 10, "上限", "B事業"), amount(40000, 50, "上限", "A事業")]
    kinds = sorted((c.change, c.program, c.qualifier) for c in diff_facts(before, after))
    assert kinds == [("added", "B事業", "上限"), ("removed", "A事業", "下限")]


def test_max_is_part_of_the_value():
    before = [amount(10000, 10, "月額", max=45000)]
    after = [amount(10000, 10, "月額", max=46690)]
    [c] = diff_facts(before, after)
    assert c.before == {"value": 10000, "max": 45000}
    assert c.after == {"value": 10000, "max": 46690}


def test_dict_facts_and_to_json_shape():
    before = [amount(40000, 100).to_json()]
    after = [dict(amount(50000, 120).to_json(), page=2, program_id="jiritsu-shien-kyoiku-kunren-kyufukin")]
    [c] = diff_facts(before, after)
    assert isinstance(c, FactChange)
    assert c.to_json() == {
        "program": PROG, "program_id": "jiritsu-shien-kyoiku-kunren-kyufukin", "kind": "amount",
        "qualifier": "上限", "change": "changed",
        "before": 40000, "after": 50000, "before_text": "上限40,000円", "after_text": "上限50,000円",
        "before_start": 100, "before_end": 109, "after_start": 120, "after_end": 129, "page": 2,
    }


def test_a_change_carries_the_program_id_of_its_fact():
    pid = "131202:住宅支援資金貸付"
    before = [dict(amount(40000, 100).to_json(), program_id=pid)]
    [removed] = diff_facts(before, [])
    assert (removed.change, removed.program_id) == ("removed", pid)  # the before side's, when there is no after
    [added] = diff_facts([], before)
    assert (added.change, added.program_id) == ("added", pid)
    [plain] = diff_facts([amount(40000, 100)], [amount(50000, 100)])  # facts without an id (older extractions)
    assert plain.program_id is None


def test_replaced_stretch_pairs_by_position():
    before = [amount(v, i * 20, "月額") for i, v in enumerate([1, 2, 3])]
    after = [amount(v, i * 20, "月額") for i, v in enumerate([1, 7, 8, 9])]
    changes = diff_facts(before, after)
    assert [(c.change, c.before, c.after) for c in changes] == [
        ("changed", 2, 7), ("changed", 3, 8), ("added", None, 9)]


values = st.lists(st.tuples(st.sampled_from(["月額", "上限", None]), st.integers(0, 5)), max_size=12)


@given(values, values)
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_counts_balance(b, a):
    before = [amount(v, i * 10, q) for i, (q, v) in enumerate(b)]
    after = [amount(v, i * 10 + 3, q) for i, (q, v) in enumerate(a)]
    changes = diff_facts(before, after)
    added = sum(c.change == "added" for c in changes)
    removed = sum(c.change == "removed" for c in changes)
    assert added - removed == len(after) - len(before)
    assert all(c.before != c.after for c in changes if c.change == "changed")
    assert diff_facts(before, before) == [] and diff_facts(after, after) == []


def test_update_date_line_facts_are_ignored_when_texts_given():
    before_text = "更新日：2025年4月1日\n上限40,000円"
    after_text = "更新日：2025年10月1日\n上限40,000円"
    before = [Fact("date", "2025-04-01", "2025年4月1日", 4, 13), amount(40000, 17)]
    after = [Fact("date", "2025-10-01", "2025年10月1日", 4, 14), amount(40000, 17)]
    assert [c.kind for c in diff_facts(before, after)] == ["date"]
    assert diff_facts(before, after, before_doc_text=before_text, after_doc_text=after_text) == []


def test_with_the_real_fact_extractor():
    def doc(lines):
        return Document.from_blocks([(t, {"kind": "para", "program": PROG}) for t in lines], "text/html")

    v1 = doc([PROG, "更新日：2025年4月1日", "受講料の60%（上限40,000円）を支給します。", "電話 03-5984-1319"])
    v2 = doc([PROG, "更新日：2025年10月1日", "新たに入学金1万円を助成します。", "受講料の60%（上限50,000円）を支給します。",
              "電話 03-5984-2222"])
    changes = diff_facts(extract_facts(v1), extract_facts(v2), before_doc_text=v1.text, after_doc_text=v2.text)
    got = [(c.change, c.kind, c.qualifier, c.before, c.after_text) for c in changes]
    assert got == [
        ("added", "amount", None, None, "1万円"),
        ("changed", "amount", "上限", 40000, "上限50,000円"),
        ("changed", "phone", None, "+81359841319", "03-5984-2222"),
    ]
    for c in changes:
        assert v2.text[c.after_start:c.after_end] == c.after_text
