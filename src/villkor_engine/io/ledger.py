"""The run ledger: every `villkor run` recorded in a DuckDB file, so a result can be traced and
reproduced — the agreement's hash and version in force, the inputs' hashes, parameters, as-of
date, engine and its version, row and error counts, each pot's totals, the output's hash, time.

Amounts are stored as exact decimal text, never as floating point.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

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


def default_ledger(out: Path) -> Path:
    """Beside the results: `out/utfall.csv` → `out/villkor-körningar.duckdb`."""
    return out.parent / "villkor-körningar.duckdb"


def record(ledger: Path, run: Run) -> int:
    import duckdb   # only when a run is recorded

    from .. import __version__

    # the files the agreement reads, not whatever else lies in the folder (earlier outputs)
    named = [Path(run.data_dir) / f for f in run.files] if run.files else \
        sorted(Path(run.data_dir).iterdir())
    inputs = {p.name: sha256(p) for p in named
              if p.is_file() and p.suffix.lower() in (".csv", ".xlsx", ".parquet")}
    ledger.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(ledger)) as con:
        con.execute(SCHEMA)
        return con.execute(
            "INSERT INTO körningar (tid, överenskommelse, överenskommelse_sha256, version, per, "
            "parametrar, indata, motor, motorversion, rader, fel, potter, utdata, utdata_sha256, "
            "sekunder) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [datetime.now(), str(run.agreement), sha256(run.agreement), run.version, run.per,
             json.dumps({k: str(v) for k, v in run.params.items()}, ensure_ascii=False),
             json.dumps(inputs, ensure_ascii=False), run.engine, __version__, run.rows,
             run.errors, json.dumps(run.pots, ensure_ascii=False), str(run.output),
             sha256(run.output), run.seconds]).fetchone()[0]


def history(ledger: Path) -> list[dict[str, Any]]:
    import duckdb

    with duckdb.connect(str(ledger), read_only=True) as con:
        cur = con.execute("SELECT * FROM körningar ORDER BY id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]
