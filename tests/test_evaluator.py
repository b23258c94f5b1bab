"""Checked model + data → verdicts, exact amounts and traces (the reference evaluator).

Expected amounts are computed here independently, in integers, from the population file:
share = pot × population / total, rounded half up — Försäkringskassan's way.
"""

from __future__ import annotations

import csv
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from villkor_engine.eval.values import V
from villkor_engine.pipeline import evaluate


def population(data: Path) -> dict[str, int]:
    with open(data / "befolkning.csv", encoding="utf-8") as f:
        return {r["lanskod"]: int(r["befolkning"]) for r in csv.DictReader(f)}


def half_up(num: int, den: int) -> int:
    return (2 * num + den) // (2 * den)


def _rewrite(path: Path, keep, change=lambda r: None) -> None:
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0])
    rows = [r for r in rows if keep(r)]
    for r in rows:
        change(r)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def set_answer(data: Path, lanskod: str, column: str, value: str) -> None:
    """A region's new answer; Försäkringskassan has not decided on it yet, so the region's
    decisions are withdrawn from granskning.csv (the answers alone then say what they give)."""
    _rewrite(data / "redovisning.csv", lambda r: True,
             lambda r: r.__setitem__(column, value) if r["lanskod"] == lanskod else None)
    withdraw_decisions(data, lanskod)


def withdraw_decisions(data: Path, lanskod: str) -> None:
    if (data / "granskning.csv").is_file():
        _rewrite(data / "granskning.csv", lambda r: r["lanskod"] != lanskod)


def run(model, data, params=None, per=None):
    result, _, diags = evaluate(model, data, params or {}, per)
    assert result is not None, [d.header() for d in diags]
    return {(r.recipient.code, r.villkor): r for r in result.rows}, result


def test_all_regions_fulfil_villkor_1_and_2_and_are_paid_by_population(model_2020, data_2020):
    rows, result = run(model_2020, data_2020)
    pop = population(data_2020)
    total = sum(pop.values())
    assert len(pop) == 21 and total == 10_319_473
    for code, p in pop.items():
        assert rows[(code, "1")].verdict == V.UPPFYLLT
        assert rows[(code, "2")].verdict == V.UPPFYLLT
        assert rows[(code, "1")].amount == half_up(100_000_000 * p, total)
        assert rows[(code, "2")].amount == half_up(140_000_000 * p, total)
        # the region's sum is the exact sum of its shares, rounded once
        assert rows[(code, "summa")].amount == half_up(240_000_000 * p, total)
    assert rows[("09", "1")].amount == 577_898


def test_rounding_difference_per_pot_is_shown(model_2020, data_2020):
    _, result = run(model_2020, data_2020)
    pot = next(p for p in result.pots if p.payment.name == "v2_regionerna")
    assert pot.exact_total == 140_000_000
    assert pot.paid_total - pot.exact_total == pot.rounding_difference
    assert abs(pot.rounding_difference) <= Fraction(21, 2)


def test_gotland_answering_nej_gets_nothing_and_the_others_share_the_pot(model_2020, data_2020):
    set_answer(data_2020, "09", "2.2a", "nej")
    rows, result = run(model_2020, data_2020)
    assert rows[("09", "2")].verdict == V.EJ_UPPFYLLT
    assert rows[("09", "2")].amount == 0
    # its villkor 1 answers are yes, but the withdrawn decision leaves that to the reviewers
    assert rows[("09", "1")].verdict == V.BEDOMNING_KRAVS
    pop = population(data_2020)
    others = sum(p for c, p in pop.items() if c != "09")
    exact = sum(rows[(c, "2")].exact for c in pop if c != "09")
    assert exact == 140_000_000
    for c, p in pop.items():
        if c != "09":
            assert rows[(c, "2")].amount == half_up(140_000_000 * p, others)


@pytest.mark.parametrize("answer, description", [("", "Beskrivning"), ("ja", "")])
def test_blank_answer_or_missing_description_is_underlag_saknas(model_2020, data_2020, answer,
                                                               description):
    set_answer(data_2020, "09", "2.2a", answer)
    set_answer(data_2020, "09", "2.2b", description)
    rows, result = run(model_2020, data_2020)
    assert rows[("09", "2")].verdict == V.UNDERLAG_SAKNAS
    assert rows[("09", "2")].amount is None
    pot = next(p for p in result.pots if p.payment.name == "v2_regionerna")
    assert any("preliminära" in n for n in pot.notes)


def test_nej_decides_even_when_something_else_is_missing(model_2020, data_2020):
    set_answer(data_2020, "09", "2.1a", "")
    set_answer(data_2020, "09", "2.2a", "NEJ")
    rows, _ = run(model_2020, data_2020)
    assert rows[("09", "2")].verdict == V.EJ_UPPFYLLT


def test_late_report_needs_judgement(model_2020, data_2020):
    set_answer(data_2020, "09", "inkom", "2020-12-14")
    rows, _ = run(model_2020, data_2020)
    assert rows[("09", "1")].verdict == V.BEDOMNING_KRAVS
    assert rows[("09", "1")].amount is None
    notes = [n for s in rows[("09", "1")].steps for c in s.children for g in c.children
             for n in g.notes]
    assert any("3 dagar efter fristen" in n for n in notes)


def test_review_decision_overrides_the_answers(model_2020, data_2020):
    (data_2020 / "granskning.csv").write_text(
        "lanskod,villkor,beslut,begard\n09,1,underkänd,\n01,2,komplettering,2021-01-22\n",
        encoding="utf-8")
    rows, _ = run(model_2020, data_2020, per=date(2021, 3, 1))
    assert rows[("09", "1")].verdict == V.EJ_UPPFYLLT
    assert rows[("01", "2")].verdict == V.UNDERLAG_SAKNAS
    text = repr(rows[("01", "2")].steps)
    assert "svar senast 2021-02-05" in text and "svarsfristen gick ut" in text


def test_version_before_the_amendment_leaves_it_to_a_person(model_2020, data_2020):
    rows, result = run(model_2020, data_2020, per=date(2020, 6, 1))
    assert result.version.label == "grundöverenskommelsen"
    assert rows[("09", "1")].verdict == V.BEDOMNING_KRAVS
    rows, result = run(model_2020, data_2020, per=date(2020, 6, 16))
    assert "juni2020" in result.version.label
    assert rows[("09", "1")].verdict == V.UPPFYLLT


def test_villkor_3_needs_its_rate_and_is_capped(model_2020, data_2020):
    rows, _ = run(model_2020, data_2020)
    assert rows[("01", "3")].verdict == V.UNDERLAG_SAKNAS
    lines = ["lanskod,psykisk_kvinnor,psykisk_män,smärta_kvinnor,smärta_män,kontakter,inkom"]
    lines += [f"{c},10,8,5,3,{k},2021-08-01" for c, k in
              (("01", 30_000), ("09", 10_000), ("14", 20_000))]
    (data_2020 / "behandlingar.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # 60 000 contacts × 1 000 kr = 60 MSEK > 50 MSEK cap: everyone scaled by 5/6
    rows, result = run(model_2020, data_2020, {"ersättning_per_kontakt": Fraction(1000)})
    assert rows[("01", "3")].amount == 25_000_000
    assert rows[("09", "3")].amount == half_up(10_000 * 1000 * 5, 6)
    assert rows[("14", "3")].amount == half_up(20_000 * 1000 * 5, 6)
    assert rows[("03", "3")].verdict == V.UNDERLAG_SAKNAS   # no row: missing, not zero
    pot = next(p for p in result.pots if p.payment.name == "v3_kontakter")
    assert pot.exact_total == 50_000_000


def test_runtime_kontroll_on_parameters(model_2020, data_2020):
    params = {"v4_skr": Fraction(1), "v4_fk": Fraction(1), "v4_socialstyrelsen": Fraction(1)}
    result, _, diags = evaluate(model_2020, data_2020, params)
    assert result is None and [d.code for d in diags] == ["V160"]


def test_trace_cites_sources_and_inputs(model_2020, data_2020):
    from villkor_engine.explain import explain_rows
    rows, result = run(model_2020, data_2020)
    text = explain_rows(model_2020, result, [rows[("09", "2")]])
    assert "delvillkor 2.2" in text
    assert "läste redovisning.2.2a = ja (redovisning.csv rad 9)" in text
    assert "Bilaga 1, fråga 2.2 a och b" in text
    assert "andel = 140 000 000 kr × 59636 / 10319473" in text
    assert "avrundat till hela kronor, halvt uppåt, per andel: 809 057 kr" in text


def test_blank_receipt_date_is_missing_but_an_absent_column_is_not_tested(model_2020, data_2020):
    set_answer(data_2020, "09", "inkom", "")
    rows, _ = run(model_2020, data_2020)
    assert rows[("09", "2")].verdict == V.UNDERLAG_SAKNAS
    path = data_2020 / "redovisning.csv"
    with open(path, encoding="utf-8") as f:
        table = [{k: v for k, v in r.items() if k != "inkom"} for r in csv.DictReader(f)]
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    rows, _ = run(model_2020, data_2020)
    # in time by the answers alone, but no decision yet: a person decides, never automatically
    assert rows[("09", "2")].verdict == V.BEDOMNING_KRAVS
    assert "fristen har inte prövats" in repr(rows[("09", "2")].steps)


def test_capped_amounts_are_preliminary_while_others_are_pending(model_2020, data_2020):
    (data_2020 / "behandlingar.csv").write_text(
        "lanskod,psykisk_kvinnor,psykisk_män,smärta_kvinnor,smärta_män,kontakter\n"
        "01,1,1,1,1,40000\n", encoding="utf-8")
    _, result = run(model_2020, data_2020, {"ersättning_per_kontakt": Fraction(1500)})
    pot = next(p for p in result.pots if p.payment.name == "v3_kontakter")
    assert any("preliminära" in n for n in pot.notes)


def test_without_a_decision_a_regions_own_yes_is_not_uppfyllt(model_2020, data_2020):
    """FK and Socialstyrelsen review, FK decides (fk, "Vad händer sedan?"): with no decision
    the answers alone give `bedömning krävs`, never `uppfyllt`; a `nej` still gives nothing."""
    (data_2020 / "granskning.csv").unlink()
    set_answer(data_2020, "09", "2.2a", "nej")
    rows, result = run(model_2020, data_2020)
    assert rows[("01", "1")].verdict == V.BEDOMNING_KRAVS and rows[("01", "1")].amount is None
    assert "svaren ensamma ger: uppfyllt" in repr(rows[("01", "1")].steps)
    assert rows[("09", "2")].verdict == V.EJ_UPPFYLLT
    pot = next(p for p in result.pots if p.payment.name == "v1_regionerna")
    assert pot.paid_total == 0 and pot.counts["bedömning krävs"] == 21


def test_a_blank_decision_is_no_decision(model_2020, data_2020):
    """A decision table whose `beslut` column is not `obligatorisk`: a blank cell is no decision
    (it crashed the evaluator with a KeyError before)."""
    from villkor_engine.pipeline import load_agreement_text

    text = model_2020.text.replace("beslut: kod(godkänd, underkänd, komplettering) obligatorisk",
                                   "beslut: kod(godkänd, underkänd, komplettering)")
    loaded = load_agreement_text(text, "ändrad.villkor")
    assert loaded.ok, [d.header() for d in loaded.diagnostics]
    _rewrite(data_2020 / "granskning.csv", lambda r: True,
             lambda r: r.__setitem__("beslut", "") if r["lanskod"] == "09" else None)
    rows, _ = run(loaded.model, data_2020)
    assert rows[("09", "1")].verdict == V.BEDOMNING_KRAVS
    assert rows[("01", "1")].verdict == V.UPPFYLLT


def test_capped_pot_pays_at_most_its_cap_after_rounding(model_2020, data_2020):
    """Villkor 3: "högst 50 miljoner kronor". Scaled shares rounded half up one by one can sum
    to 50 000 001 kr; the cap holds after rounding (largest remainder), the row says why."""
    pop = population(data_2020)
    lines = ["lanskod,psykisk_kvinnor,psykisk_män,smärta_kvinnor,smärta_män,kontakter,inkom"]
    lines += [f"{c},1,1,1,1,{p // 100 + i * 2},2021-08-01" for i, (c, p) in
              enumerate(pop.items())]
    (data_2020 / "behandlingar.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows, result = run(model_2020, data_2020, {"ersättning_per_kontakt": Fraction(1500)})
    paid = sum(rows[(c, "3")].amount for c in pop)
    exact = [rows[(c, "3")].exact for c in pop]
    assert sum(half_up(x.numerator, x.denominator) for x in exact) > 50_000_000  # half up: over
    assert paid == 50_000_000
    pot = next(p for p in result.pots if p.payment.name == "v3_kontakter")
    assert pot.paid_total == 50_000_000 and pot.paid_total - pot.rounding_difference == pot.pot
    assert any("största rest" in n for n in pot.notes)
    assert "skalat ned till taket totalt" in rows[("09", "3")].note


def test_pot_whose_fulfilling_keys_are_all_zero_needs_judgement():
    """Division by zero is `bedömning krävs` (the handbook's rule), not a silent 0 kr."""
    from villkor_engine.eval.shares import allocate
    from villkor_engine.syntax import ast

    rounding = ast.Rounding("krona", "halvt uppåt", True)
    rule = ast.Pot(ast.Num(Fraction(100), "kr"), "g", ast.Num(Fraction(0), None))
    alloc = allocate(rule, Fraction(100), {"a": Fraction(0), "b": Fraction(0)}, None, None,
                     rounding)
    assert all(s.verdict == V.BEDOMNING_KRAVS for s in alloc.shares.values())
    assert any("division med noll" in n for n in alloc.notes)
