"""`wardwatch extract FILE` (facts of one document) and `wardwatch reextract` (the stage over stored
versions) in this process."""

from __future__ import annotations

import json

import pytest

from tests.support.helpers import crawl_files, demo_site, main, q
from tests.support.registry import NERIMA

PAGE = demo_site("v1") / NERIMA.lstrip("/") / "syuurou.html"


def test_extract_prints_the_facts_of_a_file(capsys):
    assert main(["extract", str(PAGE), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"text": "上限4万円"' in out and "\\u4e0a" not in out  # Japanese printed as is, not \u-escaped
    facts = json.loads(out)
    (amount,) = [f for f in facts if f["kind"] == "amount"]
    assert {"kind": "amount", "value": 40000, "text": "上限4万円", "qualifier": "上限",
            "program": "ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)"}.items() <= amount.items()
    assert "+81359841319" in {f["value"] for f in facts if f["kind"] == "phone"}
    assert main(["extract", str(PAGE), "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert "上限4万円" in table and "+81359841319" in table
    assert table.splitlines()[-1] == f"({len(facts)} facts)"


def test_extract_a_pdf_and_a_missing_file(tmp_path, capsys):
    pdf = demo_site("v1") / NERIMA.lstrip("/") / "documents" / "hitorioya_guide.pdf"
    assert main(["extract", str(pdf), "--format", "json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert {f["page"] for f in facts} == {1, 2} and 46690 in {f["value"] for f in facts if f["kind"] == "amount"}
    assert main(["extract", str(tmp_path / "nope.html")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("wardwatch extract: ") and "Traceback" not in err


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_reextract(memory_warehouse, capsys):
    crawl_files(memory_warehouse, demo_site("v1"))  # stored, not extracted yet
    assert main(["reextract", "--format", "json"], warehouse=memory_warehouse) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["extracted"], first["errors"]) == (21, 0)  # 7 demo pages + 14 stand-ins they link to
    assert main(["reextract", "--format", "json"], warehouse=memory_warehouse) == 0
    assert json.loads(capsys.readouterr().out)["extracted"] == 0  # nothing new
    assert main(["reextract", "--force", "--source", "demo-kita", "--format", "json"], warehouse=memory_warehouse) == 0
    assert json.loads(capsys.readouterr().out)["extracted"] == 10  # the 北区 page and its 9 linked pages
    assert q(memory_warehouse, "SELECT count(*) FROM extractions") == [(21,)]  # redone in place, same extractor version


def test_reextract_needs_a_warehouse(tmp_path, capsys):
    assert main(["reextract", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert capsys.readouterr().err == (f"wardwatch reextract: {tmp_path / 'none.duckdb'}: no warehouse here "
                                       "(run `wardwatch crawl` first)\n")


# ---------------------------------------------------------------- hostile targets (issue 15)

import http.server  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402


@pytest.mark.parametrize("kind", ["chardev", "fifo", "directory"])
def test_extract_refuses_what_is_not_a_regular_file(kind, tmp_path, capsys):
    target = {"chardev": "/dev/zero", "fifo": str(tmp_path / "fifo"), "directory": str(tmp_path)}[kind]
    if kind == "fifo":
        os.mkfifo(target)
    assert main(["extract", target]) == 2  # returns at once: a FIFO is opened non-blocking, never read
    label = {"chardev": "a character device", "fifo": "a FIFO", "directory": "a directory"}[kind]
    assert capsys.readouterr().err == f"wardwatch extract: {target}: is {label}, not a regular file\n"


def test_extract_refuses_a_bad_budget_setting(monkeypatch, capsys):
    monkeypatch.setenv("WARDWATCH_EXTRACT_SECONDS", "inf")
    assert main(["extract", str(PAGE)]) == 2
    assert capsys.readouterr().err == ("wardwatch extract: WARDWATCH_EXTRACT_SECONDS='inf': must be a positive "
                                       "finite number\n")


def test_extract_reports_a_partial_extraction_on_stderr(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WARDWATCH_EXTRACT_FACTS", "2")
    assert main(["extract", str(PAGE), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert 1 <= len(json.loads(out)) <= 2
    assert err.startswith(f"warning: {PAGE}: partial: fact budget of 2 facts reached at line ")


class _Redirector(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        port = self.server.server_address[1]
        targets = {"/to-127-0-0-2": f"http://127.0.0.2:{port}/page", "/to-v6": f"http://[::1]:{port}/page",
                   "/to-localhost": f"http://localhost:{port}/page", "/to-file": "file:///etc/passwd",
                   "/same-host": "/page"}
        if self.path in targets:
            self.send_response(302)
            self.send_header("Location", targets[self.path])
            self.end_headers()
            return
        body = "<html><body><main><p>上限4万円</p></main></body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def redirector():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_extract_url_applies_the_crawlers_address_guard_to_every_redirect(redirector, capsys):
    allow = ["--allow-host", "127.0.0.1"]
    assert main(["extract", f"{redirector}/same-host", "--format", "json", *allow]) == 0
    assert [f["value"] for f in json.loads(capsys.readouterr().out)] == [40000]
    port = redirector.rsplit(":", 1)[1]
    for path, reason in (("/to-127-0-0-2", f"redirect to http://127.0.0.2:{port}/page refused: 127.0.0.2 is a "
                                           "loopback address"),
                         ("/to-v6", f"redirect to http://[::1]:{port}/page refused: ::1 is a loopback address"),
                         ("/to-localhost", "localhost resolves to 127.0.0.1, a loopback address"),
                         ("/to-file", "redirect to file:///etc/passwd refused: file scheme is not http(s)")):
        assert main(["extract", f"{redirector}{path}", *allow]) == 1
        out, err = capsys.readouterr()
        assert out == "" and err == f"wardwatch extract: {redirector}{path}: refused: {reason}\n", path
    assert main(["extract", f"{redirector}/same-host"]) == 2  # the first host itself needs the explicit allow
    assert capsys.readouterr().err == (f"wardwatch extract: {redirector}/same-host: refused: 127.0.0.1 is a loopback "
                                       "address (--allow-host HOST to fetch it anyway)\n")
