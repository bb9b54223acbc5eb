"""The flag stage: run the rules of ``diffs.rules.RULES`` over the warehouse, open and close flags.

Page rules depend on the date, so every current page is re-checked when the date changed since
the last evaluation; otherwise only pages that changed are. Every current imported dataset is also
handed to the page rules, as a ``Page`` with ``origin_kind == "dataset"`` (its file as ``url``, its
cells' facts, no text — the rules that read page text skip it; ``outdated_amount`` checks its national
amounts), at every evaluation: datasets are few and change only by import. Cross rules (secondary
sources against official pages of the same municipality) and fetch rules (broken links, pages gone)
always run over everything, and so do source rules (a source failing run after run), which the runner
also evaluates on their own after every run (:func:`evaluate_source_flags`). Facts carry their
``program_id``: cross rules compare programs by id, and every flag records the id of its program.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from diffs.rules import Cross, Fetch, Page, SourceRuns, in_scope
from diffs.rules.base import FlagFinding
from extractors.eras import fiscal_year_start_of
from warehouse import flags as store
from warehouse.db import Warehouse

BATCH = 1000


def evaluate_flags(db: Warehouse | Path, *, today: date, changed_urls: set[str] | None = None) -> dict[str, Any]:
    wh = Warehouse.of(db)
    last = store.last_evaluation_day(wh)
    current = store.current_versions(wh)
    full = last is None or last != today
    scope = current if full else [r for r in current if r[1] in (changed_urls or set())]
    findings: list[dict[str, Any]] = []
    for i in range(0, len(scope), BATCH):
        findings += page_findings(wh, scope[i : i + BATCH], today)
    datasets = store.dataset_pages(wh)
    findings += dataset_findings(datasets, today)
    findings += cross_findings(wh, today)
    findings += fetch_findings(wh)
    findings += source_findings(wh)
    keep_open: set[str] = set()
    if not full:  # page flags of pages outside this evaluation stay as they are
        page_rules = {r.name for r in in_scope("page")}
        scoped_urls = {r[1] for r in scope} | store.dataset_paths(wh)  # every dataset file is re-checked
        keep_open = {fid for fid, rule, url in store.open_flags(wh) if rule in page_rules and url not in scoped_urls}
    opened, closed = store.apply(wh, findings, keep_open)
    store.record_evaluation(wh, today, "full" if full else "changed", len(scope), opened, closed)
    return {"flags_opened": opened, "flags_closed": closed, "flag_scope": "full" if full else "changed",
            "documents_checked": len(scope)}


def evaluate_source_flags(db: Warehouse | Path) -> dict[str, Any]:
    """Only the source rules (``source_failing``): run after every run, also when no source got as far as
    the diff stage (a run where every crawl failed still opens the flag)."""
    wh = Warehouse.of(db)
    names = {r.name for r in in_scope("source")}
    keep_open = {fid for fid, rule, _url in store.open_flags(wh) if rule not in names}
    opened, closed = store.apply(wh, source_findings(wh), keep_open)
    return {"flags_opened": opened, "flags_closed": closed}


def source_findings(wh: Warehouse) -> list[dict[str, Any]]:
    rules = in_scope("source")
    out = []
    for sid, municipality, url, history in store.source_runs(wh):
        subject = SourceRuns(source_id=sid, municipality=municipality, url=url, runs=tuple(history))
        for rule in rules:
            out += [_finding(f, sid, url) for f in rule.check(subject)]
    return out


def _finding(f: FlagFinding, source_id: str | None, url: str | None) -> dict[str, Any]:
    return {"rule": f.rule, "severity": f.severity, "program": f.program, "program_id": f.program_id, "kind": f.kind,
            "key": f.key, "evidence": f.evidence, "source_id": source_id, "url": url}


def page_findings(wh: Warehouse, rows: list[tuple], today: date) -> list[dict[str, Any]]:
    official = [r[1] for r in rows if r[2] == "official"]
    docs, prev_ids, prev, latest = store.page_inputs(wh, [r[0] for r in rows], official, fiscal_year_start_of(today))
    rules = in_scope("page")
    out = []
    for version_id, url, kind, _municipality, _since in rows:
        doc = docs.get(version_id)
        if doc is None or not doc.main_text:
            continue
        before = prev.get(prev_ids.get(version_id, ""))
        page = Page(url=url, source_id=doc.source_id, source_kind=kind, facts=doc.facts, text=doc.main_text, today=today,
                    previous_year_facts=before.facts if before is not None else None,
                    latest_changes=latest.get(url, []) if kind == "official" else [])
        for rule in rules:
            out += [_finding(f, doc.source_id, url) for f in rule.check(page)]
    return out


def dataset_findings(datasets: list[tuple[str, str, list[dict[str, Any]]]], today: date) -> list[dict[str, Any]]:
    """The page rules over each current imported dataset (``warehouse.flags.dataset_pages``), as a ``Page``
    of kind ``secondary`` with ``origin_kind == "dataset"`` and no text."""
    rules = in_scope("page")
    out = []
    for origin, sid, facts in datasets:
        page = Page(url=origin, source_id=sid, source_kind="secondary", facts=facts, text="", today=today,
                    origin_kind="dataset")
        for rule in rules:
            out += [_finding(f, sid, origin) for f in rule.check(page)]
    return out


def cross_findings(wh: Warehouse, today: date | None = None) -> list[dict[str, Any]]:
    """Secondary sources against the official pages of the same municipality: each ``Cross`` pairs one
    official page with one secondary origin (page or dataset) of one municipality, so a catalog
    program id (the same in every ward) is only ever compared within that municipality."""
    secondary, official, changes = store.cross_inputs(wh)
    by_origin: dict[tuple, list[dict]] = {}
    for muni, sid, origin, program, program_id, kind, qual, value, text in secondary:
        by_origin.setdefault((muni, sid, origin), []).append(
            {"kind": kind, "value": json.loads(value) if value else None, "qualifier": qual, "program": program,
             "program_id": program_id, "text": text})
    off_by_muni: dict[str, dict[str, list[dict]]] = {}
    for muni, url, program, program_id, kind, qual, value, text, start, end in official:
        off_by_muni.setdefault(muni, {}).setdefault(url, []).append(
            {"kind": kind, "value": json.loads(value) if value else None, "qualifier": qual, "program": program,
             "program_id": program_id, "text": text, "start": start, "end": end})
    rules = in_scope("cross")
    out = []
    for (muni, sid, origin), sfacts in by_origin.items():
        for url, ofacts in off_by_muni.get(muni, {}).items():
            pair = Cross(official_url=url, official_facts=ofacts, official_changes=changes.get(url, []),
                         secondary_source_id=sid, secondary_origin=origin, secondary_facts=sfacts, today=today)
            for rule in rules:
                out += [_finding(f, sid, origin) for f in rule.check(pair)]
    return out


def fetch_findings(wh: Warehouse) -> list[dict[str, Any]]:
    rules = in_scope("fetch")
    out = []
    for url, status, referer, sid, at, had_content, current_class in store.fetch_inputs(wh):
        fetch = Fetch(url=url, status=status, referer=referer, source_id=sid, seen_at=at, had_content=bool(had_content),
                      response_class=current_class)
        for rule in rules:
            out += [_finding(f, sid, url) for f in rule.check(fetch)]
    return out
