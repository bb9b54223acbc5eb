"""Diff benchmark: N URLs x 3 versions with facts, synthesized straight into a warehouse.

Versions 1-2 of every URL are history (already diffed); the "new run" brings version 3.
Prints the time to compute changes and flags for the new run (incremental: only the new
versions are diffed) next to a full recomputation of every version, their ratio, and peak RSS.

    python -m benchmarks.diff [--urls 100000]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from wardwatch.stages.changes import detect_changes
from warehouse.schema import migrate

TEXT = ("ひとり親家庭住宅支援資金貸付\\n貸付額は上限' || ({amount}) || '万円、12か月間です。\\n"
        "お問い合わせ 電話 03-5984-' || lpad(({phone})::VARCHAR, 4, '0') || '\\n更新日:2025年4月1日")


def synthesize(db: Path, urls: int) -> None:
    """Sources, runs, versions (3 per URL), extractions and facts, via set-based SQL."""
    migrate(db)
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO sources VALUES ('bench', '練馬区', '131202', 'official', NULL, [], [], '0 6 * * *', now(), NULL)")
    for v in (1, 2, 3):
        con.execute(f"INSERT INTO runs (run_id, started_at, status) VALUES ('run{v}', TIMESTAMPTZ '2026-0{v}-01', 'ok')")
    # version v of URL i: amount changes on every 10th URL between versions, phone on every 7th; else noise
    amount = "4 + CASE WHEN i % 10 = 0 THEN v ELSE 0 END"
    phone = "1000 + CASE WHEN i % 7 = 0 THEN v ELSE 0 END"
    con.execute(f"""
        CREATE TEMP TABLE gen AS
        SELECT i, v, 'https://ward.example/p/' || i || '.html' AS url,
               md5('bench' || i || '-' || v || CASE WHEN i % 10 = 0 OR i % 7 = 0 THEN '' ELSE '' END) AS sha,
               'v' || i || '-' || v AS vid,
               TIMESTAMPTZ '2026-01-01' + INTERVAL (v) MONTH AS t,
               '{TEXT.format(amount=amount, phone=phone)}' AS main_text,
               {amount} AS amount, {phone} AS phone
        FROM range({urls}) r(i), range(1, 4) s(v)
    """)
    con.execute("""
        INSERT INTO versions SELECT vid, url, 'bench', sha, 'text/html', NULL, t,
            CASE WHEN v < 3 THEN t + INTERVAL 1 MONTH END, vid FROM gen""")
    con.execute("""
        INSERT INTO fetches (fetch_id, run_id, source_id, url, requested_url, fetched_at, status, sha256, outcome)
        SELECT vid, 'run' || v, 'bench', url, url, t, 200, sha, 'new_version' FROM gen""")
    con.execute("""
        INSERT INTO extractions SELECT sha, 'facts-1', t, 'ok', NULL, 'text/html', 'ページ ' || i, NULL, main_text, 3 FROM gen""")
    con.execute("""
        INSERT INTO facts
        SELECT sha, 'facts-1', 0, 'amount', (amount * 10000)::VARCHAR, amount * 10000, '上限' || amount || '万円', '上限',
               'ひとり親家庭住宅支援資金貸付', NULL, 20, 20 + length('上限' || amount || '万円'), NULL FROM gen
        UNION ALL
        SELECT sha, 'facts-1', 1, 'duration', '"P12M"', NULL, '12か月間', NULL, 'ひとり親家庭住宅支援資金貸付', NULL, 30, 35, NULL FROM gen
        UNION ALL
        SELECT sha, 'facts-1', 2, 'phone', '"+8135984' || lpad(phone::VARCHAR, 4, '0') || '"', NULL,
               '03-5984-' || lpad(phone::VARCHAR, 4, '0'), NULL, 'ひとり親家庭住宅支援資金貸付', NULL, 50, 62, NULL FROM gen
    """)
    con.close()




def clear_diffs(db: Path) -> None:
    con = duckdb.connect(str(db))
    for t in ("version_diffs", "fact_changes", "flag_records", "flag_evaluations"):
        con.execute(f"DELETE FROM {t}")
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--urls", type=int, default=100_000)
    args = ap.parse_args()
    today = date(2026, 11, 22)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        t0 = time.perf_counter()
        synthesize(db, args.urls)
        t_synth = time.perf_counter() - t0

        # history: diff versions 1-2 with version 3 held back (moved out of sight by a temp rename)
        con = duckdb.connect(str(db))
        con.execute("CREATE TABLE held_versions AS SELECT * FROM versions WHERE version_id LIKE '%-3'")
        con.execute("DELETE FROM versions WHERE version_id LIKE '%-3'")
        con.execute("UPDATE versions SET valid_to = NULL WHERE version_id LIKE '%-2'")
        con.close()
        detect_changes(db, today=today)

        # the new run: version 3 arrives
        con = duckdb.connect(str(db))
        con.execute("UPDATE versions SET valid_to = valid_from + INTERVAL 1 MONTH WHERE version_id LIKE '%-2'")
        con.execute("INSERT INTO versions SELECT * FROM held_versions")
        con.execute("DROP TABLE held_versions")
        con.close()
        t0 = time.perf_counter()
        inc = detect_changes(db, today=today)
        t_inc = time.perf_counter() - t0

        clear_diffs(db)
        t0 = time.perf_counter()
        full = detect_changes(db, today=today)
        t_full = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"warehouse: {args.urls:,} URLs x 3 versions, 3 facts each (synthesized in {t_synth:.1f} s)")
    print(f"{'':44}{'seconds':>9}{'versions':>10}{'fact changes':>14}{'flags open':>12}")
    print(f"{'new run, incremental (only new versions)':44}{t_inc:9.1f}{inc['versions_diffed']:10,}{inc['changes']:14,}"
          f"{inc['flags_opened']:12,}")
    print(f"{'full recomputation (every version)':44}{t_full:9.1f}{full['versions_diffed']:10,}{full['changes']:14,}"
          f"{full['flags_opened']:12,}")
    print(f"incremental / full time: {t_inc / t_full:.2f}")
    print(f"peak RSS: {rss:.0f} MB")


if __name__ == "__main__":
    main()
