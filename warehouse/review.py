"""Editors' review: decisions on changes/flags, noise rules, and the data the report is built from.

Item keys are stable across runs: a fact change is ``"<after_version_id>:<seq>"``, a flag its
``flag_id``. Decisions are appended to ``reviews`` (history kept; the newest per item wins).
A fact change and the ``fact_changed`` flag raised for it are one item: a decision on either is
recorded for both (:func:`linked_items`). An undo is a new row restoring the previous decision
(``undecided`` when there was none). Noise rules never delete data: :func:`report_data` marks each
change matching an active one with ``noise_rule_id`` and the report/queue leave it out; disabling and
re-enabling a rule are rows in ``reviews`` too (item_type ``noise_rule``, status ``disabled``/``enabled``).
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warehouse.db import Warehouse, WarehouseError, connect, read_blobs, transaction
from warehouse.schema import migrate, migration_files

ITEM_TYPES = ("change", "flag")
STATUSES = ("reviewed", "noise", "follow_up")
UNDECIDED = "undecided"  # an undo back to "no decision yet"
RULE_TYPE, RULE_STATES = "noise_rule", ("disabled", "enabled")
RUN_ID_RE = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]+")


class ReviewError(ValueError):
    """A decision or rule that cannot be stored (unknown item, bad status, missing reason)."""


def ensure_schema(db_path: Path) -> None:
    """Apply pending migrations only when some are pending (the review tables, program ids; no write otherwise)."""
    if not Warehouse.of(db_path).exists():
        raise WarehouseError(f"{db_path}: no warehouse here (run `wardwatch crawl` or `wardwatch demo` first)")
    with connect(db_path, read_only=True) as con:
        have = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
                           ).fetchone()[0]
        done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()} if have else set()
    if {name for name, _ in migration_files()} - done:
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


# A fact_changed flag (f, flag_records) raised for a change (c, the changes view): same page version and values.
_FLAG_OF_CHANGE = """
    f.rule = 'fact_changed' AND f.url = c.url AND (f.evidence->>'after_version_id') = c.after_version_id
    AND f.kind = c.kind AND coalesce(f.program, '') = coalesce(c.program, '')
    AND coalesce(f.evidence->>'qualifier', '') = coalesce(c.qualifier, '')
    AND (f.evidence->>'before_text') IS NOT DISTINCT FROM c.before_text
    AND (f.evidence->>'after_text') IS NOT DISTINCT FROM c.after_text
"""


def linked_items(con: Any, items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``items`` plus, for each change, the fact_changed flag raised for it and, for each such flag, its change
    (in order, each once): the two are one review item."""
    out: list[tuple[str, str]] = []
    for item_type, item_key in items:
        if (item_type, item_key) not in out:
            out.append((item_type, item_key))
        if item_type == "change":
            version_id, _, seq = item_key.rpartition(":")
            rows = con.execute(f"SELECT f.flag_id FROM flag_records f, changes c WHERE c.after_version_id = ? "
                               f"AND c.seq = ? AND {_FLAG_OF_CHANGE} ORDER BY f.flag_id",
                               [version_id, int(seq) if seq.isdigit() else -1]).fetchall()
            linked = [("flag", r[0]) for r in rows]
        elif item_type == "flag":
            rows = con.execute(f"SELECT c.after_version_id || ':' || c.seq FROM flag_records f, changes c "
                               f"WHERE f.flag_id = ? AND {_FLAG_OF_CHANGE} ORDER BY c.seq", [item_key]).fetchall()
            linked = [("change", r[0]) for r in rows]
        else:
            linked = []
        out += [it for it in linked if it not in out]
    return out


def record_decisions(db_path: Path, items: list[tuple[str, str]], status: str, *, reason: str | None = None,
                     note: str | None = None, reviewer: str | None = None) -> list[str]:
    """Store one decision per (item_type, item_key) and per item linked to it (:func:`linked_items`); returns
    the review ids (the linked items' too)."""
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
        for item_type, item_key in linked_items(con, items):
            ids.append(_insert_review(con, item_type, item_key, status, reason, note, reviewer))
    return ids


def _insert_review(con: Any, item_type: str, item_key: str, status: str, reason: str | None, note: str | None,
                   reviewer: str | None) -> str:
    review_id = _new_id()
    con.execute("INSERT INTO reviews (review_id, item_type, item_key, status, reason, note, reviewer, decided_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                [review_id, item_type, item_key, status, _clean(reason), _clean(note), _clean(reviewer)])
    return review_id


REVIEW_COLUMNS = ("review_id", "item_type", "item_key", "status", "reason", "note", "reviewer", "decided_at")


def reviews_by_id(db_path: Path, review_ids: list[str]) -> list[dict[str, Any]]:
    """The stored reviews rows with these ids (in the given order; unknown ids are left out), each with
    ``latest``: whether it is still the item's newest decision."""
    if not review_ids:
        return []
    with connect(db_path, read_only=True) as con:
        rows = con.execute(f"""
            SELECT {', '.join('r.' + c for c in REVIEW_COLUMNS)}, l.review_id = r.review_id
            FROM reviews r JOIN latest_reviews l USING (item_type, item_key)
            WHERE r.review_id IN ({', '.join('?' * len(review_ids))})""", list(review_ids)).fetchall()
    by_id = {r[0]: {**dict(zip(REVIEW_COLUMNS, r[:-1])), "latest": r[-1]} for r in rows}
    return [by_id[i] for i in dict.fromkeys(review_ids) if i in by_id]


def rules_made_by(db_path: Path, review_ids: list[str]) -> list[str]:
    """The noise rules made from these decisions (``noise_rules.review_id``)."""
    if not review_ids:
        return []
    with connect(db_path, read_only=True) as con:
        return [r[0] for r in con.execute(f"SELECT rule_id FROM noise_rules WHERE review_id IN "
                                          f"({', '.join('?' * len(review_ids))}) ORDER BY rule_id",
                                          list(review_ids)).fetchall()]


def undo_reviews(db_path: Path, review_ids: list[str], *, reviewer: str | None = None) -> dict[str, list[str]]:
    """Undo decisions: for each review that is still its item's newest, a new row restoring the decision before
    it (status ``undecided`` when there was none; a noise rule's state flips back). Nothing is deleted.

    Returns {"undone": new review ids, "skipped": review ids already superseded by a later decision}."""
    if not review_ids:
        raise ReviewError("no decision to undo")
    ensure_schema(db_path)
    undone: list[str] = []
    skipped: list[str] = []
    with transaction(db_path) as con:
        for review_id in dict.fromkeys(review_ids):
            row = con.execute("SELECT item_type, item_key, decided_at FROM reviews WHERE review_id = ?",
                              [review_id]).fetchone()
            if row is None:
                raise ReviewError(f"unknown decision {review_id!r}")
            item_type, item_key, decided_at = row
            latest = con.execute("SELECT review_id FROM latest_reviews WHERE item_type = ? AND item_key = ?",
                                 [item_type, item_key]).fetchone()[0]
            if latest != review_id:
                skipped.append(review_id)
                continue
            before = con.execute("""
                SELECT status, reason, note FROM reviews WHERE item_type = ? AND item_key = ?
                  AND (decided_at < ? OR (decided_at = ? AND review_id < ?))
                ORDER BY decided_at DESC, review_id DESC LIMIT 1""",
                                 [item_type, item_key, decided_at, decided_at, review_id]).fetchone()
            if before is None:
                before = ("enabled" if item_type == RULE_TYPE else UNDECIDED, None, None)
            undone.append(_insert_review(con, item_type, item_key, before[0], before[1], before[2], reviewer))
    return {"undone": undone, "skipped": skipped}


def set_noise_rule_state(db_path: Path, rule_id: str, active: bool, *, reason: str | None = None,
                         reviewer: str | None = None) -> str:
    """Disable or re-enable a noise rule (a ``reviews`` row; the rule itself is kept); returns the review id."""
    ensure_schema(db_path)
    with transaction(db_path) as con:
        if not con.execute("SELECT count(*) FROM noise_rules WHERE rule_id = ?", [rule_id]).fetchone()[0]:
            raise ReviewError(f"unknown noise rule {rule_id!r}")
        return _insert_review(con, RULE_TYPE, rule_id, "enabled" if active else "disabled", reason, None, reviewer)


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
    AND n.rule_id NOT IN (SELECT item_key FROM latest_reviews WHERE item_type = 'noise_rule' AND status = 'disabled')
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
                  "noise_rule_id", "program_id")
FLAG_COLUMNS = ("flag_id", "rule", "severity", "source_id", "municipality", "url", "program", "kind", "evidence",
                "first_seen", "last_seen", "status", "reason", "note", "reviewer", "decided_at", "noise_rule_id",
                "program_id")


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
               (SELECT min(n.rule_id) FROM noise_rules n WHERE {_CHANGE_RULE}) AS noise_rule_id, c.program_id
        FROM changes c
        LEFT JOIN sources s ON s.source_id = c.source_id
        LEFT JOIN versions av ON av.version_id = c.after_version_id
        LEFT JOIN versions bv ON bv.version_id = c.before_version_id
        LEFT JOIN latest_reviews r ON r.item_type = 'change' AND r.item_key = c.after_version_id || ':' || c.seq
          AND r.status <> 'undecided'
        WHERE {where}
        ORDER BY c.municipality, c.program, c.detected_at DESC, c.url, c.seq""", params).fetchall()
    return [_row(CHANGE_COLUMNS, r, json_cols=("before", "after")) for r in rows]


def select_open_flags(con: Any) -> list[dict[str, Any]]:
    rows = con.execute(f"""
        SELECT f.flag_id, f.rule, f.severity, f.source_id, f.municipality, f.url, f.program, f.kind, f.evidence,
               f.first_seen, f.last_seen, r.status, r.reason, r.note, r.reviewer, r.decided_at,
               CASE WHEN f.rule = 'fact_changed' THEN (SELECT min(n.rule_id) FROM noise_rules n WHERE {_FLAG_RULE})
               END AS noise_rule_id, f.program_id
        FROM flags f
        LEFT JOIN latest_reviews r ON r.item_type = 'flag' AND r.item_key = f.flag_id AND r.status <> 'undecided'
        WHERE f.open
        ORDER BY f.municipality, f.rule, f.severity, f.url, f.flag_id""").fetchall()
    return [_row(FLAG_COLUMNS, r, json_cols=("evidence",)) for r in rows]


def program_names(con: Any, program_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Name and scope of each program id: the catalog's, else the ``programs`` view's (the name official pages use
    most; the row stating most current facts when a program is known in several municipalities). Ids neither knows
    (a program no page states any more) are left out: the caller falls back to the heading text."""
    if not program_ids:
        return {}
    rows = con.execute("""
        WITH ids AS (SELECT DISTINCT unnest($1::VARCHAR[]) AS program_id),
             p AS (SELECT program_id, arg_max(name, current_facts) AS name, arg_max(scope, current_facts) AS scope
                   FROM programs WHERE list_contains($1::VARCHAR[], program_id) GROUP BY program_id)
        SELECT ids.program_id, coalesce(c.name, p.name), coalesce(c.scope, p.scope)
        FROM ids LEFT JOIN program_catalog c USING (program_id) LEFT JOIN p USING (program_id)
        WHERE coalesce(c.name, p.name) IS NOT NULL""", [sorted(program_ids)]).fetchall()
    return {pid: {"name": name, "scope": scope} for pid, name, scope in rows}


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
    """Every noise rule, oldest first, with ``active`` and its ``history`` (disable / enable rows, newest first)."""
    cols = ("rule_id", "source_id", "kind", "program", "qualifier", "before_text", "after_text", "pattern", "reason",
            "created_by", "created_at")
    rows = con.execute(f"SELECT {', '.join(cols)} FROM noise_rules ORDER BY created_at, rule_id").fetchall()
    history: dict[str, list[dict[str, Any]]] = {}
    for review_id, key, status, reason, reviewer, decided_at in con.execute(
            "SELECT review_id, item_key, status, reason, reviewer, decided_at FROM reviews WHERE item_type = ? "
            "ORDER BY decided_at DESC, review_id DESC", [RULE_TYPE]).fetchall():
        history.setdefault(key, []).append({"review_id": review_id, "status": status, "reason": reason,
                                            "reviewer": reviewer, "decided_at": decided_at})
    out = []
    for r in rows:
        rule = dict(zip(cols, r))
        rule["history"] = history.get(rule["rule_id"], [])
        rule["active"] = not rule["history"] or rule["history"][0]["status"] != "disabled"
        out.append(rule)
    return out


def report_data(db_path: Path, since: str | None = None, run_ids: list[str] | None = None) -> dict[str, Any]:
    """Everything a report needs, with every change/flag and its review state (filtering is the caller's), and
    ``programs``: the name and scope of every program id they carry (:func:`program_names`)."""
    ensure_schema(db_path)
    with connect(db_path, read_only=True) as con:
        changes = select_changes(con, since, run_ids)
        flags = select_open_flags(con)
        versions = {c[k] for c in changes for k in ("before_version_id", "after_version_id") if c[k]}
        versions |= {ev[k] for f in flags for ev in _evidence_facts(f["evidence"])
                     for k in ("version_id", "before_version_id", "after_version_id") if isinstance(ev.get(k), str)}
        evidence_urls = {ev["source"] for f in flags for ev in _evidence_facts(f["evidence"]) if ev.get("source")}
        return {
            "changes": changes,
            "flags": flags,
            "version_texts": version_texts(con, versions),
            "current_texts": current_texts(con, evidence_urls),
            "text_diffs": _text_diffs(con, {c["after_version_id"] for c in changes}),
            "health": crawl_health(con),
            "noise_rules": noise_rules(con),
            "programs": program_names(con, {r["program_id"] for r in changes + flags if r.get("program_id")}),
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
    """A stored version and its raw bytes (None when unknown), with the ids of the URL's previous and next
    versions (``previous_id``, ``next_id``, by validity) and the previous version's main text."""
    with connect(db_path, read_only=True) as con:
        row = con.execute("""
            WITH u AS (SELECT version_id, lag(version_id) OVER w AS previous_id, lead(version_id) OVER w AS next_id,
                              row_number() OVER w AS number, count(*) OVER (PARTITION BY url) AS versions
                       FROM versions WHERE url = (SELECT url FROM versions WHERE version_id = $1)
                       WINDOW w AS (PARTITION BY url ORDER BY valid_from, version_id))
            SELECT v.version_id, v.url, v.source_id, v.sha256, v.media_type, v.charset, v.valid_from, v.valid_to,
                   NULL AS data, e.title, e.main_text, u.previous_id, u.next_id, u.number, u.versions
            FROM versions v JOIN blobs b USING (sha256) LEFT JOIN latest_extractions e USING (sha256)
            JOIN u USING (version_id)
            WHERE v.version_id = $1""", [version_id]).fetchone()
        if row is None:
            return None
        cols = ("version_id", "url", "source_id", "sha256", "media_type", "charset", "valid_from", "valid_to", "data",
                "title", "main_text", "previous_id", "next_id", "number", "versions")
        out = dict(zip(cols, row))
        out["data"] = read_blobs(con, [out["sha256"]]).get(out["sha256"])  # the table or a lake's blob store
        out["previous_text"] = version_texts(con, {out["previous_id"]}).get(out["previous_id"]) \
            if out["previous_id"] else None
    return out


def archive_texts(db_path: Path, version_ids: set[str]) -> dict[str, dict[str, Any]]:
    """For embedding in a standalone report: each version's URL, validity, sha256, media type and main text."""
    if not version_ids:
        return {}
    ids = sorted(version_ids)
    with connect(db_path, read_only=True) as con:
        texts = version_texts(con, set(ids))
        rows = con.execute(f"SELECT version_id, url, valid_from, valid_to, sha256, media_type FROM versions "
                           f"WHERE version_id IN ({', '.join('?' * len(ids))})", ids).fetchall()
    cols = ("version_id", "url", "valid_from", "valid_to", "sha256", "media_type")
    return {r[0]: {**dict(zip(cols, r)), "main_text": texts.get(r[0])} for r in rows}


def review_history(db_path: Path, item_type: str, item_key: str) -> list[dict[str, Any]]:
    cols = ("status", "reason", "note", "reviewer", "decided_at")
    with connect(db_path, read_only=True) as con:
        rows = con.execute(f"SELECT {', '.join(cols)} FROM reviews WHERE item_type = ? AND item_key = ? "
                           "ORDER BY decided_at DESC, review_id DESC", [item_type, item_key]).fetchall()
    return [dict(zip(cols, r)) for r in rows]


def run_exists(db_path: Path, run_id: str) -> bool:
    with connect(db_path, read_only=True) as con:
        return con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchone()[0] > 0
