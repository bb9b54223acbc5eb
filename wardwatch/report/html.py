"""HTML rendering of the report model (the static report file and the review app's pages).

Jinja2 with autoescape on for every template. Crawled text is never marked safe: the only markup
built in Python is the highlight of a value in its sentence and of changed characters in a diff, and
those escape each piece (``Markup.format`` / ``escape``) before joining it with our tags.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from markupsafe import Markup, escape

from wardwatch.report.labels import RULE_LABELS, STATUS_FILTER_LABELS
from wardwatch.report.model import JST, sections

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The static report loads nothing: no scripts, no fonts, no remote images; forms cannot submit.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'"


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
                       short=lambda v, n=8: (str(v) if v else "")[:n], when=when)
    env.globals.update(status_filters=STATUS_FILTER_LABELS, rule_labels=RULE_LABELS)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def report_page(model: dict[str, Any]) -> str:
    """The self-contained HTML report (one file; archived versions linked relatively: ``archive/<id>``)."""
    ctx = {"app": False, "archive_prefix": "archive/", "csp": REPORT_CSP}
    return render("report.html", model=model, sections=sections(model), ctx=ctx)


def app_page(model: dict[str, Any], ctx: dict[str, Any]) -> str:
    """The review queue: the report's content with filters and per-item actions."""
    return render("app.html", model=model, sections=sections(model), ctx={"app": True, "archive_prefix": "/archive/", **ctx})
