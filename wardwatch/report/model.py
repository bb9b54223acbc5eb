"""The change report: pure functions from warehouse rows (``warehouse.review.report_data``) to a model,
and from the model to Markdown / JSON (HTML: ``wardwatch.report.html``).

The model groups the same fact change seen on many pages once — by (kind, qualifier, before, after)
across URLs — with the list of pages, each with the sentence around the value. Items an editor marked
確認済み or ノイズ, and changes a noise rule matches, are left out unless the status filter asks for them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from diffs.rules import in_scope
from wardwatch.report.labels import (
    CHANGE_LABELS,
    KIND_LABELS,
    RULE_LABELS,
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


# --- the model -----------------------------------------------------------------------------------

def change_item(row: dict[str, Any], texts: dict[str, str]) -> dict[str, Any]:
    state = state_of(row)
    return {
        "item_key": f"{row['after_version_id']}:{row['seq']}",
        **{k: row.get(k) for k in ("url", "source_id", "municipality", "source_kind", "program", "kind", "qualifier",
                                   "change", "before", "after", "before_text", "after_text", "run_id", "page",
                                   "before_version_id", "after_version_id", "before_sha256", "after_sha256",
                                   "media_type")},
        "detected_at": _s(row.get("detected_at")), "state": state, "state_label": STATUS_LABELS.get(state, state),
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
        states = {it["state"] for it in g["items"]}
        g["state"] = states.pop() if len(states) == 1 else "mixed"
        g["state_label"] = STATUS_LABELS.get(g["state"], "混在")
        places = {(it["municipality"], it["program"]) for it in g["items"]}
        g["shared"] = len(places) > 1
        g["municipality"], g["program"] = (None, None) if g["shared"] else places.pop()
    return list(groups.values())


def flag_item(row: dict[str, Any], current_texts: dict[str, str]) -> dict[str, Any]:
    state = state_of(row)
    evidence = flag_evidence(row, current_texts, snippet)
    return {
        "item_key": row["flag_id"], **{k: row.get(k) for k in ("flag_id", "rule", "severity", "source_id",
                                                                "municipality", "url", "program", "kind")},
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

    def keep(row: dict[str, Any], is_flag: bool) -> bool:
        if ward and row.get("municipality") != ward:
            return False
        if program and row.get("program") != program:
            return False
        if rule and (not is_flag or row.get("rule") != rule):
            return False
        if not wanted(state_of(row), status):
            hidden[state_of(row)] = hidden.get(state_of(row), 0) + 1
            return False
        return True

    items = [change_item(r, texts) for r in data.get("changes", []) if keep(r, False)]
    flags = [flag_item(r, data.get("current_texts") or {}) for r in data.get("flags", []) if keep(r, True)]
    groups = group_changes(items)
    shown_versions = {(it["url"], it["before_version_id"], it["after_version_id"]) for it in items}
    diffs = []
    for url, before_id, after_id in sorted(shown_versions, key=lambda t: (t[0], t[2])):
        if before_id and before_id in texts and after_id in texts:
            diffs.append({"anchor": f"diff-{after_id}", "url": url, "before_version_id": before_id,
                          "after_version_id": after_id, "text_diff": (data.get("text_diffs") or {}).get(after_id),
                          "rows": side_by_side(texts[before_id], texts[after_id])})
    return {
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
                    "programs": sorted({r["program"] for r in data.get("changes", []) + data.get("flags", [])
                                        if r.get("program")}),
                    "rules": sorted({r["rule"] for r in data.get("flags", [])})},
    }


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
        rows.append({"municipality": w, "changes": sum((it["municipality"] or "(不明)") == w for it in items),
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


def sections(model: dict[str, Any]) -> dict[str, Any]:
    """Groups placed for display: shared ones first, then by municipality and program."""
    wards: dict[str, dict[str, list]] = {}
    for g in model["change_groups"]:
        if not g["shared"]:
            wards.setdefault(g["municipality"] or "(不明)", {}).setdefault(g["program"] or "(プログラム名なし)", []).append(g)
    return {"shared": [g for g in model["change_groups"] if g["shared"]],
            "wards": [{"municipality": w, "programs": [{"program": p, "groups": gs} for p, gs in sorted(progs.items())]}
                      for w, progs in sorted(wards.items())]}


def to_json(model: dict[str, Any]) -> str:
    out = {**model, "diffs": [{k: v for k, v in d.items() if k != "rows"} for d in model["diffs"]]}
    out.pop("choices", None)
    return json.dumps(out, ensure_ascii=False, indent=2, default=str)
