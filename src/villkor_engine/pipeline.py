"""The stages wired together: file → syntax tree → checked model → data → evaluation.

The CLI, the Gherkin steps and the tests call these functions, never the stages' internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .diagnostics import Diagnostic, Span
from .eval.checks import check_diagnostics, evaluate_checks, model_check_diagnostics
from .model.check import check_model
from .model.model import ColumnSpec, Model
from .syntax.ast import Module
from .syntax.parse import parse_file, parse_partial, parse_text

if TYPE_CHECKING:   # the engine and the data readers load with the first run, not for `check`
    from .eval.engine import Result
    from .io.data import Dataset


@dataclass
class Loaded:
    model: Model | None
    diagnostics: list[Diagnostic]
    text: str | None

    @property
    def ok(self) -> bool:
        return self.model is not None and not any(d.is_error for d in self.diagnostics)


SYNTAX = {"V010", "V011", "V012", "V013"}
CONSEQUENCES = {"V100", "V101", "V102", "V103", "V104", "V105", "V106", "V150"}


def check(module: Module) -> tuple[Model | None, list[Diagnostic]]:
    """The model check, then (when it found no error) the `kontroll` assertions evaluated without
    data (V160): the evaluator sits above the model, so the checker leaves this step to us."""
    checked = check_model(module)
    more = [] if checked.has_errors else model_check_diagnostics(checked.model)
    return checked.finish(more)


def load_agreement(path: str | Path) -> Loaded:
    module, diags = parse_file(path)
    if module is None:
        text = _read(path)
        return Loaded(None, _by_position(diags + _check_the_rest(text, str(path), diags)), text)
    model, more = check(module)
    return Loaded(model, diags + more, module.text)


def load_agreement_text(text: str, name: str = "<text>") -> Loaded:
    module, diags = parse_text(text, name)
    if module is None:
        return Loaded(None, _by_position(diags + _check_the_rest(text, name, diags)), text)
    model, more = check(module)
    return Loaded(model, diags + more, module.text)


def _by_position(diags: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diags, key=lambda d: (d.span.line, d.span.column) if d.span else (0, 0))


def _check_the_rest(text: str | None, name: str, diags: list[Diagnostic]) -> list[Diagnostic]:
    """After syntax errors, check the items that parsed, so one run shows every mistake."""
    if text is None or not diags or not all(d.code in SYNTAX for d in diags):
        return []
    partial, broken = parse_partial(text, name)
    if partial is None:
        return []
    _, found = check(partial)

    def consequence(d: Diagnostic) -> bool:
        return d.code in CONSEQUENCES and (d.code == "V100" or not broken or any(
            f"`{b}`" in d.message or f" {b}" in d.message for b in broken))
    # warnings (an unused column, a villkor without payment …) may rest on the part that did
    # not parse: after a syntax error only the errors of the items that parsed are given
    return [d for d in found if d.is_error and not consequence(d)]


def _read(path: str | Path) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def parse_params(model: Model, pairs: list[str]) -> tuple[dict[str, Any], list[Diagnostic]]:
    """`name=value` pairs from --param, each parsed by the parameter's declared type."""
    from .io.data import parse_cell

    out: dict[str, Any] = {}
    diags: list[Diagnostic] = []
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep or name not in model.parameters:
            from .diagnostics import did_you_mean
            diags.append(Diagnostic("V301", f"okänd parameter `{name}`" if sep else
                                    f"`{pair}` ska skrivas NAMN=VÄRDE", None,
                                    hint=did_you_mean(name, model.parameters) or
                                    "parametrarna är: " + ", ".join(model.parameters)))
            continue
        spec = model.parameters[name]
        col = ColumnSpec(name, spec.type, (), False, True, False, spec.span)
        try:
            out[name] = parse_cell(raw.strip(), col)
        except ValueError as exc:
            diags.append(Diagnostic("V302", f"--parameter {name}: {exc}", None))
    return out, diags


def evaluate(model: Model, data_dir: str | Path, params: dict[str, Any],
             per: date | None = None) -> tuple[Result | None, Dataset | None, list[Diagnostic]]:
    """Load the data, verify the checks with the given parameters, and evaluate."""
    from .eval.engine import run
    from .io.data import load

    data, diags = load(model, data_dir)
    if any(d.is_error for d in diags):
        return None, data, diags
    version = model.version_at(per)
    diags += check_diagnostics(evaluate_checks(model, version, params, data))
    if any(d.is_error for d in diags):
        return None, data, diags
    return run(model, data, params, per), data, diags


__all__ = ["Loaded", "check", "load_agreement", "load_agreement_text", "parse_params", "evaluate",
           "Span"]
