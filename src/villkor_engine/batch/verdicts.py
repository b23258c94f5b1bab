"""Requirements → SQL verdict codes: the members of each group (`mot_*`), the aggregates over
their records (`agg_*`), their villkor, and the aggregates a `kontroll` reads (`kontroll`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePath

from ..model import types as T
from ..syntax import ast
from .linear import HELD_IN
from .plan import (
    AmountPlan,
    GroupPlan,
    Plan,
    applies_to,
    constant_value,
)
from .sqltext import (
    BEDOMNING,
    EJ,
    ETIKETT,
    KOD,
    NAMN,
    ORD,
    PENDING,
    ROW,
    SAKNAS,
    UPPFYLLT,
    VERDICTS,
    Aggregate,
    LineCols,
    N,
    Names,
    Step,
    ident,
    judged,
    line_cols,
    lit,
    own,
    step,
    swap,
    v_and,
    v_or,
    verdict_column,
    verdict_text,
)

MEASURED = (ast.ColumnRef, ast.Count, ast.ShareOf, ast.TotalOf)   # what a comparison measures


class Compiler:
    """Requirements → SQL verdict codes, for one group. Aggregates become columns of `agg_*`."""

    def __init__(self, plan: Plan, group: GroupPlan | None, names: Names,
                 kinds: dict[str, dict[str, str]] | None = None):
        self.plan, self.group, self.names = plan, group, names
        self.kinds = kinds or {}     # table → the columns its file has (and their kinds)
        self.base = "m"              # the members' alias in `mot_*` (set by group_verdicts)
        self.aggregates: dict[str, list[tuple[str, Aggregate]]] = {}   # table → (id, node)
        self.reasons: set[int] = set()   # aggregates whose first undecided record is told
        # the villkor in question, for a table with a row per member and villkor (as the
        # reference's `env.at(recipient, vid)`), and the (table, villkor) rows joined for it
        self.context: str | None = None
        self.per_villkor: dict[tuple[str, str], str] = {}
        self.parents = {s.vid: v.vid for v in plan.version.villkor.values() for s in v.subs}

    def under(self, vid: str | None, compile: Callable[[], str]) -> str:
        """`compile()` with `vid` the villkor in question (a delvillkor's is its villkor's)."""
        saved, self.context = self.context, self.parents.get(vid or "", vid)
        try:
            return compile()
        finally:
            self.context = saved

    def side(self, table: str) -> str:
        """The alias of the member's row in a table with a row per member (and, for a table per
        villkor, the row for the villkor in question)."""
        if not self.plan.model.tables[table].per_villkor:
            return self.names.side(table)
        assert self.context is not None   # the plan reads such a table only under a villkor
        key = (table, self.context)
        if key not in self.per_villkor:
            self.per_villkor[key] = own(f"s{self.names.tables[table]}v{len(self.per_villkor)}")
        return self.per_villkor[key]

    def verdict(self, e: ast.Expr, row: str | None = None) -> str:
        """`row` is the record-level alias inside an aggregate; None at the recipient level."""
        if isinstance(e, ast.VerdictLit):
            return str(VERDICTS.index(e.value))
        if isinstance(e, ast.VillkorRef):
            return f"({self.villkor_code(e.vid, row)})"
        if isinstance(e, (ast.Not, ast.Logic)):
            truth = self.kleene(e, row)
            if truth is not None:       # one boolean for the whole tree: ja/nej and dates only
                return f"COALESCE({EJ} - {EJ} * CAST({truth} AS INTEGER), {SAKNAS})"
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
        if isinstance(e, ast.Conditional):   # the reference's `_conditional`, its test once
            test, then, otherwise = (self.verdict(x, row) for x in (e.test, e.then, e.otherwise))
            return (f"(CASE {test} WHEN {UPPFYLLT} THEN {then} WHEN {EJ} THEN {otherwise} "
                    f"WHEN {BEDOMNING} THEN {BEDOMNING} ELSE {SAKNAS} END)")
        raise AssertionError(type(e))   # the plan admits nothing else

    def kleene(self, e: ast.Expr, row: str | None) -> str | None:
        """`e` as one SQL boolean whose TRUE, FALSE and NULL are its uppfyllt, ej uppfyllt and
        underlag saknas, where it has no other verdict: `är ja`/`är nej`, a ja/nej column,
        `mellan`, `ja`/`nej` and `och`/`eller`/`inte` of them. SQL's three-valued AND and OR are
        exactly `och` and `eller` on those three (a nej decides before a blank), so a tree of
        them is the engine's own vectorised logic, not a GREATEST of codes per leaf; None for
        anything else."""
        if isinstance(e, ast.Is) and e.what in ("ja", "nej"):
            col = self.column(e.operand, row)
            return col if e.what == "ja" else f"(NOT {col})"
        if isinstance(e, ast.ColumnRef):
            return self.kleene(ast.Is(e, "ja", e.span), row)
        if isinstance(e, ast.Bool):
            return "TRUE" if e.value else "FALSE"
        if isinstance(e, ast.Between):
            col = self.column(e.operand, row)
            return (f"({col} BETWEEN DATE '{e.start.isoformat()}' AND "
                    f"DATE '{e.end.isoformat()}')")
        if isinstance(e, ast.Not):
            inner = self.kleene(e.operand, row)
            return None if inner is None else f"(NOT {inner})"
        if isinstance(e, ast.Logic):
            parts = [self.kleene(x, row) for x in _flatten(e, e.op)]
            if any(p is None for p in parts):
                return None
            return "(" + (" AND " if e.op == "och" else " OR ").join(
                p for p in parts if p is not None) + ")"
        return None

    def column(self, e: ast.Expr, row: str | None) -> str:
        assert isinstance(e, ast.ColumnRef)
        if row is None and self.group is not None and e.table in self.group.sides:
            return f"{self.side(e.table)}.{ident(e.column)}"
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
        row = f"{self.side(e.table)}.{ROW}" if self.group is not None and \
            e.table in self.group.sides else f"m.{ROW}"
        col = self.column(e, None)
        which = f" för villkor {self.context}" if spec.per_villkor else ""
        return (f"CASE WHEN {row} IS NULL THEN {lit(file + ' har ingen rad för ')} || "
                f"{self.base}.{KOD}{' || ' + lit(which) if which else ''} "
                f"WHEN {col} IS NULL THEN {lit(file + ' rad ')} || CAST({row} AS VARCHAR) || "
                f"{lit(': ' + e.column + ' är tom')} END")

    def absent(self, table: str) -> bool:
        """A record table whose (valfri) file is not there: the runner registers it with no
        columns. Its aggregates are missing, as the reference's `filen … finns inte`."""
        return bool(self.kinds) and table in self.plan.model.records and \
            not self.kinds.get(table)

    def villkor_code(self, vid: str, row: str | None = None) -> str:
        """A villkor's verdict: its requirement, and its report deadline if it has one; where
        the agreement names a review, its decision goes first (as the reference's `_villkor`),
        and without one an `uppfyllt` waits for it (bedömning krävs)."""
        return self.under(vid, lambda: self._villkor_code(vid, row))

    def _villkor_code(self, vid: str, row: str | None) -> str:
        code = self.verdict(self.plan.villkor[vid], row)
        v = self.plan.version.villkor.get(vid)
        if v is None:
            return code
        if v.report_due is not None:
            code = v_and([code, self.deadline(v)])
        if v.review is None:
            return code
        decision = f"{self.side(v.review.table)}.{ident('beslut')}"
        return (f"CASE {decision} WHEN 'godkänd' THEN {UPPFYLLT} WHEN 'underkänd' THEN {EJ} "
                f"WHEN 'komplettering' THEN {SAKNAS} ELSE CASE WHEN ({code}) = {UPPFYLLT} THEN "
                f"{BEDOMNING} ELSE ({code}) END END")

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
        if not isinstance(left, MEASURED):   # constant op measured
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
            constant *= HELD_IN.get(spec.columns[left.column].type, 1)
            num, den = constant.numerator, constant.denominator
            scaled = col if den == 1 else f"{col} * {den}"
            return judged(f"{col} IS NULL", f"{scaled} {op} {num}")
        if not isinstance(left, (ast.Count, ast.ShareOf, ast.TotalOf)):
            raise AssertionError(type(left))   # the plan admits nothing else
        if self.absent(left.table):   # as the reference: no file, no count (underlag saknas)
            return str(SAKNAS)
        if isinstance(left, ast.TotalOf):   # missing: an undecided record, a blank summed cell
            total, open_, blank = self.aggregate(left, "s", "o", "z")
            unit = HELD_IN[self.plan.model.records[left.table].columns[left.column].type]
            return judged(f"COALESCE({open_}, 0) > 0 OR {blank} IS NOT NULL",
                          f"COALESCE({total}, 0) * {constant.denominator} {op} "
                          f"{constant.numerator * unit}")
        rows, chosen, open_ = self.aggregate(left)
        num, den = constant.numerator, constant.denominator
        if isinstance(left, ast.Count):   # antal: chosen · den op num
            return judged(f"{open_} > 0", f"COALESCE({chosen}, 0) * {den} {op} {num}")
        # andel: chosen / rows op num / den  ⇔  chosen · den op num · rows (rows > 0)
        return judged(f"{open_} > 0 OR {rows} IS NULL OR {rows} = 0",
                      f"{chosen} * {den} {op} {num} * {rows}")

    def constant(self, e: ast.Expr):
        return constant_value(e, self.plan.model, self.plan.version)

    def aggregate(self, e: Aggregate, *parts: str) -> tuple[str, ...]:
        """The aggregate's `parts` as columns of its table's `agg_*` step (alias `§agg<i>`):
        by default its rows, chosen rows and undecided rows (`n`, `k`, `o`); see
        `Counted` for the others."""
        mine = self.aggregates.setdefault(e.table, [])
        aid = next((aid for aid, node in mine if node == e), None)
        if aid is None:   # the group's index in it: unique among all groups' (`fused_step`)
            group = "" if self.group is None else f"{self.names.groups[self.group.name]}_"
            aid = f"a{group}{len(mine)}"
            mine.append((aid, e))
        alias = self.names.alias(e.table)
        return tuple(f"{alias}.{own(aid + '_' + part)}" for part in parts or ("n", "k", "o"))

    def measure(self, e: ast.TotalOf | ast.Count) -> tuple[str, str]:
        """`summa(…)` or `antal(…)` of the recipient's records as a payment's measure: its value
        (a whole number in SQL: öre for a belopp column, 0 without records) and why it is
        missing (NULL when it is not), in the reference's words: the first undecided record,
        else (summa) the first blank cell."""
        s, k, o, z, fl, fv = self.aggregate(e, "s", "k", "o", "z", "fl", "fv")
        self.reasons.add(id(e))
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


OK = own("ok")                 # a record with no wrong cell (`fused_step`)
WRONG = own("felaktiga")       # how many records have one
SET = own("mängd")             # 0 on the first grouping set's rows


@dataclass(frozen=True)
class Counted:
    """One group's aggregates over one record table: per member, for each aggregate its rows
    (`§a<n>_n`), chosen rows (`_k`), undecided rows (`_o`) and what `Compiler.aggregate` asked
    for besides, counted by the table's `fused_step`; `view` is the group's `agg_*`.

    Each record's `bland` and `där` verdicts are computed once, in an inner SELECT, and only
    counted outside it. For a `via` group over this table the same pass also yields the
    recipients themselves, with their names (`label`: the name column, first filled row)."""

    comp: Compiler
    table: str
    label: str | None

    @property
    def index(self) -> int:
        assert self.comp.group is not None   # a group's aggregates
        return self.comp.names.groups[self.comp.group.name]

    @property
    def name(self) -> str:
        assert self.comp.group is not None
        return self.comp.names.aggregate(self.comp.group.name, self.table)

    @property
    def link(self) -> str:
        assert self.comp.group is not None
        return f"t.{ident(self.comp.plan.model.records[self.table].links[self.comp.group.name])}"

    @cached_property
    def parts(self) -> tuple[list[str], list[tuple[str, str]]]:
        """What each record yields (`inner`, `expr AS name`) and what is counted per member
        (`counts`, (expr, name) pairs), compiled once for the scan and the view. A record
        with a wrong cell (`t.§ok` false) yields no code, name or verdict, so it is in no
        member's counts and makes no member, as if it were not there: the scan needs no good
        rows found first (`fused_step`)."""
        comp, table, label = self.comp, self.table, self.label
        kod, etikett = self.fused_names()

        def good(x: str) -> str:
            return f"CASE WHEN t.{OK} THEN {x} END"

        inner, counts = [f"{good(self.link)} AS {kod}"], []
        if label is not None:
            inner += [f"{good(name_value(comp.plan, table, label, 't.'))} AS {etikett}",
                      f"t.{ROW} AS {ROW}"]
            counts.append((f"MIN_BY({etikett}, {ROW}) FILTER (WHERE {etikett} IS NOT NULL)",
                           etikett))
        for aid, node in comp.aggregates.get(table, []):
            among = getattr(node, "among", None)
            b, w = own(aid + "_b"), own(aid + "_w")
            inner.append(f"{good(comp.verdict(among, 't') if among is not None else str(UPPFYLLT))}"
                         f" AS {b}")
            inner.append(f"{comp.verdict(node.where, 't') if node.where is not None else UPPFYLLT}"
                         f" AS {w}")
            if isinstance(node, ast.TotalOf):
                x = own(aid + "_x")
                inner.append(f"t.{ident(node.column)} AS {x}")
                chosen = f"{b} = 0 AND {w} = 0"
                counts += [(f"SUM({x}) FILTER (WHERE {chosen})", own(aid + "_s")),
                           (f"MIN({ROW}) FILTER (WHERE {chosen} AND {x} IS NULL)",
                            own(aid + "_z"))]
            if isinstance(node, ast.TotalOf) or id(node) in comp.reasons:
                if f"t.{ROW} AS {ROW}" not in inner:
                    inner.append(f"t.{ROW} AS {ROW}")
                counts += [(f"COALESCE(MIN({ROW}) FILTER (WHERE {b} IN {PENDING}), MIN({ROW}) "
                            f"FILTER (WHERE {b} = 0 AND {w} IN {PENDING}))", own(aid + "_fl")),
                           (f"CASE WHEN COUNT(*) FILTER (WHERE {b} IN {PENDING}) > 0 THEN "
                            f"MIN_BY({b}, {ROW}) FILTER (WHERE {b} IN {PENDING}) ELSE MIN_BY("
                            f"{w}, {ROW}) FILTER (WHERE {b} = 0 AND {w} IN {PENDING}) END",
                            own(aid + "_fv"))]
            counts += [(f"COUNT(*) FILTER (WHERE {b} = 0)", own(aid + "_n")),
                       (f"COUNT(*) FILTER (WHERE {b} = 0 AND {w} = 0)", own(aid + "_k")),
                       (f"COUNT(*) FILTER (WHERE {b} IN {PENDING} OR ({b} = 0 AND {w} IN "
                        f"{PENDING}))", own(aid + "_o"))]
        return inner, counts

    def view(self) -> Step:
        """`agg_*`: this group's rows of the table's `fused_step` (its code filled: a record
        without one, or with a wrong cell, counts for no member; the other groups' sets have
        it NULL)."""
        kod, etikett = self.fused_names()
        _, counts = self.parts
        cols = [f"{kod} AS {KOD}"] + [f"{etikett} AS {ETIKETT}" if name == etikett else name
                                      for _, name in counts]
        fused = ident(self.comp.names.table("poster", self.table))
        return step(self.name, f"SELECT {', '.join(cols)} FROM {fused} WHERE {kod} IS NOT NULL")

    def fused_names(self) -> tuple[str, str]:
        """This group's code and name columns in the `fused_step`."""
        return own(f"kod{self.index}"), own(f"etikett{self.index}")


def fused_step(names: Names, table: str, ok: str, groups: list[Counted]) -> Step:
    """`poster_<i>_<table>`: the aggregates of every group over one record table, in one scan
    of its typed rows (GROUPING SETS, a set per group), and how many of them have a wrong
    cell (`§felaktiga`, on the first set's rows: `§mängd` = 0). `ok` is the SQL that a record
    has none. A runner that knows there are none needs no scan to find the wrong rows
    (`wrong_rows_step`), and none has to be left out first: the records are read once."""
    inner = [f"t.{OK} AS {OK}"]
    first = groups[0].fused_names()[0]
    counts = [f"GROUPING({first}) AS {SET}", f"COUNT(*) FILTER (WHERE NOT {OK}) AS {WRONG}"]
    sets: list[str] = []
    for counted in groups:
        kod, _ = counted.fused_names()
        more, counted_here = counted.parts
        inner += [c for c in more if c not in inner]    # `t.§rad AS §rad` once
        counts += [kod, *(f"{x} AS {name}" for x, name in counted_here)]
        sets.append(f"({kod})")
    typed = ident(names.table("typ", table))
    return step(names.table("poster", table),
                f"SELECT {', '.join(counts)} FROM (SELECT {', '.join(inner)} FROM (SELECT *, "
                f"{ok} AS {OK} FROM {typed}) AS t) AS p GROUP BY GROUPING SETS "
                f"({', '.join(sets)})")


def wrong_records(names: Names, table: str) -> str:
    """How many records of `table` have a wrong cell, from its `fused_step` (one row)."""
    fused = ident(names.table("poster", table))
    return f"SELECT COALESCE(SUM({WRONG}), 0) FROM {fused} WHERE {SET} = 0"


def group_verdicts(plan: Plan, group: GroupPlan, names: Names,
                   kinds: dict[str, dict[str, str]] | None = None,
                   more: Callable[[Compiler], list[str]] | None = None
                   ) -> tuple[list[Counted], Step]:
    """The group's aggregates over each record table (`Counted`), and mot_<j>_<g>: `§kod`,
    `§namn`, `§ord`, one `§v<id>` per villkor (and `§nyckel` for the pot)."""
    comp = Compiler(plan, group, names, kinds)
    vids = [vid for vid in plan.villkor if applies_to(plan.version, vid) == group.name]
    verdicts = [f"{comp.villkor_code(vid)} AS {verdict_column(vid)}" for vid in vids]
    own_table = None if group.keyed else group.table   # a `via` group's recipients come from here
    if own_table is not None:
        comp.aggregates.setdefault(own_table, [])
    comp.base = names.alias(own_table) if own_table else "m"
    extra = [col for k, amount in enumerate(group.amounts, len(group.pots))   # pots first
             for col in _amount_columns(comp, amount, line_cols(k))]
    if more is not None:    # what the invoices and reconciliations read (settle.py)
        extra += more(comp)
    counted = [Counted(comp, table, group.name_column if table == own_table else None)
               for table in comp.aggregates]
    alias = names.alias(own_table) if own_table else "m"
    joins = "".join(f" LEFT JOIN {ident(names.aggregate(group.name, table))} AS "
                    f"{names.alias(table)} ON {names.alias(table)}.{KOD} = {alias}.{KOD}"
                    for table in comp.aggregates if table != own_table)
    for side in group.sides:    # a row per member: its first good row, if there is one
        if plan.model.tables[side].per_villkor:
            continue
        joins += (f" LEFT JOIN (SELECT * FROM {ident(names.table('bra', side))} WHERE {N} = 1) "
                  f"AS {names.side(side)} ON {names.side(side)}."
                  f"{ident(model_key(plan, side))} = {alias}.{KOD}")
    for (side, vid), pv in comp.per_villkor.items():   # and per villkor: the villkor's row
        vcol = ident(plan.model.tables[side].keys[1])
        joins += (f" LEFT JOIN (SELECT * FROM {ident(names.table('bra', side))} WHERE {N} = 1 "
                  f"AND {vcol} = {lit(vid)}) AS {pv} ON {pv}."
                  f"{ident(model_key(plan, side))} = {alias}.{KOD}")
    if group.members:
        rows = ", ".join(f"({lit(code)}, {lit(title)}, {i})"
                         for i, (code, title) in enumerate(group.members))
        base = f"SELECT * FROM (VALUES {rows}) AS v({KOD}, {NAMN}, {ORD})"
    elif group.keyed:
        key = ident(group.key)
        name = name_value(plan, group.table, group.name_column) if group.name_column else key
        base = (f"SELECT {key} AS {KOD}, COALESCE(CAST({name} AS VARCHAR), {key}) AS {NAMN}, "
                f"{ROW} AS {ORD}, * FROM {ident(names.table('bra', group.table))} WHERE {N} = 1")
        extra += [f"m.{ident(pot.key_column)} AS {line_cols(k).nyckel}"
                  for k, pot in enumerate(group.pots)]
    else:
        assert own_table is not None   # not keyed: the group's `via` table
        label = ETIKETT if group.name_column else "NULL"
        base = (f"SELECT *, COALESCE(CAST({label} AS VARCHAR), {KOD}) AS {NAMN}, "
                f"ROW_NUMBER() OVER (ORDER BY {KOD}) AS {ORD} "
                f"FROM {ident(names.aggregate(group.name, own_table))}")
    cols = ", ".join([f"{alias}.{KOD}", f"{alias}.{NAMN}", f"{alias}.{ORD}", *verdicts, *extra])
    return counted, step(names.group("mot", group.name),
                         f"SELECT {cols} FROM ({base}) AS {alias}{joins} ORDER BY {alias}.{ORD}")


def name_value(plan: Plan, table: str, column: str, prefix: str = "") -> str:
    """A recipient's name cell, NULL where the reference takes the code instead: it names a
    recipient `str(value or code)`, so a blank cell, and a heltal 0, give the code; a date is
    its ISO text, a heltal its digits (as SQL's CAST to text writes them)."""
    spec = plan.model.tables.get(table) or plan.model.records[table]
    cell = prefix + ident(column)
    return f"NULLIF({cell}, 0)" if spec.columns[column].type == T.HELTAL else cell


def model_key(plan: Plan, table: str) -> str:
    return plan.model.tables[table].keys[0]


def _amount_columns(comp: Compiler, amount: AmountPlan, c: LineCols) -> list[str]:
    """`§krav` (the payment's own krav), `§mått` (the measure) and `§mangel` (why the measure
    is missing, or NULL)."""
    cols = []
    requirement = amount.payment.requirement
    if requirement is not None:
        krav = comp.under(amount.payment.villkor, lambda: comp.verdict(requirement))
        cols.append(f"{krav} AS {c.krav}")
    m = amount.measure
    why = "CAST(NULL AS VARCHAR)"
    if m is None:
        value = "1"
    elif isinstance(m, (ast.TotalOf, ast.Count)):
        value, why = comp.measure(m)
    else:
        assert isinstance(m, ast.ColumnRef)   # the plan admits a column of the member's row
        value, why = comp.column(m, None), comp.why_blank(m)
    if any(r is not None for r in amount.reasons):   # a missing constant: the first reason met
        why = f"COALESCE({', '.join(why if r is None else lit(r) for r in amount.reasons)})"
    return cols + [f"{value} AS {c.matt}", f"{why} AS {c.mangel}"]




CHECKS = "kontroll"


def checks_step(plan: Plan, names: Names, absent: frozenset[str] = frozenset()
                ) -> Step | None:
    """One row: for each aggregate a kontroll reads (over all records, as the reference reads
    it with no recipient): rows (`§i_n`; NULL when the table's `valfri` file is `absent`),
    chosen (`_k`), undecided (`_o`), the first undecided line and its verdict (`_fl`, `_fv`),
    and for `summa` the sum (`_s`) and first blank line (`_z`). The runner decides the
    kontroll from these with the reference's own code."""
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
            rows = "CAST(NULL AS BIGINT)" if table in absent else f"COUNT(*) FILTER (WHERE {b} = 0)"
            counts += [f"{rows} AS {own(f'{i}_n')}",
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


