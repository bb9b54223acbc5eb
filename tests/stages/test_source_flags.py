"""source_failing: a source whose crawls fail run after run is a flag of its own; it closes when a crawl works."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wardwatch.stages.flags import evaluate_flags, evaluate_source_flags
from warehouse.db import Warehouse
from warehouse.schema import migrate


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    wh = Warehouse(":memory:")
    migrate(wh)
    with wh.connect() as con:
        con.execute("INSERT INTO sources VALUES ('kita', '北区', '131172', 'official', NULL, "
                    "['https://www.city.kita.tokyo.jp/'], [], '0 6 * * *', now(), NULL), "
                    "('nerima', '練馬区', '131202', 'official', NULL, ['https://www.city.nerima.tokyo.jp/'], [], '', now(), NULL)")
    yield wh
    wh.close()


def crawl(wh: Warehouse, run: str, hour: int, source: str, *, ok: bool) -> None:
    with wh.connect() as con:
        con.execute("INSERT INTO runs (run_id, started_at, status, source_ids) "
                    "VALUES (?, TIMESTAMPTZ '2026-12-01 00:00:00+00' + to_hours(?), ?, [?])",
                    [run, hour, "ok" if ok else "failed", source])
        con.execute("INSERT INTO fetches (fetch_id, run_id, source_id, url, requested_url, fetched_at, status, outcome, "
                    "error_kind, error, depth) VALUES (?, ?, ?, 'https://x/', 'https://x/', now(), ?, ?, ?, ?, 0)",
                    [f"f-{run}", run, source, 200 if ok else None, "new" if ok else "error",
                     None if ok else "dns", None if ok else "DNS lookup failed: www.city.kita.tokyo.jp"])


def open_source_flags(wh: Warehouse) -> list[tuple]:
    with wh.connect() as con:
        return con.execute("SELECT source_id, url, evidence->>'failed_runs' FROM flag_records "
                           "WHERE rule = 'source_failing' AND closed_at IS NULL ORDER BY source_id").fetchall()


def test_opens_after_two_failed_crawls_in_a_row_and_closes_on_recovery(wh: Warehouse) -> None:
    crawl(wh, "r1", 1, "kita", ok=True)
    crawl(wh, "r2", 2, "kita", ok=False)
    assert evaluate_source_flags(wh) == {"flags_opened": 0, "flags_closed": 0}  # one failure: the banner says it
    crawl(wh, "r3", 3, "kita", ok=False)
    crawl(wh, "r3n", 3, "nerima", ok=True)
    assert evaluate_source_flags(wh)["flags_opened"] == 1
    assert open_source_flags(wh) == [("kita", "https://www.city.kita.tokyo.jp/", "2")]
    crawl(wh, "r4", 4, "kita", ok=False)
    evaluate_source_flags(wh)
    assert open_source_flags(wh) == [("kita", "https://www.city.kita.tokyo.jp/", "3")]  # same flag, evidence updated
    crawl(wh, "r5", 5, "kita", ok=True)
    assert evaluate_source_flags(wh) == {"flags_opened": 0, "flags_closed": 1}
    assert open_source_flags(wh) == []


def test_source_evaluation_leaves_other_flags_alone_and_the_full_evaluation_includes_it(wh: Warehouse) -> None:
    with wh.connect() as con:
        con.execute("INSERT INTO flag_records VALUES ('other', 'broken_link', 'low', 'nerima', 'https://x/a', NULL, NULL, "
                    "'{}', now(), now(), NULL, NULL, NULL)")
    crawl(wh, "r1", 1, "kita", ok=False)
    crawl(wh, "r2", 2, "kita", ok=False)
    evaluate_source_flags(wh)
    with wh.connect() as con:
        assert con.execute("SELECT closed_at FROM flag_records WHERE flag_id = 'other'").fetchone() == (None,)
    from datetime import date

    evaluate_flags(wh, today=date(2026, 12, 1))
    assert open_source_flags(wh) == [("kita", "https://www.city.kita.tokyo.jp/", "2")]
