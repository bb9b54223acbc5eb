"""HTML rendering of the report model (the static report file and the review app's pages).

Jinja2 with autoescape on for every template. Crawled text is never marked safe: the only markup
built in Python is the highlight of a value in its sentence and of changed characters in a diff, and
those escape each piece (``Markup.format`` / ``escape``) before joining it with our tags.

A fact change and the ``fact_changed`` flag raised for it are shown as one item (the change, with the
flag's severity on it; :func:`merge_linked_flags`). The standalone report links each archived version
(保存版) to the review app when its address is known (``app_url``, else ``$WARDWATCH_REVIEW_URL``), and
otherwise to a copy of the version's extracted main text embedded at the end of the file
(``model["archive"]``, from ``wardwatch.report.archive``), so its links work when opened as a file.
"""

from __future__ import annotations

import os
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from markupsafe import Markup, escape

from wardwatch.report.labels import RULE_LABELS, STATUS_FILTER_LABELS, STATUS_LABELS
from wardwatch.report.model import JST, merge_linked_flags, sections

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The static report loads nothing: no scripts, no fonts, no remote images; forms cannot submit.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'"
REVIEW_URL_ENV = "WARDWATCH_REVIEW_URL"
EMBEDDED_PREFIX = "#archive-"


def highlight(s: dict[str, str] | None) -> Markup:
    """``before<mark>value</mark>after`` with every piece escaped."""
    if not s:
        return Markup("")
    return Markup("{}<mark>{}</mark>{}").format(s.get("before", ""), s.get("text", ""), s.get("after", ""))


def segments(segs: list[list[Any]] | None, tag: str) -> Markup:
    """Diff segments ``[[text, changed], ...]`` with the changed ones wrapped in ``<tag>``."""
    if not segs:
        return Markup("")
    open_, close = Markup(f"<{tag}>"), Markup(f"</{tag}>")
    return Markup("").join(open_ + escape(t) + close if changed else escape(t) for t, changed in segs)


def http_url(url: Any) -> str:
    """The URL if it is http(s), else "" (a crawled ``javascript:`` URL never becomes a link)."""
    if not isinstance(url, str):
        return ""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def when(value: Any) -> str:
    """``2026-11-23 03:39`` (Japan time) from a datetime or an ISO timestamp."""
    if isinstance(value, datetime):
        value = value.astimezone(JST).isoformat() if value.tzinfo else value.isoformat()
    return str(value or "").replace("T", " ")[:16]


def archive_href(version_id: Any, prefix: str) -> str:
    return prefix + quote(str(version_id), safe="") if version_id else ""


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.ChainableUndefined)
    env.filters.update(highlight=highlight, segments=segments, http_url=http_url, archive_href=archive_href,
                       short=lambda v, n=8: (str(v) if v else "")[:n], when=when,
                       prefix=lambda v, p: f"{p}{v}")
    env.globals.update(status_filters=STATUS_FILTER_LABELS, rule_labels=RULE_LABELS, status_labels=STATUS_LABELS)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def archived_ids(model: dict[str, Any]) -> list[str]:
    """Every version id the report links to as 保存版, in order of appearance, each once."""
    ids: dict[str, None] = {}
    for g in model.get("change_groups", []):
        for it in g["items"]:
            for k in ("after_version_id", "before_version_id"):
                if it.get(k):
                    ids[it[k]] = None
    for f in model.get("flags", []):
        for e in f.get("evidence", []):
            if e.get("version_id"):
                ids[e["version_id"]] = None
    return list(ids)


def review_url(app_url: str | None = None) -> str | None:
    """The review app's address for links (``app_url``, else ``$WARDWATCH_REVIEW_URL``), without a trailing /."""
    url = (app_url if app_url is not None else os.environ.get(REVIEW_URL_ENV, "")).strip()
    return url.rstrip("/") if http_url(url) else None


def report_page(model: dict[str, Any], app_url: str | None = None, archive_prefix: str | None = None) -> str:
    """The self-contained HTML report (one file). Archived versions link to ``<app_url>/archive/<id>`` when the
    review app's address is given (or in ``$WARDWATCH_REVIEW_URL``), else to the copy embedded in the file;
    ``archive_prefix`` overrides both (the review app serves the report with ``/archive/``)."""
    model = merge_linked_flags(model)
    base = review_url(app_url)
    prefix = archive_prefix or (f"{base}/archive/" if base else EMBEDDED_PREFIX)
    embedded = [] if prefix != EMBEDDED_PREFIX else [
        {"version_id": vid, **((model.get("archive") or {}).get(vid) or {})} for vid in archived_ids(model)]
    ctx = {"app": False, "archive_prefix": prefix, "csp": REPORT_CSP, "app_url": base, "embedded": embedded}
    return render("report.html", model=model, sections=sections(model), ctx=ctx)


def app_page(model: dict[str, Any], ctx: dict[str, Any]) -> str:
    """The review queue: the report's content with filters, per-item and bulk actions."""
    model = merge_linked_flags(model)
    shown = [f"change:{it['item_key']}" for g in model["change_groups"] for it in g["items"]]
    shown += [f"flag:{f['flag_id']}" for f in model["flags"] + model["health"]["broken_links"]]
    return render("app.html", model=model, sections=sections(model),
                  ctx={"app": True, "archive_prefix": "/archive/", "shown": shown, **ctx})
