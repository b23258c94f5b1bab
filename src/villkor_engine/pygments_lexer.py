"""A Pygments lexer for agreement files, so the handbook and reports can highlight them.

Registered as the `pygments.lexers` entry point `villkor`: `pygmentize -l villkor fil.villkor`.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

BLOCKS = ("överenskommelse", "mottagargrupp", "tabell", "villkor", "delvillkor", "utbetalning",
          "fakturering", "avstämning", "tillägg", "slut")
KEYWORDS = ("diarienummer", "part", "period", "undertecknad", "dokument", "daterad", "källa",
            "från", "namn", "fil", "valfri", "poster", "per", "via", "nyckel", "obligatorisk",
            "positiv", "parameter", "värde", "gäller", "krav", "redovisas", "senast", "enligt",
            "vid", "försening", "beslut", "komplettering", "besvaras", "inom", "belopp", "till",
            "varje", "mottagare", "pott", "delas", "mellan", "som", "uppfyller", "villkoret", "i",
            "förhållande", "tak", "totalt", "avrundning", "hela", "öre", "halvt", "uppåt",
            "största", "rest", "betalas", "utan", "summa", "frist", "vecka", "efter", "kontroll",
            "tolerans", "kräver", "produkt", "pris", "styck", "högst", "fakturerat", "intjänat",
            "beviljat", "antal", "andel", "där", "bland", "dagar", "decimaltecken", "komma",
            "punkt")
TYPES = ("heltal", "decimaltal", "datum", "ja/nej", "text", "kod")
CONSTANTS = ("ej uppfyllt", "underlag saknas", "bedömning krävs", "uppfyllt", "ja", "nej",
             "angiven")
B = r"(?![\w])"


class VillkorLexer(RegexLexer):
    name = "villkor"
    aliases = ["villkor"]
    filenames = ["*.villkor"]
    mimetypes = ["text/x-villkor"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r'"[^"\n]*"', String.Double),
            (r"\d{4}-\d{2}-\d{2}", Number.Other),
            (r"\d{1,3}(?: \d{3}(?!\d))+(?:,\d+)?|\d+(?:,\d+)*", Number),
            (r"(miljoner kronor|miljoner kr|mnkr|kronor|kr|procent|%)" + B, Keyword.Type),
            (words(CONSTANTS, suffix=B), Keyword.Constant),
            (words(TYPES, suffix=B), Keyword.Type),
            (words(BLOCKS, suffix=B), Keyword.Declaration),
            (words(("och", "eller", "inte", "är"), suffix=B), Operator.Word),
            (words(KEYWORDS, suffix=B), Keyword),
            (r"<=|>=|!=|[≠≤≥<>=+\-*/]", Operator),
            (r"[(),:.]", Punctuation),
            (r"\w+", Name),
            (r".", Text),
        ],
    }
