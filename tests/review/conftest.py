"""Fixtures of the review tests: a small review warehouse on disk (``tests/review/queue.py`` writes it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.review.queue import fill
from warehouse.db import Warehouse
from warehouse.schema import migrate


@pytest.fixture(scope="session")
def queue_db_template(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("review-template") / "review.duckdb"
    wh = Warehouse(db)
    migrate(wh)
    with wh.connect() as con:
        fill(con)
        con.execute("CHECKPOINT")
    return db


@pytest.fixture
def queue_db(queue_db_template: Path, tmp_path: Path) -> Path:
    """A private copy of the review warehouse (tests store decisions in it)."""
    db = tmp_path / "review.duckdb"
    shutil.copyfile(queue_db_template, db)
    return db
