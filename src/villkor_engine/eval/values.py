"""Runtime values: the four verdicts, a missing value with its reason, exact money and rounding.

Numbers are `fractions.Fraction` from parsing to output, so a share of a pot is exact until the
agreement's declared rounding turns it into whole kronor or öre. Rounding is defined here once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import floor


class Verdict(str, enum.Enum):
    UPPFYLLT = "uppfyllt"
    EJ_UPPFYLLT = "ej uppfyllt"
    UNDERLAG_SAKNAS = "underlag saknas"
    BEDOMNING_KRAVS = "bedömning krävs"

    def __str__(self) -> str:
        return self.value


V = Verdict
VERDICTS = [v.value for v in Verdict]


def v_and(*vs: Verdict) -> Verdict:
    """All must hold. A `nej` decides at once; otherwise what is missing is said before judgement."""
    if V.EJ_UPPFYLLT in vs:
        return V.EJ_UPPFYLLT
    if V.UNDERLAG_SAKNAS in vs:
        return V.UNDERLAG_SAKNAS
    if V.BEDOMNING_KRAVS in vs:
        return V.BEDOMNING_KRAVS
    return V.UPPFYLLT


def v_or(*vs: Verdict) -> Verdict:
    if V.UPPFYLLT in vs:
        return V.UPPFYLLT
    if V.UNDERLAG_SAKNAS in vs:
        return V.UNDERLAG_SAKNAS
    if V.BEDOMNING_KRAVS in vs:
        return V.BEDOMNING_KRAVS
    return V.EJ_UPPFYLLT


def v_not(v: Verdict) -> Verdict:
    return {V.UPPFYLLT: V.EJ_UPPFYLLT, V.EJ_UPPFYLLT: V.UPPFYLLT}.get(v, v)


@dataclass(frozen=True)
class Missing:
    """A value that is not there, and why: never silently 0 or `nej`."""

    reason: str
    verdict: Verdict = V.UNDERLAG_SAKNAS


UNIT = {"krona": Fraction(1), "öre": Fraction(1, 100)}


def round_half_up(x: Fraction, unit: str = "krona") -> Fraction:
    """Half away from zero (Decimal's ROUND_HALF_UP): 0,5 kr → 1 kr, −0,5 kr → −1 kr."""
    step = UNIT[unit]
    q = abs(x) / step
    n = floor(q + Fraction(1, 2))
    return (n if x >= 0 else -n) * step


def largest_remainder(total: Fraction, shares: list[Fraction], unit: str = "krona"
                      ) -> list[Fraction]:
    """Round shares down, then hand the units left over to the largest remainders (ties: first).

    The result sums to `total` exactly when `total` is a whole number of units.
    """
    step = UNIT[unit]
    floors = [Fraction(floor(s / step)) * step for s in shares]
    left = int(round((round_half_up(total, unit) - sum(floors, Fraction(0))) / step))
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in order[:max(0, left)]:
        floors[i] += step
    return floors


def to_decimal(x: Fraction, places: int | None = None) -> Decimal:
    """Exact decimal of a fraction that terminates; with `places`, a display rounding (half up)."""
    if places is not None:
        x = round_half_up(x * 10**places, "krona") / 10**places
    num, den = x.numerator, x.denominator
    d = Decimal(num) / Decimal(den) if den != 1 else Decimal(num)
    return d


def money_text(x: Fraction) -> str:
    """Kronor with `.` as decimal point, no thousands separator: 577898 or 577898.50."""
    if x.denominator == 1:
        return str(x.numerator)
    cents = x * 100
    if cents.denominator != 1:
        return format(to_decimal(x, 6).normalize(), "f")
    sign = "-" if cents < 0 else ""
    c = abs(cents.numerator)
    return f"{sign}{c // 100}.{c % 100:02d}"


def swedish_money(x: Fraction) -> str:
    """577 898 kr, 1 234,50 kr: for explanations people read."""
    sign = "−" if x < 0 else ""
    x = abs(x)
    whole = x.numerator // x.denominator
    grouped = f"{whole:,}".replace(",", " ")
    frac = x - whole
    if frac == 0:
        return f"{sign}{grouped} kr"
    cents = round_half_up(frac * 100, "krona")
    return f"{sign}{grouped},{int(cents):02d} kr" + ("" if (frac * 100).denominator == 1 else " (avrundat för visning)")


def exact_text(x: Fraction) -> str:
    """An exact amount for a trace: a terminating decimal, or the fraction with a decimal hint."""
    den = x.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den == 1:
        return format(to_decimal(x).normalize(), "f")
    return f"{x.numerator}/{x.denominator} (≈ {format(to_decimal(x, 6).normalize(), 'f')})"
