"""Run the fault suite (tests/e2e/test_faults*.py, tests/e2e/test_crash.py and their unit tests) and print its figures.

    python -m benchmarks.fault_suite            # cases tried / passed / known gaps / data lost, per row
    python -m benchmarks.fault_suite --markdown # the same as the Markdown table of docs/faults.md

Data lost is the sum of the ``data_lost`` properties the tests record with ``record_property``
(stored versions no longer current, blobs gone, staged captures never loaded); it must be 0.
Known gaps are the tests marked xfail (documented in docs/faults.md; an xfail that happened
to pass still counts as a gap). Exit 1 when a case failed or anything was lost. Extra
arguments go to pytest (e.g. ``-k kill``). The script loads itself into pytest as a plugin
(``-p benchmarks.fault_suite``) to collect each test's outcome and properties.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ["tests/e2e/test_faults.py", "tests/e2e/test_faults_standalone.py", "tests/e2e/test_crash.py",
         "tests/spiders/test_safety_units.py", "tests/spiders/test_retry.py::test_retry_after_parsing_and_backoff_growth",
         "tests/extractors/test_termsafe.py::test_terminal_safe_strips_escapes_and_controls",
         "tests/warehouse/test_doctor.py::test_doctor_finds_every_kind_of_damage",
         "tests/warehouse/test_doctor.py::test_doctor_on_a_missing_or_foreign_file"]

# table row of docs/faults.md -> test name prefixes
ROWS: list[tuple[str, tuple[str, ...]]] = [
    ("read timeout, connection reset, truncated body", ("test_network_faults_are_retried",)),
    ("500 / 503 with Retry-After", ("test_server_errors_honour_retry_after", "test_retry_after_beyond_the_cap")),
    ("429", ("test_429_slows_the_domain_down",)),
    ("wrong / missing / lying charset", ("test_wrong_missing_or_lying_charset", "test_undecodable_page")),
    ("gzip bomb, endless body, 200 MB PDF", ("test_oversized_bodies",)),
    ("malformed, encrypted, image-only PDFs", ("test_broken_pdfs",)),
    ("redirect loop; redirect to another domain", ("test_redirect_loops", "test_meta_refresh")),
    ("links to private / link-local / loopback addresses, file:, javascript:, data:",
     ("test_private_link_local", "test_hosts_listed_in_allowed_domains", "test_links_drop_non_http")),
    ("DNS name resolving to a private address",
     ("test_dns_name_resolving", "test_dns_check_uses_the_real_resolver", "test_resolver_guard")),
    ("crawler trap", ("test_crawler_trap",)),
    ("robots.txt disallow, robots.txt 5xx", ("test_robots_txt",)),
    ("HTML with scripts / injection strings",
     ("test_hostile_html", "test_crawl_summary_is_inert", "test_extract_output_escapes", "test_terminal_safe")),
    ("huge page (10 MB of text)", ("test_huge_page",)),
    ("kill -9 at random points", ("test_kill_9",)),
    ("disk full / read-only warehouse", ("test_disk_full", "test_read_only")),
    ("two runs at once; analyst query during a crawl",
     ("test_two_runs", "test_two_crawls", "test_analyst_query")),
    ("integrity check (`wardwatch doctor`)", ("test_doctor", "test_faulted_warehouse_passes_doctor")),
    ("the faulted crawl as a whole", ("test_the_faulted_crawl",)),
    ("backoff / Retry-After units", ("test_retry_after_parsing",)),
]


def row_of(name: str) -> str:
    for row, prefixes in ROWS:
        if name.startswith(prefixes):
            return row
    return "other"


OUT_ENV = "WARDWATCH_FAULT_SUITE_OUT"


# ---- pytest plugin side (loaded in the pytest process with -p benchmarks.fault_suite)

_results: list[dict] = []


def pytest_runtest_logreport(report) -> None:
    if not os.environ.get(OUT_ENV):
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        props = dict(report.user_properties)
        _results.append({"nodeid": report.nodeid, "outcome": outcome, "data_lost": int(props.get("data_lost", 0) or 0)})
    elif report.when == "teardown" and report.failed:
        _results.append({"nodeid": report.nodeid, "outcome": "failed", "data_lost": 0})


def pytest_sessionfinish(session, exitstatus) -> None:
    out = os.environ.get(OUT_ENV)
    if out:
        Path(out).write_text(json.dumps(_results), encoding="utf-8")


# ---- script side


def run(pytest_args: list[str]) -> tuple[dict[str, dict[str, int]], float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "faults.json"
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "benchmarks.fault_suite",
                               *FILES, *pytest_args], cwd=ROOT, env={**os.environ, OUT_ENV: str(out)})
        elapsed = time.monotonic() - started
        if not out.exists():
            raise SystemExit(f"pytest did not run (exit {proc.returncode})")
        results = json.loads(out.read_text(encoding="utf-8"))
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for res in results:
        name = res["nodeid"].split("::", 1)[-1]
        r = rows[row_of(name)]
        outcome = res["outcome"]
        if outcome == "skipped":
            r["skipped"] += 1
            continue
        r["tried"] += 1
        r[{"passed": "passed", "failed": "failed", "xfailed": "known_gap", "xpassed": "known_gap"}[outcome]] += 1
        r["data_lost"] += res["data_lost"]
    return rows, elapsed, proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the per-row table as Markdown")
    args, rest = parser.parse_known_args(argv)
    rows, elapsed, _ = run(rest)
    order = [r for r, _ in ROWS] + ["other"]
    total = defaultdict(int)
    for r in rows.values():
        for k, v in r.items():
            total[k] += v
    if args.markdown:
        print("| case | tried | passed | known gaps (xfail) | failed | data lost |")
        print("|---|---|---|---|---|---|")
        for name in order:
            if name in rows:
                r = rows[name]
                print(f"| {name} | {r['tried']} | {r['passed']} | {r['known_gap']} | {r['failed']} | {r['data_lost']} |")
        print(f"| **total** | **{total['tried']}** | **{total['passed']}** | **{total['known_gap']}** | "
              f"**{total['failed']}** | **{total['data_lost']}** |")
    else:
        width = max(len(n) for n in order)
        print(f"\n{'case':<{width}}  tried  passed  gaps  failed  lost")
        for name in order:
            if name in rows:
                r = rows[name]
                print(f"{name:<{width}}  {r['tried']:>5}  {r['passed']:>6}  {r['known_gap']:>4}  {r['failed']:>6}  {r['data_lost']:>4}")
    print(f"\nfault suite: {total['tried']} cases tried, {total['passed']} passed, {total['known_gap']} known gaps (xfail), "
          f"{total['failed']} failed, {total['skipped']} skipped; data lost: {total['data_lost']}; {elapsed:.0f} s")
    return 1 if total["failed"] or total["data_lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
