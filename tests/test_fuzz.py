"""Fuzzing parser and checker: the only outcome besides success is a diagnostic.

CI runs a bounded number of examples; a longer run:
    VILLKOR_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from villkor_engine.diagnostics import Diagnostic
from villkor_engine.pipeline import load_agreement_text

EXAMPLES = int(os.environ.get("VILLKOR_FUZZ_EXAMPLES", "150"))
SOURCES = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "agreements").glob("*.villkor"))]
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WORDS = ["slut", "villkor", "krav", "och", "eller", "inte", "är", "ja", "nej", "(", ")", "=",
         "+", "*", "/", "källa", "1.1", "100 kr", "70 %", "2020-12-11", '"x"', "antal(", "där",
         "summa", "pott", "tillägg", "gäller", "#", "\n", "å", "\u0301", "\x00", "“"]


def outcome_is_diagnostics(text: str) -> None:
    loaded = load_agreement_text(text, "fuzz.villkor")   # must not raise
    assert all(isinstance(d, Diagnostic) for d in loaded.diagnostics)
    assert loaded.ok or any(d.is_error for d in loaded.diagnostics)
    for d in loaded.diagnostics:
        assert d.message and d.code.startswith("V")


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text):
    outcome_is_diagnostics(text)


@st.composite
def mutated(draw):
    lines = draw(st.sampled_from(SOURCES)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "insert"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]))))]
        else:
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + " " + draw(st.sampled_from(WORDS)) + " " + lines[i][at:]
        if not lines:
            break
    return "\n".join(lines)


@FUZZ
@given(mutated())
def test_mutated_agreements(text):
    outcome_is_diagnostics(text)
