"""Human-readable terminal summaries."""

from __future__ import annotations

from collections import Counter

from wardwatch.crawl import CrawlResult


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
