"""The command line: help everywhere, exit codes of the real entry point, no tracebacks, and the
commands that hand the warehouse to child processes refusing an in-memory one.
(Crawls through the CLI: tests/e2e/test_cli_crawl.py.)"""

from __future__ import annotations

import pytest

from tests.support.helpers import main, wardwatch
from wardwatch.cli import build_parser
from warehouse.db import Warehouse

COMMANDS = {"crawl", "migrate", "run", "schedule", "demo", "extract", "reextract", "changes", "flags", "query", "export",
            "diff", "import-dataset", "report", "review", "doctor", "sources", "migrate-warehouse", "programs", "worker"}


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("wardwatch ")


def test_every_command_has_help(capsys):
    names = subcommands()
    assert set(names) == COMMANDS
    for name in names:
        assert main([name, "--help"]) == 0, name
        out = capsys.readouterr().out
        assert out.startswith("usage: wardwatch " + name), name
        assert "-h, --help" in out


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_bad_usage_exits_2():
    """The real entry point (`python -m wardwatch`): argparse's exit code and message, no traceback."""
    bad_format = wardwatch("crawl", "--format", "xml")
    assert bad_format.returncode == 2 and "invalid choice: 'xml'" in bad_format.stderr
    unknown = wardwatch("no-such-command")
    assert unknown.returncode == 2 and "invalid choice: 'no-such-command'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_bad_registry_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text('[[source]]\nid = "x"\n', encoding="utf-8")
    out = wardwatch("crawl", "--sources", str(bad), "--db", str(tmp_path / "w.duckdb"))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert str(bad) in out.stderr and "'municipality'" in out.stderr
    assert not (tmp_path / "w.duckdb").exists()  # nothing was created for a registry that does not load


@pytest.mark.parametrize("argv", [["crawl"], ["run", "--no-prefect"], ["run"], ["schedule"]])
def test_commands_handing_the_warehouse_to_child_processes_refuse_an_in_memory_one(argv, tmp_path, capsys):
    from tests.support.registry import registry_text

    reg = tmp_path / "s.toml"
    reg.write_text(registry_text("http://127.0.0.1:9"), encoding="utf-8")
    assert main([*argv, "--sources", str(reg)], warehouse=Warehouse(":memory:")) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"wardwatch {argv[0]}: this command needs a warehouse file (--db PATH), not an in-memory warehouse")


def test_schedule_list_works_without_any_warehouse(tmp_path, capsys):
    from tests.support.registry import registry_text

    reg = tmp_path / "s.toml"
    reg.write_text(registry_text("http://127.0.0.1:9"), encoding="utf-8")
    assert main(["schedule", "--sources", str(reg), "--list"], warehouse=Warehouse(":memory:")) == 0
    assert "fixture-nerima" in capsys.readouterr().out


def test_migrate_an_in_memory_warehouse(memory_warehouse, capsys):
    assert main(["migrate"], warehouse=memory_warehouse) == 0
    assert capsys.readouterr().out.startswith(":memory:: applied ")
    assert main(["migrate"], warehouse=memory_warehouse) == 0
    assert capsys.readouterr().out == ":memory:: applied 0 migration(s)\n"
