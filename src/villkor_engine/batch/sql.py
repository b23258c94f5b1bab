"""Columnar plan → SQL: one sqlglot tree per step, written once, rendered for any dialect.

The steps are plain SELECTs over relations the runner provides (`in_<i>_<table>`: the input
file's declared columns plus `§rad`, its row number) and over earlier steps, so the same plan
runs on DuckDB here and, transpiled, on Spark or another engine when one machine is outgrown.
Verdicts are the codes 0–3 in the order of `och` (VERDICTS), so `och` is GREATEST and `eller`
and `inte` a swap of 0 and 3 around it; money is integer öre in BIGINT with half up done as
⌊(2·P·k + u·T) / (2·u·T)⌋, so no float and no dialect's decimal division is ever on the money
path. The pot's key total T is a one-row step (`nyckel_<j>_<g>`); the runner reads it first and
checks the 64-bit bounds.

The steps by job: sqltext.py (names, codes, steps), intake.py (typed inputs and error rows),
verdicts.py (members, aggregates, villkor, kontroll), lines.py (pots and amounts), rows.py
(output rows), settle.py (invoices and reconciliation). This module puts them in order.

Names the user cannot reach. Every column the engine adds (`§rad`, `§kod`, `<col>§fel`, …)
holds `§`, which no declared column can (the grammar's COLUMN is `\\w+(\\.\\w+)*`), so a
file's or an agreement's column never shadows one, in any letter case. Every generated view
carries the index of its table (`typ_<i>_<table>`) or group (`mot_<j>_<g>`,
`agg_<j>_<i>_<g>_<table>`) in the plan: injective, and case-proof where the engine compares
names case-insensitively (DuckDB); the name after the index is only for the reader.
"""


from __future__ import annotations

from collections.abc import Callable
from functools import partial

from .intake import (
    beyond_step,
    errors_step,
    good_step,
    named_step,
    ok_sql,
    typed_step,
    wrong_rows_step,
)
from .lines import counts_step, key_total_step, share_step
from .plan import GroupPlan, Plan
from .rows import may_leave_out, needs_sum_step, result_query, rows_step, sum_step
from .settle import invoice_limits_step, invoice_step, member_columns
from .sqltext import (
    READ,
    Names,
    Step,
)
from .verdicts import Compiler, checks_step, fused_step, group_verdicts, wrong_records


def all_steps(plan: Plan, kinds: dict[str, dict[str, str]], files: dict[str, str]
              ) -> list[Step]:
    """The whole plan, in order: what the DuckDB runner executes and `villkor sql` prints.
    The runner provides `in_<i>_<table>` (Names.of(plan).table("in", …)) for each input."""
    names = Names.of(plan)
    steps = []
    steps += [typed_step(spec, kinds[spec.name], names) for spec in plan.inputs]
    # the records each group counts: every group's counts of one table in one scan of it,
    # which also says how many of its rows are wrong (their own scan is then needed only
    # where there are some)
    verdicts = {group.name: group_verdicts(plan, group, names, kinds, _more(plan, group))
                for group in plan.groups}
    counted = [c for group in plan.groups for c in verdicts[group.name][0]]
    scanned = {c.table for c in counted}
    steps += [fused_step(names, spec.name, ok_sql(spec),
                         [c for c in counted if c.table == spec.name])
              for spec in plan.inputs if spec.name in scanned]
    steps += [wrong_rows_step(spec, names, wrong_records(names, spec.name)
                              if spec.name in scanned else None) for spec in plan.inputs]
    # a table with a row per member is checked against the members: its good rows come last
    sides = {t for g in plan.groups for t in g.sides}
    absent = frozenset(t for t, k in kinds.items() if not k)   # `valfri` files not there
    steps += [good_step(spec, names, plan, absent) for spec in plan.inputs
              if spec.name not in sides]
    steps += [good_step(spec, names, plan, absent) for spec in plan.inputs if spec.name in sides]
    steps.append(errors_step(plan, files, names, absent))
    limits = beyond_step(plan, kinds, names)
    if limits is not None:
        steps.append(limits)
    named = named_step(plan, names)
    if named is not None:
        steps.append(named)
    checks = checks_step(plan, names, absent)
    if checks is not None:
        steps.append(checks)
    for group in plan.groups:
        aggregates, members = verdicts[group.name]
        steps += [c.view() for c in aggregates]
        steps.append(members)
        steps += [key_total_step(group, names, k) for k in range(len(group.pots))]
        with_sum = needs_sum_step(plan, group)
        if with_sum:
            steps.append(sum_step(group, names))
        for k in range(len(group.lines)):
            steps += [share_step(group, names, k, with_sum), counts_step(group, names, k)]
        steps.append(rows_step(plan, group, names))
    if plan.invoices:
        limits_step = invoice_limits_step(plan, names)
        steps += ([limits_step] if limits_step else []) + [invoice_step(plan, files, names)]
    steps.append(result_query([names.group("rader", g.name) for g in plan.groups],
                              any(may_leave_out(plan, g) for g in plan.groups)))
    return steps


def _more(plan: Plan, group: GroupPlan) -> Callable[[Compiler], list[str]] | None:
    """What the group's invoices and reconciliations read of each member (settle.py)."""
    settles = bool(plan.settlements.get(group.name)) or any(
        ip.group == group.name and ip.caps for ip in plan.invoices)
    return partial(member_columns, group_name=group.name, plan=plan) if settles else None


def script(steps: list[Step], dialect: str = READ) -> str:
    """The plan as one SQL script: each step a temporary view, the result a final SELECT."""
    parts = [f"-- {st.name}\n{st.view(dialect)};" for st in steps[:-1]]
    parts.append(f"-- {steps[-1].name}\n{steps[-1].sql(dialect)};")
    return "\n\n".join(parts) + "\n"

