"""pytest11 entry point: the Swedish steps, and `.feature` files collected as tests by themselves.

Registering the steps module as a plugin gives any project the step definitions and the
`villkor_kontext` fixture with nothing in conftest.py. The collector below lets a tester write
only `.feature` files: each scenario becomes a test through pytest-bdd's public `scenario`
decorator, so `pytest features/` (or any folder of `.feature` files) runs them.

For the tests collected here, a failure is reported in Swedish and without pytest-bdd's
traceback:

- a step that no step definition matches: `steget "…" finns inte i stegbiblioteket`, with the
  three closest steps the library defines (taken from the registered step definitions);
- a failed expectation of the step library (its AssertionError, "Förväntat: … Fick: …"): just
  that message, then the scenario and the step. Any other exception (a crash, a project's own
  `assert`) keeps its traceback.

Test names keep the scenario's letters (å ä ö included), so `pytest -k vårdcentral` selects the
scenarios whose names say so.
"""

from __future__ import annotations

import difflib
import os
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import scenario
from pytest_bdd.exceptions import StepDefinitionNotFoundError
from pytest_bdd.feature import get_features

from . import steps as library
from .steps import Kontext  # noqa: F401  (re-exported for projects' own steps)

try:    # Python ≥ 3.11
    import re._constants as _sre_constants
    import re._parser as _sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre_constants
    import sre_parse as _sre_parse

pytest_plugins = ["villkor_engine.bdd.steps"]

KEYWORDS = {"given": "Givet", "when": "När", "then": "Så"}
SUGGESTIONS = 3

_FAILED_STEP = pytest.StashKey[tuple[Any, Any]]()   # (scenario, step) of the step that failed
_NOT_FOUND = pytest.StashKey[str]()                  # the Swedish message for an unknown step


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix == ".feature":
        return FeatureFile.from_parent(parent, path=file_path)
    return None


class FeatureFile(pytest.Module):
    """A `.feature` file as a test module: one test per scenario (outlines parametrised)."""

    def _getobj(self):
        module = types.ModuleType(f"feature_{re.sub(r'[^0-9A-Za-z_]', '_', self.path.stem)}")
        module.__file__ = str(self.path)
        for feature in get_features([str(self.path)]):
            for name in feature.scenarios:
                module.__dict__[_test_name(name, module.__dict__)] = _bound(self.path, name)
        return module

    def collect(self):
        items = list(super().collect())
        for item in items:
            # pytest escapes non-ASCII in parametrised ids (`[\xe5terbetalning]`); an example
            # row is also found by its own words with `-k`.
            example = getattr(getattr(item, "callspec", None), "params", {}).get(
                "_pytest_bdd_example")
            if isinstance(example, dict):
                item.extra_keyword_matches.add("-".join(str(v) for v in example.values()))
        return items


def _bound(path: Path, name: str):
    def test_scenario() -> None:
        """Runs one Gherkin scenario; the steps do the work."""

    return scenario(str(path.resolve()), name)(test_scenario)


def _test_name(name: str, taken: dict) -> str:
    """`test_` and the scenario's name in lower case, every run of non-letters, non-digits as one
    `_`; letters stay letters (å ä ö too), so the name is what the tester wrote. Unique within
    the file (`_2`, `_3` for a name taken)."""
    base = "test_" + (re.sub(r"\W+", "_", name.lower()).strip("_") or "scenario")
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def _ours(item: pytest.Item) -> bool:
    return item.getparent(FeatureFile) is not None


# ---- pytest-bdd's hooks: remember which step failed ----------------------------------------------

@pytest.hookimpl(optionalhook=True)
def pytest_bdd_step_error(request, feature, scenario, step, step_func, step_func_args, exception):
    request.node.stash[_FAILED_STEP] = (scenario, step)


@pytest.hookimpl(optionalhook=True, trylast=True)
def pytest_bdd_step_func_lookup_error(request, feature, scenario, step, exception):
    request.node.stash[_FAILED_STEP] = (scenario, step)
    request.node.stash[_NOT_FOUND] = not_found_message(step, scenario)


# ---- the report ----------------------------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if call.when != "call" or call.excinfo is None or not report.failed or not _ours(item):
        return report
    excinfo = call.excinfo
    failed = item.stash.get(_FAILED_STEP, None)
    if excinfo.errisinstance(StepDefinitionNotFoundError) and _NOT_FOUND in item.stash:
        text = item.stash[_NOT_FOUND]
    elif excinfo.type is AssertionError and _raised_by_library(excinfo):
        text = str(excinfo.value).rstrip("\n")
        if failed is not None:
            text += "\n\n" + _where(item, *failed)
    else:
        return report
    line = failed[1].line_number if failed is not None else 0
    report.longrepr = SwedishFailure(text, _CrashLine(_display_path(item), line,
                                                      text.splitlines()[0] if text else ""))
    return report


def _raised_by_library(excinfo: pytest.ExceptionInfo) -> bool:
    """Raised by the step library itself (its "Förväntat / Fick" messages), not by a project's
    own step or a crash inside the engine."""
    try:
        last = excinfo.traceback[-1]
    except IndexError:
        return False
    return Path(str(last.path)).resolve() == Path(library.__file__).resolve()


def _display_path(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _step_text(step) -> str:
    return f"{(step.keyword or KEYWORDS.get(step.type, '')).strip()} {step.name}".strip()


def _where(item: pytest.Item, scenario, step) -> str:
    return (f"Scenario: {scenario.name}\n"
            f"Steg:     {_step_text(step)} ({_display_path(item)}, rad {step.line_number})")


@dataclass
class _CrashLine:
    """What pytest's summary line (`FAILED … - message`) and `--tb=line` show."""

    path: str
    lineno: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.lineno}: {self.message}"


class SwedishFailure:
    """A failure's report text: the Swedish message only, no traceback."""

    def __init__(self, text: str, crash: _CrashLine) -> None:
        self.text, self.reprcrash = text, crash

    def toterminal(self, tw) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


# ---- a step that is not in the library -----------------------------------------------------------

def not_found_message(step, scenario) -> str:
    """`steget "…" finns inte i stegbiblioteket`, where, and the closest steps of the library."""
    text = _step_text(step)
    feature = getattr(scenario, "feature", None)
    filename = os.path.basename(getattr(feature, "filename", "") or "")
    lines = [f'steget "{text}" finns inte i stegbiblioteket',
             f'  (scenario "{scenario.name}", rad {step.line_number}'
             + (f" i {filename}" if filename else "") + ")"]
    other = [c for c in _contexts() if c.type not in (None, step.type)
             and _matches(c, step.name)]
    if other:
        kind = KEYWORDS.get(other[0].type, other[0].type)
        lines += ["", (f"Stegets text finns som ett {kind}-steg, inte som ett "
                       f"{KEYWORDS.get(step.type, step.type)}-steg:"),
                  f"  skriv \"{kind} {step.name}\" (eller \"Och\" efter ett {kind}-steg)"]
    close = closest_steps(step.name, step.type)
    if close:
        lines += ["", "Närmaste stegen i stegbiblioteket:"] + [f"  {s}" for s in close]
    return "\n".join(lines)


def closest_steps(name: str, kind: str | None = None, n: int = SUGGESTIONS) -> list[str]:
    """The `n` step wordings of the registered step definitions closest to the step text `name`
    (difflib; the values in quotes count as `"…"`), each with its keyword."""
    wanted = _normalise(name)
    scored: dict[str, float] = {}
    for c in _contexts():
        keyword = KEYWORDS.get(c.type or kind or "", "")
        best = None
        for wording in step_wordings(c):
            ratio = difflib.SequenceMatcher(None, wanted, _normalise(wording)).ratio()
            if best is None or ratio > best[0]:
                best = (ratio, wording)
        if best is None:
            continue
        ratio = best[0] + (0.02 if c.type in (None, kind) else 0)
        text = f"{keyword} {best[1]}".strip()
        scored[text] = max(ratio, scored.get(text, 0.0))
    return [t for t, _ in sorted(scored.items(), key=lambda x: (-x[1], x[0]))[:n]]


def _normalise(text: str) -> str:
    return re.sub(r'"[^"]*"', '"…"', text).lower()


def _contexts() -> list:
    """Every registered step definition (pytest-bdd's registry), the library's first."""
    try:
        from pytest_bdd.steps import step_function_context_registry as registry
    except ImportError:  # pragma: no cover - another pytest-bdd layout
        return []
    contexts = list(registry.values())
    return sorted(contexts,
                  key=lambda c: getattr(c.step_func, "__module__", "") != library.__name__)


def _matches(context, name: str) -> bool:
    try:
        return bool(context.parser.is_matching(name))
    except Exception:  # noqa: BLE001 - a project's own parser; no match is the safe answer
        return False


def step_wordings(context) -> list[str]:
    """How a step definition is written, values as `"…"`: a `parsers.parse` pattern with its
    `{fält}` replaced, a regular expression with each optional part and alternative spelt out
    (at most 16 wordings), a plain string as it is."""
    parser = context.parser
    name = str(getattr(parser, "name", ""))
    regex = getattr(parser, "regex", None)
    if regex is not None:
        try:
            wordings = _expand(list(_sre_parse.parse(regex.pattern)))
        except Exception:  # noqa: BLE001 - an expression outside the subset spelt out below
            return [name]
        return list(dict.fromkeys(re.sub(r"…+", "…", w) for w in wordings))
    if hasattr(parser, "parser"):      # parse / cfparse: `{name}` fields
        text = re.sub(r"\{[^{}]*\}", "…", name.replace("{{", "\0").replace("}}", "\1"))
        return [text.replace("\0", "{").replace("\1", "}")]
    return [name]


_LIMIT = 16
_C = _sre_constants


def _expand(items: list) -> list[str]:
    out = [""]
    for op, arg in items:
        out = [a + b for a in out for b in _expand_one(op, arg)][:_LIMIT]
    return out


def _expand_one(op, arg) -> list[str]:
    if op == _C.LITERAL:
        return [chr(arg)]
    if op == _C.AT:
        return [""]
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None)):
        low, _high, sub = arg
        sub = list(sub)
        if all(o in (_C.IN, _C.ANY, _C.NOT_LITERAL, _C.CATEGORY) for o, _ in sub):
            return ["…"]
        once = _expand(sub)
        return ([""] + once if low == 0 else once)[:_LIMIT]
    if op == _C.SUBPATTERN:
        return _expand(list(arg[-1]))
    if op == _C.BRANCH:
        return [w for alt in arg[1] for w in _expand(list(alt))][:_LIMIT]
    if op in (_C.IN, _C.ANY, _C.NOT_LITERAL, _C.CATEGORY):
        return ["…"]
    raise ValueError(f"kan inte skriva ut {op}")
