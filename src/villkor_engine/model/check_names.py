"""Declarations: every name once, tables and their files, recipient groups and their links.

The first pass of the checker: it fills the model's documents, groups, tables, record tables and
parameters (so later parts can resolve names against them) and reports duplicates, unknown
groups, missing key columns and a table's `fil` that names no data file the readers could take
(outside the data folder, an unknown extension) — at `check`, not first at `run`.
"""

from __future__ import annotations

from ..datafiles import HINT as PATH_HINT
from ..datafiles import ReadError, input_format, name_problem, shown
from ..diagnostics import Span, did_you_mean
from ..syntax import ast
from . import types as T
from .check_base import CheckerBase
from .model import ColumnSpec, GroupSpec, ParameterSpec, RecordSpec, TableSpec


class Declarations(CheckerBase):
    """Collects the declarations into the model and checks tables and groups against each
    other."""

    def collect(self, items) -> None:
        m = self.model
        seen: dict[str, Span] = {}

        def unique(kind: str, name: str, span: Span) -> bool:
            key = f"{kind}:{name}"
            if key in seen:
                self.err("V120", f"{kind} `{name}` är redan definierad (rad {seen[key].line})",
                         span, "ge den ett annat namn eller ta bort den ena")
                return False
            seen[key] = span
            return True

        names: dict[str, Span] = {}
        for i in items:
            if isinstance(i, ast.Document) and unique("dokumentet", i.name, i.span):
                m.documents[i.name] = i
            elif isinstance(i, ast.Group) and unique("mottagargruppen", i.name, i.span):
                m.groups[i.name] = GroupSpec(i.name, i.table, i.name_column, i.members, i.span,
                                             i.via)
            elif isinstance(i, ast.Table) and unique("tabellen", i.name, i.span):
                m.tables[i.name] = self.table_spec(i)
            elif isinstance(i, ast.RecordTable) and unique("tabellen", i.name, i.span):
                spec = self.table_spec(i)
                links = {}
                for link in i.links:
                    if link.group in links:
                        self.err("V120", f"länken till `{link.group}` anges två gånger", link.span)
                    links[link.group] = link.column
                m.records[i.name] = RecordSpec(i.name, i.file, i.optional, links, spec.columns,
                                               i.span, i.decimal)
            elif isinstance(i, ast.Invoicing):
                unique("faktureringen", i.name, i.span)
            elif isinstance(i, ast.Reconciliation):
                unique("avstämningen", i.name, i.span)
            elif isinstance(i, ast.Parameter):
                if i.name in names:
                    self.err("V120", f"namnet `{i.name}` är redan definierat "
                             f"(rad {names[i.name].line})", i.span)
                    continue
                names[i.name] = i.span
                m.parameters[i.name] = ParameterSpec(i.name, i.type.name, i.default, i.sources,
                                                     i.span)
            elif isinstance(i, ast.Value):
                if i.name in names:
                    self.err("V120", f"namnet `{i.name}` är redan definierat "
                             f"(rad {names[i.name].line})", i.span)
                names[i.name] = i.span
            elif isinstance(i, ast.Villkor):
                unique("villkor", i.vid, i.span)
            elif isinstance(i, ast.Payment):
                unique("utbetalningen", i.name, i.span)
            elif isinstance(i, ast.Event):
                unique("fristen", i.name, i.span)
            elif isinstance(i, ast.Amendment):
                unique("tillägget", i.name, i.span)
            elif isinstance(i, ast.Total):
                if m.total is not None:
                    self.err("V120", "summaregeln anges två gånger", i.span)
                m.total = i

    def table_spec(self, t) -> TableSpec:
        cols: dict[str, ColumnSpec] = {}
        for c in t.columns:
            if c.name in cols:
                self.err("V120", f"kolumnen `{c.name}` finns två gånger i tabellen `{t.name}`",
                         c.span)
                continue
            cols[c.name] = ColumnSpec(c.name, c.type.name, c.type.values, "valfri" in c.flags,
                                      "obligatorisk" in c.flags, "positiv" in c.flags, c.span)
            if "positiv" in c.flags and c.type.name not in (T.BELOPP, *T.NUMERIC):
                self.err("V110", f"`positiv` passar bara tal och belopp, inte {c.type.name}",
                         c.span)
        problem = name_problem(t.file)   # a `fil` stays inside --data: said at `check`
        if problem is not None:
            self.err("V214", f"tabellen `{t.name}`: filen `{shown(t.file)}` ska ligga i "
                     f"datamappen: {problem}", t.span, PATH_HINT)
        try:
            input_format(t.file)      # found at `check`, not first at `run`
        except ReadError as exc:
            self.err(exc.code, f"tabellen `{t.name}`: {exc.message}", t.span, exc.hint)
        if isinstance(t, ast.RecordTable):
            return TableSpec(t.name, t.file, t.optional, "", False, (), cols, t.span, t.decimal)
        return TableSpec(t.name, t.file, t.optional, t.group, t.per_villkor, t.keys, cols, t.span,
                         t.decimal)

    def check_groups(self) -> None:
        m = self.model
        for g in m.groups.values():
            if g.via is not None:
                rec = m.records.get(g.table or "")
                if rec is None:
                    self.err("V102", f"`{g.table}` är ingen tabell med poster", g.span,
                             did_you_mean(g.table or "", m.records))
                    continue
                if g.via not in rec.columns:
                    self.err("V102", f"tabellen `{rec.name}` har ingen kolumn `{g.via}`", g.span,
                             did_you_mean(g.via, rec.columns))
                    continue
                rec.links.setdefault(g.name, g.via)
                self.used_tables.add(rec.name)
                self.used_columns.add((rec.name, g.via))
                if g.name_column is not None:
                    if g.name_column not in rec.columns:
                        self.err("V102", f"tabellen `{rec.name}` har ingen kolumn "
                                 f"`{g.name_column}`", g.span,
                                 did_you_mean(g.name_column, rec.columns))
                    self.used_columns.add((rec.name, g.name_column))
                continue
            if g.table is None:
                codes = [x.code for x in g.members]
                for x in g.members:
                    if codes.count(x.code) > 1:
                        self.err("V120", f"mottagaren `{x.code}` finns två gånger", x.span)
                continue
            table = m.tables.get(g.table)
            if table is None:
                self.err("V102", f"okänd tabell `{g.table}`", g.span,
                         did_you_mean(g.table, m.tables))
                continue
            self.used_tables.add(table.name)
            if table.group != g.name:
                self.err("V106", f"tabellen `{table.name}` gäller `{table.group}`, inte `{g.name}`",
                         table.span, f"skriv `per {g.name}` i tabellen")
            if g.name_column not in table.columns:
                self.err("V102", f"tabellen `{table.name}` har ingen kolumn `{g.name_column}`",
                         g.span, did_you_mean(g.name_column or "", table.columns))
            else:
                self.used_columns.add((table.name, g.name_column))
        for code in {x.code for g in m.groups.values() for x in g.members}:
            owners = [g.name for g in m.groups.values() if any(x.code == code for x in g.members)]
            if len(owners) > 1:
                self.err("V120", f"mottagaren `{code}` finns i flera grupper: {', '.join(owners)}",
                         None)

    def check_tables(self) -> None:
        m = self.model
        for r in m.records.values():
            for group, column in r.links.items():
                if group not in m.groups:
                    self.err("V105", f"okänd mottagargrupp `{group}`", r.span,
                             did_you_mean(group, m.groups))
                if column not in r.columns:
                    self.err("V102", f"tabellen `{r.name}` har ingen kolumn `{column}`", r.span,
                             did_you_mean(column, r.columns))
                else:
                    self.used_columns.add((r.name, column))
        for t in m.tables.values():
            if t.group not in m.groups:
                self.err("V105", f"okänd mottagargrupp `{t.group}`", t.span,
                         did_you_mean(t.group, m.groups))
            want = 2 if t.per_villkor else 1
            if len(t.keys) != want:
                self.err("V107", f"tabellen `{t.name}` ska ha {want} nyckelkolumn"
                         f"{'er' if want > 1 else ''}", t.span,
                         "`per GRUPP och villkor nyckel mottagarkolumn, villkorskolumn`"
                         if want == 2 else "`per GRUPP nyckel kolumn`")
            for k in t.keys:
                if k not in t.columns:
                    self.err("V102", f"nyckeln `{k}` är inte en kolumn i tabellen `{t.name}`",
                             t.span, did_you_mean(k, t.columns))
                else:
                    self.used_columns.add((t.name, k))
