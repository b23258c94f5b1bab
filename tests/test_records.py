"""Record tables: antal/summa/andel over a recipient's records, periods, and missing ≠ 0 %."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from villkor_engine.eval.values import V
from villkor_engine.pipeline import evaluate, load_agreement_text

ROOT = Path(__file__).resolve().parents[1]

AGREEMENT = """
överenskommelse "Poster"
slut
dokument d "Testdokument"
tabell intyg fil "intyg.csv" poster
  enhet: kod obligatorisk
  datum: datum obligatorisk
  komplett: ja/nej
  kostnad: belopp valfri
slut
mottagargrupp enheter från intyg via enhet
villkor 1 "Minst 70 % kompletta under 2010"
  gäller enheter
  källa d
  krav andel(intyg där intyg.komplett är ja bland intyg.datum mellan 2010-01-01 och 2010-12-31) >= 70 %
slut
utbetalning p "Kostnad 2010"
  villkor 1
  källa d
  belopp summa(intyg.kostnad där intyg.datum mellan 2010-01-01 och 2010-12-31) till varje mottagare i enheter
  avrundning öre, halvt uppåt
slut
"""


def run(tmp_path: Path, rows: list[str]):
    loaded = load_agreement_text(AGREEMENT, "poster.villkor")
    assert loaded.ok, [d.header() for d in loaded.diagnostics]
    (tmp_path / "intyg.csv").write_text("enhet,datum,komplett,kostnad\n" + "\n".join(rows) + "\n",
                                        encoding="utf-8")
    result, _, diags = evaluate(loaded.model, tmp_path, {})
    assert result is not None, [d.header() for d in diags]
    return {(r.recipient.code, r.villkor): r for r in result.rows}


def unit(code: str, good: int, total: int, year: int = 2010) -> list[str]:
    return [f"{code},{year}-05-01,{'ja' if i < good else 'nej'},10" for i in range(total)]


@pytest.mark.parametrize("good, total, verdict", [
    (699, 1000, V.EJ_UPPFYLLT),   # 69,9 %
    (7, 10, V.UPPFYLLT),          # 70,0 % exactly: "minst 70 procent"
    (701, 1000, V.UPPFYLLT),
])
def test_threshold_at_its_edges(tmp_path, good, total, verdict):
    rows = run(tmp_path, unit("A", good, total))
    assert rows[("A", "1")].verdict == verdict


def test_records_outside_the_period_are_not_in_the_denominator(tmp_path):
    rows = run(tmp_path, unit("A", 7, 10) + unit("A", 0, 50, year=2009))
    assert rows[("A", "1")].verdict == V.UPPFYLLT
    assert rows[("A", "1")].amount == 100          # 10 certificates × 10 kr in 2010 only


def test_a_unit_with_no_records_in_the_period_is_missing_not_zero(tmp_path):
    rows = run(tmp_path, unit("A", 7, 10) + unit("B", 5, 5, year=2009))
    assert rows[("B", "1")].verdict == V.UNDERLAG_SAKNAS
    assert "inga poster" in repr(rows[("B", "1")].steps)


def test_one_undecidable_record_makes_the_share_missing(tmp_path):
    rows = run(tmp_path, unit("A", 9, 10) + ["A,2010-06-01,,10"])
    assert rows[("A", "1")].verdict == V.UNDERLAG_SAKNAS
    assert "1 poster i intyg.csv kan inte prövas" in repr(rows[("A", "1")].steps)


def test_recipients_are_the_distinct_values_sorted(tmp_path):
    rows = run(tmp_path, unit("B", 1, 1) + unit("A", 1, 1))
    assert [k for k in rows if k[1] == "summa"] == [("A", "summa"), ("B", "summa")]


def test_blank_amount_in_a_summed_record_is_missing(tmp_path):
    rows = run(tmp_path, unit("A", 10, 10) + ["A,2010-07-01,ja,"])
    assert rows[("A", "1")].amount is None
    assert rows[("A", "1")].verdict == V.UNDERLAG_SAKNAS


def test_record_columns_are_only_readable_inside_an_aggregate():
    src = AGREEMENT.replace("krav andel(intyg där intyg.komplett är ja bland intyg.datum mellan "
                            "2010-01-01 och 2010-12-31) >= 70 %", "krav intyg.komplett är ja")
    loaded = load_agreement_text(src)
    assert "V107" in [d.code for d in loaded.diagnostics]


def test_aggregate_over_an_unlinked_table_is_an_error():
    src = AGREEMENT + """
tabell annat fil "annat.csv" poster
  x: heltal
slut
villkor 2 "X"
  gäller enheter
  källa d
  krav antal(annat) > 0
slut
"""
    loaded = load_agreement_text(src)
    assert "V106" in [d.code for d in loaded.diagnostics]


def test_share_denominator_filter_must_be_a_condition():
    src = AGREEMENT.replace("bland intyg.datum mellan 2010-01-01 och 2010-12-31",
                            "bland intyg.kostnad")
    loaded = load_agreement_text(src)
    assert "V110" in [d.code for d in loaded.diagnostics]


def test_count_reads_are_summarised_with_their_rows(tmp_path):
    rows = run(tmp_path, unit("A", 2, 3))
    def walk(steps):
        for s in steps:
            yield s
            yield from walk(s.children)
    reads = [r for s in walk(rows[("A", "1")].steps) for r in s.reads]
    share = next(r for r in reads if r.what == "andel(intyg)")
    assert share.value == "2 av 3" and "rader 2, 3" in share.where


def test_stray_records_are_kept_and_warned(tmp_path):
    src = """
överenskommelse "Länk"
slut
dokument d "D"
mottagargrupp vc
  612300 "Lextorp"
slut
tabell rader fil "rader.csv" poster per vc via enhet
  enhet: kod
  belopp: belopp
slut
kontroll "alla rader räknas" summa(rader.belopp) = 30 kr
  källa d
utbetalning p "P"
  utan villkor
  källa d
  belopp summa(rader.belopp) till varje mottagare i vc
  avrundning öre, halvt uppåt
slut
"""
    loaded = load_agreement_text(src)
    assert loaded.ok, loaded.diagnostics
    (tmp_path / "rader.csv").write_text("enhet,belopp\n612300,10\n999999,20\n",
                                        encoding="utf-8")
    result, _, diags = evaluate(loaded.model, tmp_path, {})
    assert [d.code for d in diags] == ["V210"] and diags[0].severity == "varning"
    assert next(r for r in result.rows if r.villkor == "p").amount == Fraction(10)


def test_a_value_cannot_count_records_the_aggregate_goes_where_it_is_used(tmp_path):
    """One meaning: a `värde` is the same for every recipient, so it cannot count records
    (`antal_samtal = antal(samtal)` used per unit paid every unit for all units' records).
    `check` refuses it (V107); written where it is used, each recipient counts its own."""
    value = AGREEMENT + """
värde totalt: belopp = summa(intyg.kostnad)
  källa d
utbetalning q "Per enhet"
  utan villkor
  källa d
  belopp totalt * 0,5 till varje mottagare i enheter
  avrundning öre, halvt uppåt
slut
"""
    loaded = load_agreement_text(value)
    assert not loaded.ok and [d.code for d in loaded.diagnostics] == ["V107"]
    assert "värdet totalt" in loaded.diagnostics[0].message
    inline = AGREEMENT + """
utbetalning q "Per enhet"
  utan villkor
  källa d
  belopp summa(intyg.kostnad) * 0,5 till varje mottagare i enheter
  avrundning öre, halvt uppåt
slut
"""
    loaded = load_agreement_text(inline)
    assert loaded.ok, loaded.diagnostics
    (tmp_path / "intyg.csv").write_text("enhet,datum,komplett,kostnad\nA,2010-01-01,ja,10\n"
                                        "B,2010-01-01,ja,20\nB,2010-01-02,ja,20\n",
                                        encoding="utf-8")
    result, _, diags = evaluate(loaded.model, tmp_path, {})
    paid = {r.recipient.code: r.amount for r in result.rows if r.villkor == "q"}
    assert paid == {"A": 5, "B": 20}


def test_a_summa_that_is_met_says_why_when_a_villkor_is_not():
    """LFC1 misses the 70 % goal (villkor 2) but its money is `utan villkor`: the summa row is
    `uppfyllt`, and says why, so the file does not seem to contradict itself."""
    from villkor_engine.pipeline import load_agreement

    model = load_agreement(ROOT / "agreements" / "fk-vgr-2010.villkor").model
    result, _, _ = evaluate(model, ROOT / "examples" / "fk-vgr-2010", {})
    rows = {(r.recipient.code, r.villkor): r for r in result.rows}
    assert rows[("LFC1", "2")].verdict.value == "ej uppfyllt"
    assert rows[("LFC1", "summa")].verdict.value == "uppfyllt"
    assert "villkor 2 (ej uppfyllt) har ingen utbetalning och påverkar inte summan" in \
        rows[("LFC1", "summa")].note
    assert "påverkar inte" not in rows[("LFC2", "summa")].note
