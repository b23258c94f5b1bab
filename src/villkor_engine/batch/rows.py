"""The output rows in SQL: per member one row per villkor or payment, its reconciliations and
its `summa` (as the reference's `_total`), unnested in order (`rader_*`), and the result."""

from __future__ import annotations

from dataclasses import dataclass

from ..eval.engine import UNPAID, sources_text
from .lines import line_note, paid_here, row_of
from .moneytext import decimal, exact_money, fraction_text, money, signed
from .plan import (
    AmountPlan,
    GroupPlan,
    Plan,
    PotPlan,
    total_denominator,
)
from .settle import settlement_numbers, settlement_row
from .sqltext import (
    EJ,
    KOD,
    MARK,
    NAMN,
    ORD,
    PENDING,
    SUMMA_L,
    TOTAL,
    UPPFYLLT,
    Names,
    Step,
    ident,
    line_cols,
    lit,
    one_of,
    own,
    step,
    v_and,
    verdict_column,
    verdict_text,
)


def rows_step(plan: Plan, group: GroupPlan, names: Names) -> Step:
    """Every output row of the group: one per villkor (and a payment's own row when it has no
    villkor), its reconciliations, then `summa`, with ordering columns. A row a member does not
    have (a villkor `endast` others, a fixed amount to another member) is marked `§bort` and
    left out of the result, so every member's list has the same length."""
    version = plan.version
    source = names.line("andel", group.name, len(group.lines) - 1) if group.lines else \
        names.group("mot", group.name)
    rows = group_rows(plan, group)
    parts = []
    for i, row in enumerate(rows):
        key = row.key
        v = version.villkor.get(key)
        # an empty text is NULL: DuckDB writes '' as `""` in CSV, the reference as nothing
        origin = version.origin.get(("villkor", key), "") if v is not None else ""
        origin = lit(origin) if origin else "NULL"
        unpaid = None
        if row.verdict is not None:
            assert v is not None   # a verdict row is a villkor's
            unpaid = _fields(i, lit(key), verdict_text(row.verdict), "NULL", "NULL", "NULL",
                             origin, lit(sources_text(v.sources)) if v.sources else "NULL",
                             lit("ingen utbetalning är knuten till villkoret"))
        fields = _either(row.shown, unpaid, _gone(i))
        for k, line, here in reversed(row.lines):
            c = line_cols(k)
            pay = line.payment
            due = f"'{pay.due.isoformat()}'" if pay.due else "NULL"
            paid = _fields(i, lit(key), verdict_text(c.lv), c.belopp, c.exakt, due, origin,
                           lit(sources_text(pay.sources)) if pay.sources else "NULL",
                           line_note(line, c))
            fields = _either(here, paid, fields)
        parts.append(_struct(fields))
    numbers: list[str] = []
    settled = plan.settlements.get(group.name, ())
    if settled:
        numbers += settlement_numbers(plan, group.name)
        for k, sp in enumerate(settled):
            rec = sp.reconciliation
            utfall, belopp, exakt_, note = settlement_row(k, sp)
            parts.append(_row(len(parts), lit(rec.name), utfall, belopp, exakt_, "NULL",
                              lit(version.label),
                              lit(sources_text(rec.sources)) if rec.sources else "NULL", note))
    if rows:
        summa, summed = _summa(plan, group, rows, len(parts))
        numbers += summed
        parts.append(summa)
    source_sql = f"(SELECT *, {', '.join(numbers)} FROM {ident(source)})" if numbers \
        else ident(source)
    where = ""
    if not parts:   # a group nothing applies to has no rows
        parts, where = [_row(0, *["NULL"] * 8)], " WHERE FALSE"
    # one list per recipient, unnested: its rows come out together and in order (no sort)
    return step(names.group("rader", group.name),
                f"SELECT {names.groups[group.name]} AS {own('g')}, {ORD}, "
                f"UNNEST([{', '.join(parts)}]) AS {own('r')} FROM {source_sql} AS t{where}")


@dataclass(frozen=True)
class RowPlan:
    """One of a group's row keys, for a member: the lines it carries and where (an SQL test,
    None: for every member; fixed amounts to different members share a key), and whose
    verdict it shows otherwise (`shown`: a test, None always, "FALSE" never)."""

    key: str
    lines: tuple[tuple[int, PotPlan | AmountPlan, str | None], ...]
    verdict: str | None       # the villkor's verdict code, where it is one of the group's
    shown: str | None

    @property
    def paid(self) -> str | None:
        """Where the row carries a line (SQL; None: everywhere, "FALSE": nowhere)."""
        tests = [here for _, _, here in self.lines]
        if any(t is None for t in tests):
            return None
        return " OR ".join(f"({t})" for t in tests) if tests else NEVER


NEVER = "FALSE"
GONE = MARK + "bort"     # a struct field: the member does not have this row


def group_rows(plan: Plan, group: GroupPlan) -> list[RowPlan]:
    """The group's row keys with where each is a line and where a verdict (the reference's
    `by_key`: a payment's lines for its members; a villkor's row for those it `covers`)."""
    rows = []
    for key in group.rows:
        v = plan.version.villkor.get(key)
        lines = tuple((k, line, paid_here(line)) for k, line in enumerate(group.lines)
                      if row_of(line) == key)
        verdict = shown = None
        if v is not None and v.applies == group.name:
            verdict = verdict_column(key)
            shown = one_of(KOD, v.only) if v.only else None
        else:
            shown = NEVER
        rows.append(RowPlan(key, lines, verdict, shown))
    return rows


def _either(test: str | None, then: dict[str, str] | None, otherwise: dict[str, str]
            ) -> dict[str, str]:
    """`then` where `test` holds (None: always; "FALSE": never), else `otherwise`."""
    if test is None:
        assert then is not None
        return then
    if test == NEVER or then is None:
        return otherwise
    return {f: f"CASE WHEN {test} THEN {then[f]} ELSE {otherwise[f]} END" for f in then}


def _gone(vord: int) -> dict[str, str]:
    """A row the member does not have: left out of the result (`§bort`)."""
    fields = _fields(vord, *["NULL"] * 8)
    fields[GONE] = "TRUE"
    return fields


def _present(row: RowPlan) -> str:
    """Whether the member has the row at all (SQL)."""
    if row.paid is None or row.shown is None:
        return "TRUE"
    tests = [t for t in (row.paid, row.shown) if t != NEVER]
    return "(" + " OR ".join(tests) + ")" if tests else NEVER


SUMMA_EXACT, SUMMA_PAID = own("s_exakt"), own("s_betalt")   # öre·D and öre, per member


def _summa(plan: Plan, group: GroupPlan, rows: list[RowPlan], n: int
           ) -> tuple[str, list[str]]:
    """The summa row (as the reference's `_total`) and the columns it reads: for amounts the
    exact sum in öre·D over their common denominator D and the sum of the rounded amounts in
    öre; a pot's (the group's only line) are its line's. A member with none of the rows has
    no summa either."""
    total = plan.model.total
    label = lit(plan.version.label)

    def when(test: str | None, x: str) -> str:
        return x if test is None else NEVER if test == NEVER else f"({test} AND {x})"

    # (row, its line's columns, the line, where the member has it), a line at a time
    lined = [(r, line_cols(k), line, here) for r in rows for k, line, here in r.lines]
    paid = [when(here, f"{c.lv} = 0") for _, c, _, here in lined]
    known = [when(here, f"{c.lv} IN ({UPPFYLLT}, {EJ})") for _, c, _, here in lined]
    open_ = [when(here, f"{c.lv} IN {PENDING}") for _, c, _, here in lined]
    payable = " OR ".join(when(here, "TRUE") for _, _, _, here in lined) or NEVER
    summed: list[str] = []
    amount_text = exact_text = how = sources = "NULL"
    if group.pots and not needs_sum_step(plan, group):    # one pot: its line's amounts
        c = line_cols(0)
        amount_text, exact_text = c.belopp, c.exakt
        how = "'summan av de avrundade beloppen'"
        sources = "NULL"
    elif lined:
        # the exact sum in öre·den: over L, the lines' common denominator known in the run
        # (pots; 128-bit), or over the amounts' own, known before it
        den: int | str
        if group.pots:
            den = SUMMA_L
            parts = [f"CAST({c.tal} AS HUGEINT) * ({SUMMA_L} // NULLIF({c.namnare}, 0))"
                     for _, c, _, _ in lined]

            def written(x: str) -> str:
                return fraction_text(x, f"(100 * {SUMMA_L})")
        else:
            big_d = total_denominator(group)
            den = big_d
            parts = [f"{c.tal} * {big_d // (line.den if isinstance(line, AmountPlan) else 1)}"
                     for _, c, line, _ in lined]

            def written(x: str) -> str:
                return signed(x, lambda y: decimal(y, 100 * big_d))
        summed = [" + ".join(f"CASE WHEN {p} THEN {part} ELSE 0 END"
                             for p, part in zip(paid, parts)) + f" AS {SUMMA_EXACT}",
                  " + ".join(f"CASE WHEN {p} THEN {c.enheter} * {a.unit_ore} ELSE 0 END"
                             for p, (_, c, a, _) in zip(paid, lined)) + f" AS {SUMMA_PAID}"]
        exact_text = signed(SUMMA_EXACT, lambda x: exact_money(x, den))
        amount, how, sources = SUMMA_PAID, "'summan av de avrundade beloppen'", "NULL"
        if total is not None:
            u = 100 if total.rounding.unit == "krona" else 1
            amount = (f"SIGN({SUMMA_EXACT}) * ((2 * ABS({SUMMA_EXACT}) + {u} * {den}) // "
                      f"(2 * {u} * {den})) * {u}")
            unit = "hela kronor" if u == 100 else "öre"
            how = (f"'exakt summa ' || {written(SUMMA_EXACT)} || "
                   f"{lit(f' kr avrundad en gång till {unit}, halvt uppåt')}")
            sources = lit(sources_text(total.sources)) if total.sources else "NULL"
        amount_text = signed(amount, money)
    any_known = " OR ".join(known) or NEVER
    any_open = " OR ".join(open_) or NEVER
    worst = [f"CASE WHEN {o} THEN {c.lv} END" for o, (_, c, _, _) in zip(open_, lined)]
    # GREATEST skips NULLs; Spark wants two arguments at least
    open_worst = (f"GREATEST({', '.join(worst)})" if len(worst) > 1 else worst[0]) \
        if worst else str(UPPFYLLT)
    verdict = (f"CASE WHEN {any_open} THEN {open_worst} WHEN {' OR '.join(paid) or NEVER} THEN "
               f"{UPPFYLLT} ELSE {EJ} END")
    none_known = f"({any_open}) AND NOT ({any_known})"
    listed = _listing([(o, lit(r.key)) for o, (r, _, _, _) in zip(open_, lined)])
    unmet = _listing([(when(here, f"{c.lv} = {EJ}"), lit(r.key)) for r, c, _, here in lined])
    # rows without a payment for the member, shown with a verdict other than uppfyllt
    unpaid_parts = []
    for r in rows:
        if r.verdict is None or r.shown == NEVER:
            continue
        test = when(r.shown, f"{r.verdict} <> {UPPFYLLT}")
        if r.paid is None:
            continue
        if r.paid != NEVER:
            test = f"NOT ({r.paid}) AND {test}"
        text = f"{lit(f'villkor {r.key} (')} || {verdict_text(r.verdict)} || ')'"
        unpaid_parts.append((test, text))
    unpaid = _listing(unpaid_parts)
    why_met = (f"CASE WHEN {unmet} <> '' THEN '; villkor ' || {unmet} || "
               f"' är inte uppfyllt och ger 0 kr' ELSE '' END || CASE WHEN {unpaid} <> '' "
               f"THEN '; ' || {unpaid} || {lit(UNPAID)} ELSE '' END")
    note = (f"CASE WHEN {none_known} THEN 'inget belopp är känt ännu' ELSE {how} END || "
            f"CASE WHEN {any_open} THEN '; ofullständig: villkor ' || {listed} || "
            f"' saknar belopp och ingår inte' ELSE '' END || "
            f"CASE WHEN ({verdict}) = {UPPFYLLT} THEN {why_met} ELSE '' END") if lined else "NULL"
    fields = _fields(n, "'summa'", verdict_text(f"({verdict})"),
                     f"CASE WHEN {none_known} THEN NULL ELSE {amount_text} END",
                     f"CASE WHEN {none_known} THEN NULL ELSE {exact_text} END", "NULL",
                     label, sources, note) if lined else None
    # nothing payable to the member: the verdicts of the rows it has, 0 kr
    every = v_and([r.verdict if r.shown is None else
                   f"CASE WHEN {r.shown} THEN {r.verdict} ELSE {UPPFYLLT} END"
                   for r in rows if r.verdict is not None and r.shown != NEVER]) \
        if any(r.verdict is not None and r.shown != NEVER for r in rows) else str(UPPFYLLT)
    nothing = _fields(n, "'summa'", verdict_text(every), "'0'", "'0'", "NULL", label, "NULL",
                      lit("inga utbetalningar gäller mottagaren"))
    present = " OR ".join(_present(r) for r in rows)
    fields = _either(payable if payable != "TRUE" else None, fields, nothing) \
        if fields is not None else nothing
    return _struct(_either(present if "TRUE" not in present.split(" OR ") else None,
                           fields, _gone(n))), summed


def _listing(parts: list[tuple[str, str]]) -> str:
    """The texts whose tests hold, joined by `, ` (SQL); '' when none does."""
    live = [(t, x) for t, x in parts if t != NEVER]
    if not live:
        return "''"
    return "CONCAT_WS(', ', " + ", ".join(f"CASE WHEN {t} THEN {x} END" for t, x in live) + ")"


CAP_L = 10 ** 20   # L at most this: 100·L·10^6 and the sums over it stay within 128 bits


def needs_sum_step(plan: Plan, group: GroupPlan) -> bool:
    """A member's exact sum over pots (their key totals known in the run), with another line or
    rounded once (`summa per mottagare`): over the one-row `summa_*` step's L."""
    return bool(group.pots) and (len(group.lines) > 1 or plan.model.total is not None)


def sum_step(group: GroupPlan, names: Names) -> Step:
    """One row: L, the least common multiple of the pots' key totals (those not 0) and the
    amounts' denominators, in öre (−1 where it would pass CAP_L), and whether every decimal
    over 100·L ends within six places (`§sex`: the smooth part of 100·L divides 10^6). L and
    the sums over it are 128-bit (HUGEINT; DECIMAL(38, 0) on Spark): key totals of millions
    make an L of 10^14 and sums of 10^23."""
    const = total_denominator(group)
    source = " CROSS JOIN ".join(f"{ident(names.line('nyckel', group.name, k))} AS n{k}"
                                 for k in range(len(group.pots)))
    totals = "".join(f", CAST(n{k}.{TOTAL} AS BIGINT) AS t{k}" for k in range(len(group.pots)))
    select = f"SELECT CAST({const} AS HUGEINT) AS l0{totals} FROM {source}"
    for k in range(len(group.pots)):
        x, t = f"l{k}", f"t{k}"
        g = f"GCD({x}, {t})"
        nxt = (f"CASE WHEN {x} < 0 OR {t} = 0 THEN {x} WHEN {x} // {g} > CAST({CAP_L} AS "
               f"HUGEINT) // {t} THEN -1 ELSE {x} // {g} * {t} END")
        select = f"SELECT *, {nxt} AS l{k + 1} FROM ({select}) AS s{k}"
    last = f"l{len(group.pots)}"
    return step(names.group("summa", group.name),
                f"SELECT {last} AS {SUMMA_L}, CASE WHEN {last} > 0 THEN 1000000 % "
                f"GCD(100 * {last}, 1000000000000000000) = 0 ELSE FALSE END AS {own('sex')} "
                f"FROM ({select}) AS s")



def _fields(vord: int, villkor: str, utfall: str, belopp: str, exakt: str, due: str,
            version: str, source: str, note: str) -> dict[str, str]:
    """One output row's fields, as SQL expressions (text columns cast to text)."""
    return {MARK + "v": str(vord), "mottagare": KOD, "namn": NAMN, "villkor": villkor,
            "utfall": utfall, "belopp": f"CAST({belopp} AS VARCHAR)",
            "exakt_belopp": f"CAST({exakt} AS VARCHAR)",
            "betalas_senast": f"CAST({due} AS VARCHAR)",
            "version": f"CAST({version} AS VARCHAR)", "källa": f"CAST({source} AS VARCHAR)",
            "anmärkning": f"CAST({note} AS VARCHAR)", GONE: "FALSE"}


def _struct(fields: dict[str, str]) -> str:
    """One output row as a struct; a recipient's rows are one list, unnested in order."""
    return "{" + ", ".join(f"{lit(k)}: {v}" for k, v in fields.items()) + "}"


def _row(vord: int, villkor: str, utfall: str, belopp: str, exakt: str, due: str,
         version: str, source: str, note: str) -> str:
    return _struct(_fields(vord, villkor, utfall, belopp, exakt, due, version, source, note))


OUTPUT = ("mottagare", "namn", "villkor", "utfall", "belopp", "exakt_belopp", "betalas_senast",
          "version", "källa", "anmärkning")


def may_leave_out(plan: Plan, group: GroupPlan) -> bool:
    """Whether some member lacks one of the group's rows (the result then filters `§bort`)."""
    return any(r.paid is not None and r.shown is not None for r in group_rows(plan, group))


def result_query(rows: list[str], filtered: bool = True) -> Step:
    """The output rows in recipient order, from the groups' `rader_*` steps. A runner that knows
    its steps kept that order (one group, rows unnested in order) may leave the ORDER BY out:
    `without_order`."""
    union = " UNION ALL ".join(f"SELECT * FROM {ident(name)}" for name in rows)
    r = f"x.{own('r')}"
    cols = ", ".join(f"{r}.{ident(c)} AS {ident(c)}" for c in OUTPUT)
    where = f"WHERE NOT {r}.{ident(GONE)} " if filtered else ""
    return step("resultat", f"SELECT {cols} FROM ({union}) AS x {where}"
                f"ORDER BY x.{own('g')}, x.{ORD}, {r}.{own('v')}")


def without_order(st: Step) -> Step:
    tree = st.tree.copy()
    tree.set("order", None)
    return Step(st.name, tree)


