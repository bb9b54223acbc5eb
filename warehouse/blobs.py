"""Raw bytes, stored once per SHA-256.

An embedded warehouse keeps them in its ``blobs`` table (``data`` column). A DuckLake warehouse keeps
only ``sha256, media_type, size, first_seen`` there and the bytes in a content-addressed store beside
the lake: ``<data path>/blobs/ab/cd/<sha256>`` — a directory (each file written to a temporary name and
renamed into place, so a reader never sees half a blob), or S3-compatible storage through fsspec/s3fs
when the data path is ``s3://…`` (optional dependency: ``pip install s3fs``).

Every reader and writer goes through :func:`warehouse.db.store_blobs` / :func:`warehouse.db.read_blobs`
(or :meth:`warehouse.db.Warehouse.blob`) with the connection of its unit of work; which of the two places
applies is told by the connection (a lake cursor carries its blob root in the DuckDB variable
``wardwatch_blob_root``, :func:`store_of`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseError

BLOB_COLUMNS = ("sha256", "media_type", "size", "data", "first_seen")
LAKE_BLOB_COLUMNS = ("sha256", "media_type", "size", "first_seen")
_VARIABLE = "wardwatch_blob_root"


class BlobStore:
    """A content-addressed store of raw bytes at ``root`` (a directory, or an ``s3://`` URL)."""

    def __init__(self, root: str | os.PathLike):
        self.root = str(root).rstrip("/") + "/"
        self.remote = "://" in self.root
        self._fs = None

    def __repr__(self) -> str:
        return f"BlobStore({self.root!r})"

    @property
    def fs(self):
        if self._fs is None:
            try:
                import fsspec
            except ImportError:  # pragma: no cover - fsspec comes with the project
                raise WarehouseError(f"{self.root}: an object-store blob store needs fsspec") from None
            protocol = self.root.split("://", 1)[0]
            try:
                self._fs = fsspec.filesystem(protocol, **_storage_options(protocol))
            except (ImportError, ValueError) as exc:
                raise WarehouseError(f"{self.root}: cannot use this blob store ({exc}); "
                                     f"for s3:// install s3fs") from None
        return self._fs

    def path(self, sha256: str) -> str:
        _check_hash(sha256)
        return f"{self.root}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def exists(self, sha256: str) -> bool:
        p = self.path(sha256)
        return self.fs.exists(p) if self.remote else os.path.exists(p)

    def put(self, sha256: str, data: bytes) -> bool:
        """Store ``data`` under its hash (checked); False when it was stored already."""
        if hashlib.sha256(data).hexdigest() != sha256:
            raise WarehouseError(f"blob {sha256}: the bytes do not match their hash")
        if self.exists(sha256):
            return False
        target = self.path(sha256)
        try:
            if self.remote:
                self.fs.pipe_file(target, data)  # one PUT: an object appears whole or not at all
                return True
            folder = os.path.dirname(target)
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{sha256[:12]}.", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise WarehouseError(f"{target}: cannot store the blob: {exc.strerror or exc}") from None
        return True

    def get(self, sha256: str) -> bytes | None:
        target = self.path(sha256)
        try:
            if self.remote:
                return self.fs.cat_file(target)
            with open(target, "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WarehouseError(f"{target}: cannot read the blob: {exc.strerror or exc}") from None

    def hashes(self) -> Iterator[str]:
        """Every hash in the store."""
        if self.remote:
            for p in self.fs.find(self.root):
                name = p.rsplit("/", 1)[-1]
                if _is_hash(name):
                    yield name
            return
        if not os.path.isdir(self.root):
            return
        for _dirpath, _, files in os.walk(self.root):
            for name in files:
                if _is_hash(name):
                    yield name


def _storage_options(protocol: str) -> dict:
    """s3fs options from the environment: an S3-compatible endpoint by $AWS_ENDPOINT_URL /
    $WARDWATCH_S3_ENDPOINT (credentials the usual AWS way)."""
    if protocol not in ("s3", "s3a"):
        return {}
    endpoint = os.environ.get("WARDWATCH_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL")
    return {"client_kwargs": {"endpoint_url": endpoint}} if endpoint else {}


def _is_hash(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def _check_hash(sha256: str) -> None:
    if not _is_hash(sha256):
        raise WarehouseError(f"{sha256!r}: not a SHA-256 hex digest")


def store_of(con: duckdb.DuckDBPyConnection) -> BlobStore | None:
    """The blob store of the warehouse ``con`` belongs to; None when the bytes are in the ``blobs`` table."""
    try:
        root = con.execute(f"SELECT getvariable('{_VARIABLE}')").fetchone()[0]
    except duckdb.Error:
        return None
    return BlobStore(root) if root else None


def check_store(con: duckdb.DuckDBPyConnection, *, limit: int = 50) -> tuple[int, list[str]]:
    """For a lake: (blobs checked, problems) — every ``blobs`` row has its bytes in the store, of the
    recorded size and matching its hash. ``(0, [])`` for an embedded warehouse."""
    store = store_of(con)
    if store is None:
        return 0, []
    problems: list[str] = []
    rows = con.execute("SELECT sha256, size FROM blobs ORDER BY sha256").fetchall()
    for sha, size in rows:
        try:
            data = store.get(sha)
        except WarehouseError as exc:
            problems.append(str(exc))
            continue
        if data is None:
            problems.append(f"blob {sha}: missing from the blob store {store.root}")
        elif hashlib.sha256(data).hexdigest() != sha:
            problems.append(f"blob {sha}: bytes in {store.path(sha)} do not match the hash")
        elif size is not None and len(data) != size:
            problems.append(f"blob {sha}: {len(data)} bytes in the store, {size} recorded")
        if len(problems) >= limit:
            break
    return len(rows), problems


def local_path(store: BlobStore, sha256: str) -> Path | None:
    """The file of a blob in a directory store (tests, tools); None for an object store."""
    return None if store.remote else Path(store.path(sha256))
