"""villkor_engine.api: typed results, no printing, the same outputs as the CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from villkor_engine import api
from villkor_engine.cli import main
from villkor_engine.write.ledger import history

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = ROOT / "agreements" / "sjukskrivning-2020.villkor"
EXAMPLE = ROOT / "examples" / "sjukskrivning-2020"
BENCH = ROOT / "bench" / "pott.villkor"


def _cli_run(*args: str) -> None:
    done = CliRunner().invoke(main, ["run", *args])
    assert done.exit_code == 0, done.output


def test_check_text_ok_and_with_error():
    text = AGREEMENT.read_text(encoding="utf-8")
    ok = api.check(text, "a.villkor")
    assert ok.ok and ok.model is not None and ok.diagnostics == ()
    bad = api.check(text.replace("heltal obligatorisk positiv", "heltl obligatorisk", 1),
                    "a.villkor")
    assert not bad.ok
    entry = bad.json()
    assert entry["fil"] == "a.villkor" and entry["ok"] is False
    first = entry["diagnoser"][0]
    assert set(first) == {"kod", "allvarlighet", "meddelande", "tips", "fil", "rad", "kolumn",
                          "slutrad", "slutkolumn"}
    assert first["allvarlighet"] == "fel" and first["rad"] > 0


def test_check_json_is_the_cli_json():
    import json

    done = CliRunner().invoke(main, ["check", "--format", "json", str(AGREEMENT)])
    cli = json.loads(done.output)[0]
    assert api.check_file(AGREEMENT).json() == cli


def test_run_2020_same_files_as_cli(tmp_path):
    _cli_run(str(AGREEMENT), "--data", str(EXAMPLE), "--out", str(tmp_path / "cli" / "u.csv"))
    out = tmp_path / "api" / "u.csv"
    outcome = api.run(AGREEMENT, EXAMPLE, out, ledger=tmp_path / "api" / "l.duckdb")
    assert outcome.ok and outcome.exit_code == 0 and outcome.engine_used == "kolumn"
    for name in ("u.csv", "u.potter.csv"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    assert outcome.written_files == (tmp_path / "api" / "u.potter.csv", out)
    # the rows returned are the rows written
    assert api.csv_of_rows(outcome.rows) == out.read_text(encoding="utf-8")
    assert outcome.version.startswith("tillägg juni2020")
    # recorded as the CLI records: agreement hash, inputs hashed, engine, output hash
    assert outcome.ledger_id == 1
    (entry,) = history(tmp_path / "api" / "l.duckdb")
    assert entry["motor"] == "kolumn" and entry["rader"] == len(outcome.rows)
    assert "befolkning.csv" in entry["indata"]


def test_run_five_lines_from_text_without_output():
    outcome = api.run(AGREEMENT.read_text(encoding="utf-8"), EXAMPLE, name="s.villkor")
    gotland = {r.villkor: r for r in outcome.rows if r.mottagare == "09"}
    assert str(gotland["1"].belopp) == "577898" and str(gotland["2"].belopp) == "809057"
    assert gotland["3"].belopp is None and gotland["3"].utfall == "underlag saknas"
    assert outcome.written_files == () and outcome.ledger_id is None
    pots = {(p.utbetalning, p.villkor): p for p in outcome.pots}
    assert pots and all(p.avrundningsdifferens != "" for p in pots.values())


def test_run_stops_say_where(tmp_path):
    # never an output into the repository's own example folder
    text = AGREEMENT.read_text(encoding="utf-8")
    bad = api.run(text + "\nxx", EXAMPLE)
    assert bad.stage == "överenskommelse" and bad.exit_code == 1
    assert any(d.is_error for d in bad.diagnostics)
    param = api.run(AGREEMENT, EXAMPLE, params=["okänd=1"])
    assert param.stage == "användning" and param.exit_code == 2
    assert param.diagnostics[0].code == "V301"
    nodata = api.run(AGREEMENT, tmp_path)
    assert nodata.stage == "indata" and nodata.diagnostics[0].code == "V201"
    memory = api.run(AGREEMENT, EXAMPLE, memory="1KB")
    assert memory.stage == "användning" and memory.diagnostics[0].code == "V311"
    data = tmp_path / "data"
    data.mkdir()
    for f in EXAMPLE.glob("*.csv"):
        (data / f.name).write_bytes(f.read_bytes())
    before = sorted(p.name for p in data.iterdir())
    over = api.run(AGREEMENT, data, out=data / "befolkning.csv")
    assert over.stage == "användning" and over.diagnostics[0].code == "V310"
    assert sorted(p.name for p in data.iterdir()) == before
    over = api.run(AGREEMENT, EXAMPLE, out=tmp_path / "u.txt")
    assert over.stage == "användning" and over.diagnostics[0].code == "V300"


def test_run_params_as_dict_and_list_agree():
    a = api.run(AGREEMENT, EXAMPLE, params={"ersättning_per_kontakt": "100"})
    b = api.run(AGREEMENT, EXAMPLE, params=["ersättning_per_kontakt=100"])
    assert a.ok and a.rows == b.rows and a.params == b.params


def test_column_engine_chosen_and_same_as_cli(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    data = generate(200, tmp_path / "data").parent
    _cli_run(str(BENCH), "--data", str(data), "--out", str(tmp_path / "cli" / "u.csv"))
    out = tmp_path / "api" / "u.csv"
    outcome = api.run(BENCH, data, out)
    assert outcome.ok and outcome.engine_used == "kolumn"
    assert out.read_bytes() == (tmp_path / "cli" / "u.csv").read_bytes()
    assert api.csv_of_rows(outcome.rows) == out.read_text(encoding="utf-8")
    reference = api.run(BENCH, data, engine="referens")
    assert reference.engine_used == "referens" and reference.rows == outcome.rows
    assert reference.pots == outcome.pots
    # no output asked for: the column engine's temporary file is read back and removed
    bare = api.run(BENCH, data)
    assert bare.engine_used == "kolumn" and bare.rows == outcome.rows
    assert bare.written_files == ()


def test_column_engine_required_but_unsupported():
    """`största rest` shares a pot by the whole set of remainders: the plan leaves it to the
    reference, and `engine="kolumn"` says so before reading anything."""
    bench = ROOT / "bench" / "pott.villkor"
    text = bench.read_text(encoding="utf-8").replace("halvt uppåt per andel", "största rest")
    outcome = api.run(text, EXAMPLE, engine="kolumn")
    assert outcome.stage == "användning" and outcome.diagnostics[0].code == "V304"
    assert "största rest" in outcome.diagnostics[0].message or \
        "halvt uppåt" in outcome.diagnostics[0].message


def test_explain_and_report():
    outcome = api.run(AGREEMENT, EXAMPLE, engine="referens")   # explanations: the reference
    text = api.explain(outcome, "09", "1")
    assert "Region Gotland" in text and "577 898 kr" in text
    assert api.explain_problem(outcome, "99", None).code == "V303"
    page = api.report_html(outcome)
    assert 'id="utfall"' in page and api.anchor("09", "1") in page
    assert set(api.explanations(outcome)) >= {api.anchor("09", "summa")}


def test_report_xlsx(tmp_path):
    outcome = api.run(AGREEMENT, EXAMPLE, engine="referens")
    api.report_xlsx(outcome, tmp_path / "r.xlsx")
    from openpyxl import load_workbook

    assert load_workbook(tmp_path / "r.xlsx").sheetnames == ["Utfall", "Potter", "Förklaringar"]


def test_diff_per_recipient():
    old = AGREEMENT.read_text(encoding="utf-8")
    new = old.replace("2 000 000", "3 000 000", 1) if "2 000 000" in old else old
    found = api.diff(old, new, EXAMPLE)
    assert not isinstance(found, tuple)
    assert {r.code for r in found.sums} >= {"09"}


def test_no_printing(capsys):
    api.run(AGREEMENT, EXAMPLE)
    api.check(AGREEMENT.read_text(encoding="utf-8"))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("engine", ["auto", "referens"])
def test_engines_agree_on_2020(engine):
    """auto runs the 2020 agreement on the plan; both give the same rows."""
    outcome = api.run(AGREEMENT, EXAMPLE, engine=engine)
    assert outcome.engine_used == ("kolumn" if engine == "auto" else "referens")
    assert outcome.rows == api.run(AGREEMENT, EXAMPLE, engine="referens").rows
