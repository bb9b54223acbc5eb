"""`wardwatch demo`: serve the bundled site, crawl, revise, crawl again, show the changes."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

from wardwatch.registry import local_source, to_toml
from wardwatch.sitesrv import DEMO_CONFIG, SiteServer
from wardwatch.subproc import crawl_subprocess


def demo_site_root() -> Path:
    return Path(str(resources.files("wardwatch") / "demo_site"))


def demo_registry(base: str) -> str:
    """The demo's source registry, pointing at the local server."""
    return to_toml([
        local_source("demo-nerima", base, "/nerima/kurashi/jinken/hitorioya/index.html",
                     follow=["^/nerima/kurashi/jinken/hitorioya/"], max_depth=2),
        local_source("demo-kita", base, "/kita/kitahapi/mokuteki/hitori.html", municipality="北区", code="131172",
                     follow=["^/kita/"], max_depth=1, schedule="15 6 * * *"),
        local_source("demo-matome-nerima", base, "/press/nerima-matome.html", kind="secondary", max_depth=0,
                     schedule="0 9 * * 1"),
        local_source("demo-mamamoi-kita", base, "/press/225813.html", municipality="北区", code="131172",
                     kind="secondary", max_depth=0, schedule="0 9 * * 1"),
    ])


def _prepare_db(db_path: Path) -> None:
    from warehouse.db import connect, staging_dir

    if db_path.exists():
        with connect(db_path, read_only=True) as con:
            tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            foreign = con.execute("SELECT count(*) FROM sources WHERE source_id NOT LIKE 'demo-%'").fetchone()[0] \
                if "sources" in tables else 0
        if foreign:
            from wardwatch.cli import Usage

            raise Usage(f"{db_path} holds non-demo sources; the demo replaces its warehouse, pick another --db")
        db_path.unlink()
        wal = db_path.with_name(db_path.name + ".wal")
        if wal.exists():
            wal.unlink()
    for leftover in staging_dir(db_path).glob("*") if staging_dir(db_path).exists() else []:
        leftover.unlink()


def run_demo(db_path: Path, fmt: str = "table") -> int:
    from wardwatch.cli import Failed
    from wardwatch.stages import diff_stage, extract_stage
    from warehouse.analyst import changes, flags

    db_path = Path(db_path)
    _prepare_db(db_path)
    root = demo_site_root()
    say = (lambda *a: print(*a, file=sys.stderr)) if fmt == "json" else print
    results = []
    with SiteServer(root / "v1", DEMO_CONFIG) as site:
        registry = db_path.parent / "demo-sources.toml"
        registry.parent.mkdir(parents=True, exist_ok=True)
        registry.write_text(demo_registry(site.base), encoding="utf-8")
        say(f"serving the demo ward site (v1) at {site.base}")
        for label, version in (("first crawl", "v1"), ("second crawl, after the site was revised", "v2")):
            site.root = root / version
            result = crawl_subprocess(registry, db_path, timeout=300)
            if result["status"] == "failed":
                raise Failed(f"demo crawl failed: {result['sources'][0]['reason']}")
            result["extract"] = extract_stage(db_path)
            result["diff"] = diff_stage(db_path)
            results.append(result)
            say(f"{label}: run {result['run_id']}: " + ", ".join(
                f"{s['source_id']} {s['fetched']} fetched/{s['new_versions']} new/{s['not_modified']} not modified"
                for s in result["sources"]) + f"; {result['extract']['facts']} facts extracted")
    fact_changes = changes(db_path, results[-1]["run_id"])
    open_flags = [f for f in flags(db_path, open_only=True) if f["rule"] != "broken_link"]
    from wardwatch.reporting import render

    report = db_path.with_name("demo-report.html")
    report.write_text(render(db_path, "html"), encoding="utf-8")
    if fmt == "json":
        print(json.dumps({"runs": results, "changes": fact_changes, "flags": open_flags}, ensure_ascii=False, indent=2,
                         default=str))
        return 0
    print("\nFacts that changed in the second crawl:")
    for c in fact_changes:
        print(f"  {_ward(c['url'])} {c['program']}: {c['kind']}"
              f"{' (' + c['qualifier'] + ')' if c['qualifier'] else ''} {c['before_text']} → {c['after_text']}"
              f" ({c['detected_at'][:10]})")
    print("\nOpen flags (outdated program data):")
    for f in open_flags:
        print(f"  [{f['severity']}] {f['rule']}: {f['program'] or '-'} — {_evidence_line(f)}")
    print(f"\neditor report: {report}  (one self-contained HTML file)")
    print(f"warehouse: {db_path}\n  try: wardwatch review --db {db_path}        # review app on http://127.0.0.1:8000"
          f"\n       wardwatch changes --db {db_path}\n       wardwatch flags --open --db {db_path}"
          f"\n       wardwatch query --db {db_path} \"SELECT * FROM current_facts WHERE kind = 'amount'\"")
    return 0


def _ward(url: str) -> str:
    return "練馬区" if "/nerima/" in url else ("北区" if "/kita/" in url else "")


def _evidence_line(flag: dict) -> str:
    ev = flag["evidence"] or {}
    if flag["rule"] == "secondary_outdated":
        ch, sec = ev.get("official_change", {}), ev.get("secondary", {})
        return f"{flag['url']} still says {sec.get('text')} (official: {ch.get('before_text')} → {ch.get('after_text')})"
    if flag["rule"] == "secondary_contradicts_official":
        official = ", ".join(o.get("text") or "" for o in ev.get("official", []))
        return f"{flag['url']} says {ev.get('secondary', {}).get('text')}, official pages say {official}"
    if flag["rule"] == "fact_changed":
        return f"{ev.get('before_text')} → {ev.get('after_text')} on {flag['url']}"
    if flag["rule"] == "stale_reference":
        return (f"{flag['url']} — newest date it states is {ev.get('text')} "
                f"({ev.get('age')} fiscal year(s) before FY{ev.get('current_fiscal_year')})")
    return f"{flag['url']}"
