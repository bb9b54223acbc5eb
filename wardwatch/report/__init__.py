"""The editors' change report: the model (``model``) and its renderers (``html``, ``markdown``, JSON),
over the rows ``warehouse.review.report_data`` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wardwatch.report.archive import embed_archive
from wardwatch.report.html import report_page
from wardwatch.report.markdown import to_markdown
from wardwatch.report.model import build_report, to_json
from warehouse.db import Warehouse
from warehouse.review import report_data


def model_of(db_path: Warehouse | Path, *, since: str | None = None, run_ids: list[str] | None = None,
             include_all: bool = False) -> dict[str, Any]:
    """The report model of the warehouse's rows (changes of ``since`` / ``run_ids``, every open flag)."""
    return build_report(report_data(db_path, since=since, run_ids=run_ids),
                        status="all" if include_all else "open", since=since, run_ids=run_ids)


def render(db_path: Warehouse | Path, fmt: str = "html", *, since: str | None = None, run_ids: list[str] | None = None,
           include_all: bool = False) -> str:
    model = model_of(db_path, since=since, run_ids=run_ids, include_all=include_all)
    if fmt == "html":  # a standalone file: the archived versions it links to travel with it
        model = embed_archive(db_path, model)
    return render_model(model, fmt)


def render_model(model: dict[str, Any], fmt: str = "html") -> str:
    if fmt == "json":
        return to_json(model)
    if fmt == "md":
        return to_markdown(model)
    return report_page(model)


def flag_rows(model: dict[str, Any]) -> list[dict[str, Any]]:
    """The model's open, not dismissed flags as flat rows (a Prefect table artifact)."""
    return [{"severity": f["severity"], "rule": f["rule"], "municipality": f["municipality"], "program": f["program"],
             "url": f["url"], "evidence": "; ".join(f"{e['label']}: {e.get('text') or e.get('url') or ''}"
                                                   for e in f["evidence"]),
             "status": f["state_label"], "first_seen": f["first_seen"]}
            for f in model["flags"] + model["health"]["broken_links"]]
