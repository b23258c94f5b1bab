"""Writing results: CSV, UTF-8, `.` as decimal point, written atomically (temp file + rename).

A killed run leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

from ..eval.engine import Result
from ..eval.values import money_text, to_decimal

RESULT_COLUMNS = ["mottagare", "namn", "villkor", "utfall", "belopp", "exakt_belopp",
                  "betalas_senast", "version", "källa", "anmärkning"]
POT_COLUMNS = ["utbetalning", "villkor", "pott", "exakt_fördelat", "utbetalt",
               "avrundningsdifferens", "uppfyllt", "ej_uppfyllt", "underlag_saknas",
               "bedömning_krävs", "anmärkning"]


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _exact(x) -> str:
    if x is None:
        return ""
    return format(to_decimal(x, 6).normalize(), "f") if (x * 100).denominator != 1 \
        else money_text(x)


def results_csv(result: Result) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(RESULT_COLUMNS)
    for r in result.rows:
        w.writerow([r.recipient.code, r.recipient.name, r.villkor, r.verdict.value,
                    money_text(r.amount) if r.amount is not None else "", _exact(r.exact),
                    r.due.isoformat() if r.due else "", r.version, r.sources, r.note])
    return buf.getvalue()


def pots_csv(result: Result) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(POT_COLUMNS)
    for p in result.pots:
        c = p.counts
        w.writerow([p.payment.name, p.villkor or "", money_text(p.pot) if p.pot is not None else "",
                    _exact(p.exact_total), money_text(p.paid_total),
                    _exact(p.rounding_difference), c["uppfyllt"], c["ej uppfyllt"],
                    c["underlag saknas"], c["bedömning krävs"], "; ".join(p.notes)])
    return buf.getvalue()


def pots_path(out: Path) -> Path:
    """The pot summary lives beside the result: utfall.csv → utfall.potter.csv."""
    return out.with_name(out.stem + ".potter" + (out.suffix or ".csv"))


def write_result(result: Result, out: Path) -> Path:
    pots = pots_path(out)
    write_atomic(pots, pots_csv(result))
    write_atomic(out, results_csv(result))
    return pots
