"""Generate certificate records for bench/intyg.villkor: `python bench/generate_intyg.py N DIR`.

Writes DIR/intyg.parquet (seeded): N certificates over 400 care units in 7 insurance centres,
dated 2009-12-15 … 2011-01-15 (a few outside 2010), five mandatory items as booleans, each
present with a unit-specific probability so that some units reach 70 % and some do not. Units
VC-0013 and VC-0271 have a few blank items (`underlag saknas` for them and their centres).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

UNITS, CENTRES = 400, 7
ITEMS = ("diagnos", "funktionsnedsättning", "aktivitetsbegränsning", "arbetsförmåga", "prognos")


def generate(n: int, target: Path, seed: int = 2010) -> Path:
    rng = np.random.default_rng(seed)
    target.mkdir(parents=True, exist_ok=True)
    unit = rng.integers(0, UNITS, n)
    quality = rng.uniform(0.88, 0.98, UNITS)[unit]      # per unit: chance of each item present
    start = (date(2009, 12, 15) - date(1970, 1, 1)).days
    days = rng.integers(start, start + 397, n).astype("int32")
    units = pa.array([f"VC-{i:04d}" for i in range(UNITS)]).take(pa.array(unit))
    centres = pa.array([f"LFC{i % CENTRES + 1}" for i in range(UNITS)]).take(pa.array(unit))
    columns = {"intygsid": pa.array(np.char.add("I", np.arange(n).astype(str))),
               "enhet": units, "center": centres,
               "datum": pa.array(days, pa.int32()).cast(pa.date32())}
    for item in ITEMS:
        present = rng.random(n) < quality
        blank = np.isin(unit, (13, 271)) & (rng.random(n) < 0.001)
        columns[item] = pa.array(present, mask=blank)
    path = target / "intyg.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=1_000_000)
    return path


if __name__ == "__main__":
    print(generate(int(sys.argv[1]), Path(sys.argv[2])))
