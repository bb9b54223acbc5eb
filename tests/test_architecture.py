"""The layout's contracts: the import-linter contracts hold, and no two project modules import each
other, directly or through others — imports inside functions counted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("wardwatch", "flows", "spiders", "pipelines", "warehouse", "diffs", "extractors")


def import_graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), package __init__ edges to their
    own submodules excluded (a package re-exporting its modules is not a cycle)."""
    def edges(module: str) -> set[str]:
        return {m for m in graph.find_modules_directly_imported_by(module)
                if not (m.startswith(module + ".") or module.startswith(m + "."))}

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10000)
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles_between_project_modules():
    assert cycles(import_graph()) == []


def test_a_cycle_would_be_found():
    graph = grimp.ImportGraph()
    for m in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(m)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    assert cycles(graph) == []
    graph.add_import(importer="p.c", imported="p.a")
    assert cycles(graph) == [["p.a", "p.b", "p.c"]]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_import_contracts_hold():
    out = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "0 broken" in out.stdout


def test_tests_run_offline():
    """conftest's guard: a real municipal host can be neither looked up nor connected to from a test."""
    import socket

    import pytest

    with pytest.raises(socket.gaierror, match="tests run offline"):
        socket.getaddrinfo("www.city.nerima.tokyo.jp", 443)
    with socket.socket() as s, pytest.raises(OSError, match="tests run offline"):
        s.connect(("192.0.2.1", 80))
    assert socket.getaddrinfo("127.0.0.1", 80)
