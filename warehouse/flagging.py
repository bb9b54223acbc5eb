"""Flags on outdated program data: evaluate the rules in ``diffs.flags``, open and close flags.

A flag is identified by its finding's stable key. It opens when a rule reports the key,
stays open (``last_seen`` updated) while the rule keeps reporting it, and closes itself
(``closed_at``, ``close_reason``) when the cause disappears. Page rules depend on the date,
so every current page is re-checked when the date changed since the last evaluation;
otherwise only pages that changed are.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from warehouse.changes import load_docs
from warehouse.db import connect, insert_rows, transaction

PAGE_RULES = ("stale_reference", "missed_annual_update", "deadline_passed", "fact_changed")
CROSS_RULES = ("secondary_outdated", "secondary_contradicts_official")
FETCH_RULES = ("broken_link", "page_gone")
BATCH = 1000
STALE_FISCAL_YEARS = 2


def flag_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def evaluate_flags(db_path: Path, *, today: date, changed_urls: set[str] | None = None) -> dict[str, Any]:
    with connect(db_path) as con:
        last = con.execute("SELECT max(today) FROM flag_evaluations").fetchone()[0]
        current = con.execute(
            "SELECT v.version_id, v.url, s.kind, s.municipality, v.valid_from FROM versions v "
            "JOIN sources s USING (source_id) WHERE v.valid_to IS NULL").fetchall()
    full = last is None or last != today
    scope = current if full else [r for r in current if r[1] in (changed_urls or set())]
    findings: list[dict[str, Any]] = []
    for i in range(0, len(scope), BATCH):
        findings += _page_findings(db_path, scope[i : i + BATCH], today)
    findings += _cross_findings(db_path)
    findings += _fetch_findings(db_path)
    scoped_urls = None if full else {r[1] for r in scope}
    opened, closed = _apply(db_path, findings, scoped_urls)
    with transaction(db_path) as con:
        con.execute("INSERT INTO flag_evaluations VALUES (now(), ?, ?, ?, ?, ?)",
                    [today, "full" if full else "changed", len(scope), opened, closed])
    return {"flags_opened": opened, "flags_closed": closed, "flag_scope": "full" if full else "changed",
            "documents_checked": len(scope)}


def _finding(f: Any, source_id: str | None, url: str | None) -> dict[str, Any]:
    return {"rule": f.rule, "severity": f.severity, "program": f.program, "kind": f.kind, "key": f.key,
            "evidence": f.evidence, "source_id": source_id, "url": url}


def _page_findings(db_path: Path, rows: list[tuple], today: date) -> list[dict[str, Any]]:
    from diffs.flags import deadline_passed, missed_annual_update, stale_reference

    fy_start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    with connect(db_path) as con:
        docs = load_docs(con, [r[0] for r in rows])
        prev_ids = dict(con.execute(
            "SELECT c.version_id, p.version_id FROM versions c JOIN versions p ON p.url = c.url "
            "AND p.valid_from <= ?::TIMESTAMPTZ AND (p.valid_to IS NULL OR p.valid_to > ?::TIMESTAMPTZ) "
            "WHERE c.version_id IN (SELECT unnest(?::VARCHAR[]))",
            [fy_start - timedelta(days=1), fy_start - timedelta(days=1), [r[0] for r in rows]]).fetchall())
        prev = load_docs(con, sorted(set(prev_ids.values())))
        latest_changes = _latest_fact_changes(con, [r[1] for r in rows if r[2] == "official"])
    out = []
    for version_id, url, kind, _municipality, _since in rows:
        doc = docs.get(version_id)
        if doc is None or not doc.main_text:
            continue
        for f in stale_reference(doc.facts, today, STALE_FISCAL_YEARS, text=doc.main_text, source=url):
            out.append(_finding(f, doc.source_id, url))
        if kind != "official":
            continue
        for f in deadline_passed(doc.facts, doc.main_text, today, source=url):
            out.append(_finding(f, doc.source_id, url))
        before = prev.get(prev_ids.get(version_id, ""))
        if before is not None:
            for f in missed_annual_update(doc.facts, before.facts, today, source=url):
                out.append(_finding(f, doc.source_id, url))
        for c in latest_changes.get(url, []):
            key = f"fact_changed|{url}|{c['program']}|{c['kind']}|{c['qualifier']}|{c['before']}|{c['after']}"
            out.append({"rule": "fact_changed", "severity": "high" if c["kind"] == "amount" else "medium",
                        "program": c["program"], "kind": c["kind"], "key": key, "evidence": c,
                        "source_id": doc.source_id, "url": url})
    return out


def _latest_fact_changes(con: Any, urls: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Fact changes of each URL's most recent content change."""
    rows = con.execute(
        """
        SELECT url, program, kind, qualifier, change, before, after, before_text, after_text, detected_at,
               before_version_id, after_version_id
        FROM changes c
        WHERE url IN (SELECT unnest(?::VARCHAR[])) AND after_version_id = (
            SELECT d.after_version_id FROM version_diffs d WHERE d.url = c.url AND d.change_class = 'content'
            ORDER BY d.detected_at DESC LIMIT 1)
        ORDER BY url, seq
        """,
        [urls],
    ).fetchall()
    out: dict[str, list[dict[str, Any]]] = {}
    for url, program, kind, qual, change, before, after, btext, atext, when, bvid, avid in rows:
        out.setdefault(url, []).append({
            "url": url, "program": program, "kind": kind, "qualifier": qual, "change": change,
            "before": json.loads(before) if before else None, "after": json.loads(after) if after else None,
            "before_text": btext, "after_text": atext, "detected_at": str(when),
            "before_version_id": bvid, "after_version_id": avid})
    return out


def _cross_findings(db_path: Path) -> list[dict[str, Any]]:
    """Secondary sources against the official pages of the same municipality."""
    from diffs.flags import secondary_contradicts_official, secondary_outdated

    with connect(db_path) as con:
        secondary = con.execute(
            "SELECT municipality, source_id, origin, program, kind, qualifier, value, text FROM secondary_facts").fetchall()
        if not secondary:
            return []
        munis = sorted({r[0] for r in secondary})
        official = con.execute(
            "SELECT municipality, url, program, kind, qualifier, value, text, start_offset, end_offset FROM current_facts "
            "WHERE source_kind = 'official' AND municipality IN (SELECT unnest(?::VARCHAR[]))", [munis]).fetchall()
        official_urls = sorted({r[1] for r in official})
        changes = _latest_fact_changes(con, official_urls)
    by_origin: dict[tuple, list[dict]] = {}
    for muni, sid, origin, program, kind, qual, value, text in secondary:
        by_origin.setdefault((muni, sid, origin), []).append(
            {"kind": kind, "value": json.loads(value) if value else None, "qualifier": qual, "program": program, "text": text})
    off_by_muni: dict[str, dict[str, list[dict]]] = {}
    for muni, url, program, kind, qual, value, text, start, end in official:
        off_by_muni.setdefault(muni, {}).setdefault(url, []).append(
            {"kind": kind, "value": json.loads(value) if value else None, "qualifier": qual, "program": program,
             "text": text, "start": start, "end": end})
    out = []
    for (muni, sid, origin), sfacts in by_origin.items():
        for url, ofacts in off_by_muni.get(muni, {}).items():
            for f in secondary_contradicts_official(ofacts, sfacts, official_source=url, secondary_source=origin):
                out.append(_finding(f, sid, origin))
            for f in secondary_outdated(changes.get(url, []), sfacts, official_source=url, secondary_source=origin):
                out.append(_finding(f, sid, origin))
    return out


def _fetch_findings(db_path: Path) -> list[dict[str, Any]]:
    """broken_link (a linked URL answers 404/410 or is a soft-404) and page_gone (had content, now gone)."""
    with connect(db_path) as con:
        rows = con.execute(
            """
            WITH latest AS (
                SELECT url, arg_max(status, fetched_at) AS status, arg_max(referer, fetched_at) AS referer,
                       arg_max(source_id, fetched_at) AS source_id, max(fetched_at) AS at
                FROM fetches WHERE status IS NOT NULL GROUP BY url
            )
            SELECT l.url, l.status, l.referer, l.source_id, l.at,
                   EXISTS (SELECT 1 FROM versions v WHERE v.url = l.url) AS had_content,
                   (SELECT d.response_class FROM version_diffs d JOIN versions v ON v.version_id = d.after_version_id
                    WHERE v.url = l.url AND v.valid_to IS NULL) AS current_class
            FROM latest l
            """).fetchall()
    out = []
    for url, status, referer, sid, at, had_content, current_class in rows:
        gone = status in (404, 410)
        soft = current_class in ("soft_404", "redirect_to_top")
        if (gone or soft) and referer:
            out.append({"rule": "broken_link", "severity": "medium", "program": None, "kind": None,
                        "key": f"broken_link|{url}", "source_id": sid, "url": url,
                        "evidence": {"url": url, "status": status, "linked_from": referer,
                                     "response_class": current_class, "seen_at": str(at)}})
        if gone and had_content:
            out.append({"rule": "page_gone", "severity": "high", "program": None, "kind": None,
                        "key": f"page_gone|{url}", "source_id": sid, "url": url,
                        "evidence": {"url": url, "status": status, "seen_at": str(at)}})
    return out


def _apply(db_path: Path, findings: list[dict[str, Any]], scoped_urls: set[str] | None) -> tuple[int, int]:
    """Open new flags, refresh open ones, close those whose cause disappeared (set-based)."""
    by_id = {flag_id(f["key"]): f for f in findings}
    with transaction(db_path) as con:
        existing = {r[0]: r[1:] for r in con.execute("SELECT flag_id, rule, url, closed_at FROM flag_records").fetchall()}
        new = [fid for fid in by_id if fid not in existing]
        seen = [fid for fid in by_id if fid in existing]
        reopened = sum(existing[fid][2] is not None for fid in seen)
        gone = [fid for fid, (rule, url, closed_at) in existing.items()
                if closed_at is None and fid not in by_id
                and not (rule in PAGE_RULES and scoped_urls is not None and url not in scoped_urls)]
        now = con.execute("SELECT now()").fetchone()[0]
        insert_rows(con, "flag_records", FLAG_COLUMNS, [
            [fid, f["rule"], f["severity"], f["source_id"], f["url"], f["program"], f["kind"],
             json.dumps(f["evidence"], ensure_ascii=False, default=str), now, now, None, None]
            for fid, f in ((fid, by_id[fid]) for fid in new)])
        if seen:
            con.execute(
                "UPDATE flag_records SET last_seen = $1, closed_at = NULL, close_reason = NULL, evidence = u.evidence, "
                "severity = u.severity FROM (SELECT unnest($2::VARCHAR[]) AS id, unnest($3::JSON[]) AS evidence, "
                "unnest($4::VARCHAR[]) AS severity) u WHERE flag_id = u.id",
                [now, seen, [json.dumps(by_id[f]["evidence"], ensure_ascii=False, default=str) for f in seen],
                 [by_id[f]["severity"] for f in seen]])
        if gone:
            con.execute("UPDATE flag_records SET closed_at = $1, close_reason = 'cause disappeared' "
                        "WHERE flag_id IN (SELECT unnest($2::VARCHAR[]))", [now, gone])
    return len(new) + reopened, len(gone)


FLAG_COLUMNS = ("flag_id", "rule", "severity", "source_id", "url", "program", "kind", "evidence", "first_seen", "last_seen",
                "closed_at", "close_reason")
