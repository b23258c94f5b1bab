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
from pathlib import PurePath

import sqlglot
from sqlglot import exp

from ..eval.engine import PRELIMINARY, UNPAID, sources_text
from ..eval.shares import ZERO_KEY
from ..io import cells as C
from ..model import types as T
from ..model.model import ColumnSpec, RecordSpec, TableSpec
from ..syntax import ast
from .plan import (
    AmountPlan,
    GroupPlan,
    Plan,
    PotPlan,
    applies_to,
    constant_value,
    total_denominator,
)

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
KRAV, MATT, MANGEL = own("krav"), own("mått"), own("mangel")   # a payment's own krav, measure
TAL, NAMNARE, TECKEN = own("tal"), own("nämnare"), own("tecken")   # exact öre = ±tal/nämnare
BEHORIG = own("behörig")    # a per-member payment's gates (villkor, krav) before its amount


@dataclass(frozen=True)
class LineCols:
    """One payment line's columns in `mot_*` and `andel_*` (the names above for the first
    line; a group with several payments numbers the others' columns)."""

    lv: str
    tal: str
    namnare: str
    total: str
    enheter: str
    q: str
    r: str
    tecken: str
    mikro: str
    belopp: str
    exakt: str
    behorig: str
    krav: str
    matt: str
    mangel: str
    vantar: str


_LINE_BASES = {"lv": "lv", "tal": "tal", "namnare": "nämnare", "total": "total",
               "enheter": "enheter", "q": "q", "r": "r", "tecken": "tecken", "mikro": "mikro",
               "belopp": "belopp", "exakt": "exakt", "behorig": "behörig", "krav": "krav",
               "matt": "mått", "mangel": "mangel", "vantar": "väntar"}


def line_cols(k: int) -> LineCols:
    return LineCols(**{f: own(b if k == 0 else f"{b}{k}") for f, b in _LINE_BASES.items()})


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

    def line(self, kind: str, group: str, k: int) -> str:
        """`andel`, `räkna`: one view per payment line; the first one's is the group's."""
        return self.group(kind, group) + (f"_{k}" if k else "")

    def aggregate(self, group: str, table: str) -> str:
        return f"agg_{self.groups[group]}_{self.tables[table]}_{group}_{table}"

    def side(self, table: str) -> str:
        """A table with one row per member, joined to the members."""
        return own(f"s{self.tables[table]}")

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
    """uppfyllt ⇄ ej, the rest unchanged: `inte`, and the map between och- and eller-order.
    A lookup that names its operand once: a CASE naming it twice made the SQL of nested
    `inte (… eller …)` grow eightfold per level."""
    return f"CAST(SUBSTRING('3120', ({code}) + 1, 1) AS INTEGER)"


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

OTHER = MARK + "annat"   # from the runner, when the file has undeclared columns: one is filled
TRIMMED = "trimmed"      # a column's kind: text the runner has trimmed already (io/cells.py)


def typed_step(spec: TableSpec | RecordSpec, kinds: dict[str, str], names: Names) -> Step:
    """Each declared column typed, with `<col>§fel`: the reason it is wrong, or NULL.

    Every cell is read by the rules of io/cells.py, as the reference reads it. A row whose every
    cell is blank is no row; `§annat` (in `kinds` when the runner's `in_` view has it: true when
    one of the file's undeclared cells holds something) keeps a row whose declared cells are all
    blank, so its blank `obligatorisk` cells are errors, as in the reference.

    The input is read in stages, a subquery each (`_staged`): the first trims each text cell
    once (`<col>§t`), the later ones derive from it what its type needs, each once per row (see
    `_typed`); the outer SELECT only names them."""
    cols = [ROW]
    present = []
    passed = [ROW] + ([ident(OTHER)] if OTHER in kinds else [])   # through the stages
    stages: list[list[str]] = []
    for c in spec.columns.values():
        if c.name not in kinds:
            cols += [f"NULL AS {ident(c.name)}", f"CAST(NULL AS VARCHAR) AS {fault(c.name)}"]
            continue
        value, error, blank, own_stages = _typed(c, kinds[c.name])
        if not own_stages:      # a native column: read as it is
            passed.append(ident(c.name))
        for depth, columns in enumerate(own_stages):
            if depth == len(stages):
                stages.append([])
            stages[depth] += columns
        cols += [f"{value} AS {ident(c.name)}", f"{error} AS {fault(c.name)}"]
        present.append((not c.required, kinds[c.name] in ("text", TRIMMED), blank))
    # a row of blank cells is no row (io/cells.py); the cheap, usually filled cells first, so
    # the test stops early on almost every row
    blanks = [b for *_, b in sorted(present, key=lambda p: p[:2])]
    if OTHER in kinds:
        blanks.append(f"NOT {ident(OTHER)}")
    where = f" WHERE NOT ({' AND '.join(blanks)})" if blanks else ""
    source = _staged(ident(names.table("in", spec.name)), passed, stages)
    return step(names.table("typ", spec.name), f"SELECT {', '.join(cols)} FROM {source}{where}")


def _staged(source: str, passed: list[str], stages: list[list[str]]) -> str:
    """`source` read in stages, as a FROM clause: the first stage selects the columns `passed`
    and its own (`expr AS name`) from it, each later one adds its own to all before. A column
    derived once, in its stage, is named in the next as often as needed: no expression is
    repeated inside another."""
    if not stages:
        return source
    select = f"SELECT {', '.join(passed + stages[0])} FROM {source}"
    for depth, columns in enumerate(stages[1:], 1):
        select = f"SELECT *, {', '.join(columns)} FROM ({select}) AS {own(str(depth))}"
    return f"({select}) AS {own(str(len(stages)))}"


def _part(column: str, what: str) -> str:
    """A column of a declared column's stages (`<col>§t`, …), quoted: holding `§`, it is no
    user's column, and `what` keeps one column's stages apart."""
    return ident(column + MARK + what)


def _text(col: str, kind: str) -> str:
    """A cell that is not of its column's native type, as trimmed text, NULL when blank: a typed
    cell as the reference's reader gives it (ja/nej for a boolean, ISO for a date)."""
    text = f"CASE WHEN {col} THEN 'ja' WHEN NOT {col} THEN 'nej' END" if kind == "bool" \
        else f"CAST({col} AS VARCHAR)"
    return f"NULLIF({text}, '')" if kind == TRIMMED else f"NULLIF({C.sql_trim(text)}, '')"


def _typed(c: ColumnSpec, kind: str) -> tuple[str, str, str, list[list[str]]]:
    """(value, reason it is wrong or NULL, blank, stages) for one declared column: the rules and
    the messages of io/cells.py, which the reference's `parse_cell` follows too. `stages` (for
    `_staged`; none for a native column) computes the trimmed text `<col>§t` and, from it, what
    the type needs: for a number its text without spaces `<col>§k` and its value `<col>§v`
    (NULL when the text is no value); value, reason and blank name those columns."""
    col = ident(c.name)
    required = lit(C.REQUIRED) if c.required else "NULL"
    native = {T.JANEJ: "bool", T.HELTAL: "int", T.DATUM: "date"}.get(c.type)
    if kind == native:
        error = f"CASE WHEN {col} IS NULL THEN {required}"
        if c.type == T.HELTAL:   # a 64-bit integer may still have 19 digits
            text = f"CAST({col} AS VARCHAR)"
            error += (f" WHEN {col} >= {C.INTEGER_LIMIT} OR {col} <= -{C.INTEGER_LIMIT} THEN "
                      f"{C.sql_too_many_digits(text, text)}")
        if c.positive:
            error += (f" WHEN {col} <= 0 THEN '`' || CAST({col} AS VARCHAR) || "
                      f"{lit('` ' + C.NOT_POSITIVE)}")
        # a native 8/16/32-bit integer (Parquet) is widened: öre and key products need 64
        value = f"TRY_CAST({col} AS BIGINT)" if c.type == T.HELTAL else col
        return value, error + " END", f"{col} IS NULL", []
    t, v = _part(c.name, "t"), _part(c.name, "v")
    stages = [[f"{_text(col, kind)} AS {t}"]]
    shown = f"'`' || {t} || '` '"
    missing = f"CASE WHEN {t} IS NULL THEN {required}"
    # past `missing` the text is there: a NULL `v` is then a text that is no value
    if c.type == T.JANEJ:
        stages.append([f"CASE LOWER({t}) WHEN 'ja' THEN TRUE WHEN 'nej' THEN FALSE END AS {v}"])
        value = v
        error = f"{missing} WHEN {v} IS NULL THEN {shown} || {lit(C.NOT_YES_NO)} END"
    elif c.type == T.HELTAL:
        k = _part(c.name, "k")
        stages.append([f"{C.sql_integer_compact(t)} AS {k}"])
        # at most 18 digits always fit in BIGINT: `v` is NULL only when there are more
        stages.append([f"CASE WHEN REGEXP_MATCHES({k}, {lit(C.SQL_INTEGER)}) THEN "
                       f"TRY_CAST({k} AS BIGINT) END AS {v}"])
        value = v
        error = (f"{missing} WHEN NOT REGEXP_MATCHES({k}, {lit(C.SQL_INTEGER_DIGITS)}) THEN "
                 f"{shown} || {lit(C.NOT_INTEGER)} "
                 f"WHEN {v} IS NULL THEN {C.sql_too_many_digits(t, k)}")
        if c.positive:
            error += f" WHEN {v} <= 0 THEN {shown} || {lit(C.NOT_POSITIVE)}"
        error += " END"
    elif c.type == T.BELOPP:
        value, error, amount = _amount(c, shown, missing)
        stages += amount
    elif c.type == T.DATUM:
        # ÅÅÅÅ-MM-DD, a real date from year 0001 (DuckDB has a year 0; Python does not)
        ok = f"REGEXP_MATCHES({t}, {lit(C.SQL_DATE)}) AND NOT starts_with({t}, '0000')"
        stages.append([f"CASE WHEN {ok} THEN TRY_CAST({t} AS DATE) END AS {v}"])
        value = v
        error = f"{missing} WHEN {v} IS NULL THEN {shown} || {lit(C.NOT_DATE)} END"
    else:   # text, kod
        value = t
        error = missing
        if c.values:
            allowed = ", ".join(lit(v) for v in c.values)
            error += (f" WHEN {t} NOT IN ({allowed}) THEN {shown} || "
                      f"{lit(C.not_one_of(c.values))}")
        error += " END"
    return value, error, f"{t} IS NULL", stages


def _amount_parts(name: str) -> tuple[list[list[str]], str, str, str]:
    """A belopp cell read as the reference reads it (spaces out, an optional `kr`, `,` or `.`),
    from its trimmed text `<name>§t`: (the stages after it, ending in the value in öre
    `<name>§v`, NULL unless a number that fits; is a number, ends in `%`, fits öre in 64 bits),
    the last three true on the stage before the value."""
    k, b, n, ok, kr, dec, v = (_part(name, w) for w in ("k", "b", "n", "ok", "kr", "dec", "v"))
    t = _part(name, "t")
    fits = f"(LENGTH({kr}) <= 16 AND LENGTH({dec}) <= 2)"
    ore = (f"(CASE WHEN LEFT({n}, 1) = '-' THEN -1 ELSE 1 END) * (CAST({kr} AS BIGINT) * 100 "
           f"+ CAST(RPAD({dec}, 2, '0') AS BIGINT))")
    stages = [
        [f"REPLACE(REPLACE({t}, ' ', ''), '\u00a0', '') AS {k}"],                  # no spaces
        [f"CASE WHEN RIGHT({k}, 1) = '%' THEN LEFT({k}, LENGTH({k}) - 1) ELSE {k} END AS {b}"],
        [f"CASE WHEN RIGHT({b}, 2) = 'kr' THEN LEFT({b}, LENGTH({b}) - 2) ELSE {b} END AS {n}"],
        [f"(REGEXP_MATCHES({n}, '^-?[0-9]+([.,][0-9]+)?$') AND LENGTH({n}) <= 100) AS {ok}",
         f"REGEXP_EXTRACT({n}, '^-?([0-9]+)', 1) AS {kr}",       # the kronor's digits
         f"REGEXP_EXTRACT({n}, '[.,]([0-9]+)$', 1) AS {dec}"],   # the decimals
        [f"CASE WHEN {ok} AND {fits} THEN {ore} END AS {v}"],
    ]
    return stages, ok, f"RIGHT({k}, 1) = '%'", fits


def _amount(c: ColumnSpec, shown: str, missing: str) -> tuple[str, str, list[list[str]]]:
    """A belopp cell, held in öre: (value, reason, the stages after `<col>§t`). A figure finer
    than öre, or above 16 digits of kronor, is no error — the reference reads it — but the plan
    cannot hold it: `beyond_step` counts such cells, and the runner then leaves the run to the
    reference."""
    stages, ok, percent, _ = _amount_parts(c.name)
    v = _part(c.name, "v")
    error = (f"{missing} WHEN NOT {ok} THEN {shown} || 'är inget tal' WHEN {percent} THEN "
             f"{shown} || 'är en procentsats, men kolumnen är belopp'")
    if c.positive:    # a number here: `v` is NULL only when it does not fit
        error += f" WHEN {v} <= 0 THEN {shown} || 'ska vara större än 0'"
    return v, error + " END", stages


BEYOND = "gränser"


def beyond_step(plan: Plan, kinds: dict[str, dict[str, str]], names: Names) -> Step | None:
    """One row, one count: belopp cells the reference reads but öre in 64 bits cannot hold."""
    parts = []
    for spec in plan.inputs:
        for c in spec.columns.values():
            kind = kinds[spec.name].get(c.name)
            if c.type == T.BELOPP and kind is not None:
                stages, ok, _, fits = _amount_parts(c.name)
                trimmed = [f"{_text(ident(c.name), kind)} AS {_part(c.name, 't')}"]
                source = _staged(ident(names.table("in", spec.name)), [],
                                 [trimmed, *stages[:-1]])     # not the value: its bounds
                parts.append(f"SELECT COUNT(*) AS {own('n')} FROM {source} "
                             f"WHERE {ok} AND NOT {fits}")
    if not parts:
        return None
    return step(BEYOND, f"SELECT SUM({own('n')}) AS {own('n')} FROM ("
                + " UNION ALL ".join(parts) + ") AS b")


def _ok(spec: TableSpec | RecordSpec) -> str:
    return " AND ".join(f"{fault(c)} IS NULL" for c in spec.columns) or "TRUE"


def good_step(spec: TableSpec | RecordSpec, names: Names, plan: Plan | None = None) -> Step:
    """Rows with no error; for a keyed table, each key's first row (later ones are errors); for
    a table with a row per member, only rows of known members (the others are errors)."""
    ok = _ok(spec)
    typed = ident(names.table("typ", spec.name))
    if isinstance(spec, RecordSpec):
        return step(names.table("bra", spec.name), f"SELECT * FROM {typed} WHERE {ok}")
    key = ident(spec.keys[0])
    known = known_codes(plan, spec, names) if plan is not None else None
    if known is not None:
        ok += f" AND COALESCE({key}, '') IN ({known})"
    return step(names.table("bra", spec.name),
                f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {ROW}) AS {N}, "
                f"MIN({ROW}) OVER (PARTITION BY {key}) AS {FIRST} FROM {typed} WHERE {ok}")


def known_codes(plan: Plan, spec: TableSpec, names: Names) -> str | None:
    """The codes a table with a row per member may name (as the reference's loader): the
    members, and the keys of the defining table's rows rejected for a bad cell (no cascade of
    errors); None where nothing is checked (the defining table, a `via` group)."""
    group = next((g for g in plan.groups if g.name == spec.group), None)
    if group is None or spec.name not in group.sides:
        return None
    if group.members:
        return "SELECT * FROM (VALUES " + ", ".join(f"({lit(code)})" for code, _ in
                                                     group.members) + ") AS v(k)"
    if not group.keyed:
        return None
    defining = next(t for t in plan.inputs if t.name == group.table)
    key = ident(group.key)
    return (f"SELECT {key} FROM {ident(names.table('bra', group.table))} WHERE {N} = 1 "
            f"UNION ALL SELECT {key} FROM {ident(names.table('typ', group.table))} WHERE NOT "
            f"({_ok(defining)}) AND {key} IS NOT NULL AND {fault(group.key)} IS NULL")


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
        known = known_codes(plan, spec, names) if isinstance(spec, TableSpec) else None
        if isinstance(spec, TableSpec) and known is not None:
            kcol = spec.keys[0]
            key = f"COALESCE({ident(kcol)}, '')"
            parts.append(f"SELECT {name}, {ROW}, {list(spec.columns).index(kcol)}, 'V205', "
                         f"{lit(kcol)}, 'rad ' || CAST({ROW} AS VARCHAR) || "
                         f"{lit(', kolumn `' + kcol + '`: okänd mottagare `')} || {key} || '`' "
                         f"FROM {typed} WHERE {_ok(spec)} AND {key} NOT IN ({known})")
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

    def __init__(self, plan: Plan, group: GroupPlan | None, names: Names,
                 kinds: dict[str, dict[str, str]] | None = None):
        self.plan, self.group, self.names = plan, group, names
        self.kinds = kinds or {}     # table → the columns its file has (and their kinds)
        self.base = "m"              # the members' alias in `mot_*` (set by verdict_steps)
        self.aggregates: dict[str, list[tuple[str, Aggregate]]] = {}   # table → (id, node)
        self.reasons: set[int] = set()   # aggregates whose first undecided record is told

    def verdict(self, e: ast.Expr, row: str | None = None) -> str:
        """`row` is the record-level alias inside an aggregate; None at the recipient level."""
        if isinstance(e, ast.VerdictLit):
            return str(VERDICTS.index(e.value))
        if isinstance(e, ast.VillkorRef):
            return f"({self.villkor_code(e.vid, row)})"
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
        if isinstance(e, ast.Bool):        # `krav ja`: as the reference's as_verdict
            return str(UPPFYLLT if e.value else EJ)
        if isinstance(e, ast.ColumnRef):   # a ja/nej column alone: as `är ja`
            return self.verdict(ast.Is(e, "ja", e.span), row)
        if isinstance(e, ast.Between):
            col = self.column(e.operand, row)
            return judged(f"{col} IS NULL", f"{col} BETWEEN DATE '{e.start.isoformat()}' "
                                            f"AND DATE '{e.end.isoformat()}'")
        if isinstance(e, ast.Compare):
            return self.compare(e, row)
        raise AssertionError(type(e))   # the plan admits nothing else

    def column(self, e: ast.Expr, row: str | None) -> str:
        assert isinstance(e, ast.ColumnRef)
        if row is None and self.group is not None and e.table in self.group.sides:
            return f"{self.names.side(e.table)}.{ident(e.column)}"
        return f"{row or 'm'}.{ident(e.column)}"

    def why_blank(self, e: ast.ColumnRef) -> str:
        """Why a column of the member's row has no value, in the reference's words (`_column`),
        or NULL: no file, no such column in it, no row for the member, a blank cell."""
        spec = self.plan.model.tables[e.table]
        file = PurePath(spec.file).name
        kinds = self.kinds.get(e.table)
        if not kinds:      # the runner registers an absent (valfri) file with no columns
            return lit(f"filen {spec.file} finns inte (tabellen {e.table})")
        if e.column not in kinds:
            return lit(f"kolumnen {e.column} finns inte i {spec.file}")
        row = f"{self.names.side(e.table)}.{ROW}" if self.group is not None and \
            e.table in self.group.sides else f"m.{ROW}"
        col = self.column(e, None)
        return (f"CASE WHEN {row} IS NULL THEN {lit(file + ' har ingen rad för ')} || "
                f"{self.base}.{KOD} "
                f"WHEN {col} IS NULL THEN {lit(file + ' rad ')} || CAST({row} AS VARCHAR) || "
                f"{lit(': ' + e.column + ' är tom')} END")

    def absent(self, table: str) -> bool:
        """A record table whose (valfri) file is not there: the runner registers it with no
        columns. Its aggregates are missing, as the reference's `filen … finns inte`."""
        return bool(self.kinds) and table in self.plan.model.records and \
            not self.kinds.get(table)

    def villkor_code(self, vid: str, row: str | None = None) -> str:
        """A villkor's verdict: its requirement, and its report deadline if it has one."""
        code = self.verdict(self.plan.villkor[vid], row)
        v = self.plan.version.villkor.get(vid)
        if v is None or v.report_due is None:
            return code
        return v_and([code, self.deadline(v)])

    def deadline(self, v: ast.Villkor) -> str:
        """`redovisas senast D enligt T.k`, as the reference's `_deadline`: a column (or file)
        the data leaves out is not tested (uppfyllt); a blank date, or no row, is missing; a
        date after D is the `vid försening` verdict."""
        due = v.report_due
        assert due is not None
        if due.column not in self.kinds.get(due.table, {}):
            return str(UPPFYLLT)
        col = self.column(ast.ColumnRef(due.table, due.column, due.span), None)
        late = VERDICTS.index(v.late_verdict or "bedömning krävs")
        return (f"CASE WHEN {col} IS NULL THEN {SAKNAS} WHEN {col} > DATE "
                f"'{due.due.isoformat()}' THEN {late} ELSE {UPPFYLLT} END")

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
            spec = self.plan.model.records.get(left.table) or self.plan.model.tables[left.table]
            if spec.columns[left.column].type == T.BELOPP:   # held in öre
                constant *= 100
            num, den = constant.numerator, constant.denominator
            scaled = col if den == 1 else f"{col} * {den}"
            return judged(f"{col} IS NULL", f"{scaled} {op} {num}")
        if not isinstance(left, (ast.Count, ast.ShareOf)):   # the plan admits nothing else
            raise AssertionError(type(left))
        if self.absent(left.table):   # as the reference: no file, no count (underlag saknas)
            return str(SAKNAS)
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

    def measure(self, e: ast.TotalOf | ast.Count) -> tuple[str, str]:
        """`summa(…)` or `antal(…)` of the recipient's records as a payment's measure: its value
        (a whole number in SQL: öre for a belopp column, 0 without records) and why it is
        missing (NULL when it is not), in the reference's words: the first undecided record,
        else (summa) the first blank cell."""
        self.aggregate(e)
        self.reasons.add(id(e))
        aid = next(aid for aid, node in self.aggregates[e.table] if node == e)
        alias = self.names.alias(e.table)
        s, k, o, z, fl, fv = (f"{alias}.{own(aid + '_' + part)}"
                              for part in ("s", "k", "o", "z", "fl", "fv"))
        spec = self.plan.model.records[e.table]
        if self.absent(e.table):
            return "0", lit(f"filen {spec.file} finns inte (tabellen {e.table})")
        file = PurePath(spec.file).name
        why = (f"CASE WHEN COALESCE({o}, 0) > 0 THEN CAST({o} AS VARCHAR) || "
               f"{lit(' poster i ' + file + ' kan inte prövas (t.ex. rad ')} || "
               f"CAST({fl} AS VARCHAR) || ': ' || {verdict_text(fv)} || ')' ")
        if isinstance(e, ast.Count):
            return f"COALESCE({k}, 0)", why + "END"
        return f"COALESCE({s}, 0)", (why + f"WHEN {z} IS NOT NULL THEN {lit(file + ' rad ')} || "
                                     f"CAST({z} AS VARCHAR) || "
                                     f"{lit(': ' + e.column + ' är tom')} END")


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
    assert comp.group is not None   # a group's aggregates
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
        if isinstance(node, ast.TotalOf):
            x = own(aid + "_x")
            inner.append(f"t.{ident(node.column)} AS {x}")
            chosen = f"{b} = 0 AND {w} = 0"
            counts += [f"SUM({x}) FILTER (WHERE {chosen}) AS {own(aid + '_s')}",
                       f"MIN({ROW}) FILTER (WHERE {chosen} AND {x} IS NULL) AS "
                       f"{own(aid + '_z')}"]
        if isinstance(node, ast.TotalOf) or id(node) in comp.reasons:
            if f"t.{ROW} AS {ROW}" not in inner:
                inner.append(f"t.{ROW} AS {ROW}")
            counts += [f"COALESCE(MIN({ROW}) FILTER (WHERE {b} IN {PENDING}), MIN({ROW}) FILTER "
                       f"(WHERE {b} = 0 AND {w} IN {PENDING})) AS {own(aid + '_fl')}",
                       f"CASE WHEN COUNT(*) FILTER (WHERE {b} IN {PENDING}) > 0 THEN "
                       f"MIN_BY({b}, {ROW}) FILTER (WHERE {b} IN {PENDING}) ELSE MIN_BY({w}, "
                       f"{ROW}) FILTER (WHERE {b} = 0 AND {w} IN {PENDING}) END AS "
                       f"{own(aid + '_fv')}"]
        counts += [f"COUNT(*) FILTER (WHERE {b} = 0) AS {own(aid + '_n')}",
                   f"COUNT(*) FILTER (WHERE {b} = 0 AND {w} = 0) AS {own(aid + '_k')}",
                   (f"COUNT(*) FILTER (WHERE {b} IN {PENDING} OR ({b} = 0 AND {w} IN {PENDING}))"
                    f" AS {own(aid + '_o')}")]
    good = ident(comp.names.table("bra", table))
    return step(comp.names.aggregate(comp.group.name, table),
                f"SELECT {', '.join(counts)} FROM (SELECT {', '.join(inner)} FROM {good} "
                f"AS t WHERE {link} IS NOT NULL) AS p GROUP BY {KOD}")


def verdict_steps(plan: Plan, group: GroupPlan, names: Names,
                  kinds: dict[str, dict[str, str]] | None = None) -> list[Step]:
    """mot_<j>_<g>: `§kod`, `§namn`, `§ord`, one `§v<id>` per villkor (and `§nyckel` for the
    pot)."""
    comp = Compiler(plan, group, names, kinds)
    vids = [vid for vid in plan.villkor if applies_to(plan.version, vid) == group.name]
    verdicts = [f"{comp.villkor_code(vid)} AS {verdict_column(vid)}" for vid in vids]
    own_table = None if group.keyed else group.table   # a `via` group's recipients come from here
    if own_table is not None:
        comp.aggregates.setdefault(own_table, [])
    comp.base = names.alias(own_table) if own_table else "m"
    extra = [col for k, amount in enumerate(group.amounts)
             for col in _amount_columns(comp, amount, line_cols(k))]
    if plan.settlements.get(group.name) or any(ip.group == group.name and ip.caps
                                               for ip in plan.invoices):
        from .settle import member_columns  # settle.py builds on this module
        extra += member_columns(comp, group.name, plan)
    steps = [aggregate_step(comp, table, group.name_column if table == own_table else None)
             for table in comp.aggregates]
    alias = names.alias(own_table) if own_table else "m"
    joins = "".join(f" LEFT JOIN {ident(names.aggregate(group.name, table))} AS "
                    f"{names.alias(table)} ON {names.alias(table)}.{KOD} = {alias}.{KOD}"
                    for table in comp.aggregates if table != own_table)
    for side in group.sides:    # a row per member: its first good row, if there is one
        joins += (f" LEFT JOIN (SELECT * FROM {ident(names.table('bra', side))} WHERE {N} = 1) "
                  f"AS {names.side(side)} ON {names.side(side)}."
                  f"{ident(model_key(plan, side))} = {alias}.{KOD}")
    if group.members:
        rows = ", ".join(f"({lit(code)}, {lit(title)}, {i})"
                         for i, (code, title) in enumerate(group.members))
        base = f"SELECT * FROM (VALUES {rows}) AS v({KOD}, {NAMN}, {ORD})"
    elif group.keyed:
        name = ident(group.name_column) if group.name_column else ident(group.key)
        key = ident(group.key)
        base = (f"SELECT {key} AS {KOD}, COALESCE(CAST({name} AS VARCHAR), {key}) AS {NAMN}, "
                f"{ROW} AS {ORD}, * FROM {ident(names.table('bra', group.table))} WHERE {N} = 1")
        if group.pot:
            extra.append(f"m.{ident(group.pot.key_column)} AS {NYCKEL}")
    else:
        assert own_table is not None   # not keyed: the group's `via` table
        label = ETIKETT if group.name_column else "NULL"
        base = (f"SELECT *, COALESCE(CAST({label} AS VARCHAR), {KOD}) AS {NAMN}, "
                f"ROW_NUMBER() OVER (ORDER BY {KOD}) AS {ORD} "
                f"FROM {ident(names.aggregate(group.name, own_table))}")
    cols = ", ".join([f"{alias}.{KOD}", f"{alias}.{NAMN}", f"{alias}.{ORD}", *verdicts, *extra])
    steps.append(step(names.group("mot", group.name),
                      f"SELECT {cols} FROM ({base}) AS {alias}{joins} ORDER BY {alias}.{ORD}"))
    return steps


def model_key(plan: Plan, table: str) -> str:
    return plan.model.tables[table].keys[0]


def _amount_columns(comp: Compiler, amount: AmountPlan, c: LineCols) -> list[str]:
    """`§krav` (the payment's own krav), `§mått` (the measure) and `§mangel` (why the measure
    is missing, or NULL)."""
    cols = []
    if amount.payment.requirement is not None:
        cols.append(f"{comp.verdict(amount.payment.requirement)} AS {c.krav}")
    m = amount.measure
    if m is None:
        cols += [f"1 AS {c.matt}", f"CAST(NULL AS VARCHAR) AS {c.mangel}"]
    elif isinstance(m, (ast.TotalOf, ast.Count)):
        value, why = comp.measure(m)
        cols += [f"{value} AS {c.matt}", f"{why} AS {c.mangel}"]
    else:
        assert isinstance(m, ast.ColumnRef)   # the plan admits a column of the member's row
        cols += [f"{comp.column(m, None)} AS {c.matt}", f"{comp.why_blank(m)} AS {c.mangel}"]
    return cols


# ---- payments and output rows ------------------------------------------------------------

def _pot(group: GroupPlan) -> PotPlan:
    """The group's pot: the pot steps are only made for a group that has one."""
    if group.pot is None:
        raise AssertionError(f"group {group.name} has no pot")   # a bug in all_steps, not input
    return group.pot


def key_total_step(group: GroupPlan, names: Names) -> Step:
    """One row: the key total T (`§total`), how many share (`§antal`), the largest key, and how
    many lines wait for data or a decision (`§väntar`: a pending verdict, a negative key, or
    every fulfilling key 0) — counted here once, not by a window over every line."""
    v = verdict_column(_pot(group).villkor)
    shares = f"{v} = 0 AND {NYCKEL} >= 0"
    return step(names.group("nyckel", group.name),
                f"SELECT COALESCE(SUM({NYCKEL}) FILTER (WHERE {shares}), 0) "
                f"AS {TOTAL}, COUNT(*) FILTER (WHERE {shares}) AS "
                f"{own('antal')}, COALESCE(MAX(ABS({NYCKEL})), 0) AS {own('störst')}, "
                f"COUNT(*) FILTER (WHERE {v} IN {PENDING} OR ({v} = 0 AND {NYCKEL} < 0)) + "
                f"CASE WHEN COALESCE(SUM({NYCKEL}) FILTER (WHERE {shares}), 0) = 0 THEN "
                f"COUNT(*) FILTER (WHERE {shares}) ELSE 0 END AS {VANTAR} "
                f"FROM {ident(names.group('mot', group.name))}")


def share_step(group: GroupPlan, names: Names, k: int = 0) -> Step:
    """`andel_<j>_<g>` (`…_<k>` for a group's further payments, each built on the one before):
    line k's verdict (`§lv`) and amount. A pot's share is P·k/T öre (T from the one-row
    `nyckel_<j>_<g>`; a zero T shares nothing); a per-member amount is num·X/den öre. Either
    way the exact amount is ±tal/nämnare öre, rounded half up (away from zero) to units of u
    öre, and both amounts are made text once, for the villkor row and the summa row."""
    line = group.lines[k]
    c = line_cols(k)
    source = names.group("mot", group.name) if k == 0 else names.line("andel", group.name, k - 1)
    if isinstance(line, PotPlan):
        v = verdict_column(line.villkor)
        # 64-bit from here on: the runner checked the bounds on `nyckel_*` before this step,
        # and DuckDB's SUM is 128-bit, whose arithmetic is several times slower
        t = f"CAST(n.{TOTAL} AS BIGINT)"
        # a negative key, or every fulfilling key 0 (a share would divide by zero): bedömning
        lv = f"CASE WHEN {v} = 0 AND ({NYCKEL} < 0 OR {t} = 0) THEN {BEDOMNING} ELSE {v} END"
        inner = (f"SELECT m.*, {t} AS {TOTAL}, {lv} AS {LV}, {line.pot_ore} * {NYCKEL} AS {TAL}, "
                 f"{t} AS {NAMNARE}, n.{VANTAR} AS {VANTAR} "
                 f"FROM {ident(source)} AS m "
                 f"CROSS JOIN {ident(names.group('nyckel', group.name))} AS n")
    else:
        gates = [verdict_column(line.villkor)] if line.villkor else []
        if line.payment.requirement is not None:
            gates.append(c.krav)
        eligible = v_and(gates) if gates else str(UPPFYLLT)
        # eligible, but the amount itself is missing: its verdict is the Missing's (saknas)
        lv = f"CASE WHEN ({eligible}) = 0 AND {c.mangel} IS NOT NULL THEN {SAKNAS} ELSE " \
             f"{eligible} END"
        inner = (f"SELECT m.*, {line.den} AS {c.total}, {lv} AS {c.lv}, {eligible} AS "
                 f"{c.behorig}, CAST({line.num} AS BIGINT) * {c.matt} AS {c.tal}, {line.den} AS "
                 f"{c.namnare}, 0 AS {c.vantar} FROM {ident(source)} AS m")
    u = line.unit_ore
    a, d = f"ABS({c.tal})", c.namnare
    units = f"CASE WHEN {d} = 0 THEN 0 ELSE SIGN({c.tal}) * ((2 * {a} + {u} * {d}) // " \
            f"(2 * {u} * {d})) END"
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


def money(ore: str) -> str:
    """Integer öre ≥ 0 → `577898` or `577898.50`."""
    return (f"CASE WHEN ({ore}) % 100 = 0 THEN CAST(({ore}) // 100 AS VARCHAR) ELSE "
            f"CAST(({ore}) // 100 AS VARCHAR) || '.' || LPAD(CAST(({ore}) % 100 AS VARCHAR), 2, "
            f"'0') END")


def exact(q: str, r: str, mikro: str) -> str:
    """The exact amount's size (q öre and r/den of one, `mikro` its millionths of a krona):
    whole öre as money, otherwise 6 decimals half up, zeros stripped."""
    text = (f"CAST({mikro} // 1000000 AS VARCHAR) || '.' || "
            f"LPAD(CAST({mikro} % 1000000 AS VARCHAR), 6, '0')")
    # six decimals always: stripping zeros stops at the point, then the point goes if bare
    stripped = f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {text}))"
    return f"CASE WHEN {r} = 0 THEN {money(q)} ELSE {stripped} END"


def rows_step(plan: Plan, group: GroupPlan, names: Names) -> Step:
    """Every output row of the group: one per villkor (and a payment's own row when it has no
    villkor), its reconciliations, then `summa`, with ordering columns."""
    version = plan.version
    lines = {_row_of(line): (k, line) for k, line in enumerate(group.lines)}
    source = names.line("andel", group.name, len(group.lines) - 1) if group.lines else \
        names.group("mot", group.name)
    parts = []
    for i, key in enumerate(group.rows):
        v = version.villkor.get(key)
        # an empty text is NULL: DuckDB writes '' as `""` in CSV, the reference as nothing
        origin = version.origin.get(("villkor", key), "") if v is not None else ""
        origin = lit(origin) if origin else "NULL"
        unpaid = None
        if v is not None:
            unpaid = _fields(i, lit(key), verdict_text(verdict_column(key)), "NULL", "NULL",
                             "NULL", origin,
                             lit(sources_text(v.sources)) if v.sources else "NULL",
                             lit("ingen utbetalning är knuten till villkoret"))
        if key not in lines:
            assert unpaid is not None   # a row without a line is a villkor's
            parts.append(_struct(unpaid))
            continue
        k, line = lines[key]
        c = line_cols(k)
        pay = line.payment
        due = f"'{pay.due.isoformat()}'" if pay.due else "NULL"
        paid = _fields(i, lit(key), verdict_text(c.lv), c.belopp, c.exakt, due, origin,
                       lit(sources_text(pay.sources)) if pay.sources else "NULL",
                       _line_note(line, c))
        mine = _paid_here(line)
        if mine is not None and unpaid is not None:   # a fixed amount: one member's line
            paid = {f: f"CASE WHEN {mine} THEN {paid[f]} ELSE {unpaid[f]} END" for f in paid}
        parts.append(_struct(paid))
    numbers: list[str] = []
    settled = plan.settlements.get(group.name, ())
    if settled:
        from .settle import settlement_numbers, settlement_row
        numbers += settlement_numbers(plan, group.name)
        for k, sp in enumerate(settled):
            rec = sp.reconciliation
            utfall, belopp, exakt_, note = settlement_row(k, sp)
            parts.append(_row(len(parts), lit(rec.name), utfall, belopp, exakt_, "NULL",
                              lit(version.label),
                              lit(sources_text(rec.sources)) if rec.sources else "NULL", note))
    label = lit(version.label)
    n = len(parts)
    if group.pot is not None:
        key = group.pot.villkor
        known = f"{LV} IN ({UPPFYLLT}, {EJ})"
        unknown = lit(f"inget belopp är känt ännu; ofullständig: villkor {key} saknar belopp "
                      "och ingår inte")
        parts.append(_row(
            n, "'summa'", verdict_text(LV),
            BELOPP, EXAKT, "NULL", label, "NULL",
            f"CASE WHEN {known} THEN 'summan av de avrundade beloppen' || {_unpaid(group, key)} "
            f"ELSE {unknown}"
            " END"))
    elif group.amounts:
        summa, summed = _summa(plan, group, n)
        numbers += summed
        parts.append(summa)
    elif group.rows:    # a member with only settlement rows has no summa (as the reference)
        every = v_and([verdict_column(vid) for vid in group.villkor])
        parts.append(_row(n, "'summa'", verdict_text(every), "'0'", "'0'", "NULL", label,
                          "NULL", lit("inga utbetalningar gäller mottagaren")))
    source_sql = f"(SELECT *, {', '.join(numbers)} FROM {ident(source)})" if numbers \
        else ident(source)
    where = ""
    if not parts:   # a group nothing applies to has no rows
        parts, where = [_row(0, *["NULL"] * 8)], " WHERE FALSE"
    # one list per recipient, unnested: its rows come out together and in order (no sort)
    return step(names.group("rader", group.name),
                f"SELECT {names.groups[group.name]} AS {own('g')}, {ORD}, "
                f"UNNEST([{', '.join(parts)}]) AS {own('r')} FROM {source_sql} AS t{where}")


def _paid_here(line: PotPlan | AmountPlan) -> str | None:
    """Whether the member has the line: a fixed amount is one member's (None: everyone's)."""
    if isinstance(line, AmountPlan) and line.recipient is not None:
        return f"{KOD} = {lit(line.recipient)}"
    return None


SUMMA_EXACT, SUMMA_PAID = own("s_exakt"), own("s_betalt")   # öre·D and öre, per member


def _summa(plan: Plan, group: GroupPlan, n: int) -> tuple[str, list[str]]:
    """The summa row of a group whose payments are amounts (as the reference's `_total`), and
    the columns it reads: the exact sum in öre·D over the amounts' common denominator D, and
    the sum of the rounded amounts in öre."""
    total = plan.model.total
    big_d = total_denominator(group)
    lines = [(_row_of(a), line_cols(k), a) for k, a in enumerate(group.amounts)]

    def here(a: AmountPlan, test: str) -> str:
        mine = _paid_here(a)
        return f"({mine} AND {test})" if mine else test

    paid = [here(a, f"{c.lv} = 0") for _, c, a in lines]
    known = [here(a, f"{c.lv} IN ({UPPFYLLT}, {EJ})") for _, c, a in lines]
    open_ = [here(a, f"{c.lv} IN {PENDING}") for _, c, a in lines]
    summed = [" + ".join(f"CASE WHEN {p} THEN {c.tal} * {big_d // a.den} ELSE 0 END"
                         for p, (_, c, a) in zip(paid, lines)) + f" AS {SUMMA_EXACT}",
              " + ".join(f"CASE WHEN {p} THEN {c.enheter} * {a.unit_ore} ELSE 0 END"
                         for p, (_, c, a) in zip(paid, lines)) + f" AS {SUMMA_PAID}"]
    any_known, any_open = " OR ".join(known), " OR ".join(open_)
    worst = [f"CASE WHEN {o} THEN {c.lv} END" for o, (_, c, _a) in zip(open_, lines)]
    # GREATEST skips NULLs; Spark wants two arguments at least
    open_worst = f"GREATEST({', '.join(worst)})" if len(worst) > 1 else worst[0]
    verdict = (f"CASE WHEN {any_open} THEN {open_worst} WHEN {' OR '.join(paid)} THEN {UPPFYLLT} "
               f"ELSE {EJ} END")
    exact_text = _signed(SUMMA_EXACT, lambda x: _exact_money(x, big_d))
    if total is not None:
        u = 100 if total.rounding.unit == "krona" else 1
        amount = (f"SIGN({SUMMA_EXACT}) * ((2 * ABS({SUMMA_EXACT}) + {u * big_d}) // "
                  f"{2 * u * big_d}) * {u}")
        unit = "hela kronor" if u == 100 else "öre"
        how = (f"'exakt summa ' || {_signed(SUMMA_EXACT, lambda x: _decimal(x, 100 * big_d))}"
               f" || {lit(f' kr avrundad en gång till {unit}, halvt uppåt')}")
        sources = lit(sources_text(total.sources)) if total.sources else "NULL"
    else:
        amount, how, sources = SUMMA_PAID, "'summan av de avrundade beloppen'", "NULL"
    amount_text = _signed(amount, money)
    none_known = f"({any_open}) AND NOT ({any_known})"
    rows = [key for key, _, _ in lines]
    listed = "CONCAT_WS(', ', " + ", ".join(f"CASE WHEN {o} THEN {lit(key)} END"
                                            for o, key in zip(open_, rows)) + ")"
    unmet = "CONCAT_WS(', ', " + ", ".join(f"CASE WHEN {here(a, f'{c.lv} = {EJ}')} THEN "
                                           f"{lit(key)} END" for key, c, a in lines) + ")"
    unpaid = []
    line_of = {key: (c, a) for key, c, a in lines}
    for key in group.rows:
        if key not in plan.version.villkor:
            continue
        text = f"{lit(f'villkor {key} (')} || {verdict_text(verdict_column(key))} || ')'"
        test = f"{verdict_column(key)} <> {UPPFYLLT}"
        if key in line_of:
            mine = _paid_here(line_of[key][1])
            if mine is None:
                continue
            test = f"NOT ({mine}) AND {test}"
        unpaid.append(f"CASE WHEN {test} THEN {text} END")
    unpaid_text = f"CONCAT_WS(', ', {', '.join(unpaid)})" if unpaid else "''"
    why_met = (f"CASE WHEN {unmet} <> '' THEN '; villkor ' || {unmet} || "
               f"' är inte uppfyllt och ger 0 kr' ELSE '' END || CASE WHEN {unpaid_text} <> '' "
               f"THEN '; ' || {unpaid_text} || {lit(UNPAID)} ELSE '' END")
    note = (f"CASE WHEN {none_known} THEN 'inget belopp är känt ännu' ELSE {how} END || "
            f"CASE WHEN {any_open} THEN '; ofullständig: villkor ' || {listed} || "
            f"' saknar belopp och ingår inte' ELSE '' END || "
            f"CASE WHEN ({verdict}) = {UPPFYLLT} THEN {why_met} ELSE '' END")
    payable = " OR ".join(_paid_here(a) or "TRUE" for a in group.amounts)
    every = v_and([verdict_column(key) for key in group.rows if key in plan.version.villkor])
    fields = _fields(n, "'summa'", verdict_text(f"({verdict})"),
                     f"CASE WHEN {none_known} THEN NULL ELSE {amount_text} END",
                     f"CASE WHEN {none_known} THEN NULL ELSE {exact_text} END", "NULL",
                     lit(plan.version.label), sources, note)
    if payable != "TRUE" and not any(_paid_here(a) is None for a in group.amounts):
        nothing = _fields(n, "'summa'", verdict_text(every), "'0'", "'0'", "NULL",
                          lit(plan.version.label), "NULL",
                          lit("inga utbetalningar gäller mottagaren"))
        fields = {f: f"CASE WHEN {payable} THEN {fields[f]} ELSE {nothing[f]} END"
                  for f in fields}
    return _struct(fields), summed


def _signed(x: str, text) -> str:
    """`-` and the text of |x| (x a whole number; 0 has no sign)."""
    return f"CASE WHEN {x} < 0 THEN '-' ELSE '' END || {text(f'ABS({x})')}"


def _exact_money(num: str, den: int) -> str:
    """num/den öre ≥ 0 as the exakt_belopp column writes it (eval/values.py `money_text`)."""
    q, r = f"({num} // {den})", f"({num} % {den})"
    mikro = f"({q} * 10000 + (2 * {r} * 10000 + {den}) // {2 * den})"
    return exact(q, r, mikro)


def _decimal(num: str, den: int) -> str:
    """num/den ≥ 0 (den = 2^a·5^b) as a decimal without trailing zeros (values.decimal_text)."""
    places = 0
    while 10 ** places % den:
        places += 1
    if places == 0:
        return f"CAST({num} // {den} AS VARCHAR)"
    scaled = f"({num} * {10 ** places // den})"
    text = (f"CAST({scaled} // {10 ** places} AS VARCHAR) || '.' || "
            f"LPAD(CAST({scaled} % {10 ** places} AS VARCHAR), {places}, '0')")
    return f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {text}))"


def _row_of(line: PotPlan | AmountPlan) -> str:
    return line.villkor if isinstance(line, PotPlan) else line.row


def _line_note(line: PotPlan | AmountPlan, c: LineCols) -> str:
    """The line's `anmärkning`: why no amount (the reference's notes, sorted), or for a known
    share of a pot that others wait for, that it is preliminary."""
    pending = f"{verdict_text(c.lv)} || ': beloppet kan inte bestämmas'"
    if isinstance(line, AmountPlan):
        # the amount's own reason comes with `underlag saknas: …`, the two in sorted order
        return (f"CASE WHEN {c.behorig} = 0 AND {c.mangel} IS NOT NULL "
                f"THEN LEAST({pending}, {c.mangel}) || '; ' || GREATEST({pending}, {c.mangel}) "
                f"WHEN {c.lv} IN {PENDING} THEN {pending} END")
    code = verdict_column(line.villkor)
    before, after = PRELIMINARY.split("{}")
    return (f"CASE WHEN {LV} IN {PENDING} THEN {pending} || CASE WHEN {code} = 0 AND "
            f"{NYCKEL} < 0 THEN '; negativ fördelningsnyckel ' || CAST({NYCKEL} AS VARCHAR) "
            f"WHEN {code} = 0 AND {TOTAL} = 0 THEN {lit('; ' + ZERO_KEY)} ELSE '' END "
            f"WHEN {LV} = 0 AND {VANTAR} > 0 THEN {lit(before)} || "
            f"CAST({VANTAR} AS VARCHAR) || {lit(after)} END")


def _unpaid(group: GroupPlan, paid: str) -> str:
    """Why a pot's summa is uppfyllt although a villkor is not (as the reference's
    `_why_met`): the group's villkor without a payment that are not uppfyllt, with their
    verdicts."""
    others = [vid for vid in group.villkor if vid != paid]
    if not others:
        return "''"
    names = ", ".join(f"CASE WHEN {verdict_column(vid)} <> {UPPFYLLT} THEN "
                      f"{lit(f'villkor {vid} (')} || {verdict_text(verdict_column(vid))} || ')' "
                      "END" for vid in others)
    listed = f"CONCAT_WS(', ', {names})"
    return (f"CASE WHEN {LV} = {UPPFYLLT} AND {listed} <> '' THEN '; ' || {listed} || "
            f"{lit(UNPAID)} ELSE '' END")


def _fields(vord: int, villkor: str, utfall: str, belopp: str, exakt: str, due: str,
            version: str, source: str, note: str) -> dict[str, str]:
    """One output row's fields, as SQL expressions (text columns cast to text)."""
    return {MARK + "v": str(vord), "mottagare": KOD, "namn": NAMN, "villkor": villkor,
            "utfall": utfall, "belopp": f"CAST({belopp} AS VARCHAR)",
            "exakt_belopp": f"CAST({exakt} AS VARCHAR)",
            "betalas_senast": f"CAST({due} AS VARCHAR)",
            "version": f"CAST({version} AS VARCHAR)", "källa": f"CAST({source} AS VARCHAR)",
            "anmärkning": f"CAST({note} AS VARCHAR)"}


def _struct(fields: dict[str, str]) -> str:
    """One output row as a struct; a recipient's rows are one list, unnested in order."""
    return "{" + ", ".join(f"{lit(k)}: {v}" for k, v in fields.items()) + "}"


def _row(vord: int, villkor: str, utfall: str, belopp: str, exakt: str, due: str,
         version: str, source: str, note: str) -> str:
    return _struct(_fields(vord, villkor, utfall, belopp, exakt, due, version, source, note))


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
    mine = _paid_here(line)
    where = f" WHERE {mine}" if mine else ""
    return step(names.line("räkna", group.name, k),
                f"SELECT {counts}, COALESCE(SUM({c.enheter} * {u}) FILTER (WHERE {c.lv} = 0), "
                f"0) AS {own('utbetalt')}, {exact_sum} AS {own('exakt')} "
                f"FROM {ident(names.line('andel', group.name, k))}{where}")


CHECKS = "kontroll"


def checks_step(plan: Plan, names: Names) -> Step | None:
    """One row: for each aggregate a kontroll reads (over all records, as the reference reads
    it with no recipient): rows (`§i_n`), chosen (`_k`), undecided (`_o`), the first undecided
    line and its verdict (`_fl`, `_fv`), and for `summa` the sum (`_s`) and first blank line
    (`_z`). The runner decides the kontroll from these with the reference's own code."""
    if not plan.checked:
        return None
    comp = Compiler(plan, None, names)
    tables: list[str] = []
    for table in dict.fromkeys(e.table for e in plan.checked):
        inner, counts = [f"t.{ROW} AS {ROW}"], []
        for i, node in enumerate(plan.checked):
            if node.table != table:
                continue
            among = getattr(node, "among", None)
            b, w, x = own(f"{i}_b"), own(f"{i}_w"), own(f"{i}_x")
            inner.append(f"{comp.verdict(among, 't') if among is not None else UPPFYLLT} AS {b}")
            inner.append(f"{comp.verdict(node.where, 't') if node.where is not None else UPPFYLLT}"
                         f" AS {w}")
            chosen = f"{b} = 0 AND {w} = 0"
            counts += [f"COUNT(*) FILTER (WHERE {b} = 0) AS {own(f'{i}_n')}",
                       f"COUNT(*) FILTER (WHERE {chosen}) AS {own(f'{i}_k')}",
                       f"COUNT(*) FILTER (WHERE {b} IN {PENDING} OR ({b} = 0 AND {w} IN "
                       f"{PENDING})) AS {own(f'{i}_o')}",
                       f"COALESCE(MIN({ROW}) FILTER (WHERE {b} IN {PENDING}), MIN({ROW}) FILTER "
                       f"(WHERE {b} = 0 AND {w} IN {PENDING})) AS {own(f'{i}_fl')}",
                       f"CASE WHEN COUNT(*) FILTER (WHERE {b} IN {PENDING}) > 0 THEN "
                       f"MIN_BY({b}, {ROW}) FILTER (WHERE {b} IN {PENDING}) ELSE MIN_BY({w}, "
                       f"{ROW}) FILTER (WHERE {b} = 0 AND {w} IN {PENDING}) END AS "
                       f"{own(f'{i}_fv')}"]
            if isinstance(node, ast.TotalOf):
                inner.append(f"t.{ident(node.column)} AS {x}")
                counts += [f"SUM({x}) FILTER (WHERE {chosen}) AS {own(f'{i}_s')}",
                           f"MIN({ROW}) FILTER (WHERE {chosen} AND {x} IS NULL) AS "
                           f"{own(f'{i}_z')}"]
        alias = own(f"t{len(tables)}")
        tables.append(f"(SELECT {', '.join(counts)} FROM (SELECT {', '.join(inner)} FROM "
                      f"{ident(names.table('bra', table))} AS t) AS p) AS {alias}")
    order = [own(f"{i}_{part}") for i, node in enumerate(plan.checked)
             for part in ("n", "k", "o", "fl", "fv") + (("s", "z") if isinstance(
                 node, ast.TotalOf) else ())]
    return step(CHECKS, f"SELECT {', '.join(order)} FROM " + " CROSS JOIN ".join(tables))


def all_steps(plan: Plan, kinds: dict[str, dict[str, str]], files: dict[str, str]
              ) -> list[Step]:
    """The whole plan, in order: what the DuckDB runner executes and `villkor sql` prints.
    The runner provides `in_<i>_<table>` (Names.of(plan).table("in", …)) for each input."""
    names = Names.of(plan)
    steps = []
    steps += [typed_step(spec, kinds[spec.name], names) for spec in plan.inputs]
    # a table with a row per member is checked against the members: its good rows come last
    sides = {t for g in plan.groups for t in g.sides}
    steps += [good_step(spec, names, plan) for spec in plan.inputs if spec.name not in sides]
    steps += [good_step(spec, names, plan) for spec in plan.inputs if spec.name in sides]
    steps.append(errors_step(plan, files, names))
    limits = beyond_step(plan, kinds, names)
    if limits is not None:
        steps.append(limits)
    checks = checks_step(plan, names)
    if checks is not None:
        steps.append(checks)
    for group in plan.groups:
        steps += verdict_steps(plan, group, names, kinds)
        if group.pot:
            steps.append(key_total_step(group, names))
        for k in range(len(group.lines)):
            steps += [share_step(group, names, k), counts_step(group, names, k)]
        steps.append(rows_step(plan, group, names))
    if plan.invoices:
        from .settle import invoice_limits_step, invoice_step
        limits_step = invoice_limits_step(plan, names)
        steps += ([limits_step] if limits_step else []) + [invoice_step(plan, files, names)]
    steps.append(result_query([names.group("rader", g.name) for g in plan.groups]))
    return steps


def script(steps: list[Step], dialect: str = READ) -> str:
    """The plan as one SQL script: each step a temporary view, the result a final SELECT."""
    parts = [f"-- {st.name}\n{st.view(dialect)};" for st in steps[:-1]]
    parts.append(f"-- {steps[-1].name}\n{steps[-1].sql(dialect)};")
    return "\n\n".join(parts) + "\n"
