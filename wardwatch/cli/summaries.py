"""Human-readable terminal summaries of the stages (crawl table, extract and diff lines)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from wardwatch.stages.crawl import CrawlResult


def crawl_summary(result: CrawlResult) -> str:
    head = f"run {result.run_id}: {result.status}"
    failed = result.failed_sources
    if failed:
        head += f" — {len(failed)} of {len(result.sources)} sources failed"
    lines = [head]
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
            row += f"  {s['reason']}"
        lines.append(row)
    lines.append(f"{'total':<{width}}  {totals['fetched']:>7}  {totals['new_versions']:>3}  {totals['unchanged']:>9}  "
                 f"{totals['not_modified']:>3}  {totals['errors']:>6}")
    if kinds:
        lines.append("errors by kind: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    if result.log_file:
        lines.append(f"log: {result.log_file}")
    return "\n".join(lines)


def extraction_summary(result: dict[str, Any]) -> str:
    line = (f"extract ({result['extractor_version']}): {result['extracted']} version(s), {result['facts']} facts, "
            f"{result['no_text']} without text, {result['errors']} error(s)")
    for f in result["failures"][:10]:
        line += f"\n  {f['url']}: {f['error']}"
    return line


def diff_summary(r: dict[str, Any]) -> str:
    return (f"diff: {r['versions_diffed']} new version(s): {r['content']} content change(s), {r['noise']} noise-only, "
            f"{r['update_date_only']} update-date-only, {r['not_baseline']} error/soft-404 page(s); "
            f"{r['changes']} fact change(s); flags: {r['flags_opened']} opened, {r['flags_closed']} closed")
