"""Running the SQL plan on DuckDB: inputs registered, steps executed, outputs copied atomically.

DuckDB streams the inputs and runs the steps in parallel (`loop.follow_steps`, with the
rewrites of `inorder`). Every input is read as `io.readers` reads it for the reference: CSV and
Excel as Arrow text by `inputs`; Parquet is scanned by DuckDB itself with its file row numbers.
Every good row gets its result; every bad row an error row in `<out>.fel.<ext>`.

A file is read only where `io.paths.data_file` allows (inside `--data`, V214 otherwise), and
DuckDB never sees its name: a Parquet file is opened through a symlink with a plain name in a
private folder, since DuckDB reads `*`, `?` and `[…]` in a path as a pattern (`m[2020].parquet`
would be `m2.parquet`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb
import pyarrow as pa

from ..io.cells import sql_trim
from ..io.paths import data_file
from ..io.readers import (
    ReadError,
    input_format,
    read_table,
)
from ..model.model import RecordSpec, TableSpec
from ..write.output import (
    POT_COLUMNS,
    atomic_path,
    output_format,
    pot_rows,
    side_path,
    write_arrow,
    write_models,
)
from . import sqltext as S
from .inorder import (
    bind_rows,
    facts,
    without_ord,
)
from .inputs import InputProblem, absent, checked_header, read_csv, read_xlsx
from .intake import ERROR_COLUMNS
from .loop import TOO_LARGE, Pots, follow_steps
from .outcome import BatchError, BatchResult, located, members_of
from .plan import Plan, Unsupported
from .rows import without_order
from .settle import FINDINGS, INVOICES
from .sql import all_steps

# steps read more than once are computed once; the rest are views DuckDB streams through
MATERIALISED = ("typ_", "mot_", "nyckel_", "andel_", "fel", "poster_")   # `fel…`: felrad_
GLOB = "*?["      # what DuckDB reads as a pattern in a file name
INT_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT")


def run_plan(plan: Plan, data_dir: Path, out: Path,
             progress: Callable[[str], None] = lambda _: None,
             memory: str = "1GB") -> BatchResult | Unsupported:
    """`memory` bounds DuckDB's working memory; what does not fit spills to a temp folder.
    Where it still does not fit, the run is made again on one thread, as DuckDB advises: its
    order-keeping writer holds a buffer per thread (1M recipients: about 370 MB at the peak on
    one thread, where two need --minne 256MB and 400 MB)."""
    try:
        return _run_plan(plan, data_dir, out, progress, memory, threads=None)
    except duckdb.OutOfMemoryException:
        if (os.cpu_count() or 1) < 2:
            raise
        return _run_plan(plan, data_dir, out, progress, memory, threads=1)


def _run_plan(plan: Plan, data_dir: Path, out: Path, progress: Callable[[str], None],
              memory: str, threads: int | None) -> BatchResult | Unsupported:
    work = Path(tempfile.mkdtemp(prefix="villkor-"))
    try:
        if any(ch in str(work) for ch in GLOB):
            return Unsupported(f"den temporära mappen `{work}` har något av tecknen "
                               f"{' '.join(GLOB)} i sin sökväg, som DuckDB läser som mönster "
                               "(ange en annan TMPDIR)", None)
        (work / "indata").mkdir()
        con = duckdb.connect()
        try:
            con.execute(f"SET memory_limit = {S.lit(memory)}")
            con.execute(f"SET temp_directory = {S.lit(str(work / 'spill'))}")
            if threads is not None:
                con.execute(f"SET threads = {int(threads)}")
            try:
                return _run(con, plan, Path(data_dir), Path(out), progress, work / "indata")
            except duckdb.OutOfRangeException:    # a product or sum beyond 64 bits
                return TOO_LARGE
        finally:
            con.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(con, plan: Plan, data_dir: Path, out: Path, progress, links: Path
         ) -> BatchResult | Unsupported:
    kinds: dict[str, dict[str, str]] = {}
    files: dict[str, str] = {}
    malformed: list[tuple[str, int, str, str, str]] = []
    names = S.Names.of(plan)
    for i, spec in enumerate(plan.inputs):
        progress(f"läser {spec.file}")
        if absent(spec, data_dir):     # a `valfri` table without its file: no rows
            name = names.table("in", spec.name)
            con.register(name, pa.table({S.MARK + "rad": pa.array([], pa.int64())}))
            kinds[spec.name], files[spec.name] = {}, Path(spec.file).name
            continue
        kinds[spec.name], files[spec.name] = _register(
            con, names.table("in", spec.name), spec, data_dir, links / f"{i}.parquet", malformed)
    steps = all_steps(plan, kinds, files)
    if hasattr(progress, "total"):      # a StepProgress: inputs, every step but the last, output
        progress.total = len(plan.inputs) + len(steps)
    # records are only ever aggregated: scanning the file again beats storing it typed
    streamed = {names.table("typ", t.name) for t in plan.inputs if isinstance(t, RecordSpec)}
    ordered = {names.table("in", t.name) for t in plan.inputs}   # read in file order
    # the inputs held in memory as Arrow text (CSV, Excel): let go after the last step that
    # reads them, unless a view reads them (it would read them again later)
    held = {names.table("in", t.name) for t in plan.inputs if input_format(t.file) != "parquet"}
    of = {st.name: facts(st.tree) for st in steps}      # each step's tree walked once
    last = {name: i for i, st in enumerate(steps) for name in of[st.name].reads if name in held}
    light = set(held)     # relations in memory: stored steps, Arrow inputs, views over them
    one_row_steps = {name for name, f in of.items() if f.one_row}
    index = {st.name: i for i, st in enumerate(steps)}
    known: dict[str, tuple[list[str], list[str], tuple]] = {}    # one-row steps' cells

    def one_row(name: str) -> tuple[list[str], list[str], tuple]:
        if name not in known:
            rel = con.sql(f"SELECT * FROM {S.ident(name)}")
            rows = rel.fetchall()
            known[name] = (rel.columns, [str(t) for t in rel.types], rows[0])
        return known[name]

    def execute(st: S.Step) -> None:
        tree, found = st.tree, of[st.name]
        written = st.text      # the SQL `tree` was parsed from, while no rewrite changed it
        if st.shortcut is not None and \
                con.execute(st.shortcut.guard_sql()).fetchall()[0][0] == 0:
            tree, written = st.shortcut.tree, st.shortcut.text
            found = facts(tree)
        bound = {n: one_row(n) for n in found.cross if n in one_row_steps}
        if bound:
            tree, before = bind_rows(tree, bound), tree
            if tree is not before:
                found, written = facts(tree), None
        if found.source in ordered:    # filters and projections of rows in file order
            tree, before = without_ord(tree), tree
            if tree is not before:
                written = None
            ordered.add(st.name)
            # and of rows in memory: cheaper to compute again than to store
            cheap = found.reads <= light and not st.name.startswith("typ_")
        else:
            cheap = False
        keep = "TABLE" if st.name.startswith(MATERIALISED) and st.name not in streamed and \
            not cheap else "VIEW"
        if keep == "TABLE" or cheap:
            light.add(st.name)
        # a rewritten tree is the rewrite's own copy: rendered without copying it again
        shared = tree is st.tree or (st.shortcut is not None and tree is st.shortcut.tree)
        select = written if written is not None else \
            tree.sql(dialect=S.READ, identify=True, copy=shared)
        con.execute(f"CREATE TEMP {keep} {S.ident(st.name)} AS {select}")
        for name in found.reads & held:
            if keep == "VIEW":
                held.discard(name)
            elif last[name] == index[st.name]:
                con.unregister(name)

    followed = follow_steps(plan, steps, execute, lambda name: one_row(name)[2], progress)
    if isinstance(followed, Unsupported):
        return followed
    pots, warnings = followed
    progress(f"skriver {out.name}")
    fel = side_path(out, "fel")
    errors = [BatchError(*e) for e in malformed]
    # (fetchall: a result left unfinished bars DuckDB's relations, as `_copy`'s for Excel)
    n_errors = con.execute("SELECT COUNT(*) FROM fel").fetchall()[0][0] + len(errors)
    if n_errors:
        errors += [BatchError(*r) for r in con.execute(
            f"SELECT {', '.join(ERROR_COLUMNS)} FROM fel LIMIT 1000").fetchall()]
        # the screen's list in file order too (malformed rows are read first)
        errors = located(plan, data_dir, sorted(errors, key=lambda e: (e.file, e.line))[:1000],
                         lambda spec: members_of(con.execute, plan, spec))
        _copy_errors(con, malformed, fel)
    write_models(side_path(out, "potter"), pot_rows(Pots(pots)), POT_COLUMNS, "potter")
    # one group: its rows were made in recipient order (ordered tables, rows unnested in order,
    # DuckDB keeps insertion order), so the result needs no sort of every output row
    result = without_order(steps[-1]) if len(plan.groups) == 1 else steps[-1]
    invoiced = _copy_invoices(con, plan, out, lambda sql: con.execute(sql).fetchall())
    written = _copy(con, result.sql(), out, names=_named(result.tree))
    return BatchResult(written, errors, pots, n_errors, warnings, *invoiced)


def _copy_invoices(con, plan: Plan, out: Path, rows: Callable[[str], list]
                   ) -> tuple[int | None, list[tuple[str, int, str]], int]:
    """`<out>.fakturor.<ext>` from the `fakturor` step (DuckDB's `con` holds it as a relation of
    that name), and what the screen says of it; nothing without `fakturering`."""
    from ..write.output import INVOICE_COLUMNS

    if not plan.invoices:
        return None, [], 0
    columns = ", ".join(S.ident(c) for c in INVOICE_COLUMNS)
    n = _copy(con, f"SELECT {columns} FROM {S.ident(INVOICES)}", side_path(out, "fakturor"),
              "fakturor", INVOICE_COLUMNS)
    bad = f"FROM {S.ident(INVOICES)} WHERE status = 'avvisad'"
    rejected = [(str(f), int(r), str(a)) for f, r, a in
                rows(f"SELECT fil, rad, {FINDINGS} {bad} LIMIT 1000")]
    return n, rejected, int(rows(f"SELECT COUNT(*) {bad}")[0][0])


def _register(con, name: str, spec: TableSpec | RecordSpec, data_dir: Path, link: Path,
              malformed: list) -> tuple[dict[str, str], str]:
    """The view `name` (`in_<i>_<table>`): the file's declared columns, `§rad` and (when the
    file has other columns) `§annat`; the kinds of what it holds. `link`: where a Parquet file
    gets its plain name. Every format is read as io/readers.py reads it for the reference."""
    try:
        path = data_file(data_dir, spec.file)     # inside the data folder, or V214
        fmt = input_format(path)
    except ReadError as exc:
        raise InputProblem(exc.code, f"tabellen `{spec.name}`: {exc.message}",
                           exc.hint or "") from None
    if not path.is_file():
        raise InputProblem("V201", f"filen `{spec.file}` saknas i datamappen (tabellen "
                           f"`{spec.name}`)", f"lägg filen {spec.file} i {data_dir}")
    if fmt == "parquet":
        _register_parquet(con, name, spec, path, link)
        described = {row[0]: row[1]
                     for row in con.execute(f"DESCRIBE {S.ident(name)}").fetchall()}
    else:   # text read in Python: its Arrow schema says what DuckDB would
        table = (read_csv if fmt == "csv" else read_xlsx)(path, spec, malformed)
        con.register(name, table)
        described = {f.name: _duck_type(f.type) for f in table.schema}
    missing = [c for c, col in spec.columns.items()
               if c not in described and not col.may_be_absent]
    if missing:
        raise InputProblem("V202", f"{spec.file}: kolumnen `{missing[0]}` saknas",
                           "rubrikraden ska innehålla: " + ",".join(spec.columns))
    kinds = {}
    text = S.TRIMMED if fmt != "parquet" else "text"   # the CSV and Excel readers trim
    for c in spec.columns:
        if c in described:
            t = described[c].upper()
            kinds[c] = ("bool" if t == "BOOLEAN" else "int" if t in INT_TYPES else
                        "date" if t == "DATE" else text)
    if S.OTHER in described:
        kinds[S.OTHER] = "bool"
    return kinds, path.name


def _duck_type(kind: pa.DataType) -> str:
    """DuckDB's name for the Arrow types the CSV and Excel readers give."""
    return ("BOOLEAN" if pa.types.is_boolean(kind) else "BIGINT" if pa.types.is_integer(kind)
            else "VARCHAR" if pa.types.is_string(kind) or pa.types.is_large_string(kind)
            else str(kind).upper())


def _register_parquet(con, name: str, spec, path: Path, link: Path) -> None:
    """The declared columns of a Parquet file, picked by position, DuckDB's row number, and
    `§annat` when the file has other columns.

    DuckDB opens the file through `link`, a plain name (it would read `m[2020].parquet` as a
    pattern); every column of the file is renamed by position (`§0`, `§1`, …), so no column of
    the file, in any letter case, can stand in for a declared one or shadow the row number.
    A timestamp at midnight is its date and a whole float its integer, as `readers.excel_text`
    and `float_text` give them to the reference."""
    try:   # the footer only: a damaged file (V212), a declared column with no cell form (V213)
        header = read_table(path, spec.columns).header or []
    except ReadError as exc:
        raise InputProblem(exc.code, f"tabellen `{spec.name}`: {exc.message}",
                           exc.hint or "") from None
    stripped = checked_header(path, spec, header)
    position = {h: i for i, h in enumerate(stripped)}
    try:
        os.symlink(path.resolve(), link)
    except OSError:   # no symlinks on this system: a copy has as plain a name
        shutil.copyfile(path, link)
    # DuckDB's row number: its own name, which no file column can shadow once they are all
    # renamed; the option (DuckDB < 1.3) only where the file has no column by that name
    option = "" if "file_row_number" in (h.lower() for h in header) else \
        ", file_row_number = true"
    source = f"read_parquet({S.lit(str(link))}{option})"
    if header:
        source += " AS p(" + ", ".join(S.ident(S.MARK + str(i)) for i in range(len(header))) \
            + ")"
    types = {row[0]: row[1].upper()
             for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}

    def mark(i: int) -> tuple[str, str]:
        return S.ident(S.MARK + str(i)), types.get(S.MARK + str(i), "")

    cols = [f"{_parquet_cell(*mark(position[c]))} AS {S.ident(c)}"
            for c in spec.columns if c in position]
    cols.append(f"file_row_number + 2 AS {S.ROW}")
    others = [i for i, h in enumerate(stripped) if h not in spec.columns]
    if others:
        filled = [f"{sql_trim(x)} <> ''" if t == "VARCHAR" else f"{x} IS NOT NULL"
                  for x, t in map(mark, others)]
        cols.append(f"COALESCE({' OR '.join(filled)}, FALSE) AS {S.ident(S.OTHER)}")
    con.execute(f"CREATE TEMP VIEW {S.ident(name)} AS SELECT {', '.join(cols)} FROM {source}")


def _parquet_cell(x: str, kind: str) -> str:
    """A declared Parquet column as the reference's reader gives its cells, where DuckDB's own
    text would differ: a timestamp at midnight is its date, a whole float its integer."""
    if kind in ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"):
        micro = f"microsecond({x}) % 1000000"
        return (f"CASE WHEN {x} = date_trunc('day', {x}) THEN strftime({x}, '%Y-%m-%d') "
                f"ELSE strftime({x}, '%Y-%m-%d %H:%M:%S') || CASE WHEN {micro} <> 0 THEN '.' || "
                f"lpad(CAST({micro} AS VARCHAR), 6, '0') ELSE '' END END")
    if kind in ("FLOAT", "DOUBLE"):
        return (f"CASE WHEN isfinite({x}) AND {x} = trunc({x}) AND abs({x}) < 1e38 THEN "
                f"CAST(CAST({x} AS HUGEINT) AS VARCHAR) ELSE CAST({x} AS VARCHAR) END")
    return x


def _named(tree) -> list[str] | None:
    """The output columns a query names itself, or None where DuckDB must say (a `*`)."""
    names = getattr(tree, "named_selects", None)
    return list(names) if names and all(n and n != "*" for n in names) else None


def _copy(con, select: str, out: Path, sheet: str = "resultat",
          names: Iterable[str] | None = None) -> int:
    """The rows in the format the extension names, through a temp file and a rename: DuckDB
    writes CSV and Parquet itself (amounts as DECIMAL(18, 2), dates as DATE); Excel goes
    through the same writer as the reference evaluator's. In CSV a text column's cells follow
    the reference writer's `csv_text` rule (`csv_text_sql`), so the two files are the same bytes.
    DuckDB writes straight into `atomic_path`'s temp file (USE_TMP_FILE false): its own
    `tmp_…` file would be one more a killed run leaves behind."""
    from ..write.output import AGREEMENT_WORDS, KINDS, csv_text_sql

    fmt = output_format(out)
    if names is None:    # (planning the query once more: the caller says where it knows)
        names = [d[0] for d in con.execute(f"DESCRIBE {select}").fetchall()]
    if fmt != "csv":   # typed cells: text is '' where CSV has an empty field, as the reference
        cols = [_typed_cell(c, KINDS.get(c, "text"), fmt) for c in names]
    else:              # a text cell a spreadsheet would run as a formula gets its apostrophe
        cols = [f"{csv_text_sql(S.ident(c))} AS {S.ident(c)}"
                if KINDS.get(c, "text") == "text" and (sheet != "resultat" or c not in
                                                       AGREEMENT_WORDS) else S.ident(c)
                for c in names]
    select = f"SELECT {', '.join(cols)} FROM ({select}) AS x"
    if fmt == "xlsx":
        table = con.sql(select).to_arrow_table()
        write_arrow(table, out, sheet)
        return table.num_rows
    with atomic_path(out) as tmp:
        if fmt == "parquet":
            return con.execute(f"COPY ({select}) TO {S.lit(str(tmp))} "
                               "(FORMAT PARQUET, USE_TMP_FILE false)").fetchone()[0]
        return con.execute(f"COPY ({select}) TO {S.lit(str(tmp))} "
                           "(FORMAT CSV, HEADER, USE_TMP_FILE false, COMMENT '')").fetchone()[0]


def _typed_cell(column: str, kind: str, fmt: str) -> str:
    """One output column for Excel or Parquet by its kind (write/output.py's KINDS): amounts
    exact decimals and dates dates in Parquet; a text cell '' where CSV has an empty field."""
    c = S.ident(column)
    if kind == "text":
        return f"COALESCE({c}, '') AS {c}"
    if fmt == "parquet" and kind == "decimal":
        return f"CAST({c} AS DECIMAL(18, 2)) AS {c}"
    if fmt == "parquet" and kind == "date":
        return f"CAST({c} AS DATE) AS {c}"
    return c


def _copy_errors(con, malformed: list, out: Path) -> None:
    """The error file in the reference's order: file, row, then the column's place (`§k`);
    a malformed row (V209, read before the plan) is a whole row, -1."""
    k = S.ident(S.MARK + "k")
    rows = "fel"
    if malformed:
        table = {c: [m[i] for m in malformed] for i, c in enumerate(ERROR_COLUMNS)}
        table[S.MARK + "k"] = [-1] * len(malformed)
        con.register("fel_format", pa.table(table))
        rows = "(SELECT * FROM fel_format UNION ALL SELECT * FROM fel)"
    shown = ERROR_COLUMNS[:4]    # fil, rad, kolumn, meddelande: the code is for the screen
    _copy(con, f"SELECT {', '.join(shown)} FROM {rows} ORDER BY fil, rad, {k}", out, "fel", shown)

