"""The checked model: names resolved, types known, versions laid out. The evaluator's only input.

Expressions stay the syntax tree's nodes (they are immutable and carry their spans); what the
checker adds is the certainty that every name in them resolves and every unit fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..diagnostics import Span
from ..frozen import frozen
from ..syntax import ast


@frozen
class ColumnSpec:
    name: str
    type: str
    values: tuple[str, ...]  # allowed codes, for kod(a, b)
    may_be_absent: bool      # `valfri`: the column itself may be missing from the file
    required: bool           # `obligatorisk`: a blank cell is an error, not a missing value
    positive: bool           # `positiv`: a number must be > 0
    span: Span


@frozen
class TableSpec:
    name: str
    file: str
    optional: bool
    group: str
    per_villkor: bool
    keys: tuple[str, ...]
    columns: dict[str, ColumnSpec]
    span: Span
    decimal: str | None = None     # `decimaltecken`: komma, punkt, or None (both accepted)


@frozen
class RecordSpec:
    """A table of records: any number of rows, linked to recipient groups through columns."""

    name: str
    file: str
    optional: bool
    links: dict[str, str]          # group → column holding the recipient's code
    columns: dict[str, ColumnSpec]
    span: Span
    decimal: str | None = None     # `decimaltecken`: komma, punkt, or None (both accepted)


@frozen
class GroupSpec:
    name: str
    table: str | None
    name_column: str | None
    members: tuple[ast.Member, ...]
    span: Span
    via: str | None = None         # recipients are the distinct values of records' column


@frozen
class ParameterSpec:
    name: str
    type: str
    default: ast.Expr | None
    sources: tuple[ast.Source, ...]
    span: Span


@dataclass
class Version:
    """The agreement as in force on one date: base items with the amendments in force applied."""

    label: str                     # "grundöverenskommelsen" or the amendment's title
    in_force: date | None
    villkor: dict[str, ast.Villkor] = field(default_factory=dict)
    payments: dict[str, ast.Payment] = field(default_factory=dict)
    values: dict[str, ast.Value] = field(default_factory=dict)
    events: dict[str, ast.Event] = field(default_factory=dict)
    checks: list[ast.Check] = field(default_factory=list)
    origin: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, id) → version label


@dataclass
class Model:
    file: str
    text: str
    agreement: ast.Agreement | None
    documents: dict[str, ast.Document]
    groups: dict[str, GroupSpec]
    tables: dict[str, TableSpec]
    parameters: dict[str, ParameterSpec]
    value_types: dict[str, str]
    total: ast.Total | None
    base: list[ast.Item]
    amendments: list[ast.Amendment]
    records: dict[str, RecordSpec] = field(default_factory=dict)
    invoicing: list[ast.Invoicing] = field(default_factory=list)
    reconciliations: list[ast.Reconciliation] = field(default_factory=list)

    def version_at(self, per: date | None) -> Version:
        """Apply, in order of their dates, every amendment in force on `per` (all if None)."""
        version = Version("grundöverenskommelsen", None)
        _apply(version, self.base, "grundöverenskommelsen")
        for amendment in sorted(self.amendments, key=lambda a: a.in_force):
            if per is None or amendment.in_force <= per:
                label = f"tillägg {amendment.name} ({amendment.title}, gäller från " \
                        f"{amendment.in_force.isoformat()})"
                _apply(version, amendment.items, label)
                version.label, version.in_force = label, amendment.in_force
        return version

    def all_items(self) -> list:
        """The base items, then every amendment's, in file order (for whole-file checks)."""
        return list(self.base) + [x for a in self.amendments for x in a.items]

    def group_of_member(self, code: str) -> str | None:
        for g in self.groups.values():
            if any(m.code == code for m in g.members):
                return g.name
        return None


def _apply(version: Version, items, label: str) -> None:
    for item in items:
        if isinstance(item, ast.Villkor):
            version.villkor[item.vid] = item
            version.origin[("villkor", item.vid)] = label
        elif isinstance(item, ast.Payment):
            version.payments[item.name] = item
            version.origin[("utbetalning", item.name)] = label
        elif isinstance(item, ast.Value):
            version.values[item.name] = item
            version.origin[("värde", item.name)] = label
        elif isinstance(item, ast.Event):
            version.events[item.name] = item
        elif isinstance(item, ast.Check):
            version.checks.append(item)
