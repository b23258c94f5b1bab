"""Editor support: the Pygments lexer (entry point) and the VS Code package files."""

from __future__ import annotations

import json

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Keyword, Number

from conftest import ROOT

AGREEMENTS = sorted((ROOT / "agreements").glob("*.villkor"))


@pytest.mark.parametrize("path", AGREEMENTS, ids=lambda p: p.name)
def test_lexer_reads_every_agreement_without_errors(path):
    lexer = get_lexer_by_name("villkor")
    tokens = list(lexer.get_tokens(path.read_text(encoding="utf-8")))
    assert not [v for t, v in tokens if t in Error]
    assert any(t in Keyword.Declaration and v == "villkor" for t, v in tokens)


def test_lexer_by_file_name_and_swedish_numbers():
    lexer = get_lexer_for_filename("avtal.villkor")
    tokens = [(t, v) for t, v in lexer.get_tokens("värde x = 100 000 000 kr\n") if v.strip()]
    assert (Number, "100 000 000") in tokens


def test_vscode_package_points_at_its_files():
    base = ROOT / "editors" / "vscode"
    package = json.loads((base / "package.json").read_text(encoding="utf-8"))
    grammar = package["contributes"]["grammars"][0]
    tm = json.loads((base / grammar["path"]).read_text(encoding="utf-8"))
    assert tm["scopeName"] == grammar["scopeName"] == "source.villkor"
    assert package["contributes"]["languages"][0]["extensions"] == [".villkor"]
    config = json.loads((base / "language-configuration.json").read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
    assert (base / package["main"]).is_file()
