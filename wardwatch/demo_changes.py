"""What changed in a run, as text: the versions it added and a line diff of their main text."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from warehouse import read


def main_text(body: bytes, media_type: str | None, charset: str | None) -> str:
    from extractors.text import extract_document

    try:
        return extract_document(body, media_type, charset=charset).text
    except Exception as exc:  # an unreadable version is shown as such, never a traceback
        return f"[could not extract text: {exc}]"


def describe_changes(db_path: Path, run_id: str) -> list[dict[str, Any]]:
    out = []
    for pair in read.versions_in_run(db_path, run_id):
        if pair.before_sha256 is None:
            out.append({"url": pair.url, "source_id": pair.source_id, "change": "new", "diff": ["(new page)"]})
            continue
        before = main_text(read.blob(db_path, pair.before_sha256) or b"", pair.media_type, pair.charset)
        after = main_text(read.blob(db_path, pair.after_sha256) or b"", pair.media_type, pair.charset)
        diff = [
            line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
        ]
        out.append({"url": pair.url, "source_id": pair.source_id, "change": "changed", "diff": diff or ["(markup only)"]})
    return out
