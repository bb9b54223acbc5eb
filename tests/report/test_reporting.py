"""The change report: grouping, highlighting, escaping, Markdown/JSON output, reviews and noise rules.

A small warehouse is written row by row (no crawl): two wards state the same amount revision, one
page also changes a phone number, and a hostile page carries markup in its program name and text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import duckdb
import pytest

from tests.support.helpers import main
from tests.support.helpers import start_tags as parsed
from wardwatch.report.html import highlight, http_url, report_page
from wardwatch.report.markdown import to_markdown
from wardwatch.report.model import build_report, group_changes, side_by_side, snippet, to_json
from warehouse.db import Warehouse
from warehouse.review import (
    ReviewError,
    add_noise_rule,
    noise_rule_from_change,
    record_decisions,
    report_data,
    review_history,
)
from warehouse.schema import migrate

HOSTILE = '"><img src=x onerror=alert(1)><script>alert(1)</script>'
TEXT_A1 = "ひとり親家庭住宅支援資金貸付\n貸付額は上限4万円、12か月間です。\n相談係 | 03-5984-4742\n"
TEXT_A2 = "ひとり親家庭住宅支援資金貸付\n貸付額は上限5万円、12か月間です。\n相談係 | 03-5984-4700\n"
TEXT_B1 = "住宅支援資金\n家賃の貸付は上限4万円です。\n"
TEXT_B2 = "住宅支援資金\n家賃の貸付は上限5万円です。\n"
TEXT_H1 = f"{HOSTILE}\n受講料は月額3,000円{HOSTILE}です。\n"
TEXT_H2 = f"{HOSTILE}\n受講料は月額3,500円{HOSTILE}です。\n"


def _span(text: str, value: str) -> tuple[int, int]:
    start = text.index(value)
    return start, start + len(value)


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    wh = Warehouse(":memory:")
    migrate(wh)
    with wh.connect() as con:
        _fill(con)
    yield wh
    wh.close()


def _fill(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("INSERT INTO sources VALUES ('src-a', '練馬区', '131202', 'official', NULL, [], [], '0 6 * * *', now(), NULL),"
                "('src-b', '北区', '131172', 'official', NULL, [], [], '0 6 * * *', now(), NULL),"
                "('src-h', '練馬区', '131202', 'secondary', NULL, [], [], '0 6 * * *', now(), NULL)")
    pages = {"a": ("src-a", "https://a.example.jp/syuurou.html", TEXT_A1, TEXT_A2),
             "b": ("src-b", "https://b.example.jp/jutaku.html", TEXT_B1, TEXT_B2),
             "h": ("src-h", "https://h.example.jp/evil.html", TEXT_H1, TEXT_H2)}
    for key, (sid, url, t1, t2) in pages.items():
        for n, text in ((1, t1), (2, t2)):
            sha = f"{key}{n}" * 8
            body = f"<html><body><h1>{key}</h1><script>alert(1)</script><p>{text}</p></body></html>".encode()
            con.execute("INSERT INTO blobs VALUES (?, 'text/html', ?, ?, now())", [sha, len(body), body])
            con.execute("INSERT INTO versions VALUES (?, ?, ?, ?, 'text/html', 'utf-8', "
                        "TIMESTAMPTZ '2026-11-0{}T00:00:00Z', {}, 'f')".format(n, "NULL" if n == 2 else
                                                                              "TIMESTAMPTZ '2026-11-02T00:00:00Z'"),
                        [f"v{key}{n}", url, sid, sha])
            con.execute("INSERT INTO extractions VALUES (?, 'facts-1', now(), 'ok', NULL, 'text/html', ?, NULL, ?, 1)",
                        [sha, key, text])
        con.execute("INSERT INTO version_diffs VALUES (?, ?, ?, ?, TIMESTAMPTZ '2026-11-02T00:00:00Z', 'run-2', 'ok', "
                    "'content', NULL, NULL, 0, 0, 1, '[]', 'facts-1', now())", [f"v{key}2", f"v{key}1", url, sid])

    def change(key: str, seq: int, program: str | None, kind: str, qualifier: str | None, before, after, bt, at):
        t1, t2 = pages[key][2], pages[key][3]
        con.execute("INSERT INTO fact_changes VALUES (?, ?, ?, ?, ?, 'changed', ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                    [f"v{key}2", seq, program, kind, qualifier, json.dumps(before), json.dumps(after), bt, at,
                     *_span(t1, bt), *_span(t2, at)])

    change("a", 0, "ひとり親家庭住宅支援資金貸付", "amount", "上限", 40000, 50000, "上限4万円", "上限5万円")
    change("a", 1, "ひとり親家庭住宅支援資金貸付", "phone", None, "+81359844742", "+81359844700", "03-5984-4742", "03-5984-4700")
    change("b", 0, "住宅支援資金", "amount", "上限", 40000, 50000, "上限4万円", "上限5万円")
    change("h", 0, HOSTILE, "amount", "月額", 3000, 3500, "月額3,000円", "月額3,500円")
    ev = {"secondary": {"text": HOSTILE, "source": "javascript:alert(1)"},
          "official_change": {"before_text": "上限4万円", "after_text": HOSTILE, "url": "https://a.example.jp/syuurou.html"}}
    con.execute("INSERT INTO flag_records VALUES ('flag-h', 'secondary_outdated', 'high', 'src-h', ?, ?, 'amount', ?, "
                "now(), now(), NULL, NULL, NULL)", [pages["h"][1], HOSTILE, json.dumps(ev)])
    ev = {"url": "https://a.example.jp/gone.html", "status": 404, "linked_from": "https://a.example.jp/syuurou.html"}
    con.execute("INSERT INTO flag_records VALUES ('flag-l', 'broken_link', 'medium', 'src-a', ?, NULL, NULL, ?, now(), "
                "now(), NULL, NULL, NULL)", [ev["url"], json.dumps(ev)])
    con.execute("INSERT INTO runs VALUES ('run-2', now(), now(), 'partial', ['src-a', 'src-b'], 2, 0, 0, 0, 1, '{}', NULL)")
    con.execute("INSERT INTO fetches (fetch_id, run_id, source_id, url, requested_url, fetched_at, status, outcome, "
                "error_kind, error, depth) VALUES ('f1', 'run-2', 'src-a', 'u', 'u', now(), 200, 'unchanged', NULL, NULL, 0),"
                "('f2', 'run-2', 'src-b', 'v', 'v', now(), NULL, 'error', 'dns', 'DNS lookup failed', 0)")


def test_the_same_change_on_many_pages_is_grouped_once_with_its_pages(wh):
    model = build_report(report_data(wh))
    groups = model["change_groups"]
    (shared,) = [g for g in groups if g["after_text"] == "上限5万円"]
    assert shared["shared"] and len(shared["items"]) == 2
    assert shared["urls"] == [it["url"] for it in shared["items"]]  # in the items' order, once each
    assert sorted(shared["urls"]) == ["https://a.example.jp/syuurou.html", "https://b.example.jp/jutaku.html"]
    assert sorted(shared["municipalities"]) == ["北区", "練馬区"]
    assert len(groups) == 3  # amount (2 pages), phone, the hostile page's amount
    # same ward and program: grouped too, but not "shared"
    one = [{"kind": "amount", "qualifier": "上限", "before": 1, "after": 2, "municipality": "X", "program": "P",
            "url": u, "change": "changed", "before_text": "1円", "after_text": "2円", "state": "new"} for u in "ab"]
    (g,) = group_changes(one)
    assert len(g["items"]) == 2 and not g["shared"] and (g["municipality"], g["program"]) == ("X", "P")


def test_the_value_is_highlighted_in_its_sentence(wh):
    s = snippet(TEXT_A2, *_span(TEXT_A2, "上限5万円"), "上限5万円")
    assert s == {"before": "貸付額は", "text": "上限5万円", "after": "、12か月間です。"}
    assert str(highlight(s)) == "貸付額は<mark>上限5万円</mark>、12か月間です。"
    # stale offsets fall back to the first occurrence of the value; an unknown value gives nothing
    assert snippet(TEXT_A2, 0, 3, "上限5万円")["text"] == "上限5万円"
    assert snippet(TEXT_A2, 0, 3, "上限9万円") is None
    html = report_page(build_report(report_data(wh)))
    assert "貸付額は<mark>上限4万円</mark>、12か月間です。" in html
    assert "家賃の貸付は<mark>上限5万円</mark>です。" in html
    assert "4万円" in html and "40000" not in html  # values as the source writes them


def test_hostile_strings_are_escaped_everywhere(wh):
    assert str(highlight({"before": "<b>", "text": HOSTILE, "after": "&"})) == (
        "&lt;b&gt;<mark>&#34;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(1)&lt;/script&gt;</mark>&amp;")
    assert http_url("javascript:alert(1)") == "" and http_url(" JAVASCRIPT:alert(1)") == ""
    html = report_page(build_report(report_data(wh), status="all"))
    tags = parsed(html)
    assert not [t for t, _ in tags if t in ("script", "img", "iframe", "object", "embed")]
    assert not [a for _, attrs in tags for name in attrs if name.startswith("on") for a in [name]]
    assert not [v for _, attrs in tags for v in attrs.values() if v and v.strip().lower().startswith("javascript:")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Content-Security-Policy" in html  # and the static file may load nothing anyway
    assert not re.search(r"<(?:link|script)\b|https?://[^\"' ]*\.(?:css|js|woff2?)\b|@import", html)


def test_markdown_output(wh):
    md = to_markdown(build_report(report_data(wh)))
    assert md.startswith("# wardwatch 変更レポート")
    assert "| 練馬区 | 3 |" in md and "| 北区 | 1 |" in md
    assert "### 複数のページに共通する変更" in md
    assert "貸付額は**上限4万円**、12か月間です。" in md
    assert "上限4万円 → 上限5万円 — 2ページ" in md
    assert "```diff" in md and "- 貸付額は上限4万円、12か月間です。" in md and "+ 貸付額は上限5万円、12か月間です。" in md
    outside_code = re.sub(r"^(`{3,})diff\n.*?^\1$", "", md, flags=re.S | re.M)
    assert "```" not in outside_code  # every fence closed
    assert "<img" not in outside_code and "<script" not in outside_code and "&lt;script&gt;" in outside_code
    assert "[javascript" not in md and "(javascript:" not in md
    assert "src-b" in md and "失敗" in md  # crawl health: src-b's start page failed
    assert "https://a.example.jp/gone.html" in md


def test_json_output_shape(wh):
    out = json.loads(to_json(build_report(report_data(wh))))
    assert set(out) >= {"generated_at", "scope", "summary", "hidden", "change_groups", "diffs", "flags", "health"}
    g = out["change_groups"][0]
    assert set(g) >= {"kind", "qualifier", "before", "after", "before_text", "after_text", "items", "urls", "state"}
    item = g["items"][0]
    assert set(item) >= {"item_key", "url", "municipality", "program", "before_snippet", "after_snippet",
                         "after_version_id", "after_sha256", "state", "review"}
    assert re.fullmatch(r"v[abh]2:\d+", item["item_key"])
    assert out["summary"]["total"]["changes"] == 4
    assert {f["rule"] for f in out["flags"]} == {"secondary_outdated"}
    assert [f["rule"] for f in out["health"]["broken_links"]] == ["broken_link"]
    assert [s["source_id"] for s in out["health"]["sources"] if s["failed"]] == ["src-b"]
    assert all("rows" not in d for d in out["diffs"])


def test_reviews_hide_items_and_keep_history(wh):
    record_decisions(wh, [("change", "va2:1")], "follow_up", note="電話で確認する", reviewer="佐藤")
    record_decisions(wh, [("change", "va2:1")], "reviewed", reviewer="佐藤")
    record_decisions(wh, [("flag", "flag-h")], "reviewed", reviewer="佐藤")
    assert [h["status"] for h in review_history(wh, "change", "va2:1")] == ["reviewed", "follow_up"]
    model = build_report(report_data(wh))
    keys = {it["item_key"] for g in model["change_groups"] for it in g["items"]}
    assert "va2:1" not in keys and model["hidden"] == {"reviewed": 2}
    assert model["flags"] == []
    everything = build_report(report_data(wh), status="all")
    (phone,) = [g for g in everything["change_groups"] if g["kind"] == "phone"]
    assert phone["state"] == "reviewed" and phone["items"][0]["review"]["reviewer"] == "佐藤"
    with pytest.raises(ReviewError):
        record_decisions(wh, [("change", "va2:1")], "noise")  # a reason is required
    with pytest.raises(ReviewError):
        record_decisions(wh, [("change", "nope:1")], "reviewed")


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_a_noise_rule_hides_the_same_change_of_that_source_only(wh):
    (review_id,) = record_decisions(wh, [("change", "va2:0")], "noise", reason="共通テンプレートの更新")
    rule = noise_rule_from_change(wh, "va2:0", reason="共通テンプレートの更新", review_id=review_id, created_by="佐藤")
    assert noise_rule_from_change(wh, "va2:0") == rule  # the same rule is not stored twice
    record_decisions(wh, [("change", "va2:0")], "follow_up")  # an explicit decision wins over the rule...
    record_decisions(wh, [("change", "va2:0")], "noise", reason="やはりノイズ")
    data = report_data(wh)
    by_key = {f"{c['after_version_id']}:{c['seq']}": c for c in data["changes"]}
    assert by_key["va2:0"]["noise_rule_id"] == rule
    assert by_key["vb2:0"]["noise_rule_id"] is None  # same change, other source: still reported
    model = build_report(data)
    (amount,) = [g for g in model["change_groups"] if g["after_text"] == "上限5万円"]
    assert [it["url"] for it in amount["items"]] == ["https://b.example.jp/jutaku.html"]
    # a pattern rule on the other source hides it without any decision; nothing is deleted
    add_noise_rule(wh, "src-b", kind="amount", pattern=r"上限\d万円 → 上限\d万円", created_by="佐藤")
    model = build_report(report_data(wh))
    assert not [g for g in model["change_groups"] if g["after_text"] == "上限5万円"]
    assert model["hidden"].get("noise_rule") == 1
    assert len(report_data(wh)["changes"]) == 4


def test_side_by_side_rows_cut_unchanged_text():
    before = "\n".join(f"line {i}" for i in range(20))
    after = before.replace("line 10", "line X")
    rows = side_by_side(before, after, context=1)
    assert [r["type"] for r in rows] == ["gap", "same", "change", "same", "gap"]
    change = rows[2]
    assert (change["left_no"], change["right_no"]) == (11, 11)
    assert change["left"] == [["line ", False], ["10", True]]  # only the changed characters are marked
    assert change["right"] == [["line ", False], ["X", True]]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_report_command(wh, tmp_path, capsys):
    """The command over this warehouse: its own data through every format (exit codes: tests/cli/test_report.py)."""
    out = tmp_path / "r" / "report.html"
    assert main(["report", "-o", str(out)], warehouse=wh) == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert main(["report", "--format", "json", "--since", "2026-11-01"], warehouse=wh) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["total"]["changes"] == 4
    assert main(["report", "--format", "json", "--since", "run-2"], warehouse=wh) == 2  # not a run id's shape
    assert capsys.readouterr().err.endswith("got 'run-2'\n")
    assert main(["report", "--format", "md", "--since", "2027-01-01"], warehouse=wh) == 0
    assert "新しい変更はありません" in capsys.readouterr().out


def _archive_links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]*)">保存版 ', html) + re.findall(r'前の版 <a href="([^"]*)"', html)


def test_the_standalone_file_embeds_every_archived_version_it_links_to(wh, tmp_path, monkeypatch):
    monkeypatch.delenv("WARDWATCH_REVIEW_URL", raising=False)
    out = tmp_path / "report.html"
    assert main(["report", "-o", str(out)], warehouse=wh) == 0
    html = out.read_text(encoding="utf-8")
    links = _archive_links(html)
    assert links and all(h.startswith("#archive-") for h in links)  # nothing points at a missing file
    for href in set(links):
        vid = href.removeprefix("#archive-")
        body = html.split(f'id="archive-{vid}"', 1)[1].split('<div class="archived"', 1)[0]
        text = {"va1": TEXT_A1, "va2": TEXT_A2, "vb1": TEXT_B1, "vb2": TEXT_B2}.get(vid)
        if text:
            assert f'<pre class="text">{text}</pre>' in body, vid
    assert set(links) >= {"#archive-va1", "#archive-va2", "#archive-vb2", "#archive-vh2"}
    hostile = html.split('id="archive-vh2"', 1)[1].split('<div class="archived"', 1)[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile and "<script" not in hostile  # escaped like the rest


def test_archive_links_point_at_the_review_app_when_its_address_is_known(wh, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("WARDWATCH_REVIEW_URL", raising=False)
    out = tmp_path / "report.html"
    assert main(["report", "-o", str(out), "--app-url", "http://127.0.0.1:8000/"], warehouse=wh) == 0
    html = out.read_text(encoding="utf-8")
    assert set(_archive_links(html)) >= {"http://127.0.0.1:8000/archive/va2", "http://127.0.0.1:8000/archive/va1"}
    assert 'id="archive"' not in html and 'href="http://127.0.0.1:8000/">レビュー画面</a>' in html
    monkeypatch.setenv("WARDWATCH_REVIEW_URL", "http://review.example.jp:8080")
    assert main(["report", "-o", str(out)], warehouse=wh) == 0
    assert "http://review.example.jp:8080/archive/va2" in _archive_links(out.read_text(encoding="utf-8"))
    assert main(["report", "-o", str(out), "--app-url", "javascript:alert(1)"], warehouse=wh) == 2
    assert "--app-url: expected the review app's http(s) address" in capsys.readouterr().err


def test_a_change_and_its_fact_changed_flag_are_one_row_in_the_report(wh):
    with wh.connect() as con:
        ev = {"url": "https://a.example.jp/syuurou.html", "program": "ひとり親家庭住宅支援資金貸付", "kind": "amount",
              "qualifier": "上限", "before_text": "上限4万円", "after_text": "上限5万円", "after_version_id": "va2",
              "before_version_id": "va1"}
        con.execute("INSERT INTO flag_records VALUES ('flag-fc', 'fact_changed', 'high', 'src-a', ?, ?, 'amount', ?, "
                    "now(), now(), NULL, NULL, NULL)", [ev["url"], ev["program"], json.dumps(ev)])
    model = build_report(report_data(wh))
    assert "flag-fc" in {f["flag_id"] for f in model["flags"]}  # the model keeps it (Markdown, JSON, counts) ...
    html = report_page(model)
    assert 'id="f-flag-fc"' not in html  # ... the page shows it on its change
    (row,) = re.findall(r'<li class="page" id="c-va2:0"[^>]*>', html)
    assert 'data-flags="flag-fc"' in row
    assert html.count("公式情報の変更") >= 1
    record_decisions(wh, [("change", "va2:0")], "reviewed")
    assert {f["flag_id"]: f["status"] for f in report_data(wh)["flags"]}["flag-fc"] == "reviewed"
