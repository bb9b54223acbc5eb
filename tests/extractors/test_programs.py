"""The program (制度) catalog, its fiscal-year amount table and the heading → program matcher.

Real headings come from the bundled demo site (wardwatch/demo/site, always present) and from ../shared
(seeds, corpus datasets; those tests skip when ../shared is absent).
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path

import pytest

from extractors.eras import fiscal_year_end, fiscal_year_start
from extractors.html import extract_html
from extractors.programs import (
    Aliases,
    CatalogError,
    alias_keys,
    amount_in_force,
    analyse,
    check_amount,
    current,
    load_catalog,
    match_program,
    municipal_program_id,
    program_key,
    years_of,
)
from extractors.programs.catalog import default_catalog_path, parse_catalog

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
DEMO = ROOT / "wardwatch" / "demo" / "site"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared (real corpus) is not present")

KITA, NERIMA, SHIBUYA = "131172", "131202", "131130"

REQUIRED = {
    "jido-fuyo-teate": [
        "full",
        "partial-max",
        "partial-min",
        "second-full",
        "second-partial-max",
        "second-partial-min",
        "third-full",
        "third-partial-max",
        "third-partial-min",
    ],
    "tokubetsu-jido-fuyo-teate": ["grade1", "grade2"],
    "jido-teate": ["under3", "under3-third", "age3-primary", "age3-primary-third", "junior-high", "junior-high-third"],
}


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


# ---------------------------------------------------------------- the catalog validates


def test_catalog_has_the_programs_the_brief_names(cat):
    assert len(cat.programs) >= 25
    ids = [p.id for p in cat.programs]
    assert len(ids) == len(set(ids))
    names = {p.name for p in cat.programs}
    for n in (
        "児童扶養手当",
        "特別児童扶養手当",
        "児童手当",
        "児童育成手当",
        "ひとり親家庭等医療費助成",
        "母子父子寡婦福祉資金貸付金",
        "自立支援教育訓練給付金",
        "高等職業訓練促進給付金",
        "ひとり親家庭住宅支援資金貸付",
        "ひとり親家庭高等学校卒業程度認定試験合格支援事業",
        "養育費確保支援",
        "就学援助",
        "児童扶養手当の一部支給停止",
    ):
        assert n in names, n
    for p in cat.programs:
        assert p.scope in ("national", "prefectural", "municipal")
        assert (p.prefecture is not None) == (p.scope == "prefectural"), p.id
        assert p.agency, p.id
    assert cat.program("tokyo-hitorioya-iryohi-josei").prefecture == "13"


def test_aliases_are_not_shared_between_programs(cat):
    keys = alias_keys(cat)  # raises if two programs share an alias key
    for p in cat.programs:
        for a in (p.name, *p.aliases):
            assert keys[program_key(a)] == p.id, (p.id, a)


def test_every_amount_has_a_source_and_unverified_ones_say_why(cat):
    assert cat.variants
    for v in cat.variants:
        assert v.amounts, v.id
        for a in v.amounts:
            assert a.sources, (v.program_id, v.id, a.fiscal_year)
            assert all(s.url or s.path for s in a.sources)
            if a.verified:
                assert a.seen and a.yen is not None
            else:
                assert a.note, (v.program_id, v.id, a.fiscal_year)


def test_required_variants_cover_fy2016_to_fy2026_without_gaps(cat):
    for pid, variants in REQUIRED.items():
        for vid in variants:
            v = cat.variant(pid, vid)
            assert v is not None, (pid, vid)
            assert v.required_from == 2016
            years = {a.fiscal_year for a in v.amounts}
            assert set(range(2016, 2027)) <= years, (pid, vid, sorted(years))
            # contiguous in time: each amount ends the day before the next begins
            for a, b in zip(v.amounts, v.amounts[1:]):
                assert (b.effective - a.until).days == 1, (pid, vid, a, b)
            assert v.amounts[0].effective == fiscal_year_start(2016)
            assert v.amounts[-1].until == fiscal_year_end(2026)


def test_mid_year_changes_carry_their_effective_date(cat):
    def effective(pid, vid):
        return [a.effective for a in cat.variant(pid, vid).amounts if a.effective.month != 4 or a.effective.day != 1]

    assert effective("jido-fuyo-teate", "second-full") == [date(2016, 8, 1)]
    assert effective("jido-fuyo-teate", "third-full") == [date(2016, 8, 1), date(2024, 11, 1)]
    assert effective("jido-teate", "under3-third") == [date(2024, 10, 1)]
    assert effective("jido-fuyo-teate", "full") == []


@needs_shared
def test_corpus_corroborations_are_in_the_corpus_files(cat):
    """Every value marked as seen in a ../shared file really is in that file (PDFs: checked elsewhere)."""
    checked = 0
    for v in cat.variants:
        for a in v.amounts:
            for s in a.seen:
                if s.kind != "corpus" or s.path.endswith(".pdf"):
                    continue
                target = SHARED / s.path
                files = sorted(target.rglob("*.yaml")) if target.is_dir() else [target]
                text = "".join(f.read_text(encoding="utf-8") for f in files)
                assert str(a.yen) in text or f"{a.yen:,}" in text, (v.program_id, v.id, a.fiscal_year, s.path)
                checked += 1
    assert checked >= 60


def _write(tmp_path, text):
    p = tmp_path / "catalog.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _raw():
    return tomllib.loads(default_catalog_path().read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["program"].append(dict(r["program"][0])), "duplicate id"),
        (lambda r: r["program"][0].update(id="Jido Fuyo"), "field 'id'"),
        (lambda r: r["program"][0].update(scope="global"), "field 'scope'"),
        (lambda r: r["program"][0].update(scope="prefectural"), "field 'prefecture'"),
        (lambda r: r["variant"][0]["values"][0].pop("seen"), "verified = true needs"),
        (lambda r: r["variant"][0]["values"][0].update(verified=False), "needs a 'note'"),
        (lambda r: r["variant"][0]["values"][0].update(yen=-5), "field 'yen'"),
        (lambda r: r["variant"][0]["values"][0].update(effective="2015-06-01"), "not in fiscal year 2016"),
        (lambda r: r["variant"][0].update(sources=["no-such-source"]), "unknown source"),
        (lambda r: r["variant"][0].update(sources=[]), "at least one source"),
        (lambda r: r["variant"][0].update(program="no-such-program"), "unknown program id"),
        (lambda r: r["variant"][0]["values"].pop(3), "have no value"),
    ],
)
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_a_broken_catalog_is_one_clear_line(mutate, message):
    raw = _raw()
    mutate(raw)
    with pytest.raises(CatalogError) as e:
        parse_catalog(raw)
    assert message in str(e.value)
    assert "\n" not in str(e.value) and str(e.value).startswith("catalog.toml: ")


def test_a_shared_alias_is_refused():
    raw = _raw()
    raw["program"][1]["aliases"].append("児童扶養手当について")  # same key as 児童扶養手当
    with pytest.raises(ValueError, match="shared by"):
        alias_keys(parse_catalog(raw))


def test_an_unreadable_catalog_file_names_the_file(tmp_path):
    p = _write(tmp_path, "[[program]\nid = 1\n")
    with pytest.raises(CatalogError, match=r"catalog\.toml: not valid TOML"):
        load_catalog(p)
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path / "missing.toml")


# ---------------------------------------------------------------- the fiscal-year table: before / after pairs


def test_amount_to_fiscal_years():
    assert years_of("tokubetsu-jido-fuyo-teate", "grade1", 51500) == [2016]
    assert years_of("tokubetsu-jido-fuyo-teate", "grade1", 56800) == [2025]
    assert years_of("tokubetsu-jido-fuyo-teate", "grade2", 34970) == [2020, 2021]
    assert years_of("jido-fuyo-teate", "full", 46690) == [2025]
    assert years_of("jido-fuyo-teate", "full", 43160) == [2020, 2021]
    assert years_of("jido-fuyo-teate", "third-full", 10750) == [2024]  # from 2024-11 only
    assert years_of("jido-teate", "under3", 15000) == list(range(2016, 2027))
    assert years_of("jido-teate", "under3-third", 15000) == list(range(2016, 2025))
    assert years_of("jido-fuyo-teate", "full", 51500) == []
    assert years_of("no-such-program", "full", 46690) == []


def test_before_and_after_each_change():
    fuyo = "jido-fuyo-teate"
    # the 2016-08 reform of the 2nd/3rd-child additions
    assert amount_in_force(fuyo, "second-full", date(2016, 7, 31)).yen == 5000
    assert amount_in_force(fuyo, "second-full", date(2016, 8, 1)).yen == 10000
    # April 1 is the 物価スライド revision: 年度 boundaries from extractors.eras
    assert amount_in_force(fuyo, "full", date(2026, 3, 31)).yen == 46690
    assert amount_in_force(fuyo, "full", date(2026, 4, 1)).yen == 48050
    # 2024-11: the 3rd-and-later addition became equal to the 2nd
    assert amount_in_force(fuyo, "third-full", date(2024, 10, 31)).yen == 6450
    nov = date(2024, 11, 1)
    assert amount_in_force(fuyo, "third-full", nov).yen == amount_in_force(fuyo, "second-full", nov).yen == 10750
    assert amount_in_force(fuyo, "third-partial-min", nov).yen == amount_in_force(fuyo, "second-partial-min", nov).yen
    # 2024-10 児童手当 reform
    assert amount_in_force("jido-teate", "under3-third", date(2024, 9, 30)).yen == 15000
    assert amount_in_force("jido-teate", "under3-third", date(2024, 10, 1)).yen == 30000
    assert amount_in_force("jido-teate", "high-school", date(2024, 9, 30)) is None
    assert amount_in_force("jido-teate", "high-school", date(2024, 10, 1)).yen == 10000
    assert amount_in_force("jido-teate", "tokurei", date(2024, 9, 30)).yen == 5000
    assert amount_in_force("jido-teate", "tokurei", date(2024, 10, 1)) is None
    # beyond the table: not known, not guessed
    assert amount_in_force(fuyo, "full", date(2027, 4, 1)) is None
    assert amount_in_force(fuyo, "full", date(2016, 3, 31)) is None


def test_current_and_unknown_years():
    today = date(2026, 12, 2)
    a = current("jido-fuyo-teate", "full", today)
    assert (a.yen, a.fiscal_year, a.verified) == (48050, 2026, True)
    assert any(s.path and "single-parent-lifesim" in s.path for s in a.seen)
    unknown = current("tokubetsu-jido-fuyo-teate", "grade1", today)
    assert unknown.fiscal_year == 2026 and unknown.yen is None and not unknown.verified and unknown.note
    assert current("tokubetsu-jido-fuyo-teate", "grade1", date(2025, 6, 1)).yen == 56800


def test_check_amount_names_the_year_and_the_current_amount():
    c = check_amount("tokubetsu-jido-fuyo-teate", 51500, date(2026, 3, 1))
    assert c.status == "outdated" and c.matches[0].years == (2016,)
    assert c.describe("特別児童扶養手当") == "51,500円 is 特別児童扶養手当 1級 (重度) for FY2016; FY2025: 56,800円"
    assert check_amount("tokubetsu-jido-fuyo-teate", 56800, date(2026, 3, 1)).status == "current"
    assert check_amount("jido-fuyo-teate", 46690, date(2025, 6, 1)).status == "current"
    old = check_amount("jido-fuyo-teate", 43160, date(2025, 6, 1))
    assert old.status == "outdated" and old.matches[0].years == (2020, 2021) and old.matches[0].now.yen == 46690
    assert old.in_current_range  # also a valid 一部支給 amount today: the caller needs the qualifier
    assert check_amount("jido-fuyo-teate", 30000, date(2025, 6, 1)).status == "in-range"
    # 10,000 is still 児童手当 for 3歳以上: never called outdated although it was also 中学生 第3子 before 2024-10
    assert check_amount("jido-teate", 10000, date(2025, 6, 1)).status == "current"
    gone = check_amount("jido-teate", 5000, date(2025, 6, 1))
    assert gone.status == "outdated" and gone.matches[0].now is None and "no longer paid" in gone.describe("児童手当")
    assert check_amount("jido-teate", 12345, date(2025, 6, 1)) is None  # belongs to no year
    # FY2026 特別児童扶養手当 is unknown: 56,800 in FY2026 cannot be called outdated
    assert check_amount("tokubetsu-jido-fuyo-teate", 56800, date(2026, 12, 1)).status == "unknown"


# ---------------------------------------------------------------- matching


def _heading_paths(path: Path) -> list[tuple[list[str], str]]:
    """(heading path, block text) for every non-heading block of an HTML page."""
    doc = extract_html(path.read_bytes())
    stack: dict[int, str] = {}
    out = []
    for b in doc.blocks:
        if b.kind == "heading" and b.level:
            stack = {lv: t for lv, t in stack.items() if lv < b.level}
            stack[b.level] = b.text
        elif b.kind in ("para", "row", "term"):
            out.append(([stack[k] for k in sorted(stack)], b.text))
    return out


DEMO_EXPECTED = {
    # (page, innermost heading) -> program id of a fact directly under it (None: no program)
    ("press/225813.html", "親元近居助成"): f"{KITA}:親元近居助成",
    ("press/225813.html", "ひとり親家庭休養ホーム事業"): f"{KITA}:一人親家庭休養ホーム",
    ("press/225813.html", "育成手当"): "tokyo-jido-ikusei-teate",
    ("press/225813.html", "障害手当"): "tokyo-jido-ikusei-teate",
    ("press/225813.html", "支給手当月額"): "tokubetsu-jido-fuyo-teate",
    ("press/225813.html", "子ども医療費助成"): "tokyo-kodomo-iryohi-josei",
    ("press/225813.html", "ひとり親家庭自立支援プログラム(就労計画書)策定"): "jiritsu-shien-program-sakutei",
    ("press/225813.html", "ひとり親家庭への各種貸付資金"): None,
    ("press/225813.html", "母子生活支援施設"): "boshi-seikatsu-shien-shisetsu",
    ("press/225813.html", "施設概要"): "boshi-seikatsu-shien-shisetsu",
    ("press/225813.html", "費用負担"): "boshi-seikatsu-shien-shisetsu",
    ("press/nerima-matome.html", "ひとり親家庭住宅支援資金貸付"): "hitorioya-jutaku-shien-shikin-kashitsuke",
    ("press/nerima-matome.html", "ひとり親家庭自立支援教育訓練給付金"): "jiritsu-shien-kyoiku-kunren-kyufukin",
    ("nerima/kurashi/jinken/hitorioya/syuurou.html", "対象者"): "jiritsu-shien-program-sakutei",
    (
        "nerima/kurashi/jinken/hitorioya/syuurou.html",
        "ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)",
    ): "hitorioya-jutaku-shien-shikin-kashitsuke",
    (
        "nerima/kurashi/jinken/hitorioya/syuurou.html",
        "「就労応援ねりま」(ハローワーク)と連携した就労支援",
    ): "jiritsu-shien-program-sakutei",
    (
        "nerima/kurashi/jinken/hitorioya/syuurou.html",
        "2 ひとり親家庭自立支援プログラムの策定",
    ): "jiritsu-shien-program-sakutei",
    ("nerima/kurashi/jinken/hitorioya/jiritsushien.html", "支給額"): "jiritsu-shien-kyoiku-kunren-kyufukin",
    ("nerima/kurashi/jinken/hitorioya/jiritsushien.html", "申請期限"): "jiritsu-shien-kyoiku-kunren-kyufukin",
    ("kita/kitahapi/mokuteki/hitori.html", "児童扶養手当"): "jido-fuyo-teate",
    ("kita/kitahapi/mokuteki/hitori.html", "児童育成手当"): "tokyo-jido-ikusei-teate",
    ("kita/kitahapi/mokuteki/hitori.html", "特別児童扶養手当"): "tokubetsu-jido-fuyo-teate",
    ("kita/kitahapi/mokuteki/hitori.html", "ひとり親家庭等医療費助成(マル親)"): "tokyo-hitorioya-iryohi-josei",
    ("kita/kitahapi/mokuteki/hitori.html", "お問い合わせ"): None,
}


def _code_of(page: str) -> str:
    return NERIMA if "nerima" in page else KITA


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_demo_site_headings_resolve_to_their_program(version):
    correct = total = 0
    for (page, heading), expected in DEMO_EXPECTED.items():
        paths = [p for p, _ in _heading_paths(DEMO / version / page) if p and p[-1] == heading]
        assert paths, (page, heading)
        for path in paths:
            m = match_program(path, "練馬区" if "nerima" in page else "北区", None, code=_code_of(page))
            got = m.program_id if m else None
            total += 1
            correct += got == expected
            assert got == expected, (page, path, m)
    assert total >= len(DEMO_EXPECTED)
    assert correct == total


def test_generic_headings_resolve_upward_on_the_kita_summary():
    paths = [p for p, _ in _heading_paths(DEMO / "v1" / "press/225813.html")]
    by_last = {}
    for p in paths:
        by_last.setdefault(tuple(p), match_program(p, "北区", code=KITA))
    got = {p[-2:]: (m.program_id if m else None) for p, m in by_last.items() if len(p) >= 2}
    assert got[("親元近居助成", "対象者要件")] == f"{KITA}:親元近居助成"
    assert got[("親元近居助成", "助成額")] == f"{KITA}:親元近居助成"
    assert got[("親元近居助成", "申込書類")] == f"{KITA}:親元近居助成"
    assert got[("親元近居助成", "お問い合わせ")] == f"{KITA}:親元近居助成"
    assert got[("ファミリー世帯転居費用助成", "対象者要件")] == f"{KITA}:ファミリー世帯転居費用助成"
    assert got[("特別児童扶養手当", "支給手当月額")] == "tokubetsu-jido-fuyo-teate"
    assert got[("ひとり親家庭高等職業訓練促進給付金事業", "給付金額")] == "koto-shokugyo-kunren-sokushin-kyufukin"
    assert got[("ひとり親家庭自立支援教育訓練給付金事業", "支給対象")] == "jiritsu-shien-kyoiku-kunren-kyufukin"


def test_differing_names_of_one_municipal_program_get_one_id():
    official = municipal_program_id(KITA, "北区親元近居助成事業")
    assert official == f"{KITA}:親元近居助成"
    summary = match_program(
        [
            "東京都北区のひとり親家庭支援内容まとめ【北区のシングルマザー必見】",
            "くらしのサポート",
            "親元近居助成",
            "助成額",
        ],
        "北区",
        "一住宅20万円を上限として助成します。",
        code=KITA,
    )
    assert summary.program_id == official and summary.heading == "親元近居助成" and summary.depth == 2
    on_official_page = match_program(["北区親元近居助成事業"], "北区", code=KITA)
    assert on_official_page.program_id == official
    # the same name in another ward is another program
    assert match_program(["親元近居助成"], "練馬区", code=NERIMA).program_id == f"{NERIMA}:親元近居助成"
    # without a code the municipality name prefixes the id
    assert match_program(["親元近居助成"], "北区").program_id == "北区:親元近居助成"
    assert match_program(["親元近居助成"], None) is None


def test_municipality_prefixes_are_found_by_pattern_not_by_a_ward_list():
    for heading, place in [
        ("練馬区ひとり親家庭自立支援プログラム策定事業", "練馬区"),
        ("東京都北区のひとり親家庭支援", "東京都北区"),
        ("北海道中川郡音威子府村の児童手当", "北海道中川郡音威子府村"),
        ("さいたま市子ども医療費助成", "さいたま市"),
        ("府中市ひとり親家庭休養ホーム事業", "府中市"),
    ]:
        assert analyse(heading).place == place, heading
    assert analyse("特別区民税").place is None and analyse("地区センター").place is None
    assert match_program(["北海道中川郡音威子府村の児童手当"], "音威子府村", code="014729").program_id == "jido-teate"


def test_prefectural_programs_stay_in_their_prefecture():
    tokyo = match_program(["ひとり親家庭等医療費助成"], "北区", code=KITA)
    assert tokyo.program_id == "tokyo-hitorioya-iryohi-josei" and tokyo.scope == "prefectural"
    saitama = match_program(["さいたま市ひとり親家庭等医療費助成"], "さいたま市", code="111007")
    assert saitama.program_id == "111007:一人親家庭医療費助成" and saitama.scope == "municipal"
    assert (
        match_program(["ひとり親家庭等医療費助成"], None).program_id == "tokyo-hitorioya-iryohi-josei"
    )  # code unknown


def test_a_heading_naming_two_programs_is_ambiguous_unless_the_text_says():
    h = "児童扶養手当・特別児童扶養手当について"  # 広報おといねっぷ 2025-04
    m = match_program([h], "音威子府村", "手当月額 | ○全額支給（月額）46,690円", code="014729")
    assert m.ambiguous and m.candidates == ("jido-fuyo-teate", "tokubetsu-jido-fuyo-teate")
    m = match_program(
        [h],
        "音威子府村",
        "◇特別児童扶養手当は、精神または身体が障がいの状態にある20歳未満の児童について",
        code="014729",
    )
    assert not m.ambiguous and m.program_id == "tokubetsu-jido-fuyo-teate"


def test_generic_headings_are_a_class():
    generic = [
        "助成額",
        "対象者要件",
        "支給手当月額",
        "申込書類",
        "お問い合わせ",
        "概要",
        "給付金額",
        "支給対象",
        "申請時の持参物",
        "支給方法",
        "対象講座",
        "策定の手順",
        "施設概要",
        "費用負担",
        "住宅要件",
        "申込期限",
        "貸付限度額",
        "償還期間",
        "受付期間",
        "支給時期",
        "所得制限限度額",
        "現況届",
        "経済的支援",
        "自立・就業支援",
        "くらしのサポート",
        "ひとり親家庭への各種貸付資金",
        "医療費の助成",
        "免除制度",
        "手当",
        "相談",
        "問い合わせ先",
    ]
    named = [
        "親元近居助成",
        "ファミリー世帯転居費用助成",
        "ひとり親家庭休養ホーム事業",
        "母子生活支援施設",
        "ひとり親家庭相談",
        "在宅就業推進事業",
        "子ども医療費助成",
        "ハッピーマザー出産助成金",
        "病児・病後児保育利用料金助成",
    ]
    assert [h for h in generic if analyse(h).names_program] == []
    assert [h for h in named if not analyse(h).names_program] == []
    # a generic heading whose modifier is a catalog name names that program
    assert match_program(["児童扶養手当の手当額"], "北区", code=KITA).via == "modifier"


def test_no_false_match_of_unrelated_headings():
    for h in [
        "雇用保険失業給付(基本手当)",
        "傷病手当(雇用保険)",
        "出産手当金",
        "教育訓練給付",
        "障害児童手当",
        "赤ちゃんショートステイ",
        "母子福祉応急小口資金",
        "特別障害者手当",
        "東京しごとセンター",
        "国民健康保険税",
        "ふるさと納税制度について",
    ]:
        m = match_program([h], "北区", code=KITA)
        assert m is None or m.scope == "municipal", (h, m)


def test_text_is_the_last_resort():
    m = match_program(["お問い合わせ"], "北区", "児童扶養手当の現況届は毎年8月に提出してください。", code=KITA)
    assert m.program_id == "jido-fuyo-teate" and m.via == "text" and m.heading is None
    assert match_program(["お問い合わせ"], "北区", "児童扶養手当と児童手当の窓口です。", code=KITA) is None
    # a heading wins over the text
    m = match_program(["親元近居助成"], "北区", "児童扶養手当を受給している方も対象です。", code=KITA)
    assert m.program_id == f"{KITA}:親元近居助成"


def test_a_part_of_the_enclosing_program_resolves_to_it():
    m = match_program(["ひとり親家庭高等職業訓練促進給付金事業", "給付金額", "訓練促進給付金"], "北区", code=KITA)
    assert m.program_id == "koto-shokugyo-kunren-sokushin-kyufukin" and m.via == "part"


def test_aliases_learn_secondary_names():
    aliases = Aliases()
    official = municipal_program_id(KITA, "ひとり親家庭休養ホーム事業")
    aliases.register(official, "ひとり親家庭休養ホーム事業", municipality="北区")
    m = match_program(["休養ホーム事業"], "北区", code=KITA, aliases=aliases)
    assert (m.program_id, m.via) == (official, "learnt")
    aliases.learn("北区の家賃助成", f"{KITA}:ファミリー世帯転居費用助成", municipality="北区")
    assert aliases.resolve("家賃助成", municipality="北区") == f"{KITA}:ファミリー世帯転居費用助成"
    assert aliases.resolve("家賃助成", municipality="練馬区") is None
    assert len(aliases) == 1 and aliases.items()[0][0] == "北区"
    assert match_program(["休養ホーム事業"], "北区", code=KITA).program_id == f"{KITA}:休養ホーム"  # without aliases
    with pytest.raises(ValueError):
        aliases.learn("【】", "x")


def test_municipal_ids_refuse_empty_input():
    with pytest.raises(ValueError, match="empty municipality code"):
        municipal_program_id("", "親元近居助成")
    with pytest.raises(ValueError, match="no name left"):
        municipal_program_id(KITA, "■■■")


def test_hostile_headings_do_not_crash():
    assert match_program([], "北区") is None
    assert match_program(None, None, None) is None
    assert match_program(["", "   ", "■◆●"], "北区", code=KITA) is None
    assert match_program(["児童扶養手当" * 40], "北区", code=KITA) is None  # too long to be a heading
    assert match_program(["\ufffd\ufffd手当\x00"], "北区", code=KITA) is None
    m = match_program(["【重要】児童扶養手当について(令和7年度)"], "北区", code=KITA)
    assert m.program_id == "jido-fuyo-teate"
    assert match_program(["児童扶養手当"], "北区", "x" * 100_000, code=KITA).program_id == "jido-fuyo-teate"


# ---------------------------------------------------------------- real names from ../shared


@needs_shared
def test_seed_headings_resolve():
    kita = (SHARED / "seeds" / "kita_hitorioya_summary_secondary.txt").read_text(encoding="utf-8").splitlines()
    nerima = (SHARED / "seeds" / "nerima_hitorioya_jiritsu_program.txt").read_text(encoding="utf-8").splitlines()
    cases = [
        (kita, ["くらしのサポート", "親元近居助成", "対象者要件"], f"{KITA}:親元近居助成"),
        (kita, ["経済的支援", "児童育成手当", "支給手当月額"], "tokyo-jido-ikusei-teate"),
        (kita, ["経済的支援", "特別児童扶養手当", "支給手当月額"], "tokubetsu-jido-fuyo-teate"),
        (
            kita,
            ["自立・就業支援", "ひとり親家庭自立支援教育訓練給付金事業", "給付金額"],
            "jiritsu-shien-kyoiku-kunren-kyufukin",
        ),
        (
            kita,
            ["自立・就業支援", "ひとり親家庭高等職業訓練促進給付金事業", "給付金額"],
            "koto-shokugyo-kunren-sokushin-kyufukin",
        ),
        (kita, ["自立・就業支援", "ひとり親家庭自立支援プログラム(就労計画書)策定"], "jiritsu-shien-program-sakutei"),
        (kita, ["くらしのサポート", "母子生活支援施設", "費用負担"], "boshi-seikatsu-shien-shisetsu"),
        (kita, ["くらしのサポート", "ひとり親家庭休養ホーム事業"], f"{KITA}:一人親家庭休養ホーム"),
        (kita, ["経済的支援"], None),
        (nerima, ["練馬区ひとり親家庭自立支援プログラム策定事業", "対象者"], "jiritsu-shien-program-sakutei"),
        (
            nerima,
            ["練馬区ひとり親家庭自立支援プログラム策定事業", "ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)"],
            "hitorioya-jutaku-shien-shikin-kashitsuke",
        ),
        (nerima, ["練馬区ひとり親家庭自立支援プログラム策定事業", "お問い合わせ"], "jiritsu-shien-program-sakutei"),
    ]
    for lines, path, expected in cases:
        stripped = {line.strip() for line in lines}
        assert all(h in stripped for h in path), path  # real headings of the seed
        code = NERIMA if lines is nerima else KITA
        m = match_program(path, "練馬区" if lines is nerima else "北区", None, code=code)
        assert (m.program_id if m else None) == expected, (path, m)


CIVICHAT_SHIBUYA = {
    "児童扶養手当": "jido-fuyo-teate",
    "児童手当": "jido-teate",
    "特別児童扶養手当": "tokubetsu-jido-fuyo-teate",
    "児童育成手当": "tokyo-jido-ikusei-teate",
    "児童育成手当（障害手当）": "tokyo-jido-ikusei-teate",
    "ひとり親家庭等医療費助成": "tokyo-hitorioya-iryohi-josei",
    "子ども医療費助成": "tokyo-kodomo-iryohi-josei",
    "自立支援教育訓練給付金": "jiritsu-shien-kyoiku-kunren-kyufukin",
    "高等職業訓練促進給付金": "koto-shokugyo-kunren-sokushin-kyufukin",
    "母子・父子自立支援プログラムの作成": "jiritsu-shien-program-sakutei",
    "東京都母子及び父子福祉資金": "boshi-fushi-kafu-fukushi-shikin",
    "母子及び父子福祉資金": "boshi-fushi-kafu-fukushi-shikin",
    "子どもショートステイ": "kosodate-tanki-shien",
    "都営住宅のひとり親世帯向け募集": "tokyo-toei-jutaku-hitorioya",
    "学習塾等受講料サポート - 受験生チャレンジ支援貸付事業": "tokyo-juken-challenge",
}
CIVICHAT_JAPAN = {
    "児童手当": "jido-teate",
    "児童扶養手当": "jido-fuyo-teate",
    "特別児童扶養手当": "tokubetsu-jido-fuyo-teate",
    "高等職業訓練促進給付金": "koto-shokugyo-kunren-sokushin-kyufukin",
    "母子父子寡婦福祉資金貸付": "boshi-fushi-kafu-fukushi-shikin",
    "就学援助制度": "shugaku-enjo",
    "住居確保給付金": "jukyo-kakuho-kyufukin",
    "生活保護制度": "seikatsu-hogo",
    "障害児福祉手当": "shogaiji-fukushi-teate",
    "高等教育の修学支援新制度": "koto-kyoiku-shugaku-shien",
    "高等職業訓練修了支援給付金": "koto-shokugyo-kunren-sokushin-kyufukin",
    "ひとり親家庭等日常生活支援事業": "hitorioya-nichijo-seikatsu-shien",
    "ひとり親家庭等生活向上事業": "hitorioya-seikatsu-kojo",
    "母子家庭等就業・自立支援センター事業": "boshi-katei-shugyo-jiritsu-shien-center",
    "子育て短期支援事業": "kosodate-tanki-shien",
    "国民年金保険料の免除制度・納付猶予制度": "kokumin-nenkin-hokenryo-menjo",
    "高等学校等就学支援金・高校生等奨学給付金": "koukou-shugaku-shienkin",
}


@needs_shared
@pytest.mark.parametrize(
    ("rel", "municipality", "code", "expected"),
    [
        ("versions/datas_shibuyaParenting_systemsdata@2021-09-04_d145ebc.json", "渋谷区", SHIBUYA, CIVICHAT_SHIBUYA),
        ("versions/static_data_japan_systemsdata@2022-02-16_1a13800.json", None, None, CIVICHAT_JAPAN),
    ],
)
def test_civichat_program_names(rel, municipality, code, expected):
    """Every record title of a real Civichat dataset: the labelled ones match their program, no other title
    matches a catalog program (precision 1.0 on catalog ids)."""
    records = json.loads((SHARED / "corpus/datasets/civichat" / rel).read_text(encoding="utf-8"))["systemsData"]
    titles = [r["タイトル（制度名）"] for r in records if r.get("タイトル（制度名）")]
    assert set(expected) <= set(titles)
    catalog_ids = {p.id for p in load_catalog().programs}
    for t in titles:
        m = match_program([t], municipality, None, code=code)
        got = m.program_id if m else None
        if t in expected:
            assert got == expected[t], (t, m)
        else:
            assert got not in catalog_ids, (t, m)
    both = match_program(["高等学校等就学支援金・高校生等奨学給付金"], None)
    assert both.ambiguous and both.candidates == ("koukou-shugaku-shienkin", "koukousei-shogaku-kyufukin")


@needs_shared
def test_real_village_pages_never_match_a_catalog_program_by_accident():
    """45 real pages of 音威子府村 (taxes, forests, water, sports): no heading is a single-parent program."""
    catalog_ids = {p.id for p in load_catalog().programs}
    headings = set()
    for f in sorted((SHARED / "corpus/real_pages/otoineppu").glob("*.md")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                headings.add(line.lstrip("#").strip())
    assert len(headings) > 100
    wrong = [
        (h, m.program_id)
        for h in sorted(headings)
        if (m := match_program([h], "音威子府村", code="014729")) and m.program_id in catalog_ids
    ]
    assert wrong == []
