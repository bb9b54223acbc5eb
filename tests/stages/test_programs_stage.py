"""Programs in the warehouse: program ids on facts, learnt aliases, the programs / program_facts views."""

from __future__ import annotations

from pathlib import Path

import pytest

from spiders.registry import Source
from tests.support.helpers import crawl_files, q
from wardwatch.stages.extract import extract_pending
from wardwatch.stages.programs import assign_program_ids
from warehouse.db import Warehouse
from warehouse.programs import program_records

OFFICIAL = """<html><head><title>ひとり親家庭の方へ｜東京都北区</title></head><body><main>
<h1>ひとり親家庭の方へ</h1>
<h2>ひとり親家庭休養ホーム事業</h2>
<h3>利用料金</h3>
<p>1泊につき大人1,500円を上限として助成します。</p>
<h2>北区親元近居助成事業</h2>
<h3>助成額</h3>
<p>一住宅20万円を上限として助成します。</p>
<h3>お問い合わせ</h3>
<p>住宅課 電話：03-3908-9201</p>
<h2>児童扶養手当</h2>
<h3>支給手当月額</h3>
<p>全部支給 46,690円</p>
</main></body></html>"""

SUMMARY = """<html><head><title>北区の子育て支援まとめ（平成28年8月現在）</title></head><body><main>
<h1>北区の子育て支援まとめ</h1>
<h2>休養ホーム事業</h2>
<p>1泊大人1,500円まで助成。</p>
<h2>親元近居助成</h2>
<p>上限20万円</p>
<h2>児童扶養手当（国の制度）</h2>
<p>全部支給 月額42,330円</p>
</main></body></html>"""


def sources() -> list[Source]:
    common = {"municipality": "北区", "code": "131172", "follow": (), "max_depth": 0, "schedule": "0 6 * * *"}
    return [Source(id="kita-official", kind="official", start_urls=("http://127.0.0.2/kita/hitorioya.html",),
                   allowed_domains=("127.0.0.2",), **common),
            Source(id="kita-summary", kind="secondary", start_urls=("http://127.0.0.3/summary/kita.html",),
                   allowed_domains=("127.0.0.3",), **common)]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "kita").mkdir(parents=True)
    (root / "summary").mkdir()
    (root / "kita" / "hitorioya.html").write_text(OFFICIAL, encoding="utf-8")
    (root / "summary" / "kita.html").write_text(SUMMARY, encoding="utf-8")
    return root


@pytest.mark.slow  # Sudachi-backed extraction of two pages
def test_one_program_per_municipality_across_official_and_secondary_names(tmp_path: Path, site: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    crawl_files(wh, site, sources=sources())
    extracted = extract_pending(wh)
    assert extracted["programs"]["learnt"] == 1  # 休養ホーム事業 -> the official ひとり親家庭休養ホーム事業

    rows = q(wh, "SELECT program_id, name, scope, len(official_urls), len(secondary_urls) FROM programs "
                 "WHERE municipality = '北区' ORDER BY program_id")
    assert rows == [
        ("131172:一人親家庭休養ホーム", "ひとり親家庭休養ホーム事業", "municipal", 1, 1),
        ("131172:親元近居助成", "親元近居助成事業", "municipal", 1, 1),  # the place is not part of the name
        ("jido-fuyo-teate", "児童扶養手当", "national", 1, 1),
    ]
    # a generic heading (助成額, お問い合わせ, 支給手当月額) resolves to the enclosing program
    facts = dict(q(wh, "SELECT text, program_id FROM current_facts WHERE source_id = 'kita-official'"))
    assert facts["20万円を上限"] == "131172:親元近居助成"
    assert facts["03-3908-9201"] == "131172:親元近居助成"
    assert facts["46,690円"] == "jido-fuyo-teate"
    # the alias is applied in every view: the secondary's fact is under the official id
    assert q(wh, "SELECT program_id FROM secondary_facts WHERE text LIKE '%1,500円%'") == [("131172:一人親家庭休養ホーム",)]
    assert q(wh, "SELECT code, alias_id, program_id FROM program_aliases") == [
        ("131172", "131172:休養ホーム", "131172:一人親家庭休養ホーム")]

    records = {r["program_id"]: r for r in program_records(wh, municipality="北区")}
    loan = records["131172:親元近居助成"]
    assert loan["urls"] == ["http://127.0.0.2/kita/hitorioya.html", "http://127.0.0.3/summary/kita.html"]
    assert {(f["source_kind"], f["kind"], f["text"]) for f in loan["facts"]} >= {
        ("official", "amount", "20万円を上限"), ("official", "phone", "03-3908-9201"),
        ("secondary", "amount", "上限20万円")}
    evidence = next(f for f in loan["facts"] if f["kind"] == "phone")
    assert evidence["version_id"] and evidence["start_offset"] < evidence["end_offset"]
    assert evidence["heading_path"][-2:] == ["北区親元近居助成事業", "お問い合わせ"]
    assert program_records(wh, program="jido-fuyo-teate")[0]["scope"] == "national"
    assert program_records(wh, municipality="練馬区") == []


def test_assign_program_ids_reads_the_heading_path_and_falls_back_to_the_sentence() -> None:
    text = "児童扶養手当の所得制限限度額が改定されます。\n全部支給 46,690円"
    facts = [{"kind": "amount", "text": "46,690円", "start": 27, "end": 34,
              "heading_path": ["子育て支援", "手当額"]},
             {"kind": "date", "text": "x", "start": 0, "end": 6, "heading_path": []}]
    assign_program_ids(facts, text, "北区", "131172")
    assert facts[0]["program_id"] is None  # a generic heading, no program named on its line
    assert facts[1]["program_id"] == "jido-fuyo-teate" and facts[1]["program_via"] == "text"


def test_a_heading_naming_two_programs_gives_each_amount_the_program_whose_table_has_it() -> None:
    text = "児童扶養手当・特別児童扶養手当について\n1級 56,800円 2級 37,830円 全部支給 46,690円\n手当額は改定されます"
    line = text.split("\n")[1]
    start = len(text.split("\n")[0]) + 1
    facts = [{"kind": "amount", "value": yen, "text": t, "start": start + line.index(t), "end": start + line.index(t) + len(t),
              "heading_path": ["児童扶養手当・特別児童扶養手当について"]}
             for yen, t in ((56800, "56,800円"), (37830, "37,830円"), (46690, "46,690円"))]
    facts.append({"kind": "date", "value": "x", "text": "手当額", "start": text.rindex("手当額"), "end": len(text),
                  "heading_path": ["児童扶養手当・特別児童扶養手当について"]})
    assign_program_ids(facts, text, "音威子府村", "015121")
    assert [f["program_id"] for f in facts] == ["tokubetsu-jido-fuyo-teate", "tokubetsu-jido-fuyo-teate",
                                                "jido-fuyo-teate", "jido-fuyo-teate"]
    assert facts[0]["program_name"] == "特別児童扶養手当" and facts[0]["program_via"] == "amount"
    assert facts[3]["program_via"] != "amount"  # not an amount: the heading's own choice stands
