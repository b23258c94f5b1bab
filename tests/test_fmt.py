"""`villkor fmt`: canonical, idempotent, comment-preserving, never changes the meaning."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark import Lark, Token

from conftest import ROOT
from villkor_engine import fmt
from villkor_engine.cli import main
from villkor_engine.fmt import canonical_number, format_text
from villkor_engine.pipeline import evaluate, load_agreement_text, parse_params
from villkor_engine.syntax.grammar import grammar_text
from villkor_engine.syntax.parse import parse_text
from villkor_engine.write.output import pots_csv, results_csv

AGREEMENTS = sorted((ROOT / "agreements").glob("*.villkor"))
FILES = AGREEMENTS + sorted((ROOT / "bench").glob("*.villkor"))
EXAMPLES = {
    "sjukskrivning-2020": ["sjukskrivning-2020", "sjukskrivning-2020-granskning"],
    "vgr-narhalsan-2018": ["vgr-narhalsan-2018"],
    "vgr-lextorp-2019": ["vgr-lextorp-2019"],
    "fk-vgr-2010": ["fk-vgr-2010"],
}
PARAMS = {"sjukskrivning-2020": ["ersättning_per_kontakt=1500", "v4_skr=20000000",
                                 "v4_fk=22500000", "v4_socialstyrelsen=20000000"]}
_COMMENT = re.compile(r'"[^"\n]*"|#[^\n]*')


def comments(text: str) -> Counter:
    """Every comment (own-line and trailing), skipping `#` inside texts."""
    return Counter(m.group(0).rstrip() for m in _COMMENT.finditer(text)
                   if m.group(0).startswith("#"))


def fmt_ok(text: str, name: str = "t.villkor") -> str:
    formatted, diags = format_text(text, name)
    assert formatted is not None, [d.header() for d in diags]
    return formatted


# ---- the canonical layout -------------------------------------------------------------------

CANONICAL = """\
# Ett litet avtal.

överenskommelse "Liten"
  diarienummer "D 1"
  part "A"
  part "B"
  period 2020-01-01 till 2020-12-31
slut

dokument d "Källan" daterad 2020-01-01

mottagargrupp g
  A "Region A"  # den enda
slut

tabell t fil "t.csv" valfri per g nyckel kod
  kod: kod obligatorisk
  1.1a: ja/nej
  klass: kod(x, y) valfri
  belopp: belopp
  inkom: datum valfri
slut

värde a: belopp = 2 000 kr
  källa d "s. 1"

värde b = -3 * a + (a - 1 234 567,5 kr) / 2

värde c: andel = 70 %
  antagande "källan är tyst"

villkor 1.2 "Ett villkor"
  gäller g
  källa d "s. 2"
  antagande "som källan menar"
  delvillkor 1.2.1 "Del"
    källa d "s. 4"
    krav t.1.1a är ja
  slut
  # kravet, på två rader
  krav t.1.1a är ja och t.belopp >= b och antal(t där t.belopp > 0 kr) = 1 och t.klass är angiven
    och t.belopp mellan 2020-01-01 och 2020-12-31
    eller t.1.1a är nej
  redovisas senast 2020-12-11 enligt t.inkom
  vid försening bedömning krävs
slut

utbetalning u "U"
  villkor 1.2
  källa d "s. 3"
  belopp a till A
  tak totalt 10 000 000 kr
  avrundning hela kronor, halvt uppåt
slut
"""

# Spacing, number grouping, attribute order and line breaks differ; words and comments do not.
SPELLING_2 = """\
# Ett litet avtal.


överenskommelse   "Liten"
  period 2020-01-01 till 2020-12-31
  part "A"
    diarienummer "D 1"
  part "B"
slut
dokument d "Källan"
   daterad 2020-01-01
mottagargrupp g
A "Region A" # den enda
slut



tabell t fil "t.csv" valfri per g nyckel kod
kod :kod obligatorisk
1.1a :ja/nej
klass : kod ( x,y ) valfri
belopp:belopp
inkom:datum valfri
slut
värde a:belopp=2000 kr
källa d "s. 1"
värde b= - 3*a+( a-1234567,5 kr )/2
värde c :andel= 70 %
antagande "källan är tyst"
villkor 1.2 "Ett villkor"
  vid försening bedömning krävs
  källa d "s. 2"
  # kravet, på två rader
  krav t.1.1a är ja och t.belopp≥b och antal (t där t.belopp>0 kr)=1 och t.klass är angiven
       och t.belopp mellan 2020-01-01 och 2020-12-31 eller t.1.1a är nej
  gäller g
  redovisas senast 2020-12-11 enligt t . inkom
  antagande "som källan menar"
  delvillkor 1.2.1 "Del" krav t.1.1a är ja källa d "s. 4" slut
slut
utbetalning u "U"
  avrundning hela kronor , halvt uppåt
  tak totalt 10000000 kr
  belopp a till A
  källa d "s. 3"
  villkor 1.2
slut
"""

SPELLING_3 = (
    "# Ett litet avtal.\n\n"
    'överenskommelse "Liten" part "A" part "B" diarienummer "D 1" period 2020-01-01 till\n'
    "2020-12-31 slut\n\n\n\n"
    'dokument d "Källan" daterad 2020-01-01 mottagargrupp g A "Region A"   # den enda\n'
    "slut\n"
    'tabell t fil "t.csv" valfri per g nyckel kod kod: kod obligatorisk 1.1a: ja/nej\n'
    "\tklass: kod(x,\ty) valfri belopp: belopp inkom: datum valfri slut\n"
    'värde a: belopp = 2\u00a0000 kr källa d "s. 1" värde b = -3 * a + (a - 1 234 567,5 kr)\n'
    '/ 2 värde c: andel = 70 % antagande "källan är tyst"\n'
    'villkor 1.2 "Ett villkor" redovisas senast 2020-12-11 enligt t.inkom gäller g\n'
    'delvillkor 1.2.1 "Del" källa d "s. 4" krav t.1.1a är ja slut källa d "s. 2"\n'
    'antagande "som källan menar" vid försening bedömning krävs\n'
    "  # kravet, på två rader\n"
    "  krav t.1.1a är ja\n"
    "  och t.belopp >= b\n"
    "  och antal(t där t.belopp > 0 kr) = 1\n"
    "  och t.klass är angiven\n"
    "  och t.belopp mellan 2020-01-01 och 2020-12-31\n"
    "  eller t.1.1a är nej\n"
    "slut\n"
    'utbetalning u "U" villkor 1.2 belopp a till A källa d "s. 3" tak totalt 10 000 000 kr\n'
    "avrundning hela kronor, halvt uppåt slut\n"
)


def test_three_spellings_give_one_text():
    spellings = [CANONICAL, SPELLING_2, SPELLING_3]
    assert len(set(spellings)) == 3
    assert [fmt_ok(s) for s in spellings] == [CANONICAL] * 3
    assert {parse_text(s)[0].items for s in spellings} == {parse_text(CANONICAL)[0].items}


@pytest.mark.parametrize("written, canonical", [
    ("2000", "2 000"), ("1234567", "1 234 567"), ("1 234 567", "1 234 567"),
    ("1\u00a0000,50", "1 000,50"), ("999", "999"), ("0,5", "0,5"), ("0012", "12"),
    ("12345,678", "12 345,678"),
])
def test_numbers_are_grouped_by_thousands(written, canonical):
    assert canonical_number(written) == canonical


@pytest.mark.parametrize("written, canonical", [
    ("värde a:belopp=2 000 kr", "värde a: belopp = 2 000 kr"),
    ("värde b= 3*a", "värde b = 3 * a"),
    ("värde  b : belopp  =  a*2+a", "värde b: belopp = a * 2 + a"),
    ("värde x=(a+b)", "värde x = (a + b)"),
    ("värde x = 5 mnkr + 1,5 miljoner kronor - 3 procent * 2 kronor",
     "värde x = 5 mnkr + 1,5 miljoner kronor - 3 procent * 2 kronor"),   # units as written
    ("värde x=a≥b", "värde x = a >= b"), ("värde x=a≠b", "värde x = a != b"),
    ("värde x=a ≤ b", "värde x = a <= b"),
    ("värde x = - ( a )", "värde x = -(a)"),
    ("värde x = om a är ja då 1 kr annars 2 kr", "värde x = om a är ja då 1 kr annars 2 kr"),
    ("värde x = a är cirka 12000 kr", "värde x = a är cirka 12 000 kr"),
    ("värde x = summa( t.b där t.c = \"x  y\" )", 'värde x = summa(t.b där t.c = "x  y")'),
    ("värde x = andel(t där t.a är ja bland t.d mellan 2020-01-01 och 2020-12-31)",
     "värde x = andel(t där t.a är ja bland t.d mellan 2020-01-01 och 2020-12-31)"),
    ("parameter p:kod( a,b )=\"a\"", 'parameter p: kod(a, b) = "a"'),
    ("frist f \"F\" vecka 3  2021", 'frist f "F" vecka 3 2021'),
    ("frist f \"F\" 14  dagar efter g", 'frist f "F" 14 dagar efter g'),
    ("mottagargrupp c från t via k namn n", "mottagargrupp c från t via k namn n"),
])
def test_spacing_between_tokens(written, canonical):
    assert fmt_ok(written) == canonical + "\n"


def test_long_expression_breaks_before_the_outermost_operator():
    names = " + ".join(f"belopp_nummer_{i}" for i in range(12))
    text = fmt_ok(f"kontroll \"K\" {names} = 1 kr källa d")
    lines = text.splitlines()
    assert lines[0] == 'kontroll "K"'
    assert all(len(line) <= fmt.WIDTH for line in lines)
    assert all(line.startswith("    + ") for line in lines[2:-1])
    assert lines[1].startswith("  belopp_nummer_0 + ") and lines[-1] == "  källa d"
    # `eller` is outermost: the line breaks there before it breaks at `och`
    long = " och ".join(f"t.fråga_{i} är ja" for i in range(3))
    text = fmt_ok(f'villkor 1 "V" krav {long} eller {long} slut')
    assert [line.split()[0] for line in text.splitlines()[1:-1]] == ["krav", "eller"]
    # inside parentheses only when nothing outside can break
    long = " och ".join(f"t.fråga_{i} är ja" for i in range(5))
    text = fmt_ok(f'villkor 1 "V" krav antal(t där {long} och {long}) = 0 slut')
    assert text.splitlines()[2].lstrip().startswith("och ")
    assert all(len(line) <= fmt.WIDTH for line in text.splitlines())


@pytest.mark.parametrize("text", [
    'värde a = 1 # efter\n  källa d "x" # efter källan\n',
    'villkor 1 "V"\n  krav a är ja # första\n    och b är ja\n  # före gäller\n  gäller g\n'
    'slut\n',
    'villkor 1 "V"\n  krav a är ja\n    # mitt i uttrycket\n    och b är ja\n  # sist i blocket\n'
    'slut # efter slut\n# sist i filen\n',
    '# först\n\n\n# ensam\n\nvärde a = 1\n\n\n# före b\nvärde b = 2\n\n\n# sist\n\n',
    'värde a = (1 + # inne i parentesen\n 2)\n',
    'tillägg t "T" gäller från 2020-01-01 # tillägget\n  källa d\n  värde a = 1\n  # b\n'
    '  värde b = 2\nslut\n',
])
def test_comments_stay_where_they_belong(text):
    once = fmt_ok(text)
    assert comments(once) == comments(text)
    assert fmt_ok(once) == once
    for line in once.splitlines():
        if "#" in line and not line.lstrip().startswith("#"):
            assert re.search(r"[^ ]  #", line)


def test_comments_move_with_their_attribute():
    text = fmt_ok('utbetalning u "U"\n  # om beloppet\n  belopp a till A  # trailing\n'
                  '  # om villkoret\n  villkor 1\nslut\n')
    assert text == ('utbetalning u "U"\n  # om villkoret\n  villkor 1\n  # om beloppet\n'
                    '  belopp a till A  # trailing\nslut\n')


def test_blank_lines():
    text = fmt_ok('värde a = 1\nvärde b = 2\n\n\n\nvärde c = 3\n')
    assert text == "värde a = 1\n\nvärde b = 2\n\nvärde c = 3\n"
    # inside a block: at most one, where the author had one; none first or before `slut`
    text = fmt_ok('tabell t fil "f" poster\n\n  a: kod\n\n\n  b: kod\n  c: kod\n\nslut\n')
    assert text == 'tabell t fil "f" poster\n  a: kod\n\n  b: kod\n  c: kod\nslut\n'


def test_unknown_rules_are_printed_token_by_token():
    """A grammar addition the printer does not know: printed, never a crash."""
    grammar = grammar_text().replace("_item: agreement", "_item: notering\n     | agreement", 1)
    grammar = grammar.replace("_villkor_attr: applies", "_villkor_attr: note | applies", 1)
    grammar += ('\nnotering: "notering" NAME STRING source* "slut"\nnote: "not" STRING expr?\n'
                'weird: "konstig" NAME\n')
    parser = Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True,
                  maybe_placeholders=False, keep_all_tokens=True)
    text = ('notering n   "N" källa d "x"\n  # en kommentar\n källa  d slut\n'
            'villkor 1 "V"\nkrav a\n not "n" 2000+1 gäller g slut\n')
    tree = parser.parse(text)
    printed = fmt._Printer(text, tree).module(tree)
    assert printed == ('notering n "N"\n  källa d "x"\n  # en kommentar\n  källa d\nslut\n\n'
                       'villkor 1 "V"\n  krav a\n  not "n" 2 000 + 1\n  gäller g\nslut\n')
    again = parser.parse(printed)
    assert fmt._Printer(printed, again).module(again) == printed


# ---- every bundled agreement ----------------------------------------------------------------

@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_idempotent_same_tree_and_keeps_every_comment(path: Path):
    text = path.read_text(encoding="utf-8")
    once = fmt_ok(text, path.name)
    assert fmt_ok(once, path.name) == once
    assert comments(once) == comments(text)
    assert parse_text(once, path.name)[0].items == parse_text(text, path.name)[0].items
    assert not any(line != line.rstrip() for line in once.splitlines())


@pytest.mark.parametrize("path", AGREEMENTS, ids=lambda p: p.name)
def test_layout_is_restored_from_a_mangled_file(path: Path):
    """Strip every indent, double spaces and blank lines: fmt gives the canonical file back."""
    canonical = fmt_ok(path.read_text(encoding="utf-8"), path.name)
    mangled = "\n".join(re.sub(r"(?<=[^ \"\d]) (?=[^ ])", "  ", line.strip())
                        if '"' not in line and "#" not in line else line.strip()
                        for line in canonical.splitlines()).replace("\n\n", "\n\n\n")
    assert mangled != canonical
    assert fmt_ok(mangled, path.name) == canonical


@pytest.mark.parametrize("path", AGREEMENTS, ids=lambda p: p.stem)
def test_results_are_unchanged_by_formatting(path: Path):
    text = path.read_text(encoding="utf-8")
    formatted = fmt_ok(text, path.name)
    for example in EXAMPLES[path.stem]:
        outputs = []
        for version in (text, formatted):
            loaded = load_agreement_text(version, path.name)
            assert loaded.ok, [d.header() for d in loaded.diagnostics]
            params, diags = parse_params(loaded.model, PARAMS.get(path.stem, []))
            assert not diags
            result, _, diags = evaluate(loaded.model, ROOT / "examples" / example, params)
            assert result is not None, [d.header() for d in diags]
            outputs.append((results_csv(result), pots_csv(result),   # lines move: no spans
                            [(d.code, d.severity, d.message) for d in diags]))
        assert outputs[0] == outputs[1]
        assert outputs[0][0].count("\n") > 1


# ---- generated spellings ----------------------------------------------------------------------

CANONICAL_FILES = {p.name: fmt_ok(p.read_text(encoding="utf-8"), p.name) for p in FILES}
_SAME_LINE = [" ", "  ", "\t", "\n", "\n      ", " \n\t", "\n  "]
_GLUED = ["", "", " ", "\n  "]
_CMP_SPELLINGS = {">=": [">=", "≥"], "<=": ["<=", "≤"], "!=": ["!=", "≠"], "=": ["="]}


def respell(text: str, data) -> str:
    """The same agreement with other whitespace between its tokens and other number and
    operator spellings; comments and blank lines stay (collapsed runs of them may grow)."""
    tokens = sorted(fmt.full_parser().parse(text).scan_values(lambda v: isinstance(v, Token)),
                    key=lambda t: t.start_pos)
    out, pos = [], 0
    for tok in tokens:
        gap = text[pos:tok.start_pos]
        if pos == 0 or "#" in gap:
            out.append(gap)
        elif "\n\n" in gap:
            out.append("\n" * data.draw(st.integers(2, 4)) + " " * data.draw(st.integers(0, 3)))
        else:
            out.append(data.draw(st.sampled_from(_GLUED if gap == "" else _SAME_LINE)))
        word = str(tok)
        if tok.type == "NUMBER":
            digits = word.replace(" ", "")
            word = data.draw(st.sampled_from([digits, word, word.replace(" ", "\u00a0")]))
        elif tok.type == "CMP_OP":
            word = data.draw(st.sampled_from(_CMP_SPELLINGS.get(word, [word])))
        out.append(word)
        pos = tok.end_pos
    out.append(text[pos:])
    return "".join(out)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(CANONICAL_FILES)), data=st.data())
def test_generated_spellings_of_the_bundled_agreements_give_one_text(name, data):
    canonical = CANONICAL_FILES[name]
    respelled = respell(canonical, data)
    assert fmt_ok(respelled, name) == canonical


VILLKOR_ATTRS = ["gäller g", 'källa d "s. 2"', 'delvillkor 1.1 "Del" krav t.a är ja slut',
                 "krav t.a är ja och t.b >= 2000 kr", "redovisas senast 2020-12-11 enligt t.inkom",
                 "vid försening bedömning krävs",
                 "beslut enligt t komplettering besvaras inom 14 dagar"]
PAYMENT_ATTRS = ["villkor 1", 'källa d "s. 3"', "krav t.a är ja", "belopp 1000 kr till A",
                 "tak per mottagare 2 000 kr", "tak totalt 3 000 kr",
                 "avrundning hela kronor, halvt uppåt", "betalas senast 2021-03-31"]


@settings(max_examples=40, deadline=None)
@given(villkor=st.permutations(VILLKOR_ATTRS), payment=st.permutations(PAYMENT_ATTRS),
       seps=st.lists(st.sampled_from([" ", "\n", "\n    ", "  \t"]), min_size=20, max_size=20))
def test_generated_attribute_orders_give_one_text(villkor, payment, seps):
    def block(header, attrs):
        return header + "".join(seps[i] + a for i, a in enumerate(attrs)) + seps[-1] + "slut"

    text = block('villkor 1 "V"', villkor) + "\n" + block('utbetalning u "U"', payment) + "\n"
    expected = block('villkor 1 "V"', VILLKOR_ATTRS) + "\n" + \
        block('utbetalning u "U"', PAYMENT_ATTRS) + "\n"
    assert fmt_ok(text) == fmt_ok(expected) == ATTRIBUTES_CANONICAL


ATTRIBUTES_CANONICAL = """\
villkor 1 "V"
  gäller g
  källa d "s. 2"
  delvillkor 1.1 "Del"
    krav t.a är ja
  slut
  krav t.a är ja och t.b >= 2 000 kr
  redovisas senast 2020-12-11 enligt t.inkom
  vid försening bedömning krävs
  beslut enligt t komplettering besvaras inom 14 dagar
slut

utbetalning u "U"
  villkor 1
  källa d "s. 3"
  krav t.a är ja
  belopp 1 000 kr till A
  tak per mottagare 2 000 kr
  tak totalt 3 000 kr
  avrundning hela kronor, halvt uppåt
  betalas senast 2021-03-31
slut
"""


# ---- errors and the command -------------------------------------------------------------------

def test_syntax_error_is_reported_not_formatted():
    formatted, diags = format_text("värde x = (1\n", "f.villkor")
    assert formatted is None and diags[0].code.startswith("V0")


def test_cli_fmt_check_and_rewrite(tmp_path):
    f = tmp_path / "a.villkor"
    f.write_text((ROOT / "agreements" / "fk-vgr-2010.villkor").read_text(encoding="utf-8")
                 .replace("\n  ", "\n"), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["fmt", "--check", str(f)]).exit_code == 1
    assert runner.invoke(main, ["fmt", str(f)]).exit_code == 0
    assert runner.invoke(main, ["fmt", "--check", str(f)]).exit_code == 0


def test_cli_fmt_three_spellings(tmp_path):
    files = []
    for i, text in enumerate([CANONICAL, SPELLING_2, SPELLING_3]):
        files.append(tmp_path / f"s{i}.villkor")
        files[-1].write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", "--check", *map(str, files)])
    assert result.exit_code == 1 and "s0.villkor: redan formaterad" in result.stdout
    assert CliRunner().invoke(main, ["fmt", *map(str, files)]).exit_code == 0
    assert {f.read_text(encoding="utf-8") for f in files} == {CANONICAL}


def test_check_json_output(tmp_path):
    bad = tmp_path / "b.villkor"
    bad.write_text('överenskommelse "X"\nslut\nvärde a = b\n  källa d\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "json", str(bad)])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    codes = {d["kod"] for d in report[0]["diagnoser"]}
    assert {"V101", "V104"} <= codes
    first = next(d for d in report[0]["diagnoser"] if d["kod"] == "V101")
    assert (first["rad"], first["kolumn"]) == (3, 11)


def test_the_bundled_agreements_are_kept_in_canonical_form():
    """What the project ships is what `villkor fmt` prints: no file needs formatting."""
    for path in sorted((ROOT / "agreements").glob("*.villkor")) + sorted(
            (ROOT / "bench").glob("*.villkor")):
        text = path.read_text(encoding="utf-8")
        assert format_text(text, str(path))[0] == text, f"{path.name} behöver formateras"
