"""Syntax tree → checked model: names, types and units, duplicates, cycles, källa, kontroller."""

from __future__ import annotations

import pytest

from conftest import HEADER
from villkor_engine.pipeline import load_agreement, load_agreement_text


def codes(src: str, severity: str = "fel") -> list[str]:
    loaded = load_agreement_text(HEADER + src, "t.villkor")
    assert not any(d.code.startswith("V0") for d in loaded.diagnostics), loaded.diagnostics
    return [d.code for d in loaded.diagnostics if d.severity == severity]


def test_every_bundled_agreement_checks(model_2020):
    assert model_2020.agreement.title.startswith("En kvalitetssäker")
    assert set(model_2020.version_at(None).villkor) == {"1", "2", "3", "4", "4.7", "5"}


def test_misspelt_name_gets_a_suggestion():
    loaded = load_agreement_text(HEADER + """
värde pott: belopp = 100 kr
  källa d
kontroll "k" pot = 100 kr
""")
    d = next(d for d in loaded.diagnostics if d.code == "V101")
    assert d.hint == "menade du `pott`?"
    assert (d.span.line, d.span.column) == (15, 14)


@pytest.mark.parametrize("declared, expr, ok", [
    ("belopp", "100 kr * 70 %", True),
    ("belopp", "100 kr + 2020-01-01", False),
    ("belopp", "100 kr * 100 kr", False),
    ("decimaltal", "100 kr / 100 kr", True),
    ("belopp", "100 kr / 100 kr", False),      # a ratio is not money
    ("datum", "2020-12-11 + 14 dagar", True),
    ("belopp", "2020-12-11 + 14 dagar", False),
    ("dagar", "2021-01-05 - 2020-12-11", True),
])
def test_units_are_checked(declared, expr, ok):
    got = codes(f"värde x: {declared} = {expr}\n  källa d\n")
    assert ("V110" not in got) == ok, got


def test_type_error_names_both_types():
    loaded = load_agreement_text(HEADER + "värde x = 1 kr + 2020-01-01\n  källa d\n")
    d = next(d for d in loaded.diagnostics if d.code == "V110")
    assert "belopp" in d.message and "datum" in d.message


def test_duplicates_and_cycles():
    assert "V120" in codes("värde a = 1 kr\n  källa d\nvärde a = 2 kr\n  källa d\n")
    got = load_agreement_text(HEADER + "värde a = b\n  källa d\nvärde b = a\n  källa d\n")
    cycle = next(d for d in got.diagnostics if d.code == "V130")
    assert "a → b → a" in cycle.message or "b → a → b" in cycle.message


def test_payment_and_villkor_without_source_are_errors():
    src = """
villkor 1 "V"
  gäller regioner
  krav befolkning.befolkning > 0
slut
utbetalning p "P"
  villkor 1
  pott 10 kr delas mellan regioner som uppfyller villkoret i förhållande till befolkning.befolkning
  avrundning hela kronor, halvt uppåt per andel
slut
"""
    assert codes(src).count("V140") == 2


def test_pot_without_rounding_is_an_error():
    src = """
villkor 1 "V"
  gäller regioner
  källa d
  krav befolkning.befolkning > 0
slut
utbetalning p "P"
  villkor 1
  källa d
  pott 10 kr delas mellan regioner som uppfyller villkoret i förhållande till befolkning.befolkning
slut
"""
    assert "V172" in codes(src)


def test_unknown_document_and_unused_input():
    assert "V104" in codes("värde a = 1 kr\n  källa ök\n")
    src = "parameter p: belopp\n  källa d\n"
    assert "V150" in codes(src, "varning")


def test_reading_a_table_outside_a_recipient_is_an_error():
    assert "V107" in codes("värde a = befolkning.befolkning\n  källa d\n")


def test_failing_kontroll_is_reported():
    src = """
värde a: belopp = 100 kr
  källa d
kontroll "a är 101 kr" a = 101 kr
  källa d
kontroll "cirka" a = 110 kr tolerans 10 kr
  källa d
"""
    loaded = load_agreement_text(HEADER + src)
    failed = [d for d in loaded.diagnostics if d.code == "V160"]
    assert len(failed) == 1 and "a är 101 kr" in failed[0].message


def test_the_2020_amounts_add_up_to_944_million(tmp_path):
    """The real file's kontroll holds; change one amount and it fails."""
    from conftest import AGREEMENT_2020
    text = AGREEMENT_2020.read_text(encoding="utf-8")
    broken = tmp_path / "b.villkor"
    broken.write_text(text.replace("= 23 miljoner kronor", "= 24 miljoner kronor"),
                      encoding="utf-8")
    loaded = load_agreement(broken)
    assert [d.code for d in loaded.diagnostics if d.is_error] == ["V160"]


def test_villkor_that_depends_on_itself_is_a_cycle():
    src = """
villkor 1 "V"
  gäller regioner
  källa d
  krav villkor 1.1
  delvillkor 1.1 "D"
    krav villkor 1
  slut
slut
"""
    loaded = load_agreement_text(HEADER + src)
    cycle = [d for d in loaded.diagnostics if d.code == "V130"]
    assert len(cycle) == 1 and "1 → 1.1 → 1" in cycle[0].message


def test_warnings_for_a_pot_no_one_is_tried_for_and_a_late_deadline():
    src = """
mottagargrupp andra
  X "X"
slut
villkor 1 "V"
  gäller andra
  källa d
  krav ja
  redovisas senast 2021-06-01 enligt befolkning.datum
slut
utbetalning p "P"
  villkor 1
  källa d
  pott 10 kr delas mellan regioner som uppfyller villkoret i förhållande till befolkning.befolkning
  avrundning hela kronor, halvt uppåt per andel
  betalas senast 2021-03-31
slut
"""
    loaded = load_agreement_text(HEADER.replace("  befolkning: heltal obligatorisk positiv",
                                                "  befolkning: heltal obligatorisk positiv\n"
                                                "  datum: datum") + src)
    warnings = {d.code for d in loaded.diagnostics if d.severity == "varning"}
    assert {"V156", "V157"} <= warnings


def test_a_flood_of_errors_is_capped_with_a_note():
    src = "".join(f"värde v{i} = okänd{i}\n  källa d\n" for i in range(80))
    loaded = load_agreement_text(HEADER + src)
    assert len(loaded.diagnostics) == 51 and loaded.diagnostics[-1].code == "V009"


def test_conditional_needs_a_condition_and_matching_branches():
    assert "V110" in codes("värde x: belopp = om 1 kr då 2 kr annars 3 kr\n  källa d\n")
    assert "V110" in codes("värde x = om ja då 2 kr annars 2020-01-01\n  källa d\n")
    assert "V110" not in codes("värde x: belopp = om ja då 2 kr annars 0 kr\n  källa d\n")


@pytest.mark.parametrize(("file", "ok"), [("t.csv", True), ("t.XLSX", True),
                                          ("t.parquet", True), ("t.xls", False), ("t", False)])
def test_a_file_format_nobody_can_read_is_found_at_check(file, ok):
    src = (f'tabell t fil "{file}" per g nyckel id\n  id: kod\n  a: ja/nej\nslut\n'
           "mottagargrupp g från t namn id\n")
    assert ("V211" not in codes(src)) == ok


# ---- issue 11: one meaning, and what `check` accepts runs -------------------------------------

def _diags(src: str) -> list[str]:
    from villkor_engine.pipeline import load_agreement_text
    return [d.code for d in load_agreement_text(src, "t.villkor").diagnostics if d.is_error]


def test_villkor_n_in_an_amount_for_no_recipient_is_refused():
    """`villkor 1` in a fixed amount has no recipient to be tried for (it was an `assert`)."""
    src = HEADER + """
villkor 1 "V"
  gäller regioner
  källa d
  krav ja
slut
utbetalning p "P"
  villkor 1
  källa d
  belopp om villkor 1 då 5 kr annars 0 kr till SoS
slut
mottagargrupp nationella
  SoS "Socialstyrelsen"
slut
"""
    assert _diags(src) == ["V107"]


def test_a_fil_outside_the_data_folder_is_refused_at_check():
    for name in ("../befolkning.csv", "/etc/befolkning.csv", "a\\\\b.csv"):
        assert "V214" in _diags(HEADER.replace('fil "befolkning.csv"', f'fil "{name}"'))


def test_an_assumption_is_no_citation_and_cirka_compares_numbers():
    src = HEADER + """
värde a: belopp = 5 kr
  antagande "källan är tyst"
kontroll "k" a är cirka "fem"
  källa d
"""
    codes = _diags(src)
    assert "V140" in codes and "V110" in codes


def test_only_members_of_the_group_and_a_repayment_rule_that_means_something():
    src = HEADER + """
mottagargrupp nationella
  SoS "Socialstyrelsen"
slut
villkor 1 "V"
  gäller nationella endast SKR
  källa d
  krav ja
slut
"""
    assert _diags(src) == ["V105"]


def test_a_payment_that_reaches_members_its_endast_villkor_does_not_apply_to_is_flagged():
    """`gäller G endast A`: a payment under that villkor to a member outside it, or to the
    whole group, pays those members without trying them against the villkor (V155, a
    warning that says who); one given only to the members it applies to is not flagged."""
    from villkor_engine.pipeline import load_agreement_text

    src = HEADER + """
mottagargrupp nationella
  SKR "SKR"
  FK "FK"
  SoS "SoS"
slut
villkor 5 "V5"
  gäller nationella endast SKR, SoS
  källa d
  krav bedömning krävs
slut
utbetalning alla "Alla"
  villkor 5
  källa d
  belopp 100 kr till varje mottagare i nationella
  avrundning hela kronor, halvt uppåt per andel
slut
utbetalning fk "Till FK"
  villkor 5
  källa d
  belopp 50 kr till FK
slut
utbetalning skr "Till SKR"
  villkor 5
  källa d
  belopp 50 kr till SKR
slut
"""
    diags = load_agreement_text(src, "t.villkor").diagnostics
    flagged = [(d.code, d.message) for d in diags if d.code == "V155"]
    assert not any(d.is_error for d in diags)
    assert len(flagged) == 2
    assert "`alla`" in flagged[0][1] and "FK får beloppet" in flagged[0][1]
    assert "SKR får" not in flagged[0][1] and "SoS får" not in flagged[0][1]
    assert "`fk` går till FK" in flagged[1][1]
