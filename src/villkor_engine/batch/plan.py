"""Checked model → columnar plan, or the reason it cannot be one.

The plan is built from the checked model, never from the text. It covers a declared subset:
recipients from keyed tables, listed in the agreement, or as the distinct values of a record
table's column (`via`), with their codes and names as text; tables with one row per member,
joined to the members; report deadlines (`redovisas senast … enligt …`, `vid försening`);
villkor over the recipient's own columns (`är ja/nej/angiven`, comparisons with constants,
och/eller/inte, `villkor N`, verdict literals) and over its records (`antal`/`andel`/`summa …
där … bland …`, with `mellan` on dates); heltal, belopp (in öre), text, kod, ja/nej and datum
columns; payments: a pot shared by a key column (the group's only payment), or amounts per
member (a known factor × a column, `antal(…)` or `summa(…)`, `utan villkor` or gated by a
villkor and its own krav) and fixed amounts to a listed member, several per group, each rounded
half up; `summa per mottagare` with its own rounding over such amounts; `kontroll` over
constants and over all records' aggregates; invoices and their reconciliation.
Anything else is reported as unsupported with its span (sqlglot's "unsupported" channel), and
`run` uses the reference evaluator instead — a construct is never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import PurePath

from ..datafiles import FORMATS
from ..diagnostics import Span
from ..eval.engine import vid_key
from ..eval.interpreter import Env, evaluate
from ..eval.values import Missing
from ..io.data import Dataset
from ..model import types as T
from ..model.model import ColumnSpec, Model, RecordSpec, TableSpec, Version
from ..syntax import ast
from .linear import PER_UNIT, constant_value, measures, missing_constant, scale

COLUMN_TYPES = (T.JANEJ, T.HELTAL, T.TEXT, T.KOD, T.DATUM, T.BELOPP, T.DECIMALTAL, T.ANDEL)
CODE_TYPES = (T.TEXT, T.KOD)
# a name column may also hold what SQL's text of it writes as the reference's `str()` does
NAME_TYPES = (*CODE_TYPES, T.DATUM, T.HELTAL)


@dataclass(frozen=True)
class Unsupported:
    reason: str
    span: Span | None


@dataclass(frozen=True)
class PotPlan:
    payment: ast.Payment
    pot_ore: int            # the pot in öre (exact)
    key_column: str
    unit_ore: int           # 100: whole kronor, 1: öre
    villkor: str            # the payment's villkor (a pot without one is not planned)
    only: tuple[str, ...] = ()   # `endast`: the members the villkor gates (empty: all)


@dataclass(frozen=True)
class AmountPlan:
    """`belopp X till varje mottagare i G`: each eligible member gets factor × measure, where
    the factor is known before the run and the measure is a whole number in SQL (a heltal or
    belopp column of the member's row, or `summa(…)` of its records; None: the factor alone).
    In öre the exact amount is num·X/den, so rounding is integer arithmetic as for a pot."""

    payment: ast.Payment
    villkor: str | None       # the villkor that gates it; None: `utan villkor`
    num: int                  # öre per measure unit = num / den
    den: int
    measure: ast.Expr | None  # ColumnRef / TotalOf over heltal or belopp, Count, or None
    unit_ore: int             # rounding: 100 whole kronor, 1 öre (also the language's rule)
    recipient: str | None = None   # `belopp X till <kod>`: the one member the line is for
    # whether the villkor gates the line (False: it applies to another group, and the reference
    # pays without it), and `endast`: the members it gates (empty: all)
    gated: bool = True
    only: tuple[str, ...] = ()
    reasons: tuple[str | None, ...] = ()   # `Mono.reasons`: what may make the amount missing
    cap_each: int | None = None            # `tak per mottagare`, öre
    cap_total: int | None = None           # `tak totalt`, öre (the run checks it holds)

    @property
    def row(self) -> str:
        """The output row the payment's line is on: its villkor's, else its own name."""
        return self.villkor or self.payment.name


@dataclass(frozen=True)
class GroupPlan:
    """Where a group's recipients come from: a keyed table's rows, or a record column's values."""

    name: str
    table: str              # the keyed table, or the record table for `via`
    key: str                # the key column, or the `via` column
    name_column: str | None
    keyed: bool
    villkor: tuple[str, ...]      # top-level villkor applying to the group, in output order
    pots: tuple[PotPlan, ...]
    amounts: tuple[AmountPlan, ...] = ()   # the group's other payments
    members: tuple[tuple[str, str], ...] = ()   # a listed group: (code, name) in order
    sides: tuple[str, ...] = ()      # tables with one row per member, joined by its code

    order: tuple[str, ...] = ()      # every villkor of the version, by id (the rows' order)

    @property
    def rows(self) -> tuple[str, ...]:
        """The group's output rows before `summa`, in the reference's order: villkor by id
        (its own, and those a fixed amount to one of its members is paid under), then payments
        without villkor under their own names, by name."""
        keys = set(self.villkor) | {a.row for a in self.amounts}
        rank = {vid: i for i, vid in enumerate(self.order)}
        return tuple(sorted(keys, key=lambda k: (rank.get(k, len(rank)), k)))

    @property
    def lines(self) -> tuple[PotPlan | AmountPlan, ...]:
        """The group's payments, pots first: each a line (`andel_*`) of its own."""
        return (*self.pots, *self.amounts)

    @property
    def common_denominator(self) -> bool:
        """Whether the exact sum of a member's lines is over a denominator known before the
        run (amounts only), or over the pots' key totals, known in the run (`summa_*`)."""
        return not self.pots


@dataclass(frozen=True)
class InvoicePlan:
    """`fakturering`: every good row of its record table checked against the agreement's rules
    (eval/invoices.py). Prices are known before the run, in whole öre; a product's cap (`högst`)
    is each member's own amount (batch/money.py), on its `mot_*` row."""

    invoicing: ast.Invoicing
    group: str | None        # the group the invoice table links to, and the linking column
    link: str | None
    prices: dict[str, int]   # product code → öre per piece (products with a price)
    columns: frozenset[str]  # which of produktkod, månad, antal, belopp the table declares
    caps: dict[str, tuple[int, ast.Expr]] = field(default_factory=dict)   # code → (den, cap)


@dataclass(frozen=True)
class SettlementPlan:
    """`avstämning`: per member, what was invoiced against what was earned, each linear in its
    measures (batch/money.py) over a denominator known before the run; no `beviljat`."""

    reconciliation: ast.Reconciliation
    invoiced: tuple[int, ast.Expr]    # (den, the expression): its öre are num/den
    earned: tuple[int, ast.Expr]
    unit_ore: int | None                     # the declared rounding of intjänat, or None


@dataclass(frozen=True)
class Plan:
    model: Model
    version: Version
    groups: tuple[GroupPlan, ...]            # in the reference evaluator's output order
    inputs: tuple[TableSpec | RecordSpec, ...]
    villkor: dict[str, ast.Expr]             # villkor id → requirement (subs folded into och)
    # the aggregates over all records that the kontroll read (decided in Python on their values)
    checked: tuple[ast.Count | ast.ShareOf | ast.TotalOf, ...] = ()
    invoices: tuple[InvoicePlan, ...] = ()
    settlements: dict[str, tuple[SettlementPlan, ...]] = field(default_factory=dict)  # by group

    @property
    def named(self) -> tuple[str, ...]:
        """The members of listed groups a fixed amount names: the run checks that no group
        from a table (read before them, as the reference reads recipients) has one."""
        return tuple(sorted({a.recipient for g in self.groups for a in g.amounts
                             if a.recipient is not None}))


SIMPLE = (ast.Is, ast.Logic, ast.Not, ast.VerdictLit, ast.VillkorRef, ast.Compare, ast.Name,
          ast.Num, ast.Str, ast.Bool, ast.DateLit, ast.ColumnRef, ast.Count, ast.ShareOf,
          ast.Between, ast.TotalOf, ast.Conditional)


def compile_plan(model: Model, version: Version) -> Plan | Unsupported:
    inputs: list[TableSpec | RecordSpec] = []
    specs: list[TableSpec | RecordSpec] = [*model.tables.values(), *model.records.values()]
    for spec in specs:
        bad = next((c for c in spec.columns.values() if c.type not in COLUMN_TYPES), None)
        if bad is not None:
            return Unsupported(f"kolumnen {spec.name}.{bad.name}: typen {bad.type} stöds inte",
                               bad.span)
        twin = _case_twin(spec.columns)
        if twin is not None:
            # SQL engines (DuckDB, Spark) compare column names without regard to letter case
            return Unsupported(f"tabellen {spec.name}: kolumnerna {twin[0]} och {twin[1]} "
                               "skiljer sig bara i stora och små bokstäver", spec.span)
        if isinstance(spec, TableSpec) and len(spec.keys) != (2 if spec.per_villkor else 1):
            return Unsupported(f"tabellen {spec.name}: bara en rad per mottagare (och villkor) "
                               "stöds", spec.span)
        if isinstance(spec, TableSpec) and spec.per_villkor and \
                spec.columns[spec.keys[1]].type not in CODE_TYPES:
            return Unsupported(f"tabellen {spec.name}: villkorskolumnen ska vara text eller kod",
                               spec.span)
        if spec.decimal is not None and FORMATS.get(PurePath(spec.file).suffix.lower()) != \
                "csv" and any(c.type in (T.BELOPP, T.DECIMALTAL, T.ANDEL)
                              for c in spec.columns.values()):
            # the mark binds numbers typed as text, not a typed number (an Excel or Parquet
            # number, which the reference reads as it is): the SQL does not tell them apart
            return Unsupported(f"tabellen {spec.name}: `decimaltecken` stöds bara för CSV-filer",
                               spec.span)
        inputs.append(spec)
    villkor: dict[str, ast.Expr] = {}
    for v in version.villkor.values():
        if v.review and not _review_table(model, v):
            return Unsupported(f"villkor {v.vid}: beslutstabellen ska ha en rad per mottagare "
                               "och villkor i villkorets grupp", v.span)
        if v.report_due and model.tables.get(v.report_due.table, None) is None:
            return Unsupported(f"villkor {v.vid}: fristens datum ska stå i en tabell per "
                               "mottagare", v.span)
        expr = v.requirement
        if expr is None:
            parts = [s.requirement for s in v.subs]
            known = [p for p in parts if p is not None]
            if not parts or len(known) != len(parts):
                return Unsupported(f"villkor {v.vid}: krav saknas (bedömning krävs)", v.span)
            expr = known[0]
            for part in known[1:]:
                expr = ast.Logic("och", expr, part, v.span)
        villkor[v.vid] = expr
        for s in v.subs:
            if s.requirement is None:   # was: "uttrycket `NoneType` stöds inte" further down
                return Unsupported(f"delvillkor {s.vid}: krav saknas (bedömning krävs)", s.span)
            villkor[s.vid] = s.requirement
    for name, g in model.groups.items():
        problem = _codes_are_text(model, name, g)
        if problem:
            return problem
    groups: list[GroupPlan] = []
    for name, g in model.groups.items():
        group = _group(model, version, name, g)
        if isinstance(group, Unsupported):
            return group
        groups.append(group)
    # the reference's order (Dataset.recipients): groups from keyed tables in the tables'
    # order, then listed groups, then `via` groups in the record tables' order
    tables, records = list(model.tables), list(model.records)
    groups.sort(key=lambda g: (0, tables.index(g.table)) if g.keyed and not g.members else
                (1, 0) if g.keyed else (2, records.index(g.table)))
    covered = {line.payment.name for g in groups for line in g.lines}
    for p in version.payments.values():
        if p.rule is not None and p.name not in covered:
            return Unsupported(f"utbetalningen {p.name} stöds inte i kolumnmotorn", p.span)
    by_name = {g.name: g for g in groups}
    for vid, expr in villkor.items():
        applies = applies_to(version, vid)
        group_plan = by_name.get(applies) if applies is not None else None
        problem = _expr_supported(expr, version, model, group_plan, record=None)
        if problem:
            return problem
    for v in version.villkor.values():
        due = v.report_due
        group_plan = by_name.get(v.applies or "")
        if due is not None and (group_plan is None or (
                due.table not in group_plan.sides and due.table != group_plan.table)):
            return Unsupported(f"villkor {v.vid}: fristens tabell {due.table} ska ha en rad per "
                               "mottagare i gruppen", v.span)
    for gp in groups:
        for amount in gp.amounts:
            problem = _amount_supported(amount, gp, model, version)
            if problem:
                return problem
        if model.total is not None and gp.lines:
            problem = _total_supported(model, gp)
            if problem:
                return problem
    checked: list[ast.Count | ast.ShareOf | ast.TotalOf] = []
    for c in version.checks:
        found = _check_reads(c, model, version)
        if isinstance(found, Unsupported):
            return found
        checked += [x for x in found if x not in checked]
    invoices: list[InvoicePlan] = []
    for inv in model.invoicing:
        planned_inv = _invoicing(inv, model, version, by_name)
        if isinstance(planned_inv, Unsupported):
            return planned_inv
        invoices.append(planned_inv)
    settlements: dict[str, list[SettlementPlan]] = {}
    for rec in model.reconciliations:
        planned_rec = _settlement(rec, model, version, by_name.get(rec.group))
        if isinstance(planned_rec, Unsupported):
            return planned_rec
        settlements.setdefault(rec.group, []).append(planned_rec)
    return Plan(model, version, tuple(groups), tuple(inputs), villkor, tuple(checked),
                tuple(invoices), {g: tuple(s) for g, s in settlements.items()})


def _amount_supported(amount: AmountPlan, gp: GroupPlan, model: Model, version: Version
                      ) -> Unsupported | None:
    """The payment's own krav and its measure, read as the SQL compiler can."""
    requirement = amount.payment.requirement
    if requirement is not None:
        problem = _expr_supported(requirement, version, model, gp, record=None)
        if problem:
            return problem
        if amount.payment.villkor is None:
            problem = per_villkor_read(requirement, model, "en utbetalning utan villkor")
            if problem:
                return problem
    measure = amount.measure
    if measure is not None:
        problem = per_villkor_read(measure, model, "ett belopp")
        if problem:
            return problem
    if isinstance(measure, (ast.Count, ast.TotalOf)):
        return _expr_supported(measure, version, model, gp, record=None)
    if isinstance(measure, ast.ColumnRef) and measure.table not in gp.sides and \
            (not gp.keyed or measure.table != gp.table):
        return Unsupported(f"kolumnen {measure.table}.{measure.column}: bara mottagarens "
                           "egen tabell", measure.span)
    return None


def per_villkor_read(e: ast.Expr, model: Model, where: str) -> Unsupported | None:
    """A column of a table per member and villkor is read where a villkor is in question (its
    krav, its deadline, a payment's krav under it); elsewhere the plan does not read one."""
    for x in ast.walk(e):
        if isinstance(x, ast.ColumnRef) and x.table in model.tables and \
                model.tables[x.table].per_villkor:
            return Unsupported(f"kolumnen {x.table}.{x.column} (en rad per villkor) läses i "
                               f"{where}", x.span)
    return None


def _review_table(model: Model, v: ast.Villkor) -> bool:
    """The review's decisions: a table per member and villkor of the villkor's group (as the
    checker asks, V107)."""
    assert v.review is not None
    t = model.tables.get(v.review.table)
    return t is not None and t.per_villkor and t.group == v.applies and "beslut" in t.columns


def total_denominator(group: GroupPlan) -> int:
    """One denominator for the exact öre of all the group's amounts (each num/den öre)."""
    from math import lcm

    return lcm(*(a.den for a in group.amounts)) if group.amounts else 1


def _total_supported(model: Model, group: GroupPlan) -> Unsupported | None:
    """`summa per mottagare … avrundning`: the exact sum is written in its note (eval/values.py
    `exact_text`); over amounts alone the plan writes it where their common denominator has no
    prime factor but 2 and 5 (a decimal); with pots the run reduces the fraction
    (rows.py)."""
    total = model.total
    assert total is not None
    if group.pots:
        return None
    den = total_denominator(group)
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return Unsupported("`summa per mottagare`: den exakta summan är ingen ändlig decimal",
                           total.span)
    return None


# the columns eval/invoices.py reads of an invoice row, and the types the plan holds them in
INVOICE_COLUMNS = {"produktkod": CODE_TYPES, "månad": CODE_TYPES, "antal": (T.HELTAL,),
                   "belopp": (T.BELOPP,)}


def _invoicing(inv: ast.Invoicing, model: Model, version: Version,
               groups: dict[str, GroupPlan]) -> InvoicePlan | Unsupported:
    spec = model.records[inv.table]
    link = next(iter(spec.links.items()), None)
    group = groups.get(link[0]) if link else None
    caps: dict[str, tuple[int, ast.Expr]] = {}
    for product in inv.products:
        if product.cap is None or link is None:   # no recipient, no grant: no cap is tested
            continue
        if group is None:
            return Unsupported(f"faktureringen {inv.name}: gruppen {link[0]} planeras inte",
                               inv.span)
        found = _linear(product.cap, model, version, group,
                        f"faktureringen {inv.name}: taket för {product.code}")
        if isinstance(found, Unsupported):
            return found
        caps[product.code] = found
    prices: dict[str, int] = {}
    for product in inv.products:
        if product.price is None:
            continue
        price = constant_value(product.price, model, version)
        if not isinstance(price, Fraction) or (price * 100).denominator != 1:
            return Unsupported(f"faktureringen {inv.name}: priset för {product.code} ska vara "
                               "känt före körningen, i hela ören", product.span)
        prices[product.code] = int(price * 100)
    for column, types in INVOICE_COLUMNS.items():
        c = spec.columns.get(column)
        if c is not None and c.type not in types:
            return Unsupported(f"faktureringen {inv.name}: kolumnen {inv.table}.{column} är "
                               f"{c.type}", c.span)
    for column, _ in inv.requires:
        c = spec.columns.get(column)
        if c is None or c.type not in CODE_TYPES:
            return Unsupported(f"faktureringen {inv.name}: `kräver {column}` stöds bara på en "
                               "kolumn med text eller kod", inv.span)
    return InvoicePlan(inv, link[0] if link else None, link[1] if link else None, prices,
                       frozenset(c for c in INVOICE_COLUMNS if c in spec.columns), caps)


def _linear(expr: ast.Expr, model: Model, version: Version, group: GroupPlan, what: str
            ) -> tuple[int, ast.Expr] | Unsupported:
    """(den, expr) for an amount per member that batch/money.py can write, or why not."""
    problem = per_villkor_read(expr, model, f"{what}")
    if problem:
        return problem
    den = scale(expr, model, version)
    if den is None:
        return Unsupported(f"{what} ska vara kända tal gånger kolumner, antal(…) och summa(…), "
                           "med + − och om … då … annars", getattr(expr, "span", None))
    for part in measures(expr):
        if isinstance(part, ast.ColumnRef):
            if part.table not in group.sides and (not group.keyed or part.table != group.table):
                return Unsupported(f"kolumnen {part.table}.{part.column}: bara mottagarens "
                                   "egen tabell", part.span)
            continue
        if isinstance(part, ast.TotalOf) and (part.table not in model.records or
                                              group.name not in model.records[part.table].links):
            return Unsupported(f"{what}: summa(…) av en tabell som inte är kopplad till "
                               f"{group.name}", part.span)
        problem = _expr_supported(part, version, model, group, record=None)
        if problem:
            return problem
    return den, expr


def _settlement(rec: ast.Reconciliation, model: Model, version: Version,
                group: GroupPlan | None) -> SettlementPlan | Unsupported:
    if group is None:
        return Unsupported(f"avstämningen {rec.name}: gruppen {rec.group} planeras inte",
                           rec.span)
    if rec.granted is not None:
        return Unsupported(f"avstämningen {rec.name}: `beviljat` stöds inte", rec.span)
    if rec.rounding is not None and rec.rounding.mode != "halvt uppåt":
        return Unsupported(f"avstämningen {rec.name}: bara avrundning halvt uppåt", rec.span)
    parts: list[tuple[int, ast.Expr]] = []
    for expr in (rec.invoiced, rec.earned):
        assert expr is not None    # the checker refuses an avstämning without both (V170)
        found = _linear(expr, model, version, group, f"avstämningen {rec.name}: fakturerat och "
                        "intjänat")
        if isinstance(found, Unsupported):
            return found
        parts.append(found)
    unit = None if rec.rounding is None else 100 if rec.rounding.unit == "krona" else 1
    if parts[0][0] != 1 or (unit is None and parts[1][0] != 1):
        # the difference is written as an amount: it must be whole öre (money_text's 6
        # decimals for anything finer are the reference's alone)
        return Unsupported(f"avstämningen {rec.name}: differensen ska vara hela ören "
                           "(fakturerat i hela ören, intjänat avrundat eller i hela ören)",
                           rec.span)
    if rec.requirement is not None:
        problem = _expr_supported(rec.requirement, version, model, group, record=None) or \
            per_villkor_read(rec.requirement, model, f"avstämningen {rec.name}")
        if problem:
            return problem
    return SettlementPlan(rec, parts[0], parts[1], unit)


def _check_reads(c: ast.Check, model: Model, version: Version
                 ) -> list[ast.Count | ast.ShareOf | ast.TotalOf] | Unsupported:
    """The aggregates over all records a kontroll reads; it may read nothing else of the data."""
    found: list[ast.Count | ast.ShareOf | ast.TotalOf] = []
    todo: list[ast.Expr] = [c.expr] + ([c.tolerance] if c.tolerance is not None else [])
    while todo:
        e = todo.pop()
        if isinstance(e, (ast.Count, ast.ShareOf, ast.TotalOf)):
            spec = model.records.get(e.table)
            if spec is None or (isinstance(e, ast.TotalOf) and
                                spec.columns[e.column].type not in PER_UNIT):
                return Unsupported(f"kontrollen \"{c.title}\": bara antal, andel och summa av "
                                   "heltal eller belopp över poster stöds", c.span)
            for part in (e.where, getattr(e, "among", None)):
                if part is not None:
                    problem = _record_supported(part, e.table, model, version)
                    if problem:
                        return problem
            found.append(e)
        elif isinstance(e, (ast.ColumnRef, ast.VillkorRef)):
            return Unsupported(f"kontrollen \"{c.title}\" läser indata utanför antal, andel "
                               "och summa", c.span)
        else:
            todo.extend(ast.children(e))
    return found


def _record_supported(e: ast.Expr, table: str, model: Model, version: Version
                      ) -> Unsupported | None:
    """A record-level condition (inside an aggregate) the SQL compiler can write."""
    if not isinstance(e, SIMPLE) or isinstance(e, (ast.Count, ast.ShareOf, ast.VillkorRef)):
        return Unsupported(f"uttrycket `{type(e).__name__}` stöds inte i kolumnmotorn",
                           getattr(e, "span", None))
    if isinstance(e, ast.ColumnRef) and e.table != table:
        return Unsupported(f"kolumnen {e.table}.{e.column}: bara postens egen tabell", e.span)
    if isinstance(e, ast.Name) and constant_value(e, model, version) is None:
        return Unsupported(f"`{e.name}` är inget tal som är känt före körningen", e.span)
    if isinstance(e, ast.Compare):
        sides = (e.left, e.right)
        if sum(isinstance(x, ast.ColumnRef) for x in sides) != 1 or \
                sum(constant_value(x, model, version) is not None for x in sides) != 1:
            return Unsupported("jämförelser stöds bara som kolumn mot konstant", e.span)
    if isinstance(e, ast.Between) and not isinstance(e.operand, ast.ColumnRef):
        return Unsupported("`mellan` stöds bara på en kolumn", e.span)
    for child in ast.children(e):
        problem = _record_supported(child, table, model, version)
        if problem:
            return problem
    return None



def _codes_are_text(model: Model, name: str, g) -> Unsupported | None:
    """A recipient's code is text in the plan (the key, the `via` column, every record's link
    to the group), and its name text, a date or a heltal (`NAME_TYPES`); another type the
    reference writes in its own way (`True`, a fraction), so such a group is left to it."""
    cols: list[tuple[str, str, tuple[str, ...]]] = []
    if g.table is not None:
        spec: TableSpec | RecordSpec = model.tables.get(g.table) or model.records[g.table]
        key = g.via if g.via is not None or isinstance(spec, RecordSpec) else spec.keys[0]
        cols += [(spec.name, key, CODE_TYPES)] + \
            ([(spec.name, g.name_column, NAME_TYPES)] if g.name_column else [])
    cols += [(r.name, r.links[name], CODE_TYPES) for r in model.records.values()
             if name in r.links]
    for table, column, types in cols:
        spec = model.tables.get(table) or model.records[table]
        if spec.columns[column].type not in types:
            return Unsupported(f"mottagargruppen {name}: kolumnen {table}.{column} är "
                               f"{spec.columns[column].type}; koder stöds bara som text "
                               "eller kod, namn också som datum eller heltal",
                               spec.columns[column].span)
    return None


def _case_twin(names) -> tuple[str, str] | None:
    """Two names that are one name to an engine that ignores letter case, or None."""
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(name.lower(), name)
        if other != name:
            return other, name
    return None


def applies_to(version: Version, vid: str) -> str | None:
    """The group a villkor, or the villkor a delvillkor belongs to, applies to."""
    for v in version.villkor.values():
        if v.vid == vid or any(s.vid == vid for s in v.subs):
            return v.applies
    return None


def _group(model: Model, version: Version, name: str, g) -> GroupPlan | Unsupported:
    sides = tuple(t.name for t in model.tables.values()
                  if t.group == name and t.name != g.table)
    found = _group_of(model, version, name, g)
    if isinstance(found, Unsupported):
        return found
    return replace(found, sides=sides, order=tuple(sorted(version.villkor, key=vid_key)))


def _group_of(model: Model, version: Version, name: str, g) -> GroupPlan | Unsupported:
    vids = tuple(sorted((v.vid for v in version.villkor.values() if v.applies == name),
                        key=vid_key))
    listed = tuple((m.code, m.title) for m in g.members) if g.table is None else ()
    payments = [p for p in version.payments.values() if _pays(p, name, vids, listed)]
    pots = [p for p in payments if isinstance(p.rule, ast.Pot)]
    if pots and (g.via is not None or g.table is None):
        kind = "`via`-grupper" if g.via is not None else "uppräknade mottagare"
        return Unsupported(f"mottagargruppen {name}: potter till {kind} stöds inte", g.span)
    if len({p.villkor for p in pots}) < len(pots) or \
            any(a.villkor == p.villkor for p in pots for a in payments if a not in pots):
        return Unsupported(f"mottagargruppen {name}: en pott och en annan utbetalning på samma "
                           "villkor stöds inte", pots[0].span)
    amounts: list[AmountPlan] = []
    for p in payments:
        if p in pots:
            continue
        planned = _amount(model, version, p, name, vids, listed)
        if isinstance(planned, Unsupported):
            return planned
        if any(a.row == planned.row and (a.recipient is None or planned.recipient is None or
                                         a.recipient == planned.recipient) for a in amounts):
            # the reference adds one member's lines up on one row; the plan keeps one line per
            # member and row (fixed amounts to different members share a row)
            return Unsupported(f"utbetalningen {p.name}: två utbetalningar på samma villkor "
                               "stöds inte", p.span)
        amounts.append(planned)
    if g.via is not None:
        return GroupPlan(name, g.table, g.via, g.name_column, False, vids, (), tuple(amounts))
    if g.table is None:    # listed in the agreement
        return GroupPlan(name, "", "", None, True, vids, (), tuple(amounts), listed)
    table = model.tables[g.table]
    planned_pots: list[PotPlan] = []
    for p in pots:
        found = _pot(model, version, p, table, vids)
        if isinstance(found, Unsupported):
            return found
        planned_pots.append(found)
    return GroupPlan(name, table.name, table.keys[0], g.name_column, True, vids,
                     tuple(planned_pots), tuple(amounts))


def _pays(p: ast.Payment, group: str, vids: tuple[str, ...],
          listed: tuple[tuple[str, str], ...]) -> bool:
    """Is the payment the group's? A pot or an amount per member to it, or under one of its
    villkor; a fixed amount to one of its listed members (under any villkor, or none)."""
    if isinstance(p.rule, ast.Fixed):
        return any(code == p.rule.recipient for code, _ in listed)
    if isinstance(p.rule, (ast.Pot, ast.PerMember)):
        return p.rule.group == group or (p.villkor is not None and p.villkor in vids)
    return False


def _only(version: Version, vid: str | None) -> tuple[str, ...]:
    v = version.villkor.get(vid or "")
    return v.only if v is not None else ()


def _pot(model: Model, version: Version, p: ast.Payment, table: TableSpec,
         vids: tuple[str, ...]) -> PotPlan | Unsupported:
    rule = p.rule
    if not isinstance(rule, ast.Pot) or p.requirement or p.cap_each or p.cap_total \
            or p.unconditional:
        return Unsupported(f"utbetalningen {p.name}: bara en pott utan krav och tak stöds",
                           p.span)
    if p.villkor not in vids or not isinstance(rule.key, ast.ColumnRef) \
            or rule.key.table != table.name:
        return Unsupported(f"utbetalningen {p.name}: nyckeln ska vara en kolumn i "
                           "mottagartabellen", p.span)
    key: ColumnSpec = table.columns[rule.key.column]
    if key.type != T.HELTAL or not key.required:
        return Unsupported(f"utbetalningen {p.name}: nyckeln ska vara ett obligatoriskt heltal",
                           p.span)
    if p.rounding is None or p.rounding.mode != "halvt uppåt":
        return Unsupported(f"utbetalningen {p.name}: bara avrundning halvt uppåt", p.span)
    pot = evaluate(rule.amount, Env(model, version, Dataset({}, {}), {}))
    if isinstance(pot, Missing) or not isinstance(pot, Fraction) or (pot * 100).denominator != 1 \
            or pot < 0:
        return Unsupported(f"utbetalningen {p.name}: potten ska vara känd i hela ören", p.span)
    return PotPlan(p, int(pot * 100), rule.key.column,
                   100 if p.rounding.unit == "krona" else 1, p.villkor or "",
                   _only(version, p.villkor))


def _amount(model: Model, version: Version, p: ast.Payment, group: str,
            vids: tuple[str, ...], listed: tuple[tuple[str, str], ...]
            ) -> AmountPlan | Unsupported:
    """A per-member amount the plan can hold: factor × measure, no caps, rounded half up; or
    a fixed amount to one member of a listed group."""
    rule = p.rule
    if isinstance(rule, ast.Fixed):
        return _fixed(model, version, p, rule, group, vids, listed)
    if not isinstance(rule, ast.PerMember) or rule.group != group:
        return Unsupported(f"utbetalningen {p.name}: beloppet går till en annan grupp",
                           p.span)
    if p.villkor is not None and p.villkor not in vids:
        return Unsupported(f"utbetalningen {p.name}: villkoret ska gälla gruppen {group}", p.span)
    if p.rounding is not None and p.rounding.mode != "halvt uppåt":
        return Unsupported(f"utbetalningen {p.name}: bara avrundning halvt uppåt", p.span)
    found = _monomial(rule.amount, model, version, group)
    if found is None:
        return Unsupported(f"utbetalningen {p.name}: beloppet ska vara ett känt tal gånger en "
                           "kolumn eller en summa(…) av heltal eller belopp", rule.amount.span
                           if hasattr(rule.amount, "span") else p.span)
    factor, measure = found.factor, found.measure
    if isinstance(measure, (ast.ColumnRef, ast.TotalOf)):
        spec = model.records.get(measure.table) or model.tables.get(measure.table)
        assert spec is not None   # the checker resolved the column
        factor /= PER_UNIT[spec.columns[measure.column].type]
    ore = factor * 100
    unit = 100 if p.rounding is not None and p.rounding.unit == "krona" else 1
    caps = _caps(model, version, p, ore.denominator)
    if isinstance(caps, Unsupported):
        return caps
    return AmountPlan(p, p.villkor, ore.numerator, ore.denominator, measure, unit,
                      only=_only(version, p.villkor), reasons=found.reasons,
                      cap_each=caps[0], cap_total=caps[1])


def _caps(model: Model, version: Version, p: ast.Payment, den: int
          ) -> tuple[int | None, int | None] | Unsupported:
    """`tak per mottagare` and `tak totalt` in whole öre, known before the run. A total cap
    that binds (the amounts scaled down to it) is found in the run, which then leaves it to
    the reference (`loop.follow_steps`); the plan holds a cap that does not bind."""
    found: list[int | None] = []
    for cap in (p.cap_each, p.cap_total):
        if cap is None:
            found.append(None)
            continue
        value = constant_value(cap, model, version)
        if not isinstance(value, Fraction) or (value * 100).denominator != 1:
            return Unsupported(f"utbetalningen {p.name}: taket ska vara känt före körningen, i "
                               "hela ören", p.span)
        found.append(int(value * 100))
    if found[0] is not None:    # the remark writes the amount without the cap (exact_text)
        smooth = 100 * den
        while smooth % 2 == 0 or smooth % 5 == 0:
            smooth //= 2 if smooth % 2 == 0 else 5
        if 10 ** 6 % (100 * den // smooth):
            return Unsupported(f"utbetalningen {p.name}: beloppet utan tak har fler än sex "
                               "decimaler", p.span)
    return found[0], found[1]


def _fixed(model: Model, version: Version, p: ast.Payment, rule: ast.Fixed, group: str,
           vids: tuple[str, ...], listed: tuple[tuple[str, str], ...]
           ) -> AmountPlan | Unsupported:
    """`belopp X till <kod>`: X known before the run, for a member of this listed group that
    no other group lists (the reference pays the first recipient with the code; whether a group
    from a table has one is known in the run: `named_step`). Its villkor gates it where it
    applies to the member (`gäller`, `endast`); a villkor of another group does not (the
    reference then pays under the villkor's row, without it)."""
    others = [n for n, g in model.groups.items() if n != group and g.table is None and
              any(m.code == rule.recipient for m in g.members)]
    if not any(code == rule.recipient for code, _ in listed) or others:
        return Unsupported(f"utbetalningen {p.name}: belopp till en namngiven mottagare stöds "
                           "bara när mottagaren står i en enda uppräknad grupp", p.span)
    if p.cap_each is not None or p.cap_total is not None:
        return Unsupported(f"utbetalningen {p.name}: tak stöds inte", p.span)
    if p.rounding is not None and p.rounding.mode != "halvt uppåt":
        return Unsupported(f"utbetalningen {p.name}: bara avrundning halvt uppåt", p.span)
    value = constant_value(rule.amount, model, version)
    missing = missing_constant(rule.amount, model, version)
    if not isinstance(value, Fraction) and missing is None:
        return Unsupported(f"utbetalningen {p.name}: beloppet ska vara känt före körningen",
                           p.span)
    ore = value * 100 if isinstance(value, Fraction) else Fraction(0)
    unit = 100 if p.rounding is not None and p.rounding.unit == "krona" else 1
    gated = p.villkor is not None and p.villkor in vids
    return AmountPlan(p, p.villkor, ore.numerator, ore.denominator, None, unit, rule.recipient,
                      gated, _only(version, p.villkor) if gated else (),
                      (missing,) if missing is not None else ())


@dataclass(frozen=True)
class Mono:
    """factor × measure (None: the factor alone), and the order in which the reference's
    evaluation meets what may be missing (`reasons`: a missing constant's reason, or None for
    the measure's own), of which the first that is missing is the amount's reason."""

    factor: Fraction
    measure: ast.ColumnRef | ast.TotalOf | ast.Count | None
    reasons: tuple[str | None, ...] = ()


def _monomial(e: ast.Expr, model: Model, version: Version, group: str) -> Mono | None:
    """`c`, `X`, `c * X`, `X * c` or `… / c` with c known before the run (or missing: a
    parameter without value) and X a heltal or belopp column of the member's own table,
    `antal(…)` or `summa(…)` of its records; None: anything else."""
    constant = constant_value(e, model, version)
    if isinstance(constant, Fraction):
        return Mono(constant, None)
    missing = missing_constant(e, model, version)
    if missing is not None:
        return Mono(Fraction(1), None, (missing,))
    if isinstance(e, (ast.ColumnRef, ast.TotalOf)):
        spec = model.records.get(e.table) or model.tables.get(e.table)
        column = spec.columns.get(e.column) if spec is not None else None
        if column is None or column.type not in PER_UNIT:
            return None
        if isinstance(e, ast.TotalOf) and (e.table not in model.records
                                           or group not in model.records[e.table].links):
            return None
        return Mono(Fraction(1), e, (None,))
    if isinstance(e, ast.Count) and e.table in model.records \
            and group in model.records[e.table].links:
        return Mono(Fraction(1), e, (None,))
    if isinstance(e, ast.Binary) and e.op in "*/":
        left = _monomial(e.left, model, version, group)
        right = _monomial(e.right, model, version, group)
        if left is None or right is None or right.measure is not None and (
                e.op == "/" or left.measure is not None):
            return None
        if e.op == "/" and not right.reasons and right.factor == 0:
            return None
        factor = left.factor * right.factor if e.op == "*" else \
            left.factor / (right.factor or 1)
        return Mono(factor, left.measure or right.measure, left.reasons + right.reasons)
    return None


def _expr_supported(e: ast.Expr, version: Version, model: Model,
                    group: GroupPlan | None, record: str | None) -> Unsupported | None:
    """Walk one requirement: recipient-level nodes, or (inside an aggregate) record-level ones."""
    if group is None:
        return Unsupported("villkor utan mottagargrupp stöds inte", getattr(e, "span", None))
    if not isinstance(e, SIMPLE):
        return Unsupported(f"uttrycket `{type(e).__name__}` stöds inte i kolumnmotorn",
                           getattr(e, "span", None))
    if isinstance(e, ast.ColumnRef):
        own = record if record is not None else (group.table if group.keyed else None)
        if record is None and e.table in group.sides:
            return None
        if e.table != own:
            return Unsupported(f"kolumnen {e.table}.{e.column}: bara "
                               f"{'postens' if record else 'mottagarens'} egen tabell", e.span)
        return None
    if isinstance(e, ast.Name) and constant_value(e, model, version) is None:
        return Unsupported(f"`{e.name}` är inget tal som är känt före körningen", e.span)
    if isinstance(e, (ast.Count, ast.ShareOf, ast.TotalOf)):
        if record is not None:
            return Unsupported("aggregat i aggregat stöds inte", e.span)
        spec = model.records.get(e.table)
        if spec is None or group.name not in spec.links:
            return Unsupported(f"{e.table} är inte kopplad till gruppen {group.name}", e.span)
        for part in (e.where, getattr(e, "among", None)):
            if part is not None:
                problem = _expr_supported(part, version, model, group, e.table)
                if problem:
                    return problem
        return None
    if isinstance(e, ast.VillkorRef) and record is not None:
        return Unsupported("`villkor N` i en posts villkor stöds inte", e.span)
    if isinstance(e, ast.VillkorRef) and applies_to(version, e.vid) != group.name:
        # its requirement is compiled into this group's rows, which have not its tables
        return Unsupported(f"`villkor {e.vid}` gäller en annan mottagargrupp än "
                           f"{group.name}", e.span)
    if isinstance(e, ast.Compare):
        sides = (e.left, e.right)
        measured = [s for s in sides if isinstance(
            s, (ast.ColumnRef, ast.Count, ast.ShareOf, ast.TotalOf))]
        fixed = [s for s in sides if constant_value(s, model, version) is not None]
        if len(measured) != 1 or len(fixed) != 1:
            return Unsupported("jämförelser stöds bara som kolumn eller aggregat mot konstant",
                               e.span)
        return _expr_supported(measured[0], version, model, group, record)
    if isinstance(e, ast.Between) and not isinstance(e.operand, ast.ColumnRef):
        return Unsupported("`mellan` stöds bara på en kolumn", e.span)
    for child in ast.children(e):
        problem = _expr_supported(child, version, model, group, record)
        if problem:
            return problem
    return None
