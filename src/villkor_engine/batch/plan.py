"""Checked model → columnar plan, or the reason it cannot be one.

The plan is built from the checked model, never from the text. It covers a declared subset:
recipients from keyed tables or as the distinct values of a record table's column (`via`);
villkor over the recipient's own columns (`är ja/nej/angiven`, comparisons with constants,
och/eller/inte, `villkor N`, verdict literals) and over its records (`antal`/`andel … där …
bland …`, with `mellan` on dates); pots shared by a key column, rounded half up per share.
Anything else is reported as unsupported with its span (sqlglot's "unsupported" channel), and
`run` uses the reference evaluator instead — a construct is never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from ..diagnostics import Span
from ..eval.engine import vid_key
from ..eval.interpreter import Env, evaluate
from ..eval.values import Missing
from ..io.data import Dataset
from ..model import types as T
from ..model.model import ColumnSpec, Model, RecordSpec, TableSpec, Version
from ..syntax import ast

COLUMN_TYPES = (T.JANEJ, T.HELTAL, T.TEXT, T.KOD, T.DATUM)


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
    villkor: str            # the payment's villkor (a pot without one is not planned)


@dataclass(frozen=True)
class GroupPlan:
    """Where a group's recipients come from: a keyed table's rows, or a record column's values."""

    name: str
    table: str              # the keyed table, or the record table for `via`
    key: str                # the key column, or the `via` column
    name_column: str | None
    keyed: bool
    villkor: tuple[str, ...]      # top-level villkor applying to the group, in output order
    pot: PotPlan | None


@dataclass(frozen=True)
class Plan:
    model: Model
    version: Version
    groups: tuple[GroupPlan, ...]            # in the reference evaluator's output order
    inputs: tuple[TableSpec | RecordSpec, ...]
    villkor: dict[str, ast.Expr]             # villkor id → requirement (subs folded into och)


SIMPLE = (ast.Is, ast.Logic, ast.Not, ast.VerdictLit, ast.VillkorRef, ast.Compare, ast.Name,
          ast.Num, ast.Str, ast.Bool, ast.DateLit, ast.ColumnRef, ast.Count, ast.ShareOf,
          ast.Between)


def compile_plan(model: Model, version: Version) -> Plan | Unsupported:
    if model.invoicing or model.reconciliations:
        return Unsupported("fakturering och avstämning stöds inte", None)
    if model.total is not None:
        return Unsupported("`summa per mottagare` med egen avrundning stöds inte", model.total.span)
    inputs: list[TableSpec | RecordSpec] = []
    specs: list[TableSpec | RecordSpec] = [*model.tables.values(), *model.records.values()]
    for spec in specs:
        bad = next((c for c in spec.columns.values() if c.type not in COLUMN_TYPES), None)
        if bad is not None:
            return Unsupported(f"kolumnen {spec.name}.{bad.name}: typen {bad.type} stöds inte",
                               bad.span)
        twin = _case_twin(spec.columns)
        if twin is not None:
            # SQL engines (DuckDB, Spark) compare column names without regard to letter case
            return Unsupported(f"tabellen {spec.name}: kolumnerna {twin[0]} och {twin[1]} "
                               "skiljer sig bara i stora och små bokstäver", spec.span)
        if isinstance(spec, TableSpec) and (spec.per_villkor or len(spec.keys) != 1):
            return Unsupported(f"tabellen {spec.name}: bara en rad per mottagare stöds",
                               spec.span)
        if isinstance(spec, TableSpec) and not any(g.table == spec.name
                                                   for g in model.groups.values()):
            return Unsupported(f"tabellen {spec.name}: bara tabeller som ger mottagarna stöds "
                               "(en tabell per mottagare prövas mot dem i referensmotorn)",
                               spec.span)
        inputs.append(spec)
    villkor: dict[str, ast.Expr] = {}
    for v in version.villkor.values():
        if v.report_due or v.review:
            return Unsupported(f"villkor {v.vid}: frister och granskning stöds inte", v.span)
        expr = v.requirement
        if expr is None:
            parts = [s.requirement for s in v.subs]
            known = [p for p in parts if p is not None]
            if not parts or len(known) != len(parts):
                return Unsupported(f"villkor {v.vid}: krav saknas (bedömning krävs)", v.span)
            expr = known[0]
            for part in known[1:]:
                expr = ast.Logic("och", expr, part, v.span)
        villkor[v.vid] = expr
        for s in v.subs:
            if s.requirement is None:   # was: "uttrycket `NoneType` stöds inte" further down
                return Unsupported(f"delvillkor {s.vid}: krav saknas (bedömning krävs)", s.span)
            villkor[s.vid] = s.requirement
    groups: list[GroupPlan] = []
    for name, g in model.groups.items():
        group = _group(model, version, name, g)
        if isinstance(group, Unsupported):
            return group
        groups.append(group)
    # the reference's order: groups from keyed tables, then `via` groups (Dataset.recipients)
    groups.sort(key=lambda g: not g.keyed)
    covered = {g.pot.payment.name for g in groups if g.pot}
    for p in version.payments.values():
        if p.rule is not None and p.name not in covered:
            return Unsupported(f"utbetalningen {p.name} stöds inte i kolumnmotorn", p.span)
    by_name = {g.name: g for g in groups}
    for vid, expr in villkor.items():
        applies = applies_to(version, vid)
        group_plan = by_name.get(applies) if applies is not None else None
        problem = _expr_supported(expr, version, model, group_plan, record=None)
        if problem:
            return problem
    return Plan(model, version, tuple(groups), tuple(inputs), villkor)


def _case_twin(names) -> tuple[str, str] | None:
    """Two names that are one name to an engine that ignores letter case, or None."""
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(name.lower(), name)
        if other != name:
            return other, name
    return None


def applies_to(version: Version, vid: str) -> str | None:
    """The group a villkor, or the villkor a delvillkor belongs to, applies to."""
    for v in version.villkor.values():
        if v.vid == vid or any(s.vid == vid for s in v.subs):
            return v.applies
    return None


def _group(model: Model, version: Version, name: str, g) -> GroupPlan | Unsupported:
    if g.table is None:
        return Unsupported(f"mottagargruppen {name}: uppräknade mottagare stöds inte", g.span)
    vids = tuple(sorted((v.vid for v in version.villkor.values() if v.applies == name),
                        key=vid_key))
    payments = [p for p in version.payments.values()
                if isinstance(p.rule, (ast.Pot, ast.Fixed, ast.PerMember)) and
                (getattr(p.rule, "group", None) == name or
                 (p.villkor in vids and p.villkor is not None))]
    if g.via is not None:
        if payments:
            return Unsupported(f"mottagargruppen {name}: utbetalningar till `via`-grupper "
                               "stöds inte", g.span)
        return GroupPlan(name, g.table, g.via, g.name_column, False, vids, None)
    table = model.tables[g.table]
    if len(payments) > 1:
        return Unsupported(f"mottagargruppen {name}: bara en utbetalning per grupp stöds",
                           payments[1].span)
    pot: PotPlan | None = None
    if payments:
        found = _pot(model, version, payments[0], table, vids)
        if isinstance(found, Unsupported):
            return found
        pot = found
    return GroupPlan(name, table.name, table.keys[0], g.name_column, True, vids, pot)


def _pot(model: Model, version: Version, p: ast.Payment, table: TableSpec,
         vids: tuple[str, ...]) -> PotPlan | Unsupported:
    rule = p.rule
    if not isinstance(rule, ast.Pot) or p.requirement or p.cap_each or p.cap_total \
            or p.unconditional:
        return Unsupported(f"utbetalningen {p.name}: bara en pott utan krav och tak stöds",
                           p.span)
    if p.villkor not in vids or not isinstance(rule.key, ast.ColumnRef) \
            or rule.key.table != table.name:
        return Unsupported(f"utbetalningen {p.name}: nyckeln ska vara en kolumn i "
                           "mottagartabellen", p.span)
    key: ColumnSpec = table.columns[rule.key.column]
    if key.type != T.HELTAL or not key.required:
        return Unsupported(f"utbetalningen {p.name}: nyckeln ska vara ett obligatoriskt heltal",
                           p.span)
    if p.rounding is None or p.rounding.mode != "halvt uppåt":
        return Unsupported(f"utbetalningen {p.name}: bara avrundning halvt uppåt", p.span)
    pot = evaluate(rule.amount, Env(model, version, Dataset({}, {}), {}))
    if isinstance(pot, Missing) or not isinstance(pot, Fraction) or (pot * 100).denominator != 1 \
            or pot < 0:
        return Unsupported(f"utbetalningen {p.name}: potten ska vara känd i hela ören", p.span)
    return PotPlan(p, int(pot * 100), rule.key.column,
                   100 if p.rounding.unit == "krona" else 1, p.villkor or "")


def _expr_supported(e: ast.Expr, version: Version, model: Model,
                    group: GroupPlan | None, record: str | None) -> Unsupported | None:
    """Walk one requirement: recipient-level nodes, or (inside an aggregate) record-level ones."""
    if group is None:
        return Unsupported("villkor utan mottagargrupp stöds inte", getattr(e, "span", None))
    if not isinstance(e, SIMPLE):
        return Unsupported(f"uttrycket `{type(e).__name__}` stöds inte i kolumnmotorn",
                           getattr(e, "span", None))
    if isinstance(e, ast.ColumnRef):
        own = record if record is not None else (group.table if group.keyed else None)
        if e.table != own:
            return Unsupported(f"kolumnen {e.table}.{e.column}: bara "
                               f"{'postens' if record else 'mottagarens'} egen tabell", e.span)
        return None
    if isinstance(e, ast.Name) and constant_value(e, model, version) is None:
        return Unsupported(f"`{e.name}` är inget tal som är känt före körningen", e.span)
    if isinstance(e, (ast.Count, ast.ShareOf)):
        if record is not None:
            return Unsupported("aggregat i aggregat stöds inte", e.span)
        spec = model.records.get(e.table)
        if spec is None or group.name not in spec.links:
            return Unsupported(f"{e.table} är inte kopplad till gruppen {group.name}", e.span)
        for part in (e.where, getattr(e, "among", None)):
            if part is not None:
                problem = _expr_supported(part, version, model, group, e.table)
                if problem:
                    return problem
        return None
    if isinstance(e, ast.VillkorRef) and record is not None:
        return Unsupported("`villkor N` i en posts villkor stöds inte", e.span)
    if isinstance(e, ast.Compare):
        sides = (e.left, e.right)
        measured = [s for s in sides if isinstance(s, (ast.ColumnRef, ast.Count, ast.ShareOf))]
        fixed = [s for s in sides if constant_value(s, model, version) is not None]
        if len(measured) != 1 or len(fixed) != 1:
            return Unsupported("jämförelser stöds bara som kolumn eller aggregat mot konstant",
                               e.span)
        return _expr_supported(measured[0], version, model, group, record)
    if isinstance(e, ast.Between) and not isinstance(e.operand, ast.ColumnRef):
        return Unsupported("`mellan` stöds bara på en kolumn", e.span)
    for child in ast.children(e):
        problem = _expr_supported(child, version, model, group, record)
        if problem:
            return problem
    return None


def constant_value(e: ast.Expr, model: Model, version: Version):
    """What an expression without inputs is (`70 %`, `1/2`, `delmål`, a date, a text), or None.

    Values and parameters with defaults come out as the reference evaluator computes them; an
    expression that reads a table, a record or a villkor is no constant."""
    if any(isinstance(x, (ast.ColumnRef, ast.Count, ast.ShareOf, ast.TotalOf, ast.VillkorRef))
           for x in ast.walk(e)):
        return None
    value = evaluate(e, Env(model, version, Dataset({}, {}), {}))
    return value if isinstance(value, (Fraction, str, date)) and not isinstance(value, bool) \
        else None
