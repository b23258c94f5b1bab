"""Expressions: the type of every expression, every name and column it reads resolved.

`infer` is the heart of the checker: each node's type from its parts, with the units (belopp,
andel, dagar) kept apart, and every read marked used. It returns None after reporting, so one
mistake is reported once and does not cascade into "x and None cannot be compared".
"""

from __future__ import annotations

from ..diagnostics import Span, did_you_mean
from ..syntax import ast
from . import types as T
from .check_base import CheckerBase, Scope
from .model import ColumnSpec


class Expressions(CheckerBase):
    """Typing of expressions in a scope (which recipient group, which villkor, which records)."""

    def logical(self, e: ast.Expr, scope: Scope) -> None:
        got = self.infer(e, scope)
        if got and not T.is_logical(got):
            self.err("V110", f"ett krav ska vara ja/nej eller ett utfall, inte {got}", e.span,
                     "jämför, t.ex. `x >= 70 %`, eller skriv `x är ja`")

    def typed(self, e: ast.Expr, scope: Scope, want: str, what: str) -> None:
        got = self.infer(e, scope)
        if got and not T.assignable(want, got):
            self.err("V110", f"{what} ska vara {want}, men uttrycket är {got}", e.span,
                     _unit_hint(want, got, e))

    def column_of_type(self, table: str, column: str, want: str, group: str | None,
                       span: Span) -> None:
        got = self.infer(ast.ColumnRef(table, column, span), Scope(group, frozenset(), ""))
        if got and got != want:
            self.err("V110", f"`{table}.{column}` ska vara {want}, inte {got}", span)

    def infer(self, e: ast.Expr, scope: Scope) -> str | None:
        """The type of `e`, or None after reporting why it has none."""
        m = self.model
        if isinstance(e, ast.Num):
            if e.unit == "kr":
                return T.BELOPP
            if e.unit == "%":
                return T.ANDEL
            if e.unit == "dagar":
                return T.DAGAR
            return T.HELTAL if e.value.denominator == 1 else T.DECIMALTAL
        if isinstance(e, ast.DateLit):
            return T.DATUM
        if isinstance(e, ast.Str):
            return T.TEXT
        if isinstance(e, ast.Bool):
            return T.JANEJ
        if isinstance(e, ast.VerdictLit):
            return T.UTFALL
        if isinstance(e, ast.Name):
            if e.name in m.parameters:
                self.used_params.add(e.name)
                return m.parameters[e.name].type
            if e.name in self.values_by_name:
                return m.value_types.get(e.name)  # None while its own cycle is reported
            self.err("V101", f"okänt namn `{e.name}`", e.span,
                     did_you_mean(e.name, list(m.parameters) + list(self.values_by_name)))
            return None
        if isinstance(e, ast.ColumnRef) and e.table in m.records:
            col = self.column(m.records[e.table], e)
            if col is None:
                return None
            if scope.record != e.table:
                self.err("V107", f"`{e.table}` är en tabell med poster: läs den med antal(…), "
                         "summa(…) eller andel(…)", e.span,
                         f"t.ex. `antal({e.table} där {e.table}.{e.column} …)`")
            return col.type
        if isinstance(e, (ast.Count, ast.TotalOf, ast.ShareOf)):
            return self.infer_aggregate(e, scope)
        if isinstance(e, ast.Conditional):
            test = self.infer(e.test, scope)
            if test and not T.is_logical(test):
                self.err("V110", f"`om` ska följas av ett villkor, inte {test}", e.test.span)
            a, b = self.infer(e.then, scope), self.infer(e.otherwise, scope)
            if a is None or b is None:
                return None
            if T.assignable(a, b):
                return a
            if T.assignable(b, a):
                return b
            self.err("V110", f"`då` ger {a} men `annars` ger {b}", e.span,
                     "båda grenarna ska ha samma typ, t.ex. `annars 0 kr`")
            return None
        if isinstance(e, ast.Between):
            got = self.infer(e.operand, scope)
            if got and got != T.DATUM:
                self.err("V110", f"`mellan` gäller datum, inte {got}", e.span)
            if e.end < e.start:
                self.err("V110", "perioden slutar före den börjar", e.span)
            return T.UTFALL
        if isinstance(e, ast.ColumnRef):
            t = m.tables.get(e.table)
            if t is None:
                self.err("V102", f"okänd tabell `{e.table}`", e.span,
                         did_you_mean(e.table, list(m.tables) + list(m.records)))
                return None
            col = self.column(t, e)
            if col is None:
                return None
            if scope.group is None:
                self.err("V107", f"`{e.table}.{e.column}` läser en mottagares rad, men "
                         f"{scope.where} gäller ingen mottagare", e.span,
                         "läs tabeller i villkor och utbetalningar, inte i värden")
            elif t.group != scope.group:
                self.err("V106", f"tabellen `{t.name}` gäller `{t.group}`, men {scope.where} "
                         f"gäller `{scope.group}`", e.span)
            return col.type
        if isinstance(e, ast.VillkorRef):
            if scope.group is None and e.vid in scope.villkor_ids:
                self.err("V107", f"`villkor {e.vid}` prövas för en mottagare, men {scope.where} "
                         "gäller ingen enskild mottagare", e.span,
                         "ställ kravet i utbetalningen (`krav villkor …`) i stället för i beloppet")
                return None
            if e.vid not in scope.villkor_ids:
                self.err("V103", f"okänt villkor {e.vid}", e.span,
                         did_you_mean(e.vid, scope.villkor_ids))
                return None
            return T.UTFALL
        if isinstance(e, ast.Binary):
            a, b = self.infer(e.left, scope), self.infer(e.right, scope)
            if a is None or b is None:
                return None
            r = T.binary(e.op, a, b)
            if r is None:
                self.err("V110", f"`{e.op}` går inte mellan {a} och {b}", e.span,
                         f"vänster sida är {a}, höger sida är {b}")
            return r
        if isinstance(e, ast.About):
            a, b = self.infer(e.left, scope), self.infer(e.right, scope)
            if a and b and not (T.comparable("<", a, b) and a in (T.BELOPP, *T.NUMERIC)):
                self.err("V110", f"`är cirka` jämför tal eller belopp, inte {a} och {b}", e.span,
                         f"vänster sida är {a}, höger sida är {b}")
            return T.UTFALL
        if isinstance(e, ast.Compare):
            a, b = self.infer(e.left, scope), self.infer(e.right, scope)
            if a and b and not T.comparable(e.op, a, b):
                self.err("V110", f"{a} och {b} kan inte jämföras med `{e.op}`", e.span,
                         f"vänster sida är {a}, höger sida är {b}")
            return T.UTFALL
        if isinstance(e, ast.Logic):
            for side in (e.left, e.right):
                got = self.infer(side, scope)
                if got and not T.is_logical(got):
                    self.err("V110", f"`{e.op}` binder ihop krav, men detta är {got}", side.span)
            return T.UTFALL
        if isinstance(e, ast.Not):
            got = self.infer(e.operand, scope)
            if got and not T.is_logical(got):
                self.err("V110", f"`inte` gäller krav, men detta är {got}", e.operand.span)
            return T.UTFALL
        if isinstance(e, ast.Negate):
            got = self.infer(e.operand, scope)
            if got and got not in (T.BELOPP, T.DAGAR, *T.NUMERIC):
                self.err("V110", f"minustecken passar inte {got}", e.span)
                return None
            return got
        if isinstance(e, ast.Is):
            got = self.infer(e.operand, scope)
            if e.what in ("ja", "nej") and got and got != T.JANEJ:
                self.err("V110", f"`är {e.what}` passar ja/nej-frågor, men detta är {got}",
                         e.span)
            return T.UTFALL
        raise AssertionError(type(e))

    def column(self, table, e: ast.ColumnRef) -> ColumnSpec | None:
        """A column of a keyed or record table, marked used; unknown → V102 with a hint."""
        col = table.columns.get(e.column)
        if col is None:
            self.err("V102", f"tabellen `{e.table}` har ingen kolumn `{e.column}`", e.span,
                     did_you_mean(e.column, table.columns))
            return None
        self.used_tables.add(table.name)
        self.used_columns.add((table.name, col.name))
        return col

    def infer_aggregate(self, e, scope: Scope) -> str | None:
        m = self.model
        rec = m.records.get(e.table)
        if rec is None:
            self.err("V102", f"`{e.table}` är ingen tabell med poster", e.span,
                     did_you_mean(e.table, m.records) or "deklarera den med `tabell … poster`")
            return None
        self.used_tables.add(rec.name)
        if scope.constant:
            self.err("V107", f"{scope.where} gäller hela överenskommelsen och kan inte räkna "
                     f"poster i `{rec.name}`: ett värde är detsamma för alla mottagare", e.span,
                     "skriv antal(…)/summa(…)/andel(…) där det används, i villkoret eller "
                     "utbetalningen, så räknas varje mottagares egna poster")
            return None
        if scope.record is not None:
            self.err("V107", "antal/summa/andel kan inte nästlas i varandra", e.span)
            return None
        if scope.group is not None and scope.group not in rec.links:
            self.err("V106", f"tabellen `{rec.name}` är inte kopplad till `{scope.group}`", e.span,
                     f"lägg till `per {scope.group} via KOLUMN` i tabellen")
        inner = Scope(scope.group, scope.villkor_ids, scope.where, record=rec.name)
        for word, cond in (("där", getattr(e, "where", None)),
                           ("bland", getattr(e, "among", None))):
            if cond is not None:
                got = self.infer(cond, inner)
                if got and not T.is_logical(got):
                    self.err("V110", f"`{word}` ska följas av ett villkor, inte {got}", cond.span)
        if isinstance(e, ast.Count):
            return T.HELTAL
        if isinstance(e, ast.ShareOf):
            return T.ANDEL
        col = rec.columns.get(e.column)
        if col is None:
            self.err("V102", f"tabellen `{rec.name}` har ingen kolumn `{e.column}`", e.span,
                     did_you_mean(e.column, rec.columns))
            return None
        self.used_columns.add((rec.name, col.name))
        if col.type not in (T.BELOPP, *T.NUMERIC):
            self.err("V110", f"summa(…) behöver tal eller belopp, men `{e.column}` är {col.type}",
                     e.span)
            return None
        return col.type


def _unit_hint(want: str, got: str, e: ast.Expr) -> str | None:
    """A number written without the unit its place needs: say which unit to write."""
    if want == T.BELOPP and got == T.ANDEL:
        return "en procentsats är inget belopp: räkna ut beloppet, t.ex. `ram * 12 %`"
    if want == T.BELOPP and got in (T.HELTAL, T.DECIMALTAL):
        shown = f"{int(e.value):,}".replace(",", " ") if isinstance(e, ast.Num) and \
            e.value.denominator == 1 else "120 000 000"
        return f"ett belopp skrivs med enheten: `{shown} kr` (eller `mnkr`, `miljoner kronor`)"
    if want == T.ANDEL and got in (T.HELTAL, T.DECIMALTAL) and isinstance(e, ast.Num):
        return "en andel skrivs med `%`, t.ex. `70 %`"
    if want in T.NUMERIC and got == T.BELOPP:
        return "här ska ett tal stå, inte ett belopp: ta bort `kr`"
    return None
