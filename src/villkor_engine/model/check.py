"""Syntax tree → checked model: resolve names, infer types and units, collect every mistake.

The checker never stops at the first problem: it walks every declaration and reports all it finds,
each with a code, a span and, where it can, a "menade du …?" hint.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Diagnostic, Diagnostics, Span, did_you_mean
from ..io.paths import HINT as PATH_HINT
from ..io.paths import name_problem, shown
from ..io.readers import ReadError, input_format
from ..syntax import ast
from . import types as T
from .model import ColumnSpec, GroupSpec, Model, ParameterSpec, RecordSpec, TableSpec

REVIEW_CODES = {"godkänd", "underkänd", "komplettering"}


@dataclass
class Scope:
    """What an expression may see: the recipient group it runs for (None: no recipient)."""

    group: str | None
    villkor_ids: frozenset[str]
    where: str  # for messages: "i villkor 1", "i värdet ram" …
    record: str | None = None  # inside antal/summa/andel: the record table being walked
    constant: bool = False     # a värde or a parameter's default: the same for every recipient


def check(module: ast.Module) -> tuple[Model | None, list[Diagnostic]]:
    c = _Checker(module)
    c.run()
    model = c.model if not c.diags.has_errors else None
    return model, c.diags.items


class _Checker:
    def __init__(self, module: ast.Module):
        self.module = module
        self.diags = Diagnostics()
        self.used_tables: set[str] = set()
        self.used_columns: set[tuple[str, str]] = set()
        self.used_params: set[str] = set()
        self.model = Model(module.file, module.text, None, {}, {}, {}, {}, {}, None, [], [])

    # ---- helpers
    def err(self, code: str, msg: str, span: Span | None, hint: str | None = None) -> None:
        self.diags.add(code, msg, span, hint=hint)

    def warn(self, code: str, msg: str, span: Span | None, hint: str | None = None) -> None:
        self.diags.add(code, msg, span, hint=hint, severity="varning")

    def run(self) -> None:
        m = self.model
        items = self.module.items
        agreements = [i for i in items if isinstance(i, ast.Agreement)]
        if not agreements:
            self.err("V100", "filen saknar `överenskommelse … slut`", Span.point(self.module.file),
                     "börja filen med överenskommelsens namn, diarienummer och parter")
        for extra in agreements[1:]:
            self.err("V120", "överenskommelsen anges två gånger", extra.span)
        m.agreement = agreements[0] if agreements else None
        self.collect(items)
        for i in items:
            if isinstance(i, ast.Amendment):
                m.amendments.append(i)
            elif isinstance(i, ast.Invoicing):
                m.invoicing.append(i)
            elif isinstance(i, ast.Reconciliation):
                m.reconciliations.append(i)
            elif not isinstance(i, (ast.Agreement, ast.Document, ast.Group, ast.Table,
                                    ast.RecordTable, ast.Parameter, ast.Total)):
                m.base.append(i)
        self.check_groups()
        self.check_tables()
        self.check_values()
        self.all_villkor_ids = self.villkor_ids()
        for version_items, label in [(m.base, None)] + [(a.items, a) for a in m.amendments]:
            self.check_items(version_items, label)
        for a in [None] + m.amendments:
            self.check_villkor_cycles(m.version_at(a.in_force if a else None).villkor.values()
                                      if a else m.base)
        for a in m.amendments:
            self.check_sources(a.sources, a.span, "tillägget", required=True)
            if not a.items:
                self.warn("V153", f"tillägget `{a.name}` ändrar ingenting", a.span)
        for inv in m.invoicing:
            self.check_invoicing(inv)
        for rec in m.reconciliations:
            self.check_reconciliation(rec)
        if m.total:
            self.check_sources(m.total.sources, m.total.span, "summaregeln", required=False)
            if m.total.rounding.mode != "halvt uppåt":
                self.err("V173", "summan per mottagare avrundas en gång; `största rest` passar "
                         "bara en pott", m.total.span,
                         "skriv `avrundning hela kronor, halvt uppåt`")
        self.check_unused()
        if not self.diags.has_errors:
            self.run_checks()
        # each finding once, even where several versions share the item it is about
        unique: dict[tuple, Diagnostic] = {}
        for d in self.diags.items:
            unique.setdefault((d.code, d.message, d.span), d)
        self.diags.items = list(unique.values())

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

    # ---- values and parameters
    def check_values(self) -> None:
        m = self.model
        values: dict[str, ast.Value] = {}
        for v in m.all_items():
            if isinstance(v, ast.Value):
                values.setdefault(v.name, v)
        self.values_by_name = values
        for p in m.parameters.values():
            self.check_sources(p.sources, p.span, f"parametern `{p.name}`", required=False)
            if p.default is not None:
                got = self.infer(p.default, Scope(None, frozenset(), f"parametern {p.name}",
                                                  constant=True))
                if got and not T.assignable(p.type, got):
                    self.err("V110", f"parametern `{p.name}` är {p.type} men värdet är {got}",
                             p.default.span)
        order = self.value_order(values)
        for name in order:
            v = values[name]
            got = self.infer(v.expr, Scope(None, frozenset(), f"värdet {name}", constant=True))
            declared = v.type.name if v.type else None
            if declared and got and not T.assignable(declared, got):
                self.err("V110", f"`{name}` är deklarerad som {declared} men uttrycket ger {got}",
                         v.expr.span, _unit_hint(declared, got, v.expr) or
                         f"typerna: deklarerad {declared}, uttryck {got}")
            m.value_types[name] = declared or got or "okänd"

    def value_order(self, values: dict[str, ast.Value]) -> list[str]:
        """Dependency order of values; a cycle is an error naming its members."""
        deps = {n: {r for r in _names(v.expr) if r in values} for n, v in values.items()}
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(n: str, path: list[str]) -> None:
            if state.get(n) == 2:
                return
            if state.get(n) == 1:
                cycle = path[path.index(n):] + [n]
                self.err("V130", "cirkulär definition: " + " → ".join(cycle), values[n].span,
                         "ett värde kan inte bero på sig självt")
                return
            state[n] = 1
            for d in sorted(deps[n]):
                visit(d, path + [n])
            state[n] = 2
            order.append(n)

        for n in values:
            visit(n, [])
        return order

    def villkor_ids(self) -> frozenset[str]:
        ids = set()
        for v in self.model.all_items():
            if isinstance(v, ast.Villkor):
                ids.add(v.vid)
                ids.update(s.vid for s in v.subs)
        return frozenset(ids)

    # ---- villkor, payments, events, checks
    def check_items(self, items, amendment: ast.Amendment | None) -> None:
        for i in items:
            if isinstance(i, ast.Villkor):
                self.check_villkor(i)
            elif isinstance(i, ast.Payment):
                self.check_payment(i)
            elif isinstance(i, ast.Event):
                self.check_event(i, items)
            elif isinstance(i, ast.Check):
                self.check_sources(i.sources, i.span, "kontrollen", required=False)
                got = self.infer(i.expr, Scope(None, frozenset(), "kontrollen"))
                if got and not T.is_logical(got):
                    self.err("V110", f"en kontroll ska vara ett påstående, inte {got}",
                             i.expr.span)
                if i.tolerance is not None:
                    self.infer(i.tolerance, Scope(None, frozenset(), "kontrollen"))
            elif isinstance(i, ast.Value):
                self.check_sources(i.sources, i.span, f"värdet `{i.name}`", required=True)
                if amendment is not None and i.name in self.model.value_types:
                    base = self.values_by_name.get(i.name)
                    if base is not None and base is not i:
                        got = self.infer(i.expr, Scope(None, frozenset(), f"värdet {i.name}",
                                                       constant=True))
                        if got and not T.assignable(self.model.value_types[i.name], got):
                            self.err("V110", f"tillägget ändrar typen på `{i.name}` till {got}",
                                     i.span)

    def check_villkor_cycles(self, items) -> None:
        """`villkor 1` may not, through its krav and delvillkor, depend on itself."""
        deps: dict[str, set[str]] = {}
        spans: dict[str, Span] = {}
        for v in (i for i in items if isinstance(i, ast.Villkor)):
            deps[v.vid] = (_villkor_refs(v.requirement) if v.requirement else set()) | \
                {s.vid for s in v.subs if v.requirement is None}
            spans[v.vid] = v.span
            for s in v.subs:
                deps[s.vid] = _villkor_refs(s.requirement) if s.requirement else set()
                spans[s.vid] = s.span
        done: set[str] = set()
        for start in deps:
            path, stack = [], [(start, iter(sorted(deps[start])))]
            on_path = {start}
            path.append(start)
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    stack.pop()
                    on_path.discard(path.pop())
                    done.add(node)
                elif nxt in on_path:
                    cycle = path[path.index(nxt):] + [nxt]
                    self.err("V130", "cirkulärt villkor: " + " → ".join(cycle), spans[nxt],
                             "ett villkor kan inte bero på sig självt")
                    return
                elif nxt in deps and nxt not in done:
                    stack.append((nxt, iter(sorted(deps[nxt]))))
                    on_path.add(nxt)
                    path.append(nxt)

    def check_villkor(self, v: ast.Villkor) -> None:
        m = self.model
        self.check_sources(v.sources, v.span, f"villkor {v.vid}", required=True)
        group = v.applies
        if group is None:
            self.err("V108", f"villkor {v.vid} säger inte vilka det gäller", v.span,
                     "lägg till `gäller regioner` (eller en annan mottagargrupp)")
        elif group not in m.groups:
            self.err("V105", f"okänd mottagargrupp `{group}`", v.span,
                     did_you_mean(group, m.groups))
            group = None
        elif v.only and m.groups[group].table is None:
            members = [x.code for x in m.groups[group].members]
            for code in v.only:
                if code not in members:
                    self.err("V105", f"`{code}` är ingen mottagare i `{group}`", v.span,
                             did_you_mean(code, members) or "mottagarna är: " + ", ".join(members))
        scope = Scope(group, self.all_villkor_ids, f"villkor {v.vid}")
        sub_ids = [s.vid for s in v.subs]
        for s in v.subs:
            if sub_ids.count(s.vid) > 1:
                self.err("V120", f"delvillkor {s.vid} finns två gånger", s.span)
            if not s.vid.startswith(v.vid + "."):
                self.warn("V151", f"delvillkor {s.vid} hör inte till villkor {v.vid}", s.span,
                          f"numrera delvillkoren {v.vid}.1, {v.vid}.2 …")
            self.check_sources(s.sources, s.span, f"delvillkor {s.vid}", required=False)
            if s.requirement is None:
                self.err("V109", f"delvillkor {s.vid} saknar `krav`", s.span)
            else:
                self.logical(s.requirement, scope)
        if v.requirement is not None:
            self.logical(v.requirement, scope)
            used = _villkor_refs(v.requirement)
            for s in v.subs:
                if s.vid not in used:
                    self.warn("V154", f"delvillkor {s.vid} påverkar inte villkor {v.vid}: "
                              "villkorets `krav` nämner det inte", s.span,
                              f"ta med `villkor {s.vid}` i kravet, eller ta bort kravet så att "
                              "alla delvillkor gäller")
        elif not v.subs:
            self.err("V109", f"villkor {v.vid} saknar `krav` och delvillkor", v.span,
                     "skriv `krav …` eller minst ett `delvillkor`")
        if v.report_due:
            self.column_of_type(v.report_due.table, v.report_due.column, T.DATUM, group,
                                v.report_due.span)
        if v.review:
            self.check_review(v.review, group)

    def check_review(self, r: ast.Review, group: str | None) -> None:
        t = self.model.tables.get(r.table)
        if t is None:
            self.err("V102", f"okänd tabell `{r.table}`", r.span,
                     did_you_mean(r.table, self.model.tables))
            return
        self.used_tables.add(t.name)
        self.used_columns.update((t.name, c) for c in t.columns)
        if not t.per_villkor:
            self.err("V107", f"beslutstabellen `{t.name}` ska vara `per {t.group} och villkor`",
                     t.span)
        beslut = t.columns.get("beslut")
        if beslut is None or set(beslut.values) != REVIEW_CODES:
            self.err("V107", f"beslutstabellen `{t.name}` ska ha kolumnen "
                     "`beslut: kod(godkänd, underkänd, komplettering)`", t.span)
        if r.reply_days is not None and "begard" not in t.columns:
            self.err("V107", f"beslutstabellen `{t.name}` saknar kolumnen `begard: datum` för "
                     "kompletteringens datum", t.span)
        if group and t.group != group:
            self.err("V106", f"tabellen `{t.name}` gäller `{t.group}`, villkoret `{group}`", r.span)

    def check_payment(self, p: ast.Payment) -> None:
        m = self.model
        self.check_sources(p.sources, p.span, f"utbetalningen `{p.name}`", required=True)
        if p.villkor is not None and p.unconditional:
            self.err("V120", f"utbetalningen `{p.name}` anger både `villkor` och `utan villkor`",
                     p.span)
        if p.villkor is None and not p.unconditional:
            self.warn("V152", f"utbetalningen `{p.name}` hör inte till något villkor", p.span,
                      "lägg till `villkor N`, eller `utan villkor` om källan inte ställer något")
        elif p.villkor is not None and p.villkor not in self.all_villkor_ids:
            self.err("V103", f"okänt villkor {p.villkor}", p.span,
                     did_you_mean(p.villkor, self.all_villkor_ids))
        rule = p.rule
        if rule is None:
            self.err("V170", f"utbetalningen `{p.name}` saknar beräkningsregel", p.span,
                     "skriv `belopp … till MOTTAGARE`, `belopp … till varje mottagare i GRUPP` "
                     "eller `pott … delas mellan …`")
            return
        group: str | None
        if isinstance(rule, ast.Fixed):
            group = m.group_of_member(rule.recipient)
            if group is None:
                self.err("V105", f"okänd mottagare `{rule.recipient}`", rule.span,
                         did_you_mean(rule.recipient,
                                      [x.code for g in m.groups.values() for x in g.members]))
            amount_scope = Scope(None, self.all_villkor_ids, f"utbetalningen {p.name}")
        else:
            group = rule.group if rule.group in m.groups else None
            if group is None:
                self.err("V105", f"okänd mottagargrupp `{rule.group}`", rule.span,
                         did_you_mean(rule.group, m.groups))
            amount_scope = Scope(group if isinstance(rule, ast.PerMember) else None,
                                 self.all_villkor_ids, f"utbetalningen {p.name}")
        scope = Scope(group, self.all_villkor_ids, f"utbetalningen {p.name}")
        self.typed(rule.amount, amount_scope, T.BELOPP, "beloppet")
        if isinstance(rule, ast.Pot):
            got = self.infer(rule.key, scope)
            if got and got not in T.NUMERIC:
                self.err("V110", f"fördelningsnyckeln ska vara ett tal, inte {got}",
                         rule.key.span)
        if p.requirement is not None:
            self.logical(p.requirement, scope)
        if p.cap_each is not None:
            self.typed(p.cap_each, Scope(None, frozenset(), "taket"), T.BELOPP, "taket")
        if p.cap_total is not None:
            self.typed(p.cap_total, Scope(None, frozenset(), "taket"), T.BELOPP, "taket")
        villkor = self._villkor_decl(p.villkor)
        if isinstance(rule, ast.Pot) and villkor is not None and villkor.applies \
                and villkor.applies != rule.group:
            self.warn("V156", f"potten delas mellan `{rule.group}`, men villkor {p.villkor} gäller "
                      f"`{villkor.applies}`: ingen i `{rule.group}` prövas mot villkoret",
                      rule.span, f"dela potten mellan `{villkor.applies}`")
        if villkor is not None and villkor.report_due and p.due and villkor.report_due.due > p.due:
            self.warn("V157", f"redovisningen av villkor {p.villkor} ska in "
                      f"{villkor.report_due.due.isoformat()}, efter att utbetalningen ska vara "
                      f"gjord ({p.due.isoformat()})", p.span,
                      "kontrollera datumen i källan")
        if isinstance(rule, (ast.Pot, ast.PerMember)) and p.rounding is None:
            self.err("V172", f"utbetalningen `{p.name}` anger inte hur andelarna avrundas",
                     rule.span, "lägg till t.ex. `avrundning hela kronor, halvt uppåt per andel`")
        if p.rounding and p.rounding.mode == "största rest" and not isinstance(rule, ast.Pot):
            self.err("V173", "`största rest` passar bara en pott som ska gå jämnt ut",
                     p.rounding.span, "använd `halvt uppåt`")

    INVOICE_COLUMNS = {"produktkod": (T.KOD, T.TEXT), "månad": (T.KOD, T.TEXT),
                       "antal": (T.HELTAL,), "belopp": (T.BELOPP,)}

    def check_invoicing(self, inv: ast.Invoicing) -> None:
        m = self.model
        self.check_sources(inv.sources, inv.span, f"faktureringen `{inv.name}`", required=True)
        rec = m.records.get(inv.table)
        if rec is None:
            self.err("V102", f"`{inv.table}` är ingen tabell med poster", inv.span,
                     did_you_mean(inv.table, m.records) or "deklarera `tabell … poster`")
            return
        self.used_tables.add(rec.name)
        for col, kinds in self.INVOICE_COLUMNS.items():
            spec = rec.columns.get(col)
            if spec is None or spec.type not in kinds:
                self.err("V107", f"fakturatabellen `{rec.name}` ska ha kolumnen `{col}: "
                         f"{kinds[0]}`", rec.span)
            else:
                self.used_columns.add((rec.name, col))
        for col, _ in inv.requires:
            if col not in rec.columns:
                self.err("V102", f"tabellen `{rec.name}` har ingen kolumn `{col}`", inv.span,
                         did_you_mean(col, rec.columns))
            else:
                self.used_columns.add((rec.name, col))
        codes = [p.code for p in inv.products]
        # prices and caps are each recipient's own: the line's recipient, through the link
        scope = Scope(next(iter(rec.links), None), frozenset(), f"faktureringen {inv.name}")
        for p in inv.products:
            if codes.count(p.code) > 1:
                self.err("V120", f"produktkoden {p.code} finns två gånger", p.span)
            for e, what in ((p.price, "priset"), (p.cap, "taket")):
                if e is not None:
                    self.typed(e, scope, T.BELOPP, what)
        if not inv.products:
            self.err("V170", f"faktureringen `{inv.name}` anger inga produkter", inv.span,
                     "skriv `produkt KOD \"namn\" pris … per styck` eller `… högst …`")

    def check_reconciliation(self, r: ast.Reconciliation) -> None:
        m = self.model
        self.check_sources(r.sources, r.span, f"avstämningen `{r.name}`", required=True)
        if r.group not in m.groups:
            self.err("V105", f"okänd mottagargrupp `{r.group}`", r.span,
                     did_you_mean(r.group, m.groups))
            return
        scope = Scope(r.group, self.all_villkor_ids, f"avstämningen {r.name}")
        for e, what in ((r.invoiced, "fakturerat"), (r.earned, "intjänat"),
                        (r.granted, "beviljat")):
            if e is not None:
                self.typed(e, scope, T.BELOPP, f"`{what}`")
        if r.requirement is not None:
            self.logical(r.requirement, scope)
        if r.rounding is not None and r.rounding.mode != "halvt uppåt":
            self.err("V173", "en avstämning avrundas halvt uppåt", r.rounding.span)
        if r.repay_verdict not in (None, "bedömning krävs", "ej uppfyllt"):
            self.err("V110", f"`vid återbetalning {r.repay_verdict}`: en återbetalning är antingen "
                     "beslutad (`ej uppfyllt`) eller en fråga för en person (`bedömning krävs`)",
                     r.span, "skriv `vid återbetalning bedömning krävs` där källan säger att "
                     "frågan \"kan väckas\"")
        if r.invoiced is None or r.earned is None:
            self.err("V170", f"avstämningen `{r.name}` behöver både `fakturerat` och `intjänat`",
                     r.span)

    def _villkor_decl(self, vid: str | None) -> ast.Villkor | None:
        """The latest declaration of a villkor (amendments after the base)."""
        found = None
        for item in self.model.all_items():
            if isinstance(item, ast.Villkor) and item.vid == vid:
                found = item
        return found

    def check_event(self, e: ast.Event, items) -> None:
        self.check_sources(e.sources, e.span, f"fristen `{e.name}`", required=False)
        if isinstance(e.when, ast.DaysAfter):
            names = {i.name for i in self.model.base if isinstance(i, ast.Event)} | \
                    {i.name for i in items if isinstance(i, ast.Event)}
            if e.when.event not in names:
                self.err("V101", f"okänd frist `{e.when.event}`", e.when.span,
                         did_you_mean(e.when.event, names))
        if isinstance(e.when, ast.InWeek) and not 1 <= e.when.week <= 53:
            self.err("V013", f"vecka {e.when.week} finns inte", e.when.span)

    def check_sources(self, sources, span: Span, what: str, *, required: bool) -> None:
        """A `källa` (an assumption is no citation: it may stand beside one, not instead)."""
        if not any(not s.is_assumption for s in sources):
            if required:
                self.err("V140", f"{what} saknar `källa`", span,
                         "ange dokument och avsnitt, t.ex. `källa tillägg \"3. Villkor 1\"`")
            else:
                self.warn("V141", f"{what} saknar `källa`", span)
        for s in sources:
            if not s.is_assumption and s.document not in self.model.documents:
                self.err("V104", f"okänt dokument `{s.document}` i källa", s.span,
                         did_you_mean(s.document, self.model.documents)
                         or "deklarera det med `dokument NAMN \"titel\"`")

    # ---- expressions
    def logical(self, e: ast.Expr, scope: Scope) -> None:
        got = self.infer(e, scope)
        if got and not T.is_logical(got):
            self.err("V110", f"ett krav ska vara ja/nej eller ett utfall, inte {got}", e.span,
                     "jämför, t.ex. `x >= 70 %`, eller skriv `x är ja`")

    def typed(self, e: ast.Expr, scope: Scope, want: str, what: str) -> None:
        got = self.infer(e, scope)
        if got and not T.assignable(want, got):
            self.err("V110", f"{what} ska vara {want}, men uttrycket är {got}", e.span,
                     _unit_hint(want, got, e))

    def column_of_type(self, table: str, column: str, want: str, group: str | None,
                       span: Span) -> None:
        got = self.infer(ast.ColumnRef(table, column, span), Scope(group, frozenset(), ""))
        if got and got != want:
            self.err("V110", f"`{table}.{column}` ska vara {want}, inte {got}", span)

    def infer(self, e: ast.Expr, scope: Scope) -> str | None:
        """The type of `e`, or None after reporting why it has none."""
        m = self.model
        if isinstance(e, ast.Num):
            if e.unit == "kr":
                return T.BELOPP
            if e.unit == "%":
                return T.ANDEL
            if e.unit == "dagar":
                return T.DAGAR
            return T.HELTAL if e.value.denominator == 1 else T.DECIMALTAL
        if isinstance(e, ast.DateLit):
            return T.DATUM
        if isinstance(e, ast.Str):
            return T.TEXT
        if isinstance(e, ast.Bool):
            return T.JANEJ
        if isinstance(e, ast.VerdictLit):
            return T.UTFALL
        if isinstance(e, ast.Name):
            if e.name in m.parameters:
                self.used_params.add(e.name)
                return m.parameters[e.name].type
            if e.name in self.values_by_name:
                return m.value_types.get(e.name)  # None while its own cycle is reported
            self.err("V101", f"okänt namn `{e.name}`", e.span,
                     did_you_mean(e.name, list(m.parameters) + list(self.values_by_name)))
            return None
        if isinstance(e, ast.ColumnRef) and e.table in m.records:
            col = self.column(m.records[e.table], e)
            if col is None:
                return None
            if scope.record != e.table:
                self.err("V107", f"`{e.table}` är en tabell med poster: läs den med antal(…), "
                         "summa(…) eller andel(…)", e.span,
                         f"t.ex. `antal({e.table} där {e.table}.{e.column} …)`")
            return col.type
        if isinstance(e, (ast.Count, ast.TotalOf, ast.ShareOf)):
            return self.infer_aggregate(e, scope)
        if isinstance(e, ast.Conditional):
            test = self.infer(e.test, scope)
            if test and not T.is_logical(test):
                self.err("V110", f"`om` ska följas av ett villkor, inte {test}", e.test.span)
            a, b = self.infer(e.then, scope), self.infer(e.otherwise, scope)
            if a is None or b is None:
                return None
            if T.assignable(a, b):
                return a
            if T.assignable(b, a):
                return b
            self.err("V110", f"`då` ger {a} men `annars` ger {b}", e.span,
                     "båda grenarna ska ha samma typ, t.ex. `annars 0 kr`")
            return None
        if isinstance(e, ast.Between):
            got = self.infer(e.operand, scope)
            if got and got != T.DATUM:
                self.err("V110", f"`mellan` gäller datum, inte {got}", e.span)
            if e.end < e.start:
                self.err("V110", "perioden slutar före den börjar", e.span)
            return T.UTFALL
        if isinstance(e, ast.ColumnRef):
            t = m.tables.get(e.table)
            if t is None:
                self.err("V102", f"okänd tabell `{e.table}`", e.span,
                         did_you_mean(e.table, list(m.tables) + list(m.records)))
                return None
            col = self.column(t, e)
            if col is None:
                return None
            if scope.group is None:
                self.err("V107", f"`{e.table}.{e.column}` läser en mottagares rad, men "
                         f"{scope.where} gäller ingen mottagare", e.span,
                         "läs tabeller i villkor och utbetalningar, inte i värden")
            elif t.group != scope.group:
                self.err("V106", f"tabellen `{t.name}` gäller `{t.group}`, men {scope.where} "
                         f"gäller `{scope.group}`", e.span)
            return col.type
        if isinstance(e, ast.VillkorRef):
            if scope.group is None and e.vid in scope.villkor_ids:
                self.err("V107", f"`villkor {e.vid}` prövas för en mottagare, men {scope.where} "
                         "gäller ingen enskild mottagare", e.span,
                         "ställ kravet i utbetalningen (`krav villkor …`) i stället för i beloppet")
                return None
            if e.vid not in scope.villkor_ids:
                self.err("V103", f"okänt villkor {e.vid}", e.span,
                         did_you_mean(e.vid, scope.villkor_ids))
                return None
            return T.UTFALL
        if isinstance(e, ast.Binary):
            a, b = self.infer(e.left, scope), self.infer(e.right, scope)
            if a is None or b is None:
                return None
            r = T.binary(e.op, a, b)
            if r is None:
                self.err("V110", f"`{e.op}` går inte mellan {a} och {b}", e.span,
                         f"vänster sida är {a}, höger sida är {b}")
            return r
        if isinstance(e, ast.About):
            a, b = self.infer(e.left, scope), self.infer(e.right, scope)
            if a and b and not (T.comparable("<", a, b) and a in (T.BELOPP, *T.NUMERIC)):
                self.err("V110", f"`är cirka` jämför tal eller belopp, inte {a} och {b}", e.span,
                         f"vänster sida är {a}, höger sida är {b}")
            return T.UTFALL
        if isinstance(e, ast.Compare):
            a, b = self.infer(e.left, scope), self.infer(e.right, scope)
            if a and b and not T.comparable(e.op, a, b):
                self.err("V110", f"{a} och {b} kan inte jämföras med `{e.op}`", e.span,
                         f"vänster sida är {a}, höger sida är {b}")
            return T.UTFALL
        if isinstance(e, ast.Logic):
            for side in (e.left, e.right):
                got = self.infer(side, scope)
                if got and not T.is_logical(got):
                    self.err("V110", f"`{e.op}` binder ihop krav, men detta är {got}", side.span)
            return T.UTFALL
        if isinstance(e, ast.Not):
            got = self.infer(e.operand, scope)
            if got and not T.is_logical(got):
                self.err("V110", f"`inte` gäller krav, men detta är {got}", e.operand.span)
            return T.UTFALL
        if isinstance(e, ast.Negate):
            got = self.infer(e.operand, scope)
            if got and got not in (T.BELOPP, T.DAGAR, *T.NUMERIC):
                self.err("V110", f"minustecken passar inte {got}", e.span)
                return None
            return got
        if isinstance(e, ast.Is):
            got = self.infer(e.operand, scope)
            if e.what in ("ja", "nej") and got and got != T.JANEJ:
                self.err("V110", f"`är {e.what}` passar ja/nej-frågor, men detta är {got}",
                         e.span)
            return T.UTFALL
        raise AssertionError(type(e))

    def column(self, table, e: ast.ColumnRef) -> ColumnSpec | None:
        """A column of a keyed or record table, marked used; unknown → V102 with a hint."""
        col = table.columns.get(e.column)
        if col is None:
            self.err("V102", f"tabellen `{e.table}` har ingen kolumn `{e.column}`", e.span,
                     did_you_mean(e.column, table.columns))
            return None
        self.used_tables.add(table.name)
        self.used_columns.add((table.name, col.name))
        return col

    def infer_aggregate(self, e, scope: Scope) -> str | None:
        m = self.model
        rec = m.records.get(e.table)
        if rec is None:
            self.err("V102", f"`{e.table}` är ingen tabell med poster", e.span,
                     did_you_mean(e.table, m.records) or "deklarera den med `tabell … poster`")
            return None
        self.used_tables.add(rec.name)
        if scope.constant:
            self.err("V107", f"{scope.where} gäller hela överenskommelsen och kan inte räkna "
                     f"poster i `{rec.name}`: ett värde är detsamma för alla mottagare", e.span,
                     "skriv antal(…)/summa(…)/andel(…) där det används, i villkoret eller "
                     "utbetalningen, så räknas varje mottagares egna poster")
            return None
        if scope.record is not None:
            self.err("V107", "antal/summa/andel kan inte nästlas i varandra", e.span)
            return None
        if scope.group is not None and scope.group not in rec.links:
            self.err("V106", f"tabellen `{rec.name}` är inte kopplad till `{scope.group}`", e.span,
                     f"lägg till `per {scope.group} via KOLUMN` i tabellen")
        inner = Scope(scope.group, scope.villkor_ids, scope.where, record=rec.name)
        for word, cond in (("där", getattr(e, "where", None)),
                           ("bland", getattr(e, "among", None))):
            if cond is not None:
                got = self.infer(cond, inner)
                if got and not T.is_logical(got):
                    self.err("V110", f"`{word}` ska följas av ett villkor, inte {got}", cond.span)
        if isinstance(e, ast.Count):
            return T.HELTAL
        if isinstance(e, ast.ShareOf):
            return T.ANDEL
        col = rec.columns.get(e.column)
        if col is None:
            self.err("V102", f"tabellen `{rec.name}` har ingen kolumn `{e.column}`", e.span,
                     did_you_mean(e.column, rec.columns))
            return None
        self.used_columns.add((rec.name, col.name))
        if col.type not in (T.BELOPP, *T.NUMERIC):
            self.err("V110", f"summa(…) behöver tal eller belopp, men `{e.column}` är {col.type}",
                     e.span)
            return None
        return col.type

    # ---- after resolution
    def check_unused(self) -> None:
        m = self.model
        for t in list(m.tables.values()) + list(m.records.values()):
            if t.name not in self.used_tables:
                self.warn("V150", f"tabellen `{t.name}` används inte", t.span)
                continue
            for c in t.columns.values():
                # a `valfri` column documents the data contract; it need not be read
                if (t.name, c.name) not in self.used_columns and not c.may_be_absent:
                    self.warn("V150", f"kolumnen `{t.name}.{c.name}` används inte", c.span,
                              "ta bort den eller markera den `valfri`")
        for p in m.parameters.values():
            if p.name not in self.used_params:
                self.warn("V150", f"parametern `{p.name}` används inte", p.span)

    def run_checks(self) -> None:
        from ..eval.checks import evaluate_checks  # the checker borrows the evaluator

        for version in [self.model.version_at(a.in_force) for a in self.model.amendments] + \
                [self.model.version_at(None)]:
            for result in evaluate_checks(self.model, version, {}):
                if result.passed is False:
                    self.err("V160", f"kontrollen \"{result.check.title}\" håller inte: "
                             f"{result.detail}", result.check.span)


def _unit_hint(want: str, got: str, e: ast.Expr) -> str | None:
    """A number written without the unit its place needs: say which unit to write."""
    if want == T.BELOPP and got == T.ANDEL:
        return "en procentsats är inget belopp: räkna ut beloppet, t.ex. `ram * 12 %`"
    if want == T.BELOPP and got in (T.HELTAL, T.DECIMALTAL):
        shown = f"{int(e.value):,}".replace(",", " ") if isinstance(e, ast.Num) and \
            e.value.denominator == 1 else "120 000 000"
        return f"ett belopp skrivs med enheten: `{shown} kr` (eller `mnkr`, `miljoner kronor`)"
    if want == T.ANDEL and got in (T.HELTAL, T.DECIMALTAL) and isinstance(e, ast.Num):
        return "en andel skrivs med `%`, t.ex. `70 %`"
    if want in T.NUMERIC and got == T.BELOPP:
        return "här ska ett tal stå, inte ett belopp: ta bort `kr`"
    return None


def _villkor_refs(e: ast.Expr) -> set[str]:
    return {x.vid for x in ast.walk(e) if isinstance(x, ast.VillkorRef)}


def _names(e: ast.Expr) -> set[str]:
    return {x.name for x in ast.walk(e) if isinstance(x, ast.Name)}
