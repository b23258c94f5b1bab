"""Payment lines in SQL: a pot's key total (`nyckel_*`), each line's verdict and exact amount
in integer öre with half up done as ⌊(2·P·k + u·T) / (2·u·T)⌋ (`andel_*`), so no float and
no dialect's decimal division is ever on the money path, and each line's counts for the
pots file (`räkna_*`)."""

from __future__ import annotations

from fractions import Fraction

from ..eval.engine import PRELIMINARY
from ..eval.shares import ZERO_KEY
from ..eval.values import swedish_money as swedish_money_value
from .moneytext import exact, fraction_text, money
from .plan import (
    AmountPlan,
    GroupPlan,
    PotPlan,
)
from .sqltext import (
    BEDOMNING,
    EJ,
    KOD,
    ORD,
    PENDING,
    SAKNAS,
    SUMMA_L,
    TOTAL,
    UPPFYLLT,
    VANTAR,
    LineCols,
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


def gate(line: PotPlan | AmountPlan) -> str | None:
    """The verdict code of the villkor that gates the line for this member, or None: no
    villkor, or one of another group (the reference's `covers`); with `endast`, the members
    it does not name are not gated (uppfyllt)."""
    if line.villkor is None or (isinstance(line, AmountPlan) and not line.gated):
        return None
    code = verdict_column(line.villkor)
    if line.only:
        return f"CASE WHEN {one_of(KOD, line.only)} THEN {code} ELSE {UPPFYLLT} END"
    return code


def key_total_step(group: GroupPlan, names: Names, k: int = 0) -> Step:
    """One row for pot k: the key total T (`§total`), how many share (`§antal`), the largest
    key, and how many lines wait for data or a decision (`§väntar`: a pending verdict, a
    negative key, or every fulfilling key 0) — counted here once, not by a window over every
    line."""
    pot = group.pots[k]
    key = line_cols(k).nyckel
    v = f"({gate(pot)})"
    shares = f"{v} = 0 AND {key} >= 0"
    return step(names.line("nyckel", group.name, k),
                f"SELECT COALESCE(SUM({key}) FILTER (WHERE {shares}), 0) "
                f"AS {TOTAL}, COUNT(*) FILTER (WHERE {shares}) AS "
                f"{own('antal')}, COALESCE(MAX(ABS({key})), 0) AS {own('störst')}, "
                f"COUNT(*) FILTER (WHERE {v} IN {PENDING} OR ({v} = 0 AND {key} < 0)) + "
                f"CASE WHEN COALESCE(SUM({key}) FILTER (WHERE {shares}), 0) = 0 THEN "
                f"COUNT(*) FILTER (WHERE {shares}) ELSE 0 END AS {VANTAR} "
                f"FROM {ident(names.group('mot', group.name))}")


def share_step(group: GroupPlan, names: Names, k: int = 0, with_sum: bool = False) -> Step:
    """`andel_<j>_<g>` (`…_<k>` for a group's further payments, each built on the one before):
    line k's verdict (`§lv`) and amount. A pot's share is P·k/T öre (T from the one-row
    `nyckel_<j>_<g>`; a zero T shares nothing); a per-member amount is num·X/den öre. Either
    way the exact amount is ±tal/nämnare öre, rounded half up (away from zero) to units of u
    öre, and both amounts are made text once, for the villkor row and the summa row. With
    `with_sum` the first line also takes the members' common denominator L (`summa_*`)."""
    line = group.lines[k]
    c = line_cols(k)
    source = names.group("mot", group.name) if k == 0 else names.line("andel", group.name, k - 1)
    if isinstance(line, PotPlan):
        v = f"({gate(line)})"
        # 64-bit from here on: the runner checked the bounds on `nyckel_*` before this step,
        # and DuckDB's SUM is 128-bit, whose arithmetic is several times slower
        t = f"CAST(n.{TOTAL} AS BIGINT)"
        key = c.nyckel
        # a negative key, or every fulfilling key 0 (a share would divide by zero): bedömning
        lv = f"CASE WHEN {v} = 0 AND ({key} < 0 OR {t} = 0) THEN {BEDOMNING} ELSE {v} END"
        common = f", l.{SUMMA_L} AS {SUMMA_L}" if with_sum and k == 0 else ""
        inner = (f"SELECT m.*, {t} AS {c.total}, {lv} AS {c.lv}, {line.pot_ore} * {key} AS "
                 f"{c.tal}, {t} AS {c.namnare}, n.{VANTAR} AS {c.vantar}{common} "
                 f"FROM {ident(source)} AS m "
                 f"CROSS JOIN {ident(names.line('nyckel', group.name, k))} AS n")
        if common:
            inner += f" CROSS JOIN {ident(names.group('summa', group.name))} AS l"
    else:
        gated = gate(line)
        gates = [gated] if gated is not None else []
        if line.payment.requirement is not None:
            gates.append(c.krav)
        eligible = v_and(gates) if gates else str(UPPFYLLT)
        # eligible, but the amount itself is missing: its verdict is the Missing's (saknas)
        lv = f"CASE WHEN ({eligible}) = 0 AND {c.mangel} IS NOT NULL THEN {SAKNAS} ELSE " \
             f"{eligible} END"
        tal = f"CAST({line.num} AS BIGINT) * {c.matt}"
        capped = ""
        if line.cap_each is not None:   # exact above the cap (tal/den öre > cap): the cap
            limit = line.cap_each * line.den
            capped = f", {tal} AS {c.ratal}"
            tal = f"CASE WHEN {tal} > {limit} THEN {limit} ELSE {tal} END"
        # with a total cap, a known amount is preliminary while others wait (as a pot's share)
        waiting = "" if line.cap_total is not None else f", 0 AS {c.vantar}"
        inner = (f"SELECT m.*, {line.den} AS {c.total}, {lv} AS {c.lv}, {eligible} AS "
                 f"{c.behorig}, {tal} AS {c.tal}, {line.den} AS {c.namnare}{waiting}{capped} "
                 f"FROM {ident(source)} AS m")
        if line.cap_total is not None:
            inner = (f"SELECT *, COUNT(*) FILTER (WHERE {c.lv} IN {PENDING}) OVER () AS "
                     f"{c.vantar} FROM ({inner}) AS w")
    u = line.unit_ore
    a, d = f"ABS({c.tal})", c.namnare
    units = f"CASE WHEN {d} = 0 THEN 0 ELSE SIGN({c.tal}) * ((2 * {a} + {u} * {d}) // " \
            f"(2 * {u} * {d})) END"
    cap = line.cap_each if isinstance(line, AmountPlan) else None
    if cap is not None and cap % u:   # rounding may lift a capped amount over it: down then
        units = f"CASE WHEN ({units}) * {u} > {cap} THEN {cap // u} ELSE {units} END"
    q = f"CASE WHEN {d} = 0 THEN 0 ELSE {a} // {d} END"
    r = f"CASE WHEN {d} = 0 THEN 0 ELSE {a} % {d} END"
    sign = f"CASE WHEN {c.tal} < 0 THEN '-' ELSE '' END"
    known = (f"SELECT *, CASE WHEN {c.lv} = 0 THEN {units} END AS {c.enheter}, CASE WHEN "
             f"{c.lv} = 0 THEN {q} END AS {c.q}, CASE WHEN {c.lv} = 0 THEN {r} END AS {c.r}, "
             f"CASE WHEN {c.lv} = 0 THEN {sign} END AS {c.tecken} FROM ({inner}) AS s0")
    # the exact amount to 6 decimals (half up) in millionths of a krona, computed once
    micro = (f"SELECT *, CASE WHEN {c.r} <> 0 THEN {c.q} * 10000 + (2 * {c.r} * 10000 + "
             f"{c.total}) // (2 * {c.total}) END AS {c.mikro} FROM ({known}) AS s")
    paid = f"CASE WHEN {c.enheter} < 0 THEN '-' ELSE '' END || " \
           f"{money(f'ABS({c.enheter}) * {u}')}"
    return step(names.line("andel", group.name, k),
                f"SELECT *, CASE {c.lv} WHEN 0 THEN {paid} WHEN {EJ} THEN '0' END AS "
                f"{c.belopp}, CASE {c.lv} WHEN 0 THEN {c.tecken} || {exact(c.q, c.r, c.mikro)} "
                f"WHEN {EJ} THEN '0' END AS {c.exakt} FROM ({micro}) AS s2 ORDER BY {ORD}")


def paid_here(line: PotPlan | AmountPlan) -> str | None:
    """Whether the member has the line: a fixed amount is one member's (None: everyone's)."""
    if isinstance(line, AmountPlan) and line.recipient is not None:
        return f"{KOD} = {lit(line.recipient)}"
    return None


def row_of(line: PotPlan | AmountPlan) -> str:
    return line.villkor if isinstance(line, PotPlan) else line.row


def line_note(line: PotPlan | AmountPlan, c: LineCols) -> str:
    """The line's `anmärkning`: why no amount (the reference's notes, sorted), or for a known
    share of a pot that others wait for, that it is preliminary."""
    pending = f"{verdict_text(c.lv)} || ': beloppet kan inte bestämmas'"
    before, after = PRELIMINARY.split("{}")
    if isinstance(line, AmountPlan):
        # the amount's own reason comes with `underlag saknas: …`, the two in sorted order;
        # a known amount tells its cap, and that it is preliminary under a total cap
        remarks = []
        if line.cap_each is not None:
            cap = swedish_money_value(Fraction(line.cap_each, 100))
            remarks.append(f"CASE WHEN {c.ratal} > {line.cap_each * line.den} THEN "
                           f"{lit(f'sänkt till taket per mottagare {cap} (utan tak ')} || "
                           f"{fraction_text(c.ratal, str(100 * line.den))} || ' kr)' END")
        if line.cap_total is not None:
            remarks.append(f"CASE WHEN {c.vantar} > 0 THEN {lit(before)} || "
                           f"CAST({c.vantar} AS VARCHAR) || {lit(after)} END")
        known = f" WHEN {c.lv} = 0 THEN NULLIF(CONCAT_WS('; ', {', '.join(remarks)}), '')" \
            if remarks else ""
        return (f"CASE WHEN {c.behorig} = 0 AND {c.mangel} IS NOT NULL "
                f"THEN LEAST({pending}, {c.mangel}) || '; ' || GREATEST({pending}, {c.mangel}) "
                f"WHEN {c.lv} IN {PENDING} THEN {pending}{known} END")
    code = f"({gate(line)})"
    return (f"CASE WHEN {c.lv} IN {PENDING} THEN {pending} || CASE WHEN {code} = 0 AND "
            f"{c.nyckel} < 0 THEN '; negativ fördelningsnyckel ' || CAST({c.nyckel} AS VARCHAR) "
            f"WHEN {code} = 0 AND {c.total} = 0 THEN {lit('; ' + ZERO_KEY)} ELSE '' END "
            f"WHEN {c.lv} = 0 AND {c.vantar} > 0 THEN {lit(before)} || "
            f"CAST({c.vantar} AS VARCHAR) || {lit(after)} END")


def counts_step(group: GroupPlan, names: Names, k: int = 0) -> Step:
    """One row for line k: how many lines have each verdict code (`§c0`…`§c3`), the öre paid,
    and the exact total's numerator over the line's constant denominator (per-member
    amounts); a fixed amount counts its one member."""
    line = group.lines[k]
    c = line_cols(k)
    u = line.unit_ore
    counts = ", ".join(f"COUNT(*) FILTER (WHERE {c.lv} = {i}) AS {own(f'c{i}')}"
                       for i in range(4))
    # a pot's exact total is the pot itself (or 0): its products P·k are not summed
    exact_sum = "0" if isinstance(line, PotPlan) else \
        f"COALESCE(SUM({c.tal}) FILTER (WHERE {c.lv} = 0), 0)"
    mine = paid_here(line)
    where = f" WHERE {mine}" if mine else ""
    return step(names.line("räkna", group.name, k),
                f"SELECT {counts}, COALESCE(SUM({c.enheter} * {u}) FILTER (WHERE {c.lv} = 0), "
                f"0) AS {own('utbetalt')}, {exact_sum} AS {own('exakt')}, "
                f"COALESCE(MAX(ABS({c.tal})) FILTER (WHERE {c.lv} = 0), 0) AS {own('störst')} "
                f"FROM {ident(names.line('andel', group.name, k))}{where}")


