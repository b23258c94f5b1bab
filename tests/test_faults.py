"""Faults a security and fault probe found: each must end as a Swedish diagnostic with a code and
a non-zero exit code (or, for data, be shown harmlessly), never a Python traceback.

Output paths (directory, under a file, a device, read-only, full disk, empty, an input), the
column engine's memory bound, damaged Parquet on the default engine, CSV fields past the csv
module's limit and a stray quote, huge source lines under a diagnostic — and a property test
that throws random arguments and file contents at every command.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import AGREEMENT_2020, EXAMPLE_2020, ROOT
from test_cli import assert_no_crash, assert_swedish, copy_data, read_rows, write_rows
from villkor_engine import api
from villkor_engine.cli import main
from villkor_engine.diagnostics import Diagnostic, Span, render

BENCH = ROOT / "bench" / "pott.villkor"


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_fails(result, code: str, exit_code: int) -> str:
    """A clean failure: `fel[code]: …` in Swedish (hint too), the exit code, no traceback."""
    assert_no_crash(result)
    assert result.exit_code == exit_code, (result.exit_code, result.output)
    m = re.search(r"fel\[" + code + r"\]: (.*)", result.output)
    assert m, result.output
    assert_swedish(m.group(1))
    for hint in re.findall(r"= tips: (.*)", result.output):
        assert_swedish(hint)
    assert "V319" not in result.output, result.output
    return m.group(1)


def bench_data(tmp_path: Path, n: int = 50) -> Path:
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    return generate(n, tmp_path / "data").parent


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


# ---- --out ---------------------------------------------------------------------------------

def test_out_that_is_a_directory(tmp_path):
    (tmp_path / "ut").mkdir()
    for out in (tmp_path / "ut", f"{tmp_path / 'ut'}/"):
        message = assert_fails(invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020,
                                      "--out", out), "V307", 2)
        assert "är en mapp" in message
    assert list((tmp_path / "ut").iterdir()) == []


def test_out_under_a_regular_file(tmp_path):
    (tmp_path / "fil").write_text("x\n", encoding="utf-8")
    message = assert_fails(invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out",
                                  tmp_path / "fil" / "utfall.csv"), "V307", 2)
    assert "är en fil, ingen mapp" in message
    assert (tmp_path / "fil").read_text(encoding="utf-8") == "x\n"


def test_out_that_is_no_regular_file_is_not_replaced(tmp_path):
    """A device or FIFO as --out: refused (a rename would have replaced it by a file)."""
    fifo = tmp_path / "rör.csv"
    os.mkfifo(fifo)
    assert_fails(invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out", fifo), "V307", 2)
    assert fifo.is_fifo()


def test_empty_out(tmp_path):
    message = assert_fails(invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out", ""),
                           "V307", 2)
    assert "tomt" in message


def test_side_file_that_is_a_directory(tmp_path):
    (tmp_path / "utfall.potter.csv").mkdir()
    assert_fails(invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out",
                        tmp_path / "utfall.csv"), "V307", 2)
    assert not (tmp_path / "utfall.csv").exists()


def _failing(err: int):
    def fail(*args, **kwargs):
        raise OSError(err, os.strerror(err))
    return fail


@pytest.mark.parametrize("err,said", [(errno.EACCES, "behörighet saknas"),
                                      (errno.EROFS, "skrivskyddat")])
def test_out_in_a_read_only_directory(tmp_path, monkeypatch, err, said):
    """Root may write anywhere, so the read-only directory is simulated where the temp file is
    made: V309, exit 1, nothing written."""
    monkeypatch.setattr(tempfile, "mkstemp", _failing(err))
    out = tmp_path / "utfall.csv"
    result = invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out", out)
    message = assert_fails(result, "V309", 1)
    assert said in message and str(out) in message
    assert not out.exists() and "Körning" not in result.output   # nothing logged either
    assert not (tmp_path / "villkor-körningar.duckdb").exists()


def test_out_on_a_full_disk(tmp_path, monkeypatch):
    """ENOSPC while the result is written: V309 "disken är full", exit 1, no half file and no
    temp file left, the earlier result untouched, no ledger entry."""
    out = tmp_path / "utfall.csv"
    out.write_text("förra körningen\n", encoding="utf-8")
    monkeypatch.setattr(os, "fsync", _failing(errno.ENOSPC))
    message = assert_fails(invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out", out),
                           "V309", 1)
    assert "disken är full" in message
    assert out.read_text(encoding="utf-8") == "förra körningen\n"
    assert leftovers(tmp_path) == []
    assert not (tmp_path / "villkor-körningar.duckdb").exists()


def test_out_on_a_full_disk_for_fmt_and_report(tmp_path, monkeypatch):
    agreement = tmp_path / "a.villkor"
    agreement.write_text(AGREEMENT_2020.read_text(encoding="utf-8") + "\n\n\n", encoding="utf-8")
    monkeypatch.setattr(os, "fsync", _failing(errno.ENOSPC))
    assert_fails(invoke("fmt", agreement), "V309", 1)
    assert_fails(invoke("report", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out",
                        tmp_path / "r.html"), "V309", 1)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["mottagare.csv", "./mottagare.csv"])
def test_out_that_is_an_input_is_refused(tmp_path, name):
    """--out naming a data file the agreement reads: V310 before anything runs, the input
    untouched (before: overwritten, and its new hash recorded as the input's)."""
    data = bench_data(tmp_path)
    before = (data / "mottagare.csv").read_bytes()
    out = f"{data}/{name}"
    message = assert_fails(invoke("run", BENCH, "--data", data, "--out", out), "V310", 2)
    assert "indatafilen" in message
    assert (data / "mottagare.csv").read_bytes() == before
    assert not (data / "villkor-körningar.duckdb").exists()


def test_out_whose_side_file_is_an_input_is_refused(tmp_path):
    """The pots side file `UT.potter.csv` would replace a data file named so."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(bench_data(tmp_path / "gen") / "mottagare.csv", data / "ut.potter.csv")
    agreement = tmp_path / "a.villkor"
    agreement.write_text(BENCH.read_text(encoding="utf-8").replace("mottagare.csv",
                                                                   "ut.potter.csv"),
                         encoding="utf-8")
    before = (data / "ut.potter.csv").read_bytes()
    message = assert_fails(invoke("run", agreement, "--data", data, "--out", data / "ut.csv"),
                           "V310", 2)
    assert "ut.potter.csv" in message
    assert (data / "ut.potter.csv").read_bytes() == before


def test_out_that_is_the_agreement_is_refused(tmp_path):
    """An agreement saved as `.csv` given as its own --out (through a symlink, even)."""
    agreement = tmp_path / "a.csv"
    agreement.write_text(BENCH.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "länk.csv").symlink_to(agreement)
    data = bench_data(tmp_path)
    message = assert_fails(invoke("run", agreement, "--data", data, "--out",
                                  tmp_path / "länk.csv"), "V310", 2)
    assert "överenskommelsen" in message
    assert agreement.read_text(encoding="utf-8") == BENCH.read_text(encoding="utf-8")


# ---- --minne and the column engine ---------------------------------------------------------

@pytest.mark.parametrize("memory", ["0KB", "1KB", "99999999TB", "15MB"])
def test_memory_out_of_range(tmp_path, memory):
    data = bench_data(tmp_path)
    out = tmp_path / "ut.csv"
    message = assert_fails(invoke("run", BENCH, "--data", data, "--out", out, "--minne", memory),
                           "V311", 2)
    assert "minst 16MB" in message
    assert not out.exists()


def test_memory_exhausted_in_the_column_engine(tmp_path, monkeypatch):
    """DuckDB running out of its --minne: V312 and a hint, not DuckDB's English advice."""
    import duckdb

    import villkor_engine.batch.duck as duck

    def out_of_memory(*args, **kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")

    monkeypatch.setattr(duck, "run_plan", out_of_memory)
    data = bench_data(tmp_path)
    message = assert_fails(invoke("run", BENCH, "--data", data, "--out", tmp_path / "ut.csv",
                                  "--minne", "16MB"), "V312", 1)
    assert "--minne 16MB" in message and "Out of Memory" not in message


def test_too_little_memory_on_two_threads_is_run_again_on_one(tmp_path, monkeypatch):
    """50 000 recipients in --minne 16MB: DuckDB's order-keeping writer does not fit on two
    threads, so the run is made again on one (as DuckDB advises) and gives the same bytes as
    with room to spare, not V312."""
    import villkor_engine.batch.duck as duck

    tries: list[int | None] = []
    once = duck._run_plan

    def counted(*args, threads=None):
        tries.append(threads)
        return once(*args, threads=threads)

    monkeypatch.setattr(duck, "_run_plan", counted)
    monkeypatch.setattr(duck.os, "cpu_count", lambda: 2)
    data = bench_data(tmp_path, 50_000)
    tight = api.run(BENCH, data, tmp_path / "trång.csv", engine="kolumn", memory="16MB")
    assert tight.ok and tight.engine_used == "kolumn", tight.diagnostics
    assert tries == [None, 1]
    roomy = api.run(BENCH, data, tmp_path / "rymlig.csv", engine="kolumn")
    assert roomy.ok and tries == [None, 1, None]
    assert (tmp_path / "trång.csv").read_bytes() == (tmp_path / "rymlig.csv").read_bytes()


def _parquet_agreement(tmp_path: Path) -> Path:
    agreement = tmp_path / "pq.villkor"
    agreement.write_text(BENCH.read_text(encoding="utf-8").replace("mottagare.csv",
                                                                   "mottagare.parquet"),
                         encoding="utf-8")
    return agreement


@pytest.mark.parametrize("damage", ["skräp", "mitten"])
def test_damaged_parquet_on_the_default_engine(tmp_path, damage):
    """`--motor auto` registers Parquet in DuckDB, whose error was a traceback: now V212."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "data"
    data.mkdir()
    path = data / "mottagare.parquet"
    if damage == "skräp":
        path.write_bytes(b"inte parquet\n" * 10)
    else:
        pq.write_table(pa.table({"id": ["a", "b"], "befolkning": [1, 2], "a": ["ja", "ja"],
                                 "b": ["ja", "nej"]}), path)
        raw = path.read_bytes()
        path.write_bytes(raw[:4] + bytes(len(raw) // 2 - 4) + raw[len(raw) // 2:])
    out = tmp_path / "ut.csv"
    message = assert_fails(invoke("run", _parquet_agreement(tmp_path), "--data", data, "--out",
                                  out), "V212", 1)
    assert "Parquet" in message and "mottagare.parquet" in message
    assert not out.exists()


# ---- CSV fields ----------------------------------------------------------------------------

def _with_description(tmp_path: Path, text: str, row: int = 3) -> Path:
    data = copy_data(tmp_path)
    rows = read_rows(data / "redovisning.csv")
    rows[row - 1][rows[0].index("1.1b")] = text
    write_rows(data / "redovisning.csv", rows)
    return data


def test_csv_field_over_the_csv_modules_limit_is_read(tmp_path):
    """A 200 000-character description (over Python's default 131 072): read like any other."""
    data = _with_description(tmp_path, "lång beskrivning " * 12_000)
    result = invoke("run", AGREEMENT_2020, "--data", data, "--out", tmp_path / "u.csv",
                    "--motor", "referens")
    assert_no_crash(result)
    assert result.exit_code == 0, result.output


def test_csv_field_over_a_mebibyte_is_a_diagnostic(tmp_path):
    data = _with_description(tmp_path, "x" * ((1 << 20) + 1), row=4)
    result = invoke("run", AGREEMENT_2020, "--data", data, "--out", tmp_path / "u.csv",
                    "--motor", "referens")
    message = assert_fails(result, "V216", 1)
    assert f"{data / 'redovisning.csv'}:4:" in result.output
    assert "rad 4" in message


def test_stray_quote_in_a_large_csv_names_its_line(tmp_path):
    """One opening quote that never closes swallows the rest of a large file: V216 at the line
    where it stands, with a hint about the quote (before: `_csv.Error` traceback)."""
    data = copy_data(tmp_path)
    lines = (data / "redovisning.csv").read_text(encoding="utf-8").splitlines()
    cut = lines[-1].rfind(",") + 1                 # the last field of the last row: `"2021-…`
    lines[-1] = lines[-1][:cut] + '"' + lines[-1][cut:]
    filler = [f"99{i:05d},Region Fyllnad,ja,{'ord ' * 100}" for i in range(4000)]
    (data / "redovisning.csv").write_text("\n".join(lines + filler) + "\n", encoding="utf-8")
    result = invoke("run", AGREEMENT_2020, "--data", data, "--out", tmp_path / "u.csv",
                    "--motor", "referens")
    assert_fails(result, "V216", 1)
    assert re.search(re.escape(str(data / "redovisning.csv")) + f":{len(lines)}:{cut + 1}: "
                     r"fel\[V216\]", result.output), result.output
    assert "citattecken" in result.output


# ---- long source lines -----------------------------------------------------------------------

def test_render_quotes_only_part_of_a_huge_line():
    line = "a" * 500_000 + "FEL" + "b" * 500_000
    span = Span("f.villkor", 1, 500_001, 1, 500_004)
    out = render(Diagnostic("V100", "okänt ord", span), line + "\n")
    assert len(out) < 1_000
    quoted, caret = out.splitlines()[2:4]
    at = caret.index("^")
    assert quoted[at - 2:at + 3] == "aaFEL"   # the caret under FEL
    assert caret.count("^") == 3 and "…" in quoted


def test_render_clamps_a_caret_running_past_the_quote():
    span = Span("f.villkor", 1, 1, 1, 1_000_001)
    out = render(Diagnostic("V100", "fel", span), "x" * 1_000_000)
    assert len(out) < 1_000 and out.count("^") <= 201


def test_render_keeps_short_lines_whole():
    out = render(Diagnostic("V100", "fel", Span("f", 2, 4, 2, 6)), "rad ett\nab\x1bcd ef\n")
    assert "2 | ab\\x1bcd ef" in out                 # the escape shown, not sent
    assert out.splitlines()[-1] == "  | " + " " * len("ab\\x1b") + "^^"   # under `cd`


def test_check_of_a_huge_one_line_agreement_does_not_echo_it(tmp_path):
    bad = tmp_path / "en-rad.villkor"
    bad.write_text("överenskommelse " + "x" * 2_000_000, encoding="utf-8")
    result = invoke("check", bad)
    assert_no_crash(result)
    assert result.exit_code == 1
    assert len(result.output) < 20_000


# ---- the catch-all ---------------------------------------------------------------------------

def test_an_internal_error_is_v319_without_traceback(monkeypatch):
    import villkor_engine.api as api

    def boom(*args, **kwargs):
        raise RuntimeError("oväntat")

    monkeypatch.setattr(api, "check_file", boom)
    result = invoke("check", AGREEMENT_2020)
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1
    assert "fel[V319]: internt fel i villkor (RuntimeError: oväntat)" in result.output
    assert "Traceback" not in result.output


# ---- property: random arguments and file contents for every command -----------------------

COMMANDS = ["check", "fmt", "run", "explain", "report", "history", "sql"]
FLAGS = ["--data", "--out", "--param", "--per", "--motor", "--ledger", "--minne", "--format",
         "--mottagare", "--villkor", "--dialekt", "--check", "--bogus"]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
WORDS = st.sampled_from(["ja", "nej", "1", "-1", "0KB", "2020-13-01", "kolumn", "referens",
                         "auto", "json", "html", "x=1", "[bold]", "[/x]", "\x1b[31m", "", " ",
                         "..", "/", "a.csv", "a.xlsx", "a.parquet", "a.duckdb", "a.txt", "09",
                         "summa", "duckdb", "spark", "99999999TB", "1GB"])
CONTENTS = st.one_of(
    st.binary(max_size=300),
    TEXT,
    st.sampled_from([
        AGREEMENT_2020.read_text(encoding="utf-8"),
        BENCH.read_text(encoding="utf-8"),
        "lanskod,region,befolkning\n01,\"Region,5\n",
        "lanskod,region,befolkning\n01,[/x],\x1b[31m\n",
        "id,befolkning,a,b\nm1,12,ja,ja\nm2,\"x,ja\n",
        "överenskommelse \"" + "x" * 5000,
    ]),
)


# a plausible start, so random flags also reach evaluation and writing, not only usage errors
SKELETONS = {
    "run": [["@avtal", "--data", "@data2020", "--out", "@ut.csv"],
            ["@bench", "--data", "@mapp", "--out", "@ut.csv"],
            ["@fil0", "--data", "@mapp", "--out", "@ut.csv"]],
    "explain": [["@avtal", "--data", "@data2020", "--mottagare", "09"],
                ["@fil0", "--data", "@mapp", "--mottagare", "m1"]],
    "report": [["@avtal", "--data", "@data2020", "--out", "@ut.html"],
               ["@fil0", "--data", "@mapp", "--out", "@ut.html"]],
    "history": [["--ledger", "@logg.duckdb"], ["--ledger", "@fil0"]],
    "check": [["@fil0"], ["@avtal", "@fil1"]],
    "fmt": [["@fil0"], ["--check", "@bench"]],
    "sql": [["@bench"], ["@fil0"]],
}


@st.composite
def scenario(draw):
    files = draw(st.lists(CONTENTS, min_size=1, max_size=4))
    command = draw(st.sampled_from(COMMANDS))
    start = draw(st.sampled_from([[], *SKELETONS[command]]))
    tokens = start + draw(st.lists(st.one_of(
        st.sampled_from(FLAGS), WORDS, TEXT,
        st.sampled_from(["@fil0", "@fil1", "@mapp", "@ut.csv", "@ut.html", "@logg.duckdb",
                         "@bench", "@avtal", "@data2020", "@fil0/under.csv"])), max_size=8))
    return files, command, tokens


@settings(max_examples=int(os.environ.get("VILLKOR_EXEMPEL", "60")), deadline=None,
          derandomize=not os.environ.get("VILLKOR_EXEMPEL"),
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(scenario())
def test_no_command_gives_a_traceback(tmp_path_factory, case):
    files, command, tokens = case
    work = tmp_path_factory.mktemp("egenskap")
    names = []
    for i, content in enumerate(files):
        path = work / f"fil{i}{['.villkor', '.csv', '.duckdb', '.parquet'][i % 4]}"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        names.append(path)
    mapp = work / "mapp"
    mapp.mkdir()
    for i, content in enumerate(files):
        target = mapp / ["befolkning.csv", "redovisning.csv", "mottagare.csv", "x.parquet"][i]
        target.write_bytes(content if isinstance(content, bytes) else
                           content.encode("utf-8", "surrogatepass"))
    # copies: `fmt` may rewrite what it is given, `run` may write beside it
    shutil.copy(BENCH, work / "pott.villkor")
    shutil.copy(AGREEMENT_2020, work / "avtal.villkor")
    shutil.copytree(EXAMPLE_2020, work / "data2020")
    places = {"@fil0": names[0], "@fil1": names[-1], "@mapp": mapp, "@ut.csv": work / "ut.csv",
              "@ut.html": work / "ut.html", "@logg.duckdb": work / "logg.duckdb",
              "@bench": work / "pott.villkor", "@avtal": work / "avtal.villkor",
              "@data2020": work / "data2020", "@fil0/under.csv": names[0] / "under.csv"}
    args = [command] + [str(places.get(t, t)) for t in tokens]
    if command in ("run", "explain", "report", "check", "fmt", "sql") and \
            not any(t in places for t in tokens):
        args.insert(1, str(names[0]))
    here = os.getcwd()
    os.chdir(work)                        # a relative --out lands here, not in the checkout
    try:
        result = CliRunner().invoke(main, args)
    finally:
        os.chdir(here)
    assert_no_crash(result)
    assert "V319" not in result.output, (args, result.output)
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
