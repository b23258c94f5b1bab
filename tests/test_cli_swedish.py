"""The command speaks one language: every help screen and every usage error is Swedish.

Walks the group and every command it has (taken from the group, so a new command is walked
too), and a set of usage errors: each is Swedish, says `Användning:` and `fel[V300]`, and exits
with code 2. The earlier English option names keep working as aliases of the Swedish ones.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from conftest import AGREEMENT_2020, EXAMPLE_2020
from test_cli import assert_no_crash, assert_swedish, invoke, read_rows
from villkor_engine.cli import main

COMMANDS = sorted(main.commands)

# click's English scaffolding: none of it may reach a user
CLICK_ENGLISH = re.compile(r"\bUsage\b|\bOptions\b|\bCommands\b|\bArguments\b|"
                           r"Positional arguments|Show this message|Show the version|"
                           r"\brequired\b|\bdefault\b|\bPATH\b|\bFILENAME\b|\bINTEGER\b|"
                           r"is not one of|\bError\b|\bTry\b|\bMissing\b|\bNo such\b|"
                           r"\bGot unexpected\b|requires an argument|does not take a value|"
                           r"\bOPTIONS\b|\bCOMMAND\b|\bARGS\b|\bAGREEMENT\b|\bFILES\b")


def assert_no_click_english(text: str) -> None:
    found = CLICK_ENGLISH.search(text)
    assert found is None, f"click's English `{found.group(0)}` in:\n{text}"


def usage_error(*args: object, code: str = "V300") -> str:
    """Run `villkor ARGS…`, expecting a Swedish usage error; returns the `fel[…]` message."""
    result = invoke(*args)
    assert_no_crash(result)
    assert result.exit_code == 2, (args, result.exit_code, result.output)
    assert "Användning: villkor" in result.output, result.output
    assert_no_click_english(result.output)
    m = re.search(rf"fel\[{code}\]: (.*)", result.output)
    assert m, (code, result.output)
    assert_swedish(m.group(1))
    for hint in re.findall(r"= tips: (.*)", result.output):
        assert_swedish(hint)
    return result.output


def test_the_group_has_the_commands_the_walk_expects():
    """Guards the walk below against walking nothing; diff is wired even before its tests."""
    assert {"check", "fmt", "run", "explain", "report", "sql", "history", "diff",
            "lsp"} <= set(COMMANDS)


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_group_help_is_swedish_and_lists_every_command(flag):
    result = invoke(flag)
    assert result.exit_code == 0, result.output
    assert_no_click_english(result.output)
    assert result.output.startswith("Användning: villkor [FLAGGOR] KOMMANDO [ARGUMENT]...")
    for heading in ("Flaggor:", "Kommandon:"):
        assert f"\n{heading}\n" in result.output
    assert "Visa den här hjälpen och avsluta." in result.output
    assert "Visa versionen och avsluta." in result.output
    listed = re.findall(r"^  (\w+)  ", result.output.split("Kommandon:")[1], re.MULTILINE)
    assert listed == COMMANDS


def test_villkor_alone_shows_the_help():
    result = invoke()
    assert result.exit_code == 0, result.output
    assert "Kommandon:" in result.output and "fel[" not in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_is_swedish(command):
    result = invoke(command, "--help")
    assert_no_crash(result)
    assert result.exit_code == 0, result.output
    assert_no_click_english(result.output)
    assert result.output.startswith(f"Användning: villkor {command} [FLAGGOR]")
    assert "\nFlaggor:\n" in result.output
    assert re.search(r"^  -h, --help +Visa den här hjälpen och avsluta\.$", result.output,
                     re.MULTILINE), result.output
    arguments = [p for p in main.commands[command].params if p.param_type_name == "argument"]
    if arguments:
        section = result.output.split("\nArgument:\n")[1].split("\nFlaggor:\n")[0]
        for argument in arguments:       # each argument has a line with its Swedish name
            assert re.search(rf"^  \[?{argument.metavar}\]?(\.\.\.)?  +\S", section,
                             re.MULTILINE), section


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "lsp"])
def test_every_command_refuses_an_unknown_flag_in_swedish(command):
    output = usage_error(command, "--bogus-flagga")
    assert "okänd flagga `--bogus-flagga`" in output
    assert f"Användning: villkor {command} [FLAGGOR]" in output
    assert f"`villkor {command} --help`" in output


def test_required_and_default_are_said_in_swedish():
    help_text = invoke("run", "--help").output
    assert "krävs]" in help_text
    assert "[standard: 1GB]" in help_text
    assert "[standard: auto]" in help_text
    assert "SÖKVÄG" not in help_text and "MAPP" in help_text and "DATUM" in help_text
    assert "NAMN=VÄRDE" in help_text


def test_run_help_says_the_format_follows_the_extension():
    text = " ".join(invoke("run", "--help").output.split())
    assert ".csv" in text and ".xlsx" in text and ".parquet" in text
    assert "Sidofilerna bredvid får samma ändelse" in text
    assert "(CSV)" not in text


# ---- usage errors ----------------------------------------------------------------------------

def test_missing_argument():
    output = usage_error("run")
    assert "argumentet `ÖVERENSKOMMELSE` saknas" in output


def test_missing_required_option():
    output = usage_error("run", AGREEMENT_2020, "--data", EXAMPLE_2020)
    assert "flaggan `--ut` saknas" in output


def test_unknown_option_close_to_a_known_one():
    output = usage_error("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--uut", "x.csv")
    assert "okänd flagga `--uut`" in output
    assert "menade du `--ut`?" in output


def test_unknown_option_close_to_an_english_alias_suggests_it():
    output = usage_error("history", "--ledgr", "x.duckdb")
    assert "menade du `--ledger`?" in output


def test_bad_choice():
    output = usage_error("run", AGREEMENT_2020, "--motor", "oracle")
    assert "ogiltigt värde för `--motor`: `oracle` är inte ett av: auto, referens, kolumn" \
        in output


def test_bad_choice_close_to_a_valid_one():
    output = usage_error("explain", AGREEMENT_2020, "--data", EXAMPLE_2020, "--mottagare", "09",
                         "--format", "htm")
    assert "`htm` är inte ett av: text, html" in output and "menade du `html`?" in output


def test_bad_date():
    output = usage_error("sql", AGREEMENT_2020, "--per", "2020-02-30")
    assert "ogiltigt värde för `--per`: `2020-02-30` är inget datum (skriv ÅÅÅÅ-MM-DD)" in output


def test_unknown_command_suggests_the_closest_and_lists_every_command():
    output = usage_error("rnu")
    assert "okänt kommando `rnu`" in output
    assert "menade du `run`?" in output
    listed = re.search(r"kommandona är (.*)", output).group(1)
    assert re.split(r", | och ", listed) == COMMANDS


def test_flags_without_a_command():
    assert "kommando saknas" in usage_error("--")


def test_option_without_its_value():
    output = usage_error("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--ut")
    assert "flaggan `--ut` behöver ett värde" in output


def test_flag_given_a_value():
    output = usage_error("fmt", "--kontroll=ja", AGREEMENT_2020)
    assert "flaggan `--kontroll` tar inget värde" in output


def test_extra_argument():
    output = usage_error("sql", AGREEMENT_2020, "överbliven")
    assert "oväntat argument `överbliven`" in output


def test_bad_run_number():
    output = usage_error("history", "tre")
    assert "`tre` är inget körningsnummer" in output


@pytest.mark.parametrize("flag", ["--out", "--ut"])
def test_report_with_a_bad_extension_names_the_flag_as_typed(tmp_path, flag):
    output = usage_error("report", AGREEMENT_2020, "--data", EXAMPLE_2020, flag,
                         tmp_path / "x.pdf")
    assert f"{flag} `{tmp_path / 'x.pdf'}` har filändelsen `.pdf`" in output
    assert "värdet" not in output
    assert not (tmp_path / "x.pdf").exists()


def test_run_with_a_bad_extension(tmp_path):
    output = usage_error("run", AGREEMENT_2020, "--data", EXAMPLE_2020, "--out",
                         tmp_path / "x.txt")
    assert "--out: utdatafilen `x.txt` har filändelsen `.txt`" in output


def test_diff_with_one_file_needs_a_date():
    output = usage_error("diff", AGREEMENT_2020, "--data", EXAMPLE_2020)
    assert "ange --per (före) och --per-ny (efter)" in output


def test_diff_with_a_bad_extension(tmp_path):
    output = usage_error("diff", AGREEMENT_2020, "--data", EXAMPLE_2020, "--per", "2020-03-01",
                         "--ut", tmp_path / "j.csv")
    assert "jämförelsen skrivs som .html eller .xlsx" in output


def test_version_still_works():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.startswith("villkor ")


# ---- one convention, the earlier names kept -----------------------------------------------

ALIASES = {"run": {"--ut": "--out", "--parameter": "--param", "--logg": "--ledger"},
           "report": {"--ut": "--out", "--parameter": "--param"},
           "explain": {"--ut": "--out", "--parameter": "--param"},
           "diff": {"--ut": "--out", "--parameter": "--param"},
           "history": {"--logg": "--ledger"},
           "fmt": {"--kontroll": "--check"}}


@pytest.mark.parametrize("command", sorted(ALIASES))
def test_each_swedish_option_names_its_english_alias(command):
    text = " ".join(invoke(command, "--help").output.split())
    for primary, alias in ALIASES[command].items():
        assert f"{primary} " in text
        assert f"även {alias}" in text
        option = next(p for p in main.commands[command].params if primary in p.opts)
        assert option.opts[0] == primary and alias in option.opts


@pytest.mark.parametrize("spelling", [("--ut", "--parameter", "--logg"),
                                      ("--out", "--param", "--ledger")])
def test_both_spellings_run_the_same(tmp_path, spelling):
    out_flag, param_flag, ledger_flag = spelling
    out = tmp_path / "utfall.csv"
    ledger = tmp_path / "logg.duckdb"
    result = invoke("run", AGREEMENT_2020, "--data", EXAMPLE_2020, out_flag, out, param_flag,
                    "ersättning_per_kontakt=1500", ledger_flag, ledger)
    assert result.exit_code == 0, result.output
    assert read_rows(out)[0][0] == "mottagare"
    assert "Körning 1 loggad" in result.output and ledger.exists()


@pytest.mark.parametrize("flag", ["--kontroll", "--check"])
def test_fmt_check_under_both_names(flag):
    result = invoke("fmt", flag, AGREEMENT_2020)
    assert result.exit_code in (0, 1), result.output
    assert "formaterad" in result.output


def test_help_is_swedish_in_a_real_process(tmp_path):
    """The installed `villkor` script, not only the in-process runner."""
    import subprocess
    import sys
    from pathlib import Path

    binary = Path(sys.executable).parent / "villkor"
    if not binary.exists():
        pytest.skip("villkor script not installed")
    proc = subprocess.run([str(binary), "run", "--motor", "x"], capture_output=True,
                          text=True, check=False, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Användning: villkor run [FLAGGOR] ÖVERENSKOMMELSE")
    assert_no_click_english(proc.stderr)
    help_proc = subprocess.run([str(binary), "--help"], capture_output=True, text=True,
                               check=False, timeout=60, cwd=tmp_path)
    assert help_proc.returncode == 0 and "Kommandon:" in help_proc.stdout
    assert_no_click_english(help_proc.stdout)


def test_runner_sees_the_same_as_the_script():
    """CliRunner's program name is the group's: `villkor`, not the function's name."""
    result = CliRunner().invoke(main, ["run"])
    assert "Användning: villkor run" in result.output
