"""Columnar plan → SQL: one sqlglot tree per step, written once, rendered for any dialect.

The steps are plain SELECTs over relations the runner provides (`in_<i>_<table>`: the input
file's declared columns plus `§rad`, its row number) and over earlier steps, so the same plan
runs on DuckDB here and, transpiled, on Spark or another engine when one machine is outgrown.
Verdicts are the codes 0–3 in the order of `och` (VERDICTS), so `och` is GREATEST and `eller`
and `inte` a swap of 0 and 3 around it; money is integer öre in BIGINT with half up done as
⌊(2·P·k + u·T) / (2·u·T)⌋, so no float and no dialect's decimal division is ever on the money
path. The pot's key total T is a one-row step (`nyckel_<j>_<g>`); the runner reads it first and
checks the 64-bit bounds.

Names the user cannot reach. Every column the engine adds (`§rad`, `§kod`, `<col>§fel`, …)
holds `§`, which no declared column can (the grammar's COLUMN is `\\w+(\\.\\w+)*`), so a
file's or an agreement's column never shadows one, in any letter case. Every generated view
carries the index of its table (`typ_<i>_<table>`) or group (`mot_<j>_<g>`,
`agg_<j>_<i>_<g>_<table>`) in the plan: injective, and case-proof where the engine compares
names case-insensitively (DuckDB); the name after the index is only for the reader.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from ..eval.engine import PRELIMINARY, UNPAID, sources_text
from ..eval.shares import ZERO_KEY
from ..model import types as T
from ..model.model import ColumnSpec, RecordSpec, TableSpec
from ..syntax import ast
from .plan import GroupPlan, Plan, PotPlan, applies_to, constant_value

Aggregate = ast.Count | ast.ShareOf | ast.TotalOf   # what an `agg_*` step counts

# A verdict's code is its rank under `och`: ej beats saknas beats bedömning beats uppfyllt.
VERDICTS = ("uppfyllt", "bedömning krävs", "underlag saknas", "ej uppfyllt")   # by code
UPPFYLLT, BEDOMNING, SAKNAS, EJ = range(4)
PENDING = f"({BEDOMNING}, {SAKNAS})"      # no amount can be decided yet
READ = "duckdb"          # the dialect the steps are written in; sqlglot renders the others


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


MARK = "§"      # in every internal column's name: not a word character, so no user name has it


def own(name: str) -> str:
    """An internal column, quoted: `§` + name."""
    return ident(MARK + name)


def fault(column: str) -> str:
    """The internal column with the reason a declared column's cell is wrong, quoted."""
    return ident(column + MARK + "fel")


ROW = own("rad")            # the row number in the file (header = 1): the runner provides it
N, FIRST = own("n"), own("först")                   # a key's occurrence, and its first row
KOD, NAMN, ORD = own("kod"), own("namn"), own("ord")   # a recipient's code, name and order
NYCKEL, LV, TOTAL = own("nyckel"), own("lv"), own("total")
ENHETER, Q, R, MIKRO = own("enheter"), own("q"), own("r"), own("mikro")
VANTAR = own("väntar")      # how many lines of the pot wait for data or a decision
BELOPP, EXAKT, ETIKETT = own("belopp"), own("exakt"), own("etikett")


def verdict_column(vid: str) -> str:
    return own("v" + vid)


@dataclass(frozen=True)
class Names:
    """The generated views' names: kind, the table's or group's index in the plan, its name."""

    tables: dict[str, int]
    groups: dict[str, int]

    @classmethod
    def of(cls, plan: Plan) -> Names:
        return cls({t.name: i for i, t in enumerate(plan.inputs)},
                   {g.name: j for j, g in enumerate(plan.groups)})

    def table(self, kind: str, table: str) -> str:
        """`in`, `typ`, `bra`: one view per input table."""
        return f"{kind}_{self.tables[table]}_{table}"

    def group(self, kind: str, group: str) -> str:
        """`mot`, `nyckel`, `andel`, `räkna`, `rader`: one view per recipient group."""
        return f"{kind}_{self.groups[group]}_{group}"

    def aggregate(self, group: str, table: str) -> str:
        return f"agg_{self.groups[group]}_{self.tables[table]}_{group}_{table}"

    def alias(self, table: str) -> str:
        """A record table's aggregates, joined to the recipients."""
        return own(f"agg{self.tables[table]}")


@dataclass(frozen=True)
class Step:
    name: str
    tree: exp.Expr          # sqlglot's expression tree (`Expression` in older sqlglot)

    def sql(self, dialect: str = READ) -> str:
        # every identifier quoted: Swedish names (å ä ö) are not bare identifiers everywhere
        return self.tree.sql(dialect=dialect, identify=True)

    def view(self, dialect: str = READ) -> str:
        """The step as a temporary view, in the dialect (what a cluster runs step by step)."""
        name = exp.Table(this=exp.to_identifier(self.name, quoted=True))
        create = exp.Create(this=name, kind="VIEW", replace=True,
                            expression=self.tree,
                            properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
        return create.sql(dialect=dialect, identify=True)


def step(name: str, select: str) -> Step:
    return Step(name, sqlglot.parse_one(select, read=READ))


def verdict_text(code: str) -> str:
    return ("CASE " + code + " " + " ".join(f"WHEN {i} THEN {lit(t)}"
                                             for i, t in enumerate(VERDICTS[:3]))
            + f" ELSE {lit(VERDICTS[3])} END")


def swap(code: str) -> str:
    """uppfyllt ⇄ ej, the rest unchanged: `inte`, and the map between och- and eller-order."""
    return f"CASE {code} WHEN {UPPFYLLT} THEN {EJ} WHEN {EJ} THEN {UPPFYLLT} ELSE {code} END"


def v_and(codes: list[str]) -> str:
    """Four-valued och: the highest code."""
    return codes[0] if len(codes) == 1 else f"GREATEST({', '.join(codes)})"


def v_or(codes: list[str]) -> str:
    """Four-valued eller: uppfyllt before saknas before bedömning before ej — GREATEST in the
    order where uppfyllt and ej trade places."""
    return swap(f"GREATEST({', '.join(swap(c) for c in codes)})")


def judged(missing: str, test: str) -> str:
    return f"CASE WHEN {missing} THEN {SAKNAS} WHEN {test} THEN {UPPFYLLT} ELSE {EJ} END"


# ---- input: typed columns and their errors ------------------------------------------------

def typed_step(spec: TableSpec | RecordSpec, kinds: dict[str, str], names: Names) -> Step:
    """Each declared column typed, with `<col>§fel`: the reason it is wrong, or NULL."""
    cols = [ROW]
    present = []
    for c in spec.columns.values():
        if c.name not in kinds:
            cols += [f"NULL AS {ident(c.name)}", f"CAST(NULL AS VARCHAR) AS {fault(c.name)}"]
            continue
        value, error, blank = _typed(c, kinds[c.name])
        cols += [f"{value} AS {ident(c.name)}", f"{error} AS {fault(c.name)}"]
        present.append((not c.required, kinds[c.name] == "text", blank))
    # a row of blank cells is no row (as the reference reads CSV); the cheap, usually filled
    # cells first, so the test stops early on almost every row
    blanks = [b for *_, b in sorted(present, key=lambda p: p[:2])]
    where = f" WHERE NOT ({' AND '.join(blanks)})" if blanks else ""
    return step(names.table("typ", spec.name),
                f"SELECT {', '.join(cols)} FROM {ident(names.table('in', spec.name))}{where}")


def _typed(c: ColumnSpec, kind: str) -> tuple[str, str, str]:
    col = ident(c.name)
    required = lit("värdet saknas men kolumnen är obligatorisk") if c.required else "NULL"
    native = {T.JANEJ: "bool", T.HELTAL: "int", T.DATUM: "date"}.get(c.type)
    if kind == native:
        error = f"CASE WHEN {col} IS NULL THEN {required}"
        if c.positive:
            error += (f" WHEN {col} <= 0 THEN '`' || CAST({col} AS VARCHAR) || "
                      "'` ska vara större än 0'")
        return col, error + " END", f"{col} IS NULL"
    t = f"NULLIF(TRIM(CAST({col} AS VARCHAR)), '')"
    shown = f"'`' || {t} || '` '"
    missing = f"CASE WHEN {t} IS NULL THEN {required}"
    if c.type == T.JANEJ:
        value = f"CASE LOWER({t}) WHEN 'ja' THEN TRUE WHEN 'nej' THEN FALSE END"
        error = (f"{missing} WHEN LOWER({t}) NOT IN ('ja', 'nej') THEN {shown} || "
                 "'är inte ja eller nej' END")
    elif c.type == T.HELTAL:
        compact = f"REPLACE(REPLACE({t}, ' ', ''), '\u00a0', '')"
        ok = f"REGEXP_MATCHES({compact}, '^-?[0-9]{{1,18}}$')"
        value = f"CASE WHEN {ok} THEN TRY_CAST({compact} AS BIGINT) END"
        error = f"{missing} WHEN NOT {ok} THEN {shown} || 'är inget heltal'"
        if c.positive:
            error += (f" WHEN TRY_CAST({compact} AS BIGINT) <= 0 THEN {shown} || "
                      "'ska vara större än 0'")
        error += " END"
    elif c.type == T.DATUM:
        ok = f"REGEXP_MATCHES({t}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$')"
        value = f"CASE WHEN {ok} THEN TRY_CAST({t} AS DATE) END"
        error = (f"{missing} WHEN NOT {ok} OR TRY_CAST({t} AS DATE) IS NULL THEN {shown} || "
                 "'är inget datum' END")
    else:   # text, kod
        value = t
        error = missing
        if c.values:
            allowed = ", ".join(lit(v) for v in c.values)
            error += (f" WHEN {t} NOT IN ({allowed}) THEN {shown} || "
                      f"{lit('är inte ett av ' + ', '.join(c.values))}")
        error += " END"
    return value, error, f"{t} IS NULL"


def good_step(spec: TableSpec | RecordSpec, names: Names) -> Step:
    """Rows with no error; for a keyed table, each key's first row (later ones are errors)."""
    ok = " AND ".join(f"{fault(c)} IS NULL" for c in spec.columns) or "TRUE"
    typed = ident(names.table("typ", spec.name))
    if isinstance(spec, RecordSpec):
        return step(names.table("bra", spec.name), f"SELECT * FROM {typed} WHERE {ok}")
    key = ident(spec.keys[0])
    return step(names.table("bra", spec.name),
                f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {ROW}) AS {N}, "
                f"MIN({ROW}) OVER (PARTITION BY {key}) AS {FIRST} FROM {typed} WHERE {ok}")


def errors_step(plan: Plan, files: dict[str, str], names: Names) -> Step:
    """fil, rad, kolumn, meddelande (and the diagnostic's code, for the screen) — one row per
    wrong cell or repeated key, in file order."""
    parts = []
    k = own("k")
    for spec in plan.inputs:
        name = lit(files[spec.name])
        typed = ident(names.table("typ", spec.name))
        for i, c in enumerate(spec.columns):
            fel = fault(c)
            parts.append(f"SELECT {name} AS fil, {ROW} AS rad, {i} AS {k}, 'V204' AS kod, "
                         f"{lit(c)} AS kolumn, "
                         f"'rad ' || CAST({ROW} AS VARCHAR) || {lit(', kolumn `' + c + '`: ')}"
                         f" || {fel} AS meddelande FROM {typed} WHERE {fel} IS NOT NULL")
        if isinstance(spec, TableSpec):
            key = ident(spec.keys[0])
            parts.append(f"SELECT {name}, {ROW}, -1, 'V206', {lit(spec.keys[0])}, 'rad ' || "
                         f"CAST({ROW} AS VARCHAR) || ': `' || {key} || '` finns redan på rad ' || "
                         f"CAST({FIRST} AS VARCHAR) FROM {ident(names.table('bra', spec.name))} "
                         f"WHERE {N} > 1")
    return step("fel", "SELECT fil, rad, kolumn, meddelande, kod FROM ("
                + " UNION ALL ".join(parts) + f") AS e ORDER BY fil, rad, {k}")


# ---- recipients and their verdicts -------------------------------------------------------

class Compiler:
    """Requirements → SQL verdict codes, for one group. Aggregates become columns of `agg_*`."""

    def __init__(self, plan: Plan, group: GroupPlan, names: Names):
        self.plan, self.group, self.names = plan, group, names
        self.aggregates: dict[str, list[tuple[str, Aggregate]]] = {}   # table → (id, node)

    def verdict(self, e: ast.Expr, row: str | None = None) -> str:
        """`row` is the record-level alias inside an aggregate; None at the recipient level."""
        if isinstance(e, ast.VerdictLit):
            return str(VERDICTS.index(e.value))
        if isinstance(e, ast.VillkorRef):
            return f"({self.verdict(self.plan.villkor[e.vid], row)})"
        if isinstance(e, ast.Not):
            return swap(f"({self.verdict(e.operand, row)})")
        if isinstance(e, ast.Logic):
            parts = [self.verdict(x, row) for x in _flatten(e, e.op)]
            return v_and(parts) if e.op == "och" else v_or(parts)
        if isinstance(e, ast.Is):
            col = self.column(e.operand, row)
            if e.what == "angiven":
                return f"{SAKNAS} * CAST({col} IS NULL AS INTEGER)"
            # arithmetic, not CASE: the hot leaf of record conditions (ja → 0, nej → 3, blank → 2)
            hit = col if e.what == "ja" else f"NOT {col}"
            return f"COALESCE({EJ} - {EJ} * CAST({hit} AS INTEGER), {SAKNAS})"
        if isinstance(e, ast.Between):
            col = self.column(e.operand, row)
            return judged(f"{col} IS NULL", f"{col} BETWEEN DATE '{e.start.isoformat()}' "
                                            f"AND DATE '{e.end.isoformat()}'")
        if isinstance(e, ast.Compare):
            return self.compare(e, row)
        raise AssertionError(type(e))   # the plan admits nothing else

    def column(self, e: ast.Expr, row: str | None) -> str:
        assert isinstance(e, ast.ColumnRef)
        return f"{row or 'm'}.{ident(e.column)}"

    def compare(self, e: ast.Compare, row: str | None) -> str:
        op = e.op if e.op != "!=" else "<>"
        left, right = e.left, e.right
        if not isinstance(left, (ast.ColumnRef, ast.Count, ast.ShareOf)):   # constant op measured
            left, right = right, left
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        constant = self.constant(right)
        if isinstance(left, ast.ColumnRef):
            col = self.column(left, row)
            if isinstance(constant, str):
                return judged(f"{col} IS NULL", f"{col} {op} {lit(constant)}")
            if hasattr(constant, "isoformat"):
                return judged(f"{col} IS NULL", f"{col} {op} DATE '{constant.isoformat()}'")
            num, den = constant.numerator, constant.denominator
            scaled = col if den == 1 else f"{col} * {den}"
            return judged(f"{col} IS NULL", f"{scaled} {op} {num}")
        if not isinstance(left, (ast.Count, ast.ShareOf)):   # the plan admits nothing else
            raise AssertionError(type(left))
        rows, chosen, open_ = self.aggregate(left)
        num, den = constant.numerator, constant.denominator
        if isinstance(left, ast.Count):   # antal: chosen · den op num
            return judged(f"{open_} > 0", f"COALESCE({chosen}, 0) * {den} {op} {num}")
        # andel: chosen / rows op num / den  ⇔  chosen · den op num · rows (rows > 0)
        return judged(f"{open_} > 0 OR {rows} IS NULL OR {rows} = 0",
                      f"{chosen} * {den} {op} {num} * {rows}")

    def constant(self, e: ast.Expr):
        return constant_value(e, self.plan.model, self.plan.version)

    def aggregate(self, e: Aggregate) -> tuple[str, str, str]:
        """The aggregate's rows, chosen rows and undecided rows, as columns of its table's
        `agg_*` step (alias `§agg<i>`)."""
        mine = self.aggregates.setdefault(e.table, [])
        aid = next((aid for aid, node in mine if node == e), None)
        if aid is None:
            aid = f"a{len(mine)}"
            mine.append((aid, e))
        alias = self.names.alias(e.table)
        n, k, o = (f"{alias}.{own(aid + '_' + part)}" for part in ("n", "k", "o"))
        return n, k, o


def _flatten(e: ast.Expr, op: str) -> list[ast.Expr]:
    if isinstance(e, ast.Logic) and e.op == op:
        return _flatten(e.left, op) + _flatten(e.right, op)
    return [e]


def aggregate_step(comp: Compiler, table: str, label: str | None = None) -> Step:
    """Per recipient: for each aggregate its rows (`§a<n>_n`), chosen rows (`_k`), undecided
    rows (`_o`).

    Each record's `bland` and `där` verdicts are computed once, in an inner SELECT, and only
    counted outside it. For a `via` group over this table the same pass also yields the
    recipients themselves, with their names (`label`: the name column, first filled row)."""
    link = f"t.{ident(comp.plan.model.records[table].links[comp.group.name])}"
    inner, counts = [f"{link} AS {KOD}"], [KOD]
    if label is not None:
        inner += [f"t.{ident(label)} AS {ETIKETT}", f"t.{ROW} AS {ROW}"]
        counts.append(f"MIN_BY({ETIKETT}, {ROW}) FILTER (WHERE {ETIKETT} IS NOT NULL) "
                      f"AS {ETIKETT}")
    for aid, node in comp.aggregates.get(table, []):
        among = getattr(node, "among", None)
        b, w = own(aid + "_b"), own(aid + "_w")
        inner.append(f"{comp.verdict(among, 't') if among is not None else UPPFYLLT} AS {b}")
        inner.append(f"{comp.verdict(node.where, 't') if node.where is not None else UPPFYLLT}"
                     f" AS {w}")
        counts += [f"COUNT(*) FILTER (WHERE {b} = 0) AS {own(aid + '_n')}",
                   f"COUNT(*) FILTER (WHERE {b} = 0 AND {w} = 0) AS {own(aid + '_k')}",
                   (f"COUNT(*) FILTER (WHERE {b} IN {PENDING} OR ({b} = 0 AND {w} IN {PENDING}))"
                    f" AS {own(aid + '_o')}")]
    good = ident(comp.names.table("bra", table))
    return step(comp.names.aggregate(comp.group.name, table),
                f"SELECT {', '.join(counts)} FROM (SELECT {', '.join(inner)} FROM {good} "
                f"AS t WHERE {link} IS NOT NULL) AS p GROUP BY {KOD}")


def verdict_steps(plan: Plan, group: GroupPlan, names: Names) -> list[Step]:
    """mot_<j>_<g>: `§kod`, `§namn`, `§ord`, one `§v<id>` per villkor (and `§nyckel` for the
    pot)."""
    comp = Compiler(plan, group, names)
    vids = [vid for vid in plan.villkor if applies_to(plan.version, vid) == group.name]
    verdicts = [f"{comp.verdict(plan.villkor[vid])} AS {verdict_column(vid)}" for vid in vids]
    own_table = None if group.keyed else group.table   # a `via` group's recipients come from here
    if own_table is not None:
        comp.aggregates.setdefault(own_table, [])
    steps = [aggregate_step(comp, table, group.name_column if table == own_table else None)
             for table in comp.aggregates]
    alias = names.alias(own_table) if own_table else "m"
    joins = "".join(f" LEFT JOIN {ident(names.aggregate(group.name, table))} AS "
                    f"{names.alias(table)} ON {names.alias(table)}.{KOD} = {alias}.{KOD}"
                    for table in comp.aggregates if table != own_table)
    if group.keyed:
        name = ident(group.name_column) if group.name_column else ident(group.key)
        key = ident(group.key)
        base = (f"SELECT {key} AS {KOD}, COALESCE(CAST({name} AS VARCHAR), {key}) AS {NAMN}, "
                f"{ROW} AS {ORD}, * FROM {ident(names.table('bra', group.table))} WHERE {N} = 1")
        extra = [f"m.{ident(group.pot.key_column)} AS {NYCKEL}"] if group.pot else []
    else:
        assert own_table is not None   # not keyed: the group's `via` table
        label = ETIKETT if group.name_column else "NULL"
        base = (f"SELECT *, COALESCE(CAST({label} AS VARCHAR), {KOD}) AS {NAMN}, "
                f"ROW_NUMBER() OVER (ORDER BY {KOD}) AS {ORD} "
                f"FROM {ident(names.aggregate(group.name, own_table))}")
        extra = []
    cols = ", ".join([f"{alias}.{KOD}", f"{alias}.{NAMN}", f"{alias}.{ORD}", *verdicts, *extra])
    steps.append(step(names.group("mot", group.name),
                      f"SELECT {cols} FROM ({base}) AS {alias}{joins} ORDER BY {alias}.{ORD}"))
    return steps


# ---- payments and output rows ------------------------------------------------------------

def _pot(group: GroupPlan) -> PotPlan:
    """The group's pot: the pot steps are only made for a group that has one."""
    if group.pot is None:
        raise AssertionError(f"group {group.name} has no pot")   # a bug in all_steps, not input
    return group.pot


def key_total_step(group: GroupPlan, names: Names) -> Step:
    """One row: the key total T (`§total`), how many share (`§antal`), the largest key."""
    v = verdict_column(_pot(group).villkor)
    return step(names.group("nyckel", group.name),
                f"SELECT COALESCE(SUM({NYCKEL}) FILTER (WHERE {v} = 0 AND {NYCKEL} >= 0), 0) "
                f"AS {TOTAL}, COUNT(*) FILTER (WHERE {v} = 0 AND {NYCKEL} >= 0) AS "
                f"{own('antal')}, COALESCE(MAX(ABS({NYCKEL})), 0) AS {own('störst')} "
                f"FROM {ident(names.group('mot', group.name))}")


def share_step(group: GroupPlan, names: Names) -> Step:
    """Each line's verdict (`§lv`), its share in units of u öre (half up), ⌊P·k/T⌋ and the rest,
    and both amounts as text, computed once for the villkor row and the summa row. T comes from
    the one-row `nyckel_<j>_<g>`; a zero T shares nothing (every share is 0)."""
    pot = _pot(group)
    v = verdict_column(pot.villkor)
    p, u = pot.pot_ore, pot.unit_ore
    t = f"n.{TOTAL}"
    # a negative key, or every fulfilling key 0 (a share would divide by zero): bedömning krävs
    lv = f"CASE WHEN {v} = 0 AND ({NYCKEL} < 0 OR {t} = 0) THEN {BEDOMNING} ELSE {v} END"
    units = f"CASE WHEN {t} = 0 THEN 0 ELSE (2 * {p} * {NYCKEL} + {u} * {t}) // " \
            f"(2 * {u} * {t}) END"
    q = f"CASE WHEN {t} = 0 THEN 0 ELSE ({p} * {NYCKEL}) // {t} END"
    r = f"CASE WHEN {t} = 0 THEN 0 ELSE ({p} * {NYCKEL}) % {t} END"
    inner = (f"SELECT m.*, {t} AS {TOTAL}, {lv} AS {LV}, CASE WHEN ({lv}) = 0 THEN {units} "
             f"END AS {ENHETER}, CASE WHEN ({lv}) = 0 THEN {q} END AS {Q}, CASE WHEN ({lv}) = 0 "
             f"THEN {r} END AS {R} FROM {ident(names.group('mot', group.name))} AS m "
             f"CROSS JOIN {ident(names.group('nyckel', group.name))} AS n")
    # the exact share to 6 decimals (half up) in millionths of a krona, computed once
    micro = (f"SELECT *, CASE WHEN {R} <> 0 THEN {Q} * 10000 + (2 * {R} * 10000 + {TOTAL}) // "
             f"(2 * {TOTAL}) END AS {MIKRO} FROM ({inner}) AS s")
    # how many wait for data or a decision: each known share says it is preliminary
    waiting = f"COUNT(*) FILTER (WHERE {LV} IN {PENDING}) OVER () AS {VANTAR}"
    return step(names.group("andel", group.name),
                f"SELECT *, CASE {LV} WHEN 0 THEN {money(f'{ENHETER} * {u}')} WHEN {EJ} THEN '0' "
                f"END AS {BELOPP}, CASE {LV} WHEN 0 THEN {exact()} WHEN {EJ} THEN '0' END AS "
                f"{EXAKT}, {waiting} FROM ({micro}) AS s2 ORDER BY {ORD}")


def money(ore: str) -> str:
    """Integer öre → `577898` or `577898.50` (no negative amounts reach here)."""
    return (f"CASE WHEN ({ore}) % 100 = 0 THEN CAST(({ore}) // 100 AS VARCHAR) ELSE "
            f"CAST(({ore}) // 100 AS VARCHAR) || '.' || LPAD(CAST(({ore}) % 100 AS VARCHAR), 2, "
            f"'0') END")


def exact() -> str:
    """The exact share: whole öre as money, otherwise 6 decimals half up, zeros stripped."""
    text = (f"CAST({MIKRO} // 1000000 AS VARCHAR) || '.' || "
            f"LPAD(CAST({MIKRO} % 1000000 AS VARCHAR), 6, '0')")
    # six decimals always: stripping zeros stops at the point, then the point goes if bare
    stripped = f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {text}))"
    return f"CASE WHEN {R} = 0 THEN {money(Q)} ELSE {stripped} END"


def rows_step(plan: Plan, group: GroupPlan, names: Names) -> Step:
    """Every output row of the group: one per villkor, then `summa`, with ordering columns."""
    version = plan.version
    source = names.group("andel" if group.pot else "mot", group.name)
    parts = []
    for i, vid in enumerate(group.villkor):
        v = version.villkor[vid]
        origin = lit(version.origin.get(("villkor", vid), ""))
        code = verdict_column(vid)
        if group.pot is not None and group.pot.villkor == vid:
            pay = group.pot.payment
            before, after = PRELIMINARY.split("{}")
            note = (f"CASE WHEN {LV} IN {PENDING} THEN {verdict_text(LV)} || "
                    f"': beloppet kan inte bestämmas' || CASE WHEN {code} = 0 AND {NYCKEL} < 0 "
                    f"THEN '; negativ fördelningsnyckel ' || CAST({NYCKEL} AS VARCHAR) "
                    f"WHEN {code} = 0 AND {TOTAL} = 0 THEN {lit('; ' + ZERO_KEY)} ELSE '' END "
                    f"WHEN {LV} = 0 AND {VANTAR} > 0 THEN {lit(before)} || "
                    f"CAST({VANTAR} AS VARCHAR) || {lit(after)} END")
            due = f"'{pay.due.isoformat()}'" if pay.due else "NULL"
            parts.append(_row(i, lit(vid), verdict_text(LV), BELOPP, EXAKT, due,
                              origin, lit(sources_text(pay.sources)) if pay.sources else "NULL",
                              note))
        else:
            parts.append(_row(i, lit(vid), verdict_text(code), "NULL", "NULL", "NULL",
                              origin, lit(sources_text(v.sources)) if v.sources else "NULL",
                              lit("ingen utbetalning är knuten till villkoret")))
    label = lit(version.label)
    n = len(group.villkor)
    if group.pot is not None:
        vid = group.pot.villkor
        known = f"{LV} IN ({UPPFYLLT}, {EJ})"
        unknown = lit(f"inget belopp är känt ännu; ofullständig: villkor {vid} saknar belopp "
                      "och ingår inte")
        parts.append(_row(
            n, "'summa'", verdict_text(LV),
            BELOPP, EXAKT, "NULL", label, "NULL",
            f"CASE WHEN {known} THEN 'summan av de avrundade beloppen' || {_unpaid(group, vid)} "
            f"ELSE {unknown}"
            " END"))
    elif n:
        every = v_and([verdict_column(vid) for vid in group.villkor])
        parts.append(_row(n, "'summa'", verdict_text(every), "'0'", "'0'", "NULL", label,
                          "NULL", lit("inga utbetalningar gäller mottagaren")))
    where = ""
    if not parts:   # a group nothing applies to has no rows
        parts, where = [_row(0, *["NULL"] * 8)], " WHERE FALSE"
    # one list per recipient, unnested: its rows come out together and in order (no sort)
    return step(names.group("rader", group.name),
                f"SELECT {names.groups[group.name]} AS {own('g')}, {ORD}, "
                f"UNNEST([{', '.join(parts)}]) AS {own('r')} FROM {ident(source)} AS t{where}")


def _unpaid(group: GroupPlan, paid: str) -> str:
    """Why a summa is uppfyllt although a villkor is not (as the reference's `_why_met`): the
    group's villkor without a payment that are not uppfyllt, named with their verdicts."""
    others = [vid for vid in group.villkor if vid != paid]
    if not others:
        return "''"
    names = ", ".join(f"CASE WHEN {verdict_column(vid)} <> {UPPFYLLT} THEN "
                      f"{lit(f'villkor {vid} (')} || {verdict_text(verdict_column(vid))} || ')' "
                      "END" for vid in others)
    listed = f"CONCAT_WS(', ', {names})"
    return (f"CASE WHEN {LV} = {UPPFYLLT} AND {listed} <> '' THEN '; ' || {listed} || "
            f"{lit(UNPAID)} ELSE '' END")


def _row(vord: int, villkor: str, utfall: str, belopp: str, exakt: str, due: str,
         version: str, source: str, note: str) -> str:
    """One output row as a struct; a recipient's rows are one list, unnested in order."""
    fields = {MARK + "v": str(vord), "mottagare": KOD, "namn": NAMN, "villkor": villkor,
              "utfall": utfall, "belopp": f"CAST({belopp} AS VARCHAR)",
              "exakt_belopp": f"CAST({exakt} AS VARCHAR)",
              "betalas_senast": f"CAST({due} AS VARCHAR)",
              "version": f"CAST({version} AS VARCHAR)", "källa": f"CAST({source} AS VARCHAR)",
              "anmärkning": f"CAST({note} AS VARCHAR)"}
    return "{" + ", ".join(f"{lit(k)}: {v}" for k, v in fields.items()) + "}"


OUTPUT = ("mottagare", "namn", "villkor", "utfall", "belopp", "exakt_belopp", "betalas_senast",
          "version", "källa", "anmärkning")


def result_query(rows: list[str]) -> Step:
    """The output rows in recipient order, from the groups' `rader_*` steps. A runner that knows
    its steps kept that order (one group, rows unnested in order) may leave the ORDER BY out:
    `without_order`."""
    union = " UNION ALL ".join(f"SELECT * FROM {ident(name)}" for name in rows)
    r = f"x.{own('r')}"
    cols = ", ".join(f"{r}.{ident(c)} AS {ident(c)}" for c in OUTPUT)
    return step("resultat", f"SELECT {cols} FROM ({union}) AS x "
                f"ORDER BY x.{own('g')}, x.{ORD}, {r}.{own('v')}")


def without_order(st: Step) -> Step:
    tree = st.tree.copy()
    tree.set("order", None)
    return Step(st.name, tree)


def counts_step(group: GroupPlan, names: Names) -> Step:
    """One row: how many lines have each verdict code (`§c0`…`§c3`), and the öre paid."""
    u = _pot(group).unit_ore
    counts = ", ".join(f"COUNT(*) FILTER (WHERE {LV} = {i}) AS {own(f'c{i}')}" for i in range(4))
    return step(names.group("räkna", group.name),
                f"SELECT {counts}, COALESCE(SUM({ENHETER} * {u}) FILTER (WHERE {LV} = 0), 0) AS "
                f"{own('utbetalt')} FROM {ident(names.group('andel', group.name))}")


def all_steps(plan: Plan, kinds: dict[str, dict[str, str]], files: dict[str, str]
              ) -> list[Step]:
    """The whole plan, in order: what the DuckDB runner executes and `villkor sql` prints.
    The runner provides `in_<i>_<table>` (Names.of(plan).table("in", …)) for each input."""
    names = Names.of(plan)
    steps = []
    for spec in plan.inputs:
        steps += [typed_step(spec, kinds[spec.name], names), good_step(spec, names)]
    steps.append(errors_step(plan, files, names))
    for group in plan.groups:
        steps += verdict_steps(plan, group, names)
        if group.pot:
            steps += [key_total_step(group, names), share_step(group, names),
                      counts_step(group, names)]
        steps.append(rows_step(plan, group, names))
    steps.append(result_query([names.group("rader", g.name) for g in plan.groups]))
    return steps


def script(steps: list[Step], dialect: str = READ) -> str:
    """The plan as one SQL script: each step a temporary view, the result a final SELECT."""
    parts = [f"-- {st.name}\n{st.view(dialect)};" for st in steps[:-1]]
    parts.append(f"-- {steps[-1].name}\n{steps[-1].sql(dialect)};")
    return "\n\n".join(parts) + "\n"
