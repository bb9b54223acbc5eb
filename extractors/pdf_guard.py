"""Limits a PDF must fit before it is parsed, and the limited child process that parses it.

* :func:`check_streams` inflates every zlib (FlateDecode) stream of the file in bounded chunks,
  without keeping the output, and raises :class:`ExtractionError` ("pdf too large when
  decompressed: …") as soon as the total passes the budget — a 1 MB file holding 1 GiB of
  zeros is refused after reading ``limit`` bytes of output, not after allocating a gigabyte.
  A stream whose output is itself zlib data (a filter chain) is inflated again.
* :func:`run_limited` runs the parse in a child process whose address space is capped with
  ``RLIMIT_AS`` and which is killed when the wall-clock budget runs out: whatever pdfium or
  the layout code allocates on a hostile file, the stage's process is not the one that dies.

Pure functions of the bytes; no file I/O.
"""

from __future__ import annotations

import atexit
import itertools
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from extractors.model import ExtractionError

CHUNK = 1024 * 1024  # output inflated per step
MAX_CHAIN = 4  # nested zlib layers followed


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MiB"


def _chunks(data: memoryview, start: int, size: int = 64 * 1024) -> Iterator[memoryview]:
    """``data[start:]`` in growing slices (most streams are small; no copies)."""
    pos = start
    while pos < len(data):
        yield data[pos : pos + size]
        pos += size
        size = min(size * 4, CHUNK)


def _inflate(chunks: Iterator[Any]) -> Iterator[bytes]:
    """The output of the zlib stream fed by ``chunks``, at most CHUNK bytes at a time; ends at the
    end of the stream or at the first corrupt byte."""
    d = zlib.decompressobj()
    try:
        for buf in chunks:
            while buf:
                out = d.decompress(buf, CHUNK)
                if out:
                    yield out
                if d.eof:
                    return
                buf = d.unconsumed_tail
    except zlib.error:
        return


def _looks_zlib(head: bytes) -> bool:
    """A zlib header: deflate method, window <= 32 KB, check bits right (RFC 1950)."""
    return len(head) >= 2 and head[0] & 0x0F == 8 and head[0] >> 4 <= 7 and (head[0] << 8 | head[1]) % 31 == 0


def _inflated_size(chunks: Iterator[Any], remaining: int, depth: int = 0) -> int:
    """Size of what ``chunks`` inflate to (a filter chain followed), counting stops past ``remaining``."""
    out = _inflate(chunks)
    first = next(out, b"")
    if depth < MAX_CHAIN and _looks_zlib(first[:2]):
        inner = _inflated_size(itertools.chain([first], out), remaining, depth + 1)
        if inner:
            return inner
    total = len(first)
    for piece in out:
        total += len(piece)
        if total > remaining:
            break
    return total


def _stream_starts(body: bytes) -> Iterator[int]:
    """Offsets just after each ``stream`` keyword + EOL (not ``endstream``)."""
    pos = body.find(b"stream")
    while pos >= 0:
        after = pos + 6
        if pos < 3 or body[pos - 3 : pos] != b"end":
            if body[after : after + 2] == b"\r\n":
                yield after + 2
            elif body[after : after + 1] in (b"\n", b"\r"):
                yield after + 1
        pos = body.find(b"stream", after)


def decompressed_size(body: bytes, limit: int) -> int:
    """Total inflated size of the file's zlib streams, counting stops just past ``limit``."""
    total = 0
    view = memoryview(body)
    for start in _stream_starts(body):
        if not _looks_zlib(body[start : start + 2]):
            continue
        total += _inflated_size(_chunks(view, start), limit - total)
        if total > limit:
            break
    return total


def check_streams(body: bytes, limit: int) -> None:
    """Raise ExtractionError when the file's streams inflate past ``limit`` bytes."""
    if decompressed_size(body, limit) > limit:
        raise ExtractionError(f"pdf too large when decompressed: its streams inflate past the budget of "
                              f"{_mib(limit)} (WARDWATCH_EXTRACT_BYTES)")


# ---- the limited child processes -----------------------------------------------------------
# Plain ``python -m extractors.pdf_worker`` children, not multiprocessing: multiprocessing's
# spawn/forkserver children re-run the caller's ``__main__`` (a script without a main guard,
# ``python -`` on stdin) and fork is unsafe in the threaded runner. A worker serves one job at a
# time and is reused (its start costs ~0.3 s); one that failed, timed out or served MAX_JOBS
# jobs is killed. Workers are per process (a forked child never uses its parent's) and exit
# when their stdin closes, i.e. with this process.

MAX_JOBS = 50
MAX_IDLE = 4


class _Worker:
    def __init__(self, memory_bytes: int) -> None:
        import os
        import subprocess
        import sys

        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.memory_bytes = memory_bytes
        self.jobs = 0
        self.proc = subprocess.Popen([sys.executable, "-m", "extractors.pdf_worker", str(memory_bytes)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, cwd=root)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    def run(self, job: dict, body: bytes, kill_at: float) -> Any:
        """The job's result, or a string saying how the worker failed (then it is dead)."""
        import json
        import os
        import selectors

        self.jobs += 1
        header = json.dumps({**job, "size": len(body)}).encode() + b"\n"
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(header)
            self.proc.stdin.write(body)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._failure()
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks: list[bytes] = []
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                left = kill_at - time.monotonic()
                if left <= 0 or not sel.select(timeout=left):
                    self.kill()
                    return "timeout"
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return self._failure()
                chunks.append(chunk)
                if chunk.endswith(b"\n"):
                    break
        reply = json.loads(b"".join(chunks))
        if "error" in reply:
            self.kill()
            return reply["error"]
        return reply["ok"]

    def _failure(self) -> str:
        self.proc.wait()
        err = self.proc.stderr.read().decode("utf-8", "replace") if self.proc.stderr else ""
        self.kill()
        if "MemoryError" in err or "std::bad_alloc" in err or "Cannot allocate" in err:
            return "memory"
        if self.proc.returncode < 0:
            return f"signal {-self.proc.returncode}"
        last = err.strip().splitlines()[-1] if err.strip() else f"exit status {self.proc.returncode}"
        return f"crash {last[:200]}"


_idle: list[_Worker] = []
_idle_lock = threading.Lock()
_idle_pid = 0


def _take(memory_bytes: int) -> _Worker:
    import os

    global _idle_pid
    with _idle_lock:
        if _idle_pid != os.getpid():  # forked: the parent's workers are not ours
            _idle.clear()
            _idle_pid = os.getpid()
        for i, w in enumerate(_idle):
            if w.memory_bytes == memory_bytes and w.proc.poll() is None:
                return _idle.pop(i)
    return _Worker(memory_bytes)


def _give_back(worker: _Worker) -> None:
    with _idle_lock:
        if worker.jobs < MAX_JOBS and worker.proc.poll() is None and len(_idle) < MAX_IDLE:
            _idle.append(worker)
            return
    worker.kill()


def stop_workers() -> None:
    """Kill the idle parser workers (they also exit on their own when this process ends)."""
    with _idle_lock:
        workers = list(_idle)
        _idle.clear()
    for w in workers:
        w.kill()


atexit.register(stop_workers)


def run_limited(ranges: list[tuple[int, int]], body: bytes, *, deadline: float, memory_bytes: int,
                seconds: float) -> list[Any]:
    """``extractors.pdf._extract_range(body, a, b, deadline)`` for each range, each in a worker
    process capped at ``memory_bytes`` of address space, all killed ``seconds`` from now.

    Raises ExtractionError naming the limit that was hit; OSError when no worker can be started
    (the caller may then parse in-process).
    """
    from concurrent.futures import ThreadPoolExecutor

    kill_at = time.monotonic() + seconds
    workers = [_take(memory_bytes) for _ in ranges]
    outcomes: list[Any] = []
    try:
        if len(workers) == 1:
            outcomes = [workers[0].run({"start": ranges[0][0], "stop": ranges[0][1], "deadline": deadline},
                                       body, kill_at)]
        else:
            with ThreadPoolExecutor(max_workers=len(workers)) as threads:
                jobs = [threads.submit(w.run, {"start": a, "stop": b, "deadline": deadline}, body, kill_at)
                        for w, (a, b) in zip(workers, ranges)]
                outcomes = [job.result() for job in jobs]
    finally:
        for w in workers:
            if w.proc.poll() is None and len(outcomes) == len(workers):
                _give_back(w)
            else:
                w.kill()
    for outcome in outcomes:
        if isinstance(outcome, str):
            raise ExtractionError(_explain(outcome, memory_bytes, seconds))
    return outcomes


def _explain(outcome: str, memory_bytes: int, seconds: float) -> str:
    if outcome == "timeout":
        return f"pdf parse took longer than the time budget of {seconds:g} s (WARDWATCH_EXTRACT_SECONDS)"
    if outcome == "memory" or outcome in ("signal 6", "signal 9", "signal 11"):
        return (f"pdf too large when decompressed: parsing it needs more than the memory budget of "
                f"{_mib(memory_bytes)} (WARDWATCH_EXTRACT_MEMORY; parser {outcome})")
    if outcome.startswith("ExtractionError: "):
        return outcome.removeprefix("ExtractionError: ")
    return f"pdf parser failed: {outcome.removeprefix('crash ')}"
