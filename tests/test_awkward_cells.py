"""Awkward input cells: both engines read them alike and follow one bad-row policy.

Every case writes one data folder and runs it through `api.run` twice, with the reference
evaluator (`engine="referens"`) and the column engine (`engine="kolumn"`): the exit code, the
result file, the pot file and the error file `utfall.fel.<ext>` must be the same bytes (a
Parquet result is compared by content: the two engines' Parquet writers differ), and a run that
must stop writes nothing in either. The agreement is bench/pott.villkor's with a name and a date
column (both engines cover it: the test checks which engine ran).

The policy: every input row gives its result or an error row (fil, rad, kolumn, meddelande);
any error row makes the exit code 1. What the rules are: io/cells.py.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from villkor_engine import api

AGREEMENT = """\
överenskommelse "Udda celler"
slut

dokument d "Testdokument"

tabell mottagare fil "mottagare.{ext}" per alla nyckel id
  id: text obligatorisk
  namn: text
  befolkning: heltal obligatorisk
  a: ja/nej
  b: ja/nej
  inkom: datum
slut

mottagargrupp alla från mottagare namn namn

värde pott: belopp = 1 000 000 kr
  källa d "pott"

villkor 1 "Svar och inkommen i tid"
  gäller alla
  källa d "villkor 1"
  krav mottagare.a är ja och mottagare.b är ja och mottagare.inkom mellan 2020-01-01 och 2020-12-31
slut

utbetalning andelar "Potten efter befolkning"
  villkor 1
  källa d "utbetalning"
  pott pott delas mellan alla som uppfyller villkoret i förhållande till mottagare.befolkning
  avrundning hela kronor, halvt uppåt per andel
slut
"""

# no pot: a heltal of 18 digits is read (a pot's 64-bit bound is the column engine's own limit)
NO_POT = AGREEMENT[:AGREEMENT.index("värde pott")] + """\
villkor 1 "Stor befolkning"
  gäller alla
  källa d "villkor 1"
  krav mottagare.befolkning >= 1000 och mottagare.a är ja
slut
"""

HEADER = "id,namn,befolkning,a,b,inkom"
GOOD = ["01,Ett,100,ja,ja,2020-05-01", "02,Två,300,ja,ja,2020-06-01",
        "03,Tre,600,ja,nej,2020-07-01"]


def csv_bytes(*lines: str, end: str = "\n") -> bytes:
    return (end.join(lines) + end).encode("utf-8")


class Ran:
    """One engine's run: the outcome and the bytes of every file it wrote."""

    def __init__(self, outcome: api.RunOutcome, out: Path):
        self.outcome = outcome
        self.files = {p.name.replace(out.stem, "utfall", 1): p.read_bytes()
                      for p in sorted(out.parent.iterdir())
                      if p.name.startswith(out.stem) and p.suffix == out.suffix}


def both(tmp_path: Path, data: dict[str, bytes] | None = None, *, agreement: str = AGREEMENT,
         ext: str = "csv", out_ext: str = "csv", **files) -> Ran:
    """Both engines on one data folder; their exit codes and files must agree. Returns the
    reference's run (its files are the column engine's)."""
    folder = tmp_path / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in {**(data or {}), **files}.items():
        (folder / name.replace("_", ".")).write_bytes(content)
    text = agreement.replace("{ext}", ext)
    runs = {}
    for engine in ("referens", "kolumn"):
        out = tmp_path / engine / f"utfall.{out_ext}"
        out.parent.mkdir()
        outcome = api.run(text, folder, out, engine=engine, name="udda.villkor")
        if outcome.ok:
            assert outcome.engine_used == engine
        runs[engine] = Ran(outcome, out)
    ref, col = runs["referens"], runs["kolumn"]
    assert ref.outcome.exit_code == col.outcome.exit_code, \
        (ref.outcome.diagnostics, col.outcome.diagnostics)
    assert ref.outcome.stage == col.outcome.stage
    assert ref.files.keys() == col.files.keys()
    for name in ref.files:
        if name.endswith(".parquet") and name != "utfall.fel.parquet":
            assert pq.read_table(io.BytesIO(ref.files[name])).to_pylist() == \
                pq.read_table(io.BytesIO(col.files[name])).to_pylist(), name
        else:
            assert ref.files[name] == col.files[name], name
    # the column engine lists its malformed rows (V209) first; the error file is in file order
    assert ref.outcome.errors == tuple(sorted(col.outcome.errors, key=lambda e: (e.fil, e.rad)))
    assert ref.outcome.error_count == col.outcome.error_count
    return ref


def result_rows(ran: Ran) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(ran.files["utfall.csv"].decode("utf-8"))))


def error_rows(ran: Ran) -> list[dict[str, str]]:
    text = ran.files.get("utfall.fel.csv", b"").decode("utf-8")
    return list(csv.DictReader(io.StringIO(text))) if text else []


def verdicts(ran: Ran) -> dict[str, str]:
    """Villkor 1's verdict by recipient name."""
    return {r["namn"]: r["utfall"] for r in result_rows(ran) if r["villkor"] == "1"}


def assert_refused(ran: Ran, code: str) -> None:
    """Both engines stop before writing anything (checked against each other by `both`)."""
    assert ran.outcome.stage == "indata" and ran.outcome.exit_code == 1
    assert ran.files == {}
    assert any(d.code == code for d in ran.outcome.diagnostics), ran.outcome.diagnostics


# ---- the header ---------------------------------------------------------------------------

@pytest.mark.parametrize("header", [HEADER + ",a", HEADER + ",not,not", " id ," + HEADER[3:]
                                    + ",id"])
def test_a_column_named_twice_stops_both(tmp_path, header):
    """Was: the reference refused (V202), the column engine took the first column silently."""
    ran = both(tmp_path, mottagare_csv=csv_bytes(header, *(g + ",x" for g in GOOD)))
    assert_refused(ran, "V202")
    assert "finns två gånger" in " ".join(d.message for d in ran.outcome.diagnostics)


def test_a_quoted_header(tmp_path):
    """Was: the column engine read `"id"` as a column name and said `id` was missing."""
    header = ",".join(f'"{h}"' for h in HEADER.split(","))
    ran = both(tmp_path, mottagare_csv=csv_bytes(header, *GOOD))
    assert ran.outcome.exit_code == 0
    assert verdicts(ran) == {"Ett": "uppfyllt", "Två": "uppfyllt", "Tre": "ej uppfyllt"}


@pytest.mark.parametrize("end", ["\r", "\r\n", "\n"])
def test_line_ends(tmp_path, end):
    """CR alone (old Mac), CRLF (Windows), LF: the same result; was a false V202 for CR."""
    ran = both(tmp_path, mottagare_csv=csv_bytes(HEADER, *GOOD, "04,Fyra,x,ja,ja,", end=end))
    assert ran.outcome.exit_code == 1
    assert [(e["rad"], e["kolumn"]) for e in error_rows(ran)] == [("5", "befolkning")]
    assert len(verdicts(ran)) == 3


def test_bom_semicolon_and_crlf_as_excel_writes_them(tmp_path):
    plain = both(tmp_path / "a", mottagare_csv=csv_bytes(HEADER, *GOOD))
    excel = both(tmp_path / "b", mottagare_csv=b"\xef\xbb\xbf" + csv_bytes(
        HEADER.replace(",", ";"), *(g.replace(",", ";") for g in GOOD), end="\r\n"))
    assert excel.files == plain.files and excel.outcome.exit_code == 0


def test_an_empty_file_stops_both(tmp_path):
    assert_refused(both(tmp_path, mottagare_csv=b""), "V202")


def test_a_missing_declared_column_or_file_stops_both(tmp_path):
    no_column = both(tmp_path / "a", mottagare_csv=csv_bytes("id,namn,a,b,inkom", "01,Ett,ja,"
                                                              "ja,2020-01-01"))
    assert_refused(no_column, "V202")
    assert_refused(both(tmp_path / "b", annat_csv=b"x\n1\n"), "V201")


def test_a_file_outside_the_data_folder_stops_both(tmp_path):
    """A link out of `--data` (V214): nothing is read, nothing written, in either engine."""
    outside = tmp_path / "utanför.csv"
    outside.write_bytes(csv_bytes(HEADER, *GOOD))
    (tmp_path / "data").mkdir()
    try:
        (tmp_path / "data" / "mottagare.csv").symlink_to(outside)
    except OSError:
        pytest.skip("no symlinks here")
    assert_refused(both(tmp_path), "V214")


# ---- rows and their lines -----------------------------------------------------------------

def test_line_numbers_after_a_line_break_inside_a_cell(tmp_path):
    """A quoted name spans lines 3–4: the record is row 3 (the line it begins on), the next
    is row 5, in both engines (was: the column engine counted records, not lines)."""
    ran = both(tmp_path, mottagare_csv=csv_bytes(
        HEADER, GOOD[0], '02,"Två\nrader",300,ja,ja,2020-06-01', "03,Tre,abc,ja,ja,",
        '04,"Fyra ""citat""",400,kanske,ja,2020-01-01'))
    assert [(e["rad"], e["meddelande"]) for e in error_rows(ran)] == [
        ("5", "rad 5, kolumn `befolkning`: `abc` är inget heltal"),
        ("6", "rad 6, kolumn `a`: `kanske` är inte ja eller nej")]
    assert verdicts(ran)["Två\nrader"] == "uppfyllt"
    assert ran.outcome.exit_code == 1


def test_white_space_around_a_cell_is_trimmed_alike(tmp_path):
    """A tab before a key, no-break and ideographic spaces around numbers and answers: one
    trimming rule (was: Python's strip() in the reference, spaces only in the SQL)."""
    ran = both(tmp_path, mottagare_csv=csv_bytes(
        HEADER, "\t01 ,Ett,\u00a0100\t,\u3000ja, JA ,2020-05-01\u2003",
        "02,Två,1 000,ja,ja,\t2020-06-01", "\t01,Igen,5,ja,ja,"))
    assert verdicts(ran) == {"Ett": "uppfyllt", "Två": "uppfyllt"}
    assert [e["meddelande"] for e in error_rows(ran)] == ["rad 4: `01` finns redan på rad 2"]
    amounts = {r["mottagare"]: r["belopp"] for r in result_rows(ran) if r["villkor"] == "1"}
    assert amounts == {"01": "90909", "02": "909091"}


def test_a_row_with_only_an_undeclared_cell_is_a_row(tmp_path):
    """The reference's rule for both: a row with something in any cell is a row (its blank
    obligatorisk cells are errors); a row of blank cells is no row, whatever its width."""
    ran = both(tmp_path, mottagare_csv=csv_bytes(
        HEADER + ",anteckning", *(g + "," for g in GOOD), ",,,,,,bara en anteckning",
        ",,,,,,", "  \t", ", , ,\t, ,,", "", "04,Fyra,400,ja,ja,2020-01-01,"))
    assert [(e["rad"], e["kolumn"]) for e in error_rows(ran)] == [("5", "id"),
                                                                  ("5", "befolkning")]
    assert len(verdicts(ran)) == 4 and ran.outcome.exit_code == 1


def test_a_row_of_the_wrong_width(tmp_path):
    ran = both(tmp_path, mottagare_csv=csv_bytes(HEADER, GOOD[0], "02,Två,300,ja,ja,,extra",
                                                 "03,Tre", GOOD[2]))
    assert [(e["rad"], e["kolumn"], e["meddelande"]) for e in error_rows(ran)] == [
        ("3", "", "rad 3 har 7 fält men rubrikraden har 6"),
        ("4", "", "rad 4 har 2 fält men rubrikraden har 6")]


# ---- typed cells --------------------------------------------------------------------------

@pytest.mark.parametrize("value, message", [
    ("99999999999999999999", "`99999999999999999999` har 20 siffror, men ett heltal får ha "
                             "högst 18"),
    ("-1 000 000 000 000 000 000", "`-1 000 000 000 000 000 000` har 19 siffror, men ett "
                                   "heltal får ha högst 18"),
    ("２０２０", "`２０２０` är inget heltal"),
    ("١٢٣", "`١٢٣` är inget heltal"),
    ("12.5", "`12.5` är inget heltal"),
    ("", "värdet saknas men kolumnen är obligatorisk"),
])
def test_integers(tmp_path, value, message):
    """heltal: ASCII digits, at most 18 of them (every one fits in 64 bits), in both engines;
    was: the reference read 100 digits, the column engine said only `är inget heltal`."""
    ran = both(tmp_path, mottagare_csv=csv_bytes(HEADER, GOOD[0], f"02,Två,{value},ja,ja,",
                                                 GOOD[2]))
    assert [e["meddelande"] for e in error_rows(ran)] == [f"rad 3, kolumn `befolkning`: "
                                                          f"{message}"]
    assert "Två" not in verdicts(ran)


@pytest.mark.parametrize("value", ["999999999999999999", "-999 999 999 999 999 999", "0001"])
def test_eighteen_digits_are_an_integer(tmp_path, value):
    ran = both(tmp_path, agreement=NO_POT,
               mottagare_csv=csv_bytes(HEADER, f"01,Ett,{value},ja,ja,"))
    assert ran.outcome.exit_code == 0 and error_rows(ran) == []


@pytest.mark.parametrize("value", ["20200101", "2020-W01-1", "2020-02-30", "0000-01-01",
                                   "２０２０-０１-０１", "2020-1-1", "2020-01-01T00:00"])
def test_dates(tmp_path, value):
    """datum: ÅÅÅÅ-MM-DD, a real date from year 0001, ASCII digits, in both engines."""
    ran = both(tmp_path, mottagare_csv=csv_bytes(HEADER, GOOD[0], f"02,Två,300,ja,ja,{value}"))
    assert [e["meddelande"] for e in error_rows(ran)] == [
        f"rad 3, kolumn `inkom`: `{value}` är inget datum"]


def test_dates_that_are_dates(tmp_path):
    ran = both(tmp_path, mottagare_csv=csv_bytes(HEADER, "01,Ett,100,ja,ja,2020-02-29",
                                                 "02,Två,300,ja,ja,0001-01-01"))
    assert verdicts(ran) == {"Ett": "uppfyllt", "Två": "ej uppfyllt"}


# ---- the bad-row policy -------------------------------------------------------------------

BAD = csv_bytes(HEADER, GOOD[0], "02,Två,0x10,kanske,ja,2020-13-01", GOOD[1].replace("02", "01"),
                "05,Fem,500,ja,ja,2020-03-03,x", GOOD[2], "06,Sex,600,ja,ja,2020-04-04")


@pytest.mark.parametrize("out_ext", ["csv", "xlsx", "parquet"])
def test_good_rows_give_results_bad_rows_error_rows(tmp_path, out_ext):
    """Both engines: a result for every good row, the same error file in every format, exit
    code 1 (was: the reference refused the whole run for one bad row)."""
    ran = both(tmp_path, mottagare_csv=BAD, out_ext=out_ext)
    assert ran.outcome.stage == "klar" and ran.outcome.exit_code == 1
    assert ran.outcome.error_count == 5
    assert [(e.rad, e.kolumn) for e in ran.outcome.errors] == [
        (3, "befolkning"), (3, "a"), (3, "inkom"), (4, "id"), (5, "")]
    assert f"utfall.fel.{out_ext}" in ran.files
    assert [Path(p).name for p in ran.outcome.written_files][-1] == f"utfall.{out_ext}"


def test_bad_rows_on_screen_name_file_row_and_column(tmp_path):
    ran = both(tmp_path, mottagare_csv=BAD)
    shown = [d for d in ran.outcome.diagnostics if d.is_error]
    assert [(d.code, d.span.line, d.span.column) for d in shown] == [
        ("V204", 3, 3), ("V204", 3, 4), ("V204", 3, 6), ("V206", 4, 1), ("V209", 5, 1)]
    assert all(d.span.file.endswith("mottagare.csv") for d in shown)
    assert "skriv ett heltal" in shown[0].hint


def test_no_bad_rows_no_error_file(tmp_path):
    ran = both(tmp_path, mottagare_csv=csv_bytes(HEADER, *GOOD))
    assert ran.outcome.exit_code == 0 and "utfall.fel.csv" not in ran.files


def test_the_ledger_counts_the_bad_rows(tmp_path):
    from villkor_engine.write.ledger import history

    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "mottagare.csv").write_bytes(BAD)
    log = tmp_path / "logg.duckdb"
    for engine in ("referens", "kolumn"):
        outcome = api.run(AGREEMENT.replace("{ext}", "csv"), folder, tmp_path / f"{engine}.csv",
                          engine=engine, ledger=log)
        assert outcome.ledger_id is not None and outcome.exit_code == 1
    assert [(r["motor"], r["fel"]) for r in history(log)] == [("referens", 5), ("kolumn", 5)]


# ---- Excel and Parquet inputs -------------------------------------------------------------

def xlsx_bytes(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_excel_input(tmp_path):
    """A workbook: typed cells, a row with only an undeclared cell, a value beyond the header
    (V209), blank rows, a white-space key."""
    rows = [HEADER.split(",") + ["anteckning"],
            ["01", "Ett", 100, True, "ja", date(2020, 5, 1)],
            ["\t02 ", "Två", 300.0, "ja", "ja", datetime(2020, 6, 1)],
            [None, None, None, None, None, None, "bara en anteckning"],
            [None, None, None, None, None, None, None, "bortom rubriken"],
            [],
            ["03", "Tre", 10 ** 19, "ja", "ja", "2020-01-01"],
            ["04", "Fyra", 400, "ja", "ja", date(2020, 7, 1)]]
    ran = both(tmp_path, ext="xlsx", mottagare_xlsx=xlsx_bytes(rows))
    assert [(e["rad"], e["kolumn"]) for e in error_rows(ran)] == [
        ("4", "id"), ("4", "befolkning"), ("5", ""), ("7", "befolkning")]
    assert verdicts(ran) == {"Ett": "uppfyllt", "Två": "uppfyllt", "Fyra": "uppfyllt"}


def test_excel_column_named_twice(tmp_path):
    rows = [HEADER.split(",") + ["namn"], ["01", "Ett", 100, "ja", "ja", None, "x"]]
    assert_refused(both(tmp_path, ext="xlsx", mottagare_xlsx=xlsx_bytes(rows)), "V202")


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def test_parquet_input(tmp_path):
    """Typed Parquet columns: a timestamp at midnight is a date, a whole float an integer, an
    int64 of 19 digits too many; a row with only an undeclared cell is a row."""
    table = pa.table({
        "id": ["01", "02", None, "04", None, "06"],
        "namn": ["Ett", "Två", None, "Fyra", None, "Sex"],
        "befolkning": [100.0, 300.5, None, 400.0, None, 600.0],
        "a": [True, True, None, True, None, False],
        "b": ["ja", "ja", None, " ja ", None, "ja"],
        "inkom": pa.array([datetime(2020, 5, 1), datetime(2020, 6, 1, 12), None,
                           datetime(2020, 7, 1), None, None], pa.timestamp("us")),
        "anteckning": [None, None, "bara en anteckning", None, "  ", None],
        "stor": pa.array([1, 2, None, 3 * 10 ** 18, None, 5], pa.int64())})
    ran = both(tmp_path, ext="parquet", mottagare_parquet=parquet_bytes(table))
    assert [(e["rad"], e["kolumn"], e["meddelande"]) for e in error_rows(ran)] == [
        ("3", "befolkning", "rad 3, kolumn `befolkning`: `300.5` är inget heltal"),
        ("3", "inkom", "rad 3, kolumn `inkom`: `2020-06-01 12:00:00` är inget datum"),
        ("4", "id", "rad 4, kolumn `id`: värdet saknas men kolumnen är obligatorisk"),
        ("4", "befolkning", "rad 4, kolumn `befolkning`: värdet saknas men kolumnen är "
                            "obligatorisk")]
    assert verdicts(ran) == {"Ett": "uppfyllt", "Fyra": "uppfyllt", "Sex": "ej uppfyllt"}
    big = table.set_column(2, "befolkning", pa.array([1, 2, None, 3 * 10 ** 18, None, 6],
                                                     pa.int64()))
    ran = both(tmp_path / "big", ext="parquet", mottagare_parquet=parquet_bytes(big))
    assert "`3000000000000000000` har 19 siffror" in error_rows(ran)[-1]["meddelande"]


# ---- record tables ------------------------------------------------------------------------

INTYG = (Path(__file__).resolve().parents[1] / "bench" / "intyg.villkor").read_text(
    encoding="utf-8").replace("intyg.parquet", "intyg.csv")


def test_records_with_awkward_rows(tmp_path):
    """A record table: bad records are error rows and count for no one; a quoted line break,
    a blank record, a record with only an undeclared cell."""
    head = ("intygsid,enhet,center,datum,diagnos,funktionsnedsättning,aktivitetsbegränsning,"
            "arbetsförmåga,prognos,kommentar")
    ran = both(tmp_path, agreement=INTYG, intyg_csv=csv_bytes(
        head, "1,VC-A,LFC1,2010-03-01,ja,ja,ja,ja,ja,", '2,VC-A,LFC1,2010-03-02,ja,ja,ja,ja,ja,'
        '"två\nrader"', "3,VC-B,LFC1,2010-13-01,ja,ja,ja,ja,ja,", ",,,,,,,,,",
        ",,,,,,,,,bara en kommentar", "5,\tVC-B ,LFC2,2010-05-05,JA,ja,ja,ja,nej,"))
    assert [(e["rad"], e["kolumn"]) for e in error_rows(ran)] == [
        ("5", "datum"), ("7", "enhet"), ("7", "center"), ("7", "datum")]
    assert ran.outcome.exit_code == 1


@pytest.mark.parametrize("quoted", [False, True])
def test_bytes_that_are_not_utf8_stop_both(tmp_path, quoted):
    """Latin-1 in a data row, in a plain file (pyarrow reads it in the column engine) and in
    one with quotes (the csv module reads it): V207 naming the row, in both."""
    name = b'"Tv\xe5"' if quoted else b"Tv\xe5"
    ran = both(tmp_path, mottagare_csv=csv_bytes(HEADER, *GOOD[:1]) + b"02," + name
               + b",300,ja,ja,\n")
    assert_refused(ran, "V207")
    assert any("rad 3" in d.message for d in ran.outcome.diagnostics)


def test_a_malformed_row_among_rows_with_two_wrong_cells_keeps_the_error_order(tmp_path):
    """Found by the differential test: with a malformed row (V209, read before the plan) the
    column engine sorted its error file by file and row only, so a row's two errors (a, then
    b, as declared) could come out in either order."""
    rows = [f"{i:03d},N{i},{i},x,y," for i in range(20)] + ["999,Nio,9,ja,ja,,extra"]
    ran = both(tmp_path, mottagare_csv=csv_bytes(HEADER, *rows))   # 12 to 50 rows showed it
    errors = error_rows(ran)
    assert [e["kolumn"] for e in errors] == ["a", "b"] * 20 + [""]
    assert errors[-1]["rad"] == "22"


def test_a_product_beyond_64_bits_leaves_the_plan_for_the_reference(tmp_path):
    """Found by the differential test: an 18-digit heltal times 10 kr does not fit in 64 bits
    of öre; the column engine said V314 (a DuckDB overflow). Now the plan cannot run it: V304
    with `--motor kolumn`, the reference's exact result with `auto`."""
    agreement = """\
överenskommelse "Stora tal"
slut

dokument d "Testdokument"

tabell mottagare fil "mottagare.csv" per alla nyckel id
  id: text
  a: heltal
slut

mottagargrupp alla från mottagare namn id

villkor 1 "Alltid"
  gäller alla
  källa d "villkor 1"
  krav uppfyllt
slut

utbetalning p "Per mottagare"
  villkor 1
  källa d "p"
  belopp mottagare.a * 10 kr till varje mottagare i alla
  avrundning hela kronor, halvt uppåt
slut
"""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "mottagare.csv").write_bytes(csv_bytes("id,a", "r1,-999999999999999999"))
    kolumn = api.run(agreement, folder, tmp_path / "k.csv", engine="kolumn", name="a.villkor")
    assert [d.code for d in kolumn.diagnostics] == ["V304"]
    assert "64-bitars" in kolumn.diagnostics[0].message
    auto = api.run(agreement, folder, tmp_path / "a.csv", name="a.villkor")
    assert auto.ok and auto.engine_used == "referens"
    assert "-9999999999999999990" in (tmp_path / "a.csv").read_text(encoding="utf-8")


# ---- decimaltal and andel -----------------------------------------------------------------

SHARES = """\
överenskommelse "Decimaltal och andelar"
slut

dokument d "Testdokument"

tabell mottagare fil "mottagare.csv" per alla nyckel id
  id: text obligatorisk
  namn: text
  kvot: decimaltal
  täckning: andel positiv
slut

mottagargrupp alla från mottagare namn namn

villkor 1 "Kvot och täckning"
  gäller alla
  källa d "villkor 1"
  krav mottagare.kvot >= 0,333333333333333333 och mottagare.täckning > 70 %
slut
"""


@pytest.mark.parametrize(("kvot", "täckning", "verdict"), [
    ("0,333333333333333333", "70,0000000000000001 %", "uppfyllt"),
    ("0.333333333333333332", "0,9", "ej uppfyllt"),
    ("1 000 000", "70 %", "ej uppfyllt"),
    ("99999999999999999999,5", "100%", "uppfyllt"),
    ("-0,000000000000000001", "1", "ej uppfyllt"),
    ("", "80 %", "underlag saknas"),
])
def test_decimal_and_share_columns_compare_exactly(tmp_path, kvot, täckning, verdict):
    """decimaltal and andel columns in the plan: held exactly (18 decimals, 16 before a `%`),
    compared with constants as the reference compares Fractions."""
    ran = both(tmp_path, agreement=SHARES, mottagare_csv=csv_bytes(
        "id,namn,kvot,täckning", f'01,Ett,"{kvot}","{täckning}"'))
    assert verdicts(ran) == {"Ett": verdict}


@pytest.mark.parametrize(("kvot", "täckning", "message"), [
    ("5 kr", "80 %", "rad 2, kolumn `kvot`: `5 kr` är ett belopp i kronor, men kolumnen är "
                     "decimaltal"),
    ("1e3", "80 %", "rad 2, kolumn `kvot`: `1e3` är inget tal"),
    ("1", "0 %", "rad 2, kolumn `täckning`: `0 %` ska vara större än 0"),
    ("1", "%", "rad 2, kolumn `täckning`: `%` är inget tal"),
])
def test_decimal_and_share_cells_that_are_wrong(tmp_path, kvot, täckning, message):
    ran = both(tmp_path, agreement=SHARES, mottagare_csv=csv_bytes(
        "id,namn,kvot,täckning", f"01,Ett,{kvot},{täckning}", "02,Två,1,80 %"))
    assert [e["meddelande"] for e in error_rows(ran)] == [message]
    assert verdicts(ran) == {"Två": "uppfyllt"}


@pytest.mark.parametrize("kvot", ["0,1234567890123456789", "123456789012345678901"])
def test_a_decimal_finer_than_the_plan_holds_is_the_references(tmp_path, kvot):
    """19 decimals, or 21 digits before the mark: the reference reads them exactly, the plan
    cannot hold them, so `auto` leaves the run to the reference (V304 on `--motor kolumn`)."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "mottagare.csv").write_bytes(csv_bytes("id,namn,kvot,täckning",
                                                     f"01,Ett,\"{kvot}\",80 %"))
    kolumn = api.run(SHARES, folder, tmp_path / "k.csv", engine="kolumn", name="a.villkor")
    assert [d.code for d in kolumn.diagnostics] == ["V304"]
    auto = api.run(SHARES, folder, tmp_path / "a.csv", name="a.villkor")
    assert auto.ok and auto.engine_used == "referens"


DECLARED = """\
överenskommelse "Decimaltecken"
slut

dokument d "Testdokument"

tabell mottagare fil "mottagare.csv" decimaltecken {mark} per alla nyckel id
  id: text obligatorisk
  kostnad: belopp
  kvot: decimaltal
  del: andel
slut

mottagargrupp alla från mottagare namn id

villkor 1 "Kostnad, kvot och andel"
  gäller alla
  källa d "villkor 1"
  krav mottagare.kostnad > 1 000 kr och mottagare.kvot >= 0,25 och mottagare.del är angiven
slut
"""

CELLS = ["1 234,50", "1\u00a0234\u00a0567,5 kr", "-0,25", "1500", "1234.50", "1.234,50",
         "12 34,5", "12,3,4", "75 %", "5 kr", "1\u202f000.5", "0.25 %", "1 234.5 kr", "x",
         "1" + "0" * 120, "0{mark}1234567890123456789", "1234567890123456789012345"]


@pytest.mark.parametrize("mark", ["komma", "punkt"])
@pytest.mark.parametrize("column", ["kostnad", "kvot", "del"])
def test_a_declared_decimal_mark_reads_alike(tmp_path, mark, column):
    """`decimaltecken komma|punkt` in the plan: the reference's `_declared_number` in SQL,
    every message the same (the other mark, no number, too many digits, a `%` in a belopp, a
    `kr` in a decimaltal); a figure the plan cannot hold leaves the run to the reference."""
    rows = ["id,kostnad,kvot,del"]
    for i, cell in enumerate(CELLS):
        cells = {"kostnad": "2000", "kvot": "1", "del": "1",
                 column: cell.replace("{mark}", "," if mark == "komma" else ".")}
        rows.append(f'r{i},"{cells["kostnad"]}","{cells["kvot"]}","{cells["del"]}"')
    agreement = DECLARED.replace("{mark}", mark)
    folder = tmp_path / "data"
    folder.mkdir()
    # the last two cells, finer or larger than the plan holds, are the reference's
    for limit, name in ((len(CELLS) - 1, "planned"), (len(CELLS), "finer"),
                        (len(CELLS) + 1, "larger")):
        (folder / "mottagare.csv").write_bytes(csv_bytes(*rows[:limit]))
        runs = {engine: api.run(agreement, folder, tmp_path / name / engine / "u.csv",
                                engine=engine, name="d.villkor")
                for engine in ("referens", "auto")}
        ref, auto = runs["referens"], runs["auto"]
        assert auto.engine_used == ("kolumn" if name == "planned" else "referens"), \
            auto.diagnostics
        for f in ("u.csv", "u.fel.csv"):
            assert (tmp_path / name / "referens" / f).read_bytes() == \
                (tmp_path / name / "auto" / f).read_bytes(), f
        assert [(e.rad, e.meddelande) for e in ref.errors] == \
            [(e.rad, e.meddelande) for e in auto.errors]


# ---- the rules themselves -----------------------------------------------------------------

def test_one_trimming_rule_in_python_and_sql():
    import duckdb

    from villkor_engine.io.cells import WHITESPACE, sql_trim, trim

    assert WHITESPACE == "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    values = [" \tab\u3000", "x", "\u00a0\u2028y\x1c", "   ", "\x85z\x0b", "Å ä", "\u200bq",
              "\r\n01\r\n", "",
              # printable ASCII at one end only, or at both with space inside (the shortcut)
              "a\u3000", "\u2000b", "a b", "é", "aé\u0085", "\x7f \x84", "~!", "!\u2029"]
    got = duckdb.connect().execute(f"SELECT {sql_trim('x')} FROM (SELECT unnest(?) AS x)",
                                   [values]).fetchall()
    assert [g for (g,) in got] == [trim(v) for v in values] == [v.strip() for v in values]
    assert sql_trim("x").isascii()   # no raw tab or line break in a printed script
