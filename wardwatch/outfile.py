"""Output files (reports, exports) written without following symlinks: the ONE way wardwatch writes
a file the user named (`report -o FILE`, `export DIR`) or one the runner puts beside the warehouse.

Each file is written to a fresh temporary file in the target's own folder (created with O_EXCL:
a link planted there is never opened) and renamed over the target with ``os.replace``, which
replaces a directory entry and never writes through a link. A symbolic link (or anything but a
regular file) already at the target is refused with :class:`OutputRefused`, so a pre-placed link
cannot make wardwatch overwrite, or appear to overwrite, another file. Readers of the target see
the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path


class OutputRefused(ValueError):
    """The output path is a symlink or not a regular file (the message names it and says what to do)."""


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_MODE = _file_mode()


def check_target(path: str | Path) -> Path:
    """``path`` when it may be (over)written: absent, or a regular file; OutputRefused otherwise."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # absent (writing it may still fail: reported then)
        return path
    if stat.S_ISLNK(st.st_mode):
        raise OutputRefused(f"{path}: is a symbolic link; refusing to write through it "
                            "(remove the link or choose another file)")
    if not stat.S_ISREG(st.st_mode):
        raise OutputRefused(f"{path}: is not a regular file; refusing to replace it")
    return path


@contextlib.contextmanager
def output_path(target: str | Path) -> Iterator[Path]:
    """A temporary path beside ``target`` to write to; on success it replaces ``target``.

    For writers that need a path (DuckDB's COPY): the file is created empty (O_EXCL, mode 0600)
    and may be overwritten by the caller; it is removed when the body fails."""
    target = check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        place(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def place(tmp: str | Path, target: str | Path) -> None:
    """Move a finished temporary file (in the target's folder) over ``target``, refusing a symlink there."""
    check_target(target)
    os.chmod(tmp, _MODE)
    os.replace(tmp, target)


def write_output(target: str | Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``target`` atomically (temp file + rename), refusing a symlink at the target."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    with output_path(target) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(target)
