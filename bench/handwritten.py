"""The peer: a hand-written pyarrow + numpy script doing bench/pott.villkor's exact computation.

Usage: python bench/handwritten.py DIR OUT.csv — reads DIR/mottagare.csv, shares 1 000 000 000 kr
by befolkning among rows with a = b = ja, each share rounded half up to whole kronor in integers.
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

POT_KR = 1_000_000_000


def main(data_dir: str, out: str) -> None:
    t = pacsv.read_csv(f"{data_dir}/mottagare.csv", convert_options=pacsv.ConvertOptions(
        column_types={"id": pa.string(), "befolkning": pa.int64(), "a": pa.string(),
                      "b": pa.string()}))
    ok = pc.and_(pc.equal(pc.utf8_lower(t["a"]), "ja"), pc.equal(pc.utf8_lower(t["b"]), "ja"))
    ok = pc.fill_null(ok, False).to_numpy(zero_copy_only=False)
    pop = t["befolkning"].to_numpy()
    total = int(pop[ok].sum())
    share = np.zeros(len(pop), dtype=np.int64)
    share[ok] = (2 * POT_KR * pop[ok] + total) // (2 * total)
    n = len(pop)
    verdict = pa.array(np.where(ok, "uppfyllt", "ej uppfyllt"))
    belopp = pc.cast(pa.array(share), pa.string())
    rows = pa.concat_tables([
        pa.table({"mottagare": t["id"], "villkor": pa.array(["1"] * n), "utfall": verdict,
                  "belopp": belopp, "_i": pa.array(np.arange(n)), "_v": pa.array(np.zeros(n))}),
        pa.table({"mottagare": t["id"], "villkor": pa.array(["summa"] * n), "utfall": verdict,
                  "belopp": belopp, "_i": pa.array(np.arange(n)), "_v": pa.array(np.ones(n))}),
    ]).sort_by([("_i", "ascending"), ("_v", "ascending")]).drop_columns(["_i", "_v"])
    pacsv.write_csv(rows, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
