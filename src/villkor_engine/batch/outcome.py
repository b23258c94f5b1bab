"""What a run of the plan reports: its error rows located as the reference's reader locates
them (file, row, field, hint), and the result the runners return."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, Span, did_you_mean
from ..eval.engine import PotSummary
from ..io import cells as C
from ..io.cells import trim
from ..io.data import cell_hint
from ..io.paths import data_file
from ..io.readers import (
    ReadError,
    csv_start,
    input_format,
    read_table,
)
from ..model import types as T
from ..model.model import RecordSpec, TableSpec
from ..syntax import ast
from . import sqltext as S
from .intake import known_codes
from .plan import Plan


@dataclass
class BatchError:
    file: str
    line: int
    column: str
    message: str
    code: str = "V204"             # V204 a cell, V206 a repeated key, V209 a malformed row
    path: str = ""                 # the file as the reference names it (data folder / file)
    at: int = 1                    # the column's field in the file, 1-based (1: the row)
    hint: str | None = None

    def diagnostic(self) -> Diagnostic:
        """As the reference's reader says it: file, row and field, and its hint."""
        return Diagnostic(self.code, self.message,
                          Span.point(self.path or self.file, self.line, self.at),
                          hint=self.hint)


def located(plan: Plan, data_dir: Path, errors: list[BatchError],
            members: Callable[[TableSpec], list[str]]) -> list[BatchError]:
    """The errors with their file's path, their column's field and their hint, as the
    reference's reader gives them (the header read again, for the files that have errors
    only; `members(spec)`: the codes a table per member may name, asked only for an unknown
    one)."""
    files = {Path(spec.file).name: spec for spec in plan.inputs}
    headers: dict[str, list[str]] = {}
    for name in {e.file for e in errors}:
        spec = files.get(name)
        if spec is None:
            continue
        try:
            source = data_file(data_dir, spec.file)
            header = (csv_start(source).header if input_format(source) == "csv"
                      else read_table(source, spec.columns).header) or []
        except ReadError:
            header = []
        headers[name] = [trim(h) for h in header]
    out = []
    known: dict[str, list[str]] = {}
    for e in errors:
        spec = files.get(e.file)
        header = headers.get(e.file, [])
        at = header.index(e.column) + 1 if e.column in header else 1
        named = str(Path(data_dir) / spec.file) if spec is not None else e.file
        hint = None
        if spec is not None:
            if e.code == "V205" and isinstance(spec, TableSpec) and e.column == spec.keys[0]:
                if spec.name not in known:
                    known[spec.name] = members(spec)
                hint = _member_hint(e.message, spec, known[spec.name])
            else:
                hint = row_hint(e, spec, input_format(Path(named)), plan)
        out.append(replace(e, path=named, at=at, hint=hint))
    return out


def members_of(query: Callable[[str], Any], plan: Plan, spec: TableSpec) -> list[str]:
    """The codes a table per member may name (`intake.known_codes`), read on the engine."""
    known = known_codes(plan, spec, S.Names.of(plan))
    if known is None:
        return []
    return [str(r[0]) for r in query(f"SELECT * FROM ({known}) AS k").fetchall() if r[0]]


def _member_hint(message: str, spec: TableSpec, known: list[str]) -> str:
    """The reference's hint for an unknown member: a near code, else the first 25."""
    code = message.rsplit("`", 2)[-2]
    return did_you_mean(code, known) or \
        f"mottagarna i `{spec.group}` är: {', '.join(sorted(known)[:25])}"


def row_hint(e: BatchError, spec: TableSpec | RecordSpec, fmt: str, plan: Plan
             ) -> str | None:
    """The reference reader's hint for a bad row (io/data.py `_read_rows`), from its code,
    column and message."""
    if e.code == "V209":
        return "kontrollera avgränsare och citattecken" if fmt == "csv" else \
            "varje kolumn med värden ska ha en rubrik i rubrikraden"
    if e.code == "V206":
        per = isinstance(spec, TableSpec) and spec.per_villkor
        return "varje mottagare ska ha en rad" + (" per villkor" if per else "")
    if e.code == "V205":
        ids = sorted({i.vid for i in plan.model.all_items() if isinstance(i, ast.Villkor)})
        return "villkoren är: " + ", ".join(ids)
    col = spec.columns.get(e.column)
    if col is None:
        return None
    if "är en procentsats, men kolumnen är" in e.message:
        return "skriv beloppet i kronor, t.ex. 1500" if col.type == T.BELOPP else \
            "skriv talet utan %"
    if "är ett belopp i kronor, men kolumnen är" in e.message:
        return "skriv talet utan kr"
    if spec.decimal is not None and col.type in (T.BELOPP, T.DECIMALTAL, T.ANDEL):
        if ", men tabellen har decimaltecken " in e.message:
            return C.wrong_mark("", spec.decimal)[1]
        if e.message.endswith("` är inget tal"):    # after "rad N, kolumn `K`: `"
            raw = e.message.split(": `", 1)[-1][:-len("` är inget tal")]
            return C.no_declared_number_hint(spec.decimal, raw)
    return cell_hint(col, spec.decimal) or None


@dataclass
class BatchResult:
    rows: int                      # output rows written (recipients × villkor, plus summa)
    errors: list[BatchError] = field(default_factory=list)
    pots: list[PotSummary] = field(default_factory=list)
    error_count: int = 0
    warnings: list = field(default_factory=list)   # kontroll that could not be decided (V161…)
    # invoice lines (`fakturering`): how many, and the rejected ones' (file, line, findings
    # separated by settle.SEPARATOR), the first thousand, for the screen
    invoices: int | None = None
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    rejected_count: int = 0

