"""Columnar plan → SQL: one sqlglot tree per step, written once, rendered for any dialect.

The steps are plain SELECTs over relations the runner provides (`in_<table>`: the input file's
columns plus `_rad`, its row number) and over earlier steps, so the same plan runs on DuckDB here
and, transpiled, on Spark or another engine when one machine is outgrown. Verdicts are the codes
0–3 in the order of `och` (VERDICTS), so `och` is GREATEST and `eller` and `inte` a swap of
0 and 3 around it; money is integer öre in BIGINT with half up done as ⌊(2·P·k + u·T) / (2·u·T)⌋,
so no float and no dialect's decimal division is ever on the money path. The pot's key total T
is a one-row step (`nyckel_<g>`); the runner reads it first and checks the 64-bit bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from ..eval.engine import sources_text
from ..model import types as T
from ..model.model import ColumnSpec, RecordSpec, TableSpec
from ..syntax import ast
from .plan import GroupPlan, Plan, applies_to, constant_value

# A verdict's code is its rank under `och`: ej beats saknas beats bedömning beats uppfyllt.
VERDICTS = ("uppfyllt", "bedömning krävs", "underlag saknas", "ej uppfyllt")   # by code
UPPFYLLT, BEDOMNING, SAKNAS, EJ = range(4)
PENDING = f"({BEDOMNING}, {SAKNAS})"      # no amount can be decided yet
READ = "duckdb"          # the dialect the steps are written in; sqlglot renders the others


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Step:
    name: str
    tree: exp.Expression

    def sql(self, dialect: str = READ) -> str:
        # every identifier quoted: Swedish names (å ä ö) are not bare identifiers everywhere
        return self.tree.sql(dialect=dialect, identify=True)

    def view(self, dialect: str = READ) -> str:
        """The step as a temporary view, in the dialect (what a cluster runs step by step)."""
        create = exp.Create(this=exp.to_table(self.name), kind="VIEW", replace=True,
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

def typed_step(spec: TableSpec | RecordSpec, kinds: dict[str, str]) -> Step:
    """Each declared column typed, with `<col>__fel`: the reason it is wrong, or NULL."""
    cols = ["_rad"]
    present = []
    for c in spec.columns.values():
        if c.name not in kinds:
            cols += [f"NULL AS {ident(c.name)}", f"CAST(NULL AS VARCHAR) AS {ident(c.name + '__fel')}"]
            continue
        value, error, blank = _typed(c, kinds[c.name])
        cols += [f"{value} AS {ident(c.name)}", f"{error} AS {ident(c.name + '__fel')}"]
        present.append((not c.required, kinds[c.name] == "text", blank))
    # a row of blank cells is no row (as the reference reads CSV); the cheap, usually filled
    # cells first, so the test stops early on almost every row
    blanks = [b for *_, b in sorted(present, key=lambda p: p[:2])]
    where = f" WHERE NOT ({' AND '.join(blanks)})" if blanks else ""
    return step(f"typ_{spec.name}", f"SELECT {', '.join(cols)} FROM in_{spec.name}{where}")


def _typed(c: ColumnSpec, kind: str) -> tuple[str, str, str]:
    col = ident(c.name)
    required = lit("värdet saknas men kolumnen är obligatorisk") if c.required else "NULL"
    native = {T.JANEJ: "bool", T.HELTAL: "int", T.DATUM: "date"}.get(c.type)
    if kind == native:
        error = f"CASE WHEN {col} IS NULL THEN {required}"
        if c.positive:
            error += f" WHEN {col} <= 0 THEN '`' || CAST({col} AS VARCHAR) || '` ska vara större än 0'"
        return col, error + " END", f"{col} IS NULL"
    t = f"NULLIF(TRIM(CAST({col} AS VARCHAR)), '')"
    shown = f"'`' || {t} || '` '"
    missing = f"CASE WHEN {t} IS NULL THEN {required}"
    if c.type == T.JANEJ:
        value = f"CASE LOWER({t}) WHEN 'ja' THEN TRUE WHEN 'nej' THEN FALSE END"
        error = f"{missing} WHEN LOWER({t}) NOT IN ('ja', 'nej') THEN {shown} || 'är inte ja eller nej' END"
    elif c.type == T.HELTAL:
        compact = f"REPLACE(REPLACE({t}, ' ', ''), '\u00a0', '')"
        ok = f"REGEXP_MATCHES({compact}, '^-?[0-9]{{1,18}}$')"
        value = f"CASE WHEN {ok} THEN TRY_CAST({compact} AS BIGINT) END"
        error = f"{missing} WHEN NOT {ok} THEN {shown} || 'är inget heltal'"
        if c.positive:
            error += f" WHEN TRY_CAST({compact} AS BIGINT) <= 0 THEN {shown} || 'ska vara större än 0'"
        error += " END"
    elif c.type == T.DATUM:
        ok = f"REGEXP_MATCHES({t}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$')"
        value = f"CASE WHEN {ok} THEN TRY_CAST({t} AS DATE) END"
        error = f"{missing} WHEN NOT {ok} OR TRY_CAST({t} AS DATE) IS NULL THEN {shown} || 'är inget datum' END"
    else:   # text, kod
        value = t
        error = missing
        if c.values:
            allowed = ", ".join(lit(v) for v in c.values)
            error += (f" WHEN {t} NOT IN ({allowed}) THEN {shown} || "
                      f"{lit('är inte ett av ' + ', '.join(c.values))}")
        error += " END"
    return value, error, f"{t} IS NULL"


def good_step(spec: TableSpec | RecordSpec) -> Step:
    """Rows with no error; for a keyed table, each key's first row (later ones are errors)."""
    ok = " AND ".join(f"{ident(c + '__fel')} IS NULL" for c in spec.columns) or "TRUE"
    if isinstance(spec, RecordSpec):
        return step(f"bra_{spec.name}", f"SELECT * FROM typ_{spec.name} WHERE {ok}")
    key = ident(spec.keys[0])
    return step(f"bra_{spec.name}",
                f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY _rad) AS _n, "
                f"MIN(_rad) OVER (PARTITION BY {key}) AS _först "
                f"FROM typ_{spec.name} WHERE {ok}")


def errors_step(plan: Plan, files: dict[str, str]) -> Step:
    """fil, rad, kolumn, meddelande (and the diagnostic's code, for the screen) — one row per
    wrong cell or repeated key, in file order."""
    parts = []
    for spec in plan.inputs:
        name = lit(files[spec.name])
        for i, c in enumerate(spec.columns):
            fel = ident(c + "__fel")
            parts.append(f"SELECT {name} AS fil, _rad AS rad, {i} AS _k, 'V204' AS kod, "
                         f"{lit(c)} AS kolumn, "
                         f"'rad ' || CAST(_rad AS VARCHAR) || {lit(', kolumn `' + c + '`: ')}"
                         f" || {fel} AS meddelande FROM typ_{spec.name} WHERE {fel} IS NOT NULL")
        if isinstance(spec, TableSpec):
            key = ident(spec.keys[0])
            parts.append(f"SELECT {name}, _rad, -1, 'V206', {lit(spec.keys[0])}, 'rad ' || "
                         f"CAST(_rad AS VARCHAR) || ': `' || {key} || '` finns redan på rad ' || "
                         f"CAST(_först AS VARCHAR) FROM bra_{spec.name} WHERE _n > 1")
    return step("fel", "SELECT fil, rad, kolumn, meddelande, kod FROM ("
                + " UNION ALL ".join(parts) + ") AS e ORDER BY fil, rad, _k")


# ---- recipients and their verdicts -------------------------------------------------------

class Compiler:
    """Requirements → SQL verdict codes, for one group. Aggregates become columns of `agg_*`."""

    def __init__(self, plan: Plan, group: GroupPlan):
        self.plan, self.group = plan, group
        self.aggregates: dict[str, list[tuple[str, ast.Expr]]] = {}   # record table → (id, node)

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
        a = self.aggregate(left)
        num, den = constant.numerator, constant.denominator
        if isinstance(left, ast.Count):   # antal: chosen · den op num
            return judged(f"{a}_o > 0", f"COALESCE({a}_k, 0) * {den} {op} {num}")
        # andel: chosen / rows op num / den  ⇔  chosen · den op num · rows (rows > 0)
        return judged(f"{a}_o > 0 OR {a}_n IS NULL OR {a}_n = 0",
                      f"{a}_k * {den} {op} {num} * {a}_n")

    def constant(self, e: ast.Expr):
        return constant_value(e, self.plan.model, self.plan.version)

    def aggregate(self, e: ast.Expr) -> str:
        mine = self.aggregates.setdefault(e.table, [])
        for aid, node in mine:
            if node == e:
                return f"{aid}"
        aid = f"a_{e.table}.a{len(mine)}"
        mine.append((aid, e))
        return aid


def _flatten(e: ast.Expr, op: str) -> list[ast.Expr]:
    if isinstance(e, ast.Logic) and e.op == op:
        return _flatten(e.left, op) + _flatten(e.right, op)
    return [e]


def aggregate_step(comp: Compiler, table: str, label: str | None = None) -> Step:
    """Per recipient: for each aggregate its rows (_n), chosen rows (_k), undecided rows (_o).

    Each record's `bland` and `där` verdicts are computed once, in an inner SELECT, and only
    counted outside it. For a `via` group over this table the same pass also yields the
    recipients themselves, with their names (`label`: the name column, first filled row)."""
    link = ident(comp.plan.model.records[table].links[comp.group.name])
    inner, counts = [f"{link} AS kod"], ["kod"]
    if label is not None:
        inner += [f"{ident(label)} AS _etikett", "_rad"]
        counts.append("MIN_BY(_etikett, _rad) FILTER (WHERE _etikett IS NOT NULL) AS _etikett")
    for aid, node in comp.aggregates.get(table, []):
        a = aid.split(".")[1]
        among = getattr(node, "among", None)
        inner.append(f"{comp.verdict(among, 't') if among is not None else UPPFYLLT} AS {a}_b")
        inner.append(f"{comp.verdict(node.where, 't') if node.where is not None else UPPFYLLT}"
                     f" AS {a}_w")
        b, w = f"{a}_b", f"{a}_w"
        counts += [f"COUNT(*) FILTER (WHERE {b} = 0) AS {a}_n",
                   f"COUNT(*) FILTER (WHERE {b} = 0 AND {w} = 0) AS {a}_k",
                   (f"COUNT(*) FILTER (WHERE {b} IN {PENDING} OR ({b} = 0 AND {w} IN {PENDING}))"
                    f" AS {a}_o")]
    return step(f"agg_{comp.group.name}_{table}",
                f"SELECT {', '.join(counts)} FROM (SELECT {', '.join(inner)} FROM bra_{table} "
                f"AS t WHERE {link} IS NOT NULL) AS p GROUP BY kod")


def verdict_steps(plan: Plan, group: GroupPlan) -> list[Step]:
    """mot_<g>: _kod, _namn, _ord, one `v_<id>` per villkor (and `_nyckel` for the pot)."""
    comp = Compiler(plan, group)
    vids = [vid for vid in plan.villkor if applies_to(plan.version, vid) == group.name]
    verdicts = [f"{comp.verdict(plan.villkor[vid])} AS {ident('v_' + vid)}" for vid in vids]
    own = None if group.keyed else group.table    # a `via` group's recipients come from here
    if own is not None:
        comp.aggregates.setdefault(own, [])
    steps = [aggregate_step(comp, table, group.name_column if table == own else None)
             for table in comp.aggregates]
    alias = f"a_{own}" if own else "m"
    joins = "".join(f" LEFT JOIN agg_{group.name}_{table} AS a_{table} ON a_{table}.kod = "
                    f"{alias}._kod" for table in comp.aggregates if table != own)
    if group.keyed:
        name = ident(group.name_column) if group.name_column else ident(group.key)
        key = ident(group.key)
        base = (f"SELECT {key} AS _kod, COALESCE(CAST({name} AS VARCHAR), {key}) AS _namn, "
                f"_rad AS _ord, * FROM bra_{group.table} WHERE _n = 1")
        extra = [f"m.{ident(group.pot.key_column)} AS _nyckel"] if group.pot else []
    else:
        label = "_etikett" if group.name_column else "NULL"
        base = (f"SELECT kod AS _kod, COALESCE(CAST({label} AS VARCHAR), kod) AS _namn, "
                f"ROW_NUMBER() OVER (ORDER BY kod) AS _ord, * FROM agg_{group.name}_{own}")
        extra = []
    cols = ", ".join([f"{alias}._kod", f"{alias}._namn", f"{alias}._ord", *verdicts, *extra])
    steps.append(step(f"mot_{group.name}", f"SELECT {cols} FROM ({base}) AS {alias}{joins} "
                      f"ORDER BY {alias}._ord"))
    return steps


# ---- payments and output rows ------------------------------------------------------------

def key_total_step(group: GroupPlan) -> Step:
    v = ident("v_" + group.pot.payment.villkor)
    return step(f"nyckel_{group.name}",
                f"SELECT COALESCE(SUM(_nyckel) FILTER (WHERE {v} = 0 AND _nyckel >= 0), 0) "
                f"AS total, COUNT(*) FILTER (WHERE {v} = 0 AND _nyckel >= 0) AS n, "
                f"COALESCE(MAX(ABS(_nyckel)), 0) AS störst FROM mot_{group.name}")


def share_step(group: GroupPlan) -> Step:
    """Each line's verdict (`_lv`), its share in units of u öre (half up), ⌊P·k/T⌋ and the rest,
    and both amounts as text, computed once for the villkor row and the summa row. T comes from
    the one-row `nyckel_<g>`; a zero T shares nothing (every share is 0)."""
    pot = group.pot
    v = ident("v_" + pot.payment.villkor)
    p, u = pot.pot_ore, pot.unit_ore
    lv = f"CASE WHEN {v} = 0 AND _nyckel < 0 THEN {BEDOMNING} ELSE {v} END"
    units = f"CASE WHEN n.total = 0 THEN 0 ELSE (2 * {p} * _nyckel + {u} * n.total) // " \
            f"(2 * {u} * n.total) END"
    q = f"CASE WHEN n.total = 0 THEN 0 ELSE ({p} * _nyckel) // n.total END"
    r = f"CASE WHEN n.total = 0 THEN 0 ELSE ({p} * _nyckel) % n.total END"
    inner = (f"SELECT m.*, n.total AS _total, {lv} AS _lv, CASE WHEN ({lv}) = 0 THEN {units} "
             f"END AS _enheter, CASE WHEN ({lv}) = 0 THEN {q} END AS _q, CASE WHEN ({lv}) = 0 "
             f"THEN {r} END AS _r FROM mot_{group.name} AS m CROSS JOIN nyckel_{group.name} AS n")
    # the exact share to 6 decimals (half up) in millionths of a krona, computed once
    micro = (f"SELECT *, CASE WHEN _r <> 0 THEN _q * 10000 + (2 * _r * 10000 + _total) // "
             f"(2 * _total) END AS _mikro FROM ({inner}) AS s")
    return step(f"andel_{group.name}",
                f"SELECT *, CASE _lv WHEN 0 THEN {money(f'_enheter * {u}')} WHEN {EJ} THEN '0' END "
                f"AS _belopp, CASE _lv WHEN 0 THEN {exact()} WHEN {EJ} THEN '0' END AS _exakt "
                f"FROM ({micro}) AS s2 ORDER BY _ord")


def money(ore: str) -> str:
    """Integer öre → `577898` or `577898.50` (no negative amounts reach here)."""
    return (f"CASE WHEN ({ore}) % 100 = 0 THEN CAST(({ore}) // 100 AS VARCHAR) ELSE "
            f"CAST(({ore}) // 100 AS VARCHAR) || '.' || LPAD(CAST(({ore}) % 100 AS VARCHAR), 2, "
            f"'0') END")


def exact() -> str:
    """The exact share: whole öre as money, otherwise 6 decimals half up, zeros stripped."""
    text = ("CAST(_mikro // 1000000 AS VARCHAR) || '.' || "
            "LPAD(CAST(_mikro % 1000000 AS VARCHAR), 6, '0')")
    # six decimals always: stripping zeros stops at the point, then the point goes if bare
    stripped = f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {text}))"
    return f"CASE WHEN _r = 0 THEN {money('_q')} ELSE {stripped} END"


def rows_step(plan: Plan, group: GroupPlan, order: int) -> Step:
    """Every output row of the group: one per villkor, then `summa`, with ordering columns."""
    version = plan.version
    source = f"andel_{group.name}" if group.pot else f"mot_{group.name}"
    parts = []
    for i, vid in enumerate(group.villkor):
        v = version.villkor[vid]
        origin = lit(version.origin.get(("villkor", vid), ""))
        code = ident("v_" + vid)
        if group.pot is not None and group.pot.payment.villkor == vid:
            pay = group.pot.payment
            amount, exakt = "_belopp", "_exakt"
            note = (f"CASE WHEN _lv IN {PENDING} THEN {verdict_text('_lv')} || "
                    f"': beloppet kan inte bestämmas' || CASE WHEN {code} = 0 AND _nyckel < 0 "
                    f"THEN '; negativ fördelningsnyckel ' || CAST(_nyckel AS VARCHAR) ELSE '' END"
                    " END")
            due = f"'{pay.due.isoformat()}'" if pay.due else "NULL"
            parts.append(_row(i, lit(vid), verdict_text("_lv"), amount, exakt, due,
                              origin, lit(sources_text(pay.sources)) if pay.sources else "NULL",
                              note))
        else:
            parts.append(_row(i, lit(vid), verdict_text(code), "NULL", "NULL", "NULL",
                              origin, lit(sources_text(v.sources)) if v.sources else "NULL",
                              lit("ingen utbetalning är knuten till villkoret")))
    label = lit(version.label)
    n = len(group.villkor)
    if group.pot is not None:
        vid = group.pot.payment.villkor
        known = f"_lv IN ({UPPFYLLT}, {EJ})"
        parts.append(_row(
            n, "'summa'", verdict_text("_lv"),
            "_belopp", "_exakt", "NULL", label, "NULL",
            f"CASE WHEN {known} THEN 'summan av de avrundade beloppen' ELSE "
            f"{lit(f'inget belopp är känt ännu; ofullständig: villkor {vid} saknar belopp och ingår inte')}"
            " END"))
    elif n:
        every = v_and([ident("v_" + vid) for vid in group.villkor])
        parts.append(_row(n, "'summa'", verdict_text(every), "'0'", "'0'", "NULL", label,
                          "NULL", lit("inga utbetalningar gäller mottagaren")))
    where = ""
    if not parts:   # a group nothing applies to has no rows
        parts, where = [_row(0, *["NULL"] * 8)], " WHERE FALSE"
    # one list per recipient, unnested: its rows come out together and in order (no sort)
    return step(f"rader_{group.name}", f"SELECT {order} AS _g, _ord, UNNEST([{', '.join(parts)}]) "
                f"AS r FROM {source} AS t{where}")


def _row(vord: int, villkor: str, utfall: str, belopp: str, exakt: str, due: str,
         version: str, source: str, note: str) -> str:
    """One output row as a struct; a recipient's rows are one list, unnested in order."""
    fields = {"_v": str(vord), "mottagare": "_kod", "namn": "_namn", "villkor": villkor,
              "utfall": utfall, "belopp": f"CAST({belopp} AS VARCHAR)",
              "exakt_belopp": f"CAST({exakt} AS VARCHAR)",
              "betalas_senast": f"CAST({due} AS VARCHAR)",
              "version": f"CAST({version} AS VARCHAR)", "källa": f"CAST({source} AS VARCHAR)",
              "anmärkning": f"CAST({note} AS VARCHAR)"}
    return "{" + ", ".join(f"{lit(k)}: {v}" for k, v in fields.items()) + "}"


OUTPUT = ("mottagare", "namn", "villkor", "utfall", "belopp", "exakt_belopp", "betalas_senast",
          "version", "källa", "anmärkning")


def result_query(groups: list[str]) -> Step:
    """The output rows in recipient order. A runner that knows its steps kept that order (one
    group, rows unnested in order) may leave the ORDER BY out: `without_order`."""
    union = " UNION ALL ".join(f"SELECT * FROM rader_{g}" for g in groups)
    cols = ", ".join(f"x.r.{ident(c)} AS {ident(c)}" for c in OUTPUT)
    return step("resultat", f"SELECT {cols} FROM ({union}) AS x ORDER BY x._g, x._ord, x.r._v")


def without_order(st: Step) -> Step:
    tree = st.tree.copy()
    tree.set("order", None)
    return Step(st.name, tree)


def counts_step(group: GroupPlan) -> Step:
    u = group.pot.unit_ore
    counts = ", ".join(f"COUNT(*) FILTER (WHERE _lv = {i}) AS c{i}" for i in range(4))
    return step(f"räkna_{group.name}",
                f"SELECT {counts}, COALESCE(SUM(_enheter * {u}) FILTER (WHERE _lv = 0), 0) AS "
                f"utbetalt FROM andel_{group.name}")


def all_steps(plan: Plan, kinds: dict[str, dict[str, str]], files: dict[str, str]
              ) -> list[Step]:
    """The whole plan, in order: what the DuckDB runner executes and `villkor sql` prints."""
    steps = []
    for spec in plan.inputs:
        steps += [typed_step(spec, kinds[spec.name]), good_step(spec)]
    steps.append(errors_step(plan, files))
    for i, group in enumerate(plan.groups):
        steps += verdict_steps(plan, group)
        if group.pot:
            steps += [key_total_step(group), share_step(group), counts_step(group)]
        steps.append(rows_step(plan, group, i))
    steps.append(result_query([g.name for g in plan.groups]))
    return steps


def script(steps: list[Step], dialect: str = READ) -> str:
    """The plan as one SQL script: each step a temporary view, the result a final SELECT."""
    parts = [f"-- {st.name}\n{st.view(dialect)};" for st in steps[:-1]]
    parts.append(f"-- {steps[-1].name}\n{steps[-1].sql(dialect)};")
    return "\n\n".join(parts) + "\n"
