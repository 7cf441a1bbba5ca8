"""The Czech text pipeline, the lock-in score and the IČO check (pure logic)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from stdnum.cz import dic

from api.text import ico_is_valid
from catalogue.geo import band_index, haversine_km
from catalogue.lockin import FACTORS, lockin_score
from catalogue.text import fts5_query, index_tokens, query_groups, tsquery


def test_index_holds_unaccented_stems_and_words() -> None:
    tokens = index_tokens("Veřejné osvětlení obce").split()
    assert {"verejn", "verejne", "osvetlen", "osvetleni", "obce"} <= set(tokens)
    assert all(t.isascii() and t.isalnum() for t in tokens)


def test_query_is_stemmed_before_accents_are_removed() -> None:
    prefixes = query_groups("zakázky")[0][0]
    assert "zakazk" in prefixes  # stem of "zakázky" = stem of "zakázka"


def test_stop_words_are_not_query_terms() -> None:
    assert query_groups("a v na") == []
    assert len(query_groups("osvětlení v obci")) == 2


def test_both_query_syntaxes_hold_the_same_terms() -> None:
    groups = query_groups("obec zakázky")
    assert fts5_query(groups).count(" AND ") == tsquery(groups).count(" & ") == 1
    assert '"obce"' in fts5_query(groups)
    assert "| obce |" in tsquery(groups)


def test_query_terms_cannot_inject_syntax() -> None:
    groups = query_groups('") OR * NEAR(a b) :* & !')
    assert all(t.isalnum() for prefixes, exact in groups for t in prefixes + exact)


@pytest.mark.parametrize("ico", ["27100014", "25596641", "00064581", "49240030"])
def test_ico_check_agrees_with_stdnum(ico: str) -> None:
    assert ico_is_valid(ico) == dic.is_valid(ico) is True


@pytest.mark.parametrize(
    "ico", ["27100015", "25596642", "1234567", "2710001a", "２７１０００１４", "٢٧١٠٠٠١٤"]
)
def test_bad_ico(ico: str) -> None:
    assert not ico_is_valid(ico)


def _facts(**overrides: object) -> SimpleNamespace:
    facts = {f.id: False for f in FACTORS}
    facts.update(standards=[], proprietary_hardware=False, published_in_nkod=False)
    facts.update(overrides)
    return SimpleNamespace(**facts)


def test_lockin_score_bounds() -> None:
    everything = _facts(
        data_owned_by_municipality=True,
        bulk_export=True,
        open_api_documented=True,
        standards=["mqtt"],
        standard_data_model=True,
        exit_clause=True,
        open_source=True,
    )
    assert lockin_score(everything) == 0
    assert lockin_score(_facts(proprietary_hardware=True)) == 100
    assert lockin_score(_facts()) == 95


def test_distance_and_bands() -> None:
    assert 183 < haversine_km(50.0755, 14.4378, 49.1951, 16.6068) < 186  # Praha - Brno
    assert band_index(199) == 0
    assert band_index(200) == 1
    assert band_index(100000) == 9
