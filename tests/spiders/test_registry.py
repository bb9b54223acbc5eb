"""The source registry: the shipped file loads; every kind of mistake is named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from spiders.registry import RegistryError, load_sources, select
from tests.support.helpers import ROOT

GOOD = '''
[[source]]
id = "nerima-hitorioya"
municipality = "練馬区"
code = "131202"
kind = "official"
start_urls = ["https://www.city.nerima.tokyo.jp/kurashi/jinken/hitorioya/index.html"]
allowed_domains = ["www.city.nerima.tokyo.jp"]
follow = ["^/kurashi/jinken/hitorioya/"]
max_depth = 2
schedule = "0 6 * * *"
delay_seconds = 3
max_pages = 500
'''


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "sources.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_registry_has_the_real_official_and_secondary_pages():
    sources = load_sources(ROOT / "sources.toml")
    by_id = {s.id: s for s in sources}
    assert "https://www.city.nerima.tokyo.jp/kurashi/jinken/hitorioya/syuurou.html" in by_id["nerima-hitorioya"].start_urls
    assert by_id["kita-hitorioya"].code == "131172"
    assert {s.municipality for s in sources} >= {"練馬区", "北区", "渋谷区", "足立区", "荒川区", "港区", "墨田区", "新宿区"}
    secondary = [s for s in sources if s.kind == "secondary"]
    assert {s.start_urls[0] for s in secondary} == {
        "https://press.mamamoi.jp/225813", "https://press.mamamoi.jp/225960", "https://press.mamamoi.jp/225691"}
    assert all(s.delay_seconds >= 3 for s in sources)  # polite by default on real servers


def test_good_entry_round_trips(tmp_path):
    (s,) = load_sources(write(tmp_path, GOOD))
    assert s.max_depth == 2 and s.delay_seconds == 3.0 and s.max_pages == 500
    assert s.follows("/kurashi/jinken/hitorioya/syuurou.html")
    assert not s.follows("/kosodate/index.html")


@pytest.mark.parametrize(
    "edit, field, why",
    [
        (lambda t: t.replace('max_pages = 500', 'max_pagez = 500'), "max_pagez", "unknown key"),
        (lambda t: t.replace('kind = "official"\n', ''), "kind", "missing"),
        (lambda t: t + t, "id", "duplicate id"),
        (lambda t: t.replace('"^/kurashi/jinken/hitorioya/"', '"^/kurashi/(jinken"'), "follow", "invalid regex"),
        (lambda t: t.replace('"0 6 * * *"', '"0 25 * * *"'), "schedule", "invalid cron"),
        (lambda t: t.replace('"131202"', '"131203"'), "code", "check digit"),
        (lambda t: t.replace('kind = "official"', 'kind = "blog"'), "kind", "must be one of"),
        (lambda t: t.replace('allowed_domains = ["www.city.nerima.tokyo.jp"]', 'allowed_domains = ["example.org"]'),
         "start_urls", "outside allowed_domains"),
        (lambda t: t.replace('max_depth = 2', 'max_depth = -1'), "max_depth", "non-negative"),
    ],
)
def test_bad_registry_names_file_source_and_field(tmp_path, edit, field, why):
    path = write(tmp_path, edit(GOOD))
    with pytest.raises(RegistryError) as err:
        load_sources(path)
    message = str(err.value)
    assert str(path) in message
    assert "nerima-hitorioya" in message
    assert f"'{field}'" in message
    assert why in message


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(RegistryError, match="not valid TOML"):
        load_sources(write(tmp_path, "[[source]\nid="))
    with pytest.raises(RegistryError, match="not found"):
        load_sources(tmp_path / "nope.toml")


def test_select_unknown_id(tmp_path):
    sources = load_sources(write(tmp_path, GOOD))
    with pytest.raises(RegistryError, match="unknown source id"):
        select(sources, ["kita"])


@pytest.mark.parametrize(
    "edit, field, why",
    [
        (lambda t: t.replace("delay_seconds = 3", "delay_seconds = inf"), "delay_seconds", "from 0 to 3600, got inf"),
        (lambda t: t.replace("delay_seconds = 3", "delay_seconds = 1e300"), "delay_seconds", "from 0 to 3600, got 1e+300"),
        (lambda t: t.replace("delay_seconds = 3", "delay_seconds = nan"), "delay_seconds", "from 0 to 3600, got nan"),
        (lambda t: t.replace("delay_seconds = 3", "delay_seconds = -1"), "delay_seconds", "from 0 to 3600, got -1"),
        (lambda t: t.replace("delay_seconds = 3", "delay_seconds = 3601"), "delay_seconds", "from 0 to 3600"),
        (lambda t: t.replace("max_pages = 500", 'max_pages = 500\nname = 42'), "name", "must be a string, got int"),
        (lambda t: t.replace("max_pages = 500", 'max_pages = 500\nnotes = ["a"]'), "notes", "must be a string, got list"),
        (lambda t: t.replace("index.html", "index.html").replace("https://www.city.nerima.tokyo.jp/kurashi",
                                                                   "https://www.city.nerima.tokyo.jp:99999/kurashi"),
         "start_urls", "Port out of range"),
        (lambda t: t.replace('"^/kurashi/jinken/hitorioya/"', '"(a|aa)+$"'), "follow", "backtracks catastrophically"),
        (lambda t: t.replace('"^/kurashi/jinken/hitorioya/"', '"(a+)+$"'), "follow", "backtracks catastrophically"),
    ],
)
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_hostile_registry_values_are_refused(tmp_path, edit, field, why):
    path = write(tmp_path, edit(GOOD))
    with pytest.raises(RegistryError) as err:
        load_sources(path)
    message = str(err.value)
    assert message.startswith(f"{path}: source 'nerima-hitorioya': field '{field}': ") and why in message
    assert "\n" not in message


@pytest.mark.parametrize("sid", ["abc\\n", "abc\\u202e", "../etc", "a.b", "Abc", "a" * 65, "日本", "a b", "-abc"])
def test_ids_are_file_name_safe(tmp_path, sid):
    """Ids name lock and staging files: 1-64 of [a-z0-9_-], no trailing newline, no dots, no controls."""
    path = write(tmp_path, GOOD.replace('id = "nerima-hitorioya"', f'id = "{sid}"'))
    with pytest.raises(RegistryError) as err:
        load_sources(path)
    assert "field 'id': must be 1-64 lower-case ASCII letters" in str(err.value)
    assert "\n" not in str(err.value) and "\u202e" not in str(err.value)


@pytest.mark.parametrize("url, why", [
    ("http://[::1/", "is not a valid URL (Invalid IPv6 URL)"),
    ("http://[::1]:0/", "has port 0"),
    ("http://[::1]:http/", "is not a valid URL"),
    ("http://[::1]/a b", "contains spaces or control characters"),
])
def test_malformed_start_urls_are_named(tmp_path, url, why):
    text = GOOD.replace("https://www.city.nerima.tokyo.jp/kurashi/jinken/hitorioya/index.html", url)
    text = text.replace('allowed_domains = ["www.city.nerima.tokyo.jp"]', 'allowed_domains = ["::1"]')
    with pytest.raises(RegistryError) as err:
        load_sources(write(tmp_path, text))
    assert f"field 'start_urls': {url!r} {why}" in str(err.value)


def test_follow_patterns_are_bounded_in_time(tmp_path):
    """A pattern that is only slow on long paths is still cut off at match time (counts as no match)."""
    from spiders.registry import MATCH_TIMEOUT_S, follow_pattern

    (s,) = load_sources(write(tmp_path, GOOD))
    pattern = follow_pattern(r"(x+x+)+y")
    assert pattern.search("/" + "x" * 5000) is None  # catastrophic in re; here it gives up after MATCH_TIMEOUT_S
    assert pattern.search("/xxy") is not None and MATCH_TIMEOUT_S <= 0.1
    assert s.follows("/kurashi/jinken/hitorioya/a.html") and not s.follows("/" + "a" * 2000)


def test_boundary_values_are_accepted(tmp_path):
    text = GOOD.replace("delay_seconds = 3", "delay_seconds = 3600").replace("max_pages = 500",
                                                                             'max_pages = 500\nname = "練馬区"\nnotes = ""')
    (s,) = load_sources(write(tmp_path, text.replace('id = "nerima-hitorioya"', f'id = "{"a" * 64}"')))
    assert (s.delay_seconds, s.name, s.notes, s.id) == (3600.0, "練馬区", "", "a" * 64)
    (s,) = load_sources(write(tmp_path, GOOD.replace("delay_seconds = 3", "delay_seconds = 0")))
    assert s.delay_seconds == 0.0


def test_unreadable_registry_files_are_one_line(tmp_path):
    import os

    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # nobody writes: reading it would block forever
    deep = write(tmp_path, "a = " + "[" * 5000 + "]" * 5000)
    cases = {fifo: "not a regular file (a FIFO, device or directory cannot be a registry)",
             tmp_path: "not a regular file (a FIFO, device or directory cannot be a registry)",
             Path("/dev/zero"): "not a regular file (a FIFO, device or directory cannot be a registry)",
             deep: "not a registry: arrays/tables nested too deeply"}
    for path, why in cases.items():
        with pytest.raises(RegistryError) as err:
            load_sources(path)
        assert str(err.value) == f"{path}: {why}"


@pytest.mark.parametrize(("value", "why"), [
    ('"9-3050"', "is not a valid Japanese number with its area code"),
    ('"+1 202 555 0100"', "is not a valid Japanese number with its area code"),
    ('"代表"', "is not a phone number"),
    ("35", "must be a string, got int"),
])
def test_a_switchboard_must_be_a_full_japanese_number(tmp_path, value, why):
    with pytest.raises(RegistryError) as err:
        load_sources(write(tmp_path, GOOD.replace("max_pages = 500", f"max_pages = 500\nswitchboard = {value}")))
    assert "field 'switchboard'" in str(err.value) and why in str(err.value)


def test_a_switchboard_is_kept_for_the_extractor(tmp_path):
    (s,) = load_sources(write(tmp_path, GOOD.replace("max_pages = 500", 'max_pages = 500\nswitchboard = "01656-5-3311"')))
    assert s.switchboard == "01656-5-3311" and s.to_row()["switchboard"] == "01656-5-3311"
