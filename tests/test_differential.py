"""Differential test: the columnar back-end against the reference evaluator, to the öre.

hypothesis generates recipient tables (blank answers, mixed case, tiny and huge populations) and
pots; both engines must give the same verdict and the same amount for every row. CI runs a few
hundred cases; `VILLKOR_DIFF_EXAMPLES=100000 python -m pytest tests/test_differential.py` more.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from conftest import ROOT

from villkor_engine.batch.arrow import run_plan
from villkor_engine.batch.plan import Plan, compile_plan
from villkor_engine.eval.engine import run as reference_run
from villkor_engine.io.data import load
from villkor_engine.io.output import results_csv
from villkor_engine.pipeline import load_agreement_text

EXAMPLES = int(os.environ.get("VILLKOR_DIFF_EXAMPLES", "200"))
BENCH = (ROOT / "bench" / "pott.villkor").read_text(encoding="utf-8")

answers = st.sampled_from(["ja", "nej", "", "JA", "Nej"])
rows = st.lists(st.tuples(st.integers(1, 3_000_000), answers, answers), min_size=1, max_size=60)
pots = st.sampled_from(["1 000 000 000 kr", "100 kr", "7 kr", "1 234 567,89 kr",
                        "62,5 miljoner kronor"])
rounding = st.sampled_from(["hela kronor", "öre"])
requirement = st.sampled_from([
    "mottagare.a är ja och mottagare.b är ja",
    "mottagare.a är ja eller mottagare.b är nej",
    "inte mottagare.a är nej och mottagare.befolkning >= 1000",
    "mottagare.a är angiven och (mottagare.b är ja eller mottagare.befolkning < 500 000)",
])


def both(text: str, data: Path) -> tuple[dict, dict]:
    loaded = load_agreement_text(text, "diff.villkor")
    assert loaded.ok, [d.header() for d in loaded.diagnostics]
    model = loaded.model
    plan = compile_plan(model, model.version_at(None))
    assert isinstance(plan, Plan), plan
    out = data / "kolumn.csv"
    run_plan(plan, data, out)
    dataset, diags = load(model, data)
    assert not diags
    reference = results_csv(reference_run(model, dataset, {}))
    return _index(open(out, encoding="utf-8").read()), _index(reference)


def _index(text: str) -> dict:
    return {(r["mottagare"], r["villkor"]): (r["utfall"], _dec(r["belopp"]), _dec(r["exakt_belopp"]))
            for r in csv.DictReader(text.splitlines())}


def _dec(x: str):
    return Decimal(x) if x else None


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, pot=pots, unit=rounding, krav=requirement)
def test_columnar_equals_reference(rows, pot, unit, krav):
    text = BENCH.replace("1 000 000 000 kr", pot).replace("hela kronor", unit) \
        .replace("mottagare.a är ja och mottagare.b är ja", krav)
    data = Path(tempfile.mkdtemp())
    try:
        with open(data / "mottagare.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "befolkning", "a", "b"])
            for i, (pop, a, b) in enumerate(rows):
                w.writerow([f"r{i}", pop, a, b])
        columnar, reference = both(text, data)
        assert columnar.keys() == reference.keys()
        for key, (verdict, amount, exact) in reference.items():
            c_verdict, c_amount, c_exact = columnar[key]
            assert (c_verdict, c_amount) == (verdict, amount), key
            if exact is not None:       # the reference shows the exact share to 6 decimals
                assert abs(c_exact - exact) <= Decimal("0.000001"), key
    finally:
        shutil.rmtree(data)


def test_bad_rows_become_error_rows_and_good_rows_stay(tmp_path):
    (tmp_path / "mottagare.csv").write_text(
        "id,befolkning,a,b\nx,100,ja,ja\ny,abc,ja,ja\nz,50,kanske,ja\nx,5,ja,ja\nw,0,ja,ja\n"
        "v,100,ja,ja\n", encoding="utf-8")
    loaded = load_agreement_text(BENCH)
    plan = compile_plan(loaded.model, loaded.model.version_at(None))
    result = run_plan(plan, tmp_path, tmp_path / "ut.csv")
    assert sorted((e.line, e.column) for e in result.errors) == [
        (3, "befolkning"), (4, "a"), (5, "id")]
    out = list(csv.DictReader(open(tmp_path / "ut.csv", encoding="utf-8")))
    assert {r["mottagare"] for r in out} == {"x", "w", "v"}   # befolkning 0 is a valid key
    paid = {r["mottagare"]: r["belopp"] for r in out if r["villkor"] == "1"}
    assert paid == {"x": "500000000", "w": "0", "v": "500000000"}
    errors = list(csv.DictReader(open(tmp_path / "ut.fel.csv", encoding="utf-8")))
    assert len(errors) == 3 and all(e["meddelande"].startswith("rad ") for e in errors)
