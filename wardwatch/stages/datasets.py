"""Importing structured program datasets as secondary sources (``wardwatch import-dataset``).

A dataset file is parsed and validated in full first (:mod:`extractors.datasets`); a file with any
malformed row raises :class:`DatasetError` listing every problem and writes nothing. A valid file is
loaded in ONE transaction (``warehouse.datasets.load``): its ``datasets`` row, its ``dataset_facts``,
the closing of the source's previous current version (``valid_to`` = the new ``valid_from``) and the
``sources`` row (kind ``secondary``). A file whose sha256 the source already has is a no-op ("unchanged").

``valid_from`` is the date in the file name (``…@2021-09-01_81a84d8.json``, ``programs_2025-04-01.csv``:
the first YYYY-MM-DD, midnight Asia/Tokyo), else the import time. Versions must be imported in date
order; several versions dated the same day are kept in import order, one second apart.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from extractors.datasets import FORMATS, Problem, parse_dataset
from extractors.programs import match_program
from warehouse import datasets as store
from warehouse.datasets import DatasetConflict
from warehouse.db import Warehouse

JST = timezone(timedelta(hours=9))
NATIONAL = "全国"
TOKYO_CODE = "130001"  # 東京都; also stands in for national data and municipalities with no known code
# 全国地方公共団体コード (6 digits with the check digit) of the 23 special wards and 東京都
CODES = {
    "東京都": "130001", "千代田区": "131016", "中央区": "131024", "港区": "131032", "新宿区": "131041",
    "文京区": "131059", "台東区": "131067", "墨田区": "131075", "江東区": "131083", "品川区": "131091",
    "目黒区": "131105", "大田区": "131113", "世田谷区": "131121", "渋谷区": "131130", "中野区": "131148",
    "杉並区": "131156", "豊島区": "131164", "北区": "131172", "荒川区": "131181", "板橋区": "131199",
    "練馬区": "131202", "足立区": "131211", "葛飾区": "131229", "江戸川区": "131237",
}
SOURCE_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
MAX_DATASET_BYTES = 64 * 2**20  # Civichat's national file is ~2 MB; a valid 35 MB / 200k-record file imports in ~0.4 GB
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


class DatasetError(Exception):
    """The file was not imported: every row-level (or file-level) problem, nothing written."""

    def __init__(self, path: str | Path, problems: list[Problem], records: int | None = None):
        self.path = str(path)
        self.problems = problems
        self.records = records
        super().__init__(self.summary())

    @property
    def malformed_rows(self) -> int:
        return len({p.row for p in self.problems if p.row is not None})

    def summary(self) -> str:
        first = self.problems[0]
        n = self.malformed_rows
        if n == 0:
            return f"{self.path}: nothing imported: {first.message}"
        return f"{self.path}: {n} malformed row{'s' if n != 1 else ''}; nothing imported (first: {first})"

    def to_json(self) -> dict[str, Any]:
        return {"status": "rejected", "path": self.path, "records": self.records,
                "malformed_rows": self.malformed_rows, "summary": self.summary(),
                "problems": [p.to_json() for p in self.problems]}


def import_dataset(db: Warehouse | str | Path, path: str | Path, *, source_id: str | None = None,
                   municipality: str | None = None, fmt: str | None = None) -> dict[str, Any]:
    """Validate ``path`` completely, then load it as the newest version of its secondary source."""
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"unknown dataset format {fmt!r} (expected {' or '.join(FORMATS)})")
    if source_id is not None and not SOURCE_ID_RE.fullmatch(source_id):
        raise ValueError(f"invalid source id {source_id!r} (lower-case letters, digits, - and _)")
    data = read_dataset_file(path)
    sha = hashlib.sha256(data).hexdigest()
    parsed = parse_dataset(data, fmt, municipality=municipality)
    del data
    if parsed.problems:
        raise DatasetError(path, parsed.problems, parsed.records)
    sid = source_id or default_source_id(path.name, parsed.format)
    result: dict[str, Any] = {"path": str(path), "source_id": sid, "format": parsed.format, "sha256": sha,
                              "records": parsed.records, "facts": len(parsed.facts), "warnings": []}

    def code_of(muni: str) -> str:
        code = municipality_code(muni)
        if code is None:
            result["warnings"].append(f"no 全国地方公共団体コード known for '{muni}'; sources.code set to {TOKYO_CODE}")
        return code or TOKYO_CODE

    assign_dataset_programs(parsed.facts, municipality or parsed.municipality)
    try:
        loaded = store.load(Warehouse.of(db), source_id=sid, sha256=sha, path=path, fmt=parsed.format,
                            records=parsed.records, facts=parsed.facts, stated=dataset_date(path.name),
                            municipality=municipality or parsed.municipality, default_municipality=NATIONAL,
                            code_of=code_of)
    except DatasetConflict as exc:
        raise DatasetError(path, [Problem(None, None, None, str(exc))]) from None
    return {**result, **loaded}


def read_dataset_file(path: Path) -> bytes:
    """The file's bytes; a FIFO, a device or a directory (which would block or never end) and files over
    MAX_DATASET_BYTES are refused as a file-level problem."""
    def refuse(why: str) -> DatasetError:
        return DatasetError(path, [Problem(None, None, None, why)])

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # O_NONBLOCK: opening a FIFO never waits for a writer
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror or exc}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise refuse("not a regular file (a FIFO, device or directory cannot be a dataset)")
    with os.fdopen(fd, "rb") as fh:
        if st.st_size > MAX_DATASET_BYTES:
            raise refuse(f"{st.st_size:,} bytes: larger than the {MAX_DATASET_BYTES // 2**20} MiB a dataset may have")
        try:
            data = fh.read(MAX_DATASET_BYTES + 1)
        except OSError as exc:
            raise refuse(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_DATASET_BYTES:
        raise refuse(f"larger than the {MAX_DATASET_BYTES // 2**20} MiB a dataset may have")
    return data


def default_source_id(filename: str, fmt: str) -> str:
    """``civichat-<name>`` / ``dataset-<name>`` from the file name without version, date and extension.

    datas_shibuya_systemsdata@2021-09-01_81a84d8.json -> civichat-shibuya;
    static_data_shibuyaParenting_systemsdata@… -> civichat-shibuya-parenting; 児童手当.csv -> dataset-<8 hex>.
    """
    stem = filename.split("@", 1)[0] if "@" in filename else Path(filename).stem
    stem = _DATE_IN_NAME.split(stem, 1)[0].rstrip("_- ") or stem
    base = stem
    if fmt == "civichat":
        base = re.sub(r"_systemsdata$", "", re.sub(r"^(?:static_data|datas?)_", "", stem))
    slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", base).lower()).strip("-")
    prefix = "civichat-" if fmt == "civichat" else "dataset-"
    return prefix + (slug or hashlib.sha1(stem.encode("utf-8")).hexdigest()[:8])


def dataset_date(filename: str) -> datetime | None:
    """The first YYYY-MM-DD in the file name, at midnight Asia/Tokyo."""
    m = _DATE_IN_NAME.search(filename)
    if not m:
        return None
    try:
        return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=JST)
    except ValueError:
        return None


def assign_dataset_programs(facts: list[dict[str, Any]], default_municipality: str | None) -> None:
    """A program id for each dataset fact, from its program name (the record's title), in place."""
    cache: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    for f in facts:
        name, muni = f.get("program"), f.get("municipality") or default_municipality or NATIONAL
        if not name:
            continue
        if (name, muni) not in cache:
            code = municipality_code(muni) if muni != NATIONAL else None
            try:
                m = match_program([name], None if muni == NATIONAL else muni, f.get("text"), code=code)
            except Exception:  # a matcher bug must not reject a valid dataset
                m = None
            cache[(name, muni)] = (m.program_id, m.name) if m else (None, None)
        f["program_id"], f["program_name"] = cache[(name, muni)]


def municipality_code(name: str) -> str | None:
    """The 全国地方公共団体コード of a Tokyo ward or 東京都; 130001 for 全国; None when unknown."""
    if name == NATIONAL:
        return TOKYO_CODE
    return CODES.get(name) or CODES.get(name.removeprefix("東京都"))
