"""One place that turns a data file into a header and rows of text cells, by file extension.

`.csv` (UTF-8 with or without BOM, `,` or `;`), `.xlsx` (the first sheet) and `.parquet`. Every
cell comes out as text, so one parser (io/data.py `parse_cell`) reads every format alike; a
typed cell (an Excel number, date or boolean, a Parquet integer, decimal, date or boolean) comes
out as canonical text — `123`, `1234.5`, `2020-12-08`, `ja`/`nej` — marked `TypedText`, so a
table's declared `decimaltecken` (which is about how people type numbers as text) does not apply
to it. Blank is `""`, never 0 or `nej`.

Row numbers are what a person sees: the CSV file's line where the record begins (a quoted cell
may hold line breaks; `\n`, `\r\n` and a lone `\r` each end a line), the Excel sheet's row, and
for Parquet the data row's index + 2 (as if the header were row 1). The column engine reads
the same files with pyarrow and DuckDB and keeps to the same numbers, delimiter and trimming
(io/cells.py; batch/inputs.py). A file that cannot be read raises
`ReadError` with a code, a Swedish message and a hint — never a library's traceback.

Excel stores every number as a binary floating-point value. A number cell is turned into the
shortest decimal text that is that value (`1234.5`, never `1234.49999999999`), and no arithmetic
is done on the float; still, the safest way to give amounts in a workbook is as text cells or in
whole öre/kronor.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..datafiles import ReadError, input_format
from ..diagnostics import source_line, utf8_error_span
from .cells import WHITESPACE, is_blank, trim


class TypedText(str):
    """Canonical text of a typed cell (number, date, boolean): `.` is its decimal point."""

    __slots__ = ()


@dataclass
class Sheet:
    """A data file's header (None when the file is empty) and its rows, read lazily.

    Iterating `rows` may raise `ReadError` (a workbook or Parquet file damaged further in).
    """

    format: str                                 # csv, xlsx or parquet
    header: list[str] | None
    rows: Iterator[tuple[int, list[str]]]       # (row number, cells)
    delimiter: str = ","                        # CSV: the delimiter sniffed


def read_table(path: Path, columns: Collection[str] | None = None) -> Sheet:
    """The file's header and rows; `columns` (if given) are the only ones whose cells are read.

    A Parquet file's other columns come out as `""` or `FILLED`: a table only asks whether a
    row is blank (io/cells.py), never what they hold.
    """
    fmt = input_format(path)
    if fmt == "xlsx":
        return _read_xlsx(path, columns)
    if fmt == "parquet":
        return _read_parquet(path, columns)
    return _read_csv(path)


def read_rows(path: Path, columns: Collection[str] | None = None
              ) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """`read_table` as (header, rows): the header stripped, `[]` for an empty file."""
    sheet = read_table(Path(path), columns)
    return [trim(h) for h in sheet.header or []], sheet.rows


def repeated_columns(header: list[str]) -> list[tuple[int, str]]:
    """Each header name (trimmed) that stands more than once, with its first 1-based column:
    such a table is not read (V202), in either engine."""
    names = [trim(h) for h in header]
    return [(i + 1, h) for i, h in enumerate(names) if names.index(h) == i and names.count(h) > 1]


def repeated_message(name: str) -> str:
    return f"kolumnen `{name}` finns två gånger"


# ---- CSV -------------------------------------------------------------------------------------

def sniff_delimiter(first_line: str) -> str:
    """`;` when the first line has more semicolons than commas (Excel's Swedish "CSV"), else
    `,`. Both engines sniff the same line: the file's first, up to its first line break (`\n`,
    `\r\n` or a lone `\r`)."""
    first = re.split("[\r\n]", first_line, maxsplit=1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def utf8_problem(path: Path, raw: bytes) -> ReadError | None:
    """V207 naming the line and byte where `raw` stops being UTF-8, or None."""
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = utf8_error_span(str(path), raw, exc.start)
        return ReadError("V207", f"rad {where.line}: filen är inte giltig UTF-8 "
                         f"(byte 0x{raw[exc.start]:02x})", where.line, where.column,
                         hint="spara filen som CSV UTF-8 (i Excel: \"CSV UTF-8 "
                         "(kommaavgränsad)\")")
    return None


def _read_csv(path: Path) -> Sheet:
    """Each record with the line it begins on: a quoted cell may hold line breaks, and the
    records after it keep their own line numbers (what an editor shows)."""
    raw = path.read_bytes()
    problem = utf8_problem(path, raw)
    if problem is not None:
        raise problem
    text = raw.decode("utf-8-sig")
    delimiter = sniff_delimiter(text[:FIELD_LIMIT])
    csv.field_size_limit(FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = _next_row(reader, path, text, delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        while True:
            start = reader.line_num + 1
            cells = _next_row(reader, path, text, delimiter)
            if cells is None:
                return
            yield start, cells

    return Sheet("csv", header, rows(), delimiter)


@dataclass
class CsvStart:
    """What the column engine needs to know of a CSV file before pyarrow reads it."""

    header: list[str] | None      # the first record, as the csv module reads it
    delimiter: str
    # None: the file is plain (no quote, no NUL, no line over FIELD_LIMIT), so every line is one
    # record and pyarrow reads it exactly as the csv module does; else the csv module's reading
    sheet: Sheet | None = None


def csv_start(path: Path) -> CsvStart:
    """The header and delimiter of a CSV file, and its reading by the csv module unless it is
    plain; ReadError as `read_table` raises it (V207 for bytes that are not UTF-8 in the lines
    read here; a plain file's later lines are checked by the reader that reads them)."""
    import mmap

    import numpy as np

    size = path.stat().st_size
    if size == 0:
        return CsvStart(None, ",")
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        plain = mm.find(b'"') < 0 and mm.find(b"\0") < 0
        if plain and size > FIELD_LIMIT:
            data = np.frombuffer(mm, dtype=np.uint8)
            ends = np.flatnonzero((data == 10) | (data == 13))
            plain = int(np.diff(ends, prepend=-1, append=size).max()) <= FIELD_LIMIT
            del data, ends     # the buffer's views go before the map is closed
        end = min((i for i in (mm.find(b"\n"), mm.find(b"\r")) if i >= 0), default=size)
        head = mm[:end]     # the first line (a line break is never inside a UTF-8 character)
    if not plain:
        sheet = _read_csv(path)
        return CsvStart(sheet.header, sheet.delimiter, sheet)
    try:
        first = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        _read_csv(path)     # raises V207 naming the line and byte
        raise               # not reached: the same bytes fail there
    delimiter = sniff_delimiter(first)
    return CsvStart(first.split(delimiter) if first else [], delimiter)


# Python's csv module stops at 131 072 characters a field by default. A cell of a data file is
# a code, a number or a sentence; a description may be long, so the limit is raised to 1 MiB.
# Past that, the field is almost always a stray quote (`"`) that swallowed the rest of the file.
FIELD_LIMIT = 1 << 20


def _next_row(reader, path: Path, text: str, delimiter: str) -> list[str] | None:
    """The next record, or None at the end; the csv module's errors (raised while rows are
    read) as ReadError naming the line where the record began."""
    start = reader.line_num + 1
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        reason = str(exc)
        quote = _opening_quote(text, start, delimiter)
        where = f"rad {start}"
        if "field larger than field limit" in reason:
            message = (f"{where}: ett fält i `{path.name}` är längre än "
                       f"{FIELD_LIMIT:,} tecken".replace(",", " "))
            hint = ("ett citattecken (\") som inte stängs gör resten av filen till ett fält; "
                    "ta bort det eller skriv det dubbelt (\"\")" if quote else
                    "korta fältet; en cell får vara högst 1 MiB text")
            raise ReadError("V216", message, start, quote or 1, hint=hint) from None
        message = f"{where}: raden i `{path.name}` kan inte läsas som CSV"
        if "unexpected end of data" in reason or quote:
            message += ": ett citattecken (\") stängs aldrig"
        elif "NUL" in reason or "\\x00" in reason or "null byte" in reason.lower():
            message += ": den innehåller ett nolltecken (NUL)"
        raise ReadError("V217", message, start, quote or 1,
                        hint="kontrollera citattecknen på raden; ett citattecken i en cell skrivs "
                        "dubbelt (\"\"), och spara filen som CSV UTF-8") from None


def _opening_quote(text: str, line: int, delimiter: str) -> int | None:
    """The 1-based column of the quote on `line` that opens a field and is never closed on it
    (the stray one), or None."""
    found = source_line(text, line)
    if found is None:
        return None
    row = found[:FIELD_LIMIT]
    opened, field_start, i = None, True, 0
    while i < len(row):
        ch = row[i]
        if opened is not None:
            if ch == '"':
                if row[i + 1:i + 2] == '"':
                    i += 1
                else:
                    opened = None
        elif ch == '"' and field_start:
            opened = i
        field_start = opened is None and ch == delimiter
        i += 1
    return opened + 1 if opened is not None else None


# ---- Excel -----------------------------------------------------------------------------------

def _damaged(path: Path, kind: str, line: int = 1) -> ReadError:
    """The library's own (English) reason is left out: the message is for the person."""
    if kind == "xlsx":
        return ReadError("V212", f"filen `{path.name}` kan inte läsas som Excel-arbetsbok "
                         "(.xlsx): den är skadad eller ingen arbetsbok", line,
                         hint="öppna filen i Excel och spara den igen som Excel-arbetsbok "
                         "(.xlsx), eller spara den som CSV UTF-8")
    return ReadError("V212", f"filen `{path.name}` kan inte läsas som Parquet-fil: den är "
                     "skadad eller ingen Parquet-fil", line,
                     hint="skriv filen igen med ett program som skriver Parquet (t.ex. "
                     "pyarrow eller DuckDB), eller spara den som CSV UTF-8")


def excel_text(value: Any) -> str:
    """One Excel cell value as canonical text: the number, date or boolean a person sees."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return TypedText("ja" if value else "nej")
    if isinstance(value, int):
        return TypedText(str(value))
    if isinstance(value, float):
        return TypedText(float_text(value))
    if isinstance(value, Decimal):
        return TypedText(format(value, "f"))
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return TypedText(value.date().isoformat())
        return TypedText(value.isoformat(sep=" "))
    if isinstance(value, (date, time)):
        return TypedText(value.isoformat())
    if isinstance(value, timedelta):
        return TypedText(str(value))
    return str(value)


def float_text(value: float) -> str:
    """A binary float as the shortest decimal text that is exactly it: 1234.5, 123, 0.00001.

    `str()` of a float is the shortest text that reads back as the same float; going through
    Decimal only writes it without an exponent. No arithmetic is done on the float.
    """
    if not math.isfinite(value):
        return str(value)               # NaN/inf: not a number, and the parser says so
    if value.is_integer():
        return str(int(value))
    return format(Decimal(str(value)), "f")


def _read_xlsx(path: Path, columns: Collection[str] | None) -> Sheet:
    import openpyxl  # only when a workbook is read

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:   # noqa: BLE001 - any damage in the zip/XML: say so, in Swedish
        raise _damaged(path, "xlsx") from None
    try:
        if not workbook.worksheets:
            raise ReadError("V212", f"filen `{path.name}` har inga kalkylblad",
                            hint="lägg tabellen på det första bladet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()   # a file's stated size may be wrong: read what is there
        cells = sheet.iter_rows(min_row=1, values_only=True)
        header: list[str] | None = None
        number = 0
        # `number` is read after the loop, by rows(); empty rows come as ()
        for number, values in enumerate(cells, start=1):  # noqa: B007
            texts = [excel_text(v) for v in values]
            if not is_blank(texts):
                header = _trim(texts)
                break
    except ReadError:
        workbook.close()
        raise
    except Exception:   # noqa: BLE001
        workbook.close()
        raise _damaged(path, "xlsx") from None
    if header is None:
        workbook.close()
        return Sheet("xlsx", None, iter(()))

    def rows() -> Iterator[tuple[int, list[str]]]:
        line = number
        try:
            for line, values in enumerate(cells, start=number + 1):
                # every cell, declared or not: a row with only an undeclared cell is a row
                texts = _trim([excel_text(v) for v in values])
                if len(texts) < len(header):
                    texts += [""] * (len(header) - len(texts))
                yield line, texts
        except ReadError:
            raise
        except Exception:   # noqa: BLE001
            raise _damaged(path, "xlsx", line + 1) from None
        finally:
            workbook.close()

    return Sheet("xlsx", header, rows())


def _trim(texts: list[str]) -> list[str]:
    """Trailing empty cells are not fields: Excel rows are as wide as their last value."""
    end = len(texts)
    while end and texts[end - 1] == "":
        end -= 1
    return texts[:end]


# ---- Parquet ---------------------------------------------------------------------------------

BATCH_ROWS = 65_536


def _read_parquet(path: Path, columns: Collection[str] | None) -> Sheet:
    import pyarrow as pa  # only when a Parquet file is read
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
        schema = source.schema_arrow
    except Exception:   # noqa: BLE001 - damage in footer or metadata
        raise _damaged(path, "parquet") from None
    header = [str(n) for n in schema.names]
    wanted = header if columns is None else [h for h in header if trim(h) in set(columns)]
    others = [h for h in header if h not in wanted]
    for name in wanted:
        kind = schema.field(name).type
        if _converter(kind, pa) is None:
            raise ReadError("V213", f"kolumnen `{name}` i `{path.name}` har typen {kind}, som "
                            "inte kan läsas som en cell", 1, header.index(name) + 1,
                            hint="spara kolumnen som text, heltal, decimal, datum eller "
                            "sant/falskt")
    positions = [header.index(n) for n in wanted]

    def rows() -> Iterator[tuple[int, list[str]]]:
        line = 1
        try:
            for batch in source.iter_batches(batch_size=BATCH_ROWS, columns=wanted + others):
                n = batch.num_rows
                texts = [[""] * len(header) for _ in range(n)]
                for pos, name in zip(positions, wanted):
                    column = batch.column(batch.schema.get_field_index(name))
                    convert = _converter(column.type, pa)
                    for i, value in enumerate(column.to_pylist()):
                        texts[i][pos] = "" if value is None else convert(value)
                for name in others:   # only whether they hold something: see FILLED
                    pos = header.index(name)
                    column = batch.column(batch.schema.get_field_index(name))
                    for i in filled_cells(column).nonzero()[0]:
                        texts[i][pos] = FILLED
                for cells in texts:
                    line += 1
                    yield line, cells
        except ReadError:
            raise
        except Exception:   # noqa: BLE001
            raise _damaged(path, "parquet", line + 1) from None

    return Sheet("parquet", header, rows())


# An undeclared Parquet column's cell that holds something (not null, and for text not blank)
# comes out as FILLED, not as its value: a table only asks whether a row is blank.
FILLED = "\u2026"


def filled_cells(column):
    """Which cells of an Arrow column hold something, as a numpy bool array: not null, and for
    text not blank after trimming (`cells.trim`)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    t = pa.types
    kind = column.type.value_type if t.is_dictionary(column.type) else column.type
    if t.is_string(kind) or t.is_large_string(kind):
        trimmed = pc.utf8_trim(column.cast(kind), characters=WHITESPACE)
        filled = pc.and_(pc.is_valid(trimmed), pc.not_equal(trimmed, ""))
    else:
        filled = pc.is_valid(column)
    return np.asarray(filled.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def check_parquet(path: Path) -> ReadError | None:
    """V212 if the Parquet file cannot be read to its end (footer, metadata or any data page
    damaged), else None. For engines that read the file themselves and fail in English."""
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
    except Exception:   # noqa: BLE001
        return _damaged(path, "parquet")
    line = 1
    try:
        for batch in source.iter_batches(batch_size=BATCH_ROWS):
            line += batch.num_rows
    except Exception:   # noqa: BLE001
        return _damaged(path, "parquet", line + 1)
    return None


def _converter(kind, pa):
    """Text for one Arrow value of type `kind`, or None if the type has no cell form."""
    t = pa.types
    if t.is_dictionary(kind):
        return _converter(kind.value_type, pa)
    if t.is_string(kind) or t.is_large_string(kind) or \
            (hasattr(t, "is_string_view") and t.is_string_view(kind)):
        return str
    if t.is_boolean(kind):
        return lambda v: TypedText("ja" if v else "nej")
    if t.is_integer(kind):
        return lambda v: TypedText(str(v))
    if t.is_decimal(kind):
        return lambda v: TypedText(format(v, "f"))        # Arrow decimal → exact Decimal
    if t.is_floating(kind):
        return lambda v: TypedText(float_text(float(v)))
    if t.is_date(kind) or t.is_timestamp(kind):
        return excel_text                                 # date → ISO; midnight → the date
    if t.is_null(kind):
        return lambda v: ""
    return None
