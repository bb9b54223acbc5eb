"""The change report: pure functions from warehouse rows (``warehouse.review.report_data``) to a model,
and from the model to Markdown / JSON (HTML: ``wardwatch.report.html``).

The model groups the same fact change seen on many pages once — by (kind, qualifier, before, after)
across URLs — with the list of pages, each with the sentence around the value. Items an editor marked
確認済み or ノイズ, and changes a noise rule matches, are left out unless the status filter asks for them.

Changes and flags are placed by municipality › program (``model["municipalities"]``, :func:`program_tree`): a
section per municipality, in it a group per program — keyed by (municipality, program_id), named by the catalog
or the ``programs`` view, so one program written differently on two pages is one group; an item without a
program id is grouped by its heading text. Programs come most severe item first. Each change reads as one line,
「練馬区 › ひとり親家庭住宅支援資金貸付: 上限4万円 → 5万円 (2026-04-01)」 (:func:`change_line`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

from diffs.rules import in_scope
from wardwatch.report.labels import (
    CHANGE_LABELS,
    KIND_LABELS,
    NO_PROGRAM,
    RULE_LABELS,
    SCOPE_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    error_kind_label,
    flag_evidence,
)

VISIBLE_BY_DEFAULT = ("new", "follow_up")
STATUS_FILTERS = ("open", "new", "follow_up", "reviewed", "noise", "noise_rule", "all")
HEALTH_RULES = tuple(rule.name for rule in in_scope("fetch"))  # crawl health: broken links, pages gone
SNIPPET_WIDTH = 70
JST = timezone(timedelta(hours=9), "JST")
UNKNOWN_MUNICIPALITY = "(不明)"
# how severe an item is, for ordering programs: a flag by its severity, a change by its fact_changed flag's
# (a change without one counts as low)
SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}
_MUNICIPAL_ID = re.compile(r"\d{6}:")  # '<municipality code>:<name key>': a program the pages of one municipality define
_QUALIFIER_GLUE = re.compile(r"[\s:：()（）]|は|として")


# --- building blocks ---------------------------------------------------------------------------

def snippet(text: str | None, start: int | None, end: int | None, value: str | None = None,
            width: int = SNIPPET_WIDTH) -> dict[str, str] | None:
    """The sentence around ``text[start:end]``: {"before", "text", "after"} (plain strings, unescaped).

    When the offsets do not point at ``value`` (an older extraction), the first occurrence of ``value``
    is used; None when neither is found.
    """
    if not text:
        return None
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(text)) or \
            (value and text[start:end] != value):
        found = text.find(value) if value else -1
        if found < 0:
            return None
        start, end = found, found + len(value)
    left = start
    while left > 0 and start - left < width and text[left - 1] not in "。\n！？":
        left -= 1
    right = end
    while right < len(text) and right - end < width and text[right] != "\n":
        right += 1
        if text[right - 1] in "。！？":
            break
    before = ("…" if left > 0 and text[left - 1] not in "。\n！？" else "") + text[left:start]
    after = text[end:right] + ("…" if right < len(text) and text[right - 1] not in "。！？" and text[right] != "\n" else "")
    return {"before": before, "text": text[start:end], "after": after}


def side_by_side(before: str, after: str, context: int = 2, max_rows: int = 600) -> list[dict[str, Any]]:
    """Rows for a two-column diff of two texts, line by line; changed lines carry character segments
    ``[[text, changed], ...]``. Unchanged stretches are cut to ``context`` lines around changes ("gap" rows)."""
    import difflib

    a, b = before.splitlines(), after.splitlines()
    rows: list[dict[str, Any]] = []
    groups = list(difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context))
    for n, group in enumerate(groups):
        if n or group[0][1] > 0 or group[0][3] > 0:
            rows.append({"type": "gap"})
        for tag, i1, i2, j1, j2 in group:
            for k in range(max(i2 - i1, j2 - j1)):
                left = a[i1 + k] if i1 + k < i2 else None
                right = b[j1 + k] if j1 + k < j2 else None
                if tag == "equal":
                    rows.append({"type": "same", "left_no": i1 + k + 1, "right_no": j1 + k + 1,
                                 "left": [[left, False]], "right": [[right, False]]})
                    continue
                ls, rs = _char_segments(left, right)
                rows.append({"type": "change", "left_no": i1 + k + 1 if left is not None else None,
                             "right_no": j1 + k + 1 if right is not None else None, "left": ls, "right": rs})
    if groups and (groups[-1][-1][2] < len(a) or groups[-1][-1][4] < len(b)):
        rows.append({"type": "gap"})
    return rows[:max_rows]


def _char_segments(left: str | None, right: str | None) -> tuple[list | None, list | None]:
    import difflib

    if left is None or right is None:
        return ([[left, True]] if left is not None else None), ([[right, True]] if right is not None else None)
    ls: list[list[Any]] = []
    rs: list[list[Any]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, left, right, autojunk=False).get_opcodes():
        if i2 > i1:
            ls.append([left[i1:i2], tag != "equal"])
        if j2 > j1:
            rs.append([right[j1:j2], tag != "equal"])
    return ls, rs


def state_of(row: dict[str, Any]) -> str:
    """new | follow_up | reviewed | noise | noise_rule (an explicit decision wins over a rule)."""
    return row.get("status") or ("noise_rule" if row.get("noise_rule_id") else "new")


def wanted(state: str, status_filter: str) -> bool:
    if status_filter == "all":
        return True
    if status_filter == "open":
        return state in VISIBLE_BY_DEFAULT
    return state == status_filter


def _review(row: dict[str, Any]) -> dict[str, Any] | None:
    if not row.get("status"):
        return None
    return {"status": row["status"], "label": STATUS_LABELS[row["status"]], "reason": row.get("reason"),
            "note": row.get("note"), "reviewer": row.get("reviewer"), "decided_at": _s(row.get("decided_at"))}


def _s(v: Any) -> str | None:
    """Text of a value; timestamps in Japan time (the editors' clock), e.g. 2026-11-23T03:39:38+09:00."""
    if isinstance(v, datetime):
        return (v.astimezone(JST) if v.tzinfo else v).isoformat(timespec="seconds")
    return None if v is None else str(v)


def _canon(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


# --- programs and change lines -------------------------------------------------------------------

def resolve_programs(rows: list[dict[str, Any]], known: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Name and scope of every program id the rows carry: ``known`` (catalog / ``programs`` view, from
    ``report_data``), else the heading the rows of that id use most (ties: the first seen), and scope
    ``municipal`` for a ``<code>:<name>`` id. One id, one name: its items form one group."""
    out = {pid: dict(info) for pid, info in known.items()}
    headings: dict[str, Counter] = {}
    for r in rows:
        pid = r.get("program_id")
        if pid and pid not in out:
            headings.setdefault(pid, Counter())[r.get("program") or pid] += 1
    for pid, counts in headings.items():
        out[pid] = {"name": counts.most_common(1)[0][0], "scope": None}
    for pid, info in out.items():
        if not info.get("scope") and _MUNICIPAL_ID.match(pid):
            info["scope"] = "municipal"
    return out


def program_of(row: dict[str, Any], programs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The program an item belongs to: ``program_key`` (``id:<program_id>``, or ``heading:<text>`` when the fact has
    no program id), ``program_id``, ``program_name`` (the program's name, else the heading, else "(プログラム名なし)"),
    ``scope`` and ``scope_label`` (国 / 都道府県 / 区市町村; None when unknown)."""
    pid, heading = row.get("program_id") or None, row.get("program") or None
    if pid:
        info = programs.get(pid) or {}
        name, scope, key = info.get("name") or heading or pid, info.get("scope"), f"id:{pid}"
    else:
        name, scope, key = heading or NO_PROGRAM, None, f"heading:{heading or ''}"
    return {"program_key": key, "program_id": pid, "program_name": name, "scope": scope,
            "scope_label": SCOPE_LABELS.get(scope or "")}


def change_values(before_text: str | None, after_text: str | None, change: str | None = None,
                  qualifier: str | None = None) -> str:
    """``上限4万円 → 5万円``: a change as its two spans, the new one without the qualifier words both start with
    (only qualifier words — 上限, 月額 … — are dropped, never digits or other text); ``追加 …`` / ``削除 …``."""
    before, after = " ".join((before_text or "").split()), " ".join((after_text or "").split())
    if change == "added" or not before:
        return f"追加 {after or '—'}"
    if change == "removed" or not after:
        return f"削除 {before}"
    lead = re.match(r"\D+", before)
    if qualifier and lead and after.startswith(lead.group()) and len(after) > len(lead.group()):
        rest = lead.group()
        for word in sorted(qualifier.split(","), key=len, reverse=True):
            rest = rest.replace(word, "") if word else rest
        if not _QUALIFIER_GLUE.sub("", rest):
            after = after[len(lead.group()):].lstrip()
    return f"{before} → {after}"


def change_line(municipality: str | None, program_name: str | None, before_text: str | None, after_text: str | None,
                change: str | None = None, qualifier: str | None = None, detected_at: Any = None) -> str:
    """「練馬区 › ひとり親家庭住宅支援資金貸付: 上限4万円 → 5万円 (2026-04-01)」: where, what, when (the day it was
    detected, Japan time). The report, the review queue, the notice and the Atom feed all use this line."""
    day = (_s(detected_at) or "")[:10]
    return (f"{municipality or UNKNOWN_MUNICIPALITY} › {program_name or NO_PROGRAM}: "
            f"{change_values(before_text, after_text, change, qualifier)}" + (f" ({day})" if day else ""))


def place_title(municipality: str | None, program_name: str | None) -> str:
    """「練馬区 › 児童扶養手当」."""
    return f"{municipality or UNKNOWN_MUNICIPALITY} › {program_name or NO_PROGRAM}"


# --- the model -----------------------------------------------------------------------------------

def change_item(row: dict[str, Any], texts: dict[str, str],
                programs: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    state = state_of(row)
    program = program_of(row, programs or {})
    detected_at = _s(row.get("detected_at"))
    return {
        "item_key": f"{row['after_version_id']}:{row['seq']}",
        **{k: row.get(k) for k in ("url", "source_id", "municipality", "source_kind", "program", "kind", "qualifier",
                                   "change", "before", "after", "before_text", "after_text", "run_id", "page",
                                   "before_version_id", "after_version_id", "before_sha256", "after_sha256",
                                   "media_type")},
        **program,
        "line": change_line(row.get("municipality"), program["program_name"], row.get("before_text"),
                            row.get("after_text"), row.get("change"), row.get("qualifier"), detected_at),
        "detected_at": detected_at, "state": state, "state_label": STATUS_LABELS.get(state, state),
        "review": _review(row), "noise_rule_id": row.get("noise_rule_id"),
        "before_snippet": snippet(texts.get(row.get("before_version_id") or ""), row.get("before_start"),
                                  row.get("before_end"), row.get("before_text")),
        "after_snippet": snippet(texts.get(row.get("after_version_id") or ""), row.get("after_start"),
                                 row.get("after_end"), row.get("after_text")),
    }


def group_changes(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One group per (kind, qualifier, before, after) across URLs, in first-seen order."""
    groups: dict[tuple, dict[str, Any]] = {}
    for it in items:
        key = (it["kind"], it["qualifier"], _canon(it["before"]), _canon(it["after"]))
        g = groups.get(key)
        if g is None:
            gid = hashlib.sha1("\x1f".join(map(str, key)).encode("utf-8")).hexdigest()[:12]
            g = groups[key] = {
                "group_id": gid, "kind": it["kind"], "kind_label": KIND_LABELS.get(it["kind"], it["kind"]),
                "qualifier": it["qualifier"], "change": it["change"],
                "change_label": CHANGE_LABELS.get(it["change"], it["change"]), "before": it["before"],
                "after": it["after"], "before_text": it["before_text"], "after_text": it["after_text"],
                "items": [], "municipalities": [], "programs": [], "urls": []}
        g["items"].append(it)
        for field, value in (("municipalities", it["municipality"]), ("programs", it["program"]), ("urls", it["url"])):
            if value not in g[field]:
                g[field].append(value)
    for g in groups.values():
        _set_state(g)
        places = {(it["municipality"], _program_key(it)) for it in g["items"]}
        g["shared"] = len(places) > 1  # on pages of several municipalities or programs
        first = g["items"][0]
        g["municipality"], g["program"] = (None, None) if g["shared"] else (first["municipality"], first["program"])
        for k in ("program_key", "program_id", "program_name", "scope", "scope_label"):
            g[k] = None if g["shared"] else first.get(k)
    return list(groups.values())


def _set_state(g: dict[str, Any]) -> None:
    states = {it["state"] for it in g["items"]}
    g["state"] = states.pop() if len(states) == 1 else "mixed"
    g["state_label"] = STATUS_LABELS.get(g["state"], "混在")


def _program_key(it: dict[str, Any]) -> str:
    return it.get("program_key") or f"heading:{it.get('program') or ''}"


def flag_item(row: dict[str, Any], current_texts: dict[str, str],
              programs: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    state = state_of(row)
    evidence = flag_evidence(row, current_texts, snippet)
    program = program_of(row, programs or {})
    return {
        "item_key": row["flag_id"], **{k: row.get(k) for k in ("flag_id", "rule", "severity", "source_id",
                                                                "municipality", "url", "program", "kind")},
        **program, "place": place_title(row.get("municipality"), program["program_name"]),
        "rule_label": RULE_LABELS.get(row["rule"], row["rule"]),
        "severity_label": SEVERITY_LABELS.get(row["severity"], row["severity"]),
        "first_seen": _s(row.get("first_seen")), "state": state, "state_label": STATUS_LABELS.get(state, state),
        "review": _review(row), "evidence": evidence, "raw_evidence": row.get("evidence"),
    }


def build_report(data: dict[str, Any], *, status: str = "open", ward: str | None = None, program: str | None = None,
                 rule: str | None = None, since: str | None = None, run_ids: list[str] | None = None) -> dict[str, Any]:
    """The report model (JSON-ready) from ``report_data`` output, filtered."""
    if status not in STATUS_FILTERS:
        raise ValueError(f"unknown status filter {status!r}")
    texts = data.get("version_texts") or {}
    hidden: dict[str, int] = {}
    rows = data.get("changes", []) + data.get("flags", [])
    programs = resolve_programs(rows, data.get("programs") or {})

    def keep(row: dict[str, Any], is_flag: bool) -> bool:
        if ward and row.get("municipality") != ward:
            return False
        if program and program not in (row.get("program_id"), row.get("program")):  # a program id, or a heading
            return False
        if rule and (not is_flag or row.get("rule") != rule):
            return False
        if not wanted(state_of(row), status):
            hidden[state_of(row)] = hidden.get(state_of(row), 0) + 1
            return False
        return True

    items = [change_item(r, texts, programs) for r in data.get("changes", []) if keep(r, False)]
    flags = [flag_item(r, data.get("current_texts") or {}, programs) for r in data.get("flags", []) if keep(r, True)]
    groups = group_changes(items)
    shown_versions = {(it["url"], it["before_version_id"], it["after_version_id"]) for it in items}
    diffs = []
    for url, before_id, after_id in sorted(shown_versions, key=lambda t: (t[0], t[2])):
        if before_id and before_id in texts and after_id in texts:
            diffs.append({"anchor": f"diff-{after_id}", "url": url, "before_version_id": before_id,
                          "after_version_id": after_id, "text_diff": (data.get("text_diffs") or {}).get(after_id),
                          "rows": side_by_side(texts[before_id], texts[after_id])})
    model = {
        "title": "wardwatch 変更レポート",
        "generated_at": _s(data.get("generated_at")),
        "scope": {"since": since, "run_ids": run_ids, "status": status, "ward": ward, "program": program, "rule": rule},
        "summary": summarize(items, flags),
        "hidden": hidden,
        "change_groups": groups,
        "diffs": diffs,
        "flags": [f for f in flags if f["rule"] not in HEALTH_RULES],
        "run_health": run_health(data.get("health", [])),
        "health": {"sources": [_explained(s) for s in data.get("health", []) if s["failed"] or s["errors"]],
                   "broken_links": [f for f in flags if f["rule"] in HEALTH_RULES]},
        "noise_rules": [{k: _s(v) if k == "created_at" else v for k, v in r.items()} for r in data.get("noise_rules", [])],
        "choices": {"wards": sorted({r["municipality"] for r in data.get("changes", []) + data.get("flags", [])
                                     if r.get("municipality")}),
                    "programs": program_choices(rows, programs),
                    "rules": sorted({r["rule"] for r in data.get("flags", [])})},
    }
    model["municipalities"] = program_tree(merge_linked_flags(model))
    return model


def program_choices(rows: list[dict[str, Any]], programs: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """The review app's program filter: {value, label} per program id (label: name and scope, or the municipality
    of a municipal program), and per heading of items without a program id; sorted by label."""
    out: dict[str, str] = {}
    for r in rows:
        p = program_of(r, programs)
        if p["program_id"] and p["program_id"] not in out:
            where = r.get("municipality") if p["scope"] == "municipal" else p["scope_label"]
            out[p["program_id"]] = p["program_name"] + (f"({where})" if where else "")
        elif not p["program_id"] and r.get("program") and r["program"] not in out:
            out[r["program"]] = r["program"]
    return [{"value": v, "label": label} for v, label in sorted(out.items(), key=lambda kv: (kv[1], kv[0]))]


def run_health(sources: list[dict[str, Any]]) -> dict[str, Any]:
    """The banner at the top of every report: did the latest crawl of each source work?

    ``level`` is ``failed`` (no source could be fetched), ``partial`` (some could not), ``errors`` (all
    fetched, some pages failed), ``ok`` or ``none`` (no finished crawl yet). A failed source means its
    changes are unknown — never "nothing changed"."""
    total = len(sources)
    failed = [s["source_id"] for s in sources if s["failed"]]
    with_errors = [s["source_id"] for s in sources if s["errors"] and not s["failed"]]
    if not total:
        level, message = "none", "まだクロールの記録がありません — 変更の有無は分かりません"
    elif len(failed) == total:
        level, message = "failed", f"{total}件中{total}件のソースを取得できませんでした — 変更なしではありません"
    elif failed:
        level, message = "partial", (f"{total}件中{len(failed)}件のソースを取得できませんでした — "
                                     "これらのソースの変更は確認できていません")
    elif with_errors:
        level, message = "errors", f"{total}件のソースを取得しました(うち{len(with_errors)}件は一部のページでエラー)"
    else:
        level, message = "ok", f"{total}件のソースをすべて取得しました"
    return {"level": level, "message": message, "sources": total, "failed": failed, "with_errors": with_errors,
            "trustworthy": level in ("ok", "errors")}


def _explained(source: dict[str, Any]) -> dict[str, Any]:
    kinds = [{"kind": k, "label": error_kind_label(k), "count": n} for k, n in sorted(source["error_kinds"].items())]
    return {**source, "error_kinds_explained": kinds}


def summarize(items: list[dict[str, Any]], flags: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts per ward: changes and open flags per rule."""
    rules = sorted({f["rule"] for f in flags})
    wards = sorted({x["municipality"] or "(不明)" for x in items + flags})
    rows = []
    for w in wards:
        rows.append({"municipality": w, "anchor": _anchor("m", w),
                     "changes": sum((it["municipality"] or "(不明)") == w for it in items),
                     "flags": {r: sum((f["municipality"] or "(不明)") == w and f["rule"] == r for f in flags)
                               for r in rules}})
    return {"rules": [{"rule": r, "label": RULE_LABELS.get(r, r)} for r in rules], "wards": rows,
            "total": {"changes": len(items), "flags": {r: sum(f["rule"] == r for f in flags) for r in rules}}}


def merge_linked_flags(model: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``model`` where each fact_changed flag raised for a change shown in it is left out of the flag
    list and put on the change item (``item["flags"]``, ``group["flags"]``): one item, one row."""
    by_change: dict[tuple, list[dict[str, Any]]] = {}
    for f in model.get("flags", []):
        ev = f.get("raw_evidence") if f.get("rule") == "fact_changed" else None
        if isinstance(ev, dict):
            key = (f.get("url"), ev.get("after_version_id"), f.get("kind"), f.get("program") or "",
                   ev.get("qualifier") or "", ev.get("before_text"), ev.get("after_text"))
            by_change.setdefault(key, []).append(f)
    merged: set[str] = set()
    groups = []
    for g in model.get("change_groups", []):
        items = []
        for it in g["items"]:
            key = (it.get("url"), it.get("after_version_id"), it.get("kind"), it.get("program") or "",
                   it.get("qualifier") or "", it.get("before_text"), it.get("after_text"))
            flags = by_change.get(key, [])
            merged |= {f["flag_id"] for f in flags}
            items.append({**it, "flags": flags})
        flags = [f for it in items for f in it["flags"]]
        groups.append({**g, "items": items, "flags": flags})
    return {**model, "change_groups": groups, "flags": [f for f in model.get("flags", []) if f["flag_id"] not in merged],
            "merged_flags": sorted(merged)}


def _anchor(prefix: str, *parts: str) -> str:
    return f"{prefix}-" + hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:10]


def _rank(severities: list[str | None]) -> int:
    return max((SEVERITY_RANK.get(s or "", 0) for s in severities), default=0)


def _group_severity(g: dict[str, Any]) -> str:
    """A change group's severity: its most severe fact_changed flag's, else low."""
    flags = [f["severity"] for f in g.get("flags") or []]
    return max(flags, key=lambda s: SEVERITY_RANK.get(s, 0)) if flags else "low"


def program_tree(model: dict[str, Any]) -> list[dict[str, Any]]:
    """Changes and flags by municipality › program, from a model whose fact_changed flags sit on their changes
    (:func:`merge_linked_flags`). One section per municipality (by name; "(不明)" last), in it one group per
    program (municipality, program id; the heading text when there is none), most severe item first (a change
    counts with its own flag's severity, low without one), then most items, then name. A change seen in several
    places (``shared``) is split: each place shows its own pages, ``places`` on the shared group link them all.

    Municipality: {municipality, anchor, severity, changes, flags, programs}; program: {anchor, program_key,
    program_id, name, scope, scope_label, headings (as written on the pages), severity, severity_label,
    change_groups (each with ``line``, ``place``, ``severity``), flags}. The model's change groups are annotated
    in place (``places``, ``line`` …): pass a copy, as :func:`merge_linked_flags` returns."""
    wards: dict[str, dict[str, dict[str, Any]]] = {}

    def group_of(muni: str, it: dict[str, Any]) -> dict[str, Any]:
        key = _program_key(it)
        p = wards.setdefault(muni, {}).get(key)
        if p is None:
            p = wards[muni][key] = {
                "anchor": _anchor("p", muni, key), "program_key": key, "program_id": it.get("program_id"),
                "name": it.get("program_name") or it.get("program") or NO_PROGRAM, "scope": it.get("scope"),
                "scope_label": it.get("scope_label"), "headings": [], "change_groups": [], "flags": []}
        if it.get("program") and it["program"] not in p["headings"]:
            p["headings"].append(it["program"])
        return p

    for g in model.get("change_groups", []):
        places: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for it in g["items"]:
            places.setdefault((it.get("municipality") or UNKNOWN_MUNICIPALITY, _program_key(it)), []).append(it)
        g["places"] = []
        for (muni, key), items in places.items():
            p = group_of(muni, items[0])
            for it in items[1:]:
                group_of(muni, it)
            if g["shared"]:
                place = {**g, "group_id": f"{g['group_id']}-{_anchor('x', muni, key)[2:8]}", "items": items,
                         "flags": [f for it in items for f in it.get("flags", [])],
                         "urls": list(dict.fromkeys(it["url"] for it in items)), "municipalities": [muni],
                         "programs": list(dict.fromkeys(it["program"] for it in items)), "shared": False,
                         "municipality": items[0].get("municipality"), "program": items[0].get("program"),
                         **{k: items[0].get(k) for k in ("program_key", "program_id", "program_name", "scope",
                                                         "scope_label")}}
                place.pop("places")
                _set_state(place)
            else:
                place = g
            place["shared_group_id"] = g["group_id"] if g["shared"] else None
            place["anchor"], place["place"] = p["anchor"], place_title(muni, p["name"])
            newest = max((it.get("detected_at") or "" for it in items), default="")
            place["day"] = newest[:10] or None
            place["line"] = change_line(muni, p["name"], g["before_text"], g["after_text"], g["change"],
                                        g["qualifier"], newest or None)
            place["severity"] = _group_severity(place)
            place["severity_label"] = SEVERITY_LABELS[place["severity"]]
            p["change_groups"].append(place)
            g["places"].append({"municipality": muni, "program_name": p["name"], "anchor": p["anchor"],
                                "group_id": place["group_id"], "pages": len(place["urls"])})
    for f in model.get("flags", []):
        group_of(f.get("municipality") or UNKNOWN_MUNICIPALITY, f)["flags"].append(f)

    out = []
    for muni in sorted(wards, key=lambda m: (m == UNKNOWN_MUNICIPALITY, m)):
        progs = list(wards[muni].values())
        for p in progs:
            p["change_groups"].sort(key=lambda g: -SEVERITY_RANK[g["severity"]])
            p["flags"].sort(key=lambda f: -SEVERITY_RANK.get(f["severity"], 0))
            rank = _rank([g["severity"] for g in p["change_groups"]] + [f["severity"] for f in p["flags"]])
            p["severity"] = next((s for s, r in SEVERITY_RANK.items() if r == rank), None)
            p["severity_label"] = SEVERITY_LABELS.get(p["severity"] or "")
            p["changes"] = sum(len(g["items"]) for g in p["change_groups"])
            p["flag_count"] = len(p["flags"])
        progs.sort(key=lambda p: (-SEVERITY_RANK.get(p["severity"] or "", 0), -(p["changes"] + p["flag_count"]),
                                  p["name"]))
        rank = _rank([p["severity"] for p in progs])
        out.append({"municipality": muni, "anchor": _anchor("m", muni),
                    "severity": next((s for s, r in SEVERITY_RANK.items() if r == rank), None),
                    "changes": sum(p["changes"] for p in progs), "flags": sum(p["flag_count"] for p in progs),
                    "programs": progs})
    return out


def sections(model: dict[str, Any]) -> dict[str, Any]:
    """Groups placed for display, from a merged model (:func:`merge_linked_flags`): the tree by municipality ›
    program (:func:`program_tree`), and the changes seen in several places (``shared``), each once, with links
    to its places."""
    wards = program_tree(model)
    return {"shared": [g for g in model["change_groups"] if g["shared"]], "wards": wards}


def to_json(model: dict[str, Any]) -> str:
    out = {**model, "diffs": [{k: v for k, v in d.items() if k != "rows"} for d in model["diffs"]]}
    out.pop("choices", None)
    return json.dumps(out, ensure_ascii=False, indent=2, default=str)
