"""Classify a pair of versions (noise vs content) and a single fetch response (usable or not).

``classify_change(before_text, after_text)`` compares two versions' main text;
``classify_response(status, text, ...)`` decides whether one fetch may serve as a baseline
(``is_baseline``). Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from diffs.jpdate import nfkc
from diffs.text import Op, changed_only, comparable_text, text_diff, update_date_of

CHANGE_KINDS = ("unchanged", "noise", "update_date_only", "content")
RESPONSE_KINDS = ("ok", "error", "soft_404", "empty", "blocked", "redirect_to_top")


@dataclass(frozen=True)
class ChangeClass:
    """Outcome of comparing two versions' main text.

    kind: "unchanged" (identical raw text) | "noise" (raw differs, comparable text equal up to
    whitespace/line breaks) | "update_date_only" (as noise, but the page's 更新日 differs) |
    "content" (comparable text differs).
    diff: text_diff ops over the comparable texts; only filled for "content".
    before_update_date / after_update_date: ``update_date_of`` of each side.
    """

    kind: str
    diff: tuple[Op, ...] = field(default=())
    before_update_date: str | None = None
    after_update_date: str | None = None

    @property
    def is_content(self) -> bool:
        return self.kind == "content"

    def changes(self) -> list[Op]:
        """Only the insert/delete ops."""
        return changed_only(list(self.diff))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "diff": [list(op) for op in self.diff],
            "before_update_date": self.before_update_date,
            "after_update_date": self.after_update_date,
        }


def _squash(s: str) -> str:
    return "".join(s.split())


def classify_change(before_text: str, after_text: str) -> ChangeClass:
    """Classify the change between two versions' main text (e.g. ``Document.text``)."""
    before_text = before_text or ""
    after_text = after_text or ""
    ub, ua = update_date_of(before_text), update_date_of(after_text)
    if before_text == after_text:
        return ChangeClass("unchanged", (), ub, ua)
    cb, ca = comparable_text(before_text), comparable_text(after_text)
    if cb != ca and _squash(cb) != _squash(ca):
        return ChangeClass("content", tuple(text_diff(cb, ca)), ub, ua)
    return ChangeClass("update_date_only" if ub != ua else "noise", (), ub, ua)


# --- single responses -------------------------------------------------------------------------
_SOFT_404 = re.compile(
    r"ページが見つかりません|ページは見つかりません|ページが見つかりませんでした|ページは見つかりませんでした|"
    r"お探しのページ(?:は|が)(?:見つかりません|存在しません|削除|移動)|"
    r"ページ(?:が|は)存在しません|ページ(?:は|が)(?:削除|移動)され|指定されたページ(?:は|が)(?:存在|見つかり)|"
    r"404\s*not\s*found|\bnot\s*found\b|file\s*not\s*found|エラー\s*404|404\s*エラー",
    re.I,
)
_BLOCKED = re.compile(
    r"アクセスが集中|アクセス(?:が)?制限|混み合って|しばらく(?:時間を(?:おいて|空けて)|経ってから)|"
    r"captcha|ロボットではありません|access\s*denied|request\s*rejected|"
    r"the\s*requested\s*url\s*was\s*rejected|forbidden|too\s*many\s*requests|"
    r"unusual\s*traffic|不正なアクセス",
    re.I,
)
SHORT_PAGE = 1500  # comparable-text chars: markers anywhere in a page shorter than this count
MIN_MEANINGFUL = 20  # fewer word characters than this is an empty page
_WORD = re.compile(r"[0-9A-Za-z\u3040-\u30ff\u4e00-\u9fff]")
_TOP_PATHS = {"", "/", "/index.html", "/index.htm", "/index.php", "/index.jsp", "/top.html",
              "/default.html", "/default.aspx", "/ja", "/ja/", "/jp", "/jp/", "/top", "/top/"}


def _head(text: str, n: int = 3) -> str:
    return "\n".join([ln for ln in text.split("\n") if ln.strip()][:n])


def _marker_hit(rx: re.Pattern[str], title: str | None, text: str, *, anywhere: bool = True) -> bool:
    if title and rx.search(nfkc(title)):
        return True
    if rx.search(_head(text)):
        return True
    return anywhere and len(text) < SHORT_PAGE and bool(rx.search(text))


def _is_redirect_to_top(final_url: str | None, start_url: str | None) -> bool:
    if not final_url or not start_url:
        return False
    s, f = urlsplit(start_url), urlsplit(final_url)
    sp, fp = s.path.rstrip("/") or "/", f.path.rstrip("/") or "/"
    if (s.netloc.lower(), sp, s.query) == (f.netloc.lower(), fp, f.query):
        return False
    deep = (s.path or "/") not in _TOP_PATHS
    return deep and (f.path or "/") in _TOP_PATHS


def classify_response(
    status: int | None,
    text: str | None,
    *,
    media_type: str | None = None,
    final_url: str | None = None,
    start_url: str | None = None,
    title: str | None = None,
) -> str:
    """What one fetch is: "ok" | "error" | "soft_404" | "empty" | "blocked" | "redirect_to_top".

    ``text`` is the extracted main text (``Document.text``); ``title`` the document title when
    known. Order: "blocked" (403/429, or an error page saying アクセスが集中/captcha/Access Denied)
    before "error" (no status or >= 400), then "redirect_to_top" (a deep ``start_url`` whose
    ``final_url`` is the site root/top page), "soft_404" (not-found wording in the title, the first
    lines, or anywhere in a short page), "blocked" (a short 200 page whose title or first lines
    say アクセスが集中/captcha), "empty" (fewer than ``MIN_MEANINGFUL`` word characters
    after noise removal), else "ok". ``media_type`` is informational: PDFs get the same rules.
    """
    body = comparable_text(text or "")
    if status in (403, 429):
        return "blocked"
    if status is not None and status >= 400 and status != 404 and _marker_hit(_BLOCKED, title, body):
        return "blocked"
    if status is None or status >= 400:
        return "error"
    if _is_redirect_to_top(final_url, start_url):
        return "redirect_to_top"
    if _marker_hit(_SOFT_404, title, body):
        return "soft_404"
    if len(body) < SHORT_PAGE and _marker_hit(_BLOCKED, title, body, anywhere=False):
        return "blocked"
    if len(_WORD.findall(body)) < MIN_MEANINGFUL:
        return "empty"
    return "ok"


def is_baseline(kind: str) -> bool:
    """Only an "ok" response may become the version later fetches are compared with."""
    return kind == "ok"
