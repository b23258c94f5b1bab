"""The data as read: rows, tables, record tables, recipients — containers, no reading.

Apart from the loader (io/data.py, which re-exports them) so that `villkor check`, which
evaluates each `kontroll` against an empty `Dataset`, does not load the CSV, Excel and Parquet
readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic
from ..model.model import RecordSpec, TableSpec


@dataclass(frozen=True)
class BadRow:
    """One input row left out, as the error file `<ut>.fel.<ext>` says it (fil, rad, kolumn,
    meddelande) and as the screen shows it (`diagnostic`: file path, row, column and hint)."""

    file: str            # the file's name (`fil`)
    line: int            # `rad`
    column: str          # `kolumn`: the declared column, or "" for the whole row
    message: str         # `meddelande`: "rad N, kolumn `K`: …"
    code: str            # V204, V205, V206 or V209
    diagnostic: Diagnostic
    order: int = -1      # the column's place among the declared ones (the error file's order)

    def sort_key(self) -> tuple[str, int, int]:
        """The error file's order: file name, row, column as declared (as batch/sql.py)."""
        return self.file, self.line, self.order


@dataclass
class Row:
    values: dict[str, Any]
    line: int


@dataclass
class TableData:
    spec: TableSpec
    path: Path
    present: bool
    rows: dict[tuple[str, ...], Row] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    rejected: set[str] = field(default_factory=set)  # recipient keys of rows with errors
    record_rows: list[Row] = field(default_factory=list)  # for a record table: every good row

    def row(self, recipient: str, vid: str | None = None) -> Row | None:
        if not self.spec.per_villkor:
            return self.rows.get((recipient,))
        if vid is None:   # every key of a per-villkor table has its villkor
            return None
        return self.rows.get((recipient, vid))


@dataclass
class RecordData:
    """Rows of a record table, in file order, and per linked group the rows of each recipient."""

    spec: RecordSpec
    path: Path
    present: bool
    rows: list[Row] = field(default_factory=list)
    columns: tuple[str, ...] = ()
    by_group: dict[str, dict[str, list[Row]]] = field(default_factory=dict)

    def rows_for(self, group: str | None, code: str | None) -> list[Row]:
        if code is None or group is None:
            return self.rows
        return self.by_group.get(group, {}).get(code, [])


@dataclass
class Recipient:
    code: str
    name: str
    group: str


@dataclass
class Dataset:
    tables: dict[str, TableData]
    recipients: dict[str, list[Recipient]]  # group → members, in file order
    records: dict[str, RecordData] = field(default_factory=dict)
    bad_rows: list[BadRow] = field(default_factory=list)   # with load(…, bad_rows=True)

    def members(self, group: str) -> list[Recipient]:
        return self.recipients.get(group, [])

    @cached_property
    def by_code(self) -> dict[str, Recipient]:
        return {r.code: r for members in self.recipients.values() for r in members}

    def recipient(self, code: str) -> Recipient | None:
        return self.by_code.get(code)
