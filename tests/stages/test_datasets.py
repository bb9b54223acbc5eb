"""The dataset stage (`import_dataset`): Civichat JSON and CSV datasets as versioned secondary sources —
date-ordered histories, all-or-nothing validation, idempotent re-imports. (Parsing alone:
tests/extractors/test_datasets.py; the command: tests/cli/test_datasets.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.datasets import detect_format
from tests.support.datasets import CSV_ROWS, URL, civichat_json, csv_bytes, record
from tests.support.helpers import SHARED, q
from wardwatch.stages.datasets import DatasetError, dataset_date, default_source_id, import_dataset, municipality_code
from warehouse.db import Warehouse
from warehouse.schema import migrate

CIVICHAT = SHARED / "corpus" / "datasets" / "civichat" / "versions"
# The version whose values sit in the wrong columns (program name in 市町村, description in タイトル（制度名）,
# the URL in 受付終了日, the contact in 詳細参照先). MANIFEST.md names 81a84d8, but by content it is 24b2faa;
# 81a84d8 (same day) is well-formed and imports.
SHIFTED = "24b2faa"


@pytest.fixture
def db(memory_warehouse: Warehouse) -> Warehouse:
    migrate(memory_warehouse)
    return memory_warehouse


def counts(db: Warehouse) -> tuple[int, int]:
    return q(db, "SELECT (SELECT count(*) FROM datasets), (SELECT count(*) FROM dataset_facts)")[0]


def civichat_versions() -> list[Path]:
    if not CIVICHAT.is_dir():
        pytest.skip("../shared/corpus/datasets/civichat is not present beside the project")
    return sorted(CIVICHAT.glob("*.json"), key=lambda p: (p.name.split("@")[1], p.name))


def source_of(path: Path) -> str:
    return "civichat-japan" if "_japan_" in path.name else "civichat-shibuya"


# ---------- the real Civichat versions ----------

@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_every_civichat_version_imports_in_date_order_as_a_history(db):
    versions = civichat_versions()
    imported = []
    for path in versions:
        if SHIFTED in path.name:
            continue
        muni = None if "_japan_" in path.name else "渋谷区"
        result = import_dataset(db, path, source_id=source_of(path), municipality=muni)
        assert result["status"] == "imported", path.name
        assert result["records"] > 0 and result["facts"] > 0
        imported.append(result)
    assert len(imported) == len(versions) - 1
    for sid in ("civichat-shibuya", "civichat-japan"):
        history = q(db, "SELECT dataset_id, valid_from, valid_to FROM datasets WHERE source_id = ? ORDER BY valid_from", [sid])
        assert len(history) == sum(1 for r in imported if r["source_id"] == sid)
        for (_, _, valid_to), (_, next_from, _) in zip(history, history[1:]):
            assert valid_to == next_from  # closed at the next version's start: no gap, no overlap
        assert history[-1][2] is None
        assert all(a[1] < b[1] for a, b in zip(history, history[1:]))
    assert q(db, "SELECT source_id, municipality, code, kind, start_urls, allowed_domains, schedule FROM sources ORDER BY 1") == [
        ("civichat-japan", "全国", "130001", "secondary", [], [], ""),
        ("civichat-shibuya", "渋谷区", "131130", "secondary", [], [], ""),
    ]
    # the dataset's own date (from the file name, midnight JST) is the version's valid_from
    first = q(db, "SELECT valid_from FROM datasets WHERE source_id = 'civichat-shibuya' ORDER BY valid_from LIMIT 1")[0][0]
    assert first.isoformat().startswith("2021-08-30T15:00:00")
    amounts = q(db, "SELECT value_num, qualifier, text, field FROM dataset_facts WHERE program = '児童育成手当' AND kind = 'amount'")
    assert (13500.0, None, "児童1人につき13,500円", "支援内容") in amounts
    fuyo = q(db, "SELECT value_num, qualifier FROM secondary_facts WHERE program = '児童扶養手当' AND kind = 'amount'")
    assert (43160.0, "月額") in fuyo  # 手当額（月額） header line applies to the amounts below it
    phones = q(db, "SELECT DISTINCT value->>'$' FROM secondary_facts WHERE program = '児童育成手当' AND kind = 'phone'")
    assert phones == [("+81334632558",)]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_column_shifted_version_is_rejected_row_by_row_and_nothing_is_loaded(db):
    versions = civichat_versions()
    shifted = next(p for p in versions if SHIFTED in p.name)
    for path in versions:
        if path.name.split("@")[1] < shifted.name.split("@")[1] and "_japan_" not in path.name:
            import_dataset(db, path, source_id="civichat-shibuya", municipality="渋谷区")
    before, current = counts(db), q(db, "SELECT dataset_id FROM datasets WHERE valid_to IS NULL")
    with pytest.raises(DatasetError) as info:
        import_dataset(db, shifted, source_id="civichat-shibuya", municipality="渋谷区")
    err = info.value
    assert err.records == 32 and err.malformed_rows == 32
    assert {p.row for p in err.problems} == set(range(1, 33))
    assert all(p.record_id and p.field for p in err.problems)
    assert {p.field for p in err.problems} == {"タイトル（制度名）", "市町村", "受付終了日", "詳細参照先"}
    assert all("columns look shifted" in p.message for p in err.problems)
    assert "row 1 (id=b668cedc-9275-45d1-90bf-d293da873aa9): field '受付終了日': 'https://" in "\n".join(map(str, err.problems))
    assert err.summary().startswith(f"{shifted}: 32 malformed rows; nothing imported (first: row 1 (id=")
    assert counts(db) == before
    assert q(db, "SELECT dataset_id FROM datasets WHERE valid_to IS NULL") == current


def test_reimporting_the_same_file_is_a_no_op(db):
    path = civichat_versions()[0]
    first = import_dataset(db, path, source_id="civichat-shibuya")
    before = counts(db)
    again = import_dataset(db, path, source_id="civichat-shibuya")
    assert again["status"] == "unchanged" and again["dataset_id"] == first["dataset_id"] and again["current"]
    assert counts(db) == before


# ---------- small files written here (no ../shared needed) ----------

def test_small_civichat_file_history_and_out_of_order(db, tmp_path):
    v1, v2, old = tmp_path / "kids@2025-04-01.json", tmp_path / "kids@2025-05-01.json", tmp_path / "kids@2025-03-01.json"
    v1.write_bytes(civichat_json([record(1), record(2, **{"タイトル（制度名）": "児童扶養手当", "支援内容": "月額46,690円"})]))
    v2.write_bytes(civichat_json([record(1, 支援内容="児童1人につき13,600円")]))
    old.write_bytes(civichat_json([record(1, 支援内容="児童1人につき13,000円")]))
    r1 = import_dataset(db, v1)
    assert (r1["source_id"], r1["municipality"], r1["code"]) == ("civichat-kids", "渋谷区", "131130")  # 所管組織 渋谷区
    r2 = import_dataset(db, v2)
    assert r2["closed"] == r1["dataset_id"]
    assert q(db, "SELECT program, value_num, qualifier FROM secondary_facts WHERE kind = 'amount'") == [("児童育成手当", 13600.0, None)]
    with pytest.raises(DatasetError, match="import versions in date order"):
        import_dataset(db, old)
    assert counts(db)[0] == 2


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932"])
def test_csv_import(db, tmp_path, encoding):
    path = tmp_path / f"kids_{encoding}.csv"
    path.write_bytes(csv_bytes(CSV_ROWS, encoding))
    assert detect_format(path.read_bytes()) == "csv"
    result = import_dataset(db, path, source_id="kids-csv")
    assert (result["status"], result["format"], result["records"], result["facts"]) == ("imported", "csv", 4, 5)
    facts = q(db, "SELECT municipality, program, kind, qualifier, value->>'$', text, field FROM dataset_facts")
    assert q(db, "SELECT count(*), min(origin_kind), min(source_id) FROM secondary_facts") == [(5, "dataset", "kids-csv")]
    assert ("渋谷区", "児童育成手当", "amount", "月額", "13500", "児童1人につき月額13,500円", "text") in facts
    assert ("渋谷区", "児童育成手当", "phone", None, "+81334632558", "電話：03-3463-2558", "value") in facts
    assert ("北区", "ひとり親家庭休養ホーム事業", "age", "未満", "18", "18", "value") in facts
    assert ("練馬区", "ひとり親家庭自立支援給付金", "email", None, "hitorioya@city.nerima.tokyo.jp",
            "Hitorioya@City.Nerima.Tokyo.jp", "value") in facts
    assert ("渋谷区", "児童育成手当", "url", None, URL, URL, "url") in facts
    assert import_dataset(db, path, source_id="kids-csv")["status"] == "unchanged"


def test_malformed_csv_is_reported_row_by_row(db, tmp_path):
    table = CSV_ROWS + [
        ["児童育成手当", "amount", "月額", "13500", "", "", ""],            # municipality missing: shifted left
        ["渋谷区", "児童育成手当", "amount", "", "東京都渋谷区", "", ""],
        ["渋谷区", "児童育成手当", "amount", "", "13500", "月額13,600円", ""],
        ["渋谷区", "児童育成手当", "rate"],
    ]
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(table, "utf-8"))
    with pytest.raises(DatasetError) as info:
        import_dataset(db, path)
    text = [str(p) for p in info.value.problems]
    assert "row 6: field 'municipality': '児童育成手当' is not a municipality name — columns look shifted" in text
    assert "row 7: field 'value': '東京都渋谷区' is not an amount (yen)" in text
    assert "row 8: field 'value': '13500' does not match the text '月額13,600円' (13600)" in text
    assert "row 9: has 3 cells, the header has 7 — columns look shifted" in text
    assert info.value.malformed_rows == 4 and counts(db) == (0, 0)
    assert q(db, "SELECT count(*) FROM sources") == [(0,)]


def test_source_ids_dates_and_codes_come_from_the_file_and_the_municipality():
    assert default_source_id("datas_shibuya_systemsdata@2021-09-01_81a84d8.json", "civichat") == "civichat-shibuya"
    assert default_source_id("static_data_shibuyaParenting_systemsdata@x.json", "civichat") == "civichat-shibuya-parenting"
    assert default_source_id("kita_programs_2025-04-01.csv", "csv") == "dataset-kita-programs"
    assert default_source_id("児童手当.csv", "csv").startswith("dataset-")
    assert dataset_date("x@2021-09-01_81a84d8.json").isoformat() == "2021-09-01T00:00:00+09:00"
    assert dataset_date("programs.csv") is None
    assert (municipality_code("渋谷区"), municipality_code("東京都北区"), municipality_code("練馬区")) == ("131130", "131172", "131202")
    assert (municipality_code("全国"), municipality_code("熊本市")) == ("130001", None)


def test_a_fifo_or_a_directory_is_refused_without_blocking(db, tmp_path):
    import os

    fifo = tmp_path / "programs.json"
    os.mkfifo(fifo)  # nobody writes to it: reading would block forever
    for path in (fifo, tmp_path):
        with pytest.raises(DatasetError) as err:
            import_dataset(db, path)
        assert err.value.summary() == (f"{path}: nothing imported: not a regular file "
                                       "(a FIFO, device or directory cannot be a dataset)")
    assert counts(db) == (0, 0)


def test_an_oversized_file_is_refused_before_parsing(db, tmp_path, monkeypatch):
    import wardwatch.stages.datasets as stage

    monkeypatch.setattr(stage, "MAX_DATASET_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_bytes(civichat_json([record(i) for i in range(10)]))
    with pytest.raises(DatasetError) as err:
        import_dataset(db, path)
    assert err.value.summary() == (f"{path}: nothing imported: {path.stat().st_size:,} bytes: larger than the "
                                   "0 MiB a dataset may have")
    assert counts(db) == (0, 0)


def test_many_facts_load_in_chunks_with_their_order(db, tmp_path, monkeypatch):
    import warehouse.datasets as store

    monkeypatch.setattr(store, "FACT_CHUNK", 7)
    path = tmp_path / "datas_many_systemsdata@2026-01-01_x.json"
    path.write_bytes(civichat_json([record(i, 支援内容=f"月額{10000 + i:,}円") for i in range(20)]))
    result = import_dataset(db, path)
    amounts = q(db, "SELECT seq, value_num FROM dataset_facts WHERE kind = 'amount' AND field = '支援内容' ORDER BY seq")
    assert result["facts"] == q(db, "SELECT count(*) FROM dataset_facts")[0][0]
    assert [int(v) for _, v in amounts] == [10000 + i for i in range(20)]
    assert [s for (s,) in q(db, "SELECT seq FROM dataset_facts ORDER BY seq")] == list(range(result["facts"]))
