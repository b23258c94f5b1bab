"""The peer for bench/intyg.villkor: one hand-written DuckDB query over the Parquet file.

Usage: python bench/handwritten_intyg.py INTYG.parquet OUT.csv — per care unit (villkor 1) and
per insurance centre (villkor 2): `uppfyllt` when at least 70 % of 2010's certificates have all
five items `ja` (integers: 10·chosen ≥ 7·rows), `underlag saknas` when a certificate has a blank
item and no `nej` (SQL's three-valued AND orders them as `och` does) or there are none, else
`ej uppfyllt`. Writes villkor, mottagare, utfall (not villkor run's ten columns: what is compared
is the 407 verdicts, which bench/run.py checks against numpy).
"""

from __future__ import annotations

import sys

import duckdb

SQL = """
COPY (
  WITH t AS (
    SELECT enhet, center,
      datum BETWEEN DATE '2010-01-01' AND DATE '2010-12-31' AS år,
      diagnos AND funktionsnedsättning AND aktivitetsbegränsning AND arbetsförmåga AND prognos
        AS alla
    FROM read_parquet({src})),
  per AS (
    SELECT '1' AS villkor, enhet AS mottagare, COUNT(*) FILTER (WHERE år) AS n,
           COUNT(*) FILTER (WHERE år AND alla) AS k,
           COUNT(*) FILTER (WHERE år AND alla IS NULL) AS o FROM t GROUP BY enhet
    UNION ALL
    SELECT '2', center, COUNT(*) FILTER (WHERE år), COUNT(*) FILTER (WHERE år AND alla),
           COUNT(*) FILTER (WHERE år AND alla IS NULL) FROM t GROUP BY center)
  SELECT villkor, mottagare,
    CASE WHEN o > 0 OR n = 0 THEN 'underlag saknas' WHEN 10 * k >= 7 * n THEN 'uppfyllt'
         ELSE 'ej uppfyllt' END AS utfall
  FROM per ORDER BY villkor, mottagare
) TO {out} (FORMAT CSV, HEADER)
"""


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


if __name__ == "__main__":
    duckdb.connect().execute(SQL.format(src=quote(sys.argv[1]), out=quote(sys.argv[2])))
