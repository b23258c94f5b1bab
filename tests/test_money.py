"""Money and verdict algebra: exact shares, declared rounding, four-valued logic."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from villkor_engine.eval.shares import allocate
from villkor_engine.eval.values import (
    V,
    largest_remainder,
    money_text,
    round_half_up,
    v_and,
    v_not,
    v_or,
)
from villkor_engine.syntax import ast

POT = ast.Pot(ast.Num(Fraction(0), "kr"), "g", ast.Name("k"))
HALF_UP = ast.Rounding("krona", "halvt uppåt", True)
LARGEST = ast.Rounding("krona", "största rest", True)


def test_half_up_is_away_from_zero_at_exactly_half():
    assert round_half_up(Fraction(5, 2)) == 3
    assert round_half_up(Fraction(-5, 2)) == -3
    assert round_half_up(Fraction(249, 100)) == 2
    assert round_half_up(Fraction(12345, 1000), "öre") == Fraction(1235, 100)


def test_money_text_has_no_thousands_separator():
    assert money_text(Fraction(577898)) == "577898"
    assert money_text(Fraction(123450, 100)) == "1234.50"
    assert money_text(Fraction(-5, 100)) == "-0.05"


def test_verdict_algebra():
    all4 = list(V)
    for a, b in product(all4, all4):
        assert v_and(a, b) == v_and(b, a) and v_or(a, b) == v_or(b, a)
        assert v_not(v_and(a, b)) == v_or(v_not(a), v_not(b))   # De Morgan holds
    assert v_and(V.EJ_UPPFYLLT, V.UNDERLAG_SAKNAS) == V.EJ_UPPFYLLT   # already decided
    assert v_and(V.UPPFYLLT, V.UNDERLAG_SAKNAS) == V.UNDERLAG_SAKNAS  # missing propagates
    assert v_or(V.UPPFYLLT, V.UNDERLAG_SAKNAS) == V.UPPFYLLT
    assert v_not(V.UNDERLAG_SAKNAS) == V.UNDERLAG_SAKNAS              # missing is not no


keys = st.lists(st.integers(min_value=0, max_value=3_000_000), min_size=1, max_size=40).filter(
    lambda ks: sum(ks) > 0)
pots = st.integers(min_value=0, max_value=10**10)


@settings(max_examples=300, deadline=None)
@given(pot=pots, ks=keys)
def test_pot_shares_add_up_exactly_before_rounding_and_within_bound_after(pot, ks):
    values = {f"r{i}": Fraction(k) for i, k in enumerate(ks)}
    alloc = allocate(POT, Fraction(pot), values, None, None, HALF_UP)
    shares = list(alloc.shares.values())
    assert sum(s.exact for s in shares) == pot
    # each share moves at most half a krona, so the pot at most n/2
    assert all(abs(s.rounded - s.exact) <= Fraction(1, 2) for s in shares)
    assert abs(sum(s.rounded for s in shares) - pot) <= Fraction(len(shares), 2)


@settings(max_examples=300, deadline=None)
@given(pot=pots, ks=keys)
def test_largest_remainder_makes_the_pot_go_exactly(pot, ks):
    values = {f"r{i}": Fraction(k) for i, k in enumerate(ks)}
    alloc = allocate(POT, Fraction(pot), values, None, None, LARGEST)
    shares = list(alloc.shares.values())
    assert sum(s.rounded for s in shares) == pot
    assert all(abs(s.rounded - s.exact) < 1 for s in shares)


@settings(max_examples=200, deadline=None)
@given(amounts=st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=30),
       cap=st.integers(min_value=1, max_value=10**9))
def test_total_cap_scales_proportionally(amounts, cap):
    rule = ast.PerMember(ast.Num(Fraction(0), "kr"), "g")
    values = {f"r{i}": Fraction(a) for i, a in enumerate(amounts)}
    alloc = allocate(rule, None, values, None, Fraction(cap), HALF_UP)
    exact = [alloc.shares[f"r{i}"].exact for i in range(len(amounts))]
    assert sum(exact) == min(Fraction(cap), Fraction(sum(amounts)))
    if sum(amounts) > cap:   # proportions are kept
        for a, e in zip(amounts, exact):
            assert e * sum(amounts) == a * cap


def test_largest_remainder_ties_go_to_the_first():
    assert largest_remainder(Fraction(10), [Fraction(10, 3)] * 3) == [4, 3, 3]


def test_conditional_is_four_valued():
    from villkor_engine.eval.interpreter import Env, evaluate
    from villkor_engine.eval.values import Missing
    from villkor_engine.io.data import Dataset
    from villkor_engine.pipeline import load_agreement_text

    loaded = load_agreement_text('överenskommelse "X"\nslut\ndokument d "D"\n'
                                 "värde a: belopp = 1 kr\n  källa d\n")
    env = Env(loaded.model, loaded.model.version_at(None), Dataset({}, {}), {})
    pick = {v: ast.Conditional(ast.VerdictLit(v.value), ast.Num(Fraction(2), "kr"),
                               ast.Num(Fraction(0), "kr")) for v in V}
    assert evaluate(pick[V.UPPFYLLT], env) == 2
    assert evaluate(pick[V.EJ_UPPFYLLT], env) == 0
    missing = evaluate(pick[V.UNDERLAG_SAKNAS], env)
    assert isinstance(missing, Missing) and missing.verdict == V.UNDERLAG_SAKNAS
    assert evaluate(pick[V.BEDOMNING_KRAVS], env).verdict == V.BEDOMNING_KRAVS


PER_MEMBER = ast.PerMember(ast.Num(Fraction(0), "kr"), "g")
ROUNDINGS = [HALF_UP, LARGEST, ast.Rounding("öre", "halvt uppåt", True), None]
amounts = st.fractions(min_value=0, max_value=10**9, max_denominator=10**4)


@settings(max_examples=300, deadline=None)
@given(st.lists(amounts, min_size=1, max_size=25),
       st.one_of(st.none(), st.fractions(min_value=0, max_value=10**8, max_denominator=100)),
       st.one_of(st.none(), st.fractions(min_value=0, max_value=10**9, max_denominator=100)),
       st.sampled_from(ROUNDINGS[::2] + [None]))
def test_no_capped_payment_ever_exceeds_its_cap(values, cap_each, cap_total, rounding):
    """Caps hold after rounding: no amount above `tak per mottagare`, no sum above `tak
    totalt`, whatever the amounts and the declared rounding."""
    alloc = allocate(PER_MEMBER, None, {str(i): v for i, v in enumerate(values)}, cap_each,
                     cap_total, rounding)
    paid = [s.rounded for s in alloc.shares.values()]
    if cap_each is not None:
        assert all(x <= cap_each for x in paid)
    if cap_total is not None:
        assert sum(paid) <= cap_total


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=25),
       st.integers(min_value=0, max_value=10**10), st.sampled_from([HALF_UP, LARGEST]))
def test_every_pot_is_accounted_for_to_the_last_krona(keys, pot_kr, rounding):
    """paid − rounding difference = the pot (when it can be shared at all); a pot whose keys
    are all 0 shares nothing and says why (`bedömning krävs`), never a silent 0 kr."""
    pot = Fraction(pot_kr)
    alloc = allocate(POT, pot, {str(i): Fraction(k) for i, k in enumerate(keys)}, None, None,
                     rounding)
    if sum(keys) == 0:
        assert all(getattr(s, "verdict", None) == V.BEDOMNING_KRAVS
                   for s in alloc.shares.values())
        return
    exact = sum(s.exact for s in alloc.shares.values())
    paid = sum(s.rounded for s in alloc.shares.values())
    assert exact == pot                       # paid − rounding difference (paid − exact) = pot
    assert abs(paid - exact) <= Fraction(len(keys), 2)
    if rounding is LARGEST:
        assert paid == pot
