"""Registry shards (`--shard K/N`): a stable split of the sources by a CRC-32 of the source id, every source in
exactly one shard, 1/1 = all; malformed values are refused on one line (exit 2)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spiders.registry import Shard, load_sources, parse_shard, select_shard, shard_index
from tests.support.helpers import ROOT, main

SHIPPED = load_sources(ROOT / "sources.toml")
ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,63}", fullmatch=True)


def sources_named(names: list[str]) -> list:
    return [replace(SHIPPED[0], id=name) for name in names]


@settings(max_examples=30, deadline=None)
@given(names=st.lists(ids, unique=True, max_size=40), count=st.integers(min_value=1, max_value=12))
def test_the_shards_partition_the_sources(names, count):
    sources = sources_named(names)
    shards = [select_shard(sources, Shard(k, count)) for k in range(1, count + 1)]
    seen = [s.id for shard in shards for s in shard]
    assert sorted(seen) == sorted(names)  # every source in exactly one shard: none lost, none twice
    for shard in shards:  # each shard keeps the registry's order
        assert [s.id for s in shard] == [n for n in names if n in {s.id for s in shard}]


@settings(max_examples=40, deadline=None)
@given(names=st.lists(ids, unique=True, min_size=1, max_size=30), count=st.integers(min_value=2, max_value=8))
def test_a_source_stays_in_its_shard_whatever_else_the_registry_holds(names, count):
    """Adding, removing or reordering other sources never moves a source to another machine."""
    alone = {n: [k for k in range(1, count + 1) if select_shard(sources_named([n]), Shard(k, count))] for n in names}
    together = {s.id: k for k in range(1, count + 1) for s in select_shard(sources_named(names[::-1]), Shard(k, count))}
    assert {n: ks[0] for n, ks in alone.items()} == together


def test_shards_are_pinned_to_crc32_of_the_id():
    """The split must not change between releases or Python processes (Python's str hash does): pinned values."""
    assert [shard_index(sid, 3) for sid in ("nerima-hitorioya", "kita-hitorioya", "mamamoi-kita")] == [1, 3, 3]
    assert shard_index("nerima-hitorioya", 1) == 1


def test_one_of_one_is_every_source_and_three_shards_split_the_shipped_registry():
    assert select_shard(SHIPPED, parse_shard("1/1")) == SHIPPED
    assert select_shard(SHIPPED, None) == SHIPPED
    parts = [select_shard(SHIPPED, parse_shard(f"{k}/3")) for k in (1, 2, 3)]
    assert sum(len(p) for p in parts) == len(SHIPPED) and all(parts)
    assert {s.id for s in parts[0]} & {s.id for s in parts[1]} == set()


@pytest.mark.parametrize("text, why", [
    ("0/3", "K must be from 1 to N"), ("4/3", "K must be from 1 to N"), ("1/0", "K must be from 1 to N"),
    ("x", "expected K/N"), ("1/3/4", "expected K/N"), ("-1/3", "expected K/N"), ("", "expected K/N"),
    ("１/３", "expected K/N"),  # full-width digits: refused, not read as 1/3
])
def test_bad_shards_are_refused(text, why):
    with pytest.raises(ValueError, match=why):
        parse_shard(text)


def test_spaces_around_a_shard_are_fine():
    assert parse_shard(" 2 / 5 ") == Shard(2, 5) and str(Shard(2, 5)) == "2/5"


@pytest.mark.parametrize("command", [["crawl"], ["run", "--no-prefect"], ["sources", "list"]])
@pytest.mark.parametrize("value", ["0/3", "4/3", "x"])
def test_a_bad_shard_exits_2_with_one_line(command, value, capsys, tmp_path):
    code = main([*command, "--sources", str(ROOT / "sources.toml"), "--shard", value]
                + ([] if command[0] == "sources" else ["--db", str(tmp_path / "w.duckdb")]))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and f"--shard '{value}'" in err[0]
    assert not (tmp_path / "w.duckdb").exists()  # nothing was crawled or created


def test_sources_list_shows_only_the_shard(capsys):
    import json

    assert main(["sources", "list", "--sources", str(ROOT / "sources.toml"), "--shard", "2/3", "--format", "json"]) == 0
    listed = [s["source_id"] for s in json.loads(capsys.readouterr().out)]
    assert listed == [s.id for s in SHIPPED if shard_index(s.id, 3) == 2]


def test_an_empty_shard_has_nothing_to_do(capsys, tmp_path):
    one = tmp_path / "one.toml"
    text = (ROOT / "sources.toml").read_text(encoding="utf-8")
    one.write_text(text[:text.index("[[source]]", text.index("[[source]]") + 1)], encoding="utf-8")  # first source only
    (only,) = load_sources(one)
    empty = next(k for k in (1, 2) if shard_index(only.id, 2) != k)
    assert main(["crawl", "--sources", str(one), "--db", str(tmp_path / "w.duckdb"), "--shard", f"{empty}/2"]) == 0
    assert "has no sources; nothing to do" in capsys.readouterr().err
    assert not (tmp_path / "w.duckdb").exists()
