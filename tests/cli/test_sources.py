"""`wardwatch sources list | check | add` against the demo site on loopback (in-process CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.helpers import free_port, main
from tests.support.registry import NERIMA, registry_text
from wardwatch.demo.server import DEMO_CONFIG, SiteServer

SITE = Path(__file__).resolve().parents[2] / "wardwatch" / "demo" / "site" / "v1"

REGISTRY_HEAD = """# our registry — this comment must survive `sources add`
# ---------- 練馬区 ----------
"""


@pytest.fixture(scope="module")
def site():
    with SiteServer(SITE, DEMO_CONFIG) as server:
        yield server


def test_check_reports_robots_first_page_and_followed_links_without_a_warehouse(site, tmp_path, capsys,
                                                                              monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    reg = tmp_path / "s.toml"
    reg.write_text(registry_text(site.base), encoding="utf-8")
    assert main(["sources", "check", "--sources", str(reg), "--format", "json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    (start,) = result["start_urls"]
    assert result["ok"] and start["status"] == 200 and start["media_type"] == "text/html"
    assert start["robots"] in ("allowed", "absent")
    assert site.url(f"{NERIMA}/syuurou.html") in start["follow"]
    assert all(u.startswith(site.url(NERIMA)) or "/nerima/private/" in u for u in start["follow"])
    assert any(u.endswith(".pdf") for u in start["documents"])
    assert not (tmp_path / "data").exists()  # nothing written


def test_check_names_the_problem_and_fails(tmp_path, capsys) -> None:
    reg = tmp_path / "s.toml"
    reg.write_text(registry_text(f"http://127.0.0.1:{free_port()}"), encoding="utf-8")
    assert main(["sources", "check", "--sources", str(reg), "--timeout", "2"]) == 1
    out, err = capsys.readouterr()
    assert "problem" in out and "fetch failed" in out and "Connection refused" in out
    assert err.strip() == "wardwatch sources: 1 of 1 source(s) have problems: fixture-nerima"


def test_add_validates_and_keeps_comments(tmp_path, capsys) -> None:
    reg = tmp_path / "s.toml"
    reg.write_text(REGISTRY_HEAD + registry_text("http://127.0.0.1:8000"), encoding="utf-8")
    argv = ["sources", "add", "--sources", str(reg), "--id", "kita-hitorioya", "--municipality", "北区",
            "--code", "131172", "--start-url", "https://kita.example.lg.jp/kitahapi/mokuteki/hitori.html",
            "--follow", "^/kitahapi/mokuteki/"]
    assert main(argv) == 0
    text = reg.read_text(encoding="utf-8")
    assert text.startswith(REGISTRY_HEAD)
    assert main(["sources", "list", "--sources", str(reg), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out.split("\n", 1)[1])  # after the "added source" line
    assert [s["source_id"] for s in listed] == ["fixture-nerima", "kita-hitorioya"]
    assert listed[1]["allowed_domains"] == ["kita.example.lg.jp"] and listed[1]["municipality"] == "北区"


@pytest.mark.parametrize(("extra", "message"), [
    (["--code", "131173"], "wrong check digit"),
    (["--id", "fixture-nerima"], "duplicate id"),
    (["--follow", "(a+)+$"], "follow"),
])
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_add_refuses_an_invalid_source_and_leaves_the_file_alone(tmp_path, capsys, extra, message) -> None:
    reg = tmp_path / "s.toml"
    before = REGISTRY_HEAD + registry_text("http://127.0.0.1:8000")
    reg.write_text(before, encoding="utf-8")
    argv = ["sources", "add", "--sources", str(reg), "--id", "kita-hitorioya", "--municipality", "北区",
            "--code", "131172", "--start-url", "https://kita.example.lg.jp/a.html"]
    for i in range(0, len(extra), 2):
        if extra[i] in argv:
            argv[argv.index(extra[i]) + 1] = extra[i + 1]
        else:
            argv += extra[i:i + 2]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and str(reg) in err and len(err.strip().splitlines()) == 1
    assert reg.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.toml"]  # no temp file left
