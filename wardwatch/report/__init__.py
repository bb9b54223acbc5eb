"""The editors' change report: the model (``model``) and its renderers (``html``, ``markdown``, JSON),
over the rows ``warehouse.review.report_data`` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wardwatch.report.html import report_page
from wardwatch.report.markdown import to_markdown
from wardwatch.report.model import build_report, to_json
from warehouse.db import Warehouse
from warehouse.review import report_data


def render(db_path: Warehouse | Path, fmt: str = "html", *, since: str | None = None, run_ids: list[str] | None = None,
           include_all: bool = False) -> str:
    model = build_report(report_data(db_path, since=since, run_ids=run_ids),
                         status="all" if include_all else "open", since=since, run_ids=run_ids)
    if fmt == "json":
        return to_json(model)
    if fmt == "md":
        return to_markdown(model)
    return report_page(model)


def markdown_report(db_path: Warehouse | Path, run_ids: list[str] | None = None) -> str:
    """The Markdown report of ``run_ids`` (all runs when None): what is new and not yet reviewed."""
    return render(db_path, "md", run_ids=run_ids)


def open_flag_rows(db_path: Warehouse | Path) -> list[dict[str, Any]]:
    """Open, not dismissed flags as flat rows (a Prefect table artifact)."""
    model = build_report(report_data(db_path))
    return [{"severity": f["severity"], "rule": f["rule"], "municipality": f["municipality"], "program": f["program"],
             "url": f["url"], "evidence": "; ".join(f"{e['label']}: {e.get('text') or e.get('url') or ''}"
                                                   for e in f["evidence"]),
             "status": f["state_label"], "first_seen": f["first_seen"]}
            for f in model["flags"] + model["health"]["broken_links"]]
