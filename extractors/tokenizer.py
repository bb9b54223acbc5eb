"""SudachiPy access: one Dictionary per process, one tokenizer per thread, mode C.

Sudachi tokenizers are not thread-safe, and building a Dictionary costs ~100 ms and tens of MB,
so the Dictionary is created lazily on first use (never at import) behind a lock and each thread
gets its own tokenizer through ``threading.local``. Input is fed line by line; anything longer
than ``MAX_CHUNK_CHARS`` is split at a sentence/space boundary first (Sudachi rejects inputs
over ~49 KB).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

MAX_CHUNK_CHARS = 4000  # 4000 chars <= 16 000 UTF-8 bytes, far below Sudachi's 49 149-byte limit
_BREAKS = ("。", "\n", "、", " ", "\u3000", ",")

_lock = threading.Lock()
_dictionary: Any = None
_local = threading.local()


@dataclass(frozen=True, slots=True)
class Token:
    """One Sudachi morpheme with offsets into the text given to :func:`tokenize`."""

    surface: str
    start: int
    end: int
    pos: tuple[str, ...]
    number: str | None  # Sudachi's normalized form of a 数詞 (四万三千百六十 -> "43160"), else None


def get_dictionary() -> Any:
    """The process-wide Sudachi Dictionary (sudachidict-core), created on first call."""
    global _dictionary
    if _dictionary is None:
        with _lock:
            if _dictionary is None:
                from sudachipy import Dictionary

                _dictionary = Dictionary()
    return _dictionary


def get_tokenizer() -> Any:
    """This thread's mode-C tokenizer."""
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        from sudachipy import SplitMode

        tok = get_dictionary().tokenizer(mode=SplitMode.C)
        _local.tokenizer = tok
        _local.pos_cache = {}
    return tok


def split_for_sudachi(text: str, limit: int = MAX_CHUNK_CHARS) -> list[tuple[int, str]]:
    """Split ``text`` into ``(offset, chunk)`` pieces of at most ``limit`` characters.

    Cuts after the last 。/newline/、/space inside the window; a window without any of them
    is cut hard (a fact spanning that cut can be lost; real lines never get near this).
    """
    out: list[tuple[int, str]] = []
    pos = 0
    while len(text) - pos > limit:
        window = text[pos : pos + limit]
        cut = max(window.rfind(b) for b in _BREAKS)
        cut = cut + 1 if cut > 0 else limit
        out.append((pos, text[pos : pos + cut]))
        pos += cut
    out.append((pos, text[pos:]))
    return out


_UNENCODABLE = re.compile("[\ud800-\udfff]")


def tokenize(text: str) -> list[Token]:
    """Mode-C morphemes of ``text`` (one line, ideally), with offsets into ``text``.

    Sudachi encodes its input as UTF-8, so a lone surrogate (which the text layer should already
    have replaced) is swapped for U+FFFD here too, one for one: offsets are unchanged and
    ``surface`` is read from ``text`` itself.
    """
    tok = get_tokenizer()
    pos_cache: dict[int, tuple[str, ...]] = _local.pos_cache
    dic = get_dictionary()
    out: list[Token] = []
    for offset, chunk in split_for_sudachi(text):
        if not chunk:
            continue
        safe = _UNENCODABLE.sub("\ufffd", chunk) if not chunk.isascii() else chunk
        for m in tok.tokenize(safe):
            pid = m.part_of_speech_id()
            pos = pos_cache.get(pid)
            if pos is None:
                pos = pos_cache[pid] = tuple(dic.pos_of(pid))
            b, e = m.begin(), m.end()
            number = m.normalized_form() if pos[1] == "数詞" else None
            out.append(Token(chunk[b:e], offset + b, offset + e, pos, number))
    return out
