"""The report groups changes and flags by municipality › program (model, HTML, Markdown, JSON).

Over ``tests/report/program_rows.py``: 練馬区 and 北区, three programs with a change and a flag each (one program
named differently on an official page, a 広報 PDF and a summary), and a generic heading no program fits.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.report.program_rows import (
    FC_JIDO,
    JIDO,
    JIDO_A,
    JOSEI_B,
    JUTAKU,
    JUTAKU_A,
    JUTAKU_K,
    LINE_JUTAKU,
    OA_JIDO,
    OYAMOTO,
    OYAMOTO_B,
    SC_JOSEI,
    SO_JUTAKU,
    SR_OYAMOTO,
    fill,
)
from tests.support.helpers import start_tags
from wardwatch.report.html import report_page
from wardwatch.report.markdown import to_markdown
from wardwatch.report.model import (
    build_report,
    change_line,
    change_values,
    program_of,
    resolve_programs,
    to_json,
)
from warehouse.db import Warehouse
from warehouse.review import report_data
from warehouse.schema import migrate


@pytest.fixture(scope="module")
def warehouse_data() -> Iterator[dict[str, Any]]:
    wh = Warehouse(":memory:")
    migrate(wh)
    with wh.connect() as con:
        fill(con)
    yield report_data(wh)
    wh.close()


@pytest.fixture
def data(warehouse_data) -> dict[str, Any]:
    """The report rows of the warehouse (a private copy: tests change rows)."""
    return copy.deepcopy(warehouse_data)


def layout(model: dict[str, Any]) -> dict[str, list[tuple]]:
    """Per municipality: (program name, scope badge, program id, change item keys, flag ids) in display order."""
    return {w["municipality"]: [(p["name"], p["scope_label"], p["program_id"],
                                 [it["item_key"] for g in p["change_groups"] for it in g["items"]],
                                 [f["flag_id"] for f in p["flags"]]) for p in w["programs"]]
            for w in model["municipalities"]}


def test_changes_and_flags_are_grouped_by_municipality_then_program(data):
    model = build_report(data)
    assert [w["municipality"] for w in model["municipalities"]] == ["北区", "練馬区"]
    assert layout(model) == {
        "北区": [("北区親元近居助成事業", "区市町村", OYAMOTO, [OYAMOTO_B], [SR_OYAMOTO]),
                ("助成額", None, None, [JOSEI_B], [SC_JOSEI])],
        "練馬区": [("児童扶養手当", "国", JIDO, [JIDO_A], [OA_JIDO]),
                 ("ひとり親家庭住宅支援資金貸付", "国", JUTAKU, [JUTAKU_A, JUTAKU_K], [SO_JUTAKU])],
    }
    (jido,) = [p for p in model["municipalities"][1]["programs"] if p["program_id"] == JIDO]
    (group,) = jido["change_groups"]
    assert [f["flag_id"] for f in group["flags"]] == [FC_JIDO]  # a change and its own fact_changed flag: one item
    assert FC_JIDO not in {f["flag_id"] for w in model["municipalities"] for p in w["programs"] for f in p["flags"]}
    assert {w["municipality"]: (w["changes"], w["flags"]) for w in model["municipalities"]} == {
        "北区": (2, 2), "練馬区": (3, 2)}


def test_one_program_named_differently_on_its_pages_is_one_group(data):
    (nerima,) = [w for w in build_report(data)["municipalities"] if w["municipality"] == "練馬区"]
    (jutaku,) = [p for p in nerima["programs"] if p["program_id"] == JUTAKU]
    assert jutaku["name"] == "ひとり親家庭住宅支援資金貸付"  # the catalog's name, not one of the headings
    assert jutaku["headings"] == ["ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)", "住宅支援資金の貸付", "住宅支援資金"]
    (group,) = jutaku["change_groups"]  # the official page and the 広報 PDF state the same revision: one change
    assert len(group["urls"]) == 2 and not group["shared_group_id"]
    # a municipal program: the summary's 親元近居助成 is the official 北区親元近居助成事業 (the programs view's name)
    (kita,) = [w for w in build_report(data)["municipalities"] if w["municipality"] == "北区"]
    assert kita["programs"][0]["name"] == "北区親元近居助成事業"
    assert kita["programs"][0]["headings"] == ["北区親元近居助成事業", "親元近居助成"]


def test_without_program_ids_items_are_grouped_by_their_heading_as_before(data):
    for row in data["changes"] + data["flags"]:
        row["program_id"] = None
    model = build_report(data)
    names = {w["municipality"]: [p["name"] for p in w["programs"]] for w in model["municipalities"]}
    assert sorted(names["練馬区"]) == sorted(["児童扶養手当", "児童扶養手当について", "住宅支援資金の貸付", "住宅支援資金",
                                           "ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)"])
    assert all(p["scope_label"] is None and p["program_key"] == f"heading:{p['name']}"
               for w in model["municipalities"] for p in w["programs"])
    line = {it["item_key"]: it["line"] for g in model["change_groups"] for it in g["items"]}[JUTAKU_K]
    assert line == "練馬区 › 住宅支援資金の貸付: 上限4万円 → 5万円 (2026-04-01)"


def nerima(model: dict[str, Any]) -> list[str | None]:
    return [p["program_id"] for w in model["municipalities"] if w["municipality"] == "練馬区" for p in w["programs"]]


def test_programs_come_most_severe_item_first(data):
    assert nerima(build_report(data)) == [JIDO, JUTAKU]  # 児童扶養手当 has a high flag (name order: ひ before 児)
    for f in data["flags"]:
        if f["flag_id"] in (FC_JIDO, OA_JIDO):
            f["severity"] = "low"
    assert nerima(build_report(data)) == [JUTAKU, JIDO]  # now the housing loan's medium flag is the most severe
    kita = [p["program_id"] for p in build_report(data)["municipalities"][0]["programs"]]
    assert kita == [OYAMOTO, None]  # high stale_reference before a medium contradiction (name order: 助 before 北)


def test_each_change_reads_as_one_line():
    assert change_values("上限4万円", "上限5万円", "changed", "上限") == "上限4万円 → 5万円"
    assert change_values("月額上限2万円", "月額上限2万5千円", "changed", "月額,上限") == "月額上限2万円 → 2万5千円"
    assert change_values("月額:13,500円", "月額:14,000円", "changed", "月額") == "月額:13,500円 → 14,000円"
    # only qualifier words are dropped: other text, digits and unqualified values stay as written
    assert change_values("全部支給(月額) 45,500円", "全部支給(月額) 46,690円", "changed", "月額") == \
        "全部支給(月額) 45,500円 → 全部支給(月額) 46,690円"
    assert change_values("03-5984-4742", "03-5984-4700", "changed", None) == "03-5984-4742 → 03-5984-4700"
    assert change_values("上限4万円", "月額5万円", "changed", "上限") == "上限4万円 → 月額5万円"
    assert change_values("上限4万円", "上限", "changed", "上限") == "上限4万円 → 上限"
    assert change_values(None, "上限5万円", "added", "上限") == "追加 上限5万円"
    assert change_values("上限4万円", None, "removed", "上限") == "削除 上限4万円"
    from datetime import UTC, datetime
    when = datetime(2026, 3, 31, 15, 0, tzinfo=UTC)  # 2026-04-01 00:00 in Japan: the editors' day
    assert change_line("練馬区", "ひとり親家庭住宅支援資金貸付", "上限4万円", "上限5万円", "changed", "上限", when) == LINE_JUTAKU


def test_the_line_of_every_change(data):
    model = build_report(data)
    lines = {it["item_key"]: it["line"] for g in model["change_groups"] for it in g["items"]}
    assert lines[JUTAKU_A] == lines[JUTAKU_K] == LINE_JUTAKU  # both pages: the program's name, not their headings
    assert lines[JIDO_A] == "練馬区 › 児童扶養手当: 月額45,500円 → 46,690円 (2026-04-01)"
    assert lines[JOSEI_B] == "北区 › 助成額: 月額上限2万円 → 2万5千円 (2026-04-01)"
    groups = [g for w in model["municipalities"] for p in w["programs"] for g in p["change_groups"]]
    assert LINE_JUTAKU in [g["line"] for g in groups]


def test_program_names_and_scopes():
    known = {JIDO: {"name": "児童扶養手当", "scope": "national"},
             "tokyo-jido-ikusei-teate": {"name": "児童育成手当", "scope": "prefectural"}}
    rows = [{"program_id": "131202:休養ホーム", "program": "一人親家庭休養ホーム事業"},
            {"program_id": "131202:休養ホーム", "program": "休養ホーム"},
            {"program_id": "131202:休養ホーム", "program": "一人親家庭休養ホーム事業"}]
    programs = resolve_programs(rows, known)
    # an id the warehouse cannot name: its most common heading, and municipal by its '<code>:' form
    assert programs["131202:休養ホーム"] == {"name": "一人親家庭休養ホーム事業", "scope": "municipal"}
    assert program_of({"program_id": "tokyo-jido-ikusei-teate", "program": "児童育成手当(育成手当)"}, programs) == {
        "program_key": "id:tokyo-jido-ikusei-teate", "program_id": "tokyo-jido-ikusei-teate",
        "program_name": "児童育成手当", "scope": "prefectural", "scope_label": "都道府県"}
    assert program_of({"program_id": None, "program": "助成額"}, programs)["program_key"] == "heading:助成額"
    assert program_of({}, programs)["program_name"] == "(プログラム名なし)"


def test_the_program_filter(data):
    model = build_report(data, program=JUTAKU)
    assert layout(model) == {"練馬区": [("ひとり親家庭住宅支援資金貸付", "国", JUTAKU, [JUTAKU_A, JUTAKU_K], [SO_JUTAKU])]}
    assert layout(build_report(data, program="助成額")) == {"北区": [("助成額", None, None, [JOSEI_B], [SC_JOSEI])]}
    choices = {c["value"]: c["label"] for c in build_report(data)["choices"]["programs"]}
    assert choices == {JIDO: "児童扶養手当(国)", JUTAKU: "ひとり親家庭住宅支援資金貸付(国)",
                       OYAMOTO: "北区親元近居助成事業(北区)", "助成額": "助成額"}


def test_the_same_change_in_two_places_is_shown_in_each_and_linked_once(data):
    (oyamoto,) = [c for c in data["changes"] if f"{c['after_version_id']}:{c['seq']}" == OYAMOTO_B]
    oyamoto.update(before=40000, after=50000, before_text="上限4万円", after_text="上限5万円", qualifier="上限")
    model = build_report(data)
    (shared,) = [g for g in model["change_groups"] if g["shared"]]
    assert len(shared["items"]) == 3
    places = {(p["municipality"], p["program_name"]): p["group_id"] for p in model_places(model, shared["group_id"])}
    assert set(places) == {("練馬区", "ひとり親家庭住宅支援資金貸付"), ("北区", "北区親元近居助成事業")}
    html = report_page(model)
    assert html.count(f'id="g-{shared["group_id"]}"') == 1  # the shared summary ...
    for group_id in places.values():  # ... links each place, which shows its own pages
        assert html.count(f'id="g-{group_id}"') == 1 and f'href="#g-{group_id}"' in html
    for key in (JUTAKU_A, JUTAKU_K, OYAMOTO_B):
        assert html.count(f'id="c-{key}"') == 1
    md = to_markdown(model)
    assert "上限4万円 → 上限5万円 — 3ページ" in md and "  - 北区 › 北区親元近居助成事業 (1ページ)" in md
    assert "北区 › 北区親元近居助成事業: 上限4万円 → 5万円 (2026-04-01)" in md


def model_places(model: dict[str, Any], group_id: str) -> list[dict[str, Any]]:
    return [g for w in model["municipalities"] for p in w["programs"] for g in p["change_groups"]
            if g.get("shared_group_id") == group_id]


def _h(html: str, tag: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m) for m in re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.S)]


def test_html_sections_per_municipality_and_program(data):
    html = report_page(build_report(data))
    assert html.index('id="run-health"') < html.index('id="summary"') < html.index('id="changes"')
    changes = html.split('id="changes"', 1)[1].split('id="diffs"', 1)[0]
    assert [h.split()[0] for h in _h(changes, "h3")] == ["北区", "練馬区"]
    assert _h(html, "h4") == ["北区親元近居助成事業", "助成額", "児童扶養手当", "ひとり親家庭住宅支援資金貸付"]
    assert re.findall(r'<span class="badge scope scope-(\w+)">([^<]+)</span>', html) == [
        ("municipal", "区市町村"), ("national", "国"), ("national", "国")]
    section = html.split('data-program="id:hitorioya-jutaku-shien-shikin-kashitsuke"', 1)[1].split("</section>", 1)[0]
    place = re.sub(r"<[^>]+>", "", section.split('<span class="line">', 1)[1].split("</span></span>", 1)[0])
    assert place == "練馬区 › ひとり親家庭住宅支援資金貸付: 上限4万円 → 上限5万円 (2026-04-01)"  # the spans as written
    assert f'id="c-{JUTAKU_A}"' in section and f'id="c-{JUTAKU_K}"' in section and f'id="f-{SO_JUTAKU}"' in section
    assert "見出し: 住宅支援資金の貸付" in section
    for key in (JIDO_A, JUTAKU_A, JUTAKU_K, OYAMOTO_B, JOSEI_B):
        assert html.count(f'id="c-{key}"') == 1  # every item once
    for flag_id in (OA_JIDO, SO_JUTAKU, SR_OYAMOTO, SC_JOSEI):
        assert html.count(f'id="f-{flag_id}"') == 1
    assert f'id="f-{FC_JIDO}"' not in html  # on its change
    assert '<a href="#m-' in html.split('id="summary"', 1)[1].split("</section>", 1)[0]  # the summary links each ward


def test_program_names_are_escaped(data):
    data["programs"][JIDO]["name"] = '児童扶養手当"><img src=x onerror=alert(1)>'
    html = report_page(build_report(data))
    assert not [t for t, _ in start_tags(html) if t in ("img", "script")]
    assert "児童扶養手当&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    md = to_markdown(build_report(data))
    assert "<img" not in md and "児童扶養手当&quot;&gt;&lt;img src=x onerror=alert(1)&gt; 〔国〕" in md


def test_markdown_and_json_use_the_same_grouping(data):
    model = build_report(data)
    md = to_markdown(model)
    heads = [line for line in md.splitlines() if line.startswith(("### ", "#### "))]
    assert heads == ["### 北区", "#### 北区親元近居助成事業 〔区市町村〕", "#### 助成額", "### 練馬区", "#### 児童扶養手当 〔国〕",
                     "#### ひとり親家庭住宅支援資金貸付 〔国〕"]
    jutaku = md.split("#### ひとり親家庭住宅支援資金貸付 〔国〕", 1)[1]
    assert jutaku.splitlines()[4].startswith(f"- **{LINE_JUTAKU}** — 金額(上限)・変更(記載: 上限4万円 → 上限5万円) — 2ページ")
    assert "- \\[中\\] 二次情報が古いまま: 練馬区 › ひとり親家庭住宅支援資金貸付 — " in jutaku
    out = json.loads(to_json(model))
    assert layout(out) == layout(model)
    (nerima,) = [w for w in out["municipalities"] if w["municipality"] == "練馬区"]
    assert nerima["programs"][1]["change_groups"][0]["line"] == LINE_JUTAKU
    assert nerima["programs"][0]["severity"] == "high" and nerima["programs"][1]["severity"] == "medium"
    # the flat lists stay for existing consumers
    assert {f["flag_id"] for f in out["flags"]} == {FC_JIDO, OA_JIDO, SO_JUTAKU, SR_OYAMOTO, SC_JOSEI}
    assert out["summary"]["total"]["changes"] == 5
