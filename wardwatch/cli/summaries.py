"""Human-readable terminal summaries of the stages (crawl table, extract and diff lines)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from extractors.termsafe import terminal_safe
from wardwatch.report.labels import error_kind_label
from wardwatch.report.model import run_health
from wardwatch.stages.crawl import CrawlResult

# Every summary is returned terminal-safe (crawled URLs, server error texts, program names may carry
# escape sequences or bidi controls): callers print it as is.


HEALTH_MARKS = {"ok": "✅", "errors": "⚠️", "partial": "🛑", "failed": "🛑", "none": "⚠️"}


def health_of(result: CrawlResult) -> dict[str, Any]:
    """The report's run-health banner (``wardwatch.report.model.run_health``) for this crawl's sources."""
    return run_health([{"source_id": s["source_id"], "failed": s["status"] == "failed", "errors": s["errors"]}
                       for s in result.sources])


def health_line(result: CrawlResult) -> str:
    """The first line of every crawl / run summary: the report's banner, word for word."""
    stopped = [s["source_id"] for s in result.sources if s["status"] == "interrupted"]
    if stopped:  # stopped early: what was not fetched is unknown, whatever the rest did
        return (f"🛑 {len(result.sources)}件中{len(stopped)}件のソースのクロールが途中で中断されました — "
                "変更なしではありません(次の実行で取得し直します)")
    health = health_of(result)
    line = f"{HEALTH_MARKS.get(health['level'], '')} {health['message']}".strip()
    if health["failed"] and health["level"] != "failed":
        line += f"(取得できなかったソース: {'、'.join(health['failed'])})"
    return line


def error_kinds_lines(kinds: Counter) -> list[str]:
    """Errors by kind, each explained in Japanese next to its code (the report's labels)."""
    if not kinds:
        return []
    width = max(len(k) for k in kinds)
    count_width = max(len(str(n)) for n in kinds.values())
    return ["errors by kind (エラーの種類):"] + [f"  {k:<{width}}  {n:>{count_width}}  {error_kind_label(k)}"
                                                for k, n in kinds.most_common()]


def crawl_summary(result: CrawlResult) -> str:
    head = f"run {result.run_id}: {result.status}"
    failed = result.failed_sources
    if failed:
        head += f" — {len(failed)} of {len(result.sources)} sources failed"
    lines = [health_line(result), head]
    if result.resumed:
        lines.append(f"(loaded {result.resumed} capture(s) left by an interrupted crawl)")
    cols = ("fetched", "new_versions", "unchanged", "not_modified", "errors")
    width = max([len(s["source_id"]) for s in result.sources] + [6])
    lines.append(f"{'source':<{width}}  fetched  new  unchanged  304  errors")
    totals: Counter = Counter()
    kinds: Counter = Counter()
    for s in result.sources:
        totals.update({c: s[c] for c in cols})
        kinds.update(s["error_kinds"])
        row = f"{s['source_id']:<{width}}  {s['fetched']:>7}  {s['new_versions']:>3}  {s['unchanged']:>9}  {s['not_modified']:>3}  {s['errors']:>6}"
        if s["status"] == "failed":
            row += f"  {terminal_safe(s['reason'], keep_newlines=False)}"
        lines.append(row)
    lines.append(f"{'total':<{width}}  {totals['fetched']:>7}  {totals['new_versions']:>3}  {totals['unchanged']:>9}  "
                 f"{totals['not_modified']:>3}  {totals['errors']:>6}")
    lines += error_kinds_lines(kinds)
    if result.log_file:
        lines.append(f"log: {result.log_file}")
    return terminal_safe("\n".join(lines))


def extraction_summary(result: dict[str, Any]) -> str:
    line = (f"extract ({result['extractor_version']}): {result['extracted']} version(s), {result['facts']} facts, "
            f"{result.get('partial', 0)} partial, {result['no_text']} without text, {result['errors']} error(s)")
    for f in result["failures"][:10]:
        line += f"\n  {terminal_safe(f['url'], keep_newlines=False)}: {terminal_safe(f['error'], keep_newlines=False)}"
    return line


def diff_summary(r: dict[str, Any]) -> str:
    return terminal_safe(f"diff: {r['versions_diffed']} new version(s): {r['content']} content change(s), {r['noise']} noise-only, "
            f"{r['update_date_only']} update-date-only, {r['not_baseline']} error/soft-404 page(s); "
            f"{r['changes']} fact change(s); flags: {r['flags_opened']} opened, {r['flags_closed']} closed")
