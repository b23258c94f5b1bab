"""The run ledger: each run recorded in DuckDB; re-running a recorded run reproduces its output."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import ROOT

from villkor_engine.cli import main
from villkor_engine.io.ledger import history

BENCH = ROOT / "bench" / "pott.villkor"


@pytest.mark.parametrize("engine", ["kolumn", "referens"])
def test_rerun_reproduces_the_recorded_output_hash(tmp_path, engine):
    import sys
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    data = tmp_path / "data"
    generate(300, data)
    (data / "gammalt-resultat.csv").write_text("inte indata\n", encoding="utf-8")
    out = tmp_path / "ut" / "resultat.csv"
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(main, ["run", str(BENCH), "--data", str(data), "--out", str(out),
                                      "--motor", engine])
        assert result.exit_code == 0, result.output
    runs = history(out.parent / "villkor-körningar.duckdb")
    assert [r["id"] for r in runs] == [1, 2]
    first, second = runs
    assert first["utdata_sha256"] == second["utdata_sha256"]
    assert first["indata"] == second["indata"]
    assert json.loads(first["indata"]).keys() == {"mottagare.csv"}   # what the agreement reads
    assert first["motor"] == engine and first["rader"] == 600 and first["fel"] == 0
    pot = json.loads(first["potter"])[0]
    assert pot["pott"] == "1000000000" and pot["utbetalning"] == "andelar"
    listing = runner.invoke(main, ["history", "--ledger", str(out.parent /
                                                                "villkor-körningar.duckdb")])
    assert listing.exit_code == 0 and "pott.villkor" in listing.output


def test_reference_run_of_2020_is_logged_with_its_version(tmp_path, data_2020):
    from conftest import AGREEMENT_2020

    out = tmp_path / "u.csv"
    ledger = tmp_path / "logg.duckdb"
    result = CliRunner().invoke(main, ["run", str(AGREEMENT_2020), "--data", str(data_2020),
                                       "--out", str(out), "--ledger", str(ledger),
                                       "--per", "2020-12-31"])
    assert result.exit_code == 0, result.output
    (run,) = history(ledger)
    assert "juni2020" in run["version"] and run["per"].isoformat() == "2020-12-31"
    assert len(run["överenskommelse_sha256"]) == 64


def test_history_without_a_ledger_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["history", "--ledger", str(tmp_path / "saknas.duckdb")])
    assert result.exit_code == 1 and "V306" in result.output
    shutil.rmtree(tmp_path, ignore_errors=True)
