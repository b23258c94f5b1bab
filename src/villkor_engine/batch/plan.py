"""Checked model → columnar plan, or the reason it cannot be one.

The plan is built from the checked model, never from the text. It covers a declared subset:
recipients from one keyed table; villkor whose requirements read that table's columns with
`är ja/nej/angiven`, comparisons with literals, och/eller/inte, `villkor N` and verdict literals;
payments that share a pot by a key column, rounded half up per share. Anything else is reported
as unsupported with its span (sqlglot's "unsupported" channel), and `run` uses the reference
evaluator instead — a construct is never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..diagnostics import Span
from ..eval.interpreter import Env, evaluate
from ..eval.values import Missing
from ..io.data import Dataset
from ..model.model import Model, TableSpec, Version
from ..syntax import ast


@dataclass(frozen=True)
class Unsupported:
    reason: str
    span: Span | None


@dataclass(frozen=True)
class PotPlan:
    payment: ast.Payment
    pot_ore: int            # the pot in öre (exact)
    key_column: str
    unit_ore: int           # 100: whole kronor, 1: öre


@dataclass(frozen=True)
class Plan:
    model: Model
    version: Version
    group: str
    table: TableSpec
    villkor: dict[str, ast.Expr]     # villkor id → requirement (subs folded into och)
    pots: list[PotPlan]


SIMPLE = (ast.Is, ast.Logic, ast.Not, ast.VerdictLit, ast.VillkorRef, ast.Compare)


def compile_plan(model: Model, version: Version) -> Plan | Unsupported:
    if model.records or model.invoicing or model.reconciliations:
        return Unsupported("tabeller med poster, fakturering och avstämning stöds inte", None)
    if model.total is not None:
        return Unsupported("`summa per mottagare` med egen avrundning stöds inte", model.total.span)
    groups = [g for g in model.groups.values() if g.table]
    if len(groups) != 1 or len(model.groups) != 1 or len(model.tables) != 1:
        return Unsupported("bara en mottagargrupp från en tabell stöds", None)
    group = groups[0]
    table = model.tables[group.table]
    villkor: dict[str, ast.Expr] = {}
    for v in version.villkor.values():
        if v.report_due or v.review or v.applies != group.name:
            return Unsupported(f"villkor {v.vid}: frister och granskning stöds inte", v.span)
        expr = v.requirement
        if expr is None:
            parts = [s.requirement for s in v.subs]
            expr = parts[0]
            for p in parts[1:]:
                expr = ast.Logic("och", expr, p, v.span)
        problem = _expr_supported(expr, table)
        if problem:
            return problem
        villkor[v.vid] = expr
        for s in v.subs:
            villkor[s.vid] = s.requirement
    pots = []
    env = Env(model, version, Dataset({}, {}), {})
    for p in version.payments.values():
        rule = p.rule
        if not isinstance(rule, ast.Pot) or p.requirement or p.cap_each or p.cap_total:
            return Unsupported(f"utbetalningen {p.name}: bara en pott utan krav och tak stöds",
                               p.span)
        if p.villkor not in villkor or not isinstance(rule.key, ast.ColumnRef):
            return Unsupported(f"utbetalningen {p.name}: nyckeln ska vara en kolumn", p.span)
        if p.rounding is None or p.rounding.mode != "halvt uppåt":
            return Unsupported(f"utbetalningen {p.name}: bara avrundning halvt uppåt", p.span)
        pot = evaluate(rule.amount, env)
        if isinstance(pot, Missing) or not isinstance(pot, Fraction) or (pot * 100).denominator != 1:
            return Unsupported(f"utbetalningen {p.name}: potten ska vara känd i hela ören", p.span)
        pots.append(PotPlan(p, int(pot * 100), rule.key.column,
                            100 if p.rounding.unit == "krona" else 1))
    return Plan(model, version, group.name, table, villkor, pots)


def _expr_supported(e: ast.Expr, table: TableSpec) -> Unsupported | None:
    for x in ast.walk(e):
        if isinstance(x, ast.ColumnRef):
            if x.table != table.name:
                return Unsupported(f"kolumnen {x.table}.{x.column}: bara mottagartabellen",
                                   x.span)
            continue
        if isinstance(x, (ast.Num, ast.Str, ast.Bool)):
            continue
        if not isinstance(x, SIMPLE):
            return Unsupported(f"uttrycket `{type(x).__name__}` stöds inte i kolumnmotorn",
                               getattr(x, "span", None))
        if isinstance(x, ast.Compare) and not (
                isinstance(x.left, ast.ColumnRef) and isinstance(x.right, (ast.Num, ast.Str))):
            return Unsupported("jämförelser stöds bara som kolumn mot konstant", x.span)
    return None
