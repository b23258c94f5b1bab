"""The peer that writes the same bytes: a hand-written DuckDB script for bench/pott.villkor.

Usage: python bench/handwritten_duckdb.py DIR OUT.csv — reads DIR/mottagare.csv (as
bench/generate.py writes it: every cell filled, ja/nej answers), shares 1 000 000 000 kr by
befolkning among the rows with a = b = ja, each share rounded half up to whole kronor, and writes
all ten columns of `villkor run bench/pott.villkor` (the exact share as text, the `summa` rows,
input order), byte for byte the same file. Integer arithmetic only (HUGEINT for the exact text).
What it leaves out, as a hand-written script does: blank or wrong cells, repeated keys, formula
cells, the pots file, the run ledger.
"""

from __future__ import annotations

import sys

import duckdb

POT_KR = 1_000_000_000

SQL = """
COPY (
  WITH m AS (
    SELECT id, befolkning, lower(a) = 'ja' AND lower(b) = 'ja' AS ok
    FROM read_csv({src}, header = true, delim = ',', quote = '"',
                  columns = {{'id': 'VARCHAR', 'befolkning': 'BIGINT', 'a': 'VARCHAR',
                             'b': 'VARCHAR'}})),
  t AS (SELECT CAST(SUM(befolkning) FILTER (WHERE ok) AS BIGINT) AS total FROM m),
  s AS (
    SELECT id, ok,
      (2 * {pot} * befolkning + total) // (2 * total) AS kr,
      CAST({pot} AS HUGEINT) * befolkning * 100 AS num, total
    FROM m, t),
  x AS (
    SELECT id, ok, CAST(kr AS VARCHAR) AS belopp,
      CASE WHEN num % total = 0 THEN
             CAST(num // total // 100 AS VARCHAR) ||
             CASE WHEN num // total % 100 = 0 THEN ''
                  ELSE '.' || lpad(CAST(num // total % 100 AS VARCHAR), 2, '0') END
           ELSE rtrim(rtrim(CAST((2 * num * 10000 + total) // (2 * total) // 1000000 AS VARCHAR)
                            || '.' || lpad(CAST((2 * num * 10000 + total) // (2 * total)
                                               % 1000000 AS VARCHAR), 6, '0'), '0'), '.')
      END AS exakt
    FROM s)
  SELECT r.* FROM (
    SELECT unnest([
      {{'mottagare': id, 'namn': id, 'villkor': '1',
        'utfall': CASE WHEN ok THEN 'uppfyllt' ELSE 'ej uppfyllt' END,
        'belopp': CASE WHEN ok THEN belopp ELSE '0' END,
        'exakt_belopp': CASE WHEN ok THEN exakt ELSE '0' END, 'betalas_senast': NULL,
        'version': 'grundöverenskommelsen', 'källa': 'bench: utbetalning',
        'anmärkning': NULL}},
      {{'mottagare': id, 'namn': id, 'villkor': 'summa',
        'utfall': CASE WHEN ok THEN 'uppfyllt' ELSE 'ej uppfyllt' END,
        'belopp': CASE WHEN ok THEN belopp ELSE '0' END,
        'exakt_belopp': CASE WHEN ok THEN exakt ELSE '0' END, 'betalas_senast': NULL,
        'version': 'grundöverenskommelsen', 'källa': NULL,
        'anmärkning': 'summan av de avrundade beloppen'}}]) AS r
    FROM x) AS u
) TO {out} (FORMAT CSV, HEADER)
"""


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def main(data_dir: str, out: str) -> None:
    con = duckdb.connect()
    con.execute(SQL.format(src=quote(f"{data_dir}/mottagare.csv"), out=quote(out), pot=POT_KR))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
