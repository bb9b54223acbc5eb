"""spiders.settings: a crawler built from our settings runs none of Scrapy's network-facing extensions
(Scrapy 2.19 enables RemoteControl — an HTTP server on 127.0.0.1 executing the Python it is sent, announced by a
token file in the user's state directory — and the telnet console by default) and only the http(s) download
handlers; a real crawl writes no job/token file and logs no server."""

from __future__ import annotations

import re

import pytest
from scrapy.utils.test import get_crawler

from spiders.municipal import MunicipalSpider
from spiders.settings import BASE, NETWORK_EXTENSIONS, for_source
from tests.support.crawler import nerima

# get_crawler() itself turns these two off: put Scrapy's own defaults back, so only our settings can disable them
SCRAPY_DEFAULTS = {"REMOTE_CONTROL_ENABLED": True, "TELNETCONSOLE_ENABLED": True}


def enabled_extensions(settings: dict) -> set[str]:
    crawler = get_crawler(MunicipalSpider, {**SCRAPY_DEFAULTS, **settings})
    return {f"{type(m).__module__}.{type(m).__name__}" for m in crawler.extensions.middlewares}


def test_scrapy_alone_would_run_remote_control():
    """The control: without our settings the extension is on (so the next test can fail)."""
    assert "scrapy.extensions.remote_control.RemoteControl" in enabled_extensions({})


@pytest.mark.parametrize("which", ["BASE", "for_source"])
def test_our_crawlers_run_no_network_facing_extension(tmp_path, which):
    settings = BASE if which == "BASE" else for_source(nerima(), db_path=tmp_path / "w.duckdb",
                                                       staging=tmp_path / "stage", run_id="r")
    enabled = enabled_extensions(settings)
    assert not enabled & set(NETWORK_EXTENSIONS), enabled
    page_cap = {"scrapy.extensions.closespider.CloseSpider"} if which == "for_source" else set()  # max_pages
    assert enabled == {"scrapy.extensions.corestats.CoreStats", "scrapy.extensions.logcount.LogCount",
                       "scrapy.extensions.memusage.MemoryUsage", "scrapy.extensions.logstats.LogStats",
                       "scrapy.extensions.throttle.AutoThrottle", "spiders.progress.ProgressExtension", *page_cap}
    crawler = get_crawler(MunicipalSpider, {**SCRAPY_DEFAULTS, **settings})
    assert crawler.settings.getbool("REMOTE_CONTROL_ENABLED") is False
    assert crawler.settings.getbool("TELNETCONSOLE_ENABLED") is False
    assert crawler.settings.getlist("MEMUSAGE_NOTIFY_MAIL") == []
    handlers = {k for k, v in crawler.settings.getwithbase("DOWNLOAD_HANDLERS").items() if v}
    assert handlers == {"http", "https"}  # no file:, data:, s3:, ftp: fetching, whatever a page links to


@pytest.mark.slow
def test_a_real_crawl_writes_no_token_file(registry, tmp_path):
    """`wardwatch crawl` in a child process whose user state directory is tmp_path/state: nothing is written there
    and the crawl log names no remote-control or telnet server."""
    from tests.support.helpers import wardwatch

    state, home = tmp_path / "state", tmp_path / "home"
    home.mkdir()
    db = tmp_path / "data" / "w.duckdb"
    out = wardwatch("crawl", "--sources", str(registry), "--db", str(db), "--format", "json",
                    env={"XDG_STATE_HOME": str(state), "HOME": str(home)})
    assert out.returncode == 0, out.stderr
    assert not state.exists() and list(home.iterdir()) == []
    (log,) = (db.parent / "logs").glob("crawl-*.log")
    text = log.read_text(encoding="utf-8")
    listed = re.search(r"Enabled extensions:\n(\[.*?\])", text, re.S)
    assert listed and "ProgressExtension" in listed.group(1)
    assert "RemoteControl" not in listed.group(1) and "TelnetConsole" not in listed.group(1)
    assert "Remote control HTTP server" not in text and "Telnet console listening" not in text
    assert '"status": "ok"' in out.stdout
