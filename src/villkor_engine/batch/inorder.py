"""What an engine that keeps insertion order (DuckDB) may skip, once the run knows more.

The plan's steps are written for any engine, so they say everything: a window to find each
key's first row, a cross join with a one-row step (a pot's key total), `ORDER BY §ord` after
either. On DuckDB three facts of the run make most of that work needless, and each rewrite
here gives the same rows as the step it replaces:

- a step's `Shortcut` whose guard gave 0 (no key twice: every good row is its key's first;
  no wrong record among those the aggregates' one scan counted: none to look for);
- a one-row step already computed: its cells are constants (`bind_rows`), typed as DuckDB
  typed them, so the cross join (which does not keep the order) goes;
- a step that only filters and projects rows from sources already in file order (`§ord`
  follows the file's rows): its `ORDER BY §ord` is the order the rows already have
  (`Facts.source`), and DuckDB keeps it (`preserve_insertion_order`), so the sort goes.

A step found so is also cheap to compute again, so the runner may keep it as a view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from .sqltext import MARK, READ

ORD = MARK + "ord"
ROW = MARK + "rad"


@dataclass(frozen=True)
class Facts:
    """What the runner asks of a step's tree, found in one walk of it (sqlglot's walks are
    the dear part of a small run: a tree of a few thousand nodes, asked five questions)."""

    reads: frozenset[str]          # the relations it reads
    cross: tuple[str, ...]         # those it cross-joins (`CROSS JOIN x`, no condition)
    one_row: bool                  # an aggregate with no GROUP BY over one relation
    source: str | None             # the one relation it only filters and projects, or None


def facts(tree: exp.Expr) -> Facts:
    tables: list[str] = []
    cross: list[str] = []
    window, plain = False, True
    for node in tree.walk():
        if isinstance(node, exp.Table):
            tables.append(node.name)
        elif isinstance(node, exp.Join):
            plain = False
            if isinstance(node.this, exp.Table) and \
                    (node.args.get("kind") or "").upper() == "CROSS" and \
                    not node.args.get("on") and not node.args.get("using"):
                cross.append(node.this.name)
        elif isinstance(node, exp.Window):
            window, plain = True, False
        elif isinstance(node, (exp.AggFunc, exp.Union, exp.Unnest, exp.Values, exp.Limit,
                               exp.Distinct, exp.Group, exp.In)):
            plain = False
        elif isinstance(node, exp.Select) and node is not tree and not (
                isinstance(node.parent, exp.Subquery) and node.parent.arg_key == "this"
                and isinstance(node.parent.parent, exp.From)):
            plain = False      # a scalar subquery: a join in disguise
        elif isinstance(node, exp.Alias) and node.alias == ORD and not (
                isinstance(node.this, exp.Column) and node.this.name in (ORD, ROW)):
            plain = False      # `§ord` made anew, not kept
    one_row = (isinstance(tree, exp.Select) and not tree.args.get("group")
               and not tree.args.get("joins") and not tree.args.get("having") and not window
               and all(e.find(exp.AggFunc) is not None or isinstance(e.unalias(), exp.Literal)
                       for e in tree.expressions))
    source = tables[0] if plain and len(tables) == 1 else None
    return Facts(frozenset(tables), tuple(cross), one_row, source)


def bind_rows(tree: exp.Expr, rows: dict[str, tuple[list[str], list[str], tuple]]
              ) -> exp.Expr:
    """`tree` with each cross join of a one-row relation in `rows` (name → columns, DuckDB
    types, values) left out and its columns written as typed constants; unchanged where a
    column of it is not named by its alias (a `*`, a bare name); `tree` itself when there is
    nothing to bind."""
    if not rows:
        return tree
    out = tree.copy()
    for join in list(out.find_all(exp.Join)):
        table = join.this
        if not isinstance(table, exp.Table) or table.name not in rows or \
                (join.args.get("kind") or "").upper() != "CROSS" or join.args.get("on"):
            continue
        columns, types, values = rows[table.name]
        alias = table.alias_or_name
        select = join.parent
        if not isinstance(select, exp.Select) or _named_otherwise(select, alias, columns):
            continue
        constant = {c: _typed(v, t) for c, t, v in zip(columns, types, values)}
        for col in list(_own_columns(select)):
            if col.table == alias and col.name in constant:
                col.replace(constant[col.name].copy())
        join.pop()
    return out


def _named_otherwise(select: exp.Select, alias: str, columns: list[str]) -> bool:
    """The relation `alias` reached other than by `alias.column`: `alias.*`, `*` or a bare
    name of one of its columns (which the rewrite would leave dangling)."""
    for star in select.find_all(exp.Star):
        parent = star.parent
        if not (isinstance(parent, exp.Column) and parent.table and parent.table != alias):
            return True
    return any(not col.table and col.name in columns for col in _own_columns(select))


def _own_columns(select: exp.Select) -> Iterable[exp.Column]:
    """The columns `select` names itself, not those of the subqueries it reads."""
    for col in select.find_all(exp.Column):
        if col.find_ancestor(exp.Select) is select:
            yield col


def _typed(value: Any, kind: str) -> exp.Expr:
    """A constant of DuckDB's type `kind`, so arithmetic on it is what it was on the column."""
    if value is None:
        literal: exp.Expr = exp.Null()
    elif isinstance(value, bool):
        literal = exp.Boolean(this=value)
    else:   # cast from its text: exact at any width (HUGEINT, DECIMAL), a date as ISO
        literal = exp.Literal.string(str(value))
    return exp.Cast(this=literal, to=exp.DataType.build(kind, dialect=READ))


def without_ord(tree: exp.Expr) -> exp.Expr:
    """`tree` without its `ORDER BY §ord` (the only order this drops); unchanged otherwise."""
    order = tree.args.get("order")
    if order is None or len(order.expressions) != 1:
        return tree
    key = order.expressions[0]
    if key.args.get("desc") or not isinstance(key.this, exp.Column) or key.this.name != ORD:
        return tree
    out = tree.copy()
    out.set("order", None)
    return out
