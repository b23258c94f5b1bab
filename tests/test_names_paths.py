"""Names out of the user's reach, and files only where `--data` says.

1. The column engine's own columns (`§rad`, `§kod`, `<col>§fel`, …) hold `§`, which no declared
   column can; its views carry their table's or group's index in the plan, so no two tables or
   groups (`a` + `b_c` against `a_b` + `c`, or `A` against `a`) share a view. A Parquet file's
   columns are picked by position, so none of them (`file_row_number`, `BEFOLKNING`) stands in
   for a declared column or for the row number.
2. A `fil` name is a name, never a pattern: `m[2020].parquet` is that file, not `m2.parquet`.
3. `fil` stays inside `--data`: `..`, absolute paths and symlinks that lead out are V214 on both
   engines, with nothing written.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from conftest import ROOT
from villkor_engine.cli import main
from villkor_engine.io.paths import data_file, name_problem
from villkor_engine.io.readers import ReadError

POTT = (ROOT / "bench" / "pott.villkor").read_text(encoding="utf-8")
INTYG = (ROOT / "bench" / "intyg.villkor").read_text(encoding="utf-8")


def invoke(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def run(agreement: Path, data: Path, out: Path, engine: str) -> Result:
    return invoke("run", agreement, "--data", data, "--out", out, "--motor", engine)


def both_engines(tmp_path: Path, text: str, data: Path) -> str:
    """Both engines over one folder: they must succeed and write the same bytes; the result."""
    agreement = tmp_path / "avtal.villkor"
    agreement.write_text(text, encoding="utf-8")
    files = []
    for engine in ("kolumn", "referens"):
        out = tmp_path / "ut" / engine / "utfall.csv"
        out.parent.mkdir(parents=True)
        done = run(agreement, data, out, engine)
        assert done.exit_code == 0, (engine, done.output)
        assert "Traceback" not in done.output
        files.append(out.read_bytes())
    assert files[0] == files[1]
    return files[0].decode("utf-8")


def recipients(result: str) -> list[str]:
    return [row["mottagare"] for row in csv.DictReader(result.splitlines())
            if row["villkor"] == "1"]


# ---- 1. internal columns and view names ------------------------------------------------------

# the engine's internal columns as they were named before (and a few in other letter cases)
INTERNAL = ["_n", "_rad", "_först", "_kod", "_namn", "_ord", "_nyckel", "_lv", "_total",
            "_enheter", "_q", "_r", "_mikro", "_belopp", "_exakt", "_N", "_RAD", "kod", "n",
            "a__fel", "file_row_number"]


@pytest.mark.parametrize("column", INTERNAL)
def test_a_declared_column_cannot_shadow_an_internal_one(tmp_path, column):
    """A keyed table with an extra column named like one of the engine's own: the same bytes
    as the reference on clean data, and a repeated key is still an error (V206), paid once."""
    text = POTT.replace("  b: ja/nej\n", f"  b: ja/nej\n  {column}: heltal\n")
    data = tmp_path / "data"
    data.mkdir()
    header = f"id,befolkning,a,b,{column}\n"
    (data / "mottagare.csv").write_text(header + "x,100,ja,ja,1\ny,300,ja,ja,1\nz,50,nej,ja,1\n",
                                        encoding="utf-8")
    assert recipients(both_engines(tmp_path, text, data)) == ["x", "y", "z"]

    (data / "mottagare.csv").write_text(header + "x,100,ja,ja,1\nx,100,ja,ja,1\ny,100,ja,ja,1\n",
                                        encoding="utf-8")
    out = tmp_path / "dubbel.csv"
    done = run(tmp_path / "avtal.villkor", data, out, "kolumn")
    assert done.exit_code == 1, done.output
    assert "mottagare.csv:3:1: fel[V206]: rad 3: `x` finns redan på rad 2" in done.output
    with open(out, encoding="utf-8", newline="") as f:
        paid = [(r["mottagare"], r["belopp"]) for r in csv.DictReader(f) if r["villkor"] == "1"]
    assert paid == [("x", "500000000"), ("y", "500000000")]


@pytest.mark.parametrize("column", ["_rad", "kod", "_etikett", "_kod", "_ord"])
def test_a_record_column_cannot_shadow_an_internal_one(tmp_path, column):
    """The certificate benchmark (two `via` groups over one record table) with an extra record
    column named like one of the engine's own, as CSV: the same bytes as the reference."""
    text = INTYG.replace('"intyg.parquet"', '"intyg.csv"').replace(
        "  prognos: ja/nej\n", f"  prognos: ja/nej\n  {column}: heltal\n")
    data = tmp_path / "data"
    data.mkdir()
    rows = [("VC-A", "LFC1", "2010-03-01", "ja"), ("VC-A", "LFC1", "2010-04-01", "nej"),
            ("VC-B", "LFC2", "2010-05-01", "ja"), ("VC-B", "LFC1", "2009-05-01", "ja")]
    lines = [("intygsid,enhet,center,datum,diagnos,funktionsnedsättning,aktivitetsbegränsning,"
              f"arbetsförmåga,prognos,{column}")]
    lines += [f"i{n},{e},{c},{d},{y},ja,ja,ja,ja,7" for n, (e, c, d, y) in enumerate(rows)]
    (data / "intyg.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = both_engines(tmp_path, text, data)
    assert recipients(result) == ["VC-A", "VC-B"]


def test_a_parquet_file_cannot_shadow_the_row_number_or_a_declared_column(tmp_path):
    """The file has a column `file_row_number` (DuckDB's name for its row number) and a column
    `BEFOLKNING` before `befolkning` (DuckDB matches names in any case): both are ignored."""
    text = POTT.replace('"mottagare.csv"', '"mottagare.parquet"')
    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(pa.table({
        "file_row_number": ["9", "9", "9"], "BEFOLKNING": ["1", "1", "1"],
        "id": ["x", "y", "y"], "befolkning": ["100", "300", "5"], "a": ["ja", "ja", "ja"],
        "b": ["ja", "ja", "ja"]}), data / "mottagare.parquet")
    agreement = tmp_path / "avtal.villkor"
    agreement.write_text(text, encoding="utf-8")
    out = tmp_path / "ut.csv"
    done = run(agreement, data, out, "kolumn")
    assert done.exit_code == 1, done.output
    assert "mottagare.parquet:4:3: fel[V206]: rad 4: `y` finns redan på rad 3" in done.output
    with open(out, encoding="utf-8", newline="") as f:
        paid = [(r["mottagare"], r["belopp"]) for r in csv.DictReader(f) if r["villkor"] == "1"]
    assert paid == [("x", "250000000"), ("y", "750000000")]


RECORDS = """
överenskommelse "Namn som krockar"
slut

dokument d "Test"

tabell {t1} fil "{f1}" poster per {g1} via enhet
  enhet: kod obligatorisk
  ok: ja/nej
slut

tabell {t2} fil "{f2}" poster per {g2} via enhet
  enhet: kod obligatorisk
  ok: ja/nej
slut

mottagargrupp {g1} från {t1} via enhet
mottagargrupp {g2} från {t2} via enhet

villkor 1 "Hälften"
  gäller {g1}
  källa d "1"
  krav andel({t1} där {t1}.ok är ja) >= 50 %
slut

villkor 2 "Minst två"
  gäller {g2}
  källa d "2"
  krav antal({t2} där {t2}.ok är ja) >= 2
slut
"""


@pytest.mark.parametrize("t1, g1, t2, g2", [
    ("b_c", "a", "c", "a_b"),        # agg_a_b_c twice, before the index was in the name
    ("A", "g", "a", "h"),            # in_A and in_a: one view to DuckDB
    ("t", "G", "u", "g"),            # mot_G and mot_g
])
def test_generated_view_names_never_collide(tmp_path, t1, g1, t2, g2):
    data = tmp_path / "data"
    data.mkdir()
    (data / "f1.csv").write_text("enhet,ok\nE1,ja\nE1,nej\nE2,nej\nE2,nej\n", encoding="utf-8")
    (data / "f2.csv").write_text("enhet,ok\nK1,ja\nK1,ja\nK2,ja\n", encoding="utf-8")
    text = RECORDS.format(t1=t1, g1=g1, t2=t2, g2=g2, f1="f1.csv", f2="f2.csv")
    result = both_engines(tmp_path, text, data)
    rows = [(r["mottagare"], r["villkor"], r["utfall"]) for r in csv.DictReader(result.splitlines())
            if r["villkor"] != "summa"]
    assert rows == [("E1", "1", "uppfyllt"), ("E2", "1", "ej uppfyllt"),
                    ("K1", "2", "uppfyllt"), ("K2", "2", "ej uppfyllt")]


def test_the_printed_script_runs_with_the_documented_input_views(tmp_path):
    """`villkor sql` for tables `A` and `a`: the script runs on DuckDB given `in_0_A` and
    `in_1_a` with `§rad`, and gives the run's result."""
    import duckdb

    text = RECORDS.format(t1="A", g1="g", t2="a", g2="h", f1="f1.csv", f2="f2.csv")
    agreement = tmp_path / "avtal.villkor"
    agreement.write_text(text, encoding="utf-8")
    done = invoke("sql", agreement)
    assert done.exit_code == 0, done.output
    con = duckdb.connect()
    con.register("in_0_A", pa.table({"enhet": ["E1", "E1", "E2"], "ok": ["ja", "nej", "nej"],
                                     "§rad": [2, 3, 4]}))
    con.register("in_1_a", pa.table({"enhet": ["K1", "K1"], "ok": ["ja", "ja"],
                                     "§rad": [2, 3]}))
    *steps, result = [s for s in done.stdout.split(";\n") if s.strip()]
    for statement in steps:
        con.execute(statement)
    got = [(r[0], r[2], r[3]) for r in con.execute(result).fetchall() if r[2] != "summa"]
    assert got == [("E1", "1", "uppfyllt"), ("E2", "1", "ej uppfyllt"), ("K1", "2", "uppfyllt")]


def test_columns_that_differ_only_in_case_are_left_to_the_reference(tmp_path):
    text = POTT.replace("  b: ja/nej\n", "  b: ja/nej\n  B: ja/nej\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "mottagare.csv").write_text("id,befolkning,a,b,B\nx,1,ja,ja,nej\n", encoding="utf-8")
    agreement = tmp_path / "avtal.villkor"
    agreement.write_text(text, encoding="utf-8")
    done = run(agreement, data, tmp_path / "ut.csv", "kolumn")
    assert done.exit_code == 2
    assert "fel[V304]" in done.output and "kolumnerna b och B" in done.output
    assert run(agreement, data, tmp_path / "ut.csv", "auto").exit_code == 0


# ---- 2. a file name is not a pattern ---------------------------------------------------------

def write_recipients(path: Path, ids: list[str]) -> None:
    columns = {"id": ids, "befolkning": ["100"] * len(ids), "a": ["ja"] * len(ids),
               "b": ["ja"] * len(ids)}
    if path.suffix == ".parquet":
        pq.write_table(pa.table(columns), path)
    else:
        rows = ["id,befolkning,a,b"] + [f"{i},100,ja,ja" for i in ids]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.mark.parametrize("name, decoy", [
    ("m[2020].parquet", "m2.parquet"),
    ("m*.parquet", "mx.parquet"),
    ("m?.parquet", "m1.parquet"),
    ("m*.csv", "mx.csv"),
    ("m?.csv", "m1.csv"),
])
@pytest.mark.parametrize("folder", ["data", "da[t]a*"])   # nor is the data folder's name
def test_a_file_name_is_read_as_a_name_never_as_a_pattern(tmp_path, name, decoy, folder):
    data = tmp_path / folder
    data.mkdir()
    write_recipients(data / name, ["x", "y"])
    write_recipients(data / decoy, ["z"])
    result = both_engines(tmp_path, POTT.replace('"mottagare.csv"', f'"{name}"'), data)
    assert recipients(result) == ["x", "y"]


# ---- 3. `fil` stays inside --data ------------------------------------------------------------

@pytest.mark.parametrize("name, problem", [
    ("", "tomt"), ("../x.csv", "`..`"), ("a/../../x.csv", "`..`"), ("/etc/passwd", "absolut"),
    ("C:x.csv", "enhetsbeteckning"), ("a\\x.csv", "`\\`"), ("x\x00.csv", "U+0000"),
    ("x\n.csv", "U+000A"), ("x\u202e.csv", "U+202E"),
])
def test_name_problem_names_what_is_wrong(name, problem):
    reason = name_problem(name)
    assert reason is not None and problem in reason


@pytest.mark.parametrize("name", ["x.csv", "2020/x.csv", "./x.csv", "a..b.csv", "m[2020].parquet",
                                  "ränta ö.xlsx", "..x.csv"])
def test_plain_names_and_subfolders_are_fine(tmp_path, name):
    assert name_problem(name) is None
    assert data_file(tmp_path, name) == tmp_path / name


def test_data_file_follows_symlinks(tmp_path):
    data, outside = tmp_path / "data", tmp_path / "ute"
    (data / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "x.csv").write_text("id\n", encoding="utf-8")
    (data / "inne.csv").write_text("id\n", encoding="utf-8")
    (data / "länk.csv").symlink_to(data / "inne.csv")
    (data / "ut.csv").symlink_to(outside / "x.csv")
    (data / "utmapp").symlink_to(outside, target_is_directory=True)
    assert data_file(data, "länk.csv") == data / "länk.csv"
    for name in ("ut.csv", "utmapp/x.csv", "../ute/x.csv", str(outside / "x.csv")):
        with pytest.raises(ReadError) as exc:
            data_file(data, name)
        assert exc.value.code == "V214" and "lägg filen i datamappen" in exc.value.hint


def outside_setups(tmp_path: Path) -> dict[str, str]:
    """A recipient file outside the data folder, and three ways for an agreement to name it."""
    outside = tmp_path / "ute"
    outside.mkdir()
    write_recipients(outside / "mottagare.csv", ["hemlig"])
    data = tmp_path / "data"
    data.mkdir()
    (data / "länk.csv").symlink_to(outside / "mottagare.csv")
    return {"relative": "../ute/mottagare.csv", "absolute": str(outside / "mottagare.csv"),
            "symlink": "länk.csv"}


@pytest.mark.parametrize("engine", ["kolumn", "referens", "auto"])
@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_a_file_outside_the_data_folder_is_refused(tmp_path, engine, how):
    name = outside_setups(tmp_path)[how]
    agreement = tmp_path / "avtal.villkor"
    agreement.write_text(POTT.replace('"mottagare.csv"', f'"{name}"'), encoding="utf-8")
    out = tmp_path / "resultat" / "ut.csv"
    out.parent.mkdir()
    done = run(agreement, tmp_path / "data", out, engine)
    assert done.exit_code == 1, done.output
    assert "fel[V214]" in done.output
    assert "tabellen `mottagare`" in done.output and f"filen `{name}`" in done.output
    assert "lägg filen i datamappen" in done.output
    assert "Traceback" not in done.output and "hemlig" not in done.output
    assert not isinstance(done.exception, Exception) or isinstance(done.exception, SystemExit)
    assert list(out.parent.iterdir()) == []          # no result, no side file, no ledger


def test_a_subfolder_inside_the_data_folder_is_fine(tmp_path):
    data = tmp_path / "data"
    (data / "2020").mkdir(parents=True)
    write_recipients(data / "2020" / "mottagare.parquet", ["x", "y"])
    shutil.copy(data / "2020" / "mottagare.parquet", data / "kopia.parquet")
    os.symlink(data / "kopia.parquet", data / "länk.parquet")   # a symlink that stays inside
    for name in ("2020/mottagare.parquet", "länk.parquet"):
        work = tmp_path / name.replace("/", "-")
        work.mkdir()
        text = POTT.replace('"mottagare.csv"', f'"{name}"')
        assert recipients(both_engines(work, text, data)) == ["x", "y"]
