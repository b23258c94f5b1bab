"""Invoices and the year-end reconciliation as SQL: eval/invoices.py, step for step.

`fakturor` is one step with a row per invoice line (every good row of each `fakturering`'s
record table, in file order): its findings are CASE expressions in the reference's order,
joined by `; `, and the status follows from them. An `avstämning` adds columns to its group's
`mot_*` step (what was invoiced and earned, as a known factor × a measure, with why each is
missing) and a row per member between the villkor rows and `summa`, as the reference's
settlement row. Money is integer öre; `swedish_money` writes it as people read it
(`1 050 000 kr`, `−70 000 kr`, `1 234,50 kr`), as eval/values.py's `swedish_money` does.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm

from .money import render
from .moneytext import money_text, signed_money, swedish_money
from .plan import InvoicePlan, Plan, SettlementPlan
from .sqltext import (
    BEDOMNING,
    EJ,
    ROW,
    UPPFYLLT,
    Names,
    Step,
    ident,
    lit,
    own,
    step,
    verdict_text,
)
from .verdicts import Compiler

INVOICES = "fakturor"            # the step with the invoice lines (the `.fakturor` file's rows)
INVOICE_LIMITS = "fakturagränser"   # one row: the largest |antal| of each invoice table
FINDINGS = own("fynd")           # the findings apart, separated by SEPARATOR (not written)
SEPARATOR = "\x1f"


# ---- invoices --------------------------------------------------------------------------------

def invoice_limits_step(plan: Plan, names: Names) -> Step | None:
    """One row: the largest |antal| of each priced invoice table (`§i<k>`), so the runner can
    check antal × pris against 64 bits before the lines are checked."""
    cols = [f"(SELECT COALESCE(MAX(ABS(antal)), 0) FROM "
            f"{ident(names.table('bra', ip.invoicing.table))}) AS {own(f'i{k}')}"
            for k, ip in enumerate(plan.invoices) if ip.prices and "antal" in ip.columns]
    return step(INVOICE_LIMITS, f"SELECT {', '.join(cols)}") if cols else None


def invoice_step(plan: Plan, files: dict[str, str], names: Names) -> Step:
    """The `.fakturor` file's rows, in the agreement's order of `fakturering` and file order."""
    parts = [_invoice_lines(k, ip, plan, files, names) for k, ip in enumerate(plan.invoices)]
    return step(INVOICES, "SELECT fakturering, fil, rad, mottagare, produktkod, månad, antal, "
                f"belopp, status, anmärkning, {FINDINGS} FROM ({' UNION ALL '.join(parts)}) "
                f"AS f ORDER BY {own('f')}, rad")


def _invoice_lines(k: int, ip: InvoicePlan, plan: Plan, files: dict[str, str],
                   names: Names) -> str:
    inv = ip.invoicing
    has = ip.columns

    def col(name: str) -> str:
        return f"t.{ident(name)}" if name in has else "NULL"

    link = f"t.{ident(ip.link)}" if ip.link else "NULL"
    product = f"COALESCE({col('produktkod')}, '')"
    month = f"COALESCE({col('månad')}, '')"
    findings = []
    for column, wanted in inv.requires:
        got = f"t.{ident(column)}"
        absent = lit(f"{column} saknas (ska vara {wanted})")
        findings.append(f"CASE WHEN {got} IS NULL THEN {absent}"
                        f" WHEN {got} <> {lit(wanted)} THEN {lit(column + ' är ')} || {got} || "
                        f"{lit(', ska vara ' + wanted)} END")
    codes = [p.code for p in inv.products]
    unknown = f"{product} NOT IN ({', '.join(lit(c) for c in codes)})" if codes else "TRUE"
    findings.append(f"CASE WHEN {unknown} THEN 'okänd produktkod ' || "
                    f"COALESCE(NULLIF({product}, ''), '(tom)') || "
                    f"{lit('; tillåtna: ' + ', '.join(codes))} END")
    year, mon = f"TRY_CAST(SUBSTRING({month}, 1, 4) AS INTEGER)", \
        f"TRY_CAST(SUBSTRING({month}, 6, 2) AS INTEGER)"
    valid = (f"(REGEXP_MATCHES({month}, '^[0-9]{{4}}-[0-9]{{2}}$') AND {year} >= 1 AND "
             f"{mon} BETWEEN 1 AND 12)")
    period = ""
    if inv.period is not None:
        start, end = inv.period
        ym = f"{year} * 100 + {mon}"
        period = (f" WHEN NOT ({ym} BETWEEN {start.year * 100 + start.month} AND "
                  f"{end.year * 100 + end.month}) THEN 'månaden ' || {month} || "
                  f"{lit(f' ligger utanför perioden {start.isoformat()}–{end.isoformat()}')}")
    findings.append(f"CASE WHEN NOT COALESCE({valid}, FALSE) THEN 'månaden `' || {month} || "
                    f"'` ska skrivas ÅÅÅÅ-MM'{period} END")
    amount = col("belopp")
    findings.append(f"CASE WHEN {amount} IS NULL THEN 'belopp saknas' END")
    price = own("pris")
    if ip.prices:
        quantity = col("antal")
        prod = own("produkt")
        findings.append(
            f"CASE WHEN {price} IS NOT NULL AND {amount} IS NOT NULL THEN CASE WHEN {quantity} "
            f"IS NULL THEN 'antal saknas; beloppet kan inte prövas mot priset' WHEN {amount} <> "
            f"{prod} THEN 'beloppet ' || {swedish_money(amount)} || ' stämmer inte med antal × "
            f"pris = ' || CAST({quantity} AS VARCHAR) || ' × ' || {swedish_money(price)} || "
            f"' = ' || {swedish_money(prod)} END END")
    member = own("medlem")
    if ip.link and ip.group and not any(c == ip.link for c, _ in inv.requires):
        findings.append(f"CASE WHEN {member} IS NULL THEN {lit(ip.link + ' ')} || "
                        f"COALESCE(NULLIF(COALESCE({link}, ''), ''), '(tom)') || "
                        f"{lit(' hör inte till någon mottagare i ' + ip.group)} END")
    cap, running = own("tak"), own("löpande")
    caps = [code for code in ip.caps]
    den = cap_denominator(ip)
    if caps:   # the running total per member and product, in month order (`_check_caps`)
            findings.append(
            f"CASE WHEN {cap} IS NOT NULL AND {amount} IS NOT NULL AND {running} * {den} > {cap} "
            f"THEN 'sammanlagt fakturerat för ' || {product} || ' blir ' || "
            f"{swedish_money(running)} || ' till och med ' || {month} || ', mer än beviljat ' || "
            f"{money_text(cap, den)} END")
    note = own("not")
    prices = " ".join(f"WHEN {lit(c)} THEN {p}" for c, p in ip.prices.items())
    priced = f"CASE {product} {prices} END" if ip.prices else "NULL"
    source = f"{ident(names.table('bra', inv.table))} AS t"
    capped = ", ".join(f"{_cap(k, i)}, {_cap(k, i, 'v')}" for i in range(len(caps)))
    if ip.link and ip.group:
        source += (f" LEFT JOIN (SELECT {own('kod')} AS {member}{', ' + capped if caps else ''} "
                   f"FROM {ident(names.group('mot', ip.group))}) AS m ON m.{member} = {link}")
    else:
        source += f" CROSS JOIN (SELECT 1 AS {member}) AS m"
    # a cap the member's data leave missing is not tested (`isinstance(cap, Fraction)`)
    chosen = " ".join(f"WHEN {lit(code)} THEN CASE WHEN m.{_cap(k, i, 'v')} IS NULL THEN "
                      f"m.{_cap(k, i)} END" for i, code in enumerate(caps))
    inner = (f"SELECT t.*, m.{member}, {priced} AS {price}"
             f"{f', CASE {product} {chosen} END AS {cap}' if caps else ''} FROM {source}")
    if caps:
        inner = (f"SELECT *, SUM({amount}) OVER (PARTITION BY {link}, {product} ORDER BY "
                 f"{month}, {ROW} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS "
                 f"{running} FROM ({inner}) AS t")
    if ip.prices:
        inner = (f"SELECT *, CAST({col('antal')} AS BIGINT) * {price} AS {own('produkt')} "
                 f"FROM ({inner}) AS t") if "antal" in has else \
            f"SELECT *, NULL AS {own('produkt')} FROM ({inner}) AS t"
    shown = f"CONCAT_WS('; ', {', '.join(findings)})"
    # the same findings one by one, for the screen (a cell's text never ends a finding)
    listed = f"CONCAT_WS(CHR({ord(SEPARATOR)}), {', '.join(findings)})"
    quantity_text = f"CAST({col('antal')} AS VARCHAR)"
    amount_text = f"CASE WHEN {amount} IS NOT NULL THEN {signed_money(amount)} END"
    return (f"SELECT {k} AS {own('f')}, {lit(inv.name)} AS fakturering, "
            f"{lit(files[inv.table])} AS fil, t.{ROW} AS rad, "
            # an empty text is NULL: DuckDB writes '' as `""` in CSV, the reference as nothing
            f"NULLIF(COALESCE({link}, ''), '') AS mottagare, NULLIF({product}, '') AS "
            f"produktkod, NULLIF({month}, '') AS månad, {quantity_text} AS antal, "
            f"{amount_text} AS belopp, CASE WHEN t.{note} = '' THEN 'godkänd' ELSE 'avvisad' END "
            f"AS status, NULLIF(t.{note}, '') AS anmärkning, t.{FINDINGS} "
            f"FROM (SELECT *, {shown} AS {note}, {listed} AS {FINDINGS} FROM ({inner}) AS t) "
            "AS t")


def _cap(k: int, i: int, part: str = "") -> str:
    return own(f"tak{k}_{i}{part}")


def cap_denominator(ip: InvoicePlan) -> int:
    """One denominator for all of an invoicing's caps (each cap's öre are num/den)."""
    return lcm(*(den for den, _ in ip.caps.values())) if ip.caps else 1


def member_columns(comp: Compiler, group_name: str, plan: Plan) -> list[str]:
    """What the invoices and settlements read of each member, on its `mot_*` row."""
    return invoice_cap_columns(comp, group_name, plan) + \
        settlement_columns(comp, group_name, plan)


def invoice_cap_columns(comp: Compiler, group_name: str, plan: Plan) -> list[str]:
    """Each product's cap (`högst`) for the member: öre·den (`cap_denominator`), and why it is
    missing."""
    cols = []
    for k, ip in enumerate(plan.invoices):
        if ip.group != group_name:
            continue
        den = cap_denominator(ip)
        for i, (_, expr) in enumerate(ip.caps.values()):
            done = render(comp, expr, Fraction(100 * den))
            cols += [f"{done.num} AS {_cap(k, i)}", f"{done.why} AS {_cap(k, i, 'v')}"]
    return cols


# ---- the reconciliation ----------------------------------------------------------------------

def _part(k: int, name: str) -> str:
    return own(f"avst{k}_{name}")


def settlement_columns(comp: Compiler, group_name: str, plan: Plan) -> list[str]:
    """For each `avstämning` of the group, on its `mot_*` row: invoiced and earned as öre·den
    (batch/money.py), why each is missing and that verdict, and the verdict of its `krav`."""
    cols = []
    for k, sp in enumerate(plan.settlements.get(group_name, ())):
        for name, (den, expr) in (("f", sp.invoiced), ("t", sp.earned)):
            done = render(comp, expr, Fraction(100 * den))
            cols += [f"{done.num} AS {_part(k, name)}", f"{done.why} AS {_part(k, name + 'v')}",
                     f"{done.verdict} AS {_part(k, name + 'k')}"]
        requirement = sp.reconciliation.requirement
        cols.append(f"{comp.verdict(requirement) if requirement is not None else UPPFYLLT} AS "
                    f"{_part(k, 'krav')}")
    return cols


def settlement_numbers(plan: Plan, group_name: str) -> list[str]:
    """Per `avstämning`: why it cannot be settled (`_mangel`) and that verdict (`_mv`), the
    earned amount after `krav` (öre·den, `_intj`) and after rounding (whole öre, `_mål`), and
    the difference to what was invoiced (whole öre, `_diff`)."""
    cols = []
    for k, sp in enumerate(plan.settlements.get(group_name, ())):
        req = _part(k, "krav")
        den = sp.earned[0]
        why_earned = (f"CASE WHEN {req} = {EJ} THEN NULL WHEN {req} <> {UPPFYLLT} THEN "
                      f"'kraven för avstämningen: ' || {verdict_text(req)} ELSE "
                      f"{_part(k, 'tv')} END")
        verdict_earned = f"CASE WHEN {req} NOT IN ({UPPFYLLT}, {EJ}) THEN {req} ELSE " \
                         f"{_part(k, 'tk')} END"
        earned = f"CASE WHEN {req} = {EJ} THEN 0 ELSE {_part(k, 't')} END"
        target = earned      # whole öre without rounding: the plan asked den = 1 then
        if sp.unit_ore is not None:
            u = sp.unit_ore
            target = (f"CASE WHEN ({earned}) < 0 THEN -1 ELSE 1 END * ((2 * ABS({earned}) + "
                      f"{u * den}) // {2 * u * den}) * {u}")
        cols += [f"CONCAT_WS('; ', {_part(k, 'fv')}, {why_earned}) AS {_part(k, 'mangel')}",
                 f"GREATEST(CASE WHEN {_part(k, 'fv')} IS NOT NULL THEN {_part(k, 'fk')} END, "
                 f"CASE WHEN ({why_earned}) IS NOT NULL THEN {verdict_earned} END) AS "
                 f"{_part(k, 'mv')}",
                 f"{earned} AS {_part(k, 'intj')}", f"{target} AS {_part(k, 'mål')}",
                 f"{target} - {_part(k, 'f')} AS {_part(k, 'diff')}"]
    return cols


def settlement_row(k: int, sp: SettlementPlan) -> tuple[str, str, str, str]:
    """(utfall, belopp, exakt_belopp, anmärkning) of member's row for `avstämning` k."""
    missing = f"{_part(k, 'mangel')} <> ''"
    diff = _part(k, "diff")
    person = sp.reconciliation.repay_verdict == "bedömning krävs"
    undecided = f"{diff} < 0" if person else "FALSE"
    code = (f"CASE WHEN {missing} THEN {_part(k, 'mv')} WHEN {undecided} THEN {BEDOMNING} "
            f"WHEN {diff} < 0 THEN {EJ} ELSE {UPPFYLLT} END")
    amount = f"CASE WHEN {missing} OR {undecided} THEN NULL ELSE {signed_money(diff)} END"
    shown = (f"'fakturerat ' || {swedish_money(_part(k, 'f'))} || ', intjänat ' || "
             f"{money_text(_part(k, 'intj'), sp.earned[0])}")
    repay = f"{swedish_money(f'(-{diff})')}"
    note = (f"CASE WHEN {missing} THEN {_part(k, 'mangel')} "
            + (f"WHEN {diff} < 0 THEN 'möjlig återbetalning ' || {repay} || "
               f"'; källan lämnar frågan om återbetalning till en person (' || {shown} || ')' "
               if person else
               f"WHEN {diff} < 0 THEN 'återbetalning ' || {repay} || ' (' || {shown} || ')' ")
            + f"WHEN {diff} > 0 THEN 'att betala ' || {swedish_money(diff)} || ' (' || {shown} "
            f"|| ')' ELSE 'ingen differens (' || {shown} || ')' END")
    return verdict_text(code), amount, amount, note

