"""`kontroll` assertions: checked by `villkor check` and again at run time with the parameters.

A check that reads a run-time parameter nobody gave cannot be decided; it is skipped, not passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..diagnostics import Diagnostic
from ..io.dataset import Dataset
from ..model.model import Model, Version
from ..syntax import ast
from .interpreter import Env, about_text, as_verdict, evaluate, is_money, shown
from .values import Missing, V


@dataclass
class CheckResult:
    check: ast.Check
    passed: bool | None   # None: could not be decided (a value is missing, or only "cirka")
    detail: str
    approximate: bool = False   # a `cirka` kontroll off its figure: a warning, never a stop


def evaluate_checks(model: Model, version: Version, params: dict[str, Any],
                    data: Dataset | None = None, pushed: dict[int, Any] | None = None
                    ) -> list[CheckResult]:
    """Without data (at `check`), a kontroll reading input tables is skipped, not passed.
    `pushed`: the aggregates' values computed elsewhere (the column engine), by node id."""
    env = Env(model, version, data or Dataset({}, {}), params, pushed=pushed)
    out = []
    for c in version.checks:
        out.append(_one(c, env))
    return out


def _one(c: ast.Check, env: Env) -> CheckResult:
    e = c.expr
    money = is_money(e, env.model)   # amounts in the message as money: `944 000 000 kr`
    if isinstance(e, ast.About):
        a, b = evaluate(e.left, env), evaluate(e.right, env)
        for x in (a, b):
            if isinstance(x, Missing):
                return CheckResult(c, None, x.reason)
        if a == b:
            return CheckResult(c, True, f"exakt {shown(a, money)}")
        return CheckResult(c, None, about_text(a, b, money), approximate=True)
    if isinstance(e, ast.Compare) and e.op == "=":
        a, b = evaluate(e.left, env), evaluate(e.right, env)
        for x in (a, b):
            if isinstance(x, Missing):
                return CheckResult(c, None, x.reason)
        tol = evaluate(c.tolerance, env) if c.tolerance is not None else Fraction(0)
        if isinstance(tol, Missing):
            return CheckResult(c, None, tol.reason)
        if isinstance(a, Fraction) and isinstance(b, Fraction):
            ok = abs(a - b) <= tol
            return CheckResult(c, ok, f"vänster sida {shown(a, money)}, höger sida "
                               f"{shown(b, money)}" + (f", tolerans {shown(tol, money)}"
                                                       if tol else ""))
        return CheckResult(c, a == b, f"vänster sida {a}, höger sida {b}")
    value = evaluate(e, env)
    if isinstance(value, Missing):
        return CheckResult(c, None, value.reason)
    verdict = as_verdict(value)
    if verdict in (V.UNDERLAG_SAKNAS, V.BEDOMNING_KRAVS):
        return CheckResult(c, None, str(verdict))
    return CheckResult(c, verdict == V.UPPFYLLT, str(verdict))


def model_check_diagnostics(model: Model) -> list[Diagnostic]:
    """The kontroll assertions at `villkor check`: each version's, without data or parameters
    (the base after every amendment's, as the checker lists them). A failed one is V160; one that
    cannot be decided says nothing here. The caller (pipeline.py) runs this after the model check
    found no error and hands the list to `ModelCheck.finish`."""
    out = []
    for version in [model.version_at(a.in_force) for a in model.amendments] + \
            [model.version_at(None)]:
        for result in evaluate_checks(model, version, {}):
            if result.passed is False:
                out.append(Diagnostic("V160", f"kontrollen \"{result.check.title}\" håller inte: "
                                      f"{result.detail}", result.check.span))
    return out


def check_diagnostics(results: list[CheckResult]) -> list[Diagnostic]:
    """What the run says of its checks: a failed one stops it (V160); an undecided one (V161)
    or a `cirka` off its figure (V162) is a warning."""
    out = []
    for c in results:
        if c.passed is False:
            out.append(Diagnostic("V160", f"kontrollen \"{c.check.title}\" håller inte för "
                                  f"indata och parametrar: {c.detail}", c.check.span,
                                  hint="kontrollera indatafilerna och eventuella --param"))
        elif c.approximate:
            out.append(Diagnostic("V162", f"kontrollen \"{c.check.title}\": {c.detail}",
                                  c.check.span, severity="varning",
                                  hint="källan anger ett cirka-värde; ingen körning stoppas "
                                  "av det, men skillnaden ska bedömas"))
        elif c.passed is None:
            out.append(Diagnostic("V161", f"kontrollen \"{c.check.title}\" kunde inte "
                                  f"prövas: {c.detail}", c.check.span, severity="varning"))
    return out
