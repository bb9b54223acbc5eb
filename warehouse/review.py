"""Editors' review: decisions on changes/flags, noise rules, and the data the report is built from.

Item keys are stable across runs: a fact change is ``"<after_version_id>:<seq>"``, a flag its
``flag_id``. Decisions are appended to ``reviews`` (history kept; the newest per item wins).
Noise rules never delete data: :func:`report_data` marks each change matching one with
``noise_rule_id`` and the report/queue leave it out.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warehouse.db import Warehouse, WarehouseError, connect, transaction
from warehouse.schema import migrate

ITEM_TYPES = ("change", "flag")
STATUSES = ("reviewed", "noise", "follow_up")
RUN_ID_RE = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]+")


class ReviewError(ValueError):
    """A decision or rule that cannot be stored (unknown item, bad status, missing reason)."""


def ensure_schema(db_path: Path) -> None:
    """Apply pending migrations only when the review tables are missing (no write otherwise)."""
    if not Warehouse.of(db_path).exists():
        raise WarehouseError(f"{db_path}: no warehouse here (run `wardwatch crawl` or `wardwatch demo` first)")
    with connect(db_path, read_only=True) as con:
        have = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'noise_rules'").fetchone()[0]
    if not have:
        migrate(db_path)


def change_key(after_version_id: str, seq: int) -> str:
    return f"{after_version_id}:{seq}"


def _new_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(4)


def _item_exists(con: Any, item_type: str, item_key: str) -> bool:
    if item_type == "flag":
        return con.execute("SELECT count(*) FROM flag_records WHERE flag_id = ?", [item_key]).fetchone()[0] > 0
    version_id, _, seq = item_key.rpartition(":")
    if not seq.isdigit():
        return False
    return con.execute("SELECT count(*) FROM fact_changes WHERE after_version_id = ? AND seq = ?",
                       [version_id, int(seq)]).fetchone()[0] > 0


def record_decisions(db_path: Path, items: list[tuple[str, str]], status: str, *, reason: str | None = None,
                     note: str | None = None, reviewer: str | None = None) -> list[str]:
    """Store one decision per (item_type, item_key); returns the review ids."""
    if status not in STATUSES:
        raise ReviewError(f"unknown status {status!r} (one of {', '.join(STATUSES)})")
    if status == "noise" and not (reason or "").strip():
        raise ReviewError("a noise dismissal needs a reason")
    if not items:
        raise ReviewError("no item to decide on")
    ensure_schema(db_path)
    ids = []
    with transaction(db_path) as con:
        for item_type, item_key in items:
            if item_type not in ITEM_TYPES or not _item_exists(con, item_type, item_key):
                raise ReviewError(f"unknown {item_type} item {item_key!r}")
            review_id = _new_id()
            con.execute("INSERT INTO reviews VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                        [review_id, item_type, item_key, status, _clean(reason), _clean(note), _clean(reviewer)])
            ids.append(review_id)
    return ids


def _clean(value: str | None, limit: int = 2000) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None


def add_noise_rule(db_path: Path, source_id: str, *, kind: str | None = None, program: str | None = None,
                   qualifier: str | None = None, before_text: str | None = None, after_text: str | None = None,
                   pattern: str | None = None, reason: str | None = None, review_id: str | None = None,
                   created_by: str | None = None) -> str:
    """A rule hiding matching changes of ``source_id`` (NULL fields match anything)."""
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ReviewError(f"invalid pattern {pattern!r}: {exc}") from None
    ensure_schema(db_path)
    rule_id = _new_id()
    with transaction(db_path) as con:
        con.execute("INSERT INTO noise_rules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
                    [rule_id, source_id, kind, program, qualifier, before_text, after_text, pattern, _clean(reason),
                     review_id, _clean(created_by)])
    return rule_id


def noise_rule_from_change(db_path: Path, item_key: str, *, reason: str | None = None,
                           review_id: str | None = None, created_by: str | None = None) -> str:
    """A noise rule for exactly this change (same source, kind, program, qualifier, before → after)."""
    version_id, _, seq = item_key.rpartition(":")
    with connect(db_path, read_only=True) as con:
        row = con.execute("SELECT source_id, kind, program, qualifier, before_text, after_text FROM changes "
                          "WHERE after_version_id = ? AND seq = ?", [version_id, int(seq) if seq.isdigit() else -1]
                          ).fetchone()
    if row is None:
        raise ReviewError(f"unknown change item {item_key!r}")
    sid, kind, program, qualifier, before_text, after_text = row
    with connect(db_path, read_only=True) as con:
        same = con.execute("SELECT rule_id FROM noise_rules WHERE source_id = ? AND kind = ? AND program = ? "
                           "AND qualifier = ? AND before_text IS NOT DISTINCT FROM ? AND after_text IS NOT DISTINCT FROM ? "
                           "AND pattern IS NULL", [sid, kind, program or "", qualifier or "", before_text, after_text]
                           ).fetchone()
    if same:
        return same[0]
    return add_noise_rule(db_path, sid, kind=kind, program=program or "", qualifier=qualifier or "",
                          before_text=before_text, after_text=after_text, reason=reason, review_id=review_id,
                          created_by=created_by)


# A noise rule matches a change (c) of its source; for fact_changed flags the same fields come from the evidence.
_RULE_MATCH = """
    n.source_id = {src}
    AND (n.kind IS NULL OR n.kind = {kind})
    AND (n.program IS NULL OR n.program = coalesce({program}, ''))
    AND (n.qualifier IS NULL OR n.qualifier = coalesce({qualifier}, ''))
    AND (n.before_text IS NULL OR n.before_text = {before})
    AND (n.after_text IS NULL OR n.after_text = {after})
    AND (n.pattern IS NULL OR regexp_matches(coalesce({before}, '') || ' → ' || coalesce({after}, ''), n.pattern))
"""
_CHANGE_RULE = _RULE_MATCH.format(src="c.source_id", kind="c.kind", program="c.program", qualifier="c.qualifier",
                                  before="c.before_text", after="c.after_text")
_FLAG_RULE = _RULE_MATCH.format(
    src="f.source_id", kind="f.kind", program="(f.evidence->>'program')", qualifier="(f.evidence->>'qualifier')",
    before="(f.evidence->>'before_text')", after="(f.evidence->>'after_text')")

CHANGE_COLUMNS = ("url", "source_id", "municipality", "source_kind", "program", "kind", "qualifier", "change",
                  "before", "after", "before_text", "after_text", "detected_at", "run_id", "before_version_id",
                  "after_version_id", "before_start", "before_end", "after_start", "after_end", "page", "seq",
                  "before_sha256", "after_sha256", "media_type", "status", "reason", "note", "reviewer", "decided_at",
                  "noise_rule_id")
FLAG_COLUMNS = ("flag_id", "rule", "severity", "source_id", "municipality", "url", "program", "kind", "evidence",
                "first_seen", "last_seen", "status", "reason", "note", "reviewer", "decided_at", "noise_rule_id")


def _since_clause(since: str | None, run_ids: list[str] | None) -> tuple[str, list[Any]]:
    if run_ids:
        return f"c.run_id IN ({', '.join('?' * len(run_ids))})", list(run_ids)
    if since and RUN_ID_RE.fullmatch(since):
        return "c.detected_at >= (SELECT started_at FROM runs WHERE run_id = ?)", [since]
    if since:
        return "c.detected_at >= ?::TIMESTAMPTZ", [since]
    return "TRUE", []


def select_changes(con: Any, since: str | None = None, run_ids: list[str] | None = None) -> list[dict[str, Any]]:
    where, params = _since_clause(since, run_ids)
    rows = con.execute(f"""
        SELECT c.url, c.source_id, c.municipality, s.kind, c.program, c.kind, c.qualifier, c.change,
               c.before, c.after, c.before_text, c.after_text, c.detected_at, c.run_id, c.before_version_id,
               c.after_version_id, c.before_start, c.before_end, c.after_start, c.after_end, c.page, c.seq,
               bv.sha256, av.sha256, av.media_type, r.status, r.reason, r.note, r.reviewer, r.decided_at,
               (SELECT min(n.rule_id) FROM noise_rules n WHERE {_CHANGE_RULE}) AS noise_rule_id
        FROM changes c
        LEFT JOIN sources s ON s.source_id = c.source_id
        LEFT JOIN versions av ON av.version_id = c.after_version_id
        LEFT JOIN versions bv ON bv.version_id = c.before_version_id
        LEFT JOIN latest_reviews r ON r.item_type = 'change' AND r.item_key = c.after_version_id || ':' || c.seq
        WHERE {where}
        ORDER BY c.municipality, c.program, c.detected_at DESC, c.url, c.seq""", params).fetchall()
    return [_row(CHANGE_COLUMNS, r, json_cols=("before", "after")) for r in rows]


def select_open_flags(con: Any) -> list[dict[str, Any]]:
    rows = con.execute(f"""
        SELECT f.flag_id, f.rule, f.severity, f.source_id, f.municipality, f.url, f.program, f.kind, f.evidence,
               f.first_seen, f.last_seen, r.status, r.reason, r.note, r.reviewer, r.decided_at,
               CASE WHEN f.rule = 'fact_changed' THEN (SELECT min(n.rule_id) FROM noise_rules n WHERE {_FLAG_RULE})
               END AS noise_rule_id
        FROM flags f
        LEFT JOIN latest_reviews r ON r.item_type = 'flag' AND r.item_key = f.flag_id
        WHERE f.open
        ORDER BY f.municipality, f.rule, f.severity, f.url, f.flag_id""").fetchall()
    return [_row(FLAG_COLUMNS, r, json_cols=("evidence",)) for r in rows]


def _row(columns: tuple[str, ...], values: tuple, json_cols: tuple[str, ...] = ()) -> dict[str, Any]:
    out = dict(zip(columns, values))
    for col in json_cols:
        if isinstance(out[col], str):
            try:
                out[col] = json.loads(out[col])
            except ValueError:
                pass
    return out


def version_texts(con: Any, version_ids: set[str]) -> dict[str, str]:
    """Extracted main text of each version (the extraction its diff used, else the newest)."""
    if not version_ids:
        return {}
    ids = sorted(version_ids)
    rows = con.execute(f"""
        SELECT v.version_id, coalesce(
            (SELECT e.main_text FROM extractions e JOIN version_diffs d ON d.extractor_version = e.extractor_version
             WHERE e.sha256 = v.sha256 AND d.after_version_id = v.version_id),
            (SELECT e.main_text FROM latest_extractions e WHERE e.sha256 = v.sha256))
        FROM versions v WHERE v.version_id IN ({', '.join('?' * len(ids))})""", ids).fetchall()
    return {vid: text for vid, text in rows if text is not None}


def current_texts(con: Any, urls: set[str]) -> dict[str, str]:
    """Main text of each URL's current version (what flag evidence offsets point into)."""
    if not urls:
        return {}
    ids = sorted(urls)
    rows = con.execute(f"""
        SELECT v.url, e.main_text FROM versions v JOIN latest_extractions e USING (sha256)
        WHERE v.valid_to IS NULL AND v.url IN ({', '.join('?' * len(ids))})""", ids).fetchall()
    return {url: text for url, text in rows if text is not None}


def crawl_health(con: Any) -> list[dict[str, Any]]:
    """Per source, its latest finished run: fetches, errors by kind, and whether its start pages failed."""
    rows = con.execute("""
        WITH r AS (SELECT run_id, started_at, unnest(source_ids) AS source_id FROM runs WHERE status <> 'running'),
             last AS (SELECT source_id, arg_max(run_id, started_at) AS run_id FROM r GROUP BY source_id)
        SELECT l.source_id, s.municipality, s.kind, l.run_id, count(f.fetch_id) AS fetched,
               count(*) FILTER (f.outcome = 'error') AS errors,
               count(*) FILTER (f.outcome IS NOT NULL AND f.outcome <> 'error') AS ok,
               count(*) FILTER (f.depth = 0 AND f.outcome <> 'error') AS start_ok,
               list(f.error_kind ORDER BY f.error_kind) FILTER (f.error_kind IS NOT NULL) AS kinds,
               arg_max(f.error, f.fetched_at) FILTER (f.depth = 0 AND f.outcome = 'error') AS start_error
        FROM last l LEFT JOIN fetches f ON f.run_id = l.run_id AND f.source_id = l.source_id
        LEFT JOIN sources s ON s.source_id = l.source_id
        GROUP BY ALL ORDER BY l.source_id""").fetchall()
    out = []
    for sid, muni, kind, run_id, fetched, errors, ok, start_ok, kinds, start_error in rows:
        counts: dict[str, int] = {}
        for k in kinds or []:
            counts[k] = counts.get(k, 0) + 1
        out.append({"source_id": sid, "municipality": muni, "source_kind": kind, "run_id": run_id,
                    "fetched": fetched, "errors": errors, "ok": ok, "failed": fetched == 0 or start_ok == 0,
                    "error_kinds": counts, "reason": start_error})
    return out


def noise_rules(con: Any) -> list[dict[str, Any]]:
    cols = ("rule_id", "source_id", "kind", "program", "qualifier", "before_text", "after_text", "pattern", "reason",
            "created_by", "created_at")
    rows = con.execute(f"SELECT {', '.join(cols)} FROM noise_rules ORDER BY created_at").fetchall()
    return [dict(zip(cols, r)) for r in rows]


def report_data(db_path: Path, since: str | None = None, run_ids: list[str] | None = None) -> dict[str, Any]:
    """Everything a report needs, with every change/flag and its review state (filtering is the caller's)."""
    ensure_schema(db_path)
    with connect(db_path, read_only=True) as con:
        changes = select_changes(con, since, run_ids)
        flags = select_open_flags(con)
        versions = {c[k] for c in changes for k in ("before_version_id", "after_version_id") if c[k]}
        evidence_urls = {ev["source"] for f in flags for ev in _evidence_facts(f["evidence"]) if ev.get("source")}
        return {
            "changes": changes,
            "flags": flags,
            "version_texts": version_texts(con, versions),
            "current_texts": current_texts(con, evidence_urls),
            "text_diffs": _text_diffs(con, {c["after_version_id"] for c in changes}),
            "health": crawl_health(con),
            "noise_rules": noise_rules(con),
            "generated_at": con.execute("SELECT now()").fetchone()[0],
        }


def _evidence_facts(evidence: Any) -> list[dict[str, Any]]:
    if not isinstance(evidence, dict):
        return []
    out = [evidence] + [v for v in evidence.values() if isinstance(v, dict)]
    for v in evidence.values():
        if isinstance(v, list):
            out += [x for x in v if isinstance(x, dict)]
    return out


def _text_diffs(con: Any, after_ids: set[str]) -> dict[str, Any]:
    if not after_ids:
        return {}
    ids = sorted(after_ids)
    rows = con.execute(f"SELECT after_version_id, text_diff FROM version_diffs "
                       f"WHERE after_version_id IN ({', '.join('?' * len(ids))})", ids).fetchall()
    return {vid: json.loads(d) if isinstance(d, str) else d for vid, d in rows}


def archived_version(db_path: Path, version_id: str) -> dict[str, Any] | None:
    """A stored version and its raw bytes (None when unknown)."""
    with connect(db_path, read_only=True) as con:
        row = con.execute("""
            SELECT v.version_id, v.url, v.source_id, v.sha256, v.media_type, v.charset, v.valid_from, v.valid_to,
                   b.data, e.title, e.main_text
            FROM versions v JOIN blobs b USING (sha256) LEFT JOIN latest_extractions e USING (sha256)
            WHERE v.version_id = ?""", [version_id]).fetchone()
    if row is None:
        return None
    cols = ("version_id", "url", "source_id", "sha256", "media_type", "charset", "valid_from", "valid_to", "data",
            "title", "main_text")
    return dict(zip(cols, row))


def review_history(db_path: Path, item_type: str, item_key: str) -> list[dict[str, Any]]:
    cols = ("status", "reason", "note", "reviewer", "decided_at")
    with connect(db_path, read_only=True) as con:
        rows = con.execute(f"SELECT {', '.join(cols)} FROM reviews WHERE item_type = ? AND item_key = ? "
                           "ORDER BY decided_at DESC, review_id DESC", [item_type, item_key]).fetchall()
    return [dict(zip(cols, r)) for r in rows]


def run_exists(db_path: Path, run_id: str) -> bool:
    with connect(db_path, read_only=True) as con:
        return con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchone()[0] > 0
