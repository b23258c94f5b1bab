"""Payments, invoicing rules (`fakturering`) and reconciliations (`avstämning`): the money.

Each amount must be a belopp in a scope that can compute it (a pot's amount is the same for all,
a per-member amount is each member's own), each share's rounding declared; the warnings catch a
pot shared among others than its villkor concerns, and a report due after its payment.
"""

from __future__ import annotations

from ..diagnostics import did_you_mean
from ..syntax import ast
from . import types as T
from .check_base import Scope
from .check_exprs import Expressions


class Payments(Expressions):
    """Payment rules, invoice lines' rules and reconciliations."""

    def check_payment(self, p: ast.Payment) -> None:
        m = self.model
        self.check_sources(p.sources, p.span, f"utbetalningen `{p.name}`", required=True)
        if p.villkor is not None and p.unconditional:
            self.err("V120", f"utbetalningen `{p.name}` anger både `villkor` och `utan villkor`",
                     p.span)
        if p.villkor is None and not p.unconditional:
            self.warn("V152", f"utbetalningen `{p.name}` hör inte till något villkor", p.span,
                      "lägg till `villkor N`, eller `utan villkor` om källan inte ställer något")
        elif p.villkor is not None and p.villkor not in self.all_villkor_ids:
            self.err("V103", f"okänt villkor {p.villkor}", p.span,
                     did_you_mean(p.villkor, self.all_villkor_ids))
        rule = p.rule
        if rule is None:
            self.err("V170", f"utbetalningen `{p.name}` saknar beräkningsregel", p.span,
                     "skriv `belopp … till MOTTAGARE`, `belopp … till varje mottagare i GRUPP` "
                     "eller `pott … delas mellan …`")
            return
        group: str | None
        if isinstance(rule, ast.Fixed):
            group = m.group_of_member(rule.recipient)
            if group is None:
                self.err("V105", f"okänd mottagare `{rule.recipient}`", rule.span,
                         did_you_mean(rule.recipient,
                                      [x.code for g in m.groups.values() for x in g.members]))
            amount_scope = Scope(None, self.all_villkor_ids, f"utbetalningen {p.name}")
        else:
            group = rule.group if rule.group in m.groups else None
            if group is None:
                self.err("V105", f"okänd mottagargrupp `{rule.group}`", rule.span,
                         did_you_mean(rule.group, m.groups))
            amount_scope = Scope(group if isinstance(rule, ast.PerMember) else None,
                                 self.all_villkor_ids, f"utbetalningen {p.name}")
        scope = Scope(group, self.all_villkor_ids, f"utbetalningen {p.name}")
        self.typed(rule.amount, amount_scope, T.BELOPP, "beloppet")
        if isinstance(rule, ast.Pot):
            got = self.infer(rule.key, scope)
            if got and got not in T.NUMERIC:
                self.err("V110", f"fördelningsnyckeln ska vara ett tal, inte {got}",
                         rule.key.span)
        if p.requirement is not None:
            self.logical(p.requirement, scope)
        if p.cap_each is not None:
            self.typed(p.cap_each, Scope(None, frozenset(), "taket"), T.BELOPP, "taket")
        if p.cap_total is not None:
            self.typed(p.cap_total, Scope(None, frozenset(), "taket"), T.BELOPP, "taket")
        villkor = self._villkor_decl(p.villkor)
        if isinstance(rule, ast.Pot) and villkor is not None and villkor.applies \
                and villkor.applies != rule.group:
            self.warn("V156", f"potten delas mellan `{rule.group}`, men villkor {p.villkor} gäller "
                      f"`{villkor.applies}`: ingen i `{rule.group}` prövas mot villkoret",
                      rule.span, f"dela potten mellan `{villkor.applies}`")
        if villkor is not None and villkor.only and group is not None \
                and group == villkor.applies:
            self._outside_only(p, rule, villkor, group)
        if villkor is not None and villkor.report_due and p.due and villkor.report_due.due > p.due:
            self.warn("V157", f"redovisningen av villkor {p.villkor} ska in "
                      f"{villkor.report_due.due.isoformat()}, efter att utbetalningen ska vara "
                      f"gjord ({p.due.isoformat()})", p.span,
                      "kontrollera datumen i källan")
        if isinstance(rule, (ast.Pot, ast.PerMember)) and p.rounding is None:
            self.err("V172", f"utbetalningen `{p.name}` anger inte hur andelarna avrundas",
                     rule.span, "lägg till t.ex. `avrundning hela kronor, halvt uppåt per andel`")
        if p.rounding and p.rounding.mode == "största rest" and not isinstance(rule, ast.Pot):
            self.err("V173", "`största rest` passar bara en pott som ska gå jämnt ut",
                     p.rounding.span, "använd `halvt uppåt`")

    def _outside_only(self, p: ast.Payment, rule: ast.Fixed | ast.PerMember | ast.Pot,
                      villkor: ast.Villkor, group: str) -> None:
        """A payment under a villkor that applies to some of its group only (`endast`) that
        also reaches the others: they are not tried against the villkor, and get the amount
        as if there were none (both engines do so). The source cannot have meant both, so the
        author is told (V155) rather than a rule made up."""
        only = ", ".join(villkor.only)
        hint = ("ge beloppet bara till dem villkoret gäller (`belopp … till "
                f"{villkor.only[0]}`), eller låt villkoret gälla hela `{group}`")
        if isinstance(rule, ast.Fixed):
            if rule.recipient not in villkor.only:
                self.warn("V155", f"utbetalningen `{p.name}` går till {rule.recipient}, som "
                          f"villkor {villkor.vid} inte gäller (endast {only}): "
                          f"{rule.recipient} får beloppet utan att prövas mot villkoret",
                          rule.span, hint)
            return
        spec = self.model.groups.get(group)
        others = [x.code for x in spec.members if x.code not in villkor.only] \
            if spec is not None and spec.table is None else ["övriga"]
        if others:
            self.warn("V155", f"utbetalningen `{p.name}` går till hela `{group}`, men villkor "
                      f"{villkor.vid} gäller endast {only}: {', '.join(others)} får beloppet "
                      "utan att prövas mot villkoret", rule.span, hint)

    INVOICE_COLUMNS = {"produktkod": (T.KOD, T.TEXT), "månad": (T.KOD, T.TEXT),
                       "antal": (T.HELTAL,), "belopp": (T.BELOPP,)}

    def check_invoicing(self, inv: ast.Invoicing) -> None:
        m = self.model
        self.check_sources(inv.sources, inv.span, f"faktureringen `{inv.name}`", required=True)
        rec = m.records.get(inv.table)
        if rec is None:
            self.err("V102", f"`{inv.table}` är ingen tabell med poster", inv.span,
                     did_you_mean(inv.table, m.records) or "deklarera `tabell … poster`")
            return
        self.used_tables.add(rec.name)
        for col, kinds in self.INVOICE_COLUMNS.items():
            spec = rec.columns.get(col)
            if spec is None or spec.type not in kinds:
                self.err("V107", f"fakturatabellen `{rec.name}` ska ha kolumnen `{col}: "
                         f"{kinds[0]}`", rec.span)
            else:
                self.used_columns.add((rec.name, col))
        for col, _ in inv.requires:
            if col not in rec.columns:
                self.err("V102", f"tabellen `{rec.name}` har ingen kolumn `{col}`", inv.span,
                         did_you_mean(col, rec.columns))
            else:
                self.used_columns.add((rec.name, col))
        codes = [p.code for p in inv.products]
        # prices and caps are each recipient's own: the line's recipient, through the link
        scope = Scope(next(iter(rec.links), None), frozenset(), f"faktureringen {inv.name}")
        for p in inv.products:
            if codes.count(p.code) > 1:
                self.err("V120", f"produktkoden {p.code} finns två gånger", p.span)
            for e, what in ((p.price, "priset"), (p.cap, "taket")):
                if e is not None:
                    self.typed(e, scope, T.BELOPP, what)
        if not inv.products:
            self.err("V170", f"faktureringen `{inv.name}` anger inga produkter", inv.span,
                     "skriv `produkt KOD \"namn\" pris … per styck` eller `… högst …`")

    def check_reconciliation(self, r: ast.Reconciliation) -> None:
        m = self.model
        self.check_sources(r.sources, r.span, f"avstämningen `{r.name}`", required=True)
        if r.group not in m.groups:
            self.err("V105", f"okänd mottagargrupp `{r.group}`", r.span,
                     did_you_mean(r.group, m.groups))
            return
        scope = Scope(r.group, self.all_villkor_ids, f"avstämningen {r.name}")
        for e, what in ((r.invoiced, "fakturerat"), (r.earned, "intjänat"),
                        (r.granted, "beviljat")):
            if e is not None:
                self.typed(e, scope, T.BELOPP, f"`{what}`")
        if r.requirement is not None:
            self.logical(r.requirement, scope)
        if r.rounding is not None and r.rounding.mode != "halvt uppåt":
            self.err("V173", "en avstämning avrundas halvt uppåt", r.rounding.span)
        if r.repay_verdict not in (None, "bedömning krävs", "ej uppfyllt"):
            self.err("V110", f"`vid återbetalning {r.repay_verdict}`: en återbetalning är antingen "
                     "beslutad (`ej uppfyllt`) eller en fråga för en person (`bedömning krävs`)",
                     r.span, "skriv `vid återbetalning bedömning krävs` där källan säger att "
                     "frågan \"kan väckas\"")
        if r.invoiced is None or r.earned is None:
            self.err("V170", f"avstämningen `{r.name}` behöver både `fakturerat` och `intjänat`",
                     r.span)

    def _villkor_decl(self, vid: str | None) -> ast.Villkor | None:
        """The latest declaration of a villkor (amendments after the base)."""
        found = None
        for item in self.model.all_items():
            if isinstance(item, ast.Villkor) and item.vid == vid:
                found = item
        return found
