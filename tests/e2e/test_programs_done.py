"""Issue 12's "done when", end to end on a loopback site: an official ward page, a 広報 PDF and a secondary
summary of several years ago, crawled by `wardwatch run --no-prefect` (child process), then a revision.

* `wardwatch programs` lists each program once per municipality, with facts from all three documents;
* the summary's national amounts of FY2019 are flagged `outdated_amount`, naming that year;
* the GIF export of the ward's housing-loan program carries its 上限 amount and contact phone with evidence,
  and changes after the revision (上限4万円 → 5万円).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from spiders.registry import to_toml
from tests.support.helpers import wardwatch
from wardwatch.demo.script import demo_site_root, loopback_entry
from wardwatch.demo.server import SiteServer

pytestmark = pytest.mark.slow  # crawls in a child process

HOUSING = "hitorioya-jutaku-shien-shikin-kashitsuke"

OFFICIAL = """<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">
<title>ひとり親家庭住宅支援資金貸付｜練馬区公式ホームページ</title></head><body>
<div id="main"><h1>ひとり親家庭住宅支援資金貸付</h1>
<p>母子・父子自立支援プログラムの策定を受け、自立に向けて意欲的に取り組んでいる方に、住宅費を貸し付けます。</p>
<h2>貸付額</h2>
<p>月額上限{limit}（最長12か月間）</p>
<h2>償還</h2>
<p>償還期限は貸付期間満了後20年以内です。1年以内に就職し1年間継続して就業した場合は償還が免除されます。</p>
<h2>お問い合わせ</h2>
<p>生活福祉課ひとり親家庭支援係　電話：03-5984-1319</p>
<p><a href="documents/guide.pdf">ひとり親家庭のしおり（PDF）</a></p>
</div></body></html>"""

SUMMARY = """<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">
<title>練馬区のひとり親支援まとめ（令和元年度版）</title></head><body>
<div id="main"><h1>練馬区のひとり親支援まとめ（令和元年度版）</h1>
<p>令和元年6月現在の情報です。</p>
<h2>児童扶養手当</h2>
<p>全部支給の場合、児童1人目は月額42,910円です。</p>
<h2>特別児童扶養手当</h2>
<p>1級は月額52,200円、2級は月額34,770円です。</p>
<h2>住宅支援資金の貸付</h2>
<p>上限4万円を最長12か月まで借りられます。問い合わせは練馬区役所へ。</p>
</div></body></html>"""


def build(root: Path, limit: str) -> None:
    page = root / "nerima" / "hitorioya"
    (page / "documents").mkdir(parents=True, exist_ok=True)
    (page / "jutaku.html").write_text(OFFICIAL.replace("{limit}", limit), encoding="utf-8")
    pdf = demo_site_root() / "v1" / "nerima" / "kurashi" / "jinken" / "hitorioya" / "documents" / "hitorioya_guide.pdf"
    shutil.copyfile(pdf, page / "documents" / "guide.pdf")  # 練馬区's 広報 leaflet (令和7年度版): 児童扶養手当 46,690円
    (root / "matome").mkdir(exist_ok=True)
    (root / "matome" / "nerima.html").write_text(SUMMARY, encoding="utf-8")


def registry(base: str) -> str:
    return to_toml([
        loopback_entry("nerima-official", base, "/nerima/hitorioya/jutaku.html", follow=["^/nerima/hitorioya/"],
                       max_depth=1),
        loopback_entry("nerima-matome", base, "/matome/nerima.html", kind="secondary", max_depth=0),
    ])


def ww(*args: str) -> str:
    done = wardwatch(*args, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def site(tmp_path: Path):
    root = tmp_path / "site"
    build(root, "4万円")
    with SiteServer(root) as server:
        server.tree = root
        yield server


def test_programs_outdated_amounts_and_gif_export_end_to_end(tmp_path: Path, site: SiteServer) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(registry(site.base), encoding="utf-8")
    db = tmp_path / "data" / "w.duckdb"
    ww("run", "--no-prefect", "--sources", str(sources), "--db", str(db), "--format", "json")

    programs = json.loads(ww("programs", "--db", str(db), "--format", "json"))
    keys = [(p["municipality"], p["program_id"]) for p in programs]
    assert len(keys) == len(set(keys)), "each program once per municipality"
    by_id = {p["program_id"]: p for p in programs if p["municipality"] == "練馬区"}
    housing = by_id[HOUSING]
    urls = {f["url"].removeprefix(site.base) for f in housing["facts"]}
    assert urls == {"/nerima/hitorioya/jutaku.html", "/matome/nerima.html"}  # official page and the summary
    fuyo = {f["url"].removeprefix(site.base) for f in by_id["jido-fuyo-teate"]["facts"]}
    assert fuyo == {"/nerima/hitorioya/documents/guide.pdf", "/matome/nerima.html"}  # the 広報 PDF and the summary

    # the summary's national amounts of FY2019 are outdated_amount flags naming that year
    flags = json.loads(ww("flags", "--db", str(db), "--open", "--format", "json"))
    outdated = [f for f in flags if f["rule"] == "outdated_amount" and f["url"].endswith("/matome/nerima.html")]
    said = " ".join(json.dumps(f["evidence"], ensure_ascii=False) for f in outdated)
    assert {f["program_id"] for f in outdated} >= {"jido-fuyo-teate", "tokubetsu-jido-fuyo-teate"}
    assert "42,910円" in said and "FY2019" in said and "48,050円" in said  # the year it belongs to, today's amount

    # GIF export: the housing loan's 上限 amount and contact phone, each with its evidence
    gif_file = tmp_path / "gif.json"
    ww("programs", "--db", str(db), "--format", "gif", "--municipality", "練馬区", "--program", HOUSING,
       "-o", str(gif_file))
    record = gif_record(gif_file)
    assert record["借入限度額"] == 40000
    assert "03-5984-1319" in json.dumps(record, ensure_ascii=False)
    evidence = json.dumps(record, ensure_ascii=False)
    assert "/nerima/hitorioya/jutaku.html" in evidence and "4万円" in evidence

    # the revision: 上限4万円 -> 5万円; the export follows it
    build(site.tree, "5万円")
    ww("run", "--no-prefect", "--sources", str(sources), "--db", str(db), "--format", "json")
    ww("programs", "--db", str(db), "--format", "gif", "--municipality", "練馬区", "--program", HOUSING,
       "-o", str(gif_file))
    assert gif_record(gif_file)["借入限度額"] == 50000
    csv_file = tmp_path / "gif.csv"
    ww("programs", "--db", str(db), "--format", "csv", "--municipality", "練馬区", "-o", str(csv_file))
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8-sig"))))
    assert any(r.get("借入限度額") in ("50000", "50,000") for r in rows)


def gif_record(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    records = data if isinstance(data, list) else data.get("records", [data])
    assert len(records) == 1
    return records[0]
