"""Invoice lines checked against the agreement, and the year-end reconciliation.

Each invoice line gets a status and one Swedish finding per broken rule; good lines are accepted.
A reconciliation compares, per recipient, what was invoiced with what was earned (capped by what
was granted): a positive difference is to be paid, a negative one repaid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, Literal

from ..io.data import Dataset, Recipient
from ..syntax import ast
from .interpreter import Env, as_verdict, evaluate
from .trace import Step
from .values import Missing, V, Verdict, exact_text, round_half_up, swedish_money, v_and

# ASCII digits (`\d` would take any script's), and year 0 is no year: `0000-01` is malformed
MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass
class InvoiceLine:
    invoicing: str
    file: str
    line: int
    recipient: str
    product: str
    month: str
    quantity: Fraction | None
    amount: Fraction | None
    findings: list[str] = field(default_factory=list)

    @property
    def status(self) -> Literal["godkänd", "avvisad"]:
        return "avvisad" if self.findings else "godkänd"


def check_invoices(inv: ast.Invoicing, env: Env, data: Dataset) -> list[InvoiceLine]:
    spec = env.model.records[inv.table]
    table = data.records.get(inv.table)
    if table is None or not table.present:
        return []
    products = {p.code: p for p in inv.products}
    link = next(iter(spec.links.items()), None)
    members = {r.code for r in data.members(link[0])} if link else set()
    # prices and caps are each recipient's own (a cap of `summa(projekt.beviljat)` is what that
    # recipient was granted, not every grantee's), evaluated once per recipient
    terms: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def own(recipient: str) -> tuple[dict[str, Any], dict[str, Any]]:
        if recipient not in terms:
            mine = recipient in members
            e = env.at(recipient if mine else None)
            # a line that names no recipient has no grant: it is refused as such, with no cap
            # made up from every grantee's rows
            terms[recipient] = ({p.code: evaluate(p.price, e) for p in inv.products
                                 if p.price is not None},
                                {p.code: evaluate(p.cap, e) for p in inv.products
                                 if p.cap is not None and mine})
        return terms[recipient]

    lines: list[InvoiceLine] = []
    for row in table.rows:
        v = row.values
        line = InvoiceLine(inv.name, table.path.name, row.line,
                           str(v.get(link[1]) or "") if link else "",
                           str(v.get("produktkod") or ""),
                           str(v.get("månad") or ""), v.get("antal"), v.get("belopp"))
        for column, wanted in inv.requires:
            got = v.get(column)
            if got is None:
                line.findings.append(f"{column} saknas (ska vara {wanted})")
            elif str(got) != wanted:
                line.findings.append(f"{column} är {got}, ska vara {wanted}")
        if line.product not in products:
            line.findings.append(f"okänd produktkod {line.product or '(tom)'}; tillåtna: "
                                 + ", ".join(products))
        _check_month(line, inv.period)
        if line.amount is None:
            line.findings.append("belopp saknas")
        price = own(line.recipient)[0].get(line.product)
        if isinstance(price, Fraction) and line.amount is not None:
            if line.quantity is None:
                line.findings.append("antal saknas; beloppet kan inte prövas mot priset")
            elif line.amount != line.quantity * price:
                line.findings.append(
                    f"beloppet {swedish_money(line.amount)} stämmer inte med antal × pris = "
                    f"{line.quantity} × {swedish_money(price)} = "
                    f"{swedish_money(line.quantity * price)}")
        if link and line.recipient not in members and not any(c == link[1] for c, _ in
                                                              inv.requires):
            line.findings.append(f"{link[1]} {line.recipient or '(tom)'} hör inte till någon "
                                 f"mottagare i {link[0]}")
        lines.append(line)
    _check_caps(lines, {who: own(who)[1] for who in {x.recipient for x in lines}})
    return lines


def _check_month(line: InvoiceLine, period: tuple[date, date] | None) -> None:
    m = MONTH.fullmatch(line.month)
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        line.findings.append(f"månaden `{line.month}` ska skrivas ÅÅÅÅ-MM")
        return
    first = date(int(m.group(1)), int(m.group(2)), 1)
    if period and not (period[0].replace(day=1) <= first <= period[1]):
        line.findings.append(f"månaden {line.month} ligger utanför perioden "
                             f"{period[0].isoformat()}–{period[1].isoformat()}")


def _check_caps(lines: list[InvoiceLine], caps: dict[str, dict[str, Any]]) -> None:
    """Cumulative amount per recipient and product, in month order: the line that passes the
    recipient's grant is flagged."""
    running: dict[tuple[str, str], Fraction] = {}
    for line in sorted(lines, key=lambda x: (x.month, x.line)):
        cap = caps.get(line.recipient, {}).get(line.product)
        if not isinstance(cap, Fraction) or line.amount is None:
            continue
        key = (line.recipient, line.product)
        running[key] = running.get(key, Fraction(0)) + line.amount
        if running[key] > cap:
            line.findings.append(
                f"sammanlagt fakturerat för {line.product} blir {swedish_money(running[key])}"
                f" till och med {line.month}, mer än beviljat {swedish_money(cap)}")


@dataclass
class Settlement:
    reconciliation: ast.Reconciliation
    recipient: Recipient
    verdict: Verdict
    amount: Fraction | None   # > 0 to pay, < 0 to repay
    note: str
    step: Step


def reconcile(r: ast.Reconciliation, env: Env, data: Dataset) -> list[Settlement]:
    out = []
    for who in data.members(r.group):
        e = env.at(who.code)
        # the checker refuses an avstämning without both (V170): never evaluated
        assert r.invoiced is not None and r.earned is not None
        parts = {"fakturerat": evaluate(r.invoiced, e), "intjänat": evaluate(r.earned, e)}
        if r.granted is not None:
            parts["beviljat"] = evaluate(r.granted, e)
        step = Step(f"avstämning {r.name}: {r.title}", "", r.span, r.sources, e.reads)
        if r.requirement is not None:
            met = as_verdict(evaluate(r.requirement, e))
            step.notes.append(f"krav för avstämningen: {met}")
            if met == V.EJ_UPPFYLLT:
                parts["intjänat"] = Fraction(0)   # requirements not met: nothing was earned
            elif met != V.UPPFYLLT:
                parts["intjänat"] = Missing(f"kraven för avstämningen: {met}", met)
        missing = [x for x in parts.values() if isinstance(x, Missing)]
        if missing:
            verdict = v_and(*(m.verdict for m in missing))
            step.result = str(verdict)
            step.notes.extend(m.reason for m in missing)
            out.append(Settlement(r, who, verdict, None, "; ".join(m.reason for m in missing),
                                  step))
            continue
        earned = parts["intjänat"]
        target = min(earned, parts["beviljat"]) if "beviljat" in parts else earned
        if r.rounding is not None:
            rounded = round_half_up(target, r.rounding.unit)
            if rounded != target:
                step.notes.append(f"intjänat {exact_text(target)} kr avrundat till "
                                  f"{swedish_money(rounded)}")
            target = rounded
        diff = target - parts["fakturerat"]
        shown = ", ".join(f"{k} {swedish_money(v)}" for k, v in parts.items())
        step.notes.append(shown)
        if "beviljat" in parts and earned > parts["beviljat"]:
            step.notes.append(f"intjänat över beviljat: högst {swedish_money(parts['beviljat'])}")
        if diff < 0 and r.repay_verdict == "bedömning krävs":
            # the source leaves repayment to a person: show what could be repaid, decide nothing
            note = (f"möjlig återbetalning {swedish_money(-diff)}; källan lämnar frågan om "
                    "återbetalning till en person")
            step.notes.append(f"{swedish_money(target)} − {swedish_money(parts['fakturerat'])} = "
                              f"{swedish_money(diff)}: {note}")
            step.result = str(V.BEDOMNING_KRAVS)
            out.append(Settlement(r, who, V.BEDOMNING_KRAVS, None, f"{note} ({shown})", step))
            continue
        if diff < 0:
            note = f"återbetalning {swedish_money(-diff)}"
            verdict = V.EJ_UPPFYLLT
        elif diff > 0:
            note, verdict = f"att betala {swedish_money(diff)}", V.UPPFYLLT
        else:
            note, verdict = "ingen differens", V.UPPFYLLT
        step.notes.append(f"{swedish_money(target)} − {swedish_money(parts['fakturerat'])} = "
                          f"{swedish_money(diff)}: {note}")
        step.result = note
        out.append(Settlement(r, who, verdict, diff, f"{note} ({shown})", step))
    return out
