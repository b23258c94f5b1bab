"""The step loop every runner shares (`follow_steps`): the steps in order, the one-row steps
read back (a pot's key total and its 64-bit bounds, the kontroll, what the plan cannot hold),
and the pots file's lines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..eval.checks import check_diagnostics, evaluate_checks
from ..eval.engine import PotSummary
from ..eval.shares import ZERO_KEY
from ..eval.values import Missing, exact_text, swedish_money
from ..syntax import ast
from . import sqltext as S
from .intake import BEYOND, NAMED
from .linear import PER_UNIT
from .plan import AmountPlan, Plan, PotPlan, Unsupported
from .settle import INVOICE_LIMITS
from .verdicts import CHECKS

LIMIT = 2 ** 62
TOO_LARGE = Unsupported("talen är för stora för kolumnmotorns heltal (64-bitars; 128 bitar för "
                        "de exakta summorna, decimaltal och andelar)", None)


class TooLarge(Exception):
    """A runner's one-row step did not fit in 64 bits (Spark's ANSI overflow)."""


class ChecksFailed(Exception):
    """A `kontroll` that does not hold for the data: the run stops before anything is written,
    as in the reference (`diagnostics` are the same V160 errors and warnings)."""

    def __init__(self, diagnostics: list):
        super().__init__("kontroll")
        self.diagnostics = diagnostics


def follow_steps(plan: Plan, steps: list[S.Step], execute: Callable[[S.Step], None],
                 one_row: Callable[[str], tuple], progress: Callable[[str], None]
                 ) -> tuple[list[PotSummary], list] | Unsupported:
    """Every step but the result, in order, on any engine (`execute` runs one, `one_row` reads
    a one-row step): the 64-bit bounds of each pot, the kontroll, belopp the plan cannot hold,
    and the pots file's lines in the agreement's order, with the kontroll warnings. A step
    whose numbers do not fit in 64 bits (`TooLarge` from either) is a plan that cannot run."""
    try:
        return _follow_steps(plan, steps, execute, one_row, progress)
    except TooLarge:
        return TOO_LARGE


def _follow_steps(plan: Plan, steps: list[S.Step], execute: Callable[[S.Step], None],
                  one_row: Callable[[str], tuple], progress: Callable[[str], None]
                  ) -> tuple[list[PotSummary], list] | Unsupported:
    names = S.Names.of(plan)
    key_total = {names.line("nyckel", g.name, k): (g.name, k, pot) for g in plan.groups
                 for k, pot in enumerate(g.pots)}
    counts = {names.line("räkna", g.name, k): (g.name, k, line) for g in plan.groups
              for k, line in enumerate(g.lines)}
    sums = {names.group("summa", g.name): g for g in plan.groups}
    rows = {names.group("rader", g.name): g for g in plan.groups}
    pots: list[PotSummary] = []
    totals: dict[tuple[str, int], tuple[int, int]] = {}    # a pot's key total and sharers
    largest: dict[tuple[str, int], int] = {}     # a line's largest |tal| among paid members
    common: dict[str, int] = {}                  # a group's L (rows.sum_step)
    # a kontroll that reads no data is decided here (its warnings: a parameter without value)
    warnings: list = [] if plan.checked else decide_checks(plan, ())
    for st in steps[:-1]:
        progress(f"steg {st.name}")
        execute(st)
        if st.name in key_total:
            group, k, pot = key_total[st.name]
            total, n, biggest, _ = one_row(st.name)
            if 2 * pot.pot_ore * int(biggest) + pot.unit_ore * int(total) >= LIMIT \
                    or 2 * int(total) * 10_000 >= LIMIT:
                return TOO_LARGE
            totals[(group, k)] = (int(total), int(n))
        if st.name in sums:   # L within CAP_L, and every terminating decimal within 6 places
            found, six = one_row(st.name)
            if int(found) <= 0 or not six:
                return TOO_LARGE
            common[sums[st.name].name] = int(found)
        if st.name in rows and rows[st.name].name in common:
            g = rows[st.name]
            # the exact sum Σ tal·(L/T) of a member's paid lines, within 128 bits
            L = common[g.name]
            dens = [line.den if isinstance(line, AmountPlan) else totals[(g.name, k)][0]
                    for k, line in enumerate(g.lines)]
            worst = sum(largest[(g.name, k)] * (L // den) for k, den in enumerate(dens) if den)
            if worst >= 10 ** 31:     # 128 bits, and exact division on Spark's DECIMAL(38, 0)
                return TOO_LARGE
        if st.name == CHECKS:
            warnings = decide_checks(plan, one_row(st.name))
        if st.name == NAMED and one_row(st.name)[0]:
            return Unsupported("en mottagare som ett fast belopp nämner finns också i en grupp "
                               "ur en tabell; referensmotorn avgör vem beloppet går till", None)
        if st.name == BEYOND and one_row(st.name)[0]:
            return Unsupported("ett tal i indata är finare eller större än kolumnmotorn "
                               "håller: ett belopp räknas i hela ören (högst två decimaler "
                               "och 16 siffror), ett decimaltal eller en andel med högst 18 "
                               "decimaler (16 före %) och 20 siffror före decimaltecknet", None)
        if st.name == INVOICE_LIMITS and _invoices_too_large(plan, one_row(st.name)):
            return TOO_LARGE
        if st.name in counts:
            group, k, line = counts[st.name]
            counted = one_row(st.name)
            largest[(group, k)] = int(counted[-1])
            if isinstance(line, AmountPlan) and line.cap_total is not None and (
                    int(counted[-2]) > line.cap_total * line.den or
                    int(counted[-3]) > line.cap_total):
                # the amounts are scaled down to the cap (and rounded by largest remainder)
                return Unsupported(f"utbetalningen {line.payment.name}: beloppen överstiger "
                                   "taket totalt och skalas ned; det räknar referensmotorn",
                                   None)
            pots.append(_pot_summary(line, *totals[(group, k)], counted[:-1])
                        if isinstance(line, PotPlan) else _amount_summary(line, counted[:-1]))
    order = list(plan.version.payments)     # the pots file lists payments as the agreement
    pots.sort(key=lambda p: order.index(p.payment.name))
    return pots, warnings


def _invoices_too_large(plan: Plan, largest: tuple) -> bool:
    """antal × pris for every invoice line must fit in 64 bits (the limits step's one row has
    the largest |antal| of each priced invoice table, in the plan's order)."""
    priced = [ip for ip in plan.invoices if ip.prices and "antal" in ip.columns]
    return any(int(n) * max(ip.prices.values(), key=abs) >= LIMIT
               for ip, n in zip(priced, largest))


def decide_checks(plan: Plan, row) -> list:
    """The kontroll, decided by the reference's code (`eval.checks`) on the aggregates the
    `kontroll` step computed: the warnings, or ChecksFailed with the errors."""
    pushed = {}
    values = list(row)
    at = 0
    for node in plan.checked:
        n, k, o, fl, fv = values[at:at + 5]
        at += 5
        total = blank = None
        if isinstance(node, ast.TotalOf):
            total, blank = values[at:at + 2]
            at += 2
        pushed[id(node)] = _pushed(plan, node, n, k, o, fl, fv, total, blank)
    diags = check_diagnostics(evaluate_checks(plan.model, plan.version, {}, None, pushed))
    if any(d.is_error for d in diags):
        raise ChecksFailed(diags)
    return diags


def _pushed(plan: Plan, node, n, k, o, fl, fv, total, blank):
    """One aggregate's value as the reference's `_aggregate` gives it with no recipient."""
    spec = plan.model.records[node.table]
    file = Path(spec.file).name
    if n is None:    # the `valfri` file is not there (checks_step)
        return Missing(f"filen {spec.file} finns inte (tabellen {node.table})")
    if o:
        return Missing(f"{int(o)} poster i {file} kan inte prövas (t.ex. rad {int(fl)}: "
                       f"{S.VERDICTS[int(fv)]})")
    if isinstance(node, ast.Count):
        return Fraction(int(k))
    if isinstance(node, ast.ShareOf):
        if not n:
            return Missing(f"inga poster i {file}")
        return Fraction(int(k), int(n))
    if blank is not None:
        return Missing(f"{file} rad {int(blank)}: {node.column} är tom")
    return Fraction(int(total or 0), PER_UNIT[spec.columns[node.column].type])


@dataclass
class Pots:
    pots: list[PotSummary]     # what `pot_rows` reads of a Result


def _amount_summary(line: AmountPlan, counted) -> PotSummary:
    """A per-member payment's line in the pots file: no pot, its exact and paid totals."""
    *by_code, paid, exact_num = counted
    counts = dict(zip(S.VERDICTS, map(int, by_code)))
    notes = []
    pending = counts["underlag saknas"] + counts["bedömning krävs"]
    if pending and line.cap_total is not None:
        notes.append(f"{pending} mottagare väntar på underlag eller bedömning och ingår inte; "
                     "andelarna är preliminära")
    cap = Fraction(line.cap_total, 100) if line.cap_total is not None else None
    return PotSummary(line.payment, line.payment.villkor, cap,
                      Fraction(int(exact_num), 100 * line.den), Fraction(int(paid), 100), counts,
                      notes)


def _pot_summary(pot, total: int, n: int, counted) -> PotSummary:
    *by_code, paid, _ = counted
    amount = Fraction(pot.pot_ore, 100)
    notes = [(f"pott {swedish_money(amount)} delas på {n} mottagare; "
              f"summa av nyckeln {exact_text(Fraction(total))}")]
    if n and not total:    # fulfilling recipients whose keys are all 0 (as eval/shares.py)
        notes.append(ZERO_KEY)
    counts = dict(zip(S.VERDICTS, map(int, by_code)))
    pending = counts["underlag saknas"] + counts["bedömning krävs"]
    if pending:
        notes.append(f"{pending} mottagare väntar på underlag eller bedömning och ingår inte; "
                     "andelarna är preliminära")
    return PotSummary(pot.payment, pot.payment.villkor, amount,
                      amount if total else Fraction(0), Fraction(int(paid), 100), counts, notes)

