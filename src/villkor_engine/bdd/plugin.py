"""pytest11 entry point: the Swedish steps, and `.feature` files collected as tests by themselves.

Registering the steps module as a plugin gives any project the step definitions and the
`villkor_kontext` fixture with nothing in conftest.py. The collector below lets a tester write
only `.feature` files: each scenario becomes a test through pytest-bdd's public `scenario`
decorator, so `pytest features/` (or any folder of `.feature` files) runs them.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest
from pytest_bdd import scenario
from pytest_bdd.feature import get_features

from .steps import Kontext  # noqa: F401  (re-exported for projects' own steps)

pytest_plugins = ["villkor_engine.bdd.steps"]


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


def _bound(path: Path, name: str):
    def test_scenario() -> None:
        """Runs one Gherkin scenario; the steps do the work."""

    return scenario(str(path.resolve()), name)(test_scenario)


def _test_name(name: str, taken: dict) -> str:
    base = "test_" + (re.sub(r"\W+", "_", name.lower(), flags=re.ASCII).strip("_") or "scenario")
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    return candidate
