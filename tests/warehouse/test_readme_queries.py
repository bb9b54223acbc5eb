"""Every example query in the README's "Example queries" runs on a filled warehouse, and the program queries
return what they promise (docs checked by tests)."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.support.helpers import ROOT, fill_demo
from warehouse.db import Warehouse


def readme_queries() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Example queries", 1)[1].split("\n## ", 1)[0]
    sql = "\n".join(re.findall(r"```sql\n(.*?)```", section, re.S))
    return [st.query.strip() for st in duckdb.extract_statements(sql) if st.query.strip()]


def test_the_readme_has_example_queries_for_programs() -> None:
    queries = readme_queries()
    assert len(queries) >= 10
    assert any("FROM program_facts" in q for q in queries) and any("FROM programs" in q for q in queries)


@pytest.mark.slow  # fills a warehouse from the demo site (two runs)
def test_every_readme_example_query_runs(tmp_path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    fill_demo(wh)
    results = {}
    with wh.connect(read_only=True) as con:
        for sql in readme_queries():
            results[sql] = con.execute(sql).fetchall()  # a broken example raises here
    by_ward = next(rows for sql, rows in results.items() if "program_id = 'jido-fuyo-teate'" in sql)
    assert {r[0] for r in by_ward} == {"練馬区"} and {r[3] for r in by_ward} >= {46690}
    history = next(rows for sql, rows in results.items() if "FROM program_history" in sql)
    official = [(r[1] is None, r[4]) for r in history if "/syuurou.html" in r[5] and r[2] == "amount"]
    assert sorted(official) == [(False, "上限4万円"), (True, "上限5万円")]  # the old value ended, the new one holds
