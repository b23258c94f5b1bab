"""Input files as Arrow tables of trimmed text, with each row's line in the file: what both
executors register, read as io/readers.py reads them for the reference (delimiter, header,
records, line numbers, blank rows, malformed rows as error rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..io.cells import WHITESPACE, is_blank, trim
from ..io.paths import data_file
from ..io.readers import (
    ReadError,
    csv_start,
    filled_cells,
    read_rows,
    read_table,
    repeated_columns,
    repeated_message,
)
from ..model.model import RecordSpec, TableSpec
from . import sqltext as S


class InputProblem(Exception):
    """An input file that cannot be read at all: (code, message, hint), said in Swedish."""

    def __init__(self, code: str, message: str, hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def absent(spec: TableSpec | RecordSpec, data_dir: Path) -> bool:
    """A `valfri` table whose file is not there (the reference reads it as absent)."""
    if not spec.optional:
        return False
    try:
        return not data_file(data_dir, spec.file).exists()
    except ReadError:
        return False      # a name outside the folder: `_register` says why


def checked_header(path: Path, spec, header: list[str]) -> list[str]:
    """The header trimmed, or the table is not read: an empty file, a column named twice (V202,
    as the reference)."""
    names = [trim(h) for h in header]
    if not names:
        raise InputProblem("V202", f"filen `{spec.file}` är tom; den ska börja med en rubrikrad",
                           "rubriker: " + ",".join(spec.columns))
    for _, twice in repeated_columns(names):
        raise InputProblem("V202", f"{spec.file}: {repeated_message(twice)}",
                           "varje kolumn ska ha en egen rubrik")
    return names


def read_csv(path: Path, spec, malformed: list) -> pa.Table:
    """The declared columns as text, `§rad` (the line each record begins on, header = 1) and,
    when the file has other columns, `§annat` — read as io/readers.py reads the file for the
    reference: the same delimiter, header, records, line numbers and blank rows.

    A plain file (no quote, no NUL, no overlong line: every line one record, the bulk of large
    inputs) is read by pyarrow; empty lines stay as blank rows, so rows and lines agree, and a
    row with the wrong number of fields is an error row (V209) unless all its fields are
    blank. Any other file is read by the csv module, as the reference reads it."""
    try:
        start = csv_start(path)
        header = checked_header(path, spec, start.header or [])
        sheet = start.sheet
        if sheet is None:
            try:
                return _csv(path, header, start.delimiter, spec, malformed)
            except pa.ArrowInvalid:    # bytes that are not UTF-8, further down
                sheet = read_table(path)   # the reference's error, or its reading
        return _from_rows(path, header, sheet.rows, spec, malformed)
    except ReadError as exc:
        raise InputProblem(exc.code, f"{path.name}: {exc.message}", exc.hint or "") from None


def _csv(path: Path, header: list[str], delimiter: str, spec, malformed: list) -> pa.Table:
    table, bad = _pyarrow_csv(path, header, delimiter, threads=True)
    if bad:   # on one thread pyarrow knows each bad row's line
        table, bad = _pyarrow_csv(path, header, delimiter, threads=False)
    for number, fields, text in bad:
        if not is_blank(text.split(delimiter)):
            message = f"rad {number} har {fields} fält men rubrikraden har {len(header)}"
            malformed.append((path.name, number, "", message, "V209"))
    lines = np.arange(2, table.num_rows + len(bad) + 2)
    if bad:   # the good rows' lines: every line but the bad ones (sorted, so in order)
        lines = lines[~np.isin(lines, [n for n, *_ in bad])]
    lines = lines[:table.num_rows]
    # trimmed here, vectorised, rather than cell by cell in SQL (`sql.TRIMMED`)
    columns = {c: pc.utf8_trim(table.column(c), characters=WHITESPACE, memory_pool=_pool())
               for c in spec.columns if c in header}
    others = [h for h in header if h not in spec.columns]
    if others:
        filled = np.zeros(table.num_rows, dtype=bool)
        for h in others:
            filled |= filled_cells(table.column(h))
        columns[S.OTHER] = pa.array(filled)
    columns[S.MARK + "rad"] = pa.array(lines, pa.int64())
    return pa.table(columns)


def _pool() -> pa.MemoryPool:
    """The C library's allocator for the input's text: once it is typed and stored
    (`con.unregister`), its memory goes back to the system for DuckDB's own allocator, where
    pyarrow's default pool would keep it for itself (about 100 MB less at the peak for 1M
    rows)."""
    return pa.system_memory_pool()


def _pyarrow_csv(path: Path, header: list[str], delimiter: str, threads: bool):
    bad: list[tuple[int, int, str]] = []

    def bad_row(row) -> str:
        bad.append((row.number or 0, row.actual_columns, row.text or ""))
        return "skip"

    table = pacsv.read_csv(
        path, memory_pool=_pool(), read_options=pacsv.ReadOptions(column_names=header, skip_rows=1,
                                             use_threads=threads),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=bad_row,
                                         ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(
            column_types={h: pa.string() for h in header}, strings_can_be_null=True,
            null_values=[""]))
    return table, sorted(bad)


def _from_rows(path: Path, header: list[str], rows, spec, malformed: list) -> pa.Table:
    """The declared columns, `§rad` and `§annat` from the reference's reader (io/readers.py):
    its blank rows left out, a row of another width than the header an error row (V209)."""
    index = {h: i for i, h in enumerate(header)}
    wanted = [c for c in spec.columns if c in index]
    others = [i for i, h in enumerate(header) if h not in spec.columns]
    lines: list[int] = []
    filled: list[bool] = []
    columns: dict[str, list[str | None]] = {c: [] for c in wanted}
    for line, cells in rows:
        if is_blank(cells):
            continue
        if len(cells) != len(header):
            message = f"rad {line} har {len(cells)} fält men rubrikraden har {len(header)}"
            malformed.append((path.name, line, "", message, "V209"))
            continue
        lines.append(line)
        for c in wanted:
            value = trim(str(cells[index[c]]))   # trimmed here, as `sql.TRIMMED` says
            columns[c].append(value if value != "" else None)
        if others:
            filled.append(not is_blank(cells[i] for i in others))
    data = {c: pa.array(v, pa.string()) for c, v in columns.items()}
    if others:
        data[S.OTHER] = pa.array(filled, pa.bool_())
    data[S.MARK + "rad"] = pa.array(lines, pa.int64())
    return pa.table(data)


def read_xlsx(path: Path, spec, malformed: list | None = None) -> pa.Table:
    """The first sheet's declared columns as text (the reference evaluator's reader), with
    rows; a row with values beyond the header is an error row (V209), as in the reference."""
    try:
        header, rows = read_rows(path)
        return _from_rows(path, checked_header(path, spec, header), rows, spec,
                          [] if malformed is None else malformed)
    except ReadError as exc:
        raise InputProblem(exc.code, f"{path.name}: {exc.message}", exc.hint or "") from None

