"""Writing results: CSV, UTF-8, `.` as decimal point, written atomically (temp file + rename).

A killed run leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..eval.engine import Result
from ..eval.values import VERDICTS, money_text, to_decimal

Utfall = Literal["uppfyllt", "ej uppfyllt", "underlag saknas", "bedömning krävs"]
assert set(VERDICTS) == set(Utfall.__args__)  # one list of verdicts


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


RESULT_COLUMNS = list(ResultRow.model_fields)
INVOICE_COLUMNS = list(InvoiceRow.model_fields)
POT_COLUMNS = list(PotRow.model_fields)


@contextmanager
def atomic_path(path: Path):
    """A temp file beside `path`, renamed over it only when the block succeeds.

    Every writer of results goes through here (CSV text, Arrow tables, Excel), so a killed run
    leaves the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; an output file is an ordinary file
    try:
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
    if x is None:
        return ""
    return format(to_decimal(x, 6).normalize(), "f") if (x * 100).denominator != 1 \
        else money_text(x)


def _money(x) -> Decimal | None:
    return Decimal(money_text(x)) if x is not None else None


def result_rows(result: Result) -> list[ResultRow]:
    return [ResultRow(mottagare=r.recipient.code, namn=r.recipient.name, villkor=r.villkor,
                      utfall=r.verdict.value, belopp=_money(r.amount), exakt_belopp=_exact(r.exact),
                      betalas_senast=r.due, version=r.version, källa=r.sources,
                      anmärkning=r.note)
            for r in result.rows]


def pot_rows(result: Result) -> list[PotRow]:
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


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def to_csv(rows: list[BaseModel], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_cell(getattr(row, c)) for c in columns])
    return buf.getvalue()


def results_csv(result: Result) -> str:
    return to_csv(result_rows(result), RESULT_COLUMNS)


def pots_csv(result: Result) -> str:
    return to_csv(pot_rows(result), POT_COLUMNS)


def side_path(out: Path, kind: str) -> Path:
    """Side files live beside the result: utfall.csv → utfall.potter.csv, utfall.fakturor.csv."""
    return out.with_name(f"{out.stem}.{kind}{out.suffix or '.csv'}")


def write_result(result: Result, out: Path) -> list[Path]:
    """Side files first, the result last: a result file present means the run completed."""
    written = [side_path(out, "potter")]
    write_atomic(written[0], pots_csv(result))
    if result.has_invoicing:
        written.append(side_path(out, "fakturor"))
        write_atomic(written[-1], to_csv(invoice_rows(result), INVOICE_COLUMNS))
    write_atomic(out, results_csv(result))
    return written
