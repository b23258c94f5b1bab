"""The SQL plan's vocabulary: quoting, the names the engine adds, verdict codes and steps.

Every column the engine adds (`§rad`, `§kod`, `<col>§fel`, …) holds `§`, which no declared
column can (the grammar's COLUMN is `\\w+(\\.\\w+)*`), so a file's or an agreement's column
never shadows one, in any letter case. Every generated view carries the index of its table
(`typ_<i>_<table>`) or group (`mot_<j>_<g>`, `agg_<j>_<i>_<g>_<table>`) in the plan:
injective, and case-proof where the engine compares names case-insensitively (DuckDB); the
name after the index is only for the reader. Verdicts are the codes 0–3 in the order of `och`
(VERDICTS), so `och` is GREATEST and `eller` and `inte` a swap of 0 and 3 around it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from ..syntax import ast
from .plan import (
    Plan,
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


SUMMA_L = own("L")     # the common denominator of a member's lines, in öre (rows.sum_step)


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
    nyckel: str
    ratal: str        # the exact amount before a cap per member (öre·den)


_LINE_BASES = {"lv": "lv", "tal": "tal", "namnare": "nämnare", "total": "total",
               "enheter": "enheter", "q": "q", "r": "r", "tecken": "tecken", "mikro": "mikro",
               "belopp": "belopp", "exakt": "exakt", "behorig": "behörig", "krav": "krav",
               "matt": "mått", "mangel": "mangel", "vantar": "väntar", "nyckel": "nyckel",
               "ratal": "råtal"}


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
        """`in`, `typ`, `felrad`, `bra`, `poster`: one step per input table."""
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
class Shortcut:
    """A cheaper form of a step, the same rows whenever `guard` (a one-row query) gives 0: a
    runner that asks may take it (`villkor sql` prints the general form)."""

    guard: exp.Expr
    tree: exp.Expr
    guard_text: str | None = None     # each as the plan wrote it (see `Step.text`)
    text: str | None = None

    def guard_sql(self, dialect: str = READ) -> str:
        if dialect == READ and self.guard_text is not None:
            return self.guard_text
        return self.guard.sql(dialect=dialect, identify=True)


@dataclass(frozen=True)
class Step:
    """One step of the plan. `text` is the SELECT as the plan wrote it, in DuckDB's SQL (READ):
    what `tree` was parsed from, so rendering the tree back to DuckDB would only spend time
    (sqlglot's generator copies and walks a tree of thousands of nodes) to say the same. Other
    dialects, and any rewrite of the tree (`inorder`), are rendered from the tree."""

    name: str
    tree: exp.Expr          # sqlglot's expression tree (`Expression` in older sqlglot)
    shortcut: Shortcut | None = None
    text: str | None = None

    def sql(self, dialect: str = READ) -> str:
        if dialect == READ and self.text is not None:
            return self.text
        # every identifier quoted: Swedish names (å ä ö) are not bare identifiers everywhere
        return self.tree.sql(dialect=dialect, identify=True)

    def view(self, dialect: str = READ) -> str:
        """The step as a temporary view, in the dialect (what a cluster runs step by step)."""
        name = exp.Table(this=exp.to_identifier(self.name, quoted=True))
        if dialect == READ and self.text is not None:
            return f"CREATE OR REPLACE TEMPORARY VIEW {name.sql(dialect=READ)} AS {self.text}"
        create = exp.Create(this=name, kind="VIEW", replace=True,
                            expression=self.tree,
                            properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
        return create.sql(dialect=dialect, identify=True)


def step(name: str, select: str, shortcut: tuple[str, str] | None = None) -> Step:
    """`shortcut`: (guard, select), see `Shortcut`."""
    tree = sqlglot.parse_one(select, read=READ)
    if shortcut is None:
        return Step(name, tree, text=select)
    guard, cheaper = shortcut
    return Step(name, tree, Shortcut(sqlglot.parse_one(guard, read=READ),
                                     sqlglot.parse_one(cheaper, read=READ), guard, cheaper),
                text=select)


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


OTHER = MARK + "annat"   # from the runner, when the file has undeclared columns: one is filled
TRIMMED = "trimmed"      # a column's kind: text the runner has trimmed already (io/cells.py)


def one_of(column: str, codes: tuple[str, ...]) -> str:
    """`column` is one of `codes`: a chain of `=`, not `IN (…)`, which DuckDB may turn into a
    join that does not keep the rows in order."""
    return "(" + " OR ".join(f"{column} = {lit(code)}" for code in codes) + ")"
