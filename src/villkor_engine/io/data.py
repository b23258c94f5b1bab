"""Reading the input tables a model declares, with Swedish errors naming file, row and column.

Any table can come from a `.csv`, `.xlsx` or `.parquet` file (io/readers.py, chosen by the
extension of the file the agreement names). Each cell is trimmed and parsed by its declared type
(io/cells.py: the rules the column engine's SQL follows too); a blank cell becomes "no value"
(missing, not `nej`), and a row of blank cells is no row. Every bad cell is reported — the loader
keeps going so one run lists every problem in the file. Row numbers are the file's own (the
header is row 1; a CSV record's number is the line it begins on; a Parquet file's data rows are
numbered from 2).

Two kinds of problems. A file that cannot be used — missing, unreadable, outside the data
folder, without a declared column, a column named twice — is an error diagnostic, and no run can
go on. A bad row — a cell that is not its type (V204), an unknown recipient or villkor (V205), a
key again (V206), the wrong number of fields (V209) — is left out; with `load(…,
bad_rows=True)` it is kept in `Dataset.bad_rows` (for the error file `<ut>.fel.<ext>`, the same
rows the column engine writes) instead of among the diagnostics, and the run goes on with the
good rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, Diagnostics, Severity, Span, did_you_mean
from ..model import types as T
from ..model.model import ColumnSpec, Model, RecordSpec, TableSpec
from . import cells as C
from .cells import CellError
from .dataset import BadRow, Dataset, Recipient, RecordData, Row, TableData
from .readers import (
    ReadError,
    Sheet,
    TypedText,
    input_format,
    read_table,
    repeated_columns,
    repeated_message,
)

MAX_ROWS = 5_000_000


class _Problems:
    """Where a loader's findings go: the capped diagnostics, and bad rows kept apart when
    `bad_rows` was asked for (then every one of them, uncapped)."""

    def __init__(self, keep_rows: bool):
        self.diags = Diagnostics(limit=200)
        self.rows: list[BadRow] | None = [] if keep_rows else None

    def add(self, code: str, message: str, span: Span | None, *, hint: str | None = None,
            severity: Severity = "fel") -> None:
        self.diags.add(code, message, span, hint=hint, severity=severity)

    def row(self, code: str, path: Path, line: int, column: str, order: int, message: str,
            at: int, hint: str | None = None) -> None:
        """A bad row: `column` its declared column ("" for the row), `at` the 1-based field."""
        d = Diagnostic(code, message, Span.point(str(path), line, at), hint=hint)
        if self.rows is None:
            self.diags.extend([d])
        else:
            self.rows.append(BadRow(path.name, line, column, message, code, d, order))


_KEEP_BAD_ROWS: ContextVar[bool] = ContextVar("villkor_keep_bad_rows", default=False)


@contextmanager
def keeping_bad_rows() -> Iterator[None]:
    """Within: `load` keeps bad rows apart (`bad_rows=True`) unless told otherwise. For a caller
    that loads through `pipeline.evaluate` (api.run's reference path)."""
    token = _KEEP_BAD_ROWS.set(True)
    try:
        yield
    finally:
        _KEEP_BAD_ROWS.reset(token)


def load(model: Model, data_dir: str | Path, *, bad_rows: bool | None = None
         ) -> tuple[Dataset, list[Diagnostic]]:
    """Every declared table and record table read from `data_dir`.

    `bad_rows=False` (the default outside `keeping_bad_rows`): a bad row is an error diagnostic
    like any other (the caller stops). `bad_rows=True`: bad rows are left out and kept in
    `Dataset.bad_rows`, in the error file's order; the diagnostics then hold only what stops
    every run (and warnings).
    """
    diags = _Problems(_KEEP_BAD_ROWS.get() if bad_rows is None else bad_rows)
    base = Path(data_dir)
    if not base.is_dir():
        diags.add("V200", f"datamappen `{base}` finns inte", None, hint="ange --data MAPP")
        return Dataset({}, {}), diags.diags.items
    tables: dict[str, TableData] = {}
    recipients: dict[str, list[Recipient]] = {}
    villkor_ids = _villkor_ids(model)
    # Tables that define recipients come first: the others are checked against them.
    order = sorted(model.tables.values(),
                   key=lambda t: 0 if any(g.table == t.name for g in model.groups.values()) else 1)
    for spec in order:
        group = model.groups.get(spec.group)
        defines = group is not None and group.table == spec.name
        defining = tables.get(group.table) if group is not None and group.table else None
        if group is not None and group.table is None:
            known = {m.code for m in group.members}
        elif defines or defining is None or not defining.present:
            known = None   # the recipients themselves, or unknowable: reported once, there
        else:
            # a recipient whose own row was rejected is not "unknown": no cascade of errors
            known = {r.code for r in recipients.get(spec.group, [])} | defining.rejected
        data = _load_table(spec, base, known, villkor_ids, diags)
        tables[spec.name] = data
        if defines and group is not None:
            name_column = group.name_column
            recipients[spec.group] = [
                Recipient(key[0], str((name_column is not None and row.values.get(name_column))
                                      or key[0]), spec.group)
                for key, row in data.rows.items()]
    for g in model.groups.values():
        if g.table is None:
            recipients[g.name] = [Recipient(m.code, m.title, g.name) for m in g.members]
    records: dict[str, RecordData] = {}
    for record_spec in model.records.values():
        records[record_spec.name] = _load_records(record_spec, base, model, recipients, diags)
    bad = sorted(diags.rows or [], key=BadRow.sort_key)
    return Dataset(tables, recipients, records, bad), diags.diags.items


def _load_records(spec: RecordSpec, base: Path, model: Model,
                  recipients: dict[str, list[Recipient]], diags: _Problems) -> RecordData:
    """Every row is kept; one whose link names no recipient is reported, never dropped."""
    as_table = TableSpec(spec.name, spec.file, spec.optional, "", False, (), spec.columns,
                         spec.span, spec.decimal)
    keyed = _load_table(as_table, base, None, set(), diags, records=True)
    data = RecordData(spec, keyed.path, keyed.present, keyed.record_rows, keyed.columns)
    for group, column in spec.links.items():
        g = model.groups.get(group)
        index: dict[str, list[Row]] = {}
        for row in data.rows:
            code = row.values.get(column)
            if code is not None:
                index.setdefault(str(code), []).append(row)
        data.by_group[group] = index
        if g is not None and g.via is not None and g.table == spec.name:
            recipients[group] = [Recipient(code, _label(index[code], g.name_column, code), group)
                                 for code in sorted(index)]
            continue
        known = {r.code for r in recipients.get(group, [])}
        stray = [r.line for r in data.rows if str(r.values.get(column)) not in known]
        if stray and data.present:
            lines = ", ".join(str(n) for n in stray[:10]) + (" …" if len(stray) > 10 else "")
            diags.add("V210", f"{len(stray)} poster hör inte till någon mottagare i `{group}` "
                      f"(kolumn `{column}`, rad {lines})", Span.point(str(data.path), stray[0]),
                      severity="varning", hint="de räknas inte för någon mottagare men finns "
                      "kvar i tabellen")
    return data


def _label(rows: list[Row], column: str | None, code: str) -> str:
    """A recipient's name from its records' name column, or its code."""
    named = next((r.values.get(column) for r in rows if column and r.values.get(column)), None)
    return str(named or code)


def _villkor_ids(model: Model) -> set[str]:
    from ..syntax import ast
    ids = set()
    for item in model.all_items():
        if isinstance(item, ast.Villkor):
            ids.add(item.vid)
    return ids


def _load_table(spec: TableSpec, base: Path, known: set[str] | None, villkor_ids: set[str],
                diags: _Problems, records: bool = False) -> TableData:
    from .paths import data_file

    try:
        path = data_file(base, spec.file)   # inside the data folder, or V214 (nothing read)
    except ReadError as exc:
        diags.add(exc.code, f"tabellen `{spec.name}`: {exc.message}", spec.span, hint=exc.hint)
        return TableData(spec, base, present=False)
    name = str(path)
    try:
        input_format(path)
    except ReadError as exc:   # an unknown extension: said before looking for the file
        diags.add(exc.code, f"tabellen `{spec.name}`: {exc.message}", Span.point(name),
                  hint=exc.hint)
        return TableData(spec, path, present=False)
    if not path.is_file():
        if not spec.optional:
            diags.add("V201", f"filen `{spec.file}` saknas i datamappen (tabellen `{spec.name}`)",
                      Span.point(name), hint=f"lägg filen {spec.file} i {base}")
        return TableData(spec, path, present=False)
    try:
        sheet = read_table(path, spec.columns)
    except ReadError as exc:
        diags.add(exc.code, exc.message, Span.point(name, exc.line, exc.column), hint=exc.hint)
        return TableData(spec, path, present=False)
    data = TableData(spec, path, present=True)
    try:
        _read_rows(spec, sheet, data, known, villkor_ids, diags, records)
    except ReadError as exc:   # a workbook or Parquet file damaged after its header
        diags.add(exc.code, exc.message, Span.point(name, exc.line, exc.column), hint=exc.hint)
        data.present = False
    return data


def _read_rows(spec: TableSpec, sheet: Sheet, data: TableData, known: set[str] | None,
               villkor_ids: set[str], diags: _Problems, records: bool) -> None:
    name = str(data.path)
    header = sheet.header
    if not header:
        diags.add("V202", f"filen `{spec.file}` är tom; den ska börja med en rubrikrad",
                  Span.point(name), hint="rubriker: " + ",".join(spec.columns))
        return
    header = [C.trim(h) for h in header]
    data.columns = tuple(header)
    index = {h: i for i, h in enumerate(header)}
    ok = True
    for col in spec.columns.values():
        if col.name not in index and not col.may_be_absent:
            # only a header no declared column claims can be a misspelling of this one
            strays = [h for h in header if h not in spec.columns]
            diags.add("V202", f"kolumnen `{col.name}` saknas", Span.point(name, 1, 1),
                      hint=did_you_mean(col.name, strays) or
                      "rubrikraden ska innehålla: " + ",".join(spec.columns))
            ok = False
    for at, h in repeated_columns(header):
        diags.add("V202", repeated_message(h), Span.point(name, 1, at),
                  hint="varje kolumn ska ha en egen rubrik")
        ok = False
    if not ok:
        return
    width_hint = "kontrollera avgränsare och citattecken" if sheet.format == "csv" else \
        "varje kolumn med värden ska ha en rubrik i rubrikraden"
    order = {c: i for i, c in enumerate(spec.columns)}   # the error file's order in a row
    first_line: dict[tuple[str, ...], int] = {}
    for n, (line, cells) in enumerate(sheet.rows):
        if n >= MAX_ROWS:
            diags.add("V208", f"filen har fler än {MAX_ROWS} rader", Span.point(name, line))
            break
        if C.is_blank(cells):   # every cell, declared or not: no row
            continue
        if len(cells) != len(header):
            diags.row("V209", data.path, line, "", -1,
                      f"rad {line} har {len(cells)} fält men rubrikraden har {len(header)}", 1,
                      hint=width_hint)
            continue
        values: dict[str, Any] = {}
        row_ok = True
        for col in spec.columns.values():
            if col.name not in index:
                continue
            i = index[col.name]
            cell = cells[i]
            try:
                # a typed cell (an Excel number, a Parquet decimal) is canonical text with `.`;
                # the table's decimaltecken is about numbers people type as text
                values[col.name] = parse_cell(cell, col, None) if isinstance(cell, TypedText) \
                    else parse_cell(C.trim(cell), col, spec.decimal)
            except ValueError as exc:
                row_ok = False
                diags.row("V204", data.path, line, col.name, order[col.name],
                          f"rad {line}, kolumn `{col.name}`: {exc}", i + 1,
                          hint=getattr(exc, "hint", None) or cell_hint(col, spec.decimal))
        if not row_ok:
            if spec.keys and isinstance(values.get(spec.keys[0]), str):
                data.rejected.add(values[spec.keys[0]])
            continue
        if records:
            data.record_rows.append(Row(values, line))
            continue
        key = tuple(str(values.get(k) or "") for k in spec.keys)
        if known is not None and key[0] not in known:
            kcol = spec.keys[0]
            diags.row("V205", data.path, line, kcol, order[kcol],
                      f"rad {line}, kolumn `{kcol}`: okänd mottagare `{key[0]}`",
                      index[kcol] + 1, hint=did_you_mean(key[0], known) or
                      f"mottagarna i `{spec.group}` är: {', '.join(sorted(known)[:25])}")
            continue
        if spec.per_villkor and key[1] not in villkor_ids:
            vcol = spec.keys[1]
            diags.row("V205", data.path, line, vcol, order[vcol],
                      f"rad {line}, kolumn `{vcol}`: okänt villkor `{key[1]}`",
                      index[vcol] + 1, hint="villkoren är: " + ", ".join(sorted(villkor_ids)))
            continue
        if key in first_line:
            diags.row("V206", data.path, line, spec.keys[0], -1,
                      f"rad {line}: `{', '.join(key)}` finns redan på rad {first_line[key]}",
                      index[spec.keys[0]] + 1,
                      hint="varje mottagare ska ha en rad" + (" per villkor" if spec.per_villkor
                                                             else ""))
            continue
        first_line[key] = line
        data.rows[key] = Row(values, line)


def cell_hint(col: ColumnSpec, decimal: str | None = None) -> str:
    """The hint for a cell that is not of its column's type (also the column engine's)."""
    amount = {None: "1500 eller 1500,50", "komma": "1500 eller 1 500,50",
              "punkt": "1500 eller 1500.50"}[decimal]
    return {
        T.JANEJ: "skriv ja eller nej, eller lämna tomt om frågan inte är besvarad",
        T.HELTAL: "skriv ett heltal utan decimaler, t.ex. 59636",
        T.DATUM: "skriv datum som ÅÅÅÅ-MM-DD",
        T.BELOPP: f"skriv beloppet i kronor, t.ex. {amount}",
    }.get(col.type, "tillåtna värden: " + ", ".join(col.values) if col.values else "")


def _unit_fits(raw: str, kind: str, percent: bool, kronor: bool) -> None:
    """`%` is a share and `kr` an amount: `5000 %` in a belopp cell is an error, not 50 kr."""
    if percent and kind not in (T.ANDEL, T.DECIMALTAL):
        raise CellError(f"`{raw}` är en procentsats, men kolumnen är {kind}",
                        hint="skriv beloppet i kronor, t.ex. 1500" if kind == T.BELOPP
                        else "skriv talet utan %")
    if kronor and kind != T.BELOPP:
        raise CellError(f"`{raw}` är ett belopp i kronor, men kolumnen är {kind}",
                        hint="skriv talet utan kr")


MAX_DIGITS = 100   # an amount longer than this is no number anyone typed (heltal: cells.py)


# ASCII digits only (re.ASCII): `\d` would take full-width and Arabic digits, which the column
# engine's `[0-9]` refuses; one reading for both engines (io/cells.py)
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?", re.ASCII)
_SPACES = C.NUMBER_SPACES
_DECLARED = {mark: re.compile(pattern) for mark, pattern in C.DECLARED.items()}


def parse_cell(raw: str, col: ColumnSpec, decimal: str | None = None) -> Any:
    """One cell by its declared type. Blank is None (missing); `obligatorisk` makes it an error.

    `decimal` is the table's `decimaltecken`: `komma` reads `1 234,50` (spaces as thousands
    separators) and refuses `.`; `punkt` reads `1234.50` and refuses `,`; None (undeclared)
    accepts either mark, as before.
    """
    if raw == "":
        if col.required:
            raise CellError(C.REQUIRED)
        return None
    t = col.type
    if t == T.JANEJ:
        low = raw.lower()
        if low not in ("ja", "nej"):
            raise CellError(f"{C.shown(raw)} {C.NOT_YES_NO}")
        return low == "ja"
    if t in (T.HELTAL, T.DECIMALTAL, T.ANDEL, T.BELOPP):
        percent = kronor = False
        if t == T.HELTAL:
            value: Any = Fraction(C.integer(raw))   # at most 18 digits, as in the column engine
        elif decimal is None:
            compact = raw.replace(" ", "").replace("\u00a0", "")
            percent = compact.endswith("%")
            compact = compact.removesuffix("%")
            kronor = compact.endswith("kr")
            compact = compact.removesuffix("kr")
            if not _NUMBER.fullmatch(compact) or len(compact) > MAX_DIGITS:
                raise CellError(f"`{raw}` är inget tal")
            value = Fraction(compact.replace(",", "."))
            if percent:
                value /= 100
        else:
            value = _declared_number(raw, decimal)
            tail = raw.rstrip(_SPACES)
            percent, kronor = tail.endswith("%"), tail.endswith("kr")
        _unit_fits(raw, t, percent, kronor)
        if col.positive and value <= 0:
            raise CellError(f"{C.shown(raw)} {C.NOT_POSITIVE}")
        return value
    if t == T.DATUM:
        return C.calendar_date(raw)   # ÅÅÅÅ-MM-DD only, on every Python and in SQL
    if t == T.KOD and col.values and raw not in col.values:
        raise CellError(f"{C.shown(raw)} {C.not_one_of(col.values)}")
    return raw


def _declared_number(raw: str, decimal: str) -> Fraction:
    """A number under `decimaltecken komma|punkt`; the other mark is an error with a hint."""
    text, percent = C.declared_text(raw)
    if C.MARKS[decimal][1] in text:
        raise CellError(*C.wrong_mark(raw, decimal))
    if not _DECLARED[decimal].fullmatch(text):
        raise CellError(f"`{raw}` är inget tal", hint=C.no_declared_number_hint(decimal, raw))
    for space in _SPACES:
        text = text.replace(space, "")
    if len(text) > MAX_DIGITS:
        raise CellError(f"`{raw[:40]}…` är inget tal (för många siffror)")
    value = Fraction(text.replace(",", "."))
    return value / 100 if percent else value
