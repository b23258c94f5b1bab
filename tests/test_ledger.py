"""The run ledger: each run recorded in DuckDB; re-running a recorded run reproduces its output."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from villkor_engine.cli import main
from villkor_engine.write.ledger import history

BENCH = ROOT / "bench" / "pott.villkor"


@pytest.mark.parametrize("engine", ["kolumn", "referens"])
def test_rerun_reproduces_the_recorded_output_hash(tmp_path, engine):
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


# ---- reading the ledger: the listing, one run in full, where the ledger is found ----------

@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The 2020 agreement run twice into one folder: per 2020-12-31 with a parameter, then
    latest; the ledger beside the results, as `run` writes it."""
    from conftest import AGREEMENT_2020, EXAMPLE_2020

    out_dir = tmp_path_factory.mktemp("historik") / "ut"
    runner = CliRunner()
    for args in (["--per", "2020-12-31", "--parameter", "ersättning_per_kontakt=1500"], []):
        result = runner.invoke(main, ["run", str(AGREEMENT_2020), "--data", str(EXAMPLE_2020),
                                      "--ut", str(out_dir / "utfall.csv"), *args])
        assert result.exit_code == 0, result.output
    return out_dir / "villkor-körningar.duckdb"


def test_history_lists_runs_under_a_header(two_runs):
    result = CliRunner().invoke(main, ["history", "--logg", str(two_runs)])
    assert result.exit_code == 0, result.output
    header, first, second = result.output.strip().splitlines()
    assert header.split() == ["nr", "tid", "överenskommelse", "per", "motor", "rader", "fel",
                              "utdata", "(sha256)", "version"]
    assert first.split()[0] == "1" and "2020-12-31" in first and "juni2020" in first
    assert second.split()[0] == "2" and "senaste" in second
    # the columns line up: each value starts where its heading does (left-aligned ones)
    for heading in ("överenskommelse", "per", "motor"):
        assert first[header.index(heading)] != " "
        assert first[header.index(heading) - 2:header.index(heading)] == "  "


def test_history_of_one_run_shows_it_in_full(two_runs):
    (run, _) = history(two_runs)
    result = CliRunner().invoke(main, ["history", "1", "--logg", str(two_runs)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Körning 1\n")
    assert "ersättning_per_kontakt = 1500" in out                       # parameters
    assert f"villkor {run['motorversion']}" in out and "kolumn" in out   # engine, version
    assert run["version"] in out and "per:                 2020-12-31" in out
    assert run["överenskommelse_sha256"] in out and run["utdata_sha256"] in out
    for name, digest in json.loads(run["indata"]).items():               # every input's hash
        assert re.search(rf"^  {re.escape(name)} +{digest}$", out, re.MULTILINE), out
    assert f"rader:               {run['rader']}" in out
    # each pot as money, not as the ledger's exact text
    assert re.search(r"^  v1_regionerna +1 +100 000 000 kr +100 000 001 kr$", out,
                     re.MULTILINE), out
    assert "100000001" not in out


def test_history_of_an_unknown_run_is_a_swedish_error(two_runs):
    result = CliRunner().invoke(main, ["history", "7", "--ledger", str(two_runs)])
    assert result.exit_code == 1, result.output
    assert "fel[V315]: körning 7 finns inte i" in result.output
    assert "loggen har körningarna 1–2" in result.output


def test_history_finds_the_ledger_in_the_working_folder(two_runs, monkeypatch):
    monkeypatch.chdir(two_runs.parent)
    result = CliRunner().invoke(main, ["history"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 3
    assert CliRunner().invoke(main, ["history", "2"]).output.startswith("Körning 2\n")


def test_history_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["history"])
    assert result.exit_code == 1
    assert "fel[V306]: ingen körningslogg i arbetsmappen" in result.output
    assert str(tmp_path / "villkor-körningar.duckdb") in result.output
    assert "--logg" in result.output


# ---- faults: concurrency, wrong files, a killed run, inputs hashed before the run ----------

VILLKOR_BIN = Path(sys.executable).parent / "villkor"


def _bench_data(tmp_path, n=50):
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    return generate(n, tmp_path / "data").parent


@pytest.mark.skipif(not VILLKOR_BIN.exists(), reason="villkor script not installed")
def test_concurrent_runs_into_one_folder_are_all_logged_and_history_never_fails(tmp_path):
    """20 pairs of runs (two processes at a time, one ledger) give exactly 40 entries, while
    `villkor history` runs again and again beside them and never fails (DuckDB's one-writer
    lock is waited for, not reported as V305 or a traceback)."""
    data = _bench_data(tmp_path)
    out_dir = tmp_path / "ut"
    ledger = out_dir / "villkor-körningar.duckdb"

    def run(i):
        return subprocess.run([str(VILLKOR_BIN), "run", str(BENCH), "--data", str(data),
                               "--out", str(out_dir / f"ut{i}.csv"), "--motor", "referens"],
                              capture_output=True, text=True, timeout=120)

    def watch(stop):
        seen = []
        while not stop:
            time.sleep(0.5)                  # a history now and then; the runs need the cores
            if ledger.exists():
                seen.append(subprocess.run([str(VILLKOR_BIN), "history", "--ledger",
                                            str(ledger)], capture_output=True, text=True,
                                           timeout=120))
        return seen

    stop: list[bool] = []
    with ThreadPoolExecutor(3) as pool:
        watcher = pool.submit(watch, stop)
        runs = []
        for pair in range(20):
            runs += list(pool.map(run, (2 * pair, 2 * pair + 1)))
        stop.append(True)
        listings = watcher.result()
    for r in runs:
        assert r.returncode == 0 and "V305" not in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    entries = history(ledger)
    assert len(entries) == 40
    assert sorted(r["id"] for r in entries) == list(range(1, 41))
    assert {Path(r["utdata"]).name for r in entries} == {f"ut{i}.csv" for i in range(40)}
    assert listings, "history never ran beside the runs"
    for listing in listings:
        assert listing.returncode == 0, listing.stderr
        assert "Traceback" not in listing.stderr
    final = subprocess.run([str(VILLKOR_BIN), "history", "--ledger", str(ledger)],
                           capture_output=True, text=True, timeout=120)
    header, *lines = final.stdout.strip().splitlines()
    assert header.split()[:3] == ["nr", "tid", "överenskommelse"]
    assert len(lines) == 40


def test_history_waits_for_a_writer_holding_the_lock(tmp_path):
    """A process holding the ledger open for writing makes `history` wait, then succeed."""
    import duckdb

    ledger = tmp_path / "logg.duckdb"
    duckdb.connect(str(ledger)).close()
    holder = subprocess.Popen([sys.executable, "-c",
                               "import duckdb, sys, time\n"
                               f"c = duckdb.connect({str(ledger)!r})\n"
                               "print('låst', flush=True)\n"
                               "time.sleep(1.5)\n"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "låst"
        result = CliRunner().invoke(main, ["history", "--ledger", str(ledger)])
    finally:
        holder.wait(timeout=30)
    assert result.exit_code == 0, result.output
    assert "inga körningar" in result.output


@pytest.mark.parametrize("name,content", [("logg.csv", None), ("logg.duckdb", "inte en databas\n"),
                                          ("tom.duckdb", "")])
def test_a_ledger_that_is_no_duckdb_file_is_refused(tmp_path, name, content):
    """`--ledger x.csv` or a file that is no DuckDB database: V308 before anything is computed
    (run: exit 2, no result; history: exit 1), the file left as it was, no traceback."""
    data = _bench_data(tmp_path)
    ledger = tmp_path / name
    if content is not None:
        ledger.write_text(content, encoding="utf-8")
    out = tmp_path / "ut" / "resultat.csv"
    result = CliRunner().invoke(main, ["run", str(BENCH), "--data", str(data), "--out", str(out),
                                       "--ledger", str(ledger)])
    assert result.exit_code == 2, result.output
    assert "fel[V308]" in result.output and "Körning" not in result.output
    assert not out.exists()
    if content is None:
        assert not ledger.exists()
        return
    assert ledger.read_text(encoding="utf-8") == content
    listing = CliRunner().invoke(main, ["history", "--ledger", str(ledger)])
    assert listing.exit_code == 1 and "fel[V308]" in listing.output, listing.output
    assert not isinstance(listing.exception, Exception) or \
        isinstance(listing.exception, SystemExit)


def test_a_ledger_left_without_its_table_has_no_runs_and_takes_the_next(tmp_path):
    """A run killed after the ledger file was created but before its table was: `history`
    says "inga körningar" (exit 0), and the next run creates the table and logs run 1."""
    import duckdb

    ledger = tmp_path / "ut" / "villkor-körningar.duckdb"
    ledger.parent.mkdir()
    duckdb.connect(str(ledger)).close()        # the file, as a killed run leaves it
    listing = CliRunner().invoke(main, ["history", "--ledger", str(ledger)])
    assert listing.exit_code == 0, listing.output
    assert "inga körningar" in listing.output
    data = _bench_data(tmp_path)
    result = CliRunner().invoke(main, ["run", str(BENCH), "--data", str(data), "--out",
                                       str(ledger.parent / "r.csv"), "--motor", "referens"])
    assert result.exit_code == 0, result.output
    assert "Körning 1 loggad" in result.output
    assert [r["id"] for r in history(ledger)] == [1]


def test_the_schema_is_created_in_the_same_transaction_as_the_row(tmp_path, monkeypatch):
    """An insert that fails leaves no table behind: schema and row commit together."""
    import duckdb

    from villkor_engine.write import ledger as L

    out = tmp_path / "r.csv"
    out.write_text("x\n", encoding="utf-8")
    run = L.Run(BENCH, "v", None, {}, tmp_path, "referens", 1, 0, [], out, 0.1)
    monkeypatch.setattr(L, "sha256", lambda p: None)   # NOT NULL column: the insert fails
    with pytest.raises(duckdb.Error):
        L.record(tmp_path / "l.duckdb", run)
    monkeypatch.undo()
    with duckdb.connect(str(tmp_path / "l.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0] == 0


def test_inputs_are_hashed_before_the_run(tmp_path, monkeypatch):
    """The ledger holds the hash of the input as it was read, even if the file changes while
    the result is written."""
    import villkor_engine.api as api

    data = _bench_data(tmp_path)
    source = data / "mottagare.csv"
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    real = api.write_result

    def write_and_touch(result, target):
        with open(source, "a", encoding="utf-8") as f:   # someone edits the input meanwhile
            f.write("m9999999,1,ja,ja\n")
        return real(result, target)

    monkeypatch.setattr(api, "write_result", write_and_touch)
    out = tmp_path / "ut" / "r.csv"
    result = CliRunner().invoke(main, ["run", str(BENCH), "--data", str(data), "--out", str(out),
                                       "--motor", "referens"])
    assert result.exit_code == 0, result.output
    (run,) = history(out.parent / "villkor-körningar.duckdb")
    assert json.loads(run["indata"]) == {"mottagare.csv": before}
    assert hashlib.sha256(source.read_bytes()).hexdigest() != before
