"""Text-level diffing of extracted main text, with municipal-page noise removed first.

``comparable_text`` turns a document's main text into the form two versions are compared in;
``update_date_of`` returns the page's own 更新日 separately (so "only the update date changed" can be
told apart from a content change); ``text_diff`` produces line- then character-level ops.
All functions are pure.
"""

from __future__ import annotations

import difflib
import re

from diffs.jpdate import nfkc, parse_jp_date

Op = tuple[str, str]  # ("equal" | "insert" | "delete", text)

# --- the page's own update date -------------------------------------------------------------
# Only a line that is nothing but the page's update date (plus a ページ番号) is the page's 更新日;
# a date inside an item ("（仮名）ほぅ【R7.11.6更新】") is content and stays.
_UPDATE_LABEL = r"(?:この)?(?:ページ|記事)?の?(?:最終)?(?:更新日(?:時)?|掲載日|公開日|登録日|作成日|更新)"
_DATE_VALUE = (
    r"(?:(?:明治|大正|昭和|平成|令和|[HR])\s*(?:\d{1,2}|元)|\d{4})\s*(?:年|[./\-])\s*\d{1,2}\s*(?:月|[./\-])?"
    r"(?:\s*\d{1,2}\s*日?)?(?:\s*[(（][^)）]{1,4}[)）])?"
)
# 更新日：2025年4月1日 / 最終更新日 令和7年4月1日 / 掲載日:2025/4/1 / 2025年4月1日更新
_UPDATE_RE = re.compile(
    r"(?:" + _UPDATE_LABEL + r"\s*[:：]?\s*(?P<v1>" + _DATE_VALUE + r")(?:\s*(?:更新|掲載))?"
    r"|(?P<v2>" + _DATE_VALUE + r")\s*(?:更新|掲載)(?:日)?)"
)
_PAGE_NO_TOKEN = re.compile(r"(?:ページ番号|ページID|記事ID|記事番号)\s*[:：]?\s*[\d\-]+", re.I)
_WORDY = re.compile(r"[0-9A-Za-z\u3040-\u30ff\u4e00-\u9fff]")


def _update_match(line: str) -> re.Match[str] | None:
    """The update-date match of a line that holds nothing else (but a page number), else None."""
    m = _UPDATE_RE.search(line)
    if not m:
        return None
    rest = _PAGE_NO_TOKEN.sub("", line[: m.start()] + " " + line[m.end():])
    return None if _WORDY.search(rest) else m


# --- lines that are pure noise -----------------------------------------------------------------
_LINE_NOISE = [
    re.compile(r"^(?:ページ番号|ページID|ページ ID|記事ID|記事番号|コンテンツ番号|ID)\s*[:：]?\s*[\d\-]+$", re.I),
    re.compile(r"^(?:今日|本日)は?\s*\d{4}年\d{1,2}月\d{1,2}日.{0,6}$"),  # date-of-today widgets
    re.compile(r"^(?:印刷|印刷用ページを表示する|音声読み上げ|読み上げる|文字サイズ.*|背景色.*|Language|Foreign language)$", re.I),
]
# inline tokens that change between fetches of an unchanged page
_TOKEN_NOISE = [
    re.compile(r"\bGTM-[A-Z0-9]{4,}\b"),
    re.compile(r"\bG-[A-Z0-9]{8,}\b"),
    re.compile(r"\bUA-\d{4,}-\d+\b"),
    re.compile(r"[?&](?:v|ver|version|_|t|ts|time|timestamp|cb|rev|hash|nocache)=[\w.\-]{1,40}", re.I),
    re.compile(r"\?\d{6,}\b"),
    re.compile(r"[;?&](?:jsessionid|phpsessid|sessionid|sid|aspsessionid\w*)=[\w.\-]+", re.I),
    re.compile(r"\brs_\d{2,}\b"),  # ReadSpeaker event ids
    re.compile(r"\breadspeaker[\w.\-]*\b", re.I),
    re.compile(r"\bcsrf[\w\-]*=[\w.\-]+", re.I),
]
# carousel counters ("2/4" next to the slider's own controls)
_COUNTER_RE = re.compile(r"^\d{1,2}\s*/\s*\d{1,2}$")
_SLIDER_RE = re.compile(r"スライド|^(?:stop|start|play|pause|再生|停止|一時停止)$", re.I)

# --- blocks of links about other pages -------------------------------------------------------
_RELATED_START = re.compile(
    r"^(?:関連(?:ページ|情報|リンク|記事|コンテンツ)|このページを見ている人は.*|"
    r"この(?:ページ|記事)を見た人は.*|よく(?:見られている|読まれている)ページ.*|アクセスランキング|"
    r"(?:新着|おすすめ)情報|このページに関するアンケート|このページの情報は役に立ちましたか.*|"
    r"より良いウェブサイトにするために.*)$"
)
_RELATED_STOP = re.compile(r"^(?:このページに関する)?お問い合わせ|^問い合わせ先|^問合せ先|^担当")
_RELATED_MAX_LINE = 60
_RELATED_MAX_LINES = 40


def _clean_line(line: str) -> str:
    line = nfkc(line)
    for rx in _TOKEN_NOISE:
        line = rx.sub("", line)
    return _CJK_SPACE.sub("", " ".join(line.split()))


# a space next to Japanese text carries no meaning (markup often adds or drops one)
_CJK = r"\u3000-\u30ff\u4e00-\u9fff\uff01-\uff60"
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}]) | (?=[{_CJK}])")


def _drop_related(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        if _RELATED_START.match(lines[i]):
            j = i + 1
            while (
                j < len(lines)
                and j - i <= _RELATED_MAX_LINES
                and len(lines[j]) <= _RELATED_MAX_LINE
                and not lines[j].endswith("。")  # a sentence is content, not a link title
                and not _RELATED_STOP.match(lines[j])
            ):
                j += 1
            i = j
            continue
        out.append(lines[i])
        i += 1
    return out


def _drop_counters(lines: list[str]) -> list[str]:
    keep = []
    for i, line in enumerate(lines):
        if _COUNTER_RE.match(line) and any(_SLIDER_RE.search(x) for x in lines[max(0, i - 3): i + 4]):
            continue
        keep.append(line)
    return keep


def comparable_text(doc_text: str) -> str:
    """Main text with noise removed, one non-empty line per block.

    Removes: Unicode width variants (NFKC), whitespace runs, the page's 更新日/最終更新日/掲載日 date,
    ページ番号 lines, tag-manager / analytics ids, cache-busting and session query tokens,
    ReadSpeaker ids, carousel counters, and "関連ページ" / "このページを見ている人は…" link blocks.
    """
    if not doc_text:
        return ""
    lines = []
    for raw in doc_text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _clean_line(raw)
        if not line or _update_match(line) or any(rx.match(line) for rx in _LINE_NOISE):
            continue
        lines.append(line)
    return "\n".join(_drop_counters(_drop_related(lines)))


def update_date_of(doc_text: str) -> str | None:
    """The page's own update date (更新日/最終更新日/掲載日 …), as ISO ``YYYY-MM-DD`` when it
    parses (``YYYY-MM`` when the day is missing), else the date text as written; None if absent.
    """
    if not doc_text:
        return None
    for raw in doc_text.split("\n"):
        m = _update_match(nfkc(raw))
        if m:
            value = m.group("v1") or m.group("v2")
            parsed = parse_jp_date(value)
            return parsed.iso() if parsed else " ".join(value.split())
    return None


def update_date_spans(doc_text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the lines of ``doc_text`` that are the page's update date."""
    spans, pos = [], 0
    for raw in (doc_text or "").split("\n"):
        if _update_match(nfkc(raw)):
            spans.append((pos, pos + len(raw)))
        pos += len(raw) + 1
    return spans


def _merge(ops: list[Op]) -> list[Op]:
    out: list[Op] = []
    for op, text in ops:
        if not text:
            continue
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))
    return out


_CHAR_DIFF_LIMIT = 4_000_000  # len(a) * len(b) above which a replaced block is not char-diffed


def _char_ops(a: str, b: str) -> list[Op]:
    if len(a) * len(b) > _CHAR_DIFF_LIMIT:
        return [("delete", a), ("insert", b)]
    ops: list[Op] = []
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            ops.append(("equal", a[i1:i2]))
        else:
            ops.append(("delete", a[i1:i2]))
            ops.append(("insert", b[j1:j2]))
    return ops


def text_diff(before: str, after: str) -> list[Op]:
    """Ops turning ``before`` into ``after``: a line diff, refined to characters inside replaced lines.

    The texts are diffed as given (pass ``comparable_text`` output to ignore noise). Invariants:
    joining the "equal"+"delete" texts gives ``before``, joining "equal"+"insert" gives ``after``;
    adjacent ops of the same kind are merged.
    """
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    ops: list[Op] = []
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            ops.append(("equal", "".join(a[i1:i2])))
        elif tag == "delete":
            ops.append(("delete", "".join(a[i1:i2])))
        elif tag == "insert":
            ops.append(("insert", "".join(b[j1:j2])))
        else:
            ops.extend(_char_ops("".join(a[i1:i2]), "".join(b[j1:j2])))
    return _merge(ops)


def changed_only(ops: list[Op]) -> list[Op]:
    """The insert/delete ops of a diff (what a reviewer needs to see)."""
    return [op for op in ops if op[0] != "equal"]
