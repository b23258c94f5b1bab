"""Writing results: CSV, Excel or Parquet by the output file's extension, written atomically.

CSV is UTF-8 with `.` as decimal point; a text cell that a spreadsheet would take for a formula
gets a leading apostrophe (`csv_text`). An Excel workbook has one sheet with the same columns,
amounts as numbers whose XML text is the exact decimal and every text a text cell; a Parquet file
types its columns (amounts decimal(18, 2), dates date32, counts and row numbers int64, the rest
strings). A killed run leaves either the old file or the new one, never half of one, and its temp
file is removed by the next write into the same folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import operator
import os
import re
import socket
import stat
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args, overload

from pydantic import BaseModel, ConfigDict, Field

from ..eval.values import VERDICTS, money_text
from ..gcpause import paused_gc

if TYPE_CHECKING:   # only named in annotations: writing needs no evaluator loaded
    from ..eval.engine import PotSummary, Result

Utfall = Literal["uppfyllt", "ej uppfyllt", "underlag saknas", "bedömning krävs"]
assert set(VERDICTS) == set(get_args(Utfall))  # one list of verdicts


class ResultRow(BaseModel):
    """The output contract: one recipient under one villkor (or `summa`). Money stays Decimal."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    mottagare: str
    namn: str
    villkor: str
    utfall: Utfall
    belopp: Decimal | None
    exakt_belopp: str
    betalas_senast: date | None
    version: str
    källa: str
    anmärkning: str


class PotRow(BaseModel):
    """One payment rule's totals: what was to be shared, what is paid, the rounding difference."""

    utbetalning: str
    villkor: str
    pott: Decimal | None
    exakt_fördelat: str
    utbetalt: Decimal
    avrundningsdifferens: str
    uppfyllt: int = Field(ge=0)
    ej_uppfyllt: int = Field(ge=0)
    underlag_saknas: int = Field(ge=0)
    bedömning_krävs: int = Field(ge=0)
    anmärkning: str


class InvoiceRow(BaseModel):
    """One invoice line: accepted, or rejected with a finding per broken rule."""

    fakturering: str
    fil: str
    rad: int
    mottagare: str
    produktkod: str
    månad: str
    antal: Decimal | None
    belopp: Decimal | None
    status: Literal["godkänd", "avvisad"]
    anmärkning: str


class ErrorRow(BaseModel):
    """One bad input row the columnar engine skipped (`UT.fel.csv`)."""

    fil: str
    rad: int
    kolumn: str
    meddelande: str


RESULT_COLUMNS = list(ResultRow.model_fields)
INVOICE_COLUMNS = list(InvoiceRow.model_fields)
POT_COLUMNS = list(PotRow.model_fields)
ERROR_COLUMNS = list(ErrorRow.model_fields)


# ---- atomic writes ---------------------------------------------------------------------------

# A temp file is named `.<target>.villkor-<pid>-<host>-<random>.tmp`: the writing process and a
# tag of its host, so a later write into the folder can tell a dead run's leftover from a live
# one's file (see `remove_stale_temp_files`).
_HOST_TAG = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_TEMP_NAME = re.compile(r"(?:tmp_)?\..+\.villkor-(?P<pid>[0-9]+)-(?P<host>[0-9a-f]{8})-"
                        r"[A-Za-z0-9_]+\.tmp")
STALE_AFTER = 3600.0   # seconds: a temp file untouched this long belongs to no live write


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True      # another user's live process
    except OSError:
        return True      # cannot tell: keep the file
    return True


def remove_stale_temp_files(folder: Path, now: float | None = None) -> list[Path]:
    """Remove the temp files of atomic writes into `folder` that no live write owns.

    Only names of our own pattern (and DuckDB's `tmp_` form of them) are considered. A file is
    stale when it was written on this host by a process that is gone, or when it has not been
    modified for `STALE_AFTER` seconds (another host's run, whose process cannot be asked, or a
    process id used again). A concurrent run's temp file is left alone.
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        dead = match["host"] == _HOST_TAG and not _process_alive(int(match["pid"]))
        if dead or now - info.st_mtime > STALE_AFTER:
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass     # another run removed it first, or it is not ours to remove
    return removed


def _write_target(path: Path) -> Path:
    """Where a write to `path` goes: a symlink's target (the link stays a link), else `path`."""
    if os.path.islink(path):
        return Path(os.path.realpath(path))
    return path


@contextmanager
def atomic_path(path: Path):
    """A temp file beside `path`, renamed over it only when the block succeeds.

    Every writer of results goes through here (CSV text, Arrow tables, Excel), so a killed run
    leaves the old file or the new one, never half of one; the next write into the folder
    removes what a killed run left (`remove_stale_temp_files`). A symlink is written through:
    its target is replaced and the link stays. A file that exists keeps its permission bits (and
    owner, where allowed); a new file gets the ordinary ones (0666 less the umask).
    """
    path = _write_target(Path(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.villkor-{os.getpid()}-{_HOST_TAG}-",
                               suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        try:
            old = os.stat(path)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; an output is an ordinary file
        else:
            if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.chown(tmp, old.st_uid, old.st_gid)
                except OSError:
                    pass
            os.chmod(tmp, stat.S_IMODE(old.st_mode))
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _exact(x) -> str:
    """The exact amount's column: money_text's digits (whole öre as is, else 6 decimals)."""
    if x is None:
        return ""
    return money_text(x)


@overload
def _money(x: Fraction) -> Decimal: ...
@overload
def _money(x: Fraction | None) -> Decimal | None: ...
def _money(x: Fraction | None) -> Decimal | None:
    return Decimal(money_text(x)) if x is not None else None


def result_rows(result: Result) -> list[ResultRow]:
    """One validated ResultRow per result row.

    Validation stays on: pydantic-core checks a row in about 1.5 µs, less than model_construct's
    Python loop (about 3.5 µs) and far less than computing the row, so the contract is enforced
    for every row at no cost worth saving. The cyclic collector is paused meanwhile (see
    gcpause.py): it would walk every row and step of the result again and again.
    (`_value_` is the verdict's text without the `value` property's descriptor call.)
    """
    with paused_gc():
        return [ResultRow(mottagare=r.recipient.code, namn=r.recipient.name, villkor=r.villkor,
                          utfall=r.verdict._value_, belopp=_money(r.amount),
                          exakt_belopp=_exact(r.exact), betalas_senast=r.due, version=r.version,
                          källa=r.sources, anmärkning=r.note)
                for r in result.rows]


class HasPots(Protocol):
    """What `pot_rows` reads: a Result, or the column engine's pots."""

    @property
    def pots(self) -> Sequence[PotSummary]: ...


def pot_rows(result: HasPots) -> list[PotRow]:
    return [PotRow(utbetalning=p.payment.name, villkor=p.villkor or "", pott=_money(p.pot),
                   exakt_fördelat=_exact(p.exact_total), utbetalt=_money(p.paid_total),
                   avrundningsdifferens=_exact(p.rounding_difference),
                   uppfyllt=p.counts["uppfyllt"], ej_uppfyllt=p.counts["ej uppfyllt"],
                   underlag_saknas=p.counts["underlag saknas"],
                   bedömning_krävs=p.counts["bedömning krävs"], anmärkning="; ".join(p.notes))
            for p in result.pots]


def invoice_rows(result: Result) -> list[InvoiceRow]:
    return [InvoiceRow(fakturering=x.invoicing, fil=x.file, rad=x.line, mottagare=x.recipient,
                       produktkod=x.product, månad=x.month,
                       antal=_money(x.quantity), belopp=_money(x.amount), status=x.status,
                       anmärkning="; ".join(x.findings))
            for x in result.invoices]


# ---- CSV --------------------------------------------------------------------------------------

# A spreadsheet opening a CSV file takes a cell that begins with one of these for a formula
# (OWASP, "CSV Injection"). Such a text cell is written with a leading apostrophe: the program
# shows text and runs nothing. Amounts, dates, counts and row numbers are never changed, so a
# negative amount stays `-70000`. The column engine's SQL does the same (`csv_text_sql`).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = frozenset(FORMULA_START)


def csv_text(value: str) -> str:
    """A text cell as CSV output writes it: `'` before a formula's first character."""
    return "'" + value if value[:1] in _FORMULA_START else value


def csv_text_read(value: str) -> str:
    """`csv_text` undone: a text cell read back from a CSV file villkor wrote."""
    return value[1:] if value[:1] == "'" and value[1:2] in _FORMULA_START else value


# Result columns whose text is only ever the agreement's own words: a villkor's id or a payment's
# name (the grammar's VID and NAME: digits, letters, `_`), a verdict, the version's label and the
# `dokument: avsnitt` list (a NAME first). None can begin with a FORMULA_START character, so
# `csv_text` leaves them as they are and the column engine's SQL need not test every cell.
AGREEMENT_WORDS = frozenset({"villkor", "utfall", "version", "källa"})


def csv_text_sql(column: str) -> str:
    """`csv_text` as an SQL expression over the text column `column` (an SQL identifier);
    NULL stays NULL."""
    # `starts_with … OR …`, not `IN (…)`: DuckDB turns a list of constants into a join, and
    # a join does not keep the rows in order (the result is written without a sort)
    test = " OR ".join(f"starts_with({column}, '{c}')" for c in FORMULA_START)
    return f"CASE WHEN {test} THEN '''' || {column} ELSE {column} END"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def to_csv(rows: Sequence[BaseModel], columns: list[str]) -> str:
    """Most cells are already text: they go to the writer as they are, the rest through _cell
    (with the cyclic collector paused, as for result_rows)."""
    get = operator.attrgetter(*columns) if len(columns) > 1 else \
        (lambda row: (getattr(row, columns[0]),))
    with paused_gc():
        return _csv_text(columns, (get(row) for row in rows))


def _csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The header and the rows as CSV text: a text cell as it is, other values through _cell,
    and then every cell of a text column (see `KINDS`) by the `csv_text` rule."""
    text = [i for i, c in enumerate(columns) if KINDS.get(c, "text") == "text"]

    def cells(row: Sequence[Any]) -> list[str]:
        out = [v if type(v) is str else _cell(v) for v in row]
        for i in text:
            if out[i][:1] in _FORMULA_START:   # the usual cell costs one set lookup
                out[i] = csv_text(out[i])
        return out

    buf = _LineFeedRows()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    w.writerows(map(cells, rows))
    return "".join(buf.parts)


class _LineFeedRows:
    """csv.writer's target: the writer ends each row in CRLF, so it quotes a cell holding a CR
    as it quotes one holding a LF (with `\n` alone Python 3.11 leaves a bare CR unquoted, and a
    reader splits the row there; DuckDB quotes it); the text gets `\n`, as before."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, row: str) -> None:   # one call per row, terminator included
        self.parts.append(row[:-2] + "\n")


def results_csv(result: Result) -> str:
    return to_csv(result_rows(result), RESULT_COLUMNS)


def pots_csv(result: Result) -> str:
    return to_csv(pot_rows(result), POT_COLUMNS)


def side_path(out: Path, kind: str) -> Path:
    """Side files live beside the result: utfall.csv → utfall.potter.csv, utfall.fakturor.csv."""
    return out.with_name(f"{out.stem}.{kind}{out.suffix or '.csv'}")


def write_result(result: Result, out: Path) -> list[Path]:
    """Side files first, the result last: a result file present means the run completed.

    The format follows `out`'s extension (see `output_format`); the side files share it.
    """
    output_format(out)
    written = [side_path(out, "potter")]
    write_models(written[0], pot_rows(result), POT_COLUMNS, "potter")
    if result.has_invoicing:
        written.append(side_path(out, "fakturor"))
        write_models(written[-1], invoice_rows(result), INVOICE_COLUMNS, "fakturor")
    write_models(out, result_rows(result), RESULT_COLUMNS, "resultat")
    return written


# ---- the format switch -----------------------------------------------------------------------

OUTPUT_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}


def output_format(path: str | Path) -> str:
    """`csv`, `xlsx` or `parquet` by the extension (any case; none at all is CSV, as before).

    Any other extension is a ValueError with a Swedish message, for a usage error before
    anything is computed.
    """
    suffix = Path(path).suffix.lower()
    if not suffix:
        return "csv"
    if suffix in OUTPUT_FORMATS:
        return OUTPUT_FORMATS[suffix]
    raise ValueError(f"utdatafilen `{Path(path).name}` har filändelsen `{suffix}`, som inget "
                     "utdataformat har; skriv .csv, .xlsx (Excel) eller .parquet")


def _kind(annotation: Any) -> str:
    args = get_args(annotation) or (annotation,)
    if Decimal in args:
        return "decimal"
    if date in args:
        return "date"
    if int in args:
        return "int"
    return "text"


# How each output column is typed in Excel and Parquet, from the row contracts above. The exact
# amounts are text (up to six decimals, as in CSV); blank there means unknown: null in Parquet.
def _kinds() -> dict[str, str]:
    kinds: dict[str, str] = {}
    for model in (ResultRow, PotRow, InvoiceRow, ErrorRow):
        for name, field in model.model_fields.items():
            kind = "exact" if name in ("exakt_belopp", "exakt_fördelat", "avrundningsdifferens") \
                else _kind(field.annotation)
            if kinds.setdefault(name, kind) != kind:   # one column name, one type everywhere
                raise TypeError(f"column {name} has two types: {kinds[name]}, {kind}")
    return kinds


KINDS = _kinds()


def write_models(path: Path, rows: Sequence[BaseModel], columns: list[str], sheet: str) -> None:
    """Rows of one contract (ResultRow, PotRow, …) to `path`, in the format of its extension."""
    if output_format(path) == "csv":
        write_atomic(path, to_csv(rows, columns))
    else:
        write_rows(path, columns, ([getattr(r, c) for c in columns] for r in rows), sheet)


def write_rows(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]],
               sheet: str = "resultat") -> None:
    """Typed values (Decimal, date, int, str, None) by column, in the format of `path`."""
    fmt = output_format(path)
    if fmt == "csv":
        write_atomic(path, _csv_text(columns, rows))
    elif fmt == "xlsx":
        write_bytes_atomic(path, _xlsx_bytes(columns, rows, sheet))
    else:
        write_bytes_atomic(path, _parquet_bytes(columns, rows))


def write_arrow(table, path: Path, sheet: str = "resultat") -> None:
    """An Arrow table of text columns (the columnar engine's result or error rows) to `path`.

    CSV through the same writer as the reference evaluator's rows (text columns by the
    `csv_text` rule); for Excel and Parquet each column is typed by its name as in `KINDS`:
    amounts `577898`/`1234.50` become exact decimals, `2021-03-31` a date.
    """
    columns = list(table.column_names)
    kinds = [KINDS.get(c, "text") for c in columns]
    data = [table.column(c).to_pylist() for c in columns]
    if output_format(path) == "csv":
        write_rows(path, columns, zip(*data), sheet)
        return
    rows = ([_typed(v, k) for v, k in zip(values, kinds)] for values in zip(*data))
    write_rows(path, columns, rows, sheet)


def _typed(value: Any, kind: str) -> Any:
    """A text cell as the value its column holds ('' and None are both no value)."""
    if not isinstance(value, str):
        return value
    if value == "" and kind != "text":
        return None
    if kind == "decimal":
        return Decimal(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "int":
        return int(value)
    return value


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


# ---- Excel -----------------------------------------------------------------------------------

def _xlsx_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str) -> bytes:
    from openpyxl import Workbook  # only for Excel output
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    wb.properties.creator = "villkor"
    ws = wb.create_sheet(sheet)
    ws.freeze_panes = "A2"
    ws.append([_xlsx_cell(ws, WriteOnlyCell, c) for c in columns])
    for row in rows:
        ws.append([_xlsx_cell(ws, WriteOnlyCell, v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return _reproducible_zip(buf.getvalue())


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")   # not allowed in the sheet's XML


def xlsx_text(value: str) -> str:
    """Text as a sheet's XML can hold it: a control character becomes U+FFFD."""
    return _ILLEGAL.sub("\ufffd", value)


def _xlsx_cell(ws, cell_type, value: Any):
    if value is None or value == "":
        return None   # no cell: an empty text cell is not a value either
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        cell = cell_type(ws, value=value)
        # openpyxl writes numbers with "%.16g", through a float; the XML is to hold the exact
        # decimal text, so the cell (a number, t="n") is given its text here. Excel reads it as
        # the number; a program reading the XML gets the amount exactly.
        cell._value = format(value, "f") if isinstance(value, Decimal) else str(value)
        return cell
    if isinstance(value, date):
        cell = cell_type(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    cell = cell_type(ws, value=xlsx_text(str(value)))
    cell.data_type = "s"   # text stays text: `=…` is not a formula
    return cell


def _reproducible_zip(data: bytes) -> bytes:
    """The same workbook gives the same bytes (the run ledger compares output hashes): fixed
    zip entry times, and no creation/modification time in the document properties."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>", b"",
                              body)
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, body)
    return out.getvalue()


# ---- Parquet ---------------------------------------------------------------------------------

def _parquet_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    import pyarrow as pa  # only for Parquet output
    import pyarrow.parquet as pq

    values = list(zip(*rows)) or [() for _ in columns]
    table = pa.table({c: _arrow_array(pa, KINDS.get(c, "text"), list(v))
                      for c, v in zip(columns, values)})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _arrow_array(pa, kind: str, values: list[Any]):
    if kind == "decimal":
        # decimal(18, 2): kronor and öre. An amount that is not whole öre (only where the
        # agreement declares no rounding; CSV shows it to six decimals) widens the scale rather
        # than being rounded here.
        scale = max([2] + [-d.normalize().as_tuple().exponent for d in values
                           if d is not None and d.normalize().as_tuple().exponent < 0])
        return pa.array(values, pa.decimal128(16 + scale, scale))
    if kind == "date":
        return pa.array(values, pa.date32())
    if kind == "int":
        return pa.array(values, pa.int64())
    if kind == "exact":
        return pa.array([v if v not in (None, "") else None for v in values], pa.string())
    return pa.array(["" if v is None else str(v) for v in values], pa.string())
