"""Input and output formats: CSV, Excel and Parquet give the same results; `decimaltecken`.

Inputs: the bundled examples are converted to `;`-CSV with BOM, to Excel workbooks (numbers,
dates and ja/nej as typed cells) and to Parquet (typed columns), the agreement is pointed at the
new files (`fil "…xlsx"`), and the result must be byte for byte the one from the original CSV.
Outputs: `--out …xlsx|…parquet` holds the same rows with the amounts exact.
"""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT
from test_cli import assert_diagnostic, assert_no_crash, invoke, read_rows
from villkor_engine import api
from villkor_engine.fmt import format_text
from villkor_engine.io.data import parse_cell
from villkor_engine.io.readers import ReadError, excel_text, float_text, input_format
from villkor_engine.model import types as T
from villkor_engine.model.model import ColumnSpec
from villkor_engine.pipeline import load_agreement_text
from villkor_engine.write.output import output_format, write_arrow

EXAMPLES = {
    "sjukskrivning-2020": ROOT / "examples" / "sjukskrivning-2020-granskning",
    "vgr-narhalsan-2018": ROOT / "examples" / "vgr-narhalsan-2018",
    "fk-vgr-2010": ROOT / "examples" / "fk-vgr-2010",
}
INTEGER = re.compile(r"-?(?:0|[1-9]\d{0,14})")          # no leading zero: `01` stays a code
DECIMAL = re.compile(r"-?\d+\.\d{1,2}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# ---- converting the examples ----------------------------------------------------------------

def _column_kind(values: list[str]) -> str:
    given = [v for v in values if v != ""]
    if given and all(INTEGER.fullmatch(v) for v in given):
        return "int"
    if given and all(INTEGER.fullmatch(v) or DECIMAL.fullmatch(v) for v in given):
        return "decimal"
    if given and all(v in ("ja", "nej") for v in given):
        return "bool"
    if given and all(DATE.fullmatch(v) for v in given):
        return "date"
    return "text"


def _typed(value: str, kind: str):
    if value == "":
        return None
    return {"int": int, "decimal": Decimal, "bool": lambda v: v == "ja",
            "date": date.fromisoformat, "text": str}[kind](value)


def write_xlsx(path: Path, rows: list[list[str]], typed: bool = True) -> None:
    """A workbook as a person would make it: typed cells for numbers, dates and ja/nej."""
    kinds = [_column_kind([r[i] for r in rows[1:]]) for i in range(len(rows[0]))]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(rows[0])
    for r in rows[1:]:
        if typed:
            ws.append([_typed(v, k) if k != "decimal" else float(v) if v else None
                       for v, k in zip(r, kinds)])
        else:
            ws.append([v or None for v in r])
    wb.save(path)


def write_parquet(path: Path, rows: list[list[str]]) -> None:
    """Typed Parquet columns: int64, decimal128(18, 2), bool, date32, or string; blank → null."""
    arrow_types = {"int": pa.int64(), "decimal": pa.decimal128(18, 2), "bool": pa.bool_(),
                   "date": pa.date32(), "text": pa.string()}
    columns = {}
    for i, name in enumerate(rows[0]):
        values = [r[i] for r in rows[1:]]
        kind = _column_kind(values)
        columns[name] = pa.array([_typed(v, kind) for v in values], arrow_types[kind])
    pq.write_table(pa.table(columns), path)


def convert(example: Path, agreement: Path, target: Path, fmt: str) -> tuple[Path, Path]:
    """The example's files in format `fmt`, and the agreement pointed at them."""
    data = target / "data"
    data.mkdir(parents=True)
    text = agreement.read_text(encoding="utf-8")
    for source in sorted(example.glob("*.csv")):
        rows = read_rows(source)
        if fmt == "csv-bom-semikolon":
            with open(data / source.name, "w", encoding="utf-8-sig", newline="") as f:
                csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)
            continue
        name = source.with_suffix("." + fmt).name
        (write_xlsx if fmt == "xlsx" else write_parquet)(data / name, rows)
        text = text.replace(f'fil "{source.name}"', f'fil "{name}"')
    changed = target / agreement.name
    changed.write_text(text, encoding="utf-8")
    return changed, data


def run_ok(agreement: Path, data: Path, out: Path, *extra: str):
    result = invoke("run", agreement, "--data", data, "--out", out, "--motor", "referens",
                    *extra)
    assert_no_crash(result)
    assert result.exit_code == 0, result.output
    return result


def by_key(out: Path) -> dict[tuple[str, str], dict[str, str]]:
    """The result CSV's rows by (mottagare, villkor)."""
    with open(out, encoding="utf-8", newline="") as f:
        return {(r["mottagare"], r["villkor"]): r for r in csv.DictReader(f)}


# ---- every input format, the same result ------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv-bom-semikolon", "xlsx", "parquet"])
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_input_format_gives_the_same_result(tmp_path, name, fmt):
    agreement = ROOT / "agreements" / f"{name}.villkor"
    run_ok(agreement, EXAMPLES[name], tmp_path / "ref" / "utfall.csv")
    changed, data = convert(EXAMPLES[name], agreement, tmp_path / fmt, fmt)
    if fmt != "csv-bom-semikolon":   # every file converted, and the agreement names them
        assert not list(data.glob("*.csv"))
        text = changed.read_text(encoding="utf-8")
        assert all(f'fil "{f.name}"' in text for f in data.iterdir())
    out = tmp_path / fmt / "utfall.csv"
    run_ok(changed, data, out)
    expected = (tmp_path / "ref" / "utfall.csv").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == expected
    assert (tmp_path / fmt / "utfall.potter.csv").read_text(encoding="utf-8") == \
        (tmp_path / "ref" / "utfall.potter.csv").read_text(encoding="utf-8")


def test_invoice_rows_name_the_workbook_and_its_sheet_rows(tmp_path):
    """A finding on an invoice line read from Excel names the .xlsx file and the sheet's row."""
    example = EXAMPLES["vgr-narhalsan-2018"]
    rows = read_rows(example / "fakturor.csv")
    rows[5][rows[0].index("kundnummer")] = "K999"
    src = tmp_path / "src"
    src.mkdir()
    for f in example.glob("*.csv"):
        (src / f.name).write_bytes(f.read_bytes())
    with open(src / "fakturor.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    changed, data = convert(src, ROOT / "agreements" / "vgr-narhalsan-2018.villkor",
                            tmp_path / "x", "xlsx")
    result = run_ok(changed, data, tmp_path / "x" / "utfall.csv")
    assert "fakturor.xlsx rad 6: kundnummer är K999, ska vara I71102" in result.output
    findings = [r for r in read_rows(tmp_path / "x" / "utfall.fakturor.csv")
                if r[-2] == "avvisad"]
    assert [(r[1], r[2]) for r in findings] == [("fakturor.xlsx", "6")]


# ---- one small table in every format ----------------------------------------------------------

SMALL = """
överenskommelse "Format"
slut
dokument d "Testdokument"
tabell kostnader fil "kostnader.{ext}"{decimal} poster
  enhet: kod obligatorisk
  datum: datum obligatorisk
  kostnad: belopp
  andel_klar: andel valfri
  klar: ja/nej valfri
slut
mottagargrupp enheter från kostnader via enhet
villkor 1 "Klar"
  gäller enheter
  källa d
  krav antal(kostnader där kostnader.klar är nej) = 0
slut
utbetalning p "Kostnad"
  villkor 1
  källa d
  belopp summa(kostnader.kostnad) till varje mottagare i enheter
  avrundning öre, halvt uppåt
slut
"""


def small(tmp_path: Path, ext: str, decimal: str = "") -> Path:
    path = tmp_path / f"format-{ext}.villkor"
    path.write_text(SMALL.format(ext=ext, decimal=decimal), encoding="utf-8")
    return path


def test_excel_numbers_dates_and_booleans_are_read_as_their_text(tmp_path):
    """Typed cells: 1234.55 (a float in the file), dates, True/False, an empty cell = missing."""
    data = tmp_path / "data"
    data.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["enhet", "datum", "kostnad", "andel_klar", "klar"])
    ws.append(["A", date(2024, 1, 31), 1234.55, 0.75, True])
    ws.append(["A", date(2024, 2, 29), 0.1, None, True])
    ws.append([])                                   # an empty row in the sheet is skipped
    ws.append([600001, date(2024, 3, 1), 100, 1, None])
    ws.append(["B", "2024-03-02", "1 234,50 kr", "75 %", "ja"])
    wb.save(data / "kostnader.xlsx")
    out = tmp_path / "utfall.csv"
    run_ok(small(tmp_path, "xlsx"), data, out)
    rows = by_key(out)
    assert rows[("A", "1")]["belopp"] == "1234.65"            # 1234.55 + 0.1, exactly
    assert rows[("600001", "1")]["utfall"] == "underlag saknas"  # klar blank: missing, not nej
    assert rows[("B", "1")]["belopp"] == "1234.50"


@pytest.mark.parametrize("value, text", [
    (1234.55, "1234.55"), (0.1, "0.1"), (123.0, "123"), (-2000.5, "-2000.5"), (1e-05, "0.00001"),
    (12345678901234.0, "12345678901234"), (True, "ja"), (False, "nej"), (None, ""),
    (date(2020, 12, 8), "2020-12-08"), (Decimal("1E+3"), "1000"), ("01", "01"),
])
def test_excel_cell_text_is_canonical(value, text):
    assert excel_text(value) == text


def test_float_text_is_the_shortest_exact_decimal():
    """No binary noise: the text reads back as the same float, and has no exponent."""
    for x in (0.1, 0.3, 1234.55, 1e-7, 2.5e15, 0.1 + 0.2):
        t = float_text(x)
        assert float(t) == x and "e" not in t.lower()
    assert float_text(0.1 + 0.2) == "0.30000000000000004"   # what the workbook holds


def test_parquet_decimal_and_row_numbers(tmp_path):
    """Parquet decimals are exact; a bad cell is reported at data row index + 2, its column."""
    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(pa.table({
        "enhet": pa.array(["A", "A", "B"]),
        "datum": pa.array([date(2024, 1, 1), date(2024, 1, 2), None], pa.date32()),
        "kostnad": pa.array([Decimal("0.10"), Decimal("1234567890123.45"), Decimal(1)],
                            pa.decimal128(18, 2)),
        "klar": pa.array([True, True, False]),
    }), data / "kostnader.parquet")
    agreement = small(tmp_path, "parquet")
    result = invoke("run", agreement, "--data", data, "--out", tmp_path / "u.csv",
                    "--motor", "referens")
    block = assert_diagnostic(result, "V204", data / "kostnader.parquet", 4, 2)
    assert "rad 4, kolumn `datum`: värdet saknas men kolumnen är obligatorisk" in block
    pq.write_table(pa.table({
        "enhet": pa.array(["A", "A"]),
        "datum": pa.array([date(2024, 1, 1), date(2024, 1, 2)], pa.date32()),
        "kostnad": pa.array([Decimal("0.10"), Decimal("1234567890123.45")],
                            pa.decimal128(18, 2)),
        "klar": pa.array([True, None]).cast(pa.bool_()).fill_null(True),
    }), data / "kostnader.parquet")
    out = tmp_path / "u.csv"
    run_ok(agreement, data, out)
    rows = by_key(out)
    assert rows[("A", "1")]["belopp"] == "1234567890123.55"


# ---- files that cannot be read ----------------------------------------------------------------

def test_unknown_input_extension_is_a_diagnostic(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "kostnader.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    result = invoke("run", small(tmp_path, "xls"), "--data", data, "--out", tmp_path / "u.csv")
    # found in the agreement, before any data is read: file, line and column of the `tabell`
    block = assert_diagnostic(result, "V211", tmp_path / "format-xls.villkor", 5, 1)
    assert "tabellen `kostnader`: filen `kostnader.xls` har filändelsen `.xls` och kan inte " \
        "läsas som indata" in block
    assert ".csv" in block and ".xlsx" in block and ".parquet" in block
    with pytest.raises(ReadError) as exc:
        input_format("x.json")
    assert exc.value.code == "V211"
    assert input_format("X.XLSX") == "xlsx"


@pytest.mark.parametrize("ext, content", [
    ("xlsx", b"enhet,datum\nA,2024-01-01\n"),                 # a CSV file renamed
    ("xlsx", b"PK\x03\x04" + b"\x00" * 40),                   # a broken zip
    ("parquet", b"PAR1" + b"\x00" * 40 + b"PAR1"),
    ("parquet", b""),
])
def test_damaged_workbook_or_parquet_is_a_diagnostic(tmp_path, ext, content):
    data = tmp_path / "data"
    data.mkdir()
    (data / f"kostnader.{ext}").write_bytes(content)
    result = invoke("run", small(tmp_path, ext), "--data", data, "--out", tmp_path / "u.csv")
    block = assert_diagnostic(result, "V212", data / f"kostnader.{ext}", 1, 1)
    assert f"filen `kostnader.{ext}` kan inte läsas som" in block
    assert "= tips:" in block
    assert not (tmp_path / "u.csv").exists()


def test_workbook_damaged_inside_a_sheet_is_a_diagnostic(tmp_path):
    """A valid zip whose sheet XML is cut off: V212, not a traceback."""
    data = tmp_path / "data"
    data.mkdir()
    good = tmp_path / "good.xlsx"
    write_xlsx(good, [["enhet", "datum", "kostnad"]] + [["A", "2024-01-01", "10"]] * 50)
    with zipfile.ZipFile(good) as src, \
            zipfile.ZipFile(data / "kostnader.xlsx", "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                body = body[: len(body) // 2]
            dst.writestr(info, body)
    result = invoke("run", small(tmp_path, "xlsx"), "--data", data, "--out", tmp_path / "u.csv")
    assert_diagnostic(result, "V212", data / "kostnader.xlsx")


def test_parquet_column_of_a_type_without_cell_form(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(pa.table({"enhet": ["A"], "datum": [date(2024, 1, 1)],
                             "kostnad": pa.array([[1, 2]])}), data / "kostnader.parquet")
    result = invoke("run", small(tmp_path, "parquet"), "--data", data, "--out",
                    tmp_path / "u.csv")
    block = assert_diagnostic(result, "V213", data / "kostnader.parquet", 1, 3)
    assert "kolumnen `kostnad`" in block


# ---- decimaltecken ---------------------------------------------------------------------------

def col(type_: str = T.BELOPP) -> ColumnSpec:
    return ColumnSpec("x", type_, (), False, False, False, None)


@pytest.mark.parametrize("decimal, raw, value", [
    ("komma", "1 234,50", Fraction("1234.50")),
    ("komma", "1\u00a0234\u00a0567,5 kr", Fraction("1234567.5")),
    ("komma", "-0,25", Fraction("-0.25")),
    ("komma", "1500", Fraction(1500)),
    ("punkt", "1234.50", Fraction("1234.50")),
    ("punkt", "1 234.50", Fraction("1234.50")),
    (None, "1234.50", Fraction("1234.50")),
    (None, "1234,50", Fraction("1234.50")),
])
def test_declared_decimal_mark_reads(decimal, raw, value):
    assert parse_cell(raw, col(), decimal) == value


@pytest.mark.parametrize("decimal", ["komma", "punkt", None])
def test_a_percentage_is_a_share_never_an_amount(decimal):
    """`75 %` is 3/4 in an andel column; in a belopp column it is an error, not 0,75 kr (and
    `5000 %` is not 50 kr)."""
    assert parse_cell("75 %", col(T.ANDEL), decimal) == Fraction(3, 4)
    for raw in ("75 %", "5000 %"):
        with pytest.raises(ValueError, match="procentsats, men kolumnen är belopp"):
            parse_cell(raw, col(), decimal)


@pytest.mark.parametrize("decimal, raw, words", [
    ("komma", "1234.50", "har `.`, men tabellen har decimaltecken komma"),
    ("komma", "1.234,50", "har `.`"),
    ("punkt", "1234,50", "har `,`, men tabellen har decimaltecken punkt"),
    ("komma", "12 34,5", "är inget tal"),
    ("komma", "12,3,4", "är inget tal"),
])
def test_the_other_decimal_mark_is_an_error(decimal, raw, words):
    with pytest.raises(ValueError, match=re.escape(words)) as exc:
        parse_cell(raw, col(), decimal)
    assert getattr(exc.value, "hint", None)


def test_typed_cells_are_not_held_to_the_declared_mark(tmp_path):
    """An Excel number is canonical text (`1234.5`) and is read under `decimaltecken komma`."""
    data = tmp_path / "data"
    data.mkdir()
    wb = openpyxl.Workbook()
    wb.active.append(["enhet", "datum", "kostnad", "klar"])
    wb.active.append(["A", date(2024, 1, 1), 1234.5, True])
    wb.active.append(["A", date(2024, 1, 2), "1 000,25", "ja"])
    wb.save(data / "kostnader.xlsx")
    out = tmp_path / "u.csv"
    run_ok(small(tmp_path, "xlsx", " decimaltecken komma"), data, out)
    rows = by_key(out)
    assert rows[("A", "1")]["belopp"] == "2234.75"


def test_a_declared_mark_in_a_workbook_is_the_references(tmp_path):
    """In a workbook a typed number is read as it is and text under the mark, cell by cell;
    the column engine cannot tell them apart, so such a table is the reference's (V304 with
    `--motor kolumn`, the reference with `auto`), and the result is the reference's."""
    data = tmp_path / "data"
    data.mkdir()
    wb = openpyxl.Workbook()
    wb.active.append(["enhet", "datum", "kostnad", "klar"])
    wb.active.append(["A", date(2024, 1, 1), 1234.5, True])
    wb.save(data / "kostnader.xlsx")
    agreement = small(tmp_path, "xlsx", " decimaltecken komma")
    kolumn = api.run(agreement, data, tmp_path / "k.csv", engine="kolumn")
    assert [d.code for d in kolumn.diagnostics] == ["V304"]
    assert "`decimaltecken` stöds bara för CSV-filer" in kolumn.diagnostics[0].message
    auto = api.run(agreement, data, tmp_path / "a.csv")
    assert auto.ok and auto.engine_used == "referens"
    assert by_key(tmp_path / "a.csv")[("A", "1")]["belopp"] == "1234.50"


def csv_data(tmp_path: Path, kostnad: list[str]) -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    with open(data / "kostnader.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["enhet", "datum", "kostnad", "klar"])
        w.writerows(["A", "2024-01-01", k, "ja"] for k in kostnad)
    return data


def test_decimal_comma_declared_in_the_agreement(tmp_path):
    data = csv_data(tmp_path, ["1 234,50", "0,25", "10"])
    out = tmp_path / "u.csv"
    run_ok(small(tmp_path, "csv", " decimaltecken komma"), data, out)
    rows = by_key(out)
    assert rows[("A", "1")]["belopp"] == "1244.75"


def test_point_under_decimal_comma_names_file_row_and_column(tmp_path):
    data = csv_data(tmp_path, ["1 234,50", "1234.50"])
    result = invoke("run", small(tmp_path, "csv", " decimaltecken komma"), "--data", data,
                    "--out", tmp_path / "u.csv")
    block = assert_diagnostic(result, "V204", data / "kostnader.csv", 3, 3)
    assert "rad 3, kolumn `kostnad`: `1234.50` har `.`, men tabellen har decimaltecken komma" \
        in block
    assert "= tips: skriv talet som 1 234,50" in block


def test_comma_under_decimal_point_names_file_row_and_column(tmp_path):
    data = csv_data(tmp_path, ["1234.50", "0,25"])
    result = invoke("run", small(tmp_path, "csv", " valfri decimaltecken punkt"), "--data", data,
                    "--out", tmp_path / "u.csv")
    block = assert_diagnostic(result, "V204", data / "kostnader.csv", 3, 3)
    assert "`0,25` har `,`, men tabellen har decimaltecken punkt" in block
    assert "decimaltecken` till komma" in block


def test_undeclared_accepts_both_marks(tmp_path):
    data = csv_data(tmp_path, ["1234.50", "0,25"])
    out = tmp_path / "u.csv"
    run_ok(small(tmp_path, "csv"), data, out)
    rows = by_key(out)
    assert rows[("A", "1")]["belopp"] == "1234.75"


KEYED = """
överenskommelse "K"
slut
dokument d "D"
mottagargrupp regioner från befolkning namn region
tabell befolkning fil "befolkning.csv"{mark} per regioner nyckel lanskod
  lanskod: kod obligatorisk
  region: text obligatorisk
  befolkning: heltal obligatorisk positiv
slut
"""


@pytest.mark.parametrize("mark, decimal", [("", None), (" decimaltecken komma", "komma"),
                                           (" valfri decimaltecken punkt", "punkt")])
def test_decimal_mark_reaches_the_model(mark, decimal):
    loaded = load_agreement_text(KEYED.format(mark=mark), "k.villkor")
    assert loaded.model is not None
    assert loaded.model.tables["befolkning"].decimal == decimal
    loaded = load_agreement_text(SMALL.format(ext="csv", decimal=mark), "s.villkor")
    assert loaded.model.records["kostnader"].decimal == decimal


def test_misspelt_decimal_mark_is_a_syntax_error():
    loaded = load_agreement_text(KEYED.format(mark=" decimaltecken kommatecken"), "k.villkor")
    assert not loaded.ok
    d = loaded.diagnostics[0]
    assert (d.code, d.message, d.hint) == ("V012", "oväntat ord `kommatecken`",
                                           "väntade `komma` eller `punkt`")
    assert (d.span.line, d.span.column) == (6, 54)


def test_komma_and_punkt_are_still_column_names():
    text = KEYED.format(mark=" decimaltecken punkt").replace(
        "  befolkning: heltal obligatorisk positiv\n",
        "  befolkning: heltal obligatorisk positiv\n  komma: text valfri\n  punkt: andel valfri\n")
    loaded = load_agreement_text(text, "k.villkor")
    assert loaded.model is not None, [d.header() for d in loaded.diagnostics]
    assert {"komma", "punkt"} <= set(loaded.model.tables["befolkning"].columns)


def test_fmt_keeps_the_decimal_mark():
    text = KEYED.format(mark="   valfri   decimaltecken    komma")
    formatted, _ = format_text(text, "k.villkor")
    assert 'fil "befolkning.csv" valfri decimaltecken komma per regioner' in formatted
    assert format_text(formatted, "k.villkor")[0] == formatted


# ---- output formats ---------------------------------------------------------------------------

def _csv_dicts(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _sheet_xml_numbers(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    return re.findall(r'<c r="[A-Z]+\d+" t="n"><v>([^<]*)</v></c>', xml)


@pytest.mark.parametrize("name", ["sjukskrivning-2020", "vgr-narhalsan-2018"])
def test_xlsx_and_parquet_outputs_hold_the_csv_amounts_exactly(tmp_path, name):
    agreement = ROOT / "agreements" / f"{name}.villkor"
    run_ok(agreement, EXAMPLES[name], tmp_path / "utfall.csv")
    run_ok(agreement, EXAMPLES[name], tmp_path / "utfall.xlsx")
    run_ok(agreement, EXAMPLES[name], tmp_path / "utfall.parquet")
    for kind in ("", ".potter") + ((".fakturor",) if name == "vgr-narhalsan-2018" else ()):
        expected = _csv_dicts(tmp_path / f"utfall{kind}.csv")
        assert expected
        # Excel: one sheet, the same columns and rows; numbers hold the exact decimal text
        wb = openpyxl.load_workbook(tmp_path / f"utfall{kind}.xlsx", read_only=True)
        assert wb.sheetnames == [{"": "resultat", ".potter": "potter",
                                  ".fakturor": "fakturor"}[kind]]
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
        header = list(rows[0])
        assert header == list(expected[0])
        got = [dict(zip(header, [*r, *[None] * (len(header) - len(r))])) for r in rows[1:]]
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            for column, text in e.items():
                value = g[column]
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    assert Decimal(excel_text(value)) == Decimal(text), (column, value, text)
                elif isinstance(value, date):
                    assert value.date().isoformat() == text
                else:
                    assert (value or "") == text, (column, value, text)
        numbers = _sheet_xml_numbers(tmp_path / f"utfall{kind}.xlsx")
        amount_columns = [c for c in ("belopp", "pott", "utbetalt") if c in header]
        amounts = [e[c] for e in expected for c in amount_columns if e[c]]
        assert amounts and set(amounts) <= set(numbers)
        # Parquet: typed columns, amounts decimal(18, 2) equal to the CSV text as Decimal
        table = pq.read_table(tmp_path / f"utfall{kind}.parquet")
        assert table.column_names == list(expected[0])
        for column in amount_columns:
            assert table.schema.field(column).type == pa.decimal128(18, 2)
            assert [v if v is None else Decimal(v) for v in table.column(column).to_pylist()] \
                == [Decimal(e[column]) if e[column] else None for e in expected]
        if kind == "":
            assert table.schema.field("betalas_senast").type == pa.date32()
            assert table.schema.field("exakt_belopp").type == pa.string()
            assert [v or "" for v in table.column("exakt_belopp").to_pylist()] == \
                [e["exakt_belopp"] for e in expected]
            assert [v.isoformat() if v else "" for v in
                    table.column("betalas_senast").to_pylist()] == \
                [e["betalas_senast"] for e in expected]


def test_same_run_writes_the_same_bytes(tmp_path):
    """The run ledger compares output hashes: a workbook and a Parquet file are reproducible."""
    agreement = ROOT / "agreements" / "sjukskrivning-2020.villkor"
    for ext in ("xlsx", "parquet"):
        run_ok(agreement, EXAMPLES["sjukskrivning-2020"], tmp_path / "a" / f"u.{ext}")
        run_ok(agreement, EXAMPLES["sjukskrivning-2020"], tmp_path / "b" / f"u.{ext}")
        assert (tmp_path / "a" / f"u.{ext}").read_bytes() == \
            (tmp_path / "b" / f"u.{ext}").read_bytes()


def test_xlsx_keeps_more_digits_than_a_float_and_text_is_never_a_formula(tmp_path):
    table = pa.table({"mottagare": ["=1+1"], "belopp": ["123456789012345.67"],
                      "betalas_senast": ["2021-03-31"], "rad": pa.array([7])})
    write_arrow(table, tmp_path / "u.xlsx")
    assert _sheet_xml_numbers(tmp_path / "u.xlsx") == ["123456789012345.67", "7"]
    ws = openpyxl.load_workbook(tmp_path / "u.xlsx").active
    assert ws["A2"].value == "=1+1" and ws["A2"].data_type == "s"
    assert ws["C2"].value.date() == date(2021, 3, 31)
    write_arrow(table, tmp_path / "u.parquet")
    back = pq.read_table(tmp_path / "u.parquet")
    assert back.column("belopp").to_pylist() == [Decimal("123456789012345.67")]
    assert back.column("betalas_senast").to_pylist() == [date(2021, 3, 31)]


def test_output_format_by_extension():
    assert [output_format(p) for p in ("u.csv", "U.XLSX", "ut/u.parquet", "utfall")] == \
        ["csv", "xlsx", "parquet", "csv"]
    with pytest.raises(ValueError, match="skriv .csv, .xlsx \\(Excel\\) eller .parquet") as exc:
        output_format("ut/utfall.json")
    assert "`utfall.json`" in str(exc.value) and "`.json`" in str(exc.value)


@pytest.mark.parametrize("raw, type_", [("２０２０", T.HELTAL), ("١٢٣", T.HELTAL),
                                        ("１５００", T.BELOPP), ("20201211", T.DATUM),
                                        ("2020-W50-1", T.DATUM)])
def test_one_reading_on_every_python_and_engine(raw, type_):
    """Full-width and Arabic digits, compact and week dates: refused, as the column engine's
    `[0-9]` refuses them (Python's `\\d` and 3.11's fromisoformat took them)."""
    with pytest.raises(ValueError):
        parse_cell(raw, col(type_))


@pytest.mark.parametrize("raw, value", [("999999999999999999", 10 ** 18 - 1),
                                        ("-999 999 999 999 999 999", -(10 ** 18 - 1)),
                                        ("0000000000000000001", None),
                                        ("1000000000000000000", None)])
def test_an_integer_has_at_most_18_digits(raw, value):
    """heltal: at most 18 digits, leading zeros counted (every one fits in 64 bits, where the
    column engine computes); more is an error that says how many (io/cells.py)."""
    if value is not None:
        assert parse_cell(raw, col(T.HELTAL)) == value
        return
    with pytest.raises(ValueError, match="har 19 siffror, men ett heltal får ha högst 18"):
        parse_cell(raw, col(T.HELTAL))
