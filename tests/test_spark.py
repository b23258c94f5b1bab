"""`--motor spark`: the SQL plan on Apache Spark writes the same files as on DuckDB, byte for byte.

Every test runs one plan with both runners (`duck.run_plan`, `spark.run_spark`) over one data
folder and compares the result, `.potter` and `.fel` files. One local Spark session serves the
module (starting Spark takes seconds); `run_spark` works in a session of its own beside it.
Skipped, with the reason, where pyspark or Java is missing, unless VILLKOR_REQUIRE_SPARK=1
(CI), where that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT
from villkor_engine.batch.duck import run_plan
from villkor_engine.batch.outcome import BatchResult
from villkor_engine.batch.plan import Plan, Unsupported, compile_plan
from villkor_engine.pipeline import load_agreement_text

sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402
from generate_intyg import generate as generate_intyg  # noqa: E402

POTT = (ROOT / "bench" / "pott.villkor").read_text(encoding="utf-8")
INTYG = (ROOT / "bench" / "intyg.villkor").read_text(encoding="utf-8")


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark saknas (pip install '.[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java saknas (Spark behöver Java 17 eller 21)"
    return None


MISSING = _missing()
if MISSING and os.environ.get("VILLKOR_REQUIRE_SPARK") == "1":
    raise RuntimeError(f"VILLKOR_REQUIRE_SPARK=1 men {MISSING}")
needs_spark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


# small data: interpreted expressions beat compiling them, and a JVM that only uses its quick
# compiler starts in half the time
FAST = {"spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN",
        "spark.sql.adaptive.enabled": "false",
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 "
                                         "-XX:+UseSerialGC"}


@pytest.fixture(scope="module")
def spark():
    from villkor_engine.batch.spark import start_session

    session = start_session("local[2]", FAST)
    yield session
    session.stop()


def plan_of(text: str) -> Plan:
    loaded = load_agreement_text(text, "spark.villkor")
    assert loaded.ok, [d.header() for d in loaded.diagnostics]
    plan = compile_plan(loaded.model, loaded.model.version_at(None))
    assert isinstance(plan, Plan), plan
    return plan


def both(text: str, data: Path, suffix: str = ".csv") -> tuple[BatchResult, BatchResult]:
    """Both runners over `data`; every file one wrote, the other wrote the same bytes."""
    from villkor_engine.batch.spark import run_spark

    plan = plan_of(text)
    duck_out, spark_out = data / "duck", data / "spark"
    duck = run_plan(plan, data, duck_out / f"ut{suffix}")
    steps: list[str] = []
    result = run_spark(plan, data, spark_out / f"ut{suffix}", steps.append)
    assert isinstance(duck, BatchResult) and isinstance(result, BatchResult), (duck, result)
    assert steps[0] == "startar Spark" and steps[-1] == f"skriver ut{suffix}"
    names = sorted(p.name for p in duck_out.iterdir())
    assert names == sorted(p.name for p in spark_out.iterdir())
    for name in names:
        assert (spark_out / name).read_bytes() == (duck_out / name).read_bytes(), name
    assert result.rows == duck.rows and result.error_count == duck.error_count
    assert result.errors == duck.errors and result.pots == duck.pots
    return duck, result


@needs_spark
def test_pot_on_generated_data_with_bad_rows(spark, tmp_path):
    """bench/pott.villkor on bench/generate.py's data, with what a pot has to say something
    about — a blank answer (underlag saknas, the others' shares preliminary), a negative key
    (bedömning krävs), a zero key — and bad rows: a repeated key (V206), cells that are no
    number, no ja/nej, too many digits (V204), a row with too many fields (V209), and cells
    whose white space the two engines must trim alike (tab, no-break and ideographic space,
    U+2028, whose code Spark's CHR would take modulo 256, as `(`)."""
    generate(400, tmp_path)
    with open(tmp_path / "mottagare.csv", "a", encoding="utf-8") as f:
        f.write("x1,-5,ja,ja\nx2,100,,ja\nx3,0,ja,ja\nm0000001,7,ja,ja\nx4,12,JA, nej \n"
                "y,abc,ja,ja\nz,50,kanske,ja\nv,100,ja,ja,extra\nu,1 000,ja,ja\n"
                "t,\"12\n\",ja,ja\ns,9999999999999999999,ja,ja\nr,\t7\t,ja,ja\n"
                "q,(12),ja,ja\np,\u2028 5\u3000,ja,\u00a0nej\n")
    duck, _ = both(POTT, tmp_path)
    assert duck.error_count == 6
    assert sorted({e.code for e in duck.errors}) == ["V204", "V206", "V209"]
    assert duck.pots[0].counts["underlag saknas"] == 1
    assert "preliminära" in duck.pots[0].notes[-1]


@needs_spark
def test_native_parquet_types(spark, tmp_path):
    """Native booleans (with nulls), 32- and 64-bit integers read by Spark itself, not as text:
    the same verdicts and shares as DuckDB's (not an empty result). The file's name has `[…]`,
    which Hadoop, like DuckDB, would read as a pattern; its columns come in another order, with
    one not declared (`§annat`). The pot is odd and shared in öre (exact amounts with 6
    decimals), and the result written as Parquet."""
    n = 300
    table = pa.table({
        "b": pa.array([i % 7 != 0 for i in range(n)], mask=[i % 50 == 3 for i in range(n)]),
        "extra": pa.array([f"e{i}" if i % 3 else None for i in range(n)]),
        "befolkning": pa.array([(i * 7919) % 100_000 + (i % 3) for i in range(n)], pa.int64()),
        "id": pa.array([f"r{i:04d}" for i in range(n)]),
        "c": pa.array([i * 1_000_003 for i in range(n)], pa.int32()),
        "a": pa.array([i % 5 != 0 for i in range(n)]),
    })
    pq.write_table(table, tmp_path / "m[2020].parquet", row_group_size=100)
    text = POTT.replace('"mottagare.csv"', '"m[2020].parquet"').replace(
        "  b: ja/nej\n", "  b: ja/nej\n  c: heltal\n").replace(
        "krav mottagare.a är ja och mottagare.b är ja",
        "krav mottagare.a är ja och (mottagare.b är ja eller mottagare.c >= 200 000 000)").replace(
        "1 000 000 000 kr", "1 234 567,89 kr").replace("hela kronor", "öre")
    duck, result = both(text, tmp_path, ".parquet")
    assert result.rows == 2 * n and result.error_count == 0
    assert 100 < duck.pots[0].counts["uppfyllt"] < n


@needs_spark
def test_a_missing_parquet_column_is_the_same_problem(spark, tmp_path):
    """A declared column the file lacks (here only in other letter case): V202, as DuckDB."""
    from villkor_engine.batch.inputs import InputProblem
    from villkor_engine.batch.spark import run_spark

    pq.write_table(pa.table({"id": ["x"], "befolkning": [1], "a": [True], "B": [True]}),
                   tmp_path / "m.parquet")
    plan = plan_of(POTT.replace('"mottagare.csv"', '"m.parquet"'))
    problems = []
    for runner in (run_plan, run_spark):
        with pytest.raises(InputProblem) as caught:
            runner(plan, tmp_path, tmp_path / "ut.csv")
        problems.append((caught.value.code, caught.value.message, caught.value.hint))
    assert problems[0] == problems[1] and problems[0][0] == "V202"


@needs_spark
def test_certificates_from_parquet(spark, tmp_path):
    """bench/intyg.villkor on bench/generate_intyg.py's Parquet: native booleans with blank
    items, shares per unit and per centre (two recipient groups). The dates as pandas writes
    them, timestamps in nanoseconds (at midnight a date, at 10:30 no date), the certificate
    id a float (a whole one is its integer, NaN and infinity as DuckDB writes them), and
    columns not declared: one a timestamp, one only filled in a row whose declared cells are
    all blank (so that row is a row, with errors)."""
    import pyarrow.compute as pc

    path = generate_intyg(3000, tmp_path)
    table = pq.read_table(path)
    n = table.num_rows
    stamps = pc.cast(pc.cast(table["datum"], pa.timestamp("s")), pa.timestamp("ns"))
    odd = pa.array([i == 17 for i in range(n)])
    stamps = pc.if_else(odd, pc.add(stamps, pa.scalar(37_800_000_000_000, pa.duration("ns"))),
                        stamps)
    ids = [float(i) if i % 11 else i + 0.5 for i in range(n)]
    ids[5], ids[6], ids[7] = float("nan"), float("inf"), None
    read_at = pa.array([7_000_000 if i == 3 else None for i in range(n)], pa.timestamp("us"))
    table = (table.set_column(table.schema.get_field_index("datum"), "datum", stamps)
             .set_column(0, "intygsid", pa.array(ids, pa.float64()))
             .append_column("inläst", read_at)
             .append_column("kommentar", pa.array([None] * n, pa.string())))
    empty_row = pa.table({c: pa.array(["bara en kommentar" if c == "kommentar" else None],
                                      table[c].type) for c in table.column_names})
    pq.write_table(pa.concat_tables([table, empty_row]), path)
    duck, _ = both(INTYG, tmp_path)
    assert duck.error_count >= 4    # the 10:30 date, and the last row's enhet, center, datum


@needs_spark
def test_certificates_from_csv_with_bad_rows(spark, tmp_path):
    """A `;` CSV with a BOM, CRLF, a blank line, quoted cells over two lines, a row with too
    many fields (V209), bad cells (V204): the same error rows, in the same order, and every
    good row. The källa has an apostrophe and backslashes, which a Spark literal escapes."""
    rows = ["intygsid;enhet;center;datum;diagnos;funktionsnedsättning;aktivitetsbegränsning;"
            "arbetsförmåga;prognos"]
    for i in range(40):
        items = ";".join("ja" if (i + k) % 9 else "nej" for k in range(5))
        rows.append(f"I{i};VC-{i % 4};LFC{i % 2 + 1};2010-0{i % 9 + 1}-1{i % 9};{items}")
    rows += ["", "I90;VC-Ö;LFC1;2010-02-30;ja;ja;ja;ja;ja",
             'I91;VC-1;LFC2;"2010-03-01\n";ja;ja;ja;ja;ja',
             "I92;VC-2;LFC1;2010-03-01;ja;ja;ja;ja;ja;ja",
             'I93;"VC-\n3";LFC1;2009-12-31;kanske;ja; ;ja;ja',
             "I94;VC-0;LFC2;2011-01-01;ja;ja;ja;ja;",
             "I95;;LFC2;2010-05-05;ja;nej;ja;ja;ja"]
    (tmp_path / "intyg.csv").write_bytes(
        b"\xef\xbb\xbf" + "\r\n".join(rows).encode("utf-8") + b"\r\n")
    text = INTYG.replace("intyg.parquet", "intyg.csv").replace(
        'källa ök2010 "Delmål för 2010"\n', 'källa ök2010 "Delmål för 2010 (\'s\\n\\\\)"\n')
    duck, result = both(text, tmp_path)
    assert result.error_count == 4
    assert [e.code for e in result.errors].count("V209") == 1
    assert "(\'s\\n\\\\)" in (tmp_path / "spark" / "ut.csv").read_text(encoding="utf-8")


@needs_spark
def test_an_optional_table_without_its_file(spark, tmp_path):
    """A `valfri` record table whose file is not there: no rows, its columns all NULL (a type
    Spark must carry through its views), the same (empty) files as DuckDB's."""
    text = INTYG.replace('fil "intyg.parquet" poster', 'fil "intyg.parquet" valfri poster')
    duck, _ = both(text, tmp_path)
    assert duck.rows == 0 and duck.error_count == 0


@needs_spark
def test_keys_beyond_64_bits_are_unsupported(spark, tmp_path):
    """A key total past 2⁶³: Spark (ANSI) stops at the overflow, and the run says so as DuckDB
    does, before any file is written; never a wrapped sum."""
    from villkor_engine.batch.spark import run_spark

    rows = "".join(f"k{i},999999999999999999,ja,ja\n" for i in range(12))
    (tmp_path / "mottagare.csv").write_text("id,befolkning,a,b\n" + rows, encoding="utf-8")
    result = run_spark(plan_of(POTT), tmp_path, tmp_path / "ut.csv")
    assert isinstance(result, Unsupported) and "64-bitars" in result.reason
    assert isinstance(run_plan(plan_of(POTT), tmp_path, tmp_path / "d.csv"), Unsupported)
    assert not list(tmp_path.glob("ut*"))


def test_without_pyspark_a_swedish_problem(monkeypatch, tmp_path):
    """No pyspark: a clear Swedish problem naming the extra to install, no traceback."""
    from villkor_engine.batch.inputs import InputProblem
    from villkor_engine.batch.spark import SparkProblem, run_spark

    for name in ("pyspark", "pyspark.sql"):
        monkeypatch.setitem(sys.modules, name, None)     # `import pyspark` raises ImportError
    (tmp_path / "mottagare.csv").write_text("id,befolkning,a,b\nx,1,ja,ja\n", encoding="utf-8")
    with pytest.raises(SparkProblem) as caught:
        run_spark(plan_of(POTT), tmp_path, tmp_path / "ut.csv")
    problem = caught.value
    assert isinstance(problem, InputProblem) and problem.code == "V316"
    assert "pyspark" in problem.message and "inte är installerat" in problem.message
    assert problem.hint == "installera tillägget: pip install 'villkor-engine[spark]'"
    assert not list(tmp_path.glob("ut*"))


@pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="pyspark saknas")
def test_without_java_a_swedish_problem(tmp_path):
    """Java that does not start: a Swedish problem (V316) and a hint, not Spark's traceback.
    In a process of its own, since this one's JVM already runs."""
    (tmp_path / "mottagare.csv").write_text("id,befolkning,a,b\nx,1,ja,ja\n", encoding="utf-8")
    (tmp_path / "pott.villkor").write_text(POTT, encoding="utf-8")
    script = (
        "import sys; from pathlib import Path\n"
        "from villkor_engine.pipeline import load_agreement_text\n"
        "from villkor_engine.batch.plan import compile_plan\n"
        "from villkor_engine.batch.spark import SparkProblem, run_spark\n"
        "d = Path(sys.argv[1]); m = load_agreement_text((d / 'pott.villkor').read_text()).model\n"
        "try:\n"
        "    run_spark(compile_plan(m, m.version_at(None)), d, d / 'ut.csv')\n"
        "except SparkProblem as e:\n"
        "    print(e.code, e.message, '|', e.hint)\n")
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "ingen-java")}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("V316 Spark kunde inte startas: Java saknas"), done.stdout
    assert "installera Java 17 eller 21" in done.stdout and "Traceback" not in done.stderr
    assert not (tmp_path / "ut.csv").exists()


def test_spark_sql_rendering_keeps_integers_exact():
    """The rewrites `run_spark` applies (Spark 4.3 answers SIGN with a DOUBLE, CHR(8232) with
    `(`, and lets `$` match before a final line break); the bench plans as `spark_script`."""
    import sqlglot

    from villkor_engine.batch import sql as S
    from villkor_engine.batch.spark import spark_script, spark_tree

    tree = sqlglot.parse_one(
        "SELECT SIGN(x) * (y // 2), COUNT(*) FILTER (WHERE z IN (1, 2)) OVER () AS w, "
        "REGEXP_MATCHES(t, '^[0-9]{4}$'), TRIM(t, ' ' || CHR(9) || CHR(8232)) FROM s",
        read="duckdb")
    text = spark_tree(tree).sql("spark")
    assert "SIGN" not in text and "DIV" in text and "FILTER" not in text
    assert "COUNT(CASE WHEN z IN (1, 2) THEN 1 END) OVER ()" in text
    assert "RLIKE '^[0-9]{4}\\\\z'" in text
    assert "CHR(9)" in text and "CHR(8232)" not in text
    assert "DECODE(UNHEX('E280A8'), 'UTF-8')" in text
    for text in (POTT, INTYG):
        plan = plan_of(text)
        kinds = {t.name: {c: "text" for c in t.columns} for t in plan.inputs}
        files = {t.name: t.file for t in plan.inputs}
        script = spark_script(S.all_steps(plan, kinds, files))
        assert "CREATE OR REPLACE TEMPORARY VIEW `typ_0_" in script
        assert "SIGN(" not in script and "CHR(8232)" not in script
        for statement in script.split(";\n"):     # (here no literal holds `;`)
            if statement.strip():
                sqlglot.parse_one(statement, read="spark")


@needs_spark
@pytest.mark.parametrize("agreement", sorted((ROOT / "agreements").glob("*.villkor")),
                         ids=lambda p: p.stem)
def test_every_plannable_agreement_on_its_examples(spark, agreement, tmp_path):
    """Must show 1 of issue 10, for what the plan covers: the bundled agreements on their
    example folders, Spark's files byte for byte DuckDB's (and DuckDB's the reference's:
    tests/test_plan_coverage.py)."""
    text = agreement.read_text(encoding="utf-8")
    loaded = load_agreement_text(text, agreement.name)
    plan = compile_plan(loaded.model, loaded.model.version_at(None))
    if isinstance(plan, Unsupported):
        pytest.skip(f"not planned yet: {plan.reason}")
    folders = [p for p in (ROOT / "examples").iterdir()
               if p.is_dir() and (p.name == agreement.stem
                                  or p.name.startswith(agreement.stem + "-"))]
    assert folders
    for folder in folders:
        data = tmp_path / folder.name
        shutil.copytree(folder, data)
        both(text, data)


@needs_spark
def test_run_with_motor_spark_records_the_engine(spark, tmp_path):
    """`villkor run --motor spark` goes through api.run: the engine is named in the outcome
    and in the run ledger; a --param value is a constant of the plan there too."""
    from villkor_engine import api
    from villkor_engine.write.ledger import history

    agreement = ROOT / "agreements" / "fk-vgr-2010.villkor"
    log = tmp_path / "logg.duckdb"
    outcome = api.run(agreement, ROOT / "examples" / "fk-vgr-2010", tmp_path / "ut.csv",
                      engine="spark", spark="local[2]", ledger=log)
    assert outcome.ok and outcome.engine_used == "spark", outcome.diagnostics
    assert [r["motor"] for r in history(log)] == ["spark"]
    agreement = ROOT / "agreements" / "sjukskrivning-2020.villkor"
    data = ROOT / "examples" / "sjukskrivning-2020"
    params = ["v4_skr=1 kr"]
    on_spark = api.run(agreement, data, tmp_path / "p.csv", params=params, engine="spark",
                       spark="local[2]")
    reference = api.run(agreement, data, tmp_path / "r.csv", params=params, engine="referens")
    assert on_spark.engine_used == "spark" and on_spark.exit_code == reference.exit_code == 0
    assert (tmp_path / "p.csv").read_bytes() == (tmp_path / "r.csv").read_bytes()


@needs_spark
def test_invoices_and_settlements(spark, tmp_path):
    """test_plan_invoices.py's hostile invoice lines and every kind of settlement row: the
    `.fakturor` file and the result the same bytes on Spark as on DuckDB (and DuckDB's as the
    reference's, there)."""
    from test_plan_invoices import AGREEMENT, _write

    text = AGREEMENT.replace("REPAY", "vid återbetalning bedömning krävs")
    _write(tmp_path / "d", text)
    duck, result = both(text, tmp_path / "d")
    assert (result.invoices, result.rejected_count) == (duck.invoices, duck.rejected_count)
    assert result.rejected == duck.rejected and duck.rejected_count > 5


@needs_spark
@pytest.mark.parametrize("variant", ["POT", "AMOUNTS"])
def test_review_decisions_and_tables_per_villkor(spark, tmp_path, variant):
    """test_plan_review.py's decisions, rows per villkor and their bad rows, on Spark."""
    import test_plan_review as R

    duck, _ = both(getattr(R, variant), R.write(tmp_path / "d"))
    assert duck.error_count == 5


@needs_spark
def test_endast_and_fixed_amounts(spark, tmp_path):
    """test_plan_members.py's rows per member (endast, fixed amounts, several on one row)."""
    import test_plan_members as M

    duck, _ = both(M.AGREEMENT, M.write(tmp_path / "d", nationellt=M.NATIONELLT + "X,4,ja\n"))
    assert duck.error_count == 1


@needs_spark
@pytest.mark.parametrize("data", ["EQUAL", "DIFFERENT"])
def test_several_pots_and_a_summa_rounded_once(spark, tmp_path, data):
    """test_plan_pots.py's pots over 128-bit sums and reduced fractions (GCD, exact division)."""
    import test_plan_pots as P

    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "befolkning.csv").write_text(getattr(P, data), encoding="utf-8")
    both(P.text(True), folder)


@needs_spark
def test_decimals_conditionals_summa_and_typed_names(spark, tmp_path):
    """This round's plan on Spark too: decimaltal and andel cells in 10^-18 (128 bits:
    DECIMAL(38, 0) there), `om … då … annars` in a villkor, `summa(…)` compared in a villkor,
    a recipient's name from a datum column, and `decimaltecken`."""
    import test_awkward_cells as A
    import test_plan_coverage as C

    shares = tmp_path / "andelar"
    shares.mkdir()
    (shares / "mottagare.csv").write_bytes(A.csv_bytes(
        "id,namn,kvot,täckning", '01,Ett,"0,333333333333333333","70,0000000000000001 %"',
        '02,Två,"99999999999999999999,5",100%', "03,Tre,5 kr,1", "04,Fyra,,0 %"))
    duck, _ = both(A.SHARES, shares)
    assert duck.error_count == 2
    totals = tmp_path / "summor"
    totals.mkdir()
    (totals / "m.csv").write_text("id\nr1\nr2\nr3\n", encoding="utf-8")
    (totals / "f.csv").write_text("id,kostnad,timmar,klar,kvot\nr1,\"1 000,50\",3,ja,\"0,5\"\n"
                                  "r2,,1,ja,1\nr3,7,2,,\n", encoding="utf-8")
    both(C.TOTALS.replace("{krav}", "om summa(fakturor.timmar där fakturor.klar) > 2 då "
                          "summa(fakturor.kostnad) >= 1 000,50 kr annars "
                          "summa(fakturor.kvot) < 1"), totals)
    named = tmp_path / "namn"
    named.mkdir()
    (named / "m.csv").write_text("id,namn,a\nr1,2020-01-31,ja\nr2,,nej\n", encoding="utf-8")
    (named / "b.csv").write_text("enhet,etikett,a\ne1,0005-06-07,ja\ne1,,\n", encoding="utf-8")
    both(C.NAMED.replace("{typ}", "datum"), named)
    declared = tmp_path / "decimaltecken"     # `decimaltecken` in SQL: RE2 there, Java here
    declared.mkdir()
    rows = ["id,kostnad,kvot,del"] + [f'r{i},"{c}","{c}","{c}"'
                                      for i, c in enumerate(A.CELLS[:-3])]
    (declared / "mottagare.csv").write_bytes(A.csv_bytes(*rows))
    both(A.DECLARED.replace("{mark}", "komma"), declared)
