"""DuckLake mode of the warehouse: a Postgres catalog, Parquet data files and a blob store beside them.

A DuckLake warehouse is named by DuckLake's own connection string, ``ducklake:postgres:<libpq DSN>``
(e.g. ``ducklake:postgres:dbname=ww host=127.0.0.1 port=5432 user=postgres``), plus a data path (a
directory or ``s3://…``) where DuckLake writes its Parquet files and wardwatch its raw bytes
(``<data path>/blobs/``, :mod:`warehouse.blobs`). Many processes on many machines write it at once.

What this module does for :class:`warehouse.db.Warehouse`:

* loads the ``ducklake`` and ``postgres_scanner`` extensions from their Python wheels
  (``duckdb-extension-ducklake`` / ``duckdb-extension-postgres-scanner``) by file path — never from
  the extension CDN (autoinstall and autoload stay off);
* keeps one DuckDB instance per process and warehouse, with the lake attached as ``lake`` and the
  catalog database attached a second time as ``ww_catalog`` (plain Postgres, for the writer lock):
  attaching costs ~0.3 s, loading the extensions ~1 s, so a unit of work gets a cursor, not an attach;
* serialises *writers* with a Postgres advisory transaction lock taken in the catalog database before
  the DuckLake transaction starts (:func:`writer_lock`). DuckLake itself has no PRIMARY KEY/UNIQUE
  constraints and its optimistic concurrency lets two concurrent transactions that both insert into
  a table commit (it only retries them), so the loaders' "check, then insert" would store a page
  twice when two machines load at the same moment. The lock is held only for the commit-sized unit
  of work (a load batch), is released by Postgres when the process or its connection dies, and
  readers never take it. A commit conflict that still happens (a writer outside wardwatch) is a
  transient :class:`~warehouse.db.WarehouseConflict`;
* rewrites the schema migrations for DuckLake (:func:`lake_sql`): PRIMARY KEY and UNIQUE constraints
  and indexes are dropped (column keys become NOT NULL), ``blobs.data`` is dropped (the bytes live
  in the blob store); :func:`warehouse.schema.declared_keys` lists the dropped keys so ``doctor`` checks them.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import random
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseError

PREFIX = "ducklake:"
POSTGRES_PREFIX = "ducklake:postgres:"
ALIAS = "lake"
CATALOG_ALIAS = "ww_catalog"
BLOB_VARIABLE = "wardwatch_blob_root"
# columns the lake schema leaves out: table -> columns (blobs.data: the bytes are in the blob store)
LAKE_DROPPED_COLUMNS = {"blobs": ("data",)}
_EXTENSIONS = (("duckdb_extension_postgres_scanner", "postgres_scanner", "duckdb-extension-postgres-scanner"),
               ("duckdb_extension_ducklake", "ducklake", "duckdb-extension-ducklake"))
_BASE_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                "allow_community_extensions": False}


class LakeError(WarehouseError):
    """The lake cannot be used (extension missing, catalog unreachable, bad connection string)."""


def is_lake(location: object) -> bool:
    return str(location).startswith(PREFIX)


@dataclass(frozen=True)
class LakeLocation:
    """A DuckLake warehouse: its connection string and (for a new catalog) its data path."""

    url: str
    data_path: str | None = None

    def __post_init__(self) -> None:
        if not self.url.startswith(POSTGRES_PREFIX):
            raise LakeError(f"{self.url!r}: only a Postgres catalog is supported "
                            f"(give '{POSTGRES_PREFIX}dbname=… host=… user=…')")
        if not self.dsn.strip():
            raise LakeError(f"{self.url!r}: no Postgres connection string after '{POSTGRES_PREFIX}'")
        if "'" in self.url or (self.data_path and "'" in self.data_path):
            raise LakeError("a quote (') in the warehouse URL or data path is not supported")

    @property
    def dsn(self) -> str:
        """The libpq connection string of the catalog database."""
        return self.url[len(POSTGRES_PREFIX):]

    @property
    def remote(self) -> bool:
        return bool(self.data_path and "://" in self.data_path)


def normalise_data_path(data_path: str | os.PathLike | None) -> str | None:
    """An absolute directory path ending in '/', or an object-store URL ending in '/'; None stays None."""
    if data_path is None or str(data_path) == "":
        return None
    text = str(data_path)
    if "://" not in text:
        text = str(Path(text).expanduser().resolve())
    return text if text.endswith("/") else text + "/"


_HTTPFS = ("duckdb_extension_httpfs", "httpfs", "duckdb-extension-httpfs")


def extension_paths(*, remote: bool = False) -> list[str]:
    """The .duckdb_extension files of the installed wheels, in load order (postgres first; httpfs too
    for an object-store data path)."""
    paths = []
    for module, name, package in _EXTENSIONS + ((_HTTPFS,) if remote else ()):
        spec = importlib.util.find_spec(module)
        found = None
        if spec is not None and spec.submodule_search_locations:
            for root in spec.submodule_search_locations:
                found = next(iter(sorted(Path(root).rglob(f"{name}.duckdb_extension"))), None) or found
        if found is None:
            raise LakeError(f"the DuckDB extension {name!r} is not installed: "
                            f"pip install {package}=={duckdb.__version__}")
        paths.append(str(found))
    return paths


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def open_lake(loc: LakeLocation, *, read_only: bool = False, config: dict | None = None,
              catalog: bool = True) -> duckdb.DuckDBPyConnection:
    """A new DuckDB instance with the lake attached as ``lake`` (and the catalog as ``ww_catalog``).

    ``read_only`` attaches the lake READ_ONLY (and not the catalog). ``config`` entries that would stop
    the attach itself (``enable_external_access`` false) are applied after it, with file access kept
    for the data path only (``allowed_directories``)."""
    config = dict(config or {})
    external = config.pop("enable_external_access", True)
    con = duckdb.connect(":memory:", config={**_BASE_CONFIG, **config})
    try:
        for path in extension_paths(remote=loc.remote):
            con.execute(f"LOAD '{path}'")
        if loc.remote:
            s3_secret(con)
        options = []
        if loc.data_path:
            options.append(f"DATA_PATH '{loc.data_path}'")
        if read_only:
            options.append("READ_ONLY")
        opts = f" ({', '.join(options)})" if options else ""
        con.execute(f"ATTACH '{loc.url}' AS {ALIAS}{opts}")
        if catalog and not read_only:
            con.execute(f"ATTACH '{loc.dsn}' AS {CATALOG_ALIAS} (TYPE postgres)")
        con.execute(f"USE {ALIAS}")
        root = blob_root(con, loc)
        if not external:
            allowed = [root] if "://" in root else [root.rsplit("blobs", 1)[0]]
            con.execute("SET allowed_directories = ?", [allowed])
            con.execute("SET enable_external_access = false")
        return con
    except duckdb.Error as exc:
        con.close()
        if "data_path is not set" in str(exc):
            raise LakeError(f"{loc.url}: no DuckLake warehouse here yet: give --data-path DIR (or "
                            "$WARDWATCH_DATA_PATH) to create one") from None
        raise LakeError(f"{loc.url}: cannot open the DuckLake warehouse: {_first_line(exc)}") from None
    except BaseException:
        con.close()
        raise


def s3_secret(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB's S3 settings for an ``s3://`` data path from the environment: the AWS credentials
    (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN`` / ``AWS_REGION``) and, for
    an S3-compatible store, its endpoint (``$WARDWATCH_S3_ENDPOINT`` or ``$AWS_ENDPOINT_URL``, e.g.
    ``http://127.0.0.1:9000``: path-style URLs, TLS as the scheme says)."""
    from urllib.parse import urlsplit

    opts = {"KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID"), "SECRET": os.environ.get("AWS_SECRET_ACCESS_KEY"),
            "SESSION_TOKEN": os.environ.get("AWS_SESSION_TOKEN"),
            "REGION": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")}
    endpoint = os.environ.get("WARDWATCH_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else "https://" + endpoint)
        opts.update({"ENDPOINT": parts.netloc, "URL_STYLE": "path", "USE_SSL": parts.scheme == "https"})
    given = {k: v for k, v in opts.items() if v is not None and v != ""}
    if not given:
        return  # DuckDB's defaults (no credentials: public buckets only)
    body = ", ".join(f"{k} {str(v).lower() if isinstance(v, bool) else _quote(v)}" for k, v in given.items())
    con.execute(f"CREATE OR REPLACE SECRET wardwatch_s3 (TYPE s3, {body})")


def _quote(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def blob_root(con: duckdb.DuckDBPyConnection, loc: LakeLocation) -> str:
    """``<data path>/blobs/``: the data path given, else the one the catalog was created with."""
    data_path = loc.data_path or _catalog_data_path(con)
    return data_path.rstrip("/") + "/blobs/"


def _catalog_data_path(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(f"SELECT value FROM __ducklake_metadata_{ALIAS}.public.ducklake_metadata "
                      "WHERE key = 'data_path'").fetchone()
    if not row or not row[0]:
        raise LakeError("the DuckLake catalog names no data path: give --data-path")
    return str(row[0])


_INSTANCES: dict[tuple[int, str, str | None], tuple[duckdb.DuckDBPyConnection, str]] = {}
_GUARD = threading.Lock()


def instance(loc: LakeLocation) -> tuple[duckdb.DuckDBPyConnection, str]:
    """This process's DuckDB instance for ``loc`` and its blob root (opened on first use; a forked
    child opens its own)."""
    key = (os.getpid(), loc.url, loc.data_path)
    with _GUARD:
        found = _INSTANCES.get(key)
        if found is None:
            con = open_lake(loc)
            found = _INSTANCES[key] = (con, blob_root(con, loc))
        return found


def close_instances(loc: LakeLocation | None = None) -> None:
    with _GUARD:
        for key in list(_INSTANCES):
            if key[0] == os.getpid() and (loc is None or key[1:] == (loc.url, loc.data_path)):
                con, _ = _INSTANCES.pop(key)
                con.close()


def prepare_cursor(cur: duckdb.DuckDBPyConnection, root: str) -> duckdb.DuckDBPyConnection:
    cur.execute(f"USE {ALIAS}")
    cur.execute(f"SET VARIABLE {BLOB_VARIABLE} = ?", [root])
    return cur


def lock_key(loc: LakeLocation) -> int:
    """The advisory-lock key of a warehouse (one per catalog database; signed 64-bit)."""
    digest = hashlib.sha256(b"wardwatch-writer:" + loc.dsn.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def writer_lock(inst: duckdb.DuckDBPyConnection, loc: LakeLocation, timeout: float) -> Iterator[None]:
    """Hold the warehouse's writer lock (a Postgres advisory transaction lock in the catalog database,
    on its own cursor and Postgres transaction) for the body; waits with backoff up to ``timeout``."""
    cur = inst.cursor()
    sql = f"SELECT * FROM postgres_query('{CATALOG_ALIAS}', 'SELECT pg_try_advisory_xact_lock({lock_key(loc)})')"
    deadline = time.monotonic() + timeout
    delay = 0.01
    try:
        while True:
            cur.execute("BEGIN TRANSACTION")
            try:
                got = cur.execute(sql).fetchone()[0]
            except duckdb.Error as exc:
                cur.execute("ROLLBACK")
                raise LakeError(f"{loc.url}: cannot take the writer lock: {_first_line(exc)}") from None
            if got:
                break
            cur.execute("ROLLBACK")
            if time.monotonic() > deadline:
                raise LakeError(f"{loc.url}: warehouse is locked by another writer (waited {timeout:.0f}s)")
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)
        try:
            yield
        finally:
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")  # ends the Postgres transaction: the lock is released
    finally:
        cur.close()


def is_conflict(exc: BaseException) -> bool:
    text = str(exc)
    return "Transaction conflict" in text or "conflict" in text.lower() and "DuckLake" in text


def default_home(loc: LakeLocation) -> Path:
    """Where this machine keeps its staging, locks, logs and reports for a lake: ``$WARDWATCH_LAKE_HOME``,
    else ``<data path>/local/<host>/`` for a local data path, else ``~/.cache/wardwatch/<hash>/``."""
    env = os.environ.get("WARDWATCH_LAKE_HOME")
    if env:
        return Path(env)
    host = re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "host"
    if loc.data_path and not loc.remote:
        return Path(loc.data_path) / "local" / host
    digest = hashlib.sha256(loc.url.encode()).hexdigest()[:12]
    return Path.home() / ".cache" / "wardwatch" / f"lake-{digest}"


POINTER_NAME = "warehouse.lake.json"


def write_pointer(home: Path, loc: LakeLocation) -> Path:
    """``<home>/warehouse.lake.json``: the lake's URL and data path (mode 0600: the URL may hold a
    password), written atomically when missing or different. ``Warehouse(<that path>)`` opens the lake."""
    import json

    path = Path(home) / POINTER_NAME
    text = json.dumps({"url": loc.url, "data_path": loc.data_path}, indent=1) + "\n"
    try:
        if path.read_text(encoding="utf-8") == text:
            return path
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


def read_pointer(location: object) -> tuple[str, str | None, Path] | None:
    """(url, data path, home) when ``location`` is a lake's pointer file, else None."""
    import json

    if not str(location).endswith(POINTER_NAME):
        return None
    path = Path(str(location))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return str(data["url"]), data.get("data_path"), path.parent
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LakeError(f"{path}: not a readable warehouse pointer ({exc})") from None


# --- the schema on DuckLake ---------------------------------------------------------------------------

_INDEX = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\b", re.I)
_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?\"?(\w+)\"?\s*\(", re.I)
_TABLE_KEY = re.compile(r",\s*(?:CONSTRAINT\s+\w+\s+)?(PRIMARY\s+KEY|UNIQUE)\s*\(([^)]*)\)", re.I)
_COLUMN_PK = re.compile(r"\bPRIMARY\s+KEY\b", re.I)
_COLUMN_UNIQUE = re.compile(r"\s+UNIQUE\b(?!\s*\()", re.I)


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def lake_statement(stmt: str, keys: dict[str, list[tuple[str, ...]]] | None = None) -> str | None:
    """One statement for DuckLake: None for an index; keys and unique constraints dropped from a
    CREATE TABLE (recorded in ``keys``: table -> column tuples); LAKE_DROPPED_COLUMNS left out."""
    if _INDEX.match(_strip_comments(stmt)):
        if keys is not None:
            m = re.search(r"UNIQUE\s+INDEX\s+\w+\s+ON\s+\"?(\w+)\"?\s*\(([^)]*)\)", stmt, re.I)
            if m:
                keys.setdefault(m.group(1), []).append(tuple(c.strip().strip('"') for c in m.group(2).split(",")))
        return None
    text = _strip_comments(stmt)
    m = _CREATE_TABLE.match(text)
    if not m:
        return stmt
    table = m.group(2)
    body_start = m.end()
    body_end = text.rstrip().rstrip(";").rstrip().rfind(")")
    head, body, tail = text[:body_start], text[body_start:body_end], text[body_end:]
    found: list[tuple[str, ...]] = []
    for km in _TABLE_KEY.finditer(body):
        found.append(tuple(c.strip().strip('"') for c in km.group(2).split(",")))
    body = _TABLE_KEY.sub("", body)
    columns = _split_columns(body)
    out = []
    dropped = {c.lower() for c in LAKE_DROPPED_COLUMNS.get(table, ())}
    for col in columns:
        name = col.strip().split(None, 1)[0].strip('"') if col.strip() else ""
        if name.lower() in dropped:
            continue
        if _COLUMN_PK.search(col):
            found.append((name,))
            col = _COLUMN_PK.sub("NOT NULL" if not re.search(r"\bNOT\s+NULL\b", col, re.I) else "", col)
        if _COLUMN_UNIQUE.search(col):
            found.append((name,))
            col = _COLUMN_UNIQUE.sub("", col)
        out.append(col.rstrip())
    if keys is not None and found:
        keys.setdefault(table, []).extend(found)
    return head + ",".join(out) + "\n" + tail


def _split_columns(body: str) -> list[str]:
    """Split a column list at top-level commas (not inside parentheses or quotes)."""
    parts, depth, quote, cur = [], 0, "", []
    for ch in body:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur))
    return parts


def lake_sql(sql: str, keys: dict[str, list[tuple[str, ...]]] | None = None) -> str:
    """A migration rewritten for DuckLake (see :func:`lake_statement`)."""
    out = []
    for st in duckdb.extract_statements(sql):
        new = lake_statement(st.query, keys)
        if new is not None and new.strip().rstrip(";").strip():
            out.append(new.strip().rstrip(";"))
    return ";\n".join(out) + (";\n" if out else "")
