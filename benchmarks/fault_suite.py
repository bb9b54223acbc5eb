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
         "tests/warehouse/test_doctor.py", "tests/cli/test_doctor.py::test_the_damage_doctor_used_to_miss",
         # the second wave (issue 15, and issue 11's robustness cases)
         "tests/e2e/test_signals.py", "tests/e2e/test_prefect_startup.py", "tests/stages/test_interrupt.py",
         "tests/extractors/test_bounds.py", "tests/extractors/test_corpus_all.py",
         "tests/extractors/test_text_pdf.py::test_a_text_layer_with_split_and_lone_surrogates_is_extracted",
         "tests/extractors/test_text_html.py::test_html_too_deep_even_for_flattening_is_partial_with_the_reason",
         "tests/extractors/test_rules_quantities.py::test_hostile_number_runs_yield_nothing_and_raise_nothing",
         "tests/extractors/test_rules_dates.py::test_a_hostile_month_list_is_read_in_bounded_pieces",
         "tests/extractors/test_rules_contacts.py::test_no_phone_from_identifiers_dates_and_amounts",
         "tests/extractors/test_rules_contacts.py::test_dense_contact_line_keeps_every_fact",
         "tests/spiders/test_registry.py", "tests/spiders/test_extensions.py",
         "tests/spiders/test_municipal.py::test_links_below_thousands_of_levels_are_followed",
         "tests/spiders/test_municipal.py::test_deep_page_links_keep_base_and_ignore_markup_in_comments_and_scripts",
         "tests/extractors/test_datasets.py", "tests/stages/test_datasets.py",
         "tests/cli/test_hostile_inputs.py", "tests/warehouse/test_snapshots.py", "tests/cli/test_extract.py",
         "tests/cli/test_filters.py", "tests/cli/test_query_output.py",
         "tests/review/test_sanitize.py", "tests/review/test_app.py", "tests/review/test_workflow.py",
         "tests/review/test_feed.py", "tests/warehouse/test_staging.py",
         "tests/warehouse/test_ducklake.py", "tests/cli/test_migrate_warehouse.py",
         "tests/e2e/test_run_health.py", "tests/spiders/test_retry.py::test_an_unresolvable_host_is_not_retried",
         "tests/report/test_health_banner.py", "tests/stages/test_source_flags.py"]

# table row of docs/faults.md -> test name prefixes
ROWS: list[tuple[str, tuple[str, ...]]] = [
    # second wave first: their prefixes are specific, and some would otherwise fall into older rows
    ("failed sources are loud; DNS not retried; resumed-capture race",
     ("test_an_unresolvable_host", "test_every_source_failed", "test_run_summary_opens", "test_only_captures_of_dead",
      "test_a_dead_runs_capture", "test_finish_run_fills", "test_crawl_json_keeps_stdout", "test_banner_levels",
      "test_markdown_tables_are_well_formed", "test_opens_after_two_failed", "test_source_evaluation_leaves")),
    ("Prefect server slow to start / killed", ("test_slow_server_start", "test_a_server_that_does_not_start",
                                               "test_a_bad_start_budget", "test_no_server_survives", "test_start_budget")),
    ("SIGINT/SIGTERM at any point; interrupted runs; full-disk log",
     ("test_signal_", "test_table_summary_of_an_interrupted", "test_sigterm_", "test_crawl_log_", "test_interrupt",
      "test_handlers_", "test_exit_code", "test_mark_interrupted", "test_interrupted")),
    ("fact-dense page, extraction budgets", ("test_resolve_", "test_a_dense_page", "test_a_line_longer",
                                             "test_the_time_budget", "test_budget_from_env", "test_page_and_time_budgets",
                                             "test_extract_refuses_a_bad_budget", "test_extract_reports_a_partial")),
    ("PDF decompression and operator bombs", ("test_zlib_bombs", "test_a_gigabyte", "test_a_page_of_too_many",
                                             "test_the_parser_child", "test_parser_workers")),
    ("surrogates, controls, ligatures; every corpus document extracts",
     ("test_hostile_characters", "test_sanitize_joins", "test_ligatures", "test_a_line_whose_rules",
      "test_every_corpus", "test_a_text_layer_with_split", "test_hostile_number_runs", "test_a_hostile_month_list",
      "test_no_phone_from_identifiers", "test_dense_contact_line")),
    ("deeply nested HTML (extraction, links)", ("test_html_nested", "test_flatten_deep", "test_html_too_deep",
                                                "test_links_below_thousands", "test_deep_page_links")),
    ("registry values, follow regexes", ("test_hostile_registry_values", "test_ids_are_file_name_safe",
                                         "test_malformed_start_urls", "test_follow_patterns_are_bounded",
                                         "test_unreadable_registry_files", "test_a_switchboard")),
    ("hostile datasets", ("test_deeply_nested_json", "test_nested_values_below", "test_a_number_too_long",
                          "test_csv_cell_over", "test_a_malformed_file_collects", "test_a_fifo_or_a_directory",
                          "test_an_oversized_file", "test_many_facts_load")),
    ("query: refused statements, locked configuration", ("test_query_refuses", "test_query_configuration",
                                                         "test_query_that_aborted", "test_in_memory_query",
                                                         "test_output_keeps_the_query_checks")),
    ("long analyst query during a crawl (snapshots)", ("test_a_write_succeeds_while", "test_without_a_snapshot",
                                                       "test_snapshot_", "test_memory_snapshot")),
    ("--db, extract and --since inputs", ("test_db_", "test_extract_refuses_what", "test_extract_url_applies",
                                          "test_bad_since", "test_since_is_read", "test_report_since",
                                          "test_unknown_source_ids", "test_reextract_refuses", "test_unknown_filter",
                                          "test_filter_values_are_bound", "test_unknown_timezone")),
    ("output files through symlinks", ("test_export_refuses", "test_export_replaces", "test_report_output_refuses",
                                       "test_outfile_helper", "test_query_output_refuses", "test_output_xlsx")),
    ("terminal-escape injection", ("test_tables_print_user_data", "test_json_output_keeps", "test_dataset_cells_with",
                                   "test_report_on_the_terminal", "test_stage_summaries", "test_query_column_names",
                                   "test_safe_json", "test_safe_print")),
    ("archive sanitizer, review app limits and workflow",
     ("test_evasions", "test_content_after_a_dropped", "test_links_are_absolute", "test_a_very_deep_page",
      "test_an_undecodable", "test_a_huge_declared_post", "test_a_huge_chunked", "test_bad_content_length",
      "test_nothing_ticked", "test_undo_and_rule_changes", "test_a_decision_is_confirmed",
      "test_control_characters_in_crawled_text", "test_the_ward_filter")),
    ("staging sweeps", ("test_orphans_are_swept", "test_a_file_written_after", "test_load_sweeps", "test_a_failed_write",
                        "test_the_pipeline_sweeps", "test_doctor_notes_orphans")),
    ("Scrapy network-facing extensions", ("test_scrapy_alone", "test_our_crawlers_run_no", "test_a_real_crawl_writes_no")),
    ("DuckLake: concurrent writers, blob store, migrate-warehouse",
     ("test_two_writer_processes", "test_a_writer_waits", "test_retry_reruns", "test_doctor_finds_a_missing_or_corrupt",
      "test_an_unreachable_catalog", "test_cli_refuses_db_and_warehouse", "test_blob_store_is",
      "test_file_to_lake_and_back", "test_a_blob_missing_from_the_lake", "test_bad_pairs")),
    ("doctor: the damage it used to miss", ("test_a_version_whose_url", "test_fetches_whose_run", "test_facts_that_no_longer",
                                           "test_facts_whose_value", "test_an_extraction_that_lost", "test_matching_facts",
                                           "test_the_demo_warehouse_is_healthy", "test_the_damage_doctor")),
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
