"""Syntax tree → checked model: resolve names, infer types and units, collect every mistake.

The checker never stops at the first problem: it walks every declaration and reports all it finds,
each with a code, a span and, where it can, a "menade du …?" hint.

This module is the entry point (`check_model`) and the order of the passes (`_Checker.run`); the
checks themselves are split by job into mixins that share one state (check_base.py):

    check_names      declarations: names, tables and their files, groups
    check_exprs      the types of expressions
    check_values     values and parameters
    check_villkor    villkor, delvillkor, reviews, frister
    check_payments   payments, invoicing, reconciliation

What runs across versions (each amendment's items, unused tables and columns) is here.

The `kontroll` assertions are not evaluated here: that needs the evaluator, which sits above the
model. The caller does it between `check_model` and `ModelCheck.finish` (pipeline.py, through
`eval.checks.model_check_diagnostics`), so its findings (V160) go through the same collector —
the same cap and the same removal of duplicates — as the checker's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..diagnostics import Diagnostic, Diagnostics, Span
from ..syntax import ast
from . import types as T
from .check_base import Scope
from .check_names import Declarations
from .check_payments import Payments
from .check_values import Values
from .check_villkor import REVIEW_CODES, VillkorChecks
from .model import Model

__all__ = ["REVIEW_CODES", "ModelCheck", "Scope", "check_model"]


@dataclass
class ModelCheck:
    """The checker's findings, not yet final: the caller may add its own (`finish`)."""

    model: Model
    diags: Diagnostics   # in the order found, duplicates not yet removed

    @property
    def has_errors(self) -> bool:
        return self.diags.has_errors

    def finish(self, more: Iterable[Diagnostic] = ()) -> tuple[Model | None, list[Diagnostic]]:
        """Add what the caller found after the check (the kontroll assertions' V160), then keep
        each finding once, even where several versions share the item it is about. The model
        only when nothing is an error."""
        self.diags.extend(more)
        unique: dict[tuple, Diagnostic] = {}
        for d in self.diags.items:
            unique.setdefault((d.code, d.message, d.span), d)
        self.diags.items = list(unique.values())
        model = self.model if not self.diags.has_errors else None
        return model, self.diags.items


def check_model(module: ast.Module) -> ModelCheck:
    """Every pass of the checker; the kontroll assertions are left to the caller."""
    c = _Checker(module)
    c.run()
    return ModelCheck(c.model, c.diags)


class _Checker(Declarations, Values, VillkorChecks, Payments):
    """All the parts, run in order by `run`."""

    def run(self) -> None:
        m = self.model
        items = self.module.items
        agreements = [i for i in items if isinstance(i, ast.Agreement)]
        if not agreements:
            self.err("V100", "filen saknar `överenskommelse … slut`", Span.point(self.module.file),
                     "börja filen med överenskommelsens namn, diarienummer och parter")
        for extra in agreements[1:]:
            self.err("V120", "överenskommelsen anges två gånger", extra.span)
        m.agreement = agreements[0] if agreements else None
        self.collect(items)
        for i in items:
            if isinstance(i, ast.Amendment):
                m.amendments.append(i)
            elif isinstance(i, ast.Invoicing):
                m.invoicing.append(i)
            elif isinstance(i, ast.Reconciliation):
                m.reconciliations.append(i)
            elif not isinstance(i, (ast.Agreement, ast.Document, ast.Group, ast.Table,
                                    ast.RecordTable, ast.Parameter, ast.Total)):
                m.base.append(i)
        self.check_groups()
        self.check_tables()
        self.check_values()
        self.all_villkor_ids = self.villkor_ids()
        for version_items, label in [(m.base, None)] + [(a.items, a) for a in m.amendments]:
            self.check_items(version_items, label)
        for a in [None] + m.amendments:
            self.check_villkor_cycles(m.version_at(a.in_force if a else None).villkor.values()
                                      if a else m.base)
        for a in m.amendments:
            self.check_sources(a.sources, a.span, "tillägget", required=True)
            if not a.items:
                self.warn("V153", f"tillägget `{a.name}` ändrar ingenting", a.span)
        for inv in m.invoicing:
            self.check_invoicing(inv)
        for rec in m.reconciliations:
            self.check_reconciliation(rec)
        if m.total:
            self.check_sources(m.total.sources, m.total.span, "summaregeln", required=False)
            if m.total.rounding.mode != "halvt uppåt":
                self.err("V173", "summan per mottagare avrundas en gång; `största rest` passar "
                         "bara en pott", m.total.span,
                         "skriv `avrundning hela kronor, halvt uppåt`")
        self.check_unused()
        # then, when nothing is an error, the caller evaluates the kontroll assertions, and
        # `ModelCheck.finish` keeps each finding once

    def check_items(self, items, amendment: ast.Amendment | None) -> None:
        for i in items:
            if isinstance(i, ast.Villkor):
                self.check_villkor(i)
            elif isinstance(i, ast.Payment):
                self.check_payment(i)
            elif isinstance(i, ast.Event):
                self.check_event(i, items)
            elif isinstance(i, ast.Check):
                self.check_sources(i.sources, i.span, "kontrollen", required=False)
                got = self.infer(i.expr, Scope(None, frozenset(), "kontrollen"))
                if got and not T.is_logical(got):
                    self.err("V110", f"en kontroll ska vara ett påstående, inte {got}",
                             i.expr.span)
                if i.tolerance is not None:
                    self.infer(i.tolerance, Scope(None, frozenset(), "kontrollen"))
            elif isinstance(i, ast.Value):
                self.check_sources(i.sources, i.span, f"värdet `{i.name}`", required=True)
                if amendment is not None and i.name in self.model.value_types:
                    base = self.values_by_name.get(i.name)
                    if base is not None and base is not i:
                        got = self.infer(i.expr, Scope(None, frozenset(), f"värdet {i.name}",
                                                       constant=True))
                        if got and not T.assignable(self.model.value_types[i.name], got):
                            self.err("V110", f"tillägget ändrar typen på `{i.name}` till {got}",
                                     i.span)

    def check_unused(self) -> None:
        m = self.model
        for t in list(m.tables.values()) + list(m.records.values()):
            if t.name not in self.used_tables:
                self.warn("V150", f"tabellen `{t.name}` används inte", t.span)
                continue
            for c in t.columns.values():
                # a `valfri` column documents the data contract; it need not be read
                if (t.name, c.name) not in self.used_columns and not c.may_be_absent:
                    self.warn("V150", f"kolumnen `{t.name}.{c.name}` används inte", c.span,
                              "ta bort den eller markera den `valfri`")
        for p in m.parameters.values():
            if p.name not in self.used_params:
                self.warn("V150", f"parametern `{p.name}` används inte", p.span)
