"""`wardwatch programs` in this process over warehouses filled from the demo site's files (no crawl): the table,
the JSON records, the GIF 制度 export (JSON and CSV), filters, -o FILE and the exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from tests.support.helpers import demo_site, fill_demo, main
from warehouse.db import Warehouse

SYUUROU = "http://127.0.0.1:8000/nerima/kurashi/jinken/hitorioya/syuurou.html"
MATOME = "http://127.0.0.1:8000/press/nerima-matome.html"
LOAN = "hitorioya-jutaku-shien-shikin-kashitsuke"
JSON_KEYS = {"program_id", "name", "scope", "municipality", "code", "urls", "official_urls", "secondary_urls", "facts",
             "first_seen", "last_changed"}

pytestmark = pytest.mark.slow  # the demo warehouse (~3 s once per session), then > 0.2 s per command


def run(argv: list[str], wh: object, capsys) -> tuple[int, str, str]:
    code = main(argv, warehouse=wh)
    out, err = capsys.readouterr()
    return code, out, err


def gif_of(wh: object, capsys, *args: str) -> list[dict]:
    code, out, err = run(["programs", "--format", "gif", *args], wh, capsys)
    assert code == 0, err
    return json.loads(out)


def test_table_lists_each_program_once_per_municipality(demo_warehouse, capsys):
    code, out, _ = run(["programs"], demo_warehouse, capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["program", "scope", "id", "facts", "official", "secondary",
                                              "last_changed"]
    assert lines[-1] == "(20 programs)"
    (loan,) = [line for line in lines if LOAN in line]
    assert loan.startswith("練馬区 › ひとり親家庭住宅支援資金貸付 ") and loan.split()[3:8] == ["national", LOAN, "5", "1", "1"]
    body = lines[2:-1]
    pairs = [(line.split(" › ")[0], line.split()[4]) for line in body]  # (municipality, program id)
    assert len(set(pairs)) == len(pairs) == 20
    assert ("北区", "jiritsu-shien-kyoiku-kunren-kyufukin") in pairs and ("練馬区", "jiritsu-shien-kyoiku-kunren-kyufukin") in pairs
    # aligned by display width (CJK takes two columns): the scope column starts at one terminal column
    from wardwatch.cli.tables import display_width

    assert len({display_width(line[:line.index(f" {line.split()[3]} ") + 1]) for line in body}) == 1


def test_json_records_and_filters(demo_warehouse, capsys):
    code, out, _ = run(["programs", "--format", "json"], demo_warehouse, capsys)
    records = json.loads(out)
    assert code == 0 and len(records) == 20 and all(set(r) == JSON_KEYS for r in records)
    assert {r["municipality"] for r in records} == {"北区", "練馬区"}

    code, out, _ = run(["programs", "--format", "json", "--municipality", "練馬区"], demo_warehouse, capsys)
    nerima = json.loads(out)
    assert code == 0 and len(nerima) == 8 and {r["code"] for r in nerima} == {"131202"}
    code, out, _ = run(["programs", "--format", "json", "--municipality", "131202"], demo_warehouse, capsys)
    assert [r["program_id"] for r in json.loads(out)] == [r["program_id"] for r in nerima]

    code, out, _ = run(["programs", "--format", "json", "--municipality", "練馬区", "--program", LOAN],
                       demo_warehouse, capsys)
    (loan,) = json.loads(out)
    assert loan["urls"] == [SYUUROU, MATOME] and loan["official_urls"] == [SYUUROU]
    amounts = {(f["source_kind"], f["text"]) for f in loan["facts"] if f["kind"] == "amount"}
    assert amounts == {("official", "上限5万円"), ("secondary", "上限4万円")}  # current facts only: v2's page
    official = next(f for f in loan["facts"] if f["text"] == "上限5万円")
    assert official["url"] == SYUUROU and official["version_id"]
    assert official["end_offset"] - official["start_offset"] == len("上限5万円")
    assert official["valid_from"].endswith("+09:00")  # times in Asia/Tokyo
    # --program matches part of a name too
    code, out, _ = run(["programs", "--format", "json", "--program", "児童扶養手当"], demo_warehouse, capsys)
    assert {r["program_id"] for r in json.loads(out)} == {"jido-fuyo-teate", "tokubetsu-jido-fuyo-teate"}


def test_gif_record_of_the_housing_loan_carries_its_ceiling_and_contact_with_evidence(demo_warehouse, capsys):
    (rec,) = gif_of(demo_warehouse, capsys, "--municipality", "練馬区", "--program", LOAN)
    assert rec["タイトル"] == "ひとり親家庭住宅支援資金貸付" and rec["地域"] == "練馬区"
    assert rec["制度所管組織"] == "こども家庭庁"
    assert rec["借入限度額"] == 50000
    assert rec["詳細URL"] == SYUUROU
    assert rec["連絡先情報"] == {"連絡先名称": "生活福祉課ひとり親家庭支援係", "連絡先電話番号": "03-5984-1319"}
    ev = rec["_evidence"]
    (span,) = ev["借入限度額"]["spans"]
    assert (span["url"], span["text"], span["source_kind"]) == (SYUUROU, "上限5万円", "official")
    assert span["version_id"] and span["end"] - span["start"] == len("上限5万円")
    assert ev["借入限度額"]["secondary_ignored"] == 1  # the summary's stale 上限4万円 is not used
    phone = ev["連絡先情報.連絡先電話番号"]
    assert phone["value"] == "+81359841319" and phone["spans"][0]["heading_path"][-1] == "お問い合わせ"
    for absent in ("給付上限額", "最大補助率", "募集時期", "公募開始日", "公募終了日", "概要", "対象者"):
        assert absent not in rec


def test_gif_record_changes_after_the_revision(capsys):
    wh = Warehouse(":memory:")
    try:
        fill_demo(wh, [demo_site("v1")])
        (before,) = gif_of(wh, capsys, "--municipality", "練馬区", "--program", LOAN)
        fill_demo(wh, [demo_site("v2")])
        (after,) = gif_of(wh, capsys, "--municipality", "練馬区", "--program", LOAN)
    finally:
        wh.close()
    assert (before["借入限度額"], after["借入限度額"]) == (40000, 50000)
    b, a = (r["_evidence"]["借入限度額"]["spans"][0] for r in (before, after))
    assert (b["text"], a["text"]) == ("上限4万円", "上限5万円") and b["version_id"] != a["version_id"]
    assert before["連絡先情報"] == after["連絡先情報"]  # the revision did not touch the page's contact


def test_csv_to_stdout_and_to_a_file(demo_warehouse, capsys, tmp_path):
    code, out, _ = run(["programs", "--format", "csv", "--municipality", "練馬区"], demo_warehouse, capsys)
    assert code == 0 and not out.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 8
    (loan,) = [r for r in rows if r["program_id"] == LOAN]
    assert (loan["借入限度額"], loan["借入限度額_根拠URL"], loan["借入限度額_根拠"]) == ("50000", SYUUROU, "上限5万円")
    assert loan["連絡先電話番号"] == "03-5984-1319"

    path = tmp_path / "gif.csv"
    code, out, err = run(["programs", "-o", str(path)], demo_warehouse, capsys)  # .csv: the format
    data = path.read_bytes()
    assert code == 0 and out == "" and "20 record(s) written to" in err
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Japanese right
    assert len(list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))) == 20


def test_json_and_gif_files(demo_warehouse, capsys, tmp_path):
    path = tmp_path / "programs.json"
    code, out, _ = run(["programs", "-o", str(path), "--municipality", "北区"], demo_warehouse, capsys)
    assert code == 0 and out == ""
    assert {r["municipality"] for r in json.loads(path.read_text(encoding="utf-8"))} == {"北区"}
    path = tmp_path / "gif.json"
    code, out, _ = run(["programs", "--format", "gif", "-o", str(path)], demo_warehouse, capsys)
    records = json.loads(path.read_text(encoding="utf-8"))
    assert code == 0 and len(records) == 20 and all("_evidence" in r for r in records)


def test_an_empty_answer_is_an_empty_array_or_a_header(demo_warehouse, capsys):
    for fmt in ("json", "gif"):
        code, out, _ = run(["programs", "--format", fmt, "--program", "存在しない制度"], demo_warehouse, capsys)
        assert (code, json.loads(out)) == (0, [])
    code, out, _ = run(["programs", "--format", "csv", "--program", "存在しない制度"], demo_warehouse, capsys)
    assert code == 0 and len(out.splitlines()) == 1 and out.startswith("program_id,scope,地域,")
    code, out, _ = run(["programs", "--municipality", "999999"], demo_warehouse, capsys)
    assert (code, out) == (0, "(0 programs)\n")


def test_bad_options_exit_2(demo_warehouse, capsys, tmp_path):
    code, _, err = run(["programs", "--municipality", "練間区"], demo_warehouse, capsys)
    assert code == 2 and err.strip() == "wardwatch programs: unknown municipality: 練間区 (known: 北区, 練馬区)"
    assert run(["programs", "--format", "xml"], demo_warehouse, capsys)[0] == 2
    code, _, err = run(["programs", "-o", str(tmp_path / "x.txt")], demo_warehouse, capsys)
    assert code == 2 and "give --format json, gif or csv" in err and not (tmp_path / "x.txt").exists()
    code, _, err = run(["programs", "--format", "table", "-o", str(tmp_path / "x.csv")], demo_warehouse, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    target = tmp_path / "elsewhere.json"
    target.write_text("keep", encoding="utf-8")
    link = tmp_path / "link.json"
    os.symlink(target, link)
    code, _, err = run(["programs", "--format", "gif", "-o", str(link)], demo_warehouse, capsys)
    assert code == 2 and "symbolic link" in err and target.read_text(encoding="utf-8") == "keep"


def test_an_unreadable_warehouse_exits_1_with_one_line(tmp_path: Path, capsys):
    code = main(["programs", "--db", str(tmp_path / "none.duckdb")])
    err = capsys.readouterr().err
    assert code == 1 and "no warehouse here" in err and len(err.strip().splitlines()) == 1
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"this is not a DuckDB file\n" * 100)
    code = main(["programs", "--format", "gif", "--db", str(bad)])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and str(bad) in err and len(err.strip().splitlines()) == 1
