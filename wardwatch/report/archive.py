"""The archived versions a standalone report links to, read for embedding in the file (``model["archive"]``).

``embed_archive(db, model)`` adds {version_id: {url, valid_from, valid_to, sha256, media_type, main_text}}
for every version the report links to as 保存版; ``wardwatch.report.html.report_page`` writes each as a
collapsed block at the end of the file, so the links work without the review app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wardwatch.report.html import archived_ids, merge_linked_flags, review_url
from warehouse.db import Warehouse
from warehouse.review import archive_texts

MAX_TEXT = 200_000  # characters of one version's main text kept in the file


def embed_archive(db_path: Warehouse | Path, model: dict[str, Any], app_url: str | None = None) -> dict[str, Any]:
    """``model`` with ``archive`` filled from the warehouse (returns the same dict); nothing is read when the
    report will link to the review app instead (``app_url``, else ``$WARDWATCH_REVIEW_URL``)."""
    if review_url(app_url):
        model["archive"] = {}
        return model
    entries = archive_texts(db_path, set(archived_ids(merge_linked_flags(model))))
    for entry in entries.values():
        text = entry.get("main_text")
        if text and len(text) > MAX_TEXT:
            entry["main_text"] = text[:MAX_TEXT] + "\n…(以下省略)"
    model["archive"] = entries
    return model
