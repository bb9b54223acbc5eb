"""Crawled text made inert before it reaches a terminal: the ONE way user data is printed.

Crawled pages, PDFs and imported datasets may hold terminal escape sequences (ESC [ … m, OSC 8
links, OSC 52 clipboard writes), C0/C1 control characters (BEL, CR, backspace) and Unicode bidi
controls (U+202A–202E, U+2066–2069, U+200E/F, U+061C) that reorder what a reader sees. Every CLI
command that prints user data prints it through :func:`safe_print` (text and tables) or
:func:`safe_json` (``--format json``):

* text output: escape sequences, C0/C1 controls (except newline and tab) and bidi controls are
  removed (:func:`terminal_safe`);
* JSON output stays valid, lossless JSON: C0 controls are escaped by ``json`` itself, and C1
  controls, DEL and bidi controls are written as ``\\uXXXX`` escapes, so the data round-trips
  through ``json.loads`` unchanged while nothing reaches the terminal raw.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[@-Z\\-_])"
                   r"|\x9b[0-?]*[ -/]*[@-~]|[\x90\x98\x9d\x9e\x9f][^\x07\x9c]*[\x07\x9c]?")
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROLS = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")
# characters json.dumps(ensure_ascii=False) leaves raw that a terminal would act on
_JSON_RAW = re.compile(f"[\\x7f-\\x9f{_BIDI}]")


def terminal_safe(text: str, keep_newlines: bool = True) -> str:
    """Crawled text made inert for a terminal: ANSI/OSC escapes, C0/C1 controls and bidi overrides removed."""
    text = _ANSI.sub("", str(text))
    text = _CONTROLS.sub("", text)
    return text if keep_newlines else text.replace("\n", " ").replace("\t", " ")


def safe_print(*values: Any, file: TextIO | None = None, sep: str = " ", end: str = "\n") -> None:
    """``print`` for anything holding user data (program names, URLs, cells, error texts)."""
    text = sep.join(str(v) for v in values)
    (file or sys.stdout).write(terminal_safe(text) + end)


def safe_json(obj: Any, **kw: Any) -> str:
    """``json.dumps`` (``ensure_ascii=False`` unless given) with C1, DEL and bidi controls escaped."""
    kw.setdefault("ensure_ascii", False)
    return safe_json_text(json.dumps(obj, **kw))


def safe_json_text(text: str) -> str:
    """Already-serialised JSON made terminal-safe the same way as :func:`safe_json` (still valid JSON:
    outside strings JSON has no such characters, inside them a ``\\uXXXX`` escape means the same)."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def safe_csv(rows: Iterable[Iterable[Any]], file: TextIO | None = None) -> None:
    """CSV rows on ``file`` (stdout) with every cell made terminal-safe (newlines kept: CSV quotes them)."""
    writer = csv.writer(file or sys.stdout)
    for row in rows:
        writer.writerow(["" if v is None else terminal_safe(str(v)) for v in row])
