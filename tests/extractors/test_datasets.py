"""extractors.datasets: parsing Civichat JSON, GIF-style JSON and CSV program datasets into facts, every
problem named by row and field (pure: no warehouse). Importing them: tests/stages/test_datasets.py."""

from __future__ import annotations

import json

from extractors.datasets import detect_format, parse_dataset
from extractors.datasets_csv import parse_value
from tests.support.datasets import CSV_ROWS, civichat_json, csv_bytes, record


def test_civichat_records_become_facts():
    parsed = parse_dataset(civichat_json([record(1)]))
    assert parsed.problems == [] and parsed.records == 1 and parsed.municipality == "渋谷区"
    got = {(f["program"], f["kind"], json.dumps(f["value"], ensure_ascii=False), f["qualifier"], f["field"]) for f in parsed.facts}
    assert ("児童育成手当", "amount", "13500", "月額", "支援内容") in got  # 手当額（月額） applies to the line below it
    assert ("児童育成手当", "phone", '"+81334632558"', None, "お問い合わせ先") in got
    assert ("児童育成手当", "age", "18", "未満", "対象者") in got


def test_small_civichat_file_with_problems():
    data = civichat_json([record(1), record(2, 詳細参照先="子ども青少年課（電話：03-3463-2558）"),
                          record(1), record(4, 受付終了日="https://example.jp", 市町村="ひとり親家庭等医療費助成")])
    parsed = parse_dataset(data)
    text = [str(p) for p in parsed.problems]
    assert text[0] == "row 2 (id=test-2): field '詳細参照先': '子ども青少年課（電話：03-3463-2558）' is not a URL (looks like a contact)"
    assert "row 3 (id=test-1): duplicate record id (also row 1)" in text
    assert "row 4 (id=test-4): field '市町村': 'ひとり親家庭等医療費助成' is not a municipality name — columns look shifted" in text
    assert parsed.malformed_rows == 3
    assert [str(p) for p in parse_dataset(b"{not json").problems] == [
        "file: not valid JSON (line 1, column 2: Expecting property name enclosed in double quotes)"]


def test_gif_style_keys_are_read():
    data = json.dumps([{"ad:制度番号": "X-1", "ad:タイトル（制度名）": "住宅支援資金貸付", "ad:地域": "練馬区",
                        "ad:給付上限額": "月額上限4万円", "ad:公募終了日": "令和7年3月31日まで", "ad:詳細URL": "https://example.jp/a",
                        "ad:キーワード": ["list", "values", "are", "not", "read"]}], ensure_ascii=False).encode()
    parsed = parse_dataset(data)
    assert parsed.problems == [] and parsed.municipality == "練馬区"
    got = {(f["field"], f["kind"], json.dumps(f["value"]), f["qualifier"]) for f in parsed.facts}
    assert got == {("ad:給付上限額", "amount", "40000", "月額,上限"), ("ad:公募終了日", "date", '"2025-03-31"', "まで"),
                   ("ad:詳細URL", "url", '"https://example.jp/a"', None)}
    assert {f["municipality"] for f in parsed.facts} == {"練馬区"}


def test_formats_are_detected_from_the_bytes():
    assert detect_format(civichat_json([record(1)])) == "civichat"
    assert detect_format(b"\xef\xbb\xbf  [{}]") == "civichat"  # BOM and blanks before the JSON
    assert detect_format(csv_bytes(CSV_ROWS, "utf-8-sig")) == "csv"
    assert detect_format(csv_bytes(CSV_ROWS, "cp932")) == "csv"
    assert detect_format(b"name,amount\r\nx,1\r\n") is None  # no program/kind header


def test_csv_cells_are_parsed_by_kind():
    assert parse_value("amount", "13,500円") == 13500 and parse_value("amount", "4万円") == 40000
    assert parse_value("amount", "東京都渋谷区") is None
    assert parse_value("rate", "10%") == 0.1 and parse_value("fiscal_year", "令和7年度") == 2025
    assert parse_value("phone", "０３－３４６３－２５５８") == "+81334632558" and parse_value("phone", "123") is None
    assert parse_value("period", "2025-04-01/2025-05-31") == {"start": "2025-04-01", "end": "2025-05-31"}


def test_deeply_nested_json_is_a_file_problem_not_a_crash():
    parsed = parse_dataset(b'{"systemsData": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    assert [str(p) for p in parsed.problems] == [
        "file: not readable: arrays/objects nested more than 1000 levels deep (a program record needs 3)"]
    assert parsed.facts == []


def test_nested_values_below_the_limit_are_reported_by_field():
    """A list 900 levels deep where text belongs: named by row and field, never turned into a string."""
    rec = record(1)
    rec["支援内容"] = json.loads("[" * 900 + "]" * 900)
    rec["サービスID"] = json.loads("[" * 900 + "]" * 900)
    text = [str(p) for p in parse_dataset(civichat_json([rec])).problems]
    assert "row 1: field '支援内容': is list, expected text — columns look shifted" in text
    assert "row 1: field 'サービスID': is list, expected text — columns look shifted" in text


def test_a_number_too_long_to_read():
    parsed = parse_dataset(b'{"systemsData": [{"x": ' + b"1" * 5000 + b"}]}")
    assert [str(p) for p in parsed.problems] == ["file: not readable JSON: a number has more than 4,300 digits"]


def test_csv_cell_over_the_field_limit_is_a_row_problem():
    table = CSV_ROWS + [["渋谷区", "児童育成手当", "amount", "", "", "月額" + "1" * 140_000 + "円", ""]]
    parsed = parse_dataset(csv_bytes(table, "utf-8"), "csv")
    assert [str(p) for p in parsed.problems] == [
        "row 6: cannot be read as CSV: a cell is longer than 131,072 characters (not a program dataset cell)"]


def test_a_malformed_file_collects_no_facts():
    parsed = parse_dataset(civichat_json([record(1), record(1)]))
    assert parsed.problems and parsed.facts == []
