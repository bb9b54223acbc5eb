"""What every flag rule shares: the finding it returns, the subjects it looks at, and ``Rule``.

A rule is one module in ``diffs/rules/`` defining ``RULE = Rule(...)``: its name, the scope it
checks (one current ``Page``, one official page against one secondary source — ``Cross`` — or
one fetched URL — ``Fetch``, or one registry source's recent crawls — ``SourceRuns``), its default severity, its Japanese label, ``check(subject) ->
list[FlagFinding]`` (pure), ``evidence(flag, texts, snippet)`` (the display rows of a stored
flag's evidence, plain text) and ``summary(flag)`` (one line for a terminal).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

SCOPES = ("page", "cross", "fetch", "source")
SEVERITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class FlagFinding:
    """One finding. ``evidence`` holds the facts (with spans and sources) that support it; ``key`` is
    stable across runs for the same underlying problem, so a flag opens when a key appears and
    closes when it is no longer reported. ``program`` is the program as the page names it,
    ``program_id`` its id (a catalog id or ``<municipality code>:<key>``; None when unknown)."""

    rule: str
    severity: str
    program: str | None
    kind: str | None
    evidence: dict[str, Any] = field(default_factory=dict, hash=False)
    key: str = ""
    program_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "program": self.program, "program_id": self.program_id,
                "kind": self.kind, "evidence": self.evidence, "key": self.key}


def key(*parts: Any) -> str:
    return "|".join("" if p is None else str(p) for p in parts)


@dataclass(frozen=True)
class Page:
    """One current version of a page — or of an imported dataset (``origin_kind == "dataset"``: ``url`` is
    the dataset file, ``text`` is empty, ``facts`` are its cells' facts): what the page rules look at.
    Rules that read the page text skip datasets by their empty ``text``."""

    url: str
    source_id: str
    source_kind: str  # official | secondary
    facts: list[Any]
    text: str
    today: date
    previous_year_facts: list[Any] | None = None  # the version in force the day before this fiscal year began
    latest_changes: list[dict[str, Any]] = field(default_factory=list)  # of the page's latest content change
    origin_kind: str = "page"  # page | dataset


@dataclass(frozen=True)
class Cross:
    """One official page of a municipality against one secondary source's facts about it."""

    official_url: str
    official_facts: list[Any]
    official_changes: list[dict[str, Any]]
    secondary_source_id: str
    secondary_origin: str
    secondary_facts: list[Any]
    today: date | None = None  # the evaluation day: national amounts of an earlier year are outdated_amount's

    def sources(self) -> dict[str, str]:
        """The ``official_source``/``secondary_source`` keywords every cross rule's function takes:
        the official page's URL and the secondary facts' origin (the URL their flags are filed under)."""
        return {"official_source": self.official_url, "secondary_source": self.secondary_origin}


@dataclass(frozen=True)
class Fetch:
    """The latest fetch of one URL."""

    url: str
    status: int | None
    referer: str | None
    source_id: str | None
    seen_at: Any
    had_content: bool
    response_class: str | None


@dataclass(frozen=True)
class SourceRuns:
    """One registry source and its latest finished crawls, newest first: (run_id, started_at, failed, reason)."""

    source_id: str
    municipality: str | None
    url: str | None  # its first start URL
    runs: tuple[tuple[str, Any, bool, str | None], ...]


Snippet = Callable[..., "dict[str, str] | None"]
Evidence = Callable[[dict[str, Any], dict[str, str], Snippet], list[dict[str, Any]]]


@dataclass(frozen=True)
class Rule:
    name: str
    scope: str
    severity: str
    label: str
    check: Callable[[Any], list[FlagFinding]]
    evidence: Evidence
    summary: Callable[[dict[str, Any]], str]

    def __post_init__(self) -> None:
        if self.scope not in SCOPES or self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.name}: bad scope {self.scope!r} or severity {self.severity!r}")


# --- evidence display rows {label, text, url, version_id, snippet}, all plain text ----------------

def row(label: str, text: Any = None, url: str | None = None, version_id: str | None = None,
        snip: dict[str, str] | None = None) -> dict[str, Any]:
    return {"label": label, "text": None if text is None else str(text), "url": url, "version_id": version_id,
            "snippet": snip}


def fact_row(label: str, ev: Any, default_url: str | None, texts: dict[str, str], snippet: Snippet,
             start: str = "start", end: str = "end", text: str = "text") -> dict[str, Any]:
    """A row for one fact of the evidence, with the sentence around it when the page text is known."""
    ev = ev if isinstance(ev, dict) else {}
    url = ev.get("source") or default_url
    value = ev.get(text)
    snip = snippet(texts.get(url or ""), ev.get(start), ev.get(end), value) if value else None
    return row(label, value, url, snip=snip)


def evidence_of_flag(flag: dict[str, Any]) -> dict[str, Any]:
    ev = flag.get("evidence")
    return ev if isinstance(ev, dict) else {}


def secondary_row(flag: dict[str, Any], texts: dict[str, str], snippet: Snippet) -> dict[str, Any]:
    """The first evidence row of a cross rule's flag: what the secondary source says."""
    return fact_row("二次情報の記載", evidence_of_flag(flag).get("secondary"), flag.get("url"), texts, snippet)
