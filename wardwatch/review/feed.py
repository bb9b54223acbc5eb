"""The Atom feed (RFC 4287) of fact changes and open flags, served by the review app at ``/feed.atom``.

Entries, newest first (at most ``MAX_ENTRIES``): every fact change not dismissed as noise (by a decision or
an active noise rule) and every open flag — except a ``fact_changed`` flag raised for a change in the feed,
which is that change's entry (one item). Entry ids are tag URIs built from the stable item keys
(``tag:wardwatch,2026:change:<after_version_id>:<seq>``, ``tag:wardwatch,2026:flag:<flag_id>``), so they
are the same on every request; ``updated`` is when the change was detected / the flag first seen. Each
entry links to its item in the review app. Text from crawled pages is escaped by the XML writer and XML
1.0's forbidden control characters are removed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from wardwatch.report.labels import KIND_LABELS, RULE_LABELS, SEVERITY_LABELS
from wardwatch.report.model import JST, change_line, place_title, program_of, resolve_programs, state_of

ATOM = "http://www.w3.org/2005/Atom"
TAG = "tag:wardwatch,2026:"
MAX_ENTRIES = 200
HIDDEN_STATES = ("noise", "noise_rule")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _t(value: Any) -> str:
    return _XML_BAD.sub("", "" if value is None else str(value))


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(JST).isoformat(timespec="seconds")
    return _when(datetime(1970, 1, 1, tzinfo=UTC))


def _change_key(row: dict[str, Any]) -> tuple:
    return (row.get("url"), row.get("after_version_id"), row.get("kind"), row.get("program") or "",
            row.get("qualifier") or "", row.get("before_text"), row.get("after_text"))


def _flag_change_key(flag: dict[str, Any]) -> tuple | None:
    ev = flag.get("evidence")
    if flag.get("rule") != "fact_changed" or not isinstance(ev, dict):
        return None
    return (flag.get("url"), ev.get("after_version_id"), flag.get("kind"), flag.get("program") or "",
            ev.get("qualifier") or "", ev.get("before_text"), ev.get("after_text"))


def _in_program(row: dict[str, Any], program: str | None) -> bool:
    """The review queue's ``?program=`` filter: a program id, or the heading text of items without one."""
    return not program or program in (row.get("program_id"), row.get("program"))


def entries(data: dict[str, Any], ward: str | None = None, program: str | None = None) -> list[dict[str, Any]]:
    """The feed's entries (dicts: id, title, updated, link, summary, category), newest first. A change's title is
    the report's line (「練馬区 › ひとり親家庭住宅支援資金貸付: 上限4万円 → 5万円 (2026-11-02)」), a flag's
    「[高] rule: 練馬区 › program」, the program named as in the report (its name, else the heading)."""
    programs = resolve_programs(data.get("changes", []) + data.get("flags", []), data.get("programs") or {})
    changes = [c for c in data.get("changes", []) if (not ward or c.get("municipality") == ward)
               and _in_program(c, program) and state_of(c) not in HIDDEN_STATES]
    shown = {_change_key(c) for c in changes}
    out = []
    for c in changes:
        key = f"{c['after_version_id']}:{c['seq']}"
        kind = KIND_LABELS.get(c["kind"], c["kind"]) + (f"({c['qualifier']})" if c.get("qualifier") else "")
        name = program_of(c, programs)["program_name"]
        title = change_line(c.get("municipality"), name, c.get("before_text"), c.get("after_text"), c.get("change"),
                            c.get("qualifier"), c.get("detected_at"))
        query = urlencode({"status": "all", **({"ward": c["municipality"]} if c.get("municipality") else {})})
        out.append({"id": f"{TAG}change:{key}", "title": title, "updated": c.get("detected_at"),
                    "path": f"/?{query}#c-{quote(key, safe=':')}", "category": c["kind"],
                    "summary": f"{kind}: {c.get('before_text') or '—'} → {c.get('after_text') or '—'}\n{c.get('url')}"})
    for f in data.get("flags", []):
        if ward and f.get("municipality") != ward or not _in_program(f, program) or state_of(f) in HIDDEN_STATES \
                or _flag_change_key(f) in shown:
            continue
        rule = RULE_LABELS.get(f["rule"], f["rule"])
        title = f"[{SEVERITY_LABELS.get(f['severity'], f['severity'])}] {rule}: " \
                f"{place_title(f.get('municipality'), program_of(f, programs)['program_name'])}"
        query = urlencode({"status": "all", **({"ward": f["municipality"]} if f.get("municipality") else {})})
        out.append({"id": f"{TAG}flag:{f['flag_id']}", "title": title, "updated": f.get("first_seen"),
                    "path": f"/?{query}#f-{quote(f['flag_id'], safe='')}", "category": f["rule"],
                    "summary": f"{rule}\n{f.get('url') or ''}"})
    out.sort(key=lambda e: (_when(e["updated"]), e["id"]), reverse=True)
    return out[:MAX_ENTRIES]


def atom_feed(data: dict[str, Any], base: str, ward: str | None = None, program: str | None = None) -> str:
    """The feed document for ``report_data`` output; ``base`` is the review app's address (no trailing /);
    ``ward`` / ``program`` (a program id, or a heading) narrow it, each with a feed id of its own."""
    ET.register_namespace("", ATOM)
    items = entries(data, ward, program)
    root = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "ja"})

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _t(v) for k, v in attrs.items()})
        if text is not None:
            el.text = _t(text)
        return el

    params = {k: v for k, v in (("ward", ward), ("program", program)) if v}
    suffix = f"?{urlencode(params)}" if params else ""
    sub(root, "id", f"{TAG}feed" + "".join(f":{k}:{quote(v, safe='')}" for k, v in params.items()))
    if program:
        programs = resolve_programs(data.get("changes", []) + data.get("flags", []), data.get("programs") or {})
        program = program_of({"program_id": program} if program in programs else {"program": program},
                             programs)["program_name"]
    where = " › ".join(v for v in (ward, program) if v)
    sub(root, "title", "wardwatch 変更とフラグ" + (f" — {where}" if where else ""))
    sub(root, "subtitle", "公式ページの事実の変更と、古くなった公開情報のフラグ")
    newest = max((e["updated"] for e in items if isinstance(e["updated"], datetime)), default=None)
    sub(root, "updated", _when(newest or data.get("generated_at")))
    author = sub(root, "author")
    sub(author, "name", "wardwatch")
    sub(root, "link", rel="self", type="application/atom+xml", href=f"{base}/feed.atom{suffix}")
    sub(root, "link", rel="alternate", type="text/html", href=f"{base}/{suffix}")
    sub(root, "generator", "wardwatch")
    for e in items:
        entry = sub(root, "entry")
        sub(entry, "id", e["id"])
        sub(entry, "title", e["title"], type="text")
        sub(entry, "updated", _when(e["updated"]))
        sub(entry, "link", rel="alternate", type="text/html", href=base + e["path"])
        sub(entry, "category", term=e["category"])
        sub(entry, "summary", e["summary"], type="text")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
