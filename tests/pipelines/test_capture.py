"""CapturePipeline (pipelines/capture.py) from a crawler with the crawl's settings: every capture the spider
yields is staged atomically in the staging folder, and loaded into the warehouse in short batches (by
count, by time, and when the spider closes); a warehouse that cannot be opened leaves them staged."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.capture import CapturePipeline
from spiders.responses import from_response
from tests.support.crawler import SECTION, crawler_for, fixture, response
from tests.support.helpers import q
from warehouse import staging
from warehouse.schema import migrate

PAGES = ("index.html", "syuurou.html", "jiritsushien.html")


def pipeline_for(db: Path, folder: Path, **settings) -> CapturePipeline:
    crawler = crawler_for(settings={"WARDWATCH_DB": str(db), "WARDWATCH_STAGING": str(folder),
                                    "WARDWATCH_RUN_ID": "20261122T060000Z-abc123", **settings})
    return CapturePipeline.from_crawler(crawler)


def capture(page: str) -> staging.Capture:
    """What MunicipalSpider yields for a saved page (run_id is the pipeline's to set)."""
    return from_response("nerima-hitorioya", response(f"{SECTION}/{page}", "hitorioya_index.html"))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "wardwatch.duckdb"
    migrate(path)
    return path


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_captures_are_staged_then_loaded_in_batches(db, tmp_path):
    folder = tmp_path / "stage"
    pipe = pipeline_for(db, folder, WARDWATCH_LOAD_BATCH=2, WARDWATCH_LOAD_INTERVAL=3600)
    first = capture(PAGES[0])
    assert pipe.process_item(first) is first
    assert first.run_id == "20261122T060000Z-abc123" and first.body is None  # the bytes live on disk now
    assert sorted(p.suffix for p in folder.iterdir()) == [".body", ".json"]
    assert q(db, "SELECT count(*) FROM fetches") == [(0,)]  # below the batch size: not loaded yet
    pipe.process_item(capture(PAGES[1]))  # the second capture completes a batch
    assert list(folder.iterdir()) == []
    assert q(db, "SELECT count(*), count(DISTINCT run_id), min(run_id) FROM fetches") == [(2, 1, "20261122T060000Z-abc123")]
    pipe.process_item(capture(PAGES[2]))
    assert q(db, "SELECT count(*) FROM fetches") == [(2,)]
    pipe.close_spider()  # whatever is left is loaded when the spider closes
    assert q(db, "SELECT count(*) FROM fetches") == [(3,)] and list(folder.iterdir()) == []
    # the three pages have the same bytes: one blob, three versions
    assert q(db, "SELECT count(*) FROM blobs") == [(1,)] and q(db, "SELECT count(*) FROM versions") == [(3,)]
    (data,) = q(db, "SELECT data FROM blobs")[0]
    assert bytes(data) == fixture("hitorioya_index.html")


def test_a_load_is_due_after_the_interval_whatever_the_count(db, tmp_path):
    pipe = pipeline_for(db, tmp_path / "stage", WARDWATCH_LOAD_BATCH=1000, WARDWATCH_LOAD_INTERVAL=0)
    pipe.process_item(capture(PAGES[0]))
    assert q(db, "SELECT count(*) FROM fetches") == [(1,)]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_crawlers_of_one_process_share_the_batch_count_and_load_at_most_once_a_second_the_last_to_close_loads(db, tmp_path):
    folder = tmp_path / "stage"
    pipes = [pipeline_for(db, folder, WARDWATCH_LOAD_BATCH=2, WARDWATCH_LOAD_INTERVAL=3600) for _ in range(3)]
    pipes[0].process_item(capture(PAGES[0]))
    assert q(db, "SELECT count(*) FROM fetches") == [(0,)]
    pipes[1].process_item(capture(PAGES[1]))  # another crawler's capture completes the process's batch
    assert q(db, "SELECT count(*) FROM fetches") == [(2,)]
    pipes[2].process_item(capture(PAGES[2]))
    pipes[0].process_item(capture(PAGES[0]))  # a full batch again, but less than a second after the last load
    assert q(db, "SELECT count(*) FROM fetches") == [(2,)] and len(list(folder.glob("*.json"))) == 2
    pipes[1].close_spider()  # a crawler closing while others crawl leaves the load to the process's batch
    pipes[0].close_spider()
    assert q(db, "SELECT count(*) FROM fetches") == [(2,)]
    pipes[2].close_spider()  # the last one to close loads whatever is staged, its own and the others'
    assert q(db, "SELECT count(*) FROM fetches") == [(4,)]


def test_other_items_pass_through(db, tmp_path):
    pipe = pipeline_for(db, tmp_path / "stage", WARDWATCH_LOAD_BATCH=1)
    item = {"url": f"{SECTION}/index.html"}
    assert pipe.process_item(item) is item
    assert not (tmp_path / "stage").exists()


def test_a_warehouse_that_cannot_be_opened_leaves_the_captures_staged(tmp_path, caplog):
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")  # the warehouse's folder cannot be created
    folder = tmp_path / "stage"
    pipe = pipeline_for(blocker / "wardwatch.duckdb", folder, WARDWATCH_LOAD_BATCH=1)
    for page in PAGES[:2]:
        pipe.process_item(capture(page))  # each load fails; the crawl goes on
    assert len(staging.pending(folder)) == 2  # kept for the run's final load (or the next run)
    assert "warehouse load deferred: " in caplog.text and "cannot create directory" in caplog.text


def test_settings_default_to_batches_of_50_every_10_seconds(db, tmp_path):
    pipe = pipeline_for(db, tmp_path / "stage")
    assert (pipe.batch, pipe.interval_s, pipe.db_path, pipe.folder) == (50, 10.0, db, tmp_path / "stage")


def test_staging_into_an_in_memory_warehouse(memory_warehouse):
    """The pipeline's store is any warehouse: here an in-memory one, staging in its private folder."""
    migrate(memory_warehouse)
    pipe = CapturePipeline(memory_warehouse, memory_warehouse.staging_dir, "20261122T060000Z-abc123", batch=2)
    for page in PAGES:
        pipe.process_item(capture(page))
    assert q(memory_warehouse, "SELECT count(*) FROM fetches") == [(2,)]
    assert len(staging.pending(memory_warehouse.staging_dir)) == 1
    pipe.close_spider()
    assert q(memory_warehouse, "SELECT url FROM versions ORDER BY url") == [
        (f"{SECTION}/{page}",) for page in sorted(PAGES)]
    assert staging.pending(memory_warehouse.staging_dir) == []
