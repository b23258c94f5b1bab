"""Values and parameters: a `värde` is typed in dependency order, a cycle reported by its members.

A value is the same for every recipient (its scope has no group and is `constant`), so it may
not read tables or count records; its declared type, if any, must take the expression's.
"""

from __future__ import annotations

from ..syntax import ast
from . import types as T
from .check_base import Scope
from .check_exprs import Expressions, _unit_hint


class Values(Expressions):
    """Types of values and parameters' defaults, and the order values depend on each other."""

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


def _names(e: ast.Expr) -> set[str]:
    return {x.name for x in ast.walk(e) if isinstance(x, ast.Name)}
