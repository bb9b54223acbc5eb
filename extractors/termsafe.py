"""Crawled text made inert before it reaches a terminal."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[@-Z\\-_])"
                   r"|\x9b[0-?]*[ -/]*[@-~]|[\x90\x98\x9d\x9e\x9f][^\x07\x9c]*[\x07\x9c]?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str, keep_newlines: bool = True) -> str:
    """Crawled text made inert for a terminal: ANSI/OSC escapes, C0/C1 controls and bidi overrides removed."""
    text = _ANSI.sub("", str(text))
    text = _CONTROLS.sub("", text)
    return text if keep_newlines else text.replace("\n", " ").replace("\t", " ")
