"""The run ledger: every `villkor run` recorded in a DuckDB file, so a result can be traced and
reproduced — the agreement's hash and version in force, the inputs' hashes, parameters, as-of
date, engine and its version, row and error counts, each pot's totals, the output's hash, time.

Amounts are stored as exact decimal text, never as floating point.

DuckDB lets one process at a time open a database file for writing (and a reader waits for no
writer either), so two runs into one folder, or `villkor history` during a run, meet a lock:
each side retries with backoff for up to `LOCK_WAIT` seconds. The table is created in the same
transaction as the first row, so a run killed mid-way leaves the ledger as it was or with the
new row — and a ledger with no table yet simply has no runs.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from . import LEDGER_NAME  # beside the results; `history` looks in the cwd (write/__init__.py)

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS körning_id;
CREATE TABLE IF NOT EXISTS körningar (
    id BIGINT PRIMARY KEY DEFAULT nextval('körning_id'),
    tid TIMESTAMP NOT NULL,
    överenskommelse VARCHAR NOT NULL,
    överenskommelse_sha256 VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    per DATE,
    parametrar VARCHAR NOT NULL,
    indata VARCHAR NOT NULL,
    motor VARCHAR NOT NULL,
    motorversion VARCHAR NOT NULL,
    rader BIGINT NOT NULL,
    fel BIGINT NOT NULL,
    potter VARCHAR NOT NULL,
    utdata VARCHAR NOT NULL,
    utdata_sha256 VARCHAR NOT NULL,
    sekunder DOUBLE NOT NULL
);
"""

SUFFIX = ".duckdb"
MAGIC = b"DUCK"          # a DuckDB file holds these bytes at offset 8
LOCK_WAIT = 30.0         # seconds a run or `history` waits for another process's lock
INPUT_SUFFIXES = (".csv", ".xlsx", ".parquet")

T = TypeVar("T")


class LedgerError(Exception):
    """A ledger that cannot be used, said in Swedish: (code, message, hint)."""

    def __init__(self, code: str, message: str, hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Run:
    agreement: Path
    version: str
    per: date | None
    params: dict[str, Any]
    data_dir: Path
    engine: str
    rows: int
    errors: int
    pots: list[dict[str, str]]     # utbetalning, villkor, pott, utbetalt (exact text)
    output: Path
    seconds: float
    files: tuple[str, ...] = ()    # the data files the agreement names (else: every data file)
    # hashes taken before the run evaluated (see `input_hashes`); None: hashed when recorded
    agreement_sha256: str | None = None
    inputs: dict[str, str] | None = field(default=None)


def default_ledger(out: Path) -> Path:
    """Beside the results: `out/utfall.csv` → `out/villkor-körningar.duckdb`."""
    return out.parent / LEDGER_NAME


def input_hashes(data_dir: Path, files: tuple[str, ...] = ()) -> dict[str, str]:
    """The SHA-256 of each data file the agreement reads (`files`; none named: every data file
    in the folder). Taken before the run, so the ledger holds what was read."""
    data_dir = Path(data_dir)
    if files:
        named = [data_dir / f for f in files]
    else:
        try:
            named = sorted(data_dir.iterdir())
        except OSError:
            named = []
    return {p.name: sha256(p) for p in named
            if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES}


def check_ledger(ledger: Path) -> None:
    """LedgerError V308 unless `ledger` can be a ledger: a `.duckdb` path that is absent or a
    DuckDB database file."""
    hint = f"ange en fil som slutar på .duckdb, t.ex. --logg {LEDGER_NAME}"
    if ledger.suffix.lower() != SUFFIX:
        raise LedgerError("V308", f"körningsloggen `{ledger}` ska vara en DuckDB-fil som slutar "
                          "på .duckdb", hint)
    if ledger.is_dir():
        raise LedgerError("V308", f"körningsloggen `{ledger}` är en mapp, ingen fil", hint)
    if not ledger.exists():
        for parent in ledger.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise LedgerError("V308", f"körningsloggen `{ledger}` kan inte skapas: "
                                      f"`{parent}` är ingen mapp", hint)
                break
        return
    if not ledger.is_file():
        raise LedgerError("V308", f"körningsloggen `{ledger}` är ingen vanlig fil", hint)
    try:
        with open(ledger, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise LedgerError("V308", f"körningsloggen `{ledger}` kan inte läsas "
                          f"({os_reason(exc)})", "kontrollera filens rättigheter") from None
    if head[8:12] != MAGIC:
        raise LedgerError("V308", f"filen `{ledger}` är ingen körningslogg (ingen "
                          "DuckDB-databas)", "ange en annan fil med --logg; den här filen "
                          "lämnas orörd")


def os_reason(exc: OSError) -> str:
    """An operating-system error in Swedish (the English strerror is left out)."""
    import errno

    reasons = {
        errno.ENOSPC: "disken är full", errno.EDQUOT: "diskkvoten är slut",
        errno.EACCES: "behörighet saknas", errno.EPERM: "behörighet saknas",
        errno.EROFS: "filsystemet är skrivskyddat", errno.EISDIR: "det är en mapp",
        errno.ENOTDIR: "en del av sökvägen är ingen mapp", errno.ENOENT: "mappen finns inte",
        errno.ENAMETOOLONG: "namnet är för långt", errno.EEXIST: "namnet är upptaget",
        errno.EIO: "in/ut-fel på enheten", errno.EFBIG: "filen blir för stor",
        errno.EBUSY: "filen är upptagen", errno.ETXTBSY: "filen är upptagen",
        errno.EXDEV: "filen ligger på en annan enhet",
        errno.ELOOP: "för många symboliska länkar",
        errno.EINVAL: "ogiltigt filnamn",
    }
    reason = reasons.get(exc.errno or -1)
    if reason is None:
        name = errno.errorcode.get(exc.errno or -1, "okänt")
        reason = f"systemfel {name}"
    return reason


def _is_lock(exc: Exception) -> bool:
    import duckdb

    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def _with_lock_retry(action: Callable[[], T], wait: float | None = None) -> T:
    """`action()`, retried with backoff while another process holds the ledger's lock."""
    deadline = time.monotonic() + (LOCK_WAIT if wait is None else wait)
    delay = 0.02
    while True:
        try:
            return action()
        except Exception as exc:
            if not _is_lock(exc) or time.monotonic() >= deadline:
                if _is_lock(exc):
                    raise LedgerError("V313", f"körningsloggen är låst av en annan körning "
                                      f"sedan mer än {LOCK_WAIT:.0f} s",
                                      "vänta tills den andra körningen är klar") from None
                raise
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())) * random.uniform(0.5, 1.0))
        delay = min(delay * 1.6, 0.5)


def record(ledger: Path, run: Run) -> int:
    import duckdb  # only when a run is recorded

    from .. import __version__

    check_ledger(ledger)
    # the files the agreement reads, not whatever else lies in the folder (earlier outputs)
    inputs = run.inputs if run.inputs is not None else input_hashes(run.data_dir, run.files)
    agreement_hash = run.agreement_sha256 or sha256(run.agreement)
    row = [datetime.now(), str(run.agreement), agreement_hash, run.version, run.per,
           json.dumps({k: str(v) for k, v in run.params.items()}, ensure_ascii=False),
           json.dumps(inputs, ensure_ascii=False), run.engine, __version__, run.rows,
           run.errors, json.dumps(run.pots, ensure_ascii=False), str(run.output),
           sha256(run.output), run.seconds]
    ledger.parent.mkdir(parents=True, exist_ok=True)

    def write() -> int:
        with duckdb.connect(str(ledger)) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(SCHEMA)
                run_id = con.execute(
                    "INSERT INTO körningar (tid, överenskommelse, överenskommelse_sha256, "
                    "version, per, parametrar, indata, motor, motorversion, rader, fel, potter, "
                    "utdata, utdata_sha256, sekunder) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    row).fetchall()[0][0]   # one row, always
                con.execute("COMMIT")
            except BaseException:
                try:
                    con.execute("ROLLBACK")
                except Exception:   # noqa: BLE001 - the first error is the one to report
                    pass
                raise
            return run_id

    return _with_lock_retry(write)


def history(ledger: Path, wait: float | None = None) -> list[dict[str, Any]]:
    """Every recorded run, oldest first; [] for a ledger with no table yet."""
    return _select(ledger, "ORDER BY id", [], wait)


def find_run(ledger: Path, run_id: int, wait: float | None = None) -> dict[str, Any] | None:
    """One recorded run by its number, or None if the ledger has no such run."""
    rows = _select(ledger, "WHERE id = ?", [run_id], wait)
    return rows[0] if rows else None


def run_ids(ledger: Path, wait: float | None = None) -> tuple[int, int, int] | None:
    """(count, lowest, highest) run number, or None for a ledger without runs."""
    rows = _select(ledger, "ORDER BY id", [], wait, "count(*) OVER () AS n, "
                   "min(id) OVER () AS lo, max(id) OVER () AS hi", limit=1)
    return (rows[0]["n"], rows[0]["lo"], rows[0]["hi"]) if rows else None


def _select(ledger: Path, where: str, args: list[Any], wait: float | None,
            columns: str = "*", limit: int | None = None) -> list[dict[str, Any]]:
    import duckdb

    check_ledger(ledger)

    def read() -> list[dict[str, Any]]:
        with duckdb.connect(str(ledger), read_only=True) as con:
            exists = con.execute("SELECT count(*) FROM duckdb_tables() "
                                 "WHERE table_name = 'körningar'").fetchall()[0][0]
            if not exists:
                return []
            cur = con.execute(f"SELECT {columns} FROM körningar {where}"
                              + (f" LIMIT {int(limit)}" if limit else ""), args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    return _with_lock_retry(read, wait)
