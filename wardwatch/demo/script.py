"""`wardwatch demo`: serve the bundled site, run the main job, revise the site, run it again, show
the changes. The runs are the runner's (``wardwatch/runner.py``), exactly as `wardwatch run --no-prefect`."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from diffs.rules import RULES
from extractors.termsafe import safe_json, safe_print
from spiders.registry import to_toml
from wardwatch.demo.server import DEMO_CONFIG, SiteServer
from wardwatch.outfile import write_output
from wardwatch.report import render
from wardwatch.runner import RunOptions, run
from warehouse.analyst import changes, flags
from warehouse.db import connect, staging_dir
from warehouse.read import earliest_run


class DemoError(RuntimeError):
    """The demo could not run (exit 1)."""


class ForeignWarehouse(DemoError):
    """The demo warehouse holds real sources: refuse to replace it (exit 2)."""


def demo_site_root() -> Path:
    return Path(str(resources.files("wardwatch.demo") / "site"))


def loopback_entry(sid: str, base: str, start: str, *, municipality: str = "練馬区", code: str = "131202",
                   kind: str = "official", follow: list[str] | tuple[str, ...] = (), max_depth: int = 2,
                   schedule: str = "0 6 * * *", **extra: object) -> dict:
    """A registry entry for a site served on 127.0.0.1 (the demo; tests and benchmarks too): no politeness delay."""
    return {"id": sid, "municipality": municipality, "code": code, "kind": kind, "start_urls": [base + start],
            "allowed_domains": ["127.0.0.1"], "follow": list(follow), "max_depth": max_depth, "schedule": schedule,
            "delay_seconds": 0, **extra}


def demo_registry(base: str) -> str:
    """The demo's source registry, pointing at the local server."""
    return to_toml([
        loopback_entry("demo-nerima", base, "/nerima/kurashi/jinken/hitorioya/index.html",
                       follow=("^/nerima/kurashi/jinken/hitorioya/",)),
        loopback_entry("demo-kita", base, "/kita/kitahapi/mokuteki/hitori.html", municipality="北区", code="131172",
                       follow=("^/kita/",), max_depth=1, schedule="15 6 * * *"),
        loopback_entry("demo-matome-nerima", base, "/press/nerima-matome.html", kind="secondary", max_depth=0,
                       schedule="0 9 * * 1"),
        loopback_entry("demo-mamamoi-kita", base, "/press/225813.html", municipality="北区", code="131172",
                       kind="secondary", max_depth=0, schedule="0 9 * * 1"),
    ])


def _prepare_db(db_path: Path) -> None:
    if db_path.exists():
        with connect(db_path, read_only=True) as con:
            tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            foreign = con.execute("SELECT count(*) FROM sources WHERE source_id NOT LIKE 'demo-%'").fetchone()[0] \
                if "sources" in tables else 0
        if foreign:
            raise ForeignWarehouse(f"{db_path} holds non-demo sources; the demo replaces its warehouse, pick another --db")
        db_path.unlink()
        wal = db_path.with_name(db_path.name + ".wal")
        if wal.exists():
            wal.unlink()
    for leftover in staging_dir(db_path).glob("*") if staging_dir(db_path).exists() else []:
        leftover.unlink()


def run_demo(db_path: Path, fmt: str = "table") -> int:
    db_path = Path(db_path)
    _prepare_db(db_path)
    root = demo_site_root()
    say = (lambda *a: safe_print(*a, file=sys.stderr)) if fmt == "json" else safe_print
    results = []
    with SiteServer(root / "v1", DEMO_CONFIG) as site:
        registry = db_path.parent / "demo-sources.toml"
        registry.parent.mkdir(parents=True, exist_ok=True)
        registry.write_text(demo_registry(site.base), encoding="utf-8")
        say(f"serving the demo ward site (v1) at {site.base}")
        ids = ["demo-nerima", "demo-kita", "demo-matome-nerima", "demo-mamamoi-kita"]
        for label, version in (("first run", "v1"), ("second run, after the site was revised", "v2")):
            site.root = root / version
            summary = run(RunOptions(registry.resolve(), db_path.resolve(), ids))
            if summary["status"] == "failed":
                raise DemoError(f"demo run failed: {summary['message']}")
            results.append(summary)
            facts = sum(s["extract"]["facts"] for s in summary["sources"].values() if s["status"] == "ok")
            say(f"{label}: " + ", ".join(
                f"{sid} {row['fetched']} fetched/{row['new_versions']} new/{row['not_modified']} not modified"
                for sid, s in summary["sources"].items() if s["status"] == "ok"
                for row in s["crawl"]["sources"] if row["source_id"] == sid) + f"; {facts} facts extracted")
    first = earliest_run(db_path, results[-1]["run_ids"])
    fact_changes = changes(db_path, first) if first else []
    open_flags = flags(db_path, open_only=True)  # every open flag the report shows, crawl health included
    report = db_path.with_name("demo-report.html")
    write_output(report, render(db_path, "html"))
    if fmt == "json":
        runs = [{"status": r["status"], "run_ids": r["run_ids"], "sources": r["sources"], "report": r["report"]["path"]}
                for r in results]
        print(safe_json({"runs": runs, "changes": fact_changes, "flags": open_flags}, indent=2, default=str))
        return 0
    print("\nFacts that changed in the second run:")
    for c in fact_changes:
        safe_print(f"  {_ward(c['url'])} {c['program']}: {c['kind']}"
              f"{' (' + c['qualifier'] + ')' if c['qualifier'] else ''} {c['before_text']} → {c['after_text']}"
              f" ({c['detected_at'][:10]})")
    print("\nOpen flags (outdated program data, then crawl health):")
    health = {r.name for r in RULES.values() if r.scope in ("fetch", "source")}
    for f in sorted(open_flags, key=lambda f: f["rule"] in health):
        rule = RULES.get(f["rule"])
        safe_print(f"  [{f['severity']}] {f['rule']}: {f['program'] or '-'} — {rule.summary(f) if rule else f['url']}")
    print(f"\neditor report: {report}  (one self-contained HTML file)")
    print(f"warehouse: {db_path}\n  try: wardwatch review --db {db_path}        # review app on http://127.0.0.1:8000"
          f"\n       wardwatch changes --db {db_path}\n       wardwatch flags --open --db {db_path}"
          f"\n       wardwatch query --db {db_path} \"SELECT * FROM current_facts WHERE kind = 'amount'\"")
    return 0


def _ward(url: str) -> str:
    return "練馬区" if "/nerima/" in url else ("北区" if "/kita/" in url else "")
