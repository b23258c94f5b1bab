"""Evaluating one expression for one recipient, recording every input value it reads.

No eval/exec: the syntax tree is walked node by node. Missing values propagate as `Missing` with
their reason, and logic is four-valued, so a blank answer never turns into `nej`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, NamedTuple

from ..io.dataset import Dataset, Row
from ..model.model import Model, Version
from ..syntax import ast
from .values import (
    Missing,
    V,
    Verdict,
    decimal_text,
    exact_text,
    swedish_money,
    v_and,
    v_not,
    v_or,
)


class Read(NamedTuple):
    """One input value an evaluation used: where it came from and what it was.

    A named tuple rather than a frozen dataclass: one is made for every cell every recipient
    reads, and a tuple is built in a fraction of the time.
    """

    what: str      # "redovisning.2.2a", "parametern x"
    where: str     # "redovisning.csv rad 9" or "--param"
    value: Any


@dataclass(slots=True)
class Env:
    model: Model
    version: Version
    data: Dataset
    params: dict[str, Any]
    recipient: str | None = None
    villkor: str | None = None
    reads: list[Read] = field(default_factory=list)
    # Resolves `villkor 1.1` for the current recipient; set by the engine.
    villkor_verdict: Callable[[str, str], Verdict] | None = None
    value_cache: dict[str, Any] = field(default_factory=dict)
    record: Row | None = None    # the record an aggregate's `där` is looking at
    # aggregates over all records, computed by the column engine (by node id): a kontroll
    # there is decided by the same code as here, without the records in Python
    pushed: dict[int, Any] | None = None

    def at(self, recipient: str | None, villkor: str | None = None) -> Env:
        return Env(self.model, self.version, self.data, self.params, recipient, villkor, [],
                   self.villkor_verdict, self.value_cache, None, self.pushed)


def as_verdict(x: Any) -> Verdict:
    if x.__class__ is Verdict:
        return x
    if isinstance(x, Missing):
        return x.verdict
    if isinstance(x, bool):
        return V.UPPFYLLT if x else V.EJ_UPPFYLLT
    raise TypeError(f"inget utfall: {x!r}")


def evaluate(e: ast.Expr, env: Env) -> Any:
    """One node, by its type: a table lookup instead of a chain of isinstance tests, since
    this runs for every node of every rule for every recipient."""
    try:
        node = _NODES[e.__class__]
    except KeyError:
        raise AssertionError(type(e)) from None
    return node(e, env)


def _literal(e, env: Env) -> Any:
    return e.value


def _verdict_literal(e: ast.VerdictLit, env: Env) -> Any:
    return Verdict(e.value)


def _name_node(e: ast.Name, env: Env) -> Any:
    return _name(e.name, env)


def _column_ref(e: ast.ColumnRef, env: Env) -> Any:
    if e.table in env.model.records:
        value = env.record.values.get(e.column) if env.record is not None else None
        if value is None:
            line = env.record.line if env.record is not None else "?"
            return Missing(f"{env.model.records[e.table].file} rad {line}: {e.column} är tom")
        return value
    return _column(e, env)


def _conditional(e: ast.Conditional, env: Env) -> Any:
    test = as_verdict(evaluate(e.test, env))
    if test == V.UPPFYLLT:
        return evaluate(e.then, env)
    if test == V.EJ_UPPFYLLT:
        return evaluate(e.otherwise, env)
    return Missing(f"villkoret i `om` är {test}", test)


def _between(e: ast.Between, env: Env) -> Any:
    x = evaluate(e.operand, env)
    if isinstance(x, Missing):
        return x
    return V.UPPFYLLT if e.start <= x <= e.end else V.EJ_UPPFYLLT


def _villkor_ref(e: ast.VillkorRef, env: Env) -> Any:
    if env.villkor_verdict is None or env.recipient is None:
        # the checker refuses `villkor N` where no recipient is in question; this is a guard,
        # not an `assert` (which `python -O` would remove)
        return Missing(f"villkor {e.vid} prövas för en mottagare, men här finns ingen",
                       V.BEDOMNING_KRAVS)
    return env.villkor_verdict(e.vid, env.recipient)


def _binary(e: ast.Binary, env: Env) -> Any:
    a, b = evaluate(e.left, env), evaluate(e.right, env)
    for x in (a, b):
        if isinstance(x, Missing):
            return x
    return _arith(e.op, a, b)


def _compare_node(e: ast.Compare, env: Env) -> Any:
    a, b = evaluate(e.left, env), evaluate(e.right, env)
    for x in (a, b):
        if isinstance(x, Missing):
            return x
    return V.UPPFYLLT if _compare(e.op, a, b) else V.EJ_UPPFYLLT


def _about(e: ast.About, env: Env) -> Any:
    """`a är cirka b`: exactly b is uppfyllt; any other value is for a person to judge."""
    a, b = evaluate(e.left, env), evaluate(e.right, env)
    for x in (a, b):
        if isinstance(x, Missing):
            return x
    if a == b:
        return V.UPPFYLLT
    return Missing(about_text(a, b, is_money(e, env.model)), V.BEDOMNING_KRAVS)


def about_text(a: Any, b: Any, money: bool = False) -> str:
    """How far a computed figure lies from the source's approximate one, in words; amounts as
    money (`49 800 411 kr`, a signed difference `+411 kr`)."""
    diff = a - b
    share = f" ({decimal_text(abs(diff) * 100 / abs(b), 4).replace('.', ',')} %)" if b else ""
    return (f"{shown(a, money)} är inte exakt cirka-värdet {shown(b, money)}: skillnad "
            f"{'+' if diff > 0 else ''}{shown(diff, money)}{share}; källan anger ett "
            "ungefärligt belopp, en person bedömer")


def shown(x: Any, money: bool) -> str:
    """A number in a message: money as money (`964 000 000 kr`), other numbers exactly."""
    return swedish_money(x) if money else exact_text(x)


def is_money(e: ast.Expr, model: Model) -> bool:
    """Does the expression compute kronor (a `kr` literal, a belopp value, parameter or column)?
    Only for how a message writes its numbers; the checker has typed it already."""
    for x in ast.walk(e):
        if isinstance(x, ast.Num) and x.unit == "kr":
            return True
        if isinstance(x, ast.Name) and (model.value_types.get(x.name) == "belopp" or (
                x.name in model.parameters and model.parameters[x.name].type == "belopp")):
            return True
        if isinstance(x, (ast.TotalOf, ast.ColumnRef)):
            spec = model.records.get(x.table) or model.tables.get(x.table)
            column = spec.columns.get(x.column) if spec is not None else None
            if column is not None and column.type == "belopp":
                return True
    return False


def _logic(e: ast.Logic, env: Env) -> Any:
    left, right = as_verdict(evaluate(e.left, env)), as_verdict(evaluate(e.right, env))
    return v_and(left, right) if e.op == "och" else v_or(left, right)


def _not(e: ast.Not, env: Env) -> Any:
    return v_not(as_verdict(evaluate(e.operand, env)))


def _negate(e: ast.Negate, env: Env) -> Any:
    x = evaluate(e.operand, env)
    return x if isinstance(x, Missing) else -x


def _is(e: ast.Is, env: Env) -> Any:
    x = evaluate(e.operand, env)
    if isinstance(x, Missing):
        return x
    if e.what == "angiven":
        return V.UPPFYLLT
    return V.UPPFYLLT if x == (e.what == "ja") else V.EJ_UPPFYLLT


def _name(name: str, env: Env) -> Any:
    if name in env.params:
        value = env.params[name]
        env.reads.append(Read(f"parametern {name}", "--param", value))
        return value
    if name in env.model.parameters:
        p = env.model.parameters[name]
        if p.default is not None:
            return evaluate(p.default, env)
        return Missing(f"parametern `{name}` saknas; källan anger inget värde "
                       f"(ange --parameter {name}=…)")
    if name in env.value_cache:
        return env.value_cache[name]
    # A `värde` belongs to no recipient (the checker enforces it): evaluate it once, globally,
    # so an aggregate in it counts all records, whoever asks first.
    value = env.version.values[name]
    result = evaluate(value.expr, env.at(None))
    env.value_cache[name] = result
    return result


def _column(e: ast.ColumnRef, env: Env) -> Any:
    table = env.data.tables.get(e.table)
    if table is None or not table.present:
        spec = env.model.tables[e.table]
        return Missing(f"filen {spec.file} finns inte (tabellen {e.table})")
    if e.column not in table.columns:
        spec = env.model.tables[e.table]
        return Missing(f"kolumnen {e.column} finns inte i {spec.file}")
    row = table.row(env.recipient or "", env.villkor)
    if row is None:
        spec = env.model.tables[e.table]
        which = f" för villkor {env.villkor}" if spec.per_villkor else ""
        return Missing(f"{spec.file} har ingen rad för {env.recipient}{which}")
    value = row.values.get(e.column)
    # tuple.__new__ directly: the named tuple's own __new__ is a Python function, twice the cost
    env.reads.append(tuple.__new__(Read, (f"{e.table}.{e.column}",
                                          f"{table.path.name} rad {row.line}", value)))
    if value is None:
        return Missing(f"{table.path.name} rad {row.line}: {e.column} är tom")
    return value


def _aggregate(e, env: Env) -> Any:
    """antal/summa/andel over the current recipient's records (all records outside one).

    A record whose `där` cannot be decided makes the result missing: a share is never computed
    over the records that happen to be complete.
    """
    if env.pushed is not None and env.recipient is None and id(e) in env.pushed:
        return env.pushed[id(e)]
    spec = env.model.records[e.table]
    data = env.data.records.get(e.table)
    if data is None or not data.present:
        return Missing(f"filen {spec.file} finns inte (tabellen {e.table})")
    who = env.data.recipient(env.recipient) if env.recipient is not None else None
    rows = data.rows_for(who.group if who else None, env.recipient)
    undecided: list[tuple[Row, str]] = []

    def select(candidates: list[Row], cond) -> list[Row]:
        if cond is None:
            return candidates
        kept = []
        for row in candidates:
            verdict = as_verdict(evaluate(cond, replace(env, reads=[], record=row)))
            if verdict == V.UPPFYLLT:
                kept.append(row)
            elif verdict != V.EJ_UPPFYLLT:
                undecided.append((row, verdict.value))
        return kept

    rows = select(rows, getattr(e, "among", None))   # the denominator first
    chosen = select(rows, e.where)
    where = f"{data.path.name}: {len(rows)} poster" + (f" för {env.recipient}"
                                                          if env.recipient else "")
    if undecided:
        row, why = undecided[0]
        return Missing(f"{len(undecided)} poster i {data.path.name} kan inte prövas "
                       f"(t.ex. rad {row.line}: {why})")
    if isinstance(e, ast.Count):
        value: Any = Fraction(len(chosen))
    elif isinstance(e, ast.ShareOf):
        if not rows:
            return Missing(f"inga poster i {data.path.name}" + (f" för {env.recipient}"
                                                                 if env.recipient else ""))
        value = Fraction(len(chosen), len(rows))
    else:
        blank = next((r for r in chosen if r.values.get(e.column) is None), None)
        if blank is not None:
            return Missing(f"{data.path.name} rad {blank.line}: {e.column} är tom")
        value = sum((Fraction(r.values[e.column]) for r in chosen), Fraction(0))
    label = {ast.Count: "antal", ast.ShareOf: "andel", ast.TotalOf: "summa"}[type(e)]
    shown = f"{len(chosen)} av {len(rows)}" if isinstance(e, ast.ShareOf) else value
    env.reads.append(Read(f"{label}({e.table})", where + _lines(chosen), shown))
    return value


_NODES: dict[type, Callable[[Any, Env], Any]] = {
    ast.Num: _literal, ast.DateLit: _literal, ast.Str: _literal, ast.Bool: _literal,
    ast.VerdictLit: _verdict_literal, ast.Name: _name_node, ast.ColumnRef: _column_ref,
    ast.Count: _aggregate, ast.TotalOf: _aggregate, ast.ShareOf: _aggregate,
    ast.Conditional: _conditional, ast.Between: _between, ast.VillkorRef: _villkor_ref,
    ast.Binary: _binary, ast.Compare: _compare_node, ast.About: _about, ast.Logic: _logic,
    ast.Not: _not, ast.Negate: _negate, ast.Is: _is,
}


def _lines(rows: list[Row]) -> str:
    if not rows:
        return ""
    nums = [str(r.line) for r in rows[:20]]
    return "; rader " + ", ".join(nums) + (" …" if len(rows) > 20 else "")


def _arith(op: str, a: Any, b: Any) -> Any:
    if isinstance(a, date) and isinstance(b, date):
        return Fraction((a - b).days)
    if isinstance(a, date):
        days = timedelta(days=int(b))
        return a + days if op == "+" else a - days
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return Missing("division med noll", V.BEDOMNING_KRAVS)
    return Fraction(a) / Fraction(b)


COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "=": operator.eq, "!=": operator.ne}


def _compare(op: str, a: Any, b: Any) -> bool:
    return COMPARE[op](a, b)
