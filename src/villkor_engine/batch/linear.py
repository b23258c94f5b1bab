"""What the plan knows before the run: constants, and money expressions linear in measures.

An amount such as `(om villkor 2 då pris * summa(listade.n) / 15 000 annars 0 kr) + summa(p.b)`
is, in öre, an integer combination of its measures (a column of the member's row, `antal(…)` or
`summa(…)` of its records; belopp held in öre) over a denominator known in advance: `scale`
finds it (None: not linear, left to the reference); batch/money.py writes the SQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction
from math import lcm

from ..eval.interpreter import Env, evaluate
from ..eval.values import Missing
from ..io.data import Dataset
from ..model import types as T
from ..model.model import Model, Version
from ..syntax import ast

# a number column's cell is held in SQL as a whole number: its value times this (a belopp in
# öre, a decimaltal or andel in 10^-18 in 128 bits: exact for up to 18 decimals)
DECIMAL_PLACES = 18
HELD_IN = {T.HELTAL: 1, T.BELOPP: 100, T.DECIMALTAL: 10 ** DECIMAL_PLACES,
           T.ANDEL: 10 ** DECIMAL_PLACES}
# what one unit of a column's SQL integer is worth in amounts, which are 64-bit: only whole
# numbers and öre
PER_UNIT = {t: HELD_IN[t] for t in (T.HELTAL, T.BELOPP)}


def with_params(model: Model, params: dict) -> Model:
    """The model with each given `--param` value as its parameter's default: known before the
    run, so the plan holds it as a constant, and the kontroll the runner decides on the
    model (`loop.decide_checks`) reads it as the reference does with the same values."""
    if not params:
        return model
    literal = {bool: ast.Bool, str: ast.Str, date: ast.DateLit}
    parameters = dict(model.parameters)
    for name, value in params.items():
        spec = parameters[name]
        node = literal[type(value)](value, spec.span) if type(value) in literal else \
            ast.Num(Fraction(value), None, spec.span)
        parameters[name] = replace(spec, default=node)
    return replace(model, parameters=parameters)


def _without_inputs(e: ast.Expr, model: Model, version: Version):
    """The value of an expression that reads no table, record or villkor, as the reference
    evaluator computes it (a Missing for a parameter without value), or None where it reads
    one."""
    if any(isinstance(x, (ast.ColumnRef, ast.Count, ast.ShareOf, ast.TotalOf, ast.VillkorRef))
           for x in ast.walk(e)):
        return None
    return evaluate(e, Env(model, version, Dataset({}, {}), {}))


def constant_value(e: ast.Expr, model: Model, version: Version):
    """What an expression without inputs is (`70 %`, `1/2`, `delmål`, a date, a text), or None.

    Values and parameters with defaults come out as the reference evaluator computes them; an
    expression that reads a table, a record or a villkor is no constant."""
    value = _without_inputs(e, model, version)
    return value if isinstance(value, (Fraction, str, date)) and not isinstance(value, bool) \
        else None


def missing_constant(e: ast.Expr, model: Model, version: Version) -> str | None:
    """The reason an expression without inputs is missing (a parameter with no value), or
    None."""
    value = _without_inputs(e, model, version)
    return value.reason if isinstance(value, Missing) else None


MEASURES = (ast.ColumnRef, ast.TotalOf, ast.Count)


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
