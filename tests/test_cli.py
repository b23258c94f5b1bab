"""The `villkor` command as users meet it: exit codes, output files and Swedish messages.

Also holds the helpers the bad-input tests share: `invoke` runs the CLI in-process and
`assert_diagnostic` checks that a run failed cleanly with one rendered Swedish diagnostic
(`fil:rad:kol: fel[KOD]: meddelande`, then the source line, caret and `= tips:`).
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import AGREEMENT_2020, EXAMPLE_2020, ROOT
from villkor_engine import __version__
from villkor_engine.cli import main

AGREEMENTS = sorted((ROOT / "agreements").glob("*.villkor"))
VILLKOR_BIN = Path(sys.executable).parent / "villkor"

# Words that only an English (untranslated) message would contain.
ENGLISH = re.compile(r"Traceback|Error:|Usage:|Try '|Invalid value|No such|Missing|not found|"
                     r"expected|Exception|Is a directory|Permission denied|invalid|unexpected",
                     re.IGNORECASE)
SWEDISH = re.compile(r"[åäöÅÄÖ]|\b(inte|inga?|inget|saknas|finns|okän[dt]|rad|kolumn|filen|tal|fel|"
                     r"en|ett|och|eller|som|med|av|till|utan|skriv|spara|ange|dela|du|ska|"
                     r"kontrollera|menade|ogiltigt|saknar|har|kan|anges|sida)\b")


# ---- shared helpers --------------------------------------------------------------

def invoke(*args: object) -> Result:
    """Run `villkor ARGS…` in-process, capturing stdout and stderr together in `.output`."""
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_no_crash(result: Result) -> None:
    """No Python exception escaped the CLI (SystemExit is how it sets the exit code)."""
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        pytest.fail(f"the CLI raised {type(exc).__name__}:\n{tb}\noutput:\n{result.output}")
    assert "Traceback" not in result.output, result.output


def assert_swedish(text: str) -> None:
    """No English wording and some Swedish; quoted `names` and file paths are left out."""
    words = " ".join(w for w in re.sub(r"`[^`]*`", " ", text).split() if "/" not in w)
    assert not ENGLISH.search(words), f"English text in a user message: {text!r}"
    assert SWEDISH.search(words), f"message does not read as Swedish: {text!r}"


def diagnostic_block(output: str, header: re.Pattern[str]) -> str | None:
    """The rendered diagnostic starting at `header`, up to the next blank line."""
    m = header.search(output)
    if m is None:
        return None
    rest = output[m.start():]
    return rest.split("\n\n", 1)[0]


def assert_diagnostic(result: Result, code: str, file: str | Path, line: int | None = None,
                      column: int | None = None, *, exit_code: int = 1) -> str:
    """The run failed cleanly with `file:line:column: fel[code]` in Swedish; returns the block.

    `line`/`column` None means "any number"; the file name must always appear in the header.
    """
    assert_no_crash(result)
    assert result.exit_code == exit_code, (result.exit_code, result.output)
    where = re.escape(str(file)) + ":" + (str(line) if line is not None else r"\d+") + ":" \
        + (str(column) if column is not None else r"\d+")
    header = re.compile(where + r": fel\[" + re.escape(code) + r"\]: ")
    block = diagnostic_block(result.output, header)
    assert block is not None, (f"expected `{where}: fel[{code}]` in the output:\n"
                               f"{result.output}")
    assert_swedish(block.split("\n", 1)[0].split(f"fel[{code}]: ", 1)[1])
    for hint in re.findall(r"= tips: (.*)", block):
        assert_swedish(hint)
    return block


def copy_data(tmp_path: Path, example: Path = EXAMPLE_2020) -> Path:
    target = tmp_path / "data"
    shutil.copytree(example, target)
    return target


def read_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


# ---- version and check -------------------------------------------------------------

def test_version():
    """`--version` prints the program name and the package version and exits 0."""
    result = invoke("--version")
    assert_no_crash(result)
    assert result.exit_code == 0
    assert result.output.strip() == f"villkor {__version__}"


@pytest.mark.parametrize("agreement", AGREEMENTS, ids=[p.name for p in AGREEMENTS])
def test_check_accepts_every_shipped_agreement(agreement):
    """Every file in agreements/ passes `check` with exit code 0 and no errors."""
    result = invoke("check", agreement)
    assert_no_crash(result)
    assert result.exit_code == 0, result.output
    assert f"{agreement}: ok (0 fel" in result.output


def test_agreements_folder_is_not_empty():
    """Guards the parametrised test above against silently checking nothing."""
    assert AGREEMENTS


# ---- usage errors (exit 2) ---------------------------------------------------------

def test_unknown_option_is_a_usage_error():
    """An unknown flag exits 2 and names the flag."""
    result = invoke("check", "--bogus", AGREEMENT_2020)
    assert_no_crash(result)
    assert result.exit_code == 2
    assert "fel[V300]: okänd flagga `--bogus`" in result.output


def test_unknown_param_is_a_usage_error_with_hint(tmp_path):
    """A misspelt --param name exits 2 with V301 and a 'menade du' hint; nothing is written."""
    out = tmp_path / "utfall.csv"
    result = invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out", out,
                    "--param", "ersättning_per_kontak=1500")
    assert_no_crash(result)
    assert result.exit_code == 2, result.output
    assert "fel[V301]: okänd parameter `ersättning_per_kontak`" in result.output
    assert "= tips: menade du `ersättning_per_kontakt`?" in result.output
    assert not out.exists()


def test_param_without_value_is_a_usage_error(tmp_path):
    """`--param foo` (no `=`) exits 2 and says how to write it, listing the parameters."""
    result = invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out",
                    tmp_path / "utfall.csv", "--param", "foo")
    assert_no_crash(result)
    assert result.exit_code == 2, result.output
    assert "fel[V301]: `foo` ska skrivas NAMN=VÄRDE" in result.output
    assert "ersättning_per_kontakt" in result.output


def test_param_with_bad_value_is_a_usage_error(tmp_path):
    """A parameter value that is not of the declared type (belopp) exits 2 with V302."""
    result = invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out",
                    tmp_path / "utfall.csv", "--param", "ersättning_per_kontakt=tio")
    assert_no_crash(result)
    assert result.exit_code == 2, result.output
    assert "fel[V302]: --parameter ersättning_per_kontakt: `tio` är inget tal" in result.output


@pytest.mark.parametrize("per", ["igår", "2020-02-30", "11/12/2020"])
def test_per_that_is_not_a_date_is_a_usage_error(tmp_path, per):
    """`--per` must be a real ÅÅÅÅ-MM-DD date; anything else exits 2 with a Swedish reason."""
    result = invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out",
                    tmp_path / "utfall.csv", "--per", per)
    assert_no_crash(result)
    assert result.exit_code == 2, result.output
    assert f"`{per}` är inget datum (skriv ÅÅÅÅ-MM-DD)" in result.output
    assert not (tmp_path / "utfall.csv").exists()


@pytest.mark.parametrize("args", [
    ["check", "--bogus", str(AGREEMENT_2020)],
    ["run", str(AGREEMENT_2020), "--data", str(EXAMPLE_2020), "--out", "x.csv", "--per", "igår"],
    ["run", str(AGREEMENT_2020), "--out", "x.csv"],
    ["frobnicate"],
], ids=["unknown-option", "bad-per", "missing-data", "unknown-command"])
def test_usage_errors_are_in_swedish(args):
    """The CLI promises Swedish messages; click's usage errors must not leak through in English."""
    result = invoke(*args)
    assert_no_crash(result)
    assert result.exit_code == 2
    m = re.search(r"fel\[V300\]: (.*)", result.output)
    assert m, result.output
    assert_swedish(m.group(1))
    assert_swedish(result.output.replace("Användning:", ""))


# ---- explain -------------------------------------------------------------------------

def test_explain_unknown_recipient_exits_1_with_hint():
    """`explain` for a recipient that is not in the data: V303, exit 1, the known codes as hint."""
    result = invoke("explain", AGREEMENT_2020, "--data", EXAMPLE_2020, "--mottagare", "99")
    assert_no_crash(result)
    assert result.exit_code == 1, result.output
    assert "fel[V303]: ingen rad för mottagare `99`" in result.output
    hint = re.search(r"= tips: mottagarna är (.*)", result.output)
    assert hint, result.output
    assert {"01", "09", "25", "SKR", "SoS", "FK"} <= set(hint.group(1).split(", "))


def test_explain_known_recipient_and_villkor():
    """`explain --mottagare 09 --villkor 2` explains Gotland's villkor 2 and exits 0."""
    result = invoke("explain", AGREEMENT_2020, "--data", EXAMPLE_2020, "--mottagare", "09",
                    "--villkor", "2")
    assert_no_crash(result)
    assert result.exit_code == 0, result.output
    assert "Villkor 2 för Region Gotland (09)" in result.output


# ---- run ---------------------------------------------------------------------------

def test_run_writes_result_csv_with_one_summa_row_per_recipient(tmp_path):
    """The result CSV has the contract columns and exactly one `summa` row per recipient."""
    out = tmp_path / "ut" / "utfall.csv"
    result = invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out", out)
    assert_no_crash(result)
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        header = reader.fieldnames or []
    assert {"mottagare", "villkor", "utfall", "belopp"} <= set(header)
    regions = [r[0] for r in read_rows(EXAMPLE_2020 / "befolkning.csv")[1:]]
    recipients = regions + ["SoS", "SKR", "FK"]
    summa = [r["mottagare"] for r in rows if r["villkor"] == "summa"]
    assert sorted(summa) == sorted(recipients)


def test_run_with_a_bad_row_writes_the_good_rows_and_an_error_file(tmp_path):
    """A bad row does not stop the run (one policy in both engines): every good row gets its
    result, the bad row is a row of `utfall.fel.csv`, and the exit code is 1."""
    data = copy_data(tmp_path)
    rows = read_rows(data / "befolkning.csv")
    rows[3][2] = "abc"
    write_rows(data / "befolkning.csv", rows)
    out = tmp_path / "utfall.csv"
    result = invoke("run", AGREEMENT_2020, "--data", data, "--out", out)
    assert_diagnostic(result, "V204", data / "befolkning.csv", 4, 3)
    assert "inget resultat skrivet" not in result.output
    assert read_rows(tmp_path / "utfall.fel.csv") == [
        ["fil", "rad", "kolumn", "meddelande"],
        ["befolkning.csv", "4", "befolkning", "rad 4, kolumn `befolkning`: `abc` är inget heltal"]]
    assert out.exists() and (tmp_path / "utfall.potter.csv").exists()
    assert rows[3][0] not in {r[0] for r in read_rows(out)[1:]}


def test_run_with_bad_data_leaves_an_existing_output_untouched(tmp_path):
    """A failed run does not truncate or replace last run's result file."""
    data = copy_data(tmp_path)
    (data / "redovisning.csv").write_text("lanskod\n", encoding="utf-8")
    out = tmp_path / "utfall.csv"
    out.write_text("förra körningen\n", encoding="utf-8")
    result = invoke("run", AGREEMENT_2020, "--data", data, "--out", out)
    assert_diagnostic(result, "V202", data / "redovisning.csv", 1)
    assert out.read_text(encoding="utf-8") == "förra körningen\n"


def test_run_with_bad_agreement_writes_no_output_file(tmp_path):
    """A broken agreement stops `run` with exit 1 before data is read or output written."""
    bad = tmp_path / "trasig.villkor"
    bad.write_text(AGREEMENT_2020.read_text(encoding="utf-8").replace("slut", "slu", 1),
                   encoding="utf-8")
    out = tmp_path / "utfall.csv"
    result = invoke("run", bad, "--data", EXAMPLE_2020, "--out", out)
    assert_no_crash(result)
    assert result.exit_code == 1, result.output
    assert f"{bad}: 1 fel" in result.output and "inget beräknat" in result.output
    assert not out.exists()


def test_run_with_missing_data_folder(tmp_path):
    """A --data folder that does not exist: V200, exit 1, nothing written."""
    out = tmp_path / "utfall.csv"
    result = invoke("run", AGREEMENT_2020, "--data", tmp_path / "finns-inte", "--out", out)
    assert_no_crash(result)
    assert result.exit_code == 1, result.output
    assert f"fel[V200]: datamappen `{tmp_path / 'finns-inte'}` finns inte" in result.output
    assert not out.exists()


# ---- the real executable -----------------------------------------------------------

def _run_bin(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VILLKOR_BIN), *map(str, args)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.skipif(not VILLKOR_BIN.exists(), reason="villkor script not installed")
def test_real_process_deep_nesting_gives_diagnostic_not_traceback(tmp_path):
    """A real `villkor check` on 1000 nested parentheses: exit 1, a diagnostic on stderr."""
    text = AGREEMENT_2020.read_text(encoding="utf-8")
    bad = tmp_path / "djup.villkor"
    bad.write_text(text.replace("värde v4_regioner: belopp = 50 miljoner kronor",
                                "värde v4_regioner: belopp = " + "(" * 1000 + "1" + ")" * 1000),
                   encoding="utf-8")
    proc = _run_bin("check", bad)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "RecursionError" not in proc.stderr
    assert re.search(re.escape(str(bad)) + r":\d+:\d+: fel\[V005\]", proc.stderr), proc.stderr


@pytest.mark.skipif(not VILLKOR_BIN.exists(), reason="villkor script not installed")
def test_real_process_bad_data_gives_diagnostic_not_traceback(tmp_path):
    """A real `villkor run` with a bad row: exit 1, file:row:col on stderr, the error file."""
    data = copy_data(tmp_path)
    rows = read_rows(data / "redovisning.csv")
    rows[5][rows[0].index("2.2a")] = "kanske"
    write_rows(data / "redovisning.csv", rows)
    out = tmp_path / "utfall.csv"
    proc = _run_bin("run", AGREEMENT_2020, "--data", data, "--out", out)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{data / 'redovisning.csv'}:6:9: fel[V204]" in proc.stderr, proc.stderr
    assert out.exists() and (tmp_path / "utfall.fel.csv").exists()   # the good rows' results


# ---- data printed to the terminal -----------------------------------------------------------

def test_recipient_names_are_never_markup_or_terminal_control(tmp_path):
    """Names from the data go into rich tables as text: `[/x]` (a markup error before, a
    traceback), `[bold]x` (was swallowed as style) and raw escape sequences (recoloured the
    terminal) are printed as written, control characters as visible `\\x1b`."""
    data = copy_data(tmp_path)
    rows = read_rows(data / "befolkning.csv")
    names = {rows[1][0]: "[/x]", rows[2][0]: "[bold]x", rows[3][0]: "\x1b[31mröd\x07"}
    for row in rows[1:4]:
        row[1] = names[row[0]]
    write_rows(data / "befolkning.csv", rows)
    redovisning = read_rows(data / "redovisning.csv")
    for row in redovisning[1:]:
        row[1] = names.get(row[0], row[1])
    write_rows(data / "redovisning.csv", redovisning)
    # the reference prints every row in a table (the column engine only its pots)
    result = invoke("run", AGREEMENT_2020, "--data", data, "--out", tmp_path / "u.csv",
                    "--motor", "referens")
    assert_no_crash(result)
    assert result.exit_code == 0, result.output
    assert "[/x]" in result.output and "[bold]x" in result.output
    assert "\\x1b[31mröd\\x07" in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output


# ---- money on screen -----------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["kolumn", "referens"])
def test_pots_on_screen_are_money(tmp_path, engine):
    """Both engines print each pot as Swedish money (`1 000 000 000 kr`), never the exact text
    the files hold (`1000000000`)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    data = tmp_path / "data"
    generate(40, data)
    result = invoke("run", ROOT / "bench" / "pott.villkor", "--data", data, "--ut",
                    tmp_path / "ut" / "r.csv", "--motor", engine)
    assert result.exit_code == 0, result.output
    screen = result.output.split("Potter och avrundning", 1)[1]
    assert "1 000 000 000 kr" in screen
    assert "1000000000" not in screen
