"""Money expressions the plan can hold: linear in measures, over a denominator known in advance.

An amount such as `(om villkor 2 då pris * summa(listade.n) / 15 000 annars 0 kr) + summa(p.b)`
is, in öre, an integer SQL expression over a constant denominator: each measure (a column of the
member's row, `antal(…)` or `summa(…)` of its records; belopp held in öre) times a known factor,
added, subtracted, negated, scaled by known numbers, and chosen by `om … då … annars`. `scale`
finds the denominator before the run (None: not linear, left to the reference); `render` writes
the numerator with, as the reference's evaluator decides it, why the value is missing (the first
missing operand, left to right; an undecided `om` test) and that Missing's verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from ..syntax import ast
from .linear import MEASURES, constant_value, unit_of
from .sqltext import SAKNAS, verdict_text

if TYPE_CHECKING:   # the compiler is passed in
    from .verdicts import Compiler

@dataclass(frozen=True)
class Rendered:
    """`num` öre·den as an integer SQL expression (NULL-free when `why` is NULL), `why` the
    reason it is missing or NULL, `verdict` that reason's verdict code."""

    num: str
    why: str
    verdict: str


def render(comp: Compiler, e: ast.Expr, factor: Fraction) -> Rendered:
    """`factor`·e as an integer SQL expression (factor: öre·den per unit of e, so that every
    coefficient is whole; `scale` found the den)."""
    plan = comp.plan
    c = constant_value(e, plan.model, plan.version)
    if isinstance(c, Fraction):
        value = factor * c
        assert value.denominator == 1   # `scale` chose the denominator
        return Rendered(f"CAST({value.numerator} AS BIGINT)", "CAST(NULL AS VARCHAR)",
                        str(SAKNAS))
    if isinstance(e, MEASURES):
        unit = unit_of(e, plan.model)
        assert unit is not None
        k = factor / unit
        assert k.denominator == 1
        if isinstance(e, ast.ColumnRef):
            col, why = comp.column(e, None), comp.why_blank(e)
        else:
            assert isinstance(e, (ast.TotalOf, ast.Count))
            col, why = comp.measure(e)
        return Rendered(f"CAST({k.numerator} AS BIGINT) * COALESCE({col}, 0)", why,
                        str(SAKNAS))
    if isinstance(e, ast.Negate):
        return render(comp, e.operand, -factor)
    if isinstance(e, ast.Conditional):
        test = f"({comp.verdict(e.test)})"
        a, b = render(comp, e.then, factor), render(comp, e.otherwise, factor)
        undecided = f"'villkoret i `om` är ' || {verdict_text(test)}"
        return Rendered(f"CASE {test} WHEN 0 THEN {a.num} WHEN 3 THEN {b.num} ELSE 0 END",
                        f"CASE {test} WHEN 0 THEN {a.why} WHEN 3 THEN {b.why} ELSE {undecided} "
                        "END",
                        f"CASE {test} WHEN 0 THEN {a.verdict} WHEN 3 THEN {b.verdict} ELSE "
                        f"{test} END")
    assert isinstance(e, ast.Binary)   # `scale` admitted nothing else
    if e.op in "+-":
        a, b = render(comp, e.left, factor), render(comp, e.right, factor)
        return Rendered(f"({a.num}) {e.op} ({b.num})", f"COALESCE({a.why}, {b.why})",
                        f"CASE WHEN {a.why} IS NOT NULL THEN {a.verdict} ELSE {b.verdict} END")
    right = constant_value(e.right, plan.model, plan.version)
    if e.op == "/":
        return render(comp, e.left, factor / right)
    if isinstance(right, Fraction):
        return render(comp, e.left, factor * right)
    left = constant_value(e.left, plan.model, plan.version)
    return render(comp, e.right, factor * left)


