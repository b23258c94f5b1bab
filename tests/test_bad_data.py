"""Broken data files: a Swedish diagnostic naming file, row and column, and exit code 1.

Every case copies the example data (examples/sjukskrivning-2020, or the review example for
granskning.csv) to tmp_path, damages one thing and runs `villkor run` with the real agreement.
Rows are the file's own line numbers (header = row 1); columns are 1-based field numbers.

One bad-row policy in both engines: a bad row (a cell not of its type V204, an unknown recipient
or villkor V205, a key again V206, the wrong number of fields V209) is left out and written to
`utfall.fel.csv` (fil, rad, kolumn, meddelande), every good row gets its result, and the exit
code is 1. A file that cannot be used (missing, unreadable, a declared column missing) stops the
run and nothing is written.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from conftest import AGREEMENT_2020, ROOT
from test_cli import assert_diagnostic, assert_no_crash, copy_data, invoke, read_rows, write_rows

REVIEW_EXAMPLE = ROOT / "examples" / "sjukskrivning-2020-granskning"


def run(data: Path, tmp_path: Path):
    """`villkor run` on `data`; a run stopped by bad rows wrote the good rows' results and the
    error file, one stopped by anything else left no output behind."""
    out = tmp_path / "utfall.csv"
    result = invoke("run", AGREEMENT_2020, "--data", data, "--out", out)
    if result.exit_code != 0 and not (tmp_path / "utfall.fel.csv").exists():
        assert not out.exists() and not out.with_suffix(".potter.csv").exists()
    elif result.exit_code != 0:
        assert out.exists() and (tmp_path / "utfall.potter.csv").exists()
    return result


def error_rows(tmp_path: Path) -> list[tuple[str, int, str, str]]:
    """The error file's rows: (fil, rad, kolumn, meddelande)."""
    with open(tmp_path / "utfall.fel.csv", encoding="utf-8", newline="") as f:
        return [(r["fil"], int(r["rad"]), r["kolumn"], r["meddelande"])
                for r in csv.DictReader(f)]


def recipients(tmp_path: Path) -> set[str]:
    with open(tmp_path / "utfall.csv", encoding="utf-8", newline="") as f:
        return {r["mottagare"] for r in csv.DictReader(f)}


def edit(path: Path, row: int, column: str, value: str) -> int:
    """Set the cell in file row `row` (header = 1) and `column`; returns the 1-based column."""
    rows = read_rows(path)
    col = rows[0].index(column)
    rows[row - 1][col] = value
    write_rows(path, rows)
    return col + 1


def row_of(path: Path, lanskod: str) -> int:
    return next(i for i, r in enumerate(read_rows(path), 1) if r[0] == lanskod)


# ---- recipients and keys ---------------------------------------------------------------

def test_unknown_lanskod(tmp_path):
    """A lanskod in redovisning.csv that befolkning.csv does not know: V205 at row and column 1."""
    data = copy_data(tmp_path)
    path = data / "redovisning.csv"
    row = row_of(path, "05")
    edit(path, row, "lanskod", "99")
    block = assert_diagnostic(run(data, tmp_path), "V205", path, row, 1)
    assert f"rad {row}, kolumn `lanskod`: okänd mottagare `99`" in block
    assert "01, 03" in block.split("= tips:")[1]  # the known codes as hint
    assert error_rows(tmp_path) == [("redovisning.csv", row, "lanskod", f"rad {row}, kolumn "
                                     "`lanskod`: okänd mottagare `99`")]
    # the row is left out: region 05 is evaluated without its answers, the others as before
    assert "05" in recipients(tmp_path) and "99" not in recipients(tmp_path)


def test_duplicate_lanskod_names_both_rows(tmp_path):
    """The same lanskod twice in befolkning.csv: V206 at the second row, naming the first."""
    data = copy_data(tmp_path)
    path = data / "befolkning.csv"
    first, second = row_of(path, "03"), row_of(path, "05")
    edit(path, second, "lanskod", "03")
    block = assert_diagnostic(run(data, tmp_path), "V206", path, second, 1)
    assert f"rad {second}" in block and f"rad {first}" in block
    assert "`03`" in block


# ---- typed cells -------------------------------------------------------------------------

@pytest.mark.parametrize("value, words", [
    ("0", "ska vara större än 0"),
    ("-5", "ska vara större än 0"),
    ("12,5", "är inget heltal"),
    ("abc", "är inget heltal"),
    ("", "saknas"),
])
def test_bad_population(tmp_path, value, words):
    """`befolkning: heltal obligatorisk positiv`: each bad value is V204 at its row and column."""
    data = copy_data(tmp_path)
    path = data / "befolkning.csv"
    row = row_of(path, "09")
    col = edit(path, row, "befolkning", value)
    block = assert_diagnostic(run(data, tmp_path), "V204", path, row, col)
    assert f"rad {row}, kolumn `befolkning`" in block
    assert words in block
    if value:
        assert f"`{value}`" in block
    assert [(f, r, k) for f, r, k, _ in error_rows(tmp_path)] == \
        [("befolkning.csv", row, "befolkning")]
    assert "09" not in recipients(tmp_path) and "01" in recipients(tmp_path)


def test_bad_population_does_not_cascade_into_unknown_recipient(tmp_path):
    """Region 09 is in befolkning.csv with a bad number; redovisning.csv must not call 09
    unknown."""
    data = copy_data(tmp_path)
    path = data / "befolkning.csv"
    edit(path, row_of(path, "09"), "befolkning", "abc")
    result = run(data, tmp_path)
    assert_diagnostic(result, "V204", path, row_of(path, "09"), 3)
    assert "okänd mottagare `09`" not in result.output, result.output


def test_answer_other_than_ja_nej(tmp_path):
    """`kanske` in the ja/nej column 2.2a: V204 at its row and column, hint to write ja or nej."""
    data = copy_data(tmp_path)
    path = data / "redovisning.csv"
    row = row_of(path, "10")
    col = edit(path, row, "2.2a", "kanske")
    block = assert_diagnostic(run(data, tmp_path), "V204", path, row, col)
    assert "kolumn `2.2a`: `kanske` är inte ja eller nej" in block
    assert "ja eller nej" in block.split("= tips:")[1]


def test_ja_nej_in_any_case_is_accepted(tmp_path):
    """`JA`, `Ja`, `NEJ` and `Nej` mean ja and nej: the result equals the lower-case one."""
    lower, upper = copy_data(tmp_path / "a"), copy_data(tmp_path / "b")
    for data, yes, no in ((lower, "ja", "nej"), (upper, "JA", "Nej")):
        path = data / "redovisning.csv"
        edit(path, row_of(path, "09"), "2.2a", no)
        edit(path, row_of(path, "10"), "1.1a", yes)
        edit(path, row_of(path, "12"), "2.1a", yes.capitalize() if data is upper else yes)
        (data / "granskning.csv").unlink()   # the answers decide what they can without review
    outs = []
    for data in (lower, upper):
        out = data.parent / "utfall.csv"
        result = invoke("run", AGREEMENT_2020, "--data", data, "--out", out)
        assert_no_crash(result)
        assert result.exit_code == 0, result.output
        outs.append(out.read_text(encoding="utf-8"))
    assert outs[0] == outs[1]
    rows = list(csv.DictReader(outs[1].splitlines()))
    gotland_2 = next(r for r in rows if r["mottagare"] == "09" and r["villkor"] == "2")
    assert gotland_2["utfall"] == "ej uppfyllt"  # `Nej` was read as nej, not as missing


def test_several_bad_rows_all_reported_in_one_run(tmp_path):
    """Bad cells in several rows and two files are all reported at once, each with row and
    column."""
    data = copy_data(tmp_path)
    bef, red = data / "befolkning.csv", data / "redovisning.csv"
    bad = []
    for code, value in (("03", "0"), ("07", "abc"), ("20", "-5")):
        bad.append((bef, row_of(bef, code), edit(bef, row_of(bef, code), "befolkning", value)))
    bad.append((red, row_of(red, "13"), edit(red, row_of(red, "13"), "2.2a", "kanske")))
    bad.append((red, row_of(red, "14"), edit(red, row_of(red, "14"), "inkom", "2020-13-01")))
    result = run(data, tmp_path)
    for path, row, col in bad:
        assert_diagnostic(result, "V204", path, row, col)


def test_bad_row_beyond_99_keeps_its_location(tmp_path):
    """A bad cell on row 100 prints `befolkning.csv:100:3`, not an emoji (rich's `:100:`)."""
    data = copy_data(tmp_path)
    path = data / "befolkning.csv"
    rows = read_rows(path)
    rows[-1][2] = "abc"
    # Blank lines are skipped but counted, so the last region ends up on row 100.
    text = "".join(",".join(r) + "\n" for r in rows[:-1]) + "\n" * (100 - len(rows)) \
        + ",".join(rows[-1]) + "\n"
    path.write_text(text, encoding="utf-8")
    result = run(data, tmp_path)
    assert "\N{HUNDRED POINTS SYMBOL}" not in result.output, result.output
    assert_diagnostic(result, "V204", path, 100, 3)


def test_wrong_number_of_fields(tmp_path):
    """A row with an extra field: V209 at that row, hint about delimiters and quotes."""
    data = copy_data(tmp_path)
    path = data / "befolkning.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].rstrip("\n") + ",extra\n"
    path.write_text("".join(lines), encoding="utf-8")
    block = assert_diagnostic(run(data, tmp_path), "V209", path, 4, 1)
    assert "rad 4 har 4 fält men rubrikraden har 3" in block


def test_bad_utf8_in_a_data_row(tmp_path):
    """Latin-1 bytes in row 5 of befolkning.csv: V207 naming that row, not row 1."""
    data = copy_data(tmp_path)
    path = data / "befolkning.csv"
    raw = path.read_bytes().split(b"\n")
    raw[4] = raw[4].replace("ö".encode(), b"\xf6")
    assert b"\xf6" in raw[4]
    path.write_bytes(b"\n".join(raw))
    block = assert_diagnostic(run(data, tmp_path), "V207", path, 5)
    assert "UTF-8" in block


# ---- header and files ------------------------------------------------------------------

def test_missing_column_in_header(tmp_path):
    """redovisning.csv without the 2.2a column: V202 on row 1 naming the column."""
    data = copy_data(tmp_path)
    path = data / "redovisning.csv"
    rows = read_rows(path)
    i = rows[0].index("2.2a")
    write_rows(path, [r[:i] + r[i + 1:] for r in rows])
    block = assert_diagnostic(run(data, tmp_path), "V202", path, 1)
    assert "kolumnen `2.2a` saknas" in block


def test_missing_befolkning_file(tmp_path):
    """No befolkning.csv: V201 naming the file and the table, exit 1."""
    data = copy_data(tmp_path)
    (data / "befolkning.csv").unlink()
    block = assert_diagnostic(run(data, tmp_path), "V201", data / "befolkning.csv", 1)
    assert "filen `befolkning.csv` saknas i datamappen (tabellen `befolkning`)" in block


def test_missing_befolkning_file_is_the_only_error(tmp_path):
    """Without befolkning.csv no region is known; that must not add 21 'okänd mottagare' errors."""
    data = copy_data(tmp_path)
    (data / "befolkning.csv").unlink()
    result = run(data, tmp_path)
    assert_diagnostic(result, "V201", data / "befolkning.csv", 1)
    assert "fel[V205]" not in result.output, result.output
    assert re.search(r"(?<!\d)1 fel, ", result.output), result.output


def test_unknown_villkor_in_granskning(tmp_path):
    """granskning.csv with villkor 7 (the agreement has 1–5 and 4.7): V205 at row and column
    `villkor`."""
    data = copy_data(tmp_path, REVIEW_EXAMPLE)
    path = data / "granskning.csv"
    col = edit(path, 3, "villkor", "7")
    block = assert_diagnostic(run(data, tmp_path), "V205", path, 3, col)
    assert "kolumn `villkor`: okänt villkor `7`" in block
    assert "1, 2, 3, 4, 4.7, 5" in block.split("= tips:")[1]


def test_bad_beslut_in_granskning(tmp_path):
    """A beslut outside godkänd/underkänd/komplettering: V204 at row and column, values as hint."""
    data = copy_data(tmp_path, REVIEW_EXAMPLE)
    path = data / "granskning.csv"
    col = edit(path, 4, "beslut", "kanske")
    block = assert_diagnostic(run(data, tmp_path), "V204", path, 4, col)
    assert "`kanske` är inte ett av godkänd, underkänd, komplettering" in block


# ---- accepted variants -------------------------------------------------------------------

def test_semicolon_file_with_bom_is_accepted(tmp_path):
    """Excel's 'CSV UTF-8' (BOM, `;`, CRLF) gives exactly the same result as the comma files."""
    data = copy_data(tmp_path)
    for name in ("befolkning.csv", "redovisning.csv"):
        rows = read_rows(data / name)
        with open(data / name, "w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f, delimiter=";").writerows(rows)
    assert (data / "befolkning.csv").read_bytes().startswith(b"\xef\xbb\xbflanskod;region;")
    outs = []
    for d in (data, copy_data(tmp_path / "ref")):
        out = d / "utfall.csv"
        result = invoke("run", AGREEMENT_2020, "--data", d, "--out", out)
        assert_no_crash(result)
        assert result.exit_code == 0, result.output
        outs.append(out.read_text(encoding="utf-8"))
    assert outs[0] == outs[1]


def test_a_missing_column_is_not_said_to_be_a_typo_of_a_column_that_is_there(tmp_path):
    """Without `4.2b`, the header still has `4.2a`, which is declared and right: no
    "menade du `4.2a`?"; a stray `4.2c` in its place is the likely typo and is suggested."""
    data = copy_data(tmp_path / "d")
    path = data / "redovisning.csv"
    text = path.read_text(encoding="utf-8")
    head, rest = text.split("\n", 1)
    path.write_text(head.replace(",4.2b,", ",4.2x,") + "\n" + rest, encoding="utf-8")
    result = invoke("run", AGREEMENT_2020, "--data", data, "--out", tmp_path / "u.csv")
    assert result.exit_code == 1 and "kolumnen `4.2b` saknas" in result.output
    assert "menade du `4.2x`?" in result.output and "`4.2a`?" not in result.output
    path.write_text(head.replace(",4.2b,", ",") + "\n" + "\n".join(
        ",".join(r.split(",")[:13] + r.split(",")[14:]) for r in rest.splitlines()) + "\n",
        encoding="utf-8")
    result = invoke("run", AGREEMENT_2020, "--data", data, "--out", tmp_path / "u.csv")
    assert "kolumnen `4.2b` saknas" in result.output and "menade du" not in result.output
