"""The report model as Markdown (the Prefect artifact). Crawled text is escaped: HTML special characters
become entities and Markdown syntax characters are backslash-escaped, so a page cannot inject markup."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from wardwatch.report.labels import STATUS_LABELS, error_kind_label
from wardwatch.report.model import merge_linked_flags, sections

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def esc(value: Any) -> str:
    """Escape text for Markdown (inline, one line)."""
    text = " ".join(str("" if value is None else value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def link(url: str | None, label: str | None = None) -> str:
    if not url:
        return ""
    if urlsplit(url).scheme not in ("http", "https"):
        return esc(label or url)
    return f"[{esc(label or url)}]({quote(url, safe=':/?#&=%~+,;@!$*')})"


def snip(s: dict[str, str] | None) -> str:
    if not s:
        return ""
    return f"{esc(s['before'])}**{esc(s['text'])}**{esc(s['after'])}"


def _fence(lines: list[str]) -> list[str]:
    longest = max([len(m) for line in lines for m in re.findall(r"`+", line)] + [2])
    fence = "`" * (longest + 1)
    return [fence + "diff", *lines, fence]


def _shared(g: dict[str, Any]) -> list[str]:
    """A change seen in several places, once: its values, page count and each place (the pages are under it)."""
    qual = f" ({esc(g['qualifier'])})" if g["qualifier"] else ""
    head = (f"- **{esc(g['kind_label'])}{qual}** {esc(g['change_label'])}: {esc(g['before_text'] or '—')} → "
            f"{esc(g['after_text'] or '—')} — {len(g['urls'])}ページ")
    if g["state"] != "new":
        head += f" 〔{esc(g['state_label'])}〕"
    return [head] + [f"  - {esc(p['municipality'])} › {esc(p['program_name'])} ({p['pages']}ページ)"
                     for p in g.get("places", [])]


def _group(g: dict[str, Any]) -> list[str]:
    """One change in one place: its line (「練馬区 › 制度: 上限4万円 → 5万円 (日付)」), then each page."""
    qual = f"({esc(g['qualifier'])})" if g["qualifier"] else ""
    head = f"- **{esc(g['line'])}** — {esc(g['kind_label'])}{qual}・{esc(g['change_label'])}"
    exact = f"{' '.join((g['before_text'] or '—').split())} → {' '.join((g['after_text'] or '—').split())}"
    if g["change"] == "changed" and exact not in g["line"]:  # the line drops a repeated qualifier: the spans as written
        head += f"(記載: {esc(exact)})"
    if len(g["urls"]) > 1:
        head += f" — {len(g['urls'])}ページ"
    if g["state"] != "new":
        head += f" 〔{esc(g['state_label'])}〕"
    for f in g.get("flags", [])[:1]:
        head += f" \\[{esc(f['severity_label'])} {esc(f['rule_label'])}\\]"
    out = [head]
    for it in g["items"]:
        heading = f"見出し「{esc(it['program'])}」: " if it.get("program") and it["program"] != it.get("program_name") else ""
        out.append(f"  - {heading}{link(it['url'])} (版 `{it['after_version_id']}` / sha256 `{(it['after_sha256'] or '')[:12]}`)")
        if it["before_snippet"]:
            out.append(f"    - 変更前: {snip(it['before_snippet'])}")
        if it["after_snippet"]:
            out.append(f"    - 変更後: {snip(it['after_snippet'])}")
        if it["review"] and it["review"]["note"]:
            out.append(f"    - メモ: {esc(it['review']['note'])}")
    return out


def _flag(f: dict[str, Any]) -> list[str]:
    out = [f"- \\[{esc(f['severity_label'])}\\] {esc(f['rule_label'])}: {esc(f['place'])} — {link(f['url'])}"
           + (f" 〔{esc(f['state_label'])}〕" if f["state"] != "new" else "")]
    for e in f["evidence"]:
        text = snip(e["snippet"]) if e.get("snippet") else esc(e.get("text") or "")
        where = link(e.get("url")) if e.get("url") and e.get("url") != f["url"] else ""
        out.append(f"  - {esc(e['label'])}: {text} {where}".rstrip())
    return out


def to_markdown(model: dict[str, Any]) -> str:
    model = merge_linked_flags(model)  # a change and its own fact_changed flag are one item
    s = model["summary"]
    lines = [f"# {esc(model['title'])}", "", f"作成: {esc(str(model['generated_at'] or '').replace('T', ' ')[:16])}" + _scope(model["scope"]), "",
             "## 概要", ""]
    health = model["run_health"]
    mark = "✅" if health["level"] == "ok" else ("⚠️" if health["trustworthy"] else "🛑")
    lines += [f"> {mark} **{esc(health['message'])}**"
              + (f"(取得できなかったソース: {esc('、'.join(health['failed']))})" if health["failed"] else ""), ""]
    rules = s["rules"]
    if s["wards"]:
        lines += _table(["区", "変更", *(r["label"] for r in rules)], ["---", "---:", *("---:" for _ in rules)],
                        [[w["municipality"], w["changes"], *(w["flags"][r["rule"]] for r in rules)]
                         for w in s["wards"] + [{"municipality": "合計", **s["total"]}]])
    elif health["trustworthy"]:
        lines.append("対応が必要な項目はありません。")
    else:
        lines.append("取得できなかったソースがあるため、対応が必要な項目は確認できていません。")
    if model["hidden"]:
        lines += ["", "非表示: " + "、".join(f"{_label(k)} {n}件" for k, n in sorted(model["hidden"].items()))
                  + "(`wardwatch report --all` で表示)"]
    secs = sections(model)
    lines += ["", f"## 変更 ({s['total']['changes']}件)・フラグ ({len(model['flags'])}件) — 区 › 制度ごと", ""]
    if not model["change_groups"]:
        lines += ["新しい変更はありません。" if health["trustworthy"]
                  else "取得できたソースに新しい変更はありません(取得できなかったソースの変更は不明です)。", ""]
    if not model["flags"]:
        lines += ["未対応のフラグはありません。", ""]
    if secs["shared"]:
        lines += ["### 複数のページに共通する変更", ""]
        for g in secs["shared"]:
            lines += _shared(g)
        lines.append("")
    for ward in secs["wards"]:
        lines += [f"### {esc(ward['municipality'])}", ""]
        for prog in ward["programs"]:
            scope = f" 〔{esc(prog['scope_label'])}〕" if prog["scope_label"] else ""
            lines += [f"#### {esc(prog['name'])}{scope}", ""]
            if prog["headings"] and prog["headings"] != [prog["name"]]:
                lines += ["ページ上の見出し: " + "、".join(esc(h) for h in prog["headings"]), ""]
            for g in prog["change_groups"]:
                lines += _group(g)
            for f in prog["flags"]:
                lines += _flag(f)
            lines.append("")
    if model["diffs"]:
        lines += ["## 本文の差分", ""]
        for d in model["diffs"]:
            lines += [f"{link(d['url'])} (版 `{d['before_version_id']}` → `{d['after_version_id']}`)", ""]
            lines += _fence(_diff_lines(d["rows"])) + [""]
    lines += ["## クロールの状態", ""]
    h = model["health"]
    if h["sources"]:
        lines += _table(["ソース", "区", "取得", "エラー", "状態", "内訳"], ["---", "---", "---:", "---:", "---", "---"],
                        [[src["source_id"], src["municipality"], src["fetched"], src["errors"],
                          "失敗" if src["failed"] else "一部エラー",
                          "、".join(f"{error_kind_label(k)} {n}件" for k, n in sorted(src["error_kinds"].items()))]
                         for src in h["sources"]])
    else:
        lines.append("最新のクロールでエラーはありません。")
    if h["broken_links"]:
        lines += ["", f"リンク切れ・削除 ({len(h['broken_links'])}件):", ""]
        for f in h["broken_links"]:
            ev = f["raw_evidence"] if isinstance(f["raw_evidence"], dict) else {}
            status = f"HTTP {ev['status']}" if ev.get("status") else esc(ev.get("response_class") or "")
            source = f" ← {link(ev['linked_from'])}" if ev.get("linked_from") else ""
            lines.append(f"- {esc(f['rule_label'])}: {link(f['url'])} ({status}){source}")
    return "\n".join(lines).rstrip() + "\n"


def _table(header: list[str], align: list[str], rows: list[list[Any]]) -> list[str]:
    """A GitHub-flavoured Markdown table: header, separator and rows always have the same column count."""
    assert len(header) == len(align)
    out = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "|".join(align) + "|"]
    for r in rows:
        cells = [esc(c) for c in r] + [""] * (len(header) - len(r))
        out.append("| " + " | ".join(cells[:len(header)]) + " |")
    return out


def _diff_lines(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in rows:
        if r["type"] == "gap":
            out.append("@@ …")
        elif r["type"] == "same":
            out.append("  " + r["left"][0][0])
        else:
            if r["left"] is not None:
                out.append("- " + "".join(t for t, _ in r["left"]))
            if r["right"] is not None:
                out.append("+ " + "".join(t for t, _ in r["right"]))
    return out


def _label(state: str) -> str:
    return STATUS_LABELS.get(state, state)


def _scope(scope: dict[str, Any]) -> str:
    if scope.get("run_ids"):
        return " ・ 対象: 実行 " + esc(", ".join(scope["run_ids"]))
    if scope.get("since"):
        return f" ・ 対象: {esc(scope['since'])} 以降"
    return ""
