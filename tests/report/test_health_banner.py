"""The run-health banner: a crawl that failed never reads as "nothing changed" (report, Markdown)."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from wardwatch.report.html import report_page
from wardwatch.report.markdown import to_markdown
from wardwatch.report.model import build_report


def _source(sid: str, *, failed: bool, errors: int = 0, kinds: dict[str, int] | None = None) -> dict:
    return {"source_id": sid, "municipality": "練馬区", "source_kind": "official", "run_id": "r1",
            "fetched": 0 if failed else 10, "errors": errors, "ok": 0 if failed else 10 - errors, "failed": failed,
            "error_kinds": kinds or {}, "reason": "DNS lookup failed: no results for hostname lookup: x.example"
            if failed else None}


def _model(health: list[dict]) -> dict:
    return build_report({"changes": [], "flags": [], "health": health, "generated_at": None})


def test_every_source_failed_is_loud_and_never_all_clear() -> None:
    health = [_source(f"s{i}", failed=True, errors=1, kinds={"dns": 1}) for i in range(12)]
    model = _model(health)
    banner = model["run_health"]
    assert banner["level"] == "failed" and not banner["trustworthy"]
    assert banner["message"] == "12件中12件のソースを取得できませんでした — 変更なしではありません"
    html = report_page(model)
    assert "12件中12件のソースを取得できませんでした" in html
    assert html.index("12件中12件") < html.index('id="summary"')  # the first thing an editor sees
    assert "対応が必要な項目はありません" not in html and "新しい変更はありません。" not in html
    assert "ホスト名を解決できません" in html  # the error kind explained in Japanese
    md = to_markdown(model)
    assert "12件中12件のソースを取得できませんでした" in md
    assert "対応が必要な項目はありません" not in md and "新しい変更はありません。" not in md


@pytest.mark.parametrize(("health", "level", "text"), [
    ([_source("a", failed=True), _source("b", failed=False)], "partial", "2件中1件のソースを取得できませんでした"),
    ([_source("a", failed=False, errors=2, kinds={"http_404": 2}), _source("b", failed=False)], "errors",
     "2件のソースを取得しました(うち1件は一部のページでエラー)"),
    ([_source("a", failed=False)], "ok", "1件のソースをすべて取得しました"),
    ([], "none", "まだクロールの記録がありません"),
])
def test_banner_levels(health: list[dict], level: str, text: str) -> None:
    banner = _model(health)["run_health"]
    assert banner["level"] == level
    assert banner["message"].startswith(text)
    assert banner["trustworthy"] is (level in ("ok", "errors"))


def _tables(md: str) -> list[list[list[str]]]:
    """Each GFM table as rows of cells, parsed by markdown-it (so a malformed table is not a table)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    tables, rows, row = [], None, None
    for t in tokens:
        if t.type == "table_open":
            rows = []
        elif t.type == "tr_open":
            row = []
        elif t.type == "inline" and row is not None:
            row.append(t.content)
        elif t.type == "tr_close":
            rows.append(row)
            row = None
        elif t.type == "table_close":
            tables.append(rows)
    return tables


def test_markdown_tables_are_well_formed_with_and_without_flag_columns() -> None:
    health = [_source("a", failed=True, errors=1, kinds={"dns": 1}), _source("b", failed=False, errors=1,
                                                                            kinds={"http_503": 1})]
    md = to_markdown(_model(health))
    for line in md.splitlines():
        if line.startswith("|"):
            assert not re.search(r"\|\s*\|\s*$", line), line  # no empty trailing column
    tables = _tables(md)
    assert tables, md
    for table in tables:
        assert len({len(r) for r in table}) == 1, table
    health_table = tables[-1]
    assert health_table[0] == ["ソース", "区", "取得", "エラー", "状態", "内訳"]
    assert "ホスト名を解決できません" in health_table[1][5]
