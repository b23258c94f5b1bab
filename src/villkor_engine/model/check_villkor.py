"""Villkor, delvillkor, reviews (`beslut enligt`) and frister (deadlines).

A villkor must say whom it concerns and what it demands (a `krav` or delvillkor), may not depend
on itself through its krav, and a review's table must have the shape the evaluator reads.
"""

from __future__ import annotations

from ..diagnostics import Span, did_you_mean
from ..syntax import ast
from . import types as T
from .check_base import Scope
from .check_exprs import Expressions

REVIEW_CODES = {"godkänd", "underkänd", "komplettering"}


class VillkorChecks(Expressions):
    """The villkor of one version and its frister; the ids of all villkor in every version."""

    def villkor_ids(self) -> frozenset[str]:
        ids = set()
        for v in self.model.all_items():
            if isinstance(v, ast.Villkor):
                ids.add(v.vid)
                ids.update(s.vid for s in v.subs)
        return frozenset(ids)

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


def _villkor_refs(e: ast.Expr) -> set[str]:
    return {x.vid for x in ast.walk(e) if isinstance(x, ast.VillkorRef)}
