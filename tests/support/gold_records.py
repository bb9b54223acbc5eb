"""Gold rounds 4–6 of issue 11: real records annotated by reading, one document per spreadsheet row or dataset
record (see the rounds in the docstring of :mod:`tests.support.gold`). All three work alike, so one
:class:`RecordRound` describes each: its gold files ``<prefix>_<key>.json``, how a file's record becomes a
:class:`~extractors.model.Document`, and its split (held out when sha256 of the file stem is odd, fixed before
anything was measured)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from extractors.model import Document

REPO = Path(__file__).resolve().parents[2]
GOLD_DIR = REPO / "tests" / "gold"
CORPUS = REPO.parent / "shared" / "corpus"
CIVICHAT = CORPUS / "datasets" / "civichat"


@dataclass(frozen=True)
class RecordRound:
    prefix: str  # gold file stems: "<prefix>_<key>"
    key: str  # regex of <key>; its last group is the record's number
    dev: str
    heldout: str
    number_field: str  # the gold file's field holding that number ("row" or "index")
    corpus_file: Callable[[re.Match[str]], str]  # the record's file, relative to ../shared/corpus
    document: Callable[[re.Match[str]], Document]

    def match(self, stem: str) -> re.Match[str]:
        m = re.fullmatch(rf"{self.prefix}_{self.key}", stem)
        if m is None:
            raise ValueError(f"{stem}: not a gold file name of round {self.prefix} ({self.prefix}_{self.key})")
        return m

    def split(self, stem: str) -> str:
        self.match(stem)
        return self.heldout if int(hashlib.sha256(stem.encode()).hexdigest(), 16) % 2 == 1 else self.dev

    def files(self) -> list[Path]:
        return sorted(GOLD_DIR.glob(f"{self.prefix}_*.json"), key=lambda p: [
            int(part) if part.isdigit() else part for part in re.split(r"(\d+)", p.stem)])

    def load(self, stem: str) -> Callable[[], Document]:
        m = self.match(stem)
        return lambda: self.document(m)

    def available(self, stem: str) -> bool:
        return (CORPUS / self.corpus_file(self.match(stem))).exists()


def _lines(values: list[Any]) -> list[str]:
    return [line for value in values if isinstance(value, str) for line in value.split("\n") if line.strip()]


def _text_document(lines: list[str]) -> Document:
    return Document.from_blocks([(line, {}) for line in lines], "text/plain")


# round 4: national program texts (内閣官房 chatbot data as 包摂研究会 republished it), one document per row
PROGRAMS_XLSX = "datasets/civichat/source_xlsx/包摂研究会_Civichatの推薦元データ.xlsx"
PROGRAMS_SHEET = "内閣官房チャットボットから抽出"
PROGRAMS_COLUMNS = slice(9, 17)  # J..Q: 概要, 支援内容, 対象者, 利用•申請方法, 受付開始日, 受付終了日, 詳細参照先, お問い合わせ先


@lru_cache(maxsize=1)
def _program_rows() -> dict[int, list[str]]:
    """The text lines of every row of the programs sheet by its spreadsheet row number (1-based)."""
    import openpyxl  # only this round reads a workbook

    book = openpyxl.load_workbook(CORPUS / PROGRAMS_XLSX, read_only=True)
    try:
        return {n: _lines(list(row[PROGRAMS_COLUMNS]))
                for n, row in enumerate(book[PROGRAMS_SHEET].iter_rows(values_only=True), start=1)}
    finally:
        book.close()


# round 5: municipal program records (Civichat's 熊本市 熊本地震 and 渋谷区 子育て datasets), their text fields in order
PROGRAM_DATASETS = {
    "kumamoto": ("datasets/civichat/head/kumamotoEarthquake_systemsdata.json",
                 ("制度名", "サブタイトル", "対象者", "制度概要", "制度所管組織", "条件", "用途•対象物", "対象地域", "支援内容",
                  "留意事項", "手続き等", "必要なもの", "申請窓口", "受付可能日時（受付日）", "受付可能日時（受付時間）",
                  "受付開始日", "受付終了日", "お問い合わせ先", "詳細参照先")),
    "shibuya": ("datasets/civichat/versions/static_data_shibuyaParenting_systemsdata@2021-11-30_091811b.json",
                ("制度所管組織", "タイトル（制度名）", "概要", "支援内容", "対象者", "利用•申請方法", "受付開始日", "受付終了日",
                 "詳細参照先", "お問い合わせ先")),
}

# round 6: 渋谷区's nursery records (Civichat), each field line as a table row "label | value"
NURSERIES = "datasets/civichat/head/shibuyaPreschool_systemsdata.json"
NURSERY_FIELDS = ("幼稚園•保育園のタイトル", "施設のカテゴリ", "施設の運営者", "対象年齢", "住所", "お問い合わせ先", "申し込み受付先",
                  "通常保育の対応時間", "延長保育の対応時間", "休園日", "見学詳細", "保育施設のセキュリティ", "ベビーバギー置き場",
                  "アレルギー対応", "詳細参照先")


@lru_cache(maxsize=4)
def _records(corpus_file: str) -> list[dict[str, Any]]:
    data = json.loads((CORPUS / corpus_file).read_text(encoding="utf-8"))
    return data["systemsData"] if isinstance(data, dict) else data


def program_document(m: re.Match[str]) -> Document:
    """A programs-sheet row: a block per non-empty line of columns J..Q, in column order."""
    return _text_document(_program_rows()[int(m.group(1))])


def record_document(m: re.Match[str]) -> Document:
    """A program record: a block per non-empty line of its text fields, in field order."""
    path, fields = PROGRAM_DATASETS[m.group(1)]
    record = _records(path)[int(m.group(2))]
    return _text_document(_lines([record.get(name) for name in fields]))


def nursery_document(m: re.Match[str]) -> Document:
    """A nursery: a block "label | value" per line of each field in :data:`NURSERY_FIELDS`."""
    record = _records(NURSERIES)[int(m.group(1))]
    return _text_document([f"{name} | {line}" for name in NURSERY_FIELDS for line in _lines([record.get(name)])])


ROUNDS = (
    RecordRound("progs4", r"r(\d+)", "dev4", "heldout4", "row", lambda m: PROGRAMS_XLSX, program_document),
    RecordRound("civic5", r"(kumamoto|shibuya)_(\d+)", "dev5", "heldout5", "index",
                lambda m: PROGRAM_DATASETS[m.group(1)][0], record_document),
    RecordRound("nursery6", r"(\d+)", "dev6", "heldout6", "index", lambda m: NURSERIES, nursery_document),
)
