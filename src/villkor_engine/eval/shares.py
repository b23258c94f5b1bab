"""Money from rules: pots shared by a key, per-recipient amounts, caps, and declared rounding.

Pure functions over `Fraction`s. Order: exact amounts → cap per recipient → total cap with
proportional scaling → rounding as declared. Without a declared rounding an amount stays exact,
and only an amount that is not a whole number of öre is rounded to öre (half up) — the
language's documented rule — with a note in the trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..syntax import ast
from .values import Missing, V, exact_text, largest_remainder, round_half_up, swedish_money


@dataclass
class Share:
    exact: Fraction
    rounded: Fraction
    notes: list[str] = field(default_factory=list)


@dataclass
class Allocation:
    shares: dict[str, Share | Missing]
    notes: list[str] = field(default_factory=list)


def allocate(rule, pot: Any, values: dict[str, Any], cap_each: Any, cap_total: Any,
             rounding: ast.Rounding | None) -> Allocation:
    """`values` holds, per eligible recipient, the key (for a pot) or the amount (otherwise)."""
    notes: list[str] = []
    for limit in (cap_each, cap_total):
        if isinstance(limit, Missing):
            return Allocation({c: limit for c in values}, [limit.reason])
    exact: dict[str, Fraction] = {}
    shares: dict[str, Share | Missing] = {}
    explain: dict[str, list[str]] = {c: [] for c in values}
    if isinstance(rule, ast.Pot):
        if isinstance(pot, Missing):
            return Allocation({c: pot for c in values}, [pot.reason])
        keys = {}
        for code, key in values.items():
            if isinstance(key, Missing):
                shares[code] = key
            elif key < 0:
                shares[code] = Missing(f"negativ fördelningsnyckel {key}", V.BEDOMNING_KRAVS)
            else:
                keys[code] = Fraction(key)
        total_key = sum(keys.values(), Fraction(0))
        notes.append(f"pott {swedish_money(pot)} delas på {len(keys)} mottagare; "
                     f"summa av nyckeln {exact_text(total_key)}")
        for code, key in keys.items():
            exact[code] = pot * key / total_key if total_key else Fraction(0)
            explain[code].append(f"andel = {swedish_money(pot)} × {exact_text(key)} / "
                                 f"{exact_text(total_key)} = {exact_text(exact[code])} kr")
    else:
        for code, amount in values.items():
            if isinstance(amount, Missing):
                shares[code] = amount
            else:
                exact[code] = Fraction(amount)
                explain[code].append(f"belopp = {exact_text(exact[code])} kr")
    if isinstance(cap_each, Fraction):
        for code, x in exact.items():
            if x > cap_each:
                exact[code] = cap_each
                explain[code].append(f"tak per mottagare {swedish_money(cap_each)}: "
                                     f"{exact_text(x)} kr sänks till taket")
    if isinstance(cap_total, Fraction):
        total = sum(exact.values(), Fraction(0))
        if total > cap_total:
            factor = cap_total / total
            notes.append(f"summan {swedish_money(total)} överstiger taket "
                         f"{swedish_money(cap_total)}: alla belopp skalas med "
                         f"{exact_text(factor)}")
            for code in exact:
                before = exact[code]
                exact[code] = before * factor
                explain[code].append(f"skalat ned till taket: {exact_text(before)} × "
                                     f"{exact_text(factor)} = {exact_text(exact[code])} kr")
    rounded = _round(exact, rounding, explain)
    for code, x in exact.items():
        shares[code] = Share(x, rounded[code], explain[code])
    return Allocation(shares, notes)


def _round(exact: dict[str, Fraction], rounding: ast.Rounding | None,
           explain: dict[str, list[str]]) -> dict[str, Fraction]:
    codes = list(exact)
    if rounding is None:
        out = {}
        for c in codes:
            x = exact[c]
            out[c] = x if (x * 100).denominator == 1 else round_half_up(x, "öre")
            if out[c] != x:
                explain[c].append(f"avrundat till öre (språkets regel, ingen avrundning angiven): "
                                  f"{swedish_money(out[c])}")
        return out
    unit_text = "hela kronor" if rounding.unit == "krona" else "öre"
    if rounding.mode == "största rest":
        total = sum(exact.values(), Fraction(0))
        values = largest_remainder(total, [exact[c] for c in codes], rounding.unit)
        out = dict(zip(codes, values))
        for c in codes:
            explain[c].append(f"avrundat till {unit_text} med största rest (potten går jämnt ut):"
                              f" {swedish_money(out[c])}")
        return out
    out = {c: round_half_up(exact[c], rounding.unit) for c in codes}
    for c in codes:
        explain[c].append(f"avrundat till {unit_text}, halvt uppåt, per andel: "
                          f"{swedish_money(out[c])}")
    return out
