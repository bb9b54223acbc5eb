"""`wardwatch import-dataset` in this process over an in-memory warehouse: summaries, the problem report,
exit codes (0 imported or unchanged, 1 rejected or unreadable, 2 bad usage)."""

from __future__ import annotations

import json

from tests.support.datasets import CSV_ROWS, csv_bytes
from tests.support.helpers import main, q


def test_import_then_reimport(memory_warehouse, tmp_path, capsys):
    good = tmp_path / "kids.csv"
    good.write_bytes(csv_bytes(CSV_ROWS, "utf-8-sig"))
    assert main(["import-dataset", str(good)], warehouse=memory_warehouse) == 0
    assert "imported as dataset-kids@" in capsys.readouterr().out
    assert q(memory_warehouse, "SELECT source_id, kind FROM sources") == [("dataset-kids", "secondary")]
    assert main(["import-dataset", str(good), "--format", "json"], warehouse=memory_warehouse) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["status"], result["source_id"], result["format"]) == ("unchanged", "dataset-kids", "csv")


def test_a_malformed_file_is_reported_row_by_row_and_exits_1(memory_warehouse, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(CSV_ROWS + [["渋谷区", "児童育成手当", "amount", "", "東京都渋谷区", "", ""]], "cp932"))
    assert main(["import-dataset", str(bad)], warehouse=memory_warehouse) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "row 6: field 'value': '東京都渋谷区' is not an amount (yen)"
    assert err.count("\n") == 1
    assert err.startswith(f"wardwatch import-dataset: {bad}: 1 malformed row; nothing imported (first: row 6: field 'value'")
    assert main(["import-dataset", str(bad), "--format", "json"], warehouse=memory_warehouse) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["malformed_rows"] == 1 and report["problems"][0]["row"] == 6 and report["problems"][0]["field"] == "value"
    assert q(memory_warehouse, "SELECT count(*) FROM datasets") == [(0,)]


def test_unreadable_file_exits_1(memory_warehouse, tmp_path, capsys):
    assert main(["import-dataset", str(tmp_path / "missing.csv")], warehouse=memory_warehouse) == 1
    err = capsys.readouterr().err
    assert "cannot read" in err and "Traceback" not in err


def test_bad_usage_exits_2(memory_warehouse, tmp_path, capsys):
    good = tmp_path / "kids.csv"
    good.write_bytes(csv_bytes(CSV_ROWS, "utf-8"))
    assert main(["import-dataset", str(good), "--format-in", "xml"], warehouse=memory_warehouse) == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err
    assert main(["import-dataset", str(good), "--source", "Bad Id"], warehouse=memory_warehouse) == 2
    assert capsys.readouterr().err == ("wardwatch import-dataset: --source 'Bad Id': use lower-case letters, digits, "
                                       "- and _\n")
    assert main(["import-dataset", str(good), "--municipality", " "], warehouse=memory_warehouse) == 2
    assert capsys.readouterr().err == "wardwatch import-dataset: --municipality: empty name\n"
    assert main(["import-dataset"], warehouse=memory_warehouse) == 2
    assert "the following arguments are required: FILE" in capsys.readouterr().err
