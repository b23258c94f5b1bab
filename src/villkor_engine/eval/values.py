"""Runtime values: the four verdicts, a missing value with its reason, exact money and rounding.

Numbers are `fractions.Fraction` from parsing to output, so a share of a pot is exact until the
agreement's declared rounding turns it into whole kronor or öre. Rounding is defined here once.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from math import floor, lcm

from ..frozen import frozen


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
    """All must hold. A `nej` decides at once; otherwise what is missing is said before
    judgement."""
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


@frozen
class Missing:
    """A value that is not there, and why: never silently 0 or `nej`."""

    reason: str
    verdict: Verdict = V.UNDERLAG_SAKNAS


UNIT = {"krona": Fraction(1), "öre": Fraction(1, 100)}
_PER_UNIT = {"krona": 1, "öre": 100}   # units per krona: integer arithmetic for the fast paths
_PRECISION = 10 ** 28                  # Decimal's default context: 28 significant digits


def round_half_up(x: Fraction, unit: str = "krona") -> Fraction:
    """Half away from zero (Decimal's ROUND_HALF_UP): 0,5 kr → 1 kr, −0,5 kr → −1 kr.

    In integers: ⌊q + ½⌋ = (2a + b) // 2b for q = a/b ≥ 0, one division instead of four
    Fraction operations — this runs for every share of every pot.
    """
    per = _PER_UNIT[unit]
    num, den = x.numerator, x.denominator
    if den == 1 and type(x) is Fraction:
        return x
    a = abs(num) * per
    n = (2 * a + den) // (2 * den)
    if num < 0:
        n = -n
    return Fraction(n) if per == 1 else Fraction(n, per)


def exact_sum(xs: Iterable[Fraction]) -> Fraction:
    """`sum(xs, Fraction(0))` over a common denominator, normalised once at the end.

    Summing Fractions one by one takes a gcd per addition; a pot's shares, a recipient's rows
    all share a denominator (or a few), so integers carry the sum until the single division.
    """
    xs = xs if isinstance(xs, (list, tuple)) else list(xs)
    if len(xs) == 1 and xs[0].__class__ is Fraction:
        return xs[0]                   # a recipient's one row: nothing to add
    num, den = 0, 1
    for x in xs:
        n, d = x.numerator, x.denominator
        if d == den:
            num += n
        elif den % d == 0:
            num += n * (den // d)
        else:
            common = lcm(den, d)
            num, den = num * (common // den) + n * (common // d), common
    return Fraction(num, den)


def largest_remainder(total: Fraction, shares: list[Fraction], unit: str = "krona"
                      ) -> list[Fraction]:
    """Round shares down, then hand the units left over to the largest remainders (ties: first).

    The result sums to `total` exactly when `total` is a whole number of units.
    """
    step = UNIT[unit]
    floors = [Fraction(floor(s / step)) * step for s in shares]
    left = round((round_half_up(total, unit) - sum(floors, Fraction(0))) / step)
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


def decimal_text(x: Fraction, places: int | None = None) -> str:
    """`format(to_decimal(x, places).normalize(), "f")`, computed in integers.

    The text of every exact amount in the output and the traces: Decimal division and
    normalize() cost more than the evaluation itself. Integers give the same digits whenever the
    result fits Decimal's 28 significant digits (beyond that, Decimal itself rounds, so it is
    asked); without `places`, `x` must terminate, as for to_decimal.
    """
    num, den = x.numerator, x.denominator
    if places is None:
        if den == 1:
            n, shift = num, 0
        else:
            shift = _decimal_places(den)
            if 10 ** shift % den:          # does not terminate: Decimal decides the digits
                return format(to_decimal(x, places).normalize(), "f")
            n = num * (10 ** shift // den)
    else:
        shift = places
        scale = 10 ** places
        n = (2 * abs(num) * scale + den) // (2 * den)
        if num < 0:
            n = -n
    if n == 0:
        return "0"
    if abs(n) >= _PRECISION:
        return format(to_decimal(x, places).normalize(), "f")
    sign = "-" if n < 0 else ""
    whole, frac = divmod(abs(n), 10 ** shift) if shift else (abs(n), 0)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{str(frac).rjust(shift, '0').rstrip('0')}"


def _decimal_places(den: int) -> int:
    """Digits after the point of 1/den, for den = 2^a·5^b: max(a, b)."""
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    return max(twos, fives)


def money_text(x: Fraction) -> str:
    """Kronor with `.` as decimal point, no thousands separator: 577898 or 577898.50."""
    num, den = x.numerator, x.denominator
    if den == 1:
        return str(num)
    if 100 % den:                     # not a whole number of öre
        return decimal_text(x, 6)
    sign = "-" if num < 0 else ""
    c = abs(num) * (100 // den)
    return f"{sign}{c // 100}.{c % 100:02d}"


def swedish_money(x: Fraction) -> str:
    """577 898 kr, 1 234,50 kr: for explanations people read."""
    num, den = x.numerator, x.denominator
    sign = "−" if num < 0 else ""
    num = abs(num)
    whole, rest = divmod(num, den)
    grouped = f"{whole:,}".replace(",", " ")
    if rest == 0:
        return f"{sign}{grouped} kr"
    cents = (200 * rest + den) // (2 * den)      # the öre, half up (may be 100: shown as is)
    return f"{sign}{grouped},{cents:02d} kr" + ("" if (100 * rest) % den == 0
                                                else " (avrundat för visning)")


def exact_text(x: Fraction) -> str:
    """An exact amount for a trace: a terminating decimal, or the fraction with a decimal hint."""
    den = x.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den == 1:
        return decimal_text(x)
    return f"{x.numerator}/{x.denominator} (≈ {decimal_text(x, 6)})"
