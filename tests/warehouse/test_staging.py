"""warehouse.staging: what a kill -9 or a full disk leaves in the staging folder (``*.tmp`` files, a body
without its metadata file) is swept at the next load once it is older than the process, never a write in
progress; a failed write leaves no temp file behind; the pipeline sweeps when the crawl opens."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from warehouse import staging
from warehouse.load import load_pending
from warehouse.schema import migrate

OLD = time.time() - 3600  # an hour ago: before this test process started


def capture(url: str = "http://127.0.0.1/a.html") -> staging.Capture:
    return staging.Capture(run_id="20261122T060000Z-abc123", source_id="s", url=url, requested_url=url, status=200,
                           body=b"<p>a</p>", media_type="text/html")


def leftovers(folder: Path) -> dict[str, Path]:
    """A folder as a crash leaves it: a complete capture, old orphans, and files of writes still in progress."""
    folder.mkdir(parents=True, exist_ok=True)
    complete = staging.write(folder, capture())
    files = {"complete_json": complete, "complete_body": complete.with_suffix(".body")}
    for name, content, age in [("old_body_tmp", "dead1.body.tmp", OLD), ("old_json_tmp", "dead1.json.tmp", OLD),
                               ("old_lone_body", "dead2.body", OLD), ("fresh_body_tmp", "live.body.tmp", None),
                               ("fresh_lone_body", "live2.body", None)]:
        path = folder / content
        path.write_bytes(b"x" * 1000)
        if age is not None:
            os.utime(path, (age, age))
        files[name] = path
    os.utime(complete, (OLD, OLD))  # an old complete capture is not an orphan: it waits to be loaded
    os.utime(complete.with_suffix(".body"), (OLD, OLD))
    return files


def test_orphans_are_swept_when_staging_is_read(tmp_path):
    folder = tmp_path / "stage"
    files = leftovers(folder)
    assert staging.orphans(folder) == sorted([files["old_body_tmp"], files["old_json_tmp"], files["old_lone_body"]])
    assert staging.pending(folder) == [files["complete_json"]]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        files[k].name for k in ("complete_json", "complete_body", "fresh_body_tmp", "fresh_lone_body"))
    assert staging.read(files["complete_json"]).body == b"<p>a</p>"


def test_a_file_written_after_the_process_started_is_never_swept(tmp_path, monkeypatch):
    """Another crawl sharing the folder may be writing it: even an hour later by the clock, a file newer than this
    process's start is kept (the next process sweeps it)."""
    folder = tmp_path / "stage"
    files = leftovers(folder)
    assert files["fresh_body_tmp"] not in staging.orphans(folder, now=time.time() + 7200)
    monkeypatch.setattr(staging, "_STARTED", time.time() + 10)  # a process started after these files were written
    assert files["fresh_body_tmp"] not in staging.orphans(folder)  # ... but within ORPHAN_AGE_S: still kept
    assert files["fresh_body_tmp"] in staging.orphans(folder, now=time.time() + staging.ORPHAN_AGE_S + 1)


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_load_sweeps_orphans_and_loads_the_capture(tmp_path):
    db = tmp_path / "w.duckdb"
    migrate(db)
    folder = tmp_path / "w.duckdb.staging"
    files = leftovers(folder)
    counts = load_pending(db, folder)
    assert counts.fetched == 1
    assert sorted(p.name for p in folder.iterdir()) == sorted(files[k].name for k in ("fresh_body_tmp", "fresh_lone_body"))


@pytest.mark.parametrize("fails", ["write", "replace"])
def test_a_failed_write_leaves_no_temp_file(tmp_path, monkeypatch, fails):
    folder = tmp_path / "stage"
    folder.mkdir()

    def disk_full(*_args, **_kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    if fails == "replace":
        monkeypatch.setattr(staging.os, "replace", disk_full)
    else:
        class FullFile:
            def __init__(self, path, _mode):
                self.fh = open(path, "wb")  # noqa: SIM115 — the temp file exists, then the write fails

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.fh.close()

            def write(self, _data):
                disk_full()

        monkeypatch.setattr(staging, "open", FullFile, raising=False)
    with pytest.raises(OSError, match="No space left"):
        staging.write(folder, capture())
    assert list(folder.iterdir()) == []


def test_the_pipeline_sweeps_when_the_crawl_opens(tmp_path):
    from pipelines.capture import CapturePipeline

    folder = tmp_path / "stage"
    files = leftovers(folder)
    pipe = CapturePipeline(tmp_path / "w.duckdb", folder, "20261122T060000Z-abc123")
    pipe.open_spider()
    assert not files["old_body_tmp"].exists() and not files["old_lone_body"].exists()
    assert files["complete_json"].exists() and files["fresh_body_tmp"].exists()
    CapturePipeline(tmp_path / "w.duckdb", tmp_path / "not-yet", "r").open_spider()  # no folder yet: nothing to do
    assert not (tmp_path / "not-yet").exists()


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_doctor_notes_orphans(tmp_path):
    from warehouse.db import Warehouse
    from warehouse.doctor import check

    db = tmp_path / "w.duckdb"
    migrate(db)
    leftovers(Warehouse(db).staging_dir)
    report = check(db)
    assert report.healthy
    assert f"3 orphan file(s) of interrupted writes in {Warehouse(db).staging_dir} (removed by the next crawl)" \
        in report.notes
