"""The DuckDB runner's rewrites (batch/inorder.py): each gives the rows of the step it replaces."""

from __future__ import annotations

import csv
import random
import shutil
from pathlib import Path

import duckdb
import pytest
import sqlglot

from villkor_engine.api import run
from villkor_engine.batch.inorder import bind_rows, facts, without_ord

ROOT = Path(__file__).resolve().parents[1]


def tree(sql: str):
    return sqlglot.parse_one(sql, read="duckdb")


def text(t) -> str:
    return t.sql(dialect="duckdb", identify=True)


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute('CREATE TABLE m AS SELECT range AS "§rad", range AS "§ord", range % 7 AS k '
              "FROM range(5000)")
    # a total beyond 64 bits: its constant must keep its type (HUGEINT), not become a double
    c.execute('CREATE TABLE n AS SELECT CAST(170141183460469231731687303715884105 AS HUGEINT) '
              'AS "§total", COUNT(*) AS "§antal" FROM range(3)')
    yield c
    c.close()


def one_row(con, name):
    rel = con.sql(f'SELECT * FROM "{name}"')
    return rel.columns, [str(t) for t in rel.types], rel.fetchall()[0]


def test_a_bound_one_row_step_gives_the_same_rows_without_the_cross_join(con):
    step = tree('SELECT "m"."k", "n"."§total" * "m"."k" + "n"."§antal" AS x FROM m AS "m" '
                'CROSS JOIN n AS "n" ORDER BY "m"."§ord"')
    assert facts(step).cross == ("n",)
    bound = bind_rows(step, {"n": one_row(con, "n")})
    assert "JOIN" not in text(bound)
    assert con.execute(text(bound)).fetchall() == con.execute(text(step)).fetchall()


def test_a_one_row_step_named_by_star_or_bare_name_is_left_joined(con):
    for sql in ('SELECT "m".*, "n".* FROM m AS "m" CROSS JOIN n AS "n"',
                'SELECT "m"."k", "§antal" FROM m AS "m" CROSS JOIN n AS "n"'):
        step = tree(sql)
        assert text(bind_rows(step, {"n": one_row(con, "n")})) == text(step)


def test_only_an_ungrouped_aggregate_is_one_row():
    assert facts(tree('SELECT COALESCE(SUM(k), 0) AS t, COUNT(*) AS n FROM m')).one_row
    assert not facts(tree('SELECT k, COUNT(*) FROM m GROUP BY k')).one_row
    assert not facts(tree('SELECT k FROM m')).one_row
    assert not facts(tree('SELECT SUM(k) OVER () FROM m')).one_row


@pytest.mark.parametrize("sql,expected", [
    ('SELECT *, k + 1 AS y FROM (SELECT * FROM m WHERE k > 2) AS s ORDER BY "§ord"', True),
    ('SELECT *, "§rad" AS "§ord" FROM m', True),
    ('SELECT * FROM m CROSS JOIN n ORDER BY "§ord"', False),
    ('SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY "§rad") AS r FROM m', False),
    ('SELECT k, MIN("§ord") AS "§ord" FROM m GROUP BY k', False),
    ('SELECT *, (SELECT MAX(k) FROM m) AS x FROM m', False),
    ('SELECT * FROM m WHERE k IN (1, 2, 3, 4, 5, 6)', False),
    ('SELECT *, k AS "§ord" FROM m', False),
    ('SELECT * FROM other', False),
])
def test_in_order_only_for_filters_and_projections_of_ordered_rows(sql, expected):
    # the runner's test: the one relation it filters and projects is in file order
    assert (facts(tree(sql)).source in {"m"}) is expected


def test_only_order_by_ord_is_dropped():
    assert "ORDER" not in text(without_ord(tree('SELECT * FROM m ORDER BY "§ord"')))
    for sql in ('SELECT * FROM m ORDER BY "§ord" DESC', 'SELECT * FROM m ORDER BY k',
                'SELECT * FROM m ORDER BY "§ord", k'):
        assert "ORDER" in text(without_ord(tree(sql)))


def _data(folder: Path, n: int, repeated: bool) -> list[str]:
    """A recipients file in a shuffled key order, so any sort by key would show."""
    rng = random.Random(7)
    ids = [f"m{i:06d}" for i in range(n)]
    rng.shuffle(ids)
    folder.mkdir()
    with open(folder / "mottagare.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "befolkning", "a", "b"])
        for code in ids:
            w.writerow([code, rng.randint(0, 10 ** 6), rng.choice(["ja", "nej"]), "ja"])
        if repeated:
            w.writerow([ids[5], 1, "ja", "ja"])
    return ids


@pytest.mark.parametrize("repeated", [False, True])
def test_the_column_engine_writes_rows_in_input_order_at_scale(tmp_path, repeated):
    """300 000 recipients on DuckDB's threads: the rows come out in the file's order, with no
    sort (the shortcut taken) or with the window (a key given twice)."""
    ids = _data(tmp_path / "data", 300_000, repeated)
    shutil.copy(ROOT / "bench" / "pott.villkor", tmp_path / "pott.villkor")
    out = tmp_path / "ut.csv"
    outcome = run(tmp_path / "pott.villkor", tmp_path / "data", out, engine="kolumn",
                  ledger=None)
    assert outcome.engine_used == "kolumn"
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["mottagare"] for r in rows[::2]] == ids
    assert all(r["villkor"] == "summa" for r in rows[1::2])
    assert (outcome.error_count == 1) is repeated
