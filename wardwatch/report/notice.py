"""The notification of one run, in Japanese, from the report model (pure: model in, text out).

One line per fact change (「練馬区 › 住宅支援資金貸付: 上限4万円 → 5万円 https://…」), one per new flag,
the run-health line when sources failed, and where the report is. Sent by ``wardwatch.stages.notify``
(Apprise URLs and/or the JSON webhook); identical for Prefect and ``--no-prefect`` runs because the
runner builds it from the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wardwatch.report.model import merge_linked_flags

MAX_LINES = 40  # a chat message, not a report: the rest is "…ほかN件" and the link


@dataclass(frozen=True)
class Notice:
    title: str
    body: str
    changes: int
    new_flags: int
    failed_sources: list[str]
    level: str  # run health level (see model.run_health)

    @property
    def worth_sending(self) -> bool:
        """Changes, new flags or a failure: anything an editor or maintainer must look at."""
        return bool(self.changes or self.new_flags or self.failed_sources or self.level in ("failed", "none"))

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "body": self.body, "changes": self.changes, "new_flags": self.new_flags,
                "failed_sources": self.failed_sources, "health": self.level}


def _place(municipality: str | None, program: str | None) -> str:
    """「練馬区 › 児童扶養手当」: the program's name (catalog / ``programs``), else the heading as written."""
    return " › ".join(p for p in (municipality or "(不明)", program or "(プログラム名なし)"))


def _value(text: str | None) -> str:
    return " ".join((text or "—").split())


def change_lines(model: dict[str, Any]) -> list[str]:
    out = []
    for g in model["change_groups"]:
        for it in g["items"]:
            qual = f"({it['qualifier']})" if it.get("qualifier") else ""
            out.append(f"{_place(it['municipality'], it.get('program_name') or it['program'])}: {g['kind_label']}{qual} "
                       f"{_value(g['before_text'])} → {_value(g['after_text'])} {it['url']}")
    return out


def flag_lines(flags: list[dict[str, Any]]) -> list[str]:
    out = []
    for f in flags:
        first = next((e for e in f["evidence"] if e.get("text")), None)
        detail = f" — {first['label']}: {_value(first['text'])}" if first else ""
        out.append(f"[{f['severity_label']}] {f['rule_label']}: {_place(f['municipality'], f.get('program_name') or f['program'])}{detail} {f['url']}")
    return out


def notice_from_model(model: dict[str, Any], *, report: str | None = None, since: str | None = None) -> Notice:
    """The run's notice. ``since`` (ISO timestamp, the run's start) decides which open flags are new;
    ``report`` is where the report is (a URL or a file path)."""
    health = model["run_health"]
    model = merge_linked_flags(model)  # a fact_changed flag is its change's line, not a line of its own
    new_flags = [f for f in model["flags"] + model["health"]["broken_links"]
                 if since is None or (f.get("first_seen") or "") >= since]
    changes = change_lines(model)
    lines: list[str] = []
    if not health["trustworthy"]:
        lines.append(f"🛑 {health['message']}")
        for src in model["health"]["sources"]:
            if src["failed"]:
                why = "、".join(e["label"] for e in src.get("error_kinds_explained", [])) or (src.get("reason") or "")
                lines.append(f"・{src['source_id']}({src['municipality'] or '-'}): {why}".rstrip(": "))
    if changes:
        lines.append(f"変更 {len(changes)}件:")
        lines += changes
    if new_flags:
        lines.append(f"新しいフラグ {len(new_flags)}件:")
        lines += flag_lines(new_flags)
    if not lines:
        lines.append(health["message"])
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES - 1] + [f"…ほか{len(lines) - MAX_LINES + 1}件"]
    if report:
        lines.append(f"レポート: {report}")
    head = "取得失敗" if health["level"] == "failed" else ("一部取得失敗" if health["level"] == "partial" else None)
    parts = [p for p in (head, f"変更{len(changes)}件" if changes else None,
                         f"新しいフラグ{len(new_flags)}件" if new_flags else None) if p]
    title = "wardwatch: " + ("、".join(parts) if parts else "変更なし")
    return Notice(title=title, body="\n".join(lines), changes=len(changes), new_flags=len(new_flags),
                  failed_sources=list(health["failed"]), level=health["level"])
