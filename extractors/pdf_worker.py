"""Worker process that parses PDF pages under a memory cap (started by ``extractors.pdf_guard``).

``python -m extractors.pdf_worker MEMORY_BYTES``: the address-space cap is set first; then, per
job, stdin carries one JSON line ``{"start", "stop", "deadline", "size"}`` and ``size`` bytes of
PDF, and stdout gets one JSON line, ``{"ok": <extractors.pdf._extract_range result>}`` or
``{"error": "..."}``. A MemoryError ends the process (status 1, "MemoryError" on stderr);
end of stdin ends it normally.
"""

from __future__ import annotations

import json
import resource
import sys


def _cap(memory: int) -> None:
    if memory > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def main(argv: list[str]) -> int:
    _cap(int(argv[0]) if argv else 0)
    from extractors.model import ExtractionError
    from extractors.pdf import _extract_range

    stdin, stdout = sys.stdin.buffer, sys.stdout
    while True:
        line = stdin.readline()
        if not line:
            return 0
        header = json.loads(line)
        body = stdin.read(header["size"])
        try:
            reply = {"ok": _extract_range(body, header["start"], header["stop"], header.get("deadline"))}
        except MemoryError:
            sys.stderr.write("MemoryError\n")
            return 1
        except ExtractionError as exc:
            reply = {"error": f"ExtractionError: {exc}"}
        except Exception as exc:  # reported to the parent, which kills this worker
            reply = {"error": f"crash {type(exc).__name__}: {exc}"[:300]}
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
