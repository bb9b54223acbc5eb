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
