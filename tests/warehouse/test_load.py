"""Loader and staging: SCD2 versions, content-addressed blobs, idempotent resumable loads (into an in-memory
warehouse; the crawl loads into files: tests/pipelines/test_capture.py, tests/e2e/)."""

from __future__ import annotations

import shutil

from tests.support.helpers import q
from warehouse import staging
from warehouse.load import load_pending
from warehouse.schema import migrate

PAGE_V1 = "<html><body><h1>住宅支援資金貸付</h1><p>貸付額は上限4万円</p></body></html>".encode()
PAGE_V2 = "<html><body><h1>住宅支援資金貸付</h1><p>貸付額は上限5万円</p></body></html>".encode()


def cap(url, body, ts, status=200, **kw):
    return staging.Capture(run_id="r1", source_id="s", url=url, requested_url=url, status=status, body=body,
                           media_type="text/html", fetched_at=ts, **kw)


def test_versions_only_when_content_changes(memory_warehouse, tmp_path):
    db, folder = memory_warehouse, tmp_path / "stage"
    migrate(db)
    u = "http://127.0.0.1/a.html"
    for c in [cap(u, PAGE_V1, "2026-04-01T00:00:00+00:00"), cap(u, PAGE_V1, "2026-04-02T00:00:00+00:00"),
              cap(u, PAGE_V2, "2026-04-03T00:00:00+00:00"), cap(u, None, "2026-04-04T00:00:00+00:00", status=503)]:
        staging.write(folder, c)
    counts = load_pending(db, folder)
    assert (counts.new_versions, counts.unchanged, counts.errors) == (2, 1, 1)
    v = q(db, "SELECT valid_from::VARCHAR, valid_to::VARCHAR FROM versions ORDER BY valid_from")
    assert len(v) == 2 and v[0][1] == v[1][0] and v[1][1] is None  # a 503 does not close the current version
    assert q(db, "SELECT count(*) FROM blobs")[0][0] == 2
    assert staging.pending(folder) == []


def test_identical_content_on_two_urls_is_stored_once(memory_warehouse, tmp_path):
    db, folder = memory_warehouse, tmp_path / "stage"
    migrate(db)
    staging.write(folder, cap("http://127.0.0.1/a.html", PAGE_V1, "2026-04-01T00:00:00+00:00"))
    staging.write(folder, cap("http://127.0.0.1/b.html", PAGE_V1, "2026-04-01T00:00:01+00:00"))
    load_pending(db, folder)
    assert q(db, "SELECT count(*) FROM versions")[0][0] == 2
    assert q(db, "SELECT count(*), sum(size) FROM blobs")[0] == (1, len(PAGE_V1))


def test_reloading_after_a_crash_between_commit_and_cleanup_is_idempotent(memory_warehouse, tmp_path):
    db, folder, backup = memory_warehouse, tmp_path / "stage", tmp_path / "backup"
    migrate(db)
    staging.write(folder, cap("http://127.0.0.1/a.html", PAGE_V1, "2026-04-01T00:00:00+00:00"))
    shutil.copytree(folder, backup)
    load_pending(db, folder)
    shutil.copytree(backup, folder, dirs_exist_ok=True)  # as if killed before the staged files were removed
    counts = load_pending(db, folder)
    assert counts.fetched == 0
    assert q(db, "SELECT (SELECT count(*) FROM fetches), (SELECT count(*) FROM versions)")[0] == (1, 1)


def test_half_written_capture_is_not_loaded(memory_warehouse, tmp_path):
    db, folder = memory_warehouse, tmp_path / "stage"
    migrate(db)
    folder.mkdir()
    (folder / "abc.body.tmp").write_bytes(b"partial")  # killed while writing: no .json, never loaded
    assert load_pending(db, folder).fetched == 0
