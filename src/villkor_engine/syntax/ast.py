"""The syntax tree: what the policy officer wrote, nothing resolved yet.

Frozen dataclasses, each with the span it came from. Spans are left out of equality so tests can
build expected trees by hand (Jinja's nodes, Catala's marks). `@frozen` is `@dataclass(frozen=True)`
made cheaply (frozen.py): every `villkor check` loads all these classes first.
"""

from __future__ import annotations

from dataclasses import field
from datetime import date
from fractions import Fraction

from ..diagnostics import Span
from ..frozen import frozen

NOSPAN = Span("", 0, 0, 0, 0)


def _span() -> Span:
    return field(default=NOSPAN, compare=False, repr=False)


# ---- expressions ---------------------------------------------------------------

@frozen
class Num:
    value: Fraction
    unit: str | None  # "kr", "%", "dagar" or None (a plain number)
    span: Span = _span()


@frozen
class DateLit:
    value: date
    span: Span = _span()


@frozen
class Str:
    value: str
    span: Span = _span()


@frozen
class Bool:
    value: bool
    span: Span = _span()


@frozen
class VerdictLit:
    value: str  # one of the four verdicts, spelt as in the language
    span: Span = _span()


@frozen
class Name:
    name: str
    span: Span = _span()


@frozen
class ColumnRef:
    table: str
    column: str
    span: Span = _span()


@frozen
class VillkorRef:
    vid: str
    span: Span = _span()


@frozen
class Binary:
    op: str  # + - * /
    left: Expr
    right: Expr
    span: Span = _span()


@frozen
class Compare:
    op: str  # < <= > >= = !=
    left: Expr
    right: Expr
    span: Span = _span()


@frozen
class Logic:
    op: str  # och / eller
    left: Expr
    right: Expr
    span: Span = _span()


@frozen
class Not:
    operand: Expr
    span: Span = _span()


@frozen
class Negate:
    operand: Expr
    span: Span = _span()


@frozen
class Is:
    operand: Expr
    what: str  # ja / nej / angiven
    span: Span = _span()


@frozen
class Between:
    """`x mellan 2010-01-01 och 2010-12-31`: both ends included."""

    operand: Expr
    start: date
    end: date
    span: Span = _span()


@frozen
class About:
    """`a är cirka b`: the source gives b as an approximate figure ("cirka", "~"). Exactly
    equal is uppfyllt; any difference is `bedömning krävs`, never an automatic `ej uppfyllt`."""

    left: Expr
    right: Expr
    span: Span = _span()


@frozen
class Count:
    """`antal(intyg där …)`: the current recipient's records, optionally filtered."""

    table: str
    where: Expr | None
    span: Span = _span()


@frozen
class TotalOf:
    """`summa(fakturor.belopp där …)`."""

    table: str
    column: str
    where: Expr | None
    span: Span = _span()


@frozen
class ShareOf:
    """`andel(intyg där X bland Y)`: records meeting X among those meeting Y (all, without
    `bland`); an empty denominator is missing, not 0 %."""

    table: str
    where: Expr
    among: Expr | None = None   # the denominator's filter: `bland …`
    span: Span = _span()


@frozen
class Conditional:
    """`om X då A annars B`: A when X is uppfyllt, B when not; undecided X → missing."""

    test: Expr
    then: Expr
    otherwise: Expr
    span: Span = _span()


Expr = (Num | DateLit | Str | Bool | VerdictLit | Name | ColumnRef | VillkorRef | Binary | Compare |
        Logic | Not | Negate | Is | Between | Count | TotalOf | ShareOf | Conditional | About)

CHILDREN = ("left", "right", "operand", "where", "among", "test", "then", "otherwise")


def children(e: Expr) -> list[Expr]:
    """An expression's direct sub-expressions."""
    return [c for c in (getattr(e, a, None) for a in CHILDREN) if c is not None]


def walk(e: Expr):
    """Every node of an expression, without recursion."""
    stack = [e]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(children(x))


# ---- declarations --------------------------------------------------------------

@frozen
class Source:
    """A citation: a declared document and where in it (section, page, question). An
    assumption (`antagande "…"`) is a Source without a document: what the file assumes where
    its sources are silent, carried to explanations and reports like a citation."""

    document: str | None
    locator: str | None
    span: Span = _span()

    @property
    def is_assumption(self) -> bool:
        return self.document is None

    def text(self) -> str:
        """`dokument: avsnitt`, or `antagande: …` — the form of the `källa` column."""
        if self.document is None:
            return f"antagande: {self.locator}"
        return f"{self.document}: {self.locator}" if self.locator else self.document


@frozen
class Agreement:
    title: str
    diarienummer: str | None
    parties: tuple[str, ...]
    period: tuple[date, date] | None
    signed: tuple[tuple[date, str | None], ...]
    span: Span = _span()


@frozen
class Document:
    name: str
    title: str
    dated: date | None
    span: Span = _span()


@frozen
class Member:
    code: str
    title: str
    span: Span = _span()


@frozen
class Group:
    name: str
    table: str | None          # recipients read from a table …
    name_column: str | None
    members: tuple[Member, ...]  # … or listed in the file
    span: Span = _span()
    via: str | None = None     # … or the distinct values of a record table's column


@frozen
class TypeRef:
    name: str                    # belopp, heltal, … , kod
    values: tuple[str, ...] = ()  # allowed codes for kod(a, b)
    span: Span = _span()


@frozen
class Column:
    name: str
    type: TypeRef
    flags: tuple[str, ...]
    span: Span = _span()


@frozen
class Table:
    name: str
    file: str
    optional: bool
    group: str
    per_villkor: bool
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    span: Span = _span()
    decimal: str | None = None    # `decimaltecken komma|punkt`; None: both accepted


@frozen
class Link:
    group: str
    column: str
    span: Span = _span()


@frozen
class RecordTable:
    name: str
    file: str
    optional: bool
    links: tuple[Link, ...]
    columns: tuple[Column, ...]
    span: Span = _span()
    decimal: str | None = None    # `decimaltecken komma|punkt`; None: both accepted


@frozen
class Parameter:
    name: str
    type: TypeRef
    default: Expr | None
    sources: tuple[Source, ...]
    span: Span = _span()


@frozen
class Value:
    name: str
    type: TypeRef | None
    expr: Expr
    sources: tuple[Source, ...]
    span: Span = _span()


@frozen
class ReportDue:
    due: date
    table: str
    column: str
    span: Span = _span()


@frozen
class Review:
    table: str
    reply_days: int | None
    span: Span = _span()


@frozen
class SubVillkor:
    vid: str
    title: str
    sources: tuple[Source, ...]
    requirement: Expr | None
    span: Span = _span()


@frozen
class Villkor:
    vid: str
    title: str
    applies: str | None
    sources: tuple[Source, ...]
    subs: tuple[SubVillkor, ...]
    requirement: Expr | None
    report_due: ReportDue | None
    late_verdict: str | None
    review: Review | None
    span: Span = _span()
    only: tuple[str, ...] = ()   # `gäller GRUPP endast A, B`: these members only (empty: all)

    def covers(self, code: str, group: str) -> bool:
        """Does the villkor apply to this recipient of that group?"""
        return self.applies == group and (not self.only or code in self.only)


@frozen
class Rounding:
    unit: str   # "krona" or "öre"
    mode: str   # "halvt uppåt" or "största rest"
    per_share: bool
    span: Span = _span()


@frozen
class Fixed:
    amount: Expr
    recipient: str
    span: Span = _span()


@frozen
class PerMember:
    amount: Expr
    group: str
    span: Span = _span()


@frozen
class Pot:
    amount: Expr
    group: str
    key: Expr
    span: Span = _span()


@frozen
class Payment:
    name: str
    title: str
    villkor: str | None
    sources: tuple[Source, ...]
    requirement: Expr | None
    rule: Fixed | PerMember | Pot | None
    cap_each: Expr | None
    cap_total: Expr | None
    rounding: Rounding | None
    due: date | None
    span: Span = _span()
    unconditional: bool = False   # `utan villkor`: the source ties the money to no villkor


@frozen
class Total:
    rounding: Rounding
    sources: tuple[Source, ...]
    span: Span = _span()


@frozen
class OnDate:
    value: date
    span: Span = _span()


@frozen
class InWeek:
    week: int
    year: int
    span: Span = _span()


@frozen
class DaysAfter:
    days: int
    event: str
    span: Span = _span()


@frozen
class Event:
    name: str
    title: str
    when: OnDate | InWeek | DaysAfter
    sources: tuple[Source, ...]
    span: Span = _span()


@frozen
class Check:
    title: str
    expr: Expr
    tolerance: Expr | None
    sources: tuple[Source, ...]
    span: Span = _span()


@frozen
class Product:
    code: str
    title: str
    price: Expr | None   # per piece: belopp must be antal × pris
    cap: Expr | None     # the cumulative amount invoiced may not exceed this
    span: Span = _span()


@frozen
class Invoicing:
    name: str
    title: str
    table: str
    sources: tuple[Source, ...]
    requires: tuple[tuple[str, str], ...]   # (column, required value)
    period: tuple[date, date] | None
    products: tuple[Product, ...]
    span: Span = _span()


@frozen
class Reconciliation:
    name: str
    title: str
    group: str
    sources: tuple[Source, ...]
    invoiced: Expr | None
    earned: Expr | None
    granted: Expr | None
    span: Span = _span()
    requirement: Expr | None = None   # not met: nothing is earned
    rounding: Rounding | None = None
    repay_verdict: str | None = None  # `vid återbetalning bedömning krävs`: a person decides


@frozen
class Amendment:
    name: str
    title: str
    in_force: date
    sources: tuple[Source, ...]
    items: tuple[Item, ...]
    span: Span = _span()


Item = (Agreement | Document | Group | Table | RecordTable | Parameter | Value | Villkor | Payment |
        Event | Check | Total | Invoicing | Reconciliation | Amendment)


@frozen
class Module:
    file: str
    items: tuple[Item, ...]
    text: str = field(default="", compare=False, repr=False)
