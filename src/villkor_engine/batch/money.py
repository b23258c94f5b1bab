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
from math import lcm
from typing import TYPE_CHECKING

from ..model import types as T
from ..model.model import Model, Version
from ..syntax import ast
from .plan import PER_UNIT, constant_value

if TYPE_CHECKING:   # the compiler is passed in; this module is below sql.py's steps
    from .sql import Compiler

MEASURES = (ast.ColumnRef, ast.TotalOf, ast.Count)


@dataclass(frozen=True)
class Rendered:
    """`num` öre·den as an integer SQL expression (NULL-free when `why` is NULL), `why` the
    reason it is missing or NULL, `verdict` that reason's verdict code."""

    num: str
    why: str
    verdict: str


def unit_of(e: ast.Expr, model: Model) -> int | None:
    """What one SQL unit of a measure is worth in the reference's numbers: a belopp column is
    held in öre (1/100 kr); heltal columns and counts are whole. None: not a number column."""
    if isinstance(e, ast.Count):
        return 1
    spec = model.records.get(e.table) or model.tables.get(e.table)   # type: ignore[union-attr]
    column = spec.columns.get(e.column) if spec is not None else None   # type: ignore[union-attr]
    if column is None or column.type not in PER_UNIT:
        return None
    return 100 if column.type == T.BELOPP else 1


def scale(e: ast.Expr, model: Model, version: Version, factor: Fraction = Fraction(100)
          ) -> int | None:
    """The least denominator d such that `factor`·e (öre for a money expression) is an integer
    combination of its measures over d; None where e is not linear in them."""
    c = constant_value(e, model, version)
    if isinstance(c, Fraction):
        return (factor * c).denominator
    if isinstance(e, MEASURES):
        unit = unit_of(e, model)
        return None if unit is None else (factor / unit).denominator
    if isinstance(e, ast.Negate):
        return scale(e.operand, model, version, -factor)
    if isinstance(e, ast.Conditional):
        a, b = scale(e.then, model, version, factor), scale(e.otherwise, model, version, factor)
        return None if a is None or b is None else lcm(a, b)
    if isinstance(e, ast.Binary) and e.op in "+-":
        a, b = scale(e.left, model, version, factor), scale(e.right, model, version, factor)
        return None if a is None or b is None else lcm(a, b)
    if isinstance(e, ast.Binary) and e.op in "*/":
        right = constant_value(e.right, model, version)
        left = constant_value(e.left, model, version)
        if e.op == "/" and isinstance(right, Fraction) and right != 0:
            return scale(e.left, model, version, factor / right)
        if e.op == "*" and isinstance(right, Fraction):
            return scale(e.left, model, version, factor * right)
        if e.op == "*" and isinstance(left, Fraction):
            return scale(e.right, model, version, factor * left)
    return None


def measures(e: ast.Expr) -> list[ast.Expr]:
    """The measures and `om` tests an expression reads (for the plan's checks)."""
    if isinstance(e, MEASURES):
        return [e]
    found: list[ast.Expr] = []
    if isinstance(e, ast.Conditional):
        found.append(e.test)
    for child in ast.children(e):
        found += measures(child)
    return found


def render(comp: Compiler, e: ast.Expr, factor: Fraction) -> Rendered:
    """`factor`·e as an integer SQL expression (factor: öre·den per unit of e, so that every
    coefficient is whole; `scale` found the den)."""
    from .sql import SAKNAS, verdict_text

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


def money_text(num: str, den: int) -> str:
    """num/den öre as eval/values.py's `swedish_money` writes it: `1 234 kr`, `1 234,50 kr`,
    `−3,33 kr (avrundat för visning)` (num: a column, named often)."""
    from .settle import grouped
    from .sql import lit

    d = 100 * den                   # per krona
    whole = f"(ABS({num}) // {d})"
    rest = f"(ABS({num}) % {d})"
    cents = f"((200 * {rest} + {d}) // {2 * d})"
    tail = (f"CASE WHEN {rest} = 0 THEN '' ELSE ',' || CASE WHEN {cents} < 10 THEN '0' ELSE '' "
            f"END || CAST({cents} AS VARCHAR) END || ' kr'")
    if den != 1:
        tail += (f" || CASE WHEN (100 * {rest}) % {d} <> 0 THEN ' (avrundat för visning)' "
                 "ELSE '' END")
    return (f"CASE WHEN {num} < 0 THEN {lit(chr(0x2212))} ELSE '' END || {grouped(whole)} || "
            f"{tail}")
