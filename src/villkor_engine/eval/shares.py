"""Money from rules: pots shared by a key, per-recipient amounts, caps, and declared rounding.

Pure functions over `Fraction`s. Order: exact amounts → cap per recipient → total cap with
proportional scaling → rounding as declared. Without a declared rounding an amount stays exact,
and only an amount that is not a whole number of öre is rounded to öre (half up) — the
language's documented rule — with a note in the trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import floor
from typing import Any

from ..syntax import ast
from .trace import Deferred
from .values import (
    UNIT,
    Missing,
    V,
    exact_sum,
    exact_text,
    largest_remainder,
    round_half_up,
    swedish_money,
)

ZERO_KEY = ("summan av fördelningsnyckeln är 0 för dem som uppfyller villkoret; andelarna kan "
            "inte beräknas (division med noll)")


@dataclass
class Share:
    exact: Fraction
    rounded: Fraction
    notes: list[str | Deferred] = field(default_factory=list)   # for the recipient's trace
    remarks: list[str] = field(default_factory=list)   # for the row's `anmärkning`: caps


@dataclass
class Allocation:
    shares: dict[str, Share | Missing]
    notes: list[str] = field(default_factory=list)


def allocate(rule, pot: Any, values: dict[str, Any], cap_each: Any, cap_total: Any,
             rounding: ast.Rounding | None) -> Allocation:
    """`values` holds, per eligible recipient, the key (for a pot) or the amount (otherwise).

    The pot-level notes are text (they are output); each recipient's notes are `Deferred`,
    written only if that recipient's reasons are read.
    """
    notes: list[str] = []
    for limit in (cap_each, cap_total):
        if isinstance(limit, Missing):
            return Allocation({c: limit for c in values}, [limit.reason])
    exact: dict[str, Fraction] = {}
    shares: dict[str, Share | Missing] = {}
    explain: dict[str, list[str | Deferred]] = {c: [] for c in values}
    if isinstance(rule, ast.Pot):
        if isinstance(pot, Missing):
            return Allocation({c: pot for c in values}, [pot.reason])
        keys = {}
        for code, key in values.items():
            if isinstance(key, Missing):
                shares[code] = key
            elif (key.numerator if key.__class__ is Fraction else key) < 0:   # no Fraction <
                shares[code] = Missing(f"negativ fördelningsnyckel {key}", V.BEDOMNING_KRAVS)
            else:
                keys[code] = key if key.__class__ is Fraction else Fraction(key)
        total_key = exact_sum(keys.values())
        notes.append(f"pott {swedish_money(pot)} delas på {len(keys)} mottagare; "
                     f"summa av nyckeln {exact_text(total_key)}")
        if keys and not total_key:
            # every fulfilling recipient has key 0: a share would divide by zero
            why = Missing(ZERO_KEY, V.BEDOMNING_KRAVS)
            notes.append(why.reason)
            return Allocation({**shares, **{c: why for c in keys}}, notes)
        share_of = _share_of(pot, total_key)
        for code, key in keys.items():
            exact[code] = x = share_of(key)
            explain[code].append(Deferred(_share_note, pot, key, total_key, x))
    else:
        for code, amount in values.items():
            if isinstance(amount, Missing):
                shares[code] = amount
            else:
                exact[code] = x = Fraction(amount)
                explain[code].append(Deferred(_amount_note, x))
    remarks: dict[str, list[str]] = {c: [] for c in exact}
    if isinstance(cap_each, Fraction):
        for code, x in exact.items():
            if x > cap_each:
                exact[code] = cap_each
                explain[code].append(Deferred(_cap_note, cap_each, x))
                remarks[code].append(f"sänkt till taket per mottagare {swedish_money(cap_each)} "
                                     f"(utan tak {exact_text(x)} kr)")
    if isinstance(cap_total, Fraction):
        total = exact_sum(exact.values())
        if total > cap_total:
            factor = cap_total / total
            notes.append(f"summan {swedish_money(total)} överstiger taket "
                         f"{swedish_money(cap_total)}: alla belopp skalas med "
                         f"{exact_text(factor)}")
            for code, before in exact.items():
                exact[code] = before * factor
                explain[code].append(Deferred(_scaled_note, before, factor, exact[code]))
                remarks[code].append(f"skalat ned till taket totalt {swedish_money(cap_total)} "
                                     f"(utan tak {exact_text(before)} kr)")
    rounded = _round(exact, rounding, explain)
    _keep_under_caps(exact, rounded, cap_each, cap_total, rounding, explain, remarks, notes)
    for code, x in exact.items():
        shares[code] = Share(x, rounded[code], explain[code], remarks[code])
    return Allocation(shares, notes)


def _keep_under_caps(exact: dict[str, Fraction], rounded: dict[str, Fraction], cap_each: Any,
                     cap_total: Any, rounding: ast.Rounding | None,
                     explain: dict[str, list[str | Deferred]], remarks: dict[str, list[str]],
                     notes: list[str]) -> None:
    """A cap holds after rounding too (the language's rule). Rounding half up may lift an amount
    capped at a figure that is not a whole unit above it (then it is rounded down), and it may
    lift the sum of amounts scaled to a total cap above that cap: then the shares are rounded by
    largest remainder to the cap's whole units instead, so the cap is never exceeded and the
    rounding difference is shown in the pots file, not hidden."""
    unit = rounding.unit if rounding is not None else "öre"
    step = UNIT[unit]
    if isinstance(cap_each, Fraction):
        for code, x in rounded.items():
            if x > cap_each:
                rounded[code] = Fraction(floor(cap_each / step)) * step
                text = "avrundat nedåt så att taket per mottagare håller: "
                explain[code].append(Deferred(_rounded_note, text, rounded[code]))
    if isinstance(cap_total, Fraction) and exact_sum(rounded.values()) > cap_total:
        codes = list(exact)
        target = Fraction(floor(cap_total / step)) * step
        fitted = largest_remainder(target, [exact[c] for c in codes], unit)
        notes.append("avrundningen per andel skulle ge "
                     f"{swedish_money(exact_sum(rounded.values()))}"
                     f", mer än taket {swedish_money(cap_total)}: andelarna avrundas i stället "
                     f"med största rest till {swedish_money(target)} (taket håller efter "
                     "avrundning)")
        for code, x in zip(codes, fitted):
            if x != rounded[code]:
                remarks[code].append("avrundat med största rest så att taket totalt håller")
            rounded[code] = x
            explain[code].append(Deferred(
                _rounded_note, "största rest, så att taket totalt håller efter avrundning: ", x))


def _share_of(pot: Fraction, total_key: Fraction):
    """key ↦ pot × key / total_key, exactly. With whole-number keys (the usual: inhabitants,
    staff) one Fraction is built from integers instead of two Fraction operations per share."""
    if not total_key:
        return lambda key: Fraction(0)
    top, bottom = pot.numerator * total_key.denominator, pot.denominator * total_key.numerator

    def share(key: Fraction) -> Fraction:
        if key.denominator == 1:
            return Fraction(top * key.numerator, bottom)
        return pot * key / total_key
    return share


def _share_note(pot: Fraction, key: Fraction, total_key: Fraction, x: Fraction) -> str:
    return (f"andel = {swedish_money(pot)} × {exact_text(key)} / {exact_text(total_key)} = "
            f"{exact_text(x)} kr")


def _amount_note(x: Fraction) -> str:
    return f"belopp = {exact_text(x)} kr"


def _cap_note(cap_each: Fraction, x: Fraction) -> str:
    return f"tak per mottagare {swedish_money(cap_each)}: {exact_text(x)} kr sänks till taket"


def _scaled_note(before: Fraction, factor: Fraction, after: Fraction) -> str:
    return (f"skalat ned till taket: {exact_text(before)} × {exact_text(factor)} = "
            f"{exact_text(after)} kr")


def _rounded_note(text: str, amount: Fraction) -> str:
    return f"{text}{swedish_money(amount)}"


def _round(exact: dict[str, Fraction], rounding: ast.Rounding | None,
           explain: dict[str, list[str | Deferred]]) -> dict[str, Fraction]:
    codes = list(exact)
    if rounding is None:
        out = {}
        for c in codes:
            x = exact[c]
            out[c] = x if 100 % x.denominator == 0 else round_half_up(x, "öre")
            if out[c] != x:
                explain[c].append(Deferred(
                    _rounded_note, "avrundat till öre (språkets regel, ingen avrundning angiven): ",
                    out[c]))
        return out
    unit_text = "hela kronor" if rounding.unit == "krona" else "öre"
    if rounding.mode == "största rest":
        total = exact_sum(exact.values())
        values = largest_remainder(total, [exact[c] for c in codes], rounding.unit)
        out = dict(zip(codes, values))
        text = f"avrundat till {unit_text} med största rest (potten går jämnt ut): "
        for c in codes:
            explain[c].append(Deferred(_rounded_note, text, out[c]))
        return out
    out = {c: round_half_up(exact[c], rounding.unit) for c in codes}
    text = f"avrundat till {unit_text}, halvt uppåt, per andel: "
    for c in codes:
        explain[c].append(Deferred(_rounded_note, text, out[c]))
    return out
