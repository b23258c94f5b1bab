"""Text → syntax tree: literals as Swedes write them, identifiers, positions, and limits."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from villkor_engine.syntax import ast
from villkor_engine.syntax.parse import parse_text


def value_expr(src: str) -> ast.Expr:
    module, diags = parse_text(f"värde x = {src}\n  källa d")
    assert module is not None, [d.header() for d in diags]
    return module.items[0].expr


@pytest.mark.parametrize("text, value, unit", [
    ("100 000 000 kr", Fraction(100_000_000), "kr"),
    ("1,2 miljoner kronor", Fraction(1_200_000), "kr"),
    ("62,5 mnkr", Fraction(62_500_000), "kr"),
    ("35 000 kronor", Fraction(35_000), "kr"),
    ("70 %", Fraction(7, 10), "%"),
    ("69,9 procent", Fraction(699, 1000), "%"),
    ("0,2", Fraction(1, 5), None),
    ("15000", Fraction(15000), None),
    ("14 dagar", Fraction(14), "dagar"),
])
def test_number_literals_as_swedes_write_them(text, value, unit):
    assert value_expr(text) == ast.Num(value, unit)


def test_space_grouping_does_not_swallow_a_year():
    """`vecka 3 2021` is week 3 of 2021, not the number 32 021."""
    module, diags = parse_text('frist f "F" vecka 3 2021\n')
    assert module is not None, diags
    assert module.items[0].when == ast.InWeek(3, 2021)


def test_template_column_names_and_precedence():
    e = value_expr("redovisning.1.1a är ja och redovisning.1.1b är angiven eller inte villkor 2.2")
    assert e == ast.Logic(
        "eller",
        ast.Logic("och", ast.Is(ast.ColumnRef("redovisning", "1.1a"), "ja"),
                  ast.Is(ast.ColumnRef("redovisning", "1.1b"), "angiven")),
        ast.Not(ast.VillkorRef("2.2")))


def test_arithmetic_precedence_and_verdict_literals():
    assert value_expr("a + b * 2") == ast.Binary(
        "+", ast.Name("a"), ast.Binary("*", ast.Name("b"), ast.Num(Fraction(2), None)))
    assert value_expr("ej uppfyllt") == ast.VerdictLit("ej uppfyllt")
    assert value_expr("2020-12-11") == ast.DateLit(date(2020, 12, 11))


def test_keywords_are_reserved_only_where_they_can_stand():
    """A column may be called `beslut` or `villkor`: the lexer is contextual."""
    module, diags = parse_text(
        'tabell g fil "g.csv" per r och villkor nyckel lanskod, villkor\n'
        '  lanskod: kod\n  villkor: kod\n  beslut: kod(godkänd, underkänd, komplettering)\nslut\n')
    assert module is not None, [d.header() for d in diags]
    assert [c.name for c in module.items[0].columns] == ["lanskod", "villkor", "beslut"]


def test_unicode_identifiers_are_nfc_normalised():
    decomposed = "värde ersa\u0308ttning = 1 kr\n  källa d\n"   # a + combining diaeresis
    module, _ = parse_text(decomposed)
    assert module.items[0].name == "ersättning"


def test_spans_point_at_the_source():
    module, _ = parse_text("\n\nvärde x = 1 kr + y\n  källa d\n", "f.villkor")
    expr = module.items[0].expr
    assert (expr.right.span.file, expr.right.span.line, expr.right.span.column) == \
        ("f.villkor", 3, 18)


@pytest.mark.parametrize("src, code", [
    ("värde x = (1 + (2\n", "V011"),
    ("värde x = 1 @ 2\n", "V010"),
    ("värde x: belopp = tio kr\n", "V012"),
    ("villkor 1 \"A\"\n  gäller r\n", "V011"),
    ("frist f \"F\" 2020-13-45\n", "V013"),
])
def test_syntax_errors_have_codes_and_positions(src, code):
    module, diags = parse_text(src, "f.villkor")
    assert module is None
    assert diags[0].code == code
    assert diags[0].span.file == "f.villkor" and diags[0].span.line >= 1


def test_several_syntax_errors_in_one_run():
    src = "värde a = 1 @ 2\n  källa d\nvärde b = 3\n  källa d\nvärde c = (4\n  källa d\n"
    module, diags = parse_text(src)
    assert module is None
    assert [d.span.line for d in diags] == [1, 6]  # the open `(` shows at the next line


def test_expected_tokens_are_words_not_terminal_names():
    _, diags = parse_text("villkor 1 \"A\" gäller\n")
    assert "ett namn" in diags[0].hint and "NAME" not in diags[0].hint


def test_deep_nesting_is_a_clean_error():
    _, diags = parse_text("värde x = " + "(" * 500 + "1" + ")" * 500 + "\n  källa d\n")
    assert diags[0].code == "V005"
    _, diags = parse_text("värde x = " + " + ".join(["1"] * 20000) + "\n  källa d\n")
    assert diags[0].code == "V005"


def test_grammar_has_no_conflicts_in_strict_mode():
    """strict=True makes shift/reduce and terminal collisions fail loudly (needs interegular)."""
    from lark import Lark

    from villkor_engine.syntax.grammar import grammar_text
    Lark(grammar_text(), parser="lalr", lexer="contextual", strict=True)
