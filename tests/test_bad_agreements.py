"""Broken agreement files: always a Swedish diagnostic naming file and line, never a traceback.

Every case starts from the real agreements/sjukskrivning-2020.villkor, damages one spot in a
copy under tmp_path and runs `villkor check` on it. The expected line is found in the damaged
text itself, so the tests follow the file if it grows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import AGREEMENT_2020
from test_cli import assert_diagnostic, assert_no_crash, invoke

ORIGINAL = AGREEMENT_2020.read_text(encoding="utf-8")


def line_of(text: str, snippet: str) -> int:
    """1-based line of the only occurrence of `snippet`."""
    assert text.count(snippet) == 1, f"{snippet!r} occurs {text.count(snippet)} times"
    return text[:text.index(snippet)].count("\n") + 1


def damaged(tmp_path: Path, old: str, new: str, name: str = "avtal.villkor") -> tuple[Path, int]:
    """A copy of the real agreement with `old` replaced by `new`; returns the path and its line."""
    assert ORIGINAL.count(old) == 1, f"{old!r} is not unique in the agreement"
    text = ORIGINAL.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, line_of(text, new)


# Lines of the real file that are convenient to damage (none of them is line 100, which has a
# test of its own below).
V4 = "värde v4_regioner: belopp = 50 miljoner kronor"
V2 = "värde v2_regioner: belopp = 140 miljoner kronor"


def test_the_lines_used_here_are_not_line_100():
    """The location tests below must not all fall on line 100 (see the `:100:` test)."""
    assert line_of(ORIGINAL, V4) != 100 and line_of(ORIGINAL, V2) != 100


# ---- truncated, stray characters, encoding --------------------------------------------

@pytest.mark.parametrize("cut_after", [
    '  källa tillägg "1. Bakgrund, villkor 5"\n  belopp v5_skr till SKR\n',
    '      krav redovisning.2.1a är ja och redovisning.2.1b är angiven\n',
], ids=["in-payment", "in-delvillkor-inside-tillägg"])
def test_truncated_in_the_middle_of_a_block(tmp_path, cut_after):
    """A file that ends inside a block: V011 at the last line, hinting at the missing `slut`."""
    end = ORIGINAL.index(cut_after) + len(cut_after)
    text = ORIGINAL[:end]
    path = tmp_path / "avkortad.villkor"
    path.write_text(text, encoding="utf-8")
    result = invoke("check", path)
    last_line = text.rstrip().count("\n") + 1
    block = assert_diagnostic(result, "V011", path, last_line)
    assert "filen tar slut mitt i en deklaration" in block
    assert "`slut`" in block


@pytest.mark.parametrize("stray", ["@", "§"])
def test_stray_character(tmp_path, stray):
    """An unknown character: V010 at its exact line and column, the character quoted."""
    path, line = damaged(tmp_path, V4, V4 + " " + stray)
    block = assert_diagnostic(invoke("check", path), "V010", path, line, len(V4) + 2)
    assert f"oväntat tecken `{stray}`" in block
    assert f"{line} | {V4} {stray}" in block  # the source line is shown under the header


def test_curly_quotes_get_a_straight_quotes_hint(tmp_path):
    """“Typographic” quotes around a text: V010 at the opening quote, hint to use straight
    quotes."""
    old = '  diarienummer "S2019/05301/SF"'
    path, line = damaged(tmp_path, old, "  diarienummer “S2019/05301/SF”")
    block = assert_diagnostic(invoke("check", path), "V010", path, line, 16)
    assert "oväntat tecken `“`" in block
    assert "= tips: använd raka citattecken" in block


def test_bad_utf8_bytes(tmp_path):
    """Bytes 0xFF 0xFE in the middle of a line: V003 at that line and column, hint to save as UTF-8.

    The column counts characters, like every other diagnostic (`värde ` is 6 characters, 7 bytes).
    """
    raw = ORIGINAL.encode("utf-8")
    at = raw.index(V2.encode("utf-8")) + len("värde ".encode())
    path = tmp_path / "latin.villkor"
    path.write_bytes(raw[:at] + b"\xff\xfe" + raw[at:])
    block = assert_diagnostic(invoke("check", path), "V003", path, line_of(ORIGINAL, V2),
                              len("värde ") + 1)
    assert "inte giltig UTF-8" in block and "0xff" in block
    assert "UTF-8" in block.split("= tips:")[1]


# ---- expressions -------------------------------------------------------------------

def test_unbalanced_brackets(tmp_path):
    """`(a + (b` never closed: V012 where the parser gives up, hinting at the missing `)`."""
    path, line = damaged(tmp_path, V4, "värde v4_regioner: belopp = (v1_regioner + (v2_regioner")
    result = invoke("check", path)
    # The mistake is on `line`; the parser notices it at the next token, on the line after.
    block = assert_diagnostic(result, "V012", path)
    reported = int(block.split(":", 2)[1]) if block.startswith(str(path)) else -1
    assert reported in (line, line + 1), block
    assert "`)`" in block


def test_thousand_nested_parentheses(tmp_path):
    """1000 nested parentheses: V005 at the 101st `(`, not a RecursionError."""
    path, line = damaged(tmp_path, V4, "värde v4_regioner: belopp = " + "(" * 1000 + "1"
                         + ")" * 1000)
    result = invoke("check", path)
    column = len("värde v4_regioner: belopp = ") + 101
    block = assert_diagnostic(result, "V005", path, line, column)
    assert "RecursionError" not in result.output
    assert "nästlade" in block


@pytest.mark.parametrize("expr", [
    " + ".join(["v1_regioner"] * 20_000),
    "inte " * 1000 + "ja",
    "- " * 1000 + "1 kr",
], ids=["20000-term-sum", "1000-inte", "1000-minus"])
def test_very_long_chain_gives_a_clean_error(tmp_path, expr):
    """A 20 000-term `a + a + …` (or 1000 `inte`/`-`): V005 and exit 1, no RecursionError."""
    path, _ = damaged(tmp_path, V4, f"värde v4_regioner: belopp = {expr}")
    result = invoke("check", path)
    assert "RecursionError" not in result.output
    assert_diagnostic(result, "V005", path)


@pytest.mark.parametrize("expr", [
    " + ".join(["v1_regioner"] * 20_000),
    "inte " * 1000 + "ja",
    "- " * 1000 + "1 kr",
], ids=["20000-term-sum", "1000-inte", "1000-minus"])
def test_very_long_chain_is_reported_on_its_own_line(tmp_path, expr):
    """The V005 for a too deep expression points at the expression's line, not the file's top."""
    path, line = damaged(tmp_path, V4, f"värde v4_regioner: belopp = {expr}")
    assert_diagnostic(invoke("check", path), "V005", path, line)


def test_word_where_a_number_belongs(tmp_path):
    """`värde x: belopp = tio kr`: a syntax error on that line, not a crash or a silent name."""
    path, line = damaged(tmp_path, V4, "värde v4_regioner: belopp = tio kr")
    block = assert_diagnostic(invoke("check", path), "V012", path, line)
    assert "`kr`" in block


# ---- files that cannot be read or are empty ------------------------------------------

def test_missing_file(tmp_path):
    """A path that does not exist: V001 naming the file, hint to check the path, exit 1."""
    path = tmp_path / "finns-inte.villkor"
    result = invoke("check", path)
    assert_no_crash(result)
    assert result.exit_code == 1
    assert f"fel[V001]: filen `{path}` finns inte" in result.output
    assert "= tips: kontrollera sökvägen" in result.output


def test_directory_instead_of_file(tmp_path):
    """A folder given as agreement: V001 in Swedish (no untranslated OS message)."""
    result = invoke("check", tmp_path)
    assert_no_crash(result)
    assert result.exit_code == 1
    line = next((ln for ln in result.output.splitlines() if "fel[V001]" in ln), None)
    assert line is not None, result.output
    assert str(tmp_path) in line
    assert "Is a directory" not in line, line


@pytest.mark.parametrize("content", ["", "\n\n   \n", "# bara en kommentar\n"],
                         ids=["empty", "blank-lines", "only-comment"])
def test_empty_file(tmp_path, content):
    """An empty agreement: V100 at line 1 (the agreement header is missing), exit 1."""
    path = tmp_path / "tom.villkor"
    path.write_text(content, encoding="utf-8")
    block = assert_diagnostic(invoke("check", path), "V100", path, 1)
    assert "överenskommelse" in block


def test_huge_file(tmp_path):
    """A file over 1 MB is refused with V002 before parsing, quickly and without a traceback."""
    path = tmp_path / "stor.villkor"
    path.write_text(ORIGINAL + ("# " + "x" * 98 + "\n") * 11_000, encoding="utf-8")
    assert path.stat().st_size > 1_000_000
    block = assert_diagnostic(invoke("check", path), "V002", path, 1)
    assert "för stor" in block


# ---- names, types, sources -------------------------------------------------------------

def test_misspelt_name_gets_did_you_mean(tmp_path):
    """A misspelt value name: V101 at its line and column, hint `menade du `v2_regioner`?`."""
    old = "  pott v2_regioner delas mellan"
    path, line = damaged(tmp_path, old, "  pott v2_regionr delas mellan")
    block = assert_diagnostic(invoke("check", path), "V101", path, line, 8)
    assert "okänt namn `v2_regionr`" in block
    assert "= tips: menade du `v2_regioner`?" in block


def test_type_error_belopp_plus_datum(tmp_path):
    """belopp + datum: V110 at that line, naming both types."""
    path, line = damaged(tmp_path, V4, V4 + " + 2020-01-01")
    block = assert_diagnostic(invoke("check", path), "V110", path, line)
    assert "belopp" in block and "datum" in block


def test_payment_without_source(tmp_path):
    """An `utbetalning` without `källa`: V140 at the payment's line, hint how to cite."""
    old = '  villkor 5\n  källa tillägg "1. Bakgrund, villkor 5"\n  belopp v5_skr till SKR'
    path, _ = damaged(tmp_path, old, "  villkor 5\n  belopp v5_skr till SKR")
    line = line_of(ORIGINAL, 'utbetalning v5_skr "Villkor 5 till SKR"')
    block = assert_diagnostic(invoke("check", path), "V140", path, line, 1)
    assert "utbetalningen `v5_skr` saknar `källa`" in block
    assert "källa" in block.split("= tips:")[1]


def test_two_syntax_errors_in_different_items_reported_in_one_run(tmp_path):
    """After a syntax error the parser recovers: a second broken item is reported too."""
    text = ORIGINAL.replace(V4, V4 + " @").replace(
        "vecka 3 2021\n  källa fk", "vecka tre 2021\n  källa fk")
    path = tmp_path / "tva-fel.villkor"
    path.write_text(text, encoding="utf-8")
    result = invoke("check", path)
    assert_diagnostic(result, "V010", path, line_of(text, V4 + " @"))
    assert_diagnostic(result, "V012", path, line_of(text, "vecka tre 2021"))
    assert f"{path}: FEL (2 fel" in result.output


# ---- the location must print literally -------------------------------------------------

def test_location_on_line_100_is_printed_literally(tmp_path):
    """`fil:100:…` must not be turned into an emoji by the terminal library (rich's `:100:`)."""
    lines = ORIGINAL.splitlines(keepends=True)
    # line 100 (whatever stands there) gets a stray `@` after its last non-comment character
    target = lines[99].rstrip("\n")
    code = target.split("#", 1)[0].rstrip() if target.lstrip().startswith("#") is False else ""
    lines[99] = (code + " @" if code else "@") + "\n"
    path = tmp_path / "avtal.villkor"
    path.write_text("".join(lines), encoding="utf-8")
    result = invoke("check", path)
    assert "\N{HUNDRED POINTS SYMBOL}" not in result.output, result.output
    assert_diagnostic(result, "V010", path, 100, len(code) + 2 if code else 1)


def test_three_mistakes_give_three_diagnostics_in_one_run(tmp_path):
    """A misspelt name, a type error and a missing bracket: all three, each with caret and hint."""
    from click.testing import CliRunner

    from villkor_engine.cli import main

    f = tmp_path / "tre.villkor"
    f.write_text('överenskommelse "Tre fel"\nslut\ndokument d "Dokument"\n'
                 "värde pott: belopp = 100 kr\n  källa d\n"
                 'kontroll "stavfel" pot = 100 kr\n  källa d\n'
                 'kontroll "typfel" pott + 2020-01-01 = pott\n  källa d\n'
                 "värde z = (pott + pott\n  källa d\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(f)])
    assert result.exit_code == 1
    out = result.output
    assert [c for c in ("V101", "V110", "V012") if f"fel[{c}]" in out] == ["V101", "V110", "V012"]
    assert out.count("^") >= 3 and out.count("= tips:") >= 3
    assert "menade du `pott`?" in out and "belopp och datum" in out
    assert "öppnades på rad 10, kolumn 11" in out


def test_a_typo_inside_a_tillagg_is_one_error_and_the_rest_is_still_checked():
    """`delvilkor` inside the amendment used to lose the whole `tillägg`: six false "används
    inte" warnings before the one real error. Now: the error, nothing that rests on the broken
    part, and a real mistake elsewhere in the same amendment is still found."""
    from villkor_engine.pipeline import load_agreement_text

    text = AGREEMENT_2020.read_text(encoding="utf-8")
    typo = text.replace('    delvillkor 2.1 "Planering', '    delvilkor 2.1 "Planering', 1)
    assert typo != text
    found = load_agreement_text(typo, "x.villkor").diagnostics
    assert [(d.code, d.severity) for d in found] == [("V012", "fel")]
    assert "delvilkor" in found[0].message
    both = typo.replace("redovisning.4.2a är ja", "redovisning.4.9a är ja", 1)
    codes = [d.code for d in load_agreement_text(both, "x.villkor").diagnostics]
    assert codes == ["V012", "V102"]


@pytest.mark.parametrize("line, hint", [
    ("värde a: belopp = 120.5 miljoner kronor", "decimaltecknet är komma: skriv `120,5`"),
    ("värde a: belopp = 120 Mkr", "skriv `mnkr` eller `miljoner kronor`"),
    ("värde a: belopp = 120 000 000", "`120 000 000 kr`"),
    ("värde a: belopp = 12 %", "en procentsats är inget belopp"),
])
def test_numbers_written_another_way_get_a_hint_that_says_how(line, hint):
    """Not a list of keywords: the decimal comma, the unit word, the missing `kr`."""
    from villkor_engine.pipeline import load_agreement_text

    text = 'överenskommelse "T" slut\ndokument d "D"\n' + line + "\n  källa d\n"
    found = load_agreement_text(text, "x.villkor").diagnostics
    assert len(found) == 1 and hint in (found[0].hint or ""), [(d.header(), d.hint) for d in found]
