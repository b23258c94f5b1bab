"""The reference evaluator: every recipient's verdict and exact payment, with the reasons.

Plain Python over `Fraction`s, independent of any batch back-end, so it can serve as the oracle.
Order of decision for a villkor: a reviewers' decision (if the agreement names a decision table and
it has a row) goes before everything; otherwise the requirement — all delvillkor — combined with
the report deadline. Payments then follow the verdicts: pots are shared among those who fulfil.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, cast

from ..gcpause import paused_gc
from ..io.data import Dataset, Recipient
from ..model.model import Model, Version
from ..syntax import ast
from .interpreter import Env, as_verdict, evaluate
from .invoices import InvoiceLine, check_invoices, reconcile
from .shares import Share, allocate
from .trace import Deferred, Step
from .values import (
    Missing,
    V,
    Verdict,
    exact_sum,
    exact_text,
    round_half_up,
    swedish_money,
    v_and,
)

# A verdict's text is read as `verdict._value_` where it runs per recipient: the same string as
# `.value`, without the enum property's descriptor call (some per cent of the run).
REVIEW = {"godkänd": V.UPPFYLLT, "underkänd": V.EJ_UPPFYLLT,
          "komplettering": V.UNDERLAG_SAKNAS}


@dataclass
class Line:
    """One recipient's result under one payment."""

    payment: ast.Payment
    recipient: Recipient
    verdict: Verdict
    exact: Fraction | None        # after caps, before rounding
    amount: Fraction | None       # rounded as declared
    step: Step
    remarks: tuple[str, ...] = ()  # for the row's `anmärkning`: caps, preliminary shares


@dataclass
class PotSummary:
    payment: ast.Payment
    villkor: str | None
    pot: Fraction | None          # the pot or the total cap; None for plain sums
    exact_total: Fraction
    paid_total: Fraction
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)

    @property
    def rounding_difference(self) -> Fraction:
        return self.paid_total - self.exact_total


@dataclass
class Row:
    """One output row: a recipient under a villkor, or its `summa`."""

    recipient: Recipient
    villkor: str                  # "1" … or "summa"
    verdict: Verdict
    amount: Fraction | None
    exact: Fraction | None
    due: date | None
    sources: str
    version: str
    note: str
    steps: list[Step]
    payable: bool = True          # False: a verdict with no payment attached, not in the summa


@dataclass
class Result:
    version: Version
    per: date | None
    rows: list[Row]
    pots: list[PotSummary]
    invoices: list[InvoiceLine] = field(default_factory=list)
    has_invoicing: bool = False   # the agreement declares invoice rules (even if no lines came)


class Engine:
    def __init__(self, model: Model, data: Dataset, params: dict[str, Any],
                 per: date | None = None):
        self.model, self.data, self.per = model, data, per
        self.version = model.version_at(per)
        self.env = Env(model, self.version, data, params)
        self.env.villkor_verdict = self._verdict_only
        self.cache: dict[tuple[str, str], tuple[Verdict, Step] | None] = {}
        self.subs = {s.vid: (v, s, f"delvillkor {s.vid} {s.title}")
                     for v in self.version.villkor.values() for s in v.subs}
        # Texts that depend on the agreement only, not on the recipient: made once.
        self.heads = {vid: (f"villkor {v.vid} {v.title}",
                            f"lydelse enligt {self.version.origin.get(('villkor', vid), '')}")
                      for vid, v in self.version.villkor.items()}
        self.sources_memo: dict[tuple[int, ...], str] = {}

    # ---- villkor
    def _verdict_only(self, vid: str, recipient: str) -> Verdict:
        return self.villkor(vid, recipient)[0]

    def villkor(self, vid: str, recipient: str) -> tuple[Verdict, Step]:
        key = (vid, recipient)
        cached = self.cache.get(key, _UNSEEN)
        if cached is _UNSEEN:
            self.cache[key] = None    # being decided: a villkor that needs itself is circular
            cached = self.cache[key] = self._villkor(vid, recipient)
        elif cached is None:
            return V.BEDOMNING_KRAVS, Step(f"villkor {vid}", "cirkulärt")
        return cast("tuple[Verdict, Step]", cached)   # neither _UNSEEN nor None

    def _villkor(self, vid: str, recipient: str) -> tuple[Verdict, Step]:
        if vid in self.subs:
            parent, sub, label = self.subs[vid]
            return self._requirement(sub.requirement, recipient, parent.vid, label, sub.span,
                                     sub.sources)
        v = self.version.villkor[vid]
        label, wording = self.heads[vid]
        step = Step(label, "", v.span, v.sources, notes=[wording])
        decided = self._review(v, recipient, step)
        if v.requirement is not None:
            verdict, s = self._requirement(v.requirement, recipient, v.vid, "krav", v.span, ())
            step.children.append(s)
        else:
            parts = [self.villkor(s.vid, recipient) for s in v.subs]
            step.children.extend(p[1] for p in parts)
            verdict = v_and(*(p[0] for p in parts))
        if v.report_due is not None:
            verdict = v_and(verdict, self._deadline(v, recipient, step))
        if decided is not None:
            step.note(f"svaren ensamma ger: {verdict.value}")
            verdict = decided
        elif v.review is not None and verdict == V.UPPFYLLT:
            # the reviewers decide (a person): the answers alone never make it uppfyllt
            step.note(f"svaren ensamma ger: uppfyllt, men beslut enligt {v.review.table} saknas; "
                      "granskningen avgör")
            verdict = V.BEDOMNING_KRAVS
        step.result = verdict._value_
        return verdict, step

    def _requirement(self, expr: ast.Expr | None, recipient: str, vid: str | None, label: str,
                     span, sources) -> tuple[Verdict, Step]:
        env = self.env.at(recipient, vid)
        value = evaluate(expr, env) if expr is not None else V.BEDOMNING_KRAVS
        verdict = as_verdict(value)
        step = Step(label, verdict._value_, span, sources, env.reads)
        if isinstance(value, Missing):
            step.note(value.reason)
        return verdict, step

    def _deadline(self, v: ast.Villkor, recipient: str, step: Step) -> Verdict:
        due = v.report_due
        assert due is not None   # called only for a villkor with a deadline
        env = self.env.at(recipient, v.vid)
        received = evaluate(ast.ColumnRef(due.table, due.column, due.span), env)
        s = Step(f"redovisning senast {due.due.isoformat()}", "", due.span, (), env.reads)
        step.children.append(s)
        table = self.data.tables.get(due.table)
        if isinstance(received, Missing) and (table is None or due.column not in table.columns):
            # The contract lets the data leave out the receipt column altogether.
            s.result = "inte prövad"
            s.note(f"inkomstdatum registreras inte ({received.reason}); "
                   "fristen har inte prövats")
            return V.UPPFYLLT
        if isinstance(received, Missing):
            # A blank date in a recorded column: we cannot say the report came in time.
            s.result = str(received.verdict)
            s.note(f"inkomstdatum saknas ({received.reason}); fristen kan inte prövas")
            return received.verdict
        if received > due.due:
            late = Verdict(v.late_verdict or "bedömning krävs")
            s.result = str(late)
            s.note(f"redovisningen kom in {received.isoformat()}, "
                   f"{(received - due.due).days} dagar efter fristen")
            return late
        s.result = "i tid"
        s.note(f"redovisningen kom in {received.isoformat()}")
        return V.UPPFYLLT

    def _review(self, v: ast.Villkor, recipient: str, step: Step) -> Verdict | None:
        if v.review is None:
            return None
        table = self.data.tables.get(v.review.table)
        row = table.row(recipient, v.vid) if table is not None and table.present else None
        if row is None:
            return None
        beslut = row.values.get("beslut")
        if beslut is None:     # a blank decision is no decision (missing is not no)
            return None
        verdict = REVIEW[beslut]
        s = Step(f"granskningens beslut: {beslut}", str(verdict), v.review.span, (),
                 notes=["beslutet går före det som svaren ensamma ger"])
        begard = row.values.get("begard")
        if beslut == "komplettering" and begard is not None and v.review.reply_days:
            last = begard + timedelta(days=v.review.reply_days)
            s.note(f"komplettering begärd {begard.isoformat()}; svar senast "
                   f"{last.isoformat()} ({v.review.reply_days} kalenderdagar)")
            if self.per is not None and self.per > last:
                s.note(f"svarsfristen gick ut {last.isoformat()}")
        step.children.append(s)
        return verdict

    # ---- payments
    def eligibility(self, p: ast.Payment, r: Recipient) -> tuple[Verdict, list[Step]]:
        parts: list[tuple[Verdict, Step]] = []
        if p.villkor is not None and p.villkor in self.version.villkor:
            v = self.version.villkor[p.villkor]
            if v.covers(r.code, r.group):
                parts.append(self.villkor(p.villkor, r.code))
        if p.requirement is not None:
            parts.append(self._requirement(p.requirement, r.code, p.villkor,
                                           f"krav för utbetalningen {p.name}", p.span,
                                           p.sources))
        if not parts:
            return V.UPPFYLLT, [Step("utan villkor", "uppfyllt", p.span, p.sources,
                                     notes=["källan ställer inget krav för detta belopp"])]
        if len(parts) == 1:
            return parts[0][0], [parts[0][1]]
        return v_and(*(x[0] for x in parts)), [x[1] for x in parts]

    def payment(self, p: ast.Payment) -> tuple[list[Line], PotSummary]:
        rule = p.rule
        assert rule is not None   # _run skips a payment without its rule (the checker's V170)
        if isinstance(rule, ast.Fixed):
            who = self.data.recipient(rule.recipient)
            members = [who] if who else []
        else:
            members = self.data.members(rule.group)
        judged = [(r, *self.eligibility(p, r)) for r in members]
        amounts: dict[str, Any] = {}
        reads: dict[str, list] = {}
        pot_value: Any = None
        if isinstance(rule, ast.Pot):
            env = self.env.at(None)
            pot_value = evaluate(rule.amount, env)
            for r, verdict, _ in judged:
                if verdict == V.UPPFYLLT:
                    kenv = self.env.at(r.code, p.villkor)
                    amounts[r.code] = evaluate(rule.key, kenv)
                    reads[r.code] = kenv.reads
        else:
            for r, verdict, _ in judged:
                if verdict == V.UPPFYLLT:
                    # a fixed sum belongs to no recipient's rows (as the checker types it)
                    aenv = self.env.at(r.code if isinstance(rule, ast.PerMember) else None,
                                       p.villkor)
                    amounts[r.code] = evaluate(rule.amount, aenv)
                    reads[r.code] = aenv.reads
        cap_each = self._global(p.cap_each)
        cap_total = self._global(p.cap_total)
        alloc = allocate(rule, pot_value, amounts, cap_each, cap_total, p.rounding)
        lines: list[Line] = []
        counts = {v.value: 0 for v in V}
        label = f"utbetalning {p.name}: {p.title}"
        shares = alloc.shares
        for r, verdict, steps in judged:
            share = shares.get(r.code)
            if verdict == V.UPPFYLLT and isinstance(share, Missing):
                verdict = share.verdict
            counts[verdict._value_] += 1
            exact: Fraction | None
            amount: Fraction | None
            remarks: tuple[str, ...] = ()
            if verdict == V.EJ_UPPFYLLT:
                exact = amount = Fraction(0)
                notes: list = ["villkoret är inte uppfyllt: 0 kr"]
            elif verdict != V.UPPFYLLT:
                exact = amount = None
                notes = [f"{verdict.value}: beloppet kan inte bestämmas"]
                if isinstance(share, Missing):
                    notes.append(share.reason)
            else:
                # allocate() gives every fulfilling recipient a share; a Missing one changed
                # the verdict above
                assert isinstance(share, Share)
                exact, amount = share.exact, share.rounded
                notes = share.notes
                remarks = tuple(share.remarks)
            result = Deferred(swedish_money, amount) if amount is not None else verdict._value_
            step = Step(label, result, p.span, p.sources, reads.get(r.code), notes, steps)
            lines.append(Line(p, r, verdict, exact, amount, step, remarks))
        pending = counts["underlag saknas"] + counts["bedömning krävs"]
        if pending and (isinstance(rule, ast.Pot) or p.cap_total is not None):
            # a share that could still change says so on its own row, not only in the pots file
            text = preliminary_text(pending)
            for x in lines:
                if x.verdict == V.UPPFYLLT:
                    x.remarks += (text,)
        known = [x for x in lines if x.amount is not None]
        summary = PotSummary(p, p.villkor,
                             pot_value if isinstance(pot_value, Fraction) else
                             (cap_total if isinstance(cap_total, Fraction) else None),
                             exact_sum(_known([x.exact for x in known])),
                             exact_sum(_known([x.amount for x in known])), counts, alloc.notes)
        if pending and (isinstance(rule, ast.Pot) or p.cap_total is not None):
            summary.notes.append(f"{pending} mottagare väntar på underlag eller bedömning och "
                                 "ingår inte; andelarna är preliminära")
        return lines, summary

    def _global(self, expr: ast.Expr | None) -> Any:
        return evaluate(expr, self.env.at(None)) if expr is not None else None

    # ---- everything
    def run(self) -> Result:
        with paused_gc():
            return self._run()

    def _run(self) -> Result:
        by_key: dict[tuple[str, str], list[Line]] = {}
        pots: list[PotSummary] = []
        for p in self.version.payments.values():
            if p.rule is None:
                continue
            lines, summary = self.payment(p)
            pots.append(summary)
            vid = p.villkor or p.name
            for line in lines:
                key = (line.recipient.code, vid)
                if key in by_key:
                    by_key[key].append(line)
                else:
                    by_key[key] = [line]
        # recipients a villkor applies to but no payment reaches still get their verdict row
        for v in self.version.villkor.values():
            for r in self.data.members(v.applies or ""):
                if v.only and r.code not in v.only:
                    continue
                by_key.setdefault((r.code, v.vid), [])
        settlements: dict[str, list[Row]] = {}
        for rec in self.model.reconciliations:
            for st in reconcile(rec, self.env.at(None), self.data):
                settlements.setdefault(st.recipient.code, []).append(
                    Row(st.recipient, rec.name, st.verdict, st.amount, st.amount, None,
                        sources_text(rec.sources), self.version.label, st.note, [st.step]))
        invoices = [line for inv in self.model.invoicing
                    for line in check_invoices(inv, self.env.at(None), self.data)]
        rows: list[Row] = []
        order = [r for members in self.data.recipients.values() for r in members]
        vorder = {vid: i for i, vid in enumerate(sorted(self.version.villkor, key=vid_key))}
        per_recipient: dict[str, list[str]] = {}
        for code, vid in by_key:
            if code in per_recipient:
                per_recipient[code].append(vid)
            else:
                per_recipient[code] = [vid]
        for r in order:
            vids = per_recipient.get(r.code, ())
            if len(vids) > 1:
                vids = sorted(vids, key=lambda v: (vorder.get(v, 999), v))
            mine = []
            for vid in vids:
                mine.append(self._row(r, vid, by_key[(r.code, vid)]))
            rows.extend(mine)
            rows.extend(settlements.get(r.code, ()))   # settled apart: not in the summa
            if mine:
                rows.append(self._total(r, mine))
        return Result(self.version, self.per, rows, pots, invoices,
                      bool(self.model.invoicing))

    def _sources(self, lines: list[Line]) -> str:
        """The `källa` text of a row's payments: the same few combinations for every recipient."""
        key = tuple(id(x.payment) for x in lines)
        text = self.sources_memo.get(key)
        if text is None:
            text = self.sources_memo[key] = sources_text(
                [s for x in lines for s in x.payment.sources])
        return text

    def _row(self, r: Recipient, vid: str, lines: list[Line]) -> Row:
        v = self.version.villkor.get(vid)
        if not lines:
            verdict, step = self.villkor(vid, r.code)
            return Row(r, vid, verdict, None, None, None, sources_text(v.sources) if v else "",
                       self.version.origin.get(("villkor", vid), ""),
                       "ingen utbetalning är knuten till villkoret", [step], payable=False)
        if len(lines) == 1:
            line = lines[0]
            verdict, amount, exact = line.verdict, line.amount, line.exact
            due = line.payment.due
            notes = sorted(set(line.step.notes)) if amount is None else list(line.remarks)
        else:
            verdict = v_and(*(x.verdict for x in lines))
            known = all(x.amount is not None for x in lines)
            amount = exact_sum(_known([x.amount for x in lines])) if known else None
            exact = exact_sum(_known([x.exact for x in lines])) if known else None
            notes = sorted({n for x in lines if x.amount is None for n in x.step.notes})
            notes += [f"{x.payment.name}: {m}" for x in lines for m in x.remarks]
            dues = [x.payment.due for x in lines if x.payment.due]
            due = max(dues) if dues else None
        return Row(r, vid, verdict, amount, exact, due or None, self._sources(lines),
                   self.version.origin.get(("villkor", vid), "") if v else "",
                   "; ".join(notes), [x.step for x in lines])

    def _total(self, r: Recipient, all_rows: list[Row]) -> Row:
        rows = [x for x in all_rows if x.payable]
        if not rows:   # verdicts only: nothing is payable to this recipient
            verdict = v_and(*(x.verdict for x in all_rows))
            note = "inga utbetalningar gäller mottagaren"
            return Row(r, "summa", verdict, Fraction(0), Fraction(0), None, "",
                       self.version.label, note, [Step(f"summa för {r.name}", "0 kr",
                                                       notes=[note])])
        known = [x for x in rows if x.amount is not None]
        open_ = [x for x in rows if x.amount is None and x.verdict != V.EJ_UPPFYLLT]
        exact: Fraction | None
        amount: Fraction | None
        exact = exact_sum(_known([x.exact for x in known]))
        total = self.model.total
        if total is not None:
            amount = round_half_up(exact, total.rounding.unit)
            how = (f"exakt summa {exact_text(exact)} kr avrundad en gång till "
                   f"{'hela kronor' if total.rounding.unit == 'krona' else 'öre'}, halvt uppåt")
        else:
            amount = exact_sum(_known([x.amount for x in known]))
            how = "summan av de avrundade beloppen"
        if open_ and not known:   # nothing known yet: no amount, not a silent 0 kr
            amount = exact = None
            how = "inget belopp är känt ännu"
        verdict = v_and(*(x.verdict for x in open_)) if open_ else \
            (V.UPPFYLLT if any(x.verdict == V.UPPFYLLT for x in rows) else V.EJ_UPPFYLLT)
        note = how
        if open_:
            note += "; ofullständig: villkor " + ", ".join(x.villkor for x in open_) + \
                " saknar belopp och ingår inte"
        if verdict == V.UPPFYLLT:
            note += _why_met(rows, all_rows)
        step = Step(f"summa för {r.name}",
                    Deferred(swedish_money, amount) if amount is not None else verdict._value_,
                    total.span if total else None, total.sources if total else (), notes=[note])
        return Row(r, "summa", verdict, amount, exact, None,
                   sources_text(total.sources) if total else "", self.version.label, note, [step])


_UNSEEN = object()


def _known(xs: list[Fraction | None]) -> list[Fraction]:
    """The amounts of lines or rows whose amount is known: an exact amount goes with every
    rounded one, so none is None (an invariant the type checker cannot see)."""
    return cast("list[Fraction]", xs)


def _why_met(payable: list[Row], all_rows: list[Row]) -> str:
    """Why a summa is `uppfyllt` although one of the recipient's villkor is not: it is paid
    0 kr, or no payment is tied to it. Said on the row, not left for the reader to puzzle out."""
    unmet = [x.villkor for x in payable if x.verdict == V.EJ_UPPFYLLT]
    unpaid = [x for x in all_rows if not x.payable and x.verdict != V.UPPFYLLT]
    text = ""
    if unmet:
        text += f"; villkor {', '.join(unmet)} är inte uppfyllt och ger 0 kr"
    if unpaid:
        text += "; " + ", ".join(f"villkor {x.villkor} ({x.verdict._value_})" for x in unpaid) + \
            UNPAID
    return text


def sources_text(sources) -> str:
    """`dokument: avsnitt; …; antagande: …`, each once, for the `källa` column."""
    seen: list[str] = []
    for s in sources:
        text = s.text()
        if text not in seen:
            seen.append(text)
    return "; ".join(seen)


PRELIMINARY = "preliminärt: {} mottagare väntar på underlag eller bedömning; andelen kan ändras"
UNPAID = " har ingen utbetalning och påverkar inte summan"


def preliminary_text(pending: int) -> str:
    """The row note of a share that can still change: others wait for data or a decision."""
    return PRELIMINARY.format(pending)


def vid_key(vid: str):
    """Villkor ids in reading order: 1, 1.2, 2, 10 (not 1, 10, 2)."""
    return tuple(int(x) if x.isdigit() else x for x in vid.split("."))


def run(model: Model, data: Dataset, params: dict[str, Any], per: date | None = None) -> Result:
    return Engine(model, data, params, per).run()
