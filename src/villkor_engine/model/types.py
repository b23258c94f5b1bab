"""Types with units, and the arithmetic rules between them.

`belopp` is kronor; `heltal`, `decimaltal` and `andel` are plain numbers (andel written `70 %`);
`dagar` is a count of calendar days (date − date); `utfall` is a four-valued verdict.
belopp × andel is belopp, belopp × belopp is an error, datum + belopp is an error.
"""

from __future__ import annotations

BELOPP, HELTAL, DECIMALTAL, ANDEL = "belopp", "heltal", "decimaltal", "andel"
DATUM, DAGAR, JANEJ, TEXT, KOD, UTFALL = "datum", "dagar", "ja/nej", "text", "kod", "utfall"

NUMERIC = {HELTAL, DECIMALTAL, ANDEL}
ALL = {BELOPP, HELTAL, DECIMALTAL, ANDEL, DATUM, DAGAR, JANEJ, TEXT, KOD, UTFALL}


def _number_result(a: str, b: str) -> str:
    if a == b:
        return a
    return DECIMALTAL


def binary(op: str, a: str, b: str) -> str | None:
    """Result type of `a op b`, or None when the units do not mix."""
    if op in "+-":
        if a == b == BELOPP or a == b == DAGAR:
            return a
        if a in NUMERIC and b in NUMERIC:
            return _number_result(a, b)
        if a == DATUM and b == DAGAR:
            return DATUM
        if op == "-" and a == b == DATUM:
            return DAGAR
        return None
    if op == "*":
        if a in NUMERIC and b in NUMERIC:
            return HELTAL if a == b == HELTAL else _number_result(a, b)
        for x, y in ((a, b), (b, a)):
            if x in (BELOPP, DAGAR) and y in NUMERIC:
                return x
        return None
    if op == "/":
        if a in NUMERIC and b in NUMERIC:
            return DECIMALTAL
        if a in (BELOPP, DAGAR) and b in NUMERIC:
            return a
        if a == b and a in (BELOPP, DAGAR):
            return DECIMALTAL
        return None
    return None


def comparable(op: str, a: str, b: str) -> bool:
    if a in NUMERIC and b in NUMERIC:
        return True
    if {a, b} <= {TEXT, KOD}:
        return op in ("=", "!=")
    if a == b and a in (JANEJ, UTFALL):
        return op in ("=", "!=")
    return a == b and a in (BELOPP, DATUM, DAGAR)


def assignable(declared: str, actual: str) -> bool:
    """Can a value of type `actual` stand where `declared` is expected?"""
    if declared == actual:
        return True
    if declared == DECIMALTAL and actual in NUMERIC:
        return True
    if declared == ANDEL and actual in (HELTAL, DECIMALTAL):
        return True
    return declared == TEXT and actual == KOD


def is_logical(t: str) -> bool:
    return t in (UTFALL, JANEJ)
