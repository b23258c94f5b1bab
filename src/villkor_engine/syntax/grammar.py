"""Loading the grammar: from the installed package, or from `dsl/` in a source checkout.

The wheel carries `dsl/villkor.lark` as package data (see pyproject.toml), so an installed
`villkor` finds it from any directory; an editable install reads the checkout's copy.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark

GRAMMAR_FILE = "villkor.lark"


def grammar_text() -> str:
    packaged = resources.files("villkor_engine").joinpath("grammar").joinpath(GRAMMAR_FILE)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[3] / "dsl" / GRAMMAR_FILE
    return checkout.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser, built once. No transformer here: parse first, then transform with meta.

    `cache=True` keeps the built tables in the temp directory, keyed by the grammar's hash, so
    a command starts in a fraction of the time it takes to build them.
    """
    return Lark(grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=False, cache=True)
