"""Output sinks and hostile text: a cell of data is never run as a formula.

CSV: a text cell beginning with `=`, `+`, `-`, `@`, TAB or CR is written with a leading
apostrophe (`csv_text`), by both engines, byte for byte the same; amounts, dates and counts are
never changed. Excel: every text is a text cell (no `<f>` element in the workbook's XML).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from villkor_engine.cli import main
from villkor_engine.write.output import (
    ERROR_COLUMNS,
    FORMULA_START,
    RESULT_COLUMNS,
    csv_text,
    csv_text_sql,
    write_rows,
)

BENCH = ROOT / "bench" / "pott.villkor"
HOSTILE = ["=1+1", "@SUM(A1)", "-x", "+1", '=HYPERLINK("http://x","y")']
SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def recipients(folder: Path, rows: list[tuple[str, int]]) -> Path:
    """bench/pott.villkor's table: id, befolkning, a, b (everyone answers ja, ja)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "mottagare.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "befolkning", "a", "b"])
        w.writerows((code, population, "ja", "ja") for code, population in rows)
    return folder


def run(agreement: Path, data: Path, out: Path, engine: str) -> None:
    result = CliRunner().invoke(main, ["run", str(agreement), "--data", str(data), "--out",
                                       str(out), "--motor", engine])
    assert result.exit_code == 0, result.output
    assert out.is_file()


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# ---- the rule --------------------------------------------------------------------------------

def test_csv_text_rule():
    assert FORMULA_START == ("=", "+", "-", "@", "\t", "\r")
    for start in FORMULA_START:
        assert csv_text(start + "x") == "'" + start + "x"
    for value in ("", "x", "'=1", "1-2", " =1", "Region Gotland", "\n=1"):
        assert csv_text(value) == value


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.text(max_size=6),
    st.builds(lambda c, t: c + t, st.sampled_from(FORMULA_START + ("'", " ", "é")),
              st.text(max_size=6))), min_size=1, max_size=20))
def test_the_sql_rule_is_the_python_rule(values):
    """The column engine's expression (generated from the same characters) agrees cell by cell."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    got = [r[0] for r in con.execute(f"SELECT {csv_text_sql('v')} FROM t ORDER BY i").fetchall()]
    assert got == [csv_text(v) for v in values]
    assert con.execute(f"SELECT {csv_text_sql('v')} FROM (SELECT NULL::VARCHAR AS v)"
                       ).fetchone()[0] is None


# ---- CSV: both engines -------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["referens", "kolumn"])
def test_csv_output_shows_formulas_as_text(tmp_path, engine):
    data = recipients(tmp_path / "data", [(code, 10 * (i + 1)) for i, code in
                                          enumerate(HOSTILE + ["m1"])])
    out = tmp_path / engine / "utfall.csv"
    run(BENCH, data, out, engine)
    rows = csv_rows(out)
    codes = {r["mottagare"] for r in rows}
    assert codes == {"'" + c for c in HOSTILE} | {"m1"}
    for r in rows:
        assert r["namn"] == r["mottagare"]                  # namn is the id: the same rule
        assert not r["belopp"].startswith("'") and int(r["belopp"]) > 0
    text = out.read_text(encoding="utf-8")
    assert "\n'=1+1,'=1+1,1,uppfyllt," in text
    assert '\n"\'=HYPERLINK(""http://x"",""y"")",' in text
    assert not re.search(r"(^|,)[=+@-]", text.replace('"', ""), re.MULTILINE)


def test_both_engines_write_the_same_guarded_csv(tmp_path):
    data = recipients(tmp_path / "data", [(code, 7 + i) for i, code in enumerate(HOSTILE)])
    run(BENCH, data, tmp_path / "r" / "u.csv", "referens")
    run(BENCH, data, tmp_path / "k" / "u.csv", "kolumn")
    for name in ("u.csv", "u.potter.csv"):
        assert (tmp_path / "k" / name).read_bytes() == (tmp_path / "r" / name).read_bytes()
    assert (tmp_path / "k" / "u.csv").read_text(encoding="utf-8").count("'") == 2 * 2 * 5


def test_negative_amounts_stay_as_they_are(tmp_path):
    """A negative pot (only the reference evaluator takes one): `-333` and `-333.333333` are
    amounts, not text; the recipient `-x` beside them is text and gets its apostrophe."""
    agreement = tmp_path / "negativ.villkor"
    agreement.write_text(BENCH.read_text(encoding="utf-8").replace(
        "= 1 000 000 000 kr", "= -1 000 kr"), encoding="utf-8")
    data = recipients(tmp_path / "data", [("=1+1", 10), ("-x", 20)])
    out = tmp_path / "utfall.csv"
    run(agreement, data, out, "referens")
    rows = {(r["mottagare"], r["villkor"]): r for r in csv_rows(out)}
    assert (rows[("'=1+1", "1")]["belopp"], rows[("'=1+1", "1")]["exakt_belopp"]) == \
        ("-333", "-333.333333")
    assert (rows[("'-x", "1")]["belopp"], rows[("'-x", "1")]["exakt_belopp"]) == \
        ("-667", "-666.666667")
    pots = csv_rows(tmp_path / "utfall.potter.csv")[0]
    assert (pots["pott"], pots["exakt_fördelat"], pots["utbetalt"]) == ("-1000", "-1000", "-1000")


def test_column_engine_writer_guards_text_and_keeps_negative_amounts(tmp_path):
    """The column engine's CSV writer (DuckDB COPY) against the reference writer, on the same
    cells: every text column guarded, every amount, date and row number as it is."""
    from villkor_engine.batch.duck import _copy

    row = {c: "x" for c in RESULT_COLUMNS}
    # villkor, version and källa hold the agreement's own words, which cannot begin with a
    # formula character (test_agreement_words_cannot_start_a_formula): only the data is guarded
    row.update(mottagare="-x", namn="=1+1", villkor="ersättning_1", utfall="uppfyllt",
               belopp="-70000", exakt_belopp="-70000.500000", betalas_senast="2021-03-31",
               version="tillägg t1", källa="Ö: 5", anmärkning="\r=2")
    con = duckdb.connect()
    select = "SELECT " + ", ".join(f"{duck_lit(v)} AS \"{c}\"" for c, v in row.items())
    assert _copy(con, select, tmp_path / "kolumn.csv") == 1
    write_rows(tmp_path / "referens.csv", RESULT_COLUMNS,
               [[Decimal(v) if c == "belopp" else v for c, v in row.items()]])
    columnar = (tmp_path / "kolumn.csv").read_bytes()
    assert columnar == (tmp_path / "referens.csv").read_bytes()
    back = next(csv.DictReader(io.StringIO(columnar.decode("utf-8"), newline="")))
    assert (back["belopp"], back["exakt_belopp"], back["betalas_senast"]) == \
        ("-70000", "-70000.500000", "2021-03-31")
    assert (back["mottagare"], back["namn"], back["anmärkning"]) == ("'-x", "'=1+1", "'\r=2")
    # the error file: `rad` is a number, the rest text
    select = "SELECT '=fil.csv' AS fil, 3 AS rad, '-a' AS kolumn, '@m' AS meddelande"
    _copy(con, select, tmp_path / "fel.csv", "fel")
    write_rows(tmp_path / "fel-referens.csv", ERROR_COLUMNS, [["=fil.csv", 3, "-a", "@m"]])
    assert (tmp_path / "fel.csv").read_text(encoding="utf-8") == \
        "fil,rad,kolumn,meddelande\n'=fil.csv,3,'-a,'@m\n" == \
        (tmp_path / "fel-referens.csv").read_text(encoding="utf-8")


def test_agreement_words_cannot_start_a_formula():
    """The column writer leaves `AGREEMENT_WORDS` unguarded: sound only while the grammar's
    names (VID, NAME) and the version labels cannot begin with a formula character."""
    from villkor_engine.write.output import AGREEMENT_WORDS, FORMULA_START

    grammar = (ROOT / "dsl" / "villkor.lark").read_text(encoding="utf-8")
    for terminal in ("VID", "NAME"):
        pattern = re.search(rf"^{terminal}: /(.*)/$", grammar, re.M)
        assert pattern, terminal
        for c in FORMULA_START:
            assert not re.match(pattern.group(1), c + "x1"), (terminal, c)
    assert AGREEMENT_WORDS == {"villkor", "utfall", "version", "källa"}


def duck_lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# ---- Excel: text cells, never formulas ---------------------------------------------------------

def sheet_cells(path: Path) -> tuple[list[str], list[str]]:
    """Every worksheet's inline texts, and every formula (`<f>`) in the workbook."""
    texts, formulas = [], []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if not name.endswith(".xml"):
                continue
            root = ElementTree.fromstring(z.read(name))
            formulas += [ElementTree.tostring(f, encoding="unicode")
                         for f in root.iter(f"{SHEET}f")]
            texts += ["".join(t.itertext()) for t in root.iter(f"{SHEET}is")]
            texts += [t.text or "" for t in root.iter(f"{SHEET}si")]
    return texts, formulas


@pytest.mark.parametrize("engine", ["referens", "kolumn"])
def test_run_to_xlsx_keeps_formulas_as_text(tmp_path, engine):
    data = recipients(tmp_path / "data", [(code, 5 + i) for i, code in enumerate(HOSTILE)])
    out = tmp_path / "utfall.xlsx"
    run(BENCH, data, out, engine)
    texts, formulas = sheet_cells(out)
    assert formulas == []
    assert texts.count('=HYPERLINK("http://x","y")') == 2 * 2     # mottagare and namn, 2 rows
    assert "=1+1" in texts and "-x" in texts                       # no apostrophe in Excel


def test_both_engines_quote_a_cell_the_same_way(tmp_path):
    """DuckDB's CSV writer quoted any text with `#` (its comment character), Python's did not:
    `a#b` gave different bytes from the two engines. Comma, quote, newline and `;` too."""
    codes = ["a#b", "c,d", 'e"f', "g;h", "i j"]
    data = recipients(tmp_path / "data", [(code, 3 + i) for i, code in enumerate(codes)])
    run(BENCH, data, tmp_path / "r" / "u.csv", "referens")
    run(BENCH, data, tmp_path / "k" / "u.csv", "kolumn")
    assert (tmp_path / "k" / "u.csv").read_bytes() == (tmp_path / "r" / "u.csv").read_bytes()
