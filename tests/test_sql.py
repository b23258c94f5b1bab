"""The columnar plan as SQL: one sqlglot tree, run on DuckDB here, transpiled for a cluster.

`villkor sql` prints the very steps `villkor run` executes; these tests run that printed DuckDB
script by hand and get the run's result, and check that the Spark rendering parses as Spark SQL
with integer division (`DIV`), no floating-point type, and Swedish names quoted.
"""

from __future__ import annotations

import csv
import subprocess
import sys

import duckdb
import pyarrow as pa
import pytest
import sqlglot

from conftest import ROOT

BENCH = ROOT / "bench"


def villkor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "villkor_engine.cli", *args], check=False,
                          capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize("agreement", ["pott.villkor", "intyg.villkor"])
def test_spark_rendering_parses_as_spark_sql_and_keeps_money_integral(agreement):
    done = villkor("sql", str(BENCH / agreement), "--dialekt", "spark")
    assert done.returncode == 0, done.stderr
    script = done.stdout
    statements = [s for s in sqlglot.parse(script, read="spark") if s is not None]
    assert len(statements) == script.count(";\n")
    assert statements[-1].key == "select"                       # the result, ordered
    assert all(s.key == "create" for s in statements[:-1])      # each step a temporary view
    assert "CREATE OR REPLACE TEMPORARY VIEW `typ_" in script
    upper = script.upper()
    assert " DOUBLE" not in upper and " FLOAT" not in upper and "//" not in script
    if agreement == "pott.villkor":
        assert " DIV " in script                                # half up in integers
        assert "`räkna_0_alla`" in script                        # å ä ö quoted for Spark
    else:
        assert "`funktionsnedsättning`" in script
        assert "COUNT(*) FILTER(WHERE" in script


def test_printed_duckdb_script_is_what_run_executes(tmp_path):
    (tmp_path / "mottagare.csv").write_text(
        "id,befolkning,a,b\nx,100,ja,ja\ny,300,ja,\nz,50,nej,ja\nw,7,ja,ja\n", encoding="utf-8")
    ran = villkor("run", str(BENCH / "pott.villkor"), "--data", str(tmp_path), "--out",
                  str(tmp_path / "ut.csv"), "--motor", "kolumn")
    assert ran.returncode == 0, ran.stderr
    script = villkor("sql", str(BENCH / "pott.villkor")).stdout
    con = duckdb.connect()
    text = {"id": ["x", "y", "z", "w"], "befolkning": ["100", "300", "50", "7"],
            "a": ["ja", "ja", "nej", "ja"], "b": ["ja", None, "ja", "ja"], "§rad": [2, 3, 4, 5]}
    con.register("in_0_mottagare", pa.table(text))
    *steps, result = [s for s in script.split(";\n") if s.strip()]
    for statement in steps:
        con.execute(statement)
    got = [["" if v is None else v for v in row] for row in con.execute(result).fetchall()]
    with open(tmp_path / "ut.csv", encoding="utf-8", newline="") as f:
        expected = list(csv.reader(f))[1:]
    assert got == expected
    share = (2 * 10**9 * 100 + 107) // (2 * 107)      # x's half-up share of 1e9 kr by 100/107
    assert ["x", "1", "uppfyllt", str(share)] == [got[0][0], got[0][2], got[0][3], got[0][4]]


def test_sql_for_an_agreement_outside_the_columnar_subset_says_why(tmp_path):
    text = (BENCH / "pott.villkor").read_text(encoding="utf-8")
    agreement = tmp_path / "rest.villkor"
    agreement.write_text(text.replace("halvt uppåt per andel", "största rest"), encoding="utf-8")
    done = villkor("sql", str(agreement))
    assert done.returncode == 2
    assert "fel[V304]: kolumnmotorn stöder inte överenskommelsen: utbetalningen andelar" in \
        done.stderr


def test_memory_bound_is_a_size_and_a_small_one_still_gives_the_result(tmp_path):
    (tmp_path / "mottagare.csv").write_text("id,befolkning,a,b\nx,1,ja,ja\ny,3,ja,ja\n",
                                            encoding="utf-8")
    out = tmp_path / "ut.csv"
    bad = villkor("run", str(BENCH / "pott.villkor"), "--data", str(tmp_path), "--out", str(out),
                  "--minne", "mycket")
    assert bad.returncode == 2 and "fel[V300]: --minne `mycket` är ingen storlek" in bad.stderr
    assert not out.exists()
    small = villkor("run", str(BENCH / "pott.villkor"), "--data", str(tmp_path), "--out",
                    str(out), "--minne", "64MB", "--motor", "kolumn")
    assert small.returncode == 0, small.stderr
    assert "y,y,1,uppfyllt,750000000," in out.read_text(encoding="utf-8")


def test_an_excel_input_gives_the_same_result_on_both_engines(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in (["id", "befolkning", "a", "b"], ["x", 100, "ja", "ja"], ["y", 300, "JA", None],
                ["z", 50, "nej", "ja"], ["w", 7, "ja", "ja"]):
        ws.append(row)
    wb.save(tmp_path / "mottagare.xlsx")
    agreement = tmp_path / "pott.villkor"
    agreement.write_text((BENCH / "pott.villkor").read_text(encoding="utf-8").replace(
        'fil "mottagare.csv"', 'fil "mottagare.xlsx"'), encoding="utf-8")
    outs = []
    for engine in ("kolumn", "referens"):
        out = tmp_path / f"{engine}.csv"
        done = villkor("run", str(agreement), "--data", str(tmp_path), "--out", str(out),
                       "--motor", engine)
        assert done.returncode == 0, done.stderr
        outs.append(out.read_text(encoding="utf-8"))
    assert outs[0] == outs[1]
    assert "y,y,1,underlag saknas" in outs[0]


def test_every_bad_row_is_in_the_error_file_even_when_the_screen_shows_a_thousand(tmp_path):
    rows = "".join(f"r{i},{'x' if i % 2 else i + 1},ja,ja\n" for i in range(3000))
    (tmp_path / "mottagare.csv").write_text("id,befolkning,a,b\n" + rows, encoding="utf-8")
    out = tmp_path / "ut.csv"
    done = villkor("run", str(BENCH / "pott.villkor"), "--data", str(tmp_path), "--out",
                   str(out), "--motor", "kolumn")
    assert done.returncode == 1
    assert "… och 500 fel till; alla står i" in done.stderr
    with open(tmp_path / "ut.fel.csv", encoding="utf-8", newline="") as f:
        errors = list(csv.DictReader(f))
    assert len(errors) == 1500 and errors[0]["rad"] == "3" and errors[0]["kolumn"] == "befolkning"
    with open(out, encoding="utf-8", newline="") as f:
        assert sum(1 for r in csv.DictReader(f) if r["villkor"] == "1") == 1500   # the good ones


def test_error_rows_name_the_file_line_after_blank_lines_and_malformed_rows(tmp_path):
    (tmp_path / "mottagare.csv").write_text(
        "id,befolkning,a,b\nx,1,ja,ja\n\nx,2,ja\ny,1,ja,kanske\nx,5,ja,ja\nz,3,nej,ja\n",
        encoding="utf-8")
    out = tmp_path / "ut.csv"
    done = villkor("run", str(BENCH / "pott.villkor"), "--data", str(tmp_path), "--out",
                   str(out), "--motor", "kolumn")
    assert done.returncode == 1
    # as the reference's reader says it: the file, the row and the field, with a hint
    assert f"{tmp_path / 'mottagare.csv'}:4:1: fel[V209]: rad 4 har 3 fält men rubrikraden " \
        "har 4" in done.stderr
    assert f"{tmp_path / 'mottagare.csv'}:6:1: fel[V206]: rad 6: `x` finns redan på rad 2" \
        in done.stderr and "tips: varje mottagare ska ha en rad" in done.stderr
    with open(tmp_path / "ut.fel.csv", encoding="utf-8", newline="") as f:
        assert [(r["rad"], r["kolumn"]) for r in csv.DictReader(f)] == [
            ("4", ""), ("5", "b"), ("6", "id")]
    with open(out, encoding="utf-8", newline="") as f:
        assert [r["mottagare"] for r in csv.DictReader(f)] == ["x", "x", "z", "z"]


def test_without_a_sort_the_rows_still_come_in_file_order(tmp_path):
    """One group: the runner leaves out the final ORDER BY (rows are unnested in order from
    ordered tables). 300 000 shuffled recipients, enough for DuckDB to work in parallel."""
    import random

    rng = random.Random(11)
    ids = [f"m{i}" for i in range(300_000)]
    rng.shuffle(ids)
    with open(tmp_path / "mottagare.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "befolkning", "a", "b"])
        w.writerows((i, 1 + n % 1000, "ja", "nej" if n % 5 == 0 else "ja")
                    for n, i in enumerate(ids))
    out = tmp_path / "ut.csv"
    done = villkor("run", str(BENCH / "pott.villkor"), "--data", str(tmp_path), "--out",
                   str(out), "--motor", "kolumn")
    assert done.returncode == 0, done.stderr
    with open(out, encoding="utf-8", newline="") as f:
        got = [(r[0], r[2]) for r in list(csv.reader(f))[1:]]
    assert got == [(i, v) for i in ids for v in ("1", "summa")]


@pytest.mark.parametrize("dialect", ["postgres", "trino"])
def test_a_dialect_whose_script_is_not_run_is_refused_with_the_reason(dialect):
    done = villkor("sql", str(BENCH / "pott.villkor"), "--dialekt", dialect)
    assert done.returncode == 2 and done.stdout == ""
    assert f"fel[V304]: dialekten {dialect} stöds inte: " in done.stderr
    assert "STRUCT" in done.stderr and "--dialekt duckdb, spark, databricks" in done.stderr


def test_duckdb_runs_a_step_as_written_and_other_dialects_get_its_tree_rendered():
    """DuckDB's SQL is the plan's own text (rendering the parsed tree back would only spend
    time to say the same); Spark's is rendered from the tree, the view form likewise."""
    from villkor_engine.batch.sqltext import step

    written = 'SELECT  "å" AS "x" ,  1 + 2 AS "y" FROM "t"'
    st = step("s", written)
    assert st.sql() == written
    assert st.view() == f'CREATE OR REPLACE TEMPORARY VIEW "s" AS {written}'
    assert st.sql("spark") == "SELECT `å` AS `x`, 1 + 2 AS `y` FROM `t`"
    assert st.view("spark").startswith("CREATE OR REPLACE TEMPORARY VIEW `s` AS SELECT `å`")
