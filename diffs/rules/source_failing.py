"""source_failing: a source whose latest ``FAILED_RUNS`` crawls in a row fetched none of its start pages.

Its changes are unknown since then — the flag says so until a crawl works again (then it closes by
itself, like every flag whose cause disappeared)."""

from __future__ import annotations

from typing import Any

from diffs.rules.base import FlagFinding, Rule, SourceRuns, evidence_of_flag, row
from diffs.rules.base import key as _key

FAILED_RUNS = 2  # one failed crawl is already loud in the run's banner; two in a row is a problem to own


def check(source: SourceRuns) -> list[FlagFinding]:
    streak = 0
    for _run_id, _started, failed, _reason in source.runs:
        if not failed:
            break
        streak += 1
    if streak < FAILED_RUNS:
        return []
    newest, oldest = source.runs[0], source.runs[streak - 1]
    return [FlagFinding("source_failing", "high", None, None,
                        {"source_id": source.source_id, "failed_runs": streak, "since": str(oldest[1]),
                         "last_run": newest[0], "reason": newest[3]},
                        _key("source_failing", source.source_id))]


def evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Any) -> list[dict[str, Any]]:
    ev = evidence_of_flag(flag)
    rows = [row("連続して失敗したクロール", f"{ev.get('failed_runs')}回({ev.get('since', '')[:16]} 以降)", flag.get("url"))]
    if ev.get("reason"):
        rows.append(row("最後の理由", ev["reason"]))
    return rows


def summary(flag: dict[str, Any]) -> str:
    ev = evidence_of_flag(flag)
    return f"{ev.get('source_id')}: {ev.get('failed_runs')} crawls in a row fetched nothing ({ev.get('reason') or 'no reason'})"


RULE = Rule("source_failing", "source", "high", "取得の連続失敗", check, evidence, summary)
