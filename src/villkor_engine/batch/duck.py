"""Running the SQL plan on DuckDB: inputs registered, steps executed, outputs copied atomically.

DuckDB streams the inputs and runs the steps in parallel; nothing here touches a row in Python.
CSV is read by pyarrow (delimiter sniffed, BOM skipped, row numbers added, malformed rows kept as
error rows); Parquet is scanned by DuckDB itself with its file row numbers; Excel through
`io.readers`. Every good row gets its result; every bad row an error row in `<out>.fel.<ext>`.

A file is read only where `io.paths.data_file` allows (inside `--data`, V214 otherwise), and
DuckDB never sees its name: a Parquet file is opened through a symlink with a plain name in a
private folder, since DuckDB reads `*`, `?` and `[…]` in a path as a pattern (`m[2020].parquet`
would be `m2.parquet`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..eval.engine import PotSummary
from ..eval.shares import ZERO_KEY
from ..eval.values import exact_text, swedish_money
from ..io.output import (
    POT_COLUMNS,
    atomic_path,
    output_format,
    pot_rows,
    side_path,
    write_arrow,
    write_models,
)
from ..io.paths import data_file
from ..io.readers import ReadError, input_format, read_rows, read_table
from ..model.model import RecordSpec, TableSpec
from . import sql as S
from .plan import Plan, Unsupported

LIMIT = 2 ** 62
# steps read more than once are computed once; the rest are views DuckDB streams through
MATERIALISED = ("typ_", "mot_", "nyckel_", "andel_")
GLOB = "*?["      # what DuckDB reads as a pattern in a file name
INT_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT")


class InputProblem(Exception):
    """An input file that cannot be read at all: (code, message, hint), said in Swedish."""

    def __init__(self, code: str, message: str, hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


@dataclass
class BatchError:
    file: str
    line: int
    column: str
    message: str
    code: str = "V204"             # V204 a cell, V206 a repeated key, V209 a malformed row


@dataclass
class BatchResult:
    rows: int                      # output rows written (recipients × villkor, plus summa)
    errors: list[BatchError] = field(default_factory=list)
    pots: list[PotSummary] = field(default_factory=list)
    error_count: int = 0


def run_plan(plan: Plan, data_dir: Path, out: Path,
             progress: Callable[[str], None] = lambda _: None,
             memory: str = "1GB") -> BatchResult | Unsupported:
    """`memory` bounds DuckDB's working memory; what does not fit spills to a temp folder."""
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
            return _run(con, plan, Path(data_dir), Path(out), progress, work / "indata")
        finally:
            con.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(con, plan: Plan, data_dir: Path, out: Path, progress, links: Path
         ) -> BatchResult | Unsupported:
    kinds, files = {}, {}
    malformed: list[tuple[str, int, str, str, str]] = []
    names = S.Names.of(plan)
    for i, spec in enumerate(plan.inputs):
        progress(f"läser {spec.file}")
        kinds[spec.name], files[spec.name] = _register(
            con, names.table("in", spec.name), spec, data_dir, links / f"{i}.parquet", malformed)
    steps = S.all_steps(plan, kinds, files)
    if hasattr(progress, "total"):      # a StepProgress: inputs, every step but the last, output
        progress.total = len(plan.inputs) + len(steps)
    pots: list[PotSummary] = []
    key_total = {names.group("nyckel", g.name): g.pot for g in plan.groups if g.pot}
    counts = {names.group("räkna", g.name): g.pot for g in plan.groups if g.pot}
    # records are only ever aggregated: scanning the file again beats storing it typed
    streamed = {names.table("typ", t.name) for t in plan.inputs if isinstance(t, RecordSpec)}
    for st in steps[:-1]:
        progress(f"steg {st.name}")
        keep = "TABLE" if st.name.startswith(MATERIALISED) and st.name not in streamed else "VIEW"
        con.execute(f"CREATE TEMP {keep} {S.ident(st.name)} AS {st.sql()}")
        if st.name in key_total:
            pot = key_total[st.name]
            total, n, largest = con.execute(f"SELECT * FROM {S.ident(st.name)}").fetchone()
            if 2 * pot.pot_ore * int(largest) + pot.unit_ore * int(total) >= LIMIT \
                    or 2 * int(total) * 10_000 >= LIMIT:
                return Unsupported("talen är för stora för 64-bitars heltal", None)
            totals = (int(total), int(n))
        if st.name in counts:
            counted = con.execute(f"SELECT * FROM {S.ident(st.name)}").fetchone()
            pots.append(_pot_summary(counts[st.name], *totals, counted))
    progress(f"skriver {out.name}")
    fel = side_path(out, "fel")
    errors = [BatchError(*e) for e in malformed]
    n_errors = con.execute("SELECT COUNT(*) FROM fel").fetchone()[0] + len(errors)
    if n_errors:
        errors += [BatchError(*r) for r in con.execute("SELECT * FROM fel LIMIT 1000").fetchall()]
        _copy_errors(con, malformed, fel)
    write_models(side_path(out, "potter"), pot_rows(_Pots(pots)), POT_COLUMNS, "potter")
    # one group: its rows were made in recipient order (ordered tables, rows unnested in order,
    # DuckDB keeps insertion order), so the result needs no sort of every output row
    result = S.without_order(steps[-1]) if len(plan.groups) == 1 else steps[-1]
    written = _copy(con, result.sql(), out)
    return BatchResult(written, errors, pots, n_errors)


def _register(con, name: str, spec: TableSpec | RecordSpec, data_dir: Path, link: Path,
              malformed: list) -> tuple[dict[str, str], str]:
    """The view `name` (`in_<i>_<table>`): the file's declared columns and `§rad`; the kinds of
    what it holds. `link`: where a Parquet file gets its plain name."""
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
    elif fmt == "csv":
        con.register(name, _read_csv(path, spec, malformed))
    else:
        con.register(name, _read_xlsx(path, spec))
    described = {row[0]: row[1] for row in con.execute(f"DESCRIBE {S.ident(name)}").fetchall()}
    missing = [c for c, col in spec.columns.items()
               if c not in described and not col.may_be_absent]
    if missing:
        raise InputProblem("V202", f"{spec.file}: kolumnen `{missing[0]}` saknas",
                           "rubrikraden ska innehålla: " + ",".join(spec.columns))
    kinds = {}
    for c in spec.columns:
        if c in described:
            t = described[c].upper()
            kinds[c] = ("bool" if t == "BOOLEAN" else "int" if t in INT_TYPES else
                        "date" if t == "DATE" else "text")
    return kinds, path.name


def _register_parquet(con, name: str, spec, path: Path, link: Path) -> None:
    """The declared columns of a Parquet file, picked by position, and DuckDB's row number.

    DuckDB opens the file through `link`, a plain name (it would read `m[2020].parquet` as a
    pattern); every column of the file is renamed by position (`§0`, `§1`, …), so no column of
    the file, in any letter case, can stand in for a declared one or shadow the row number."""
    try:   # the footer only: a damaged file (V212), a declared column with no cell form (V213)
        header = read_table(path, spec.columns).header or []
    except ReadError as exc:
        raise InputProblem(exc.code, f"tabellen `{spec.name}`: {exc.message}",
                           exc.hint or "") from None
    stripped = [h.strip() for h in header]
    twice = next((h for i, h in enumerate(stripped) if h in stripped[:i]), None)
    if twice is not None:    # as the reference reader: the table is not read
        raise InputProblem("V202", f"{spec.file}: kolumnen `{twice}` finns två gånger",
                           "varje kolumn ska ha en egen rubrik")
    position = {h: i for i, h in enumerate(stripped)}
    try:
        os.symlink(path.resolve(), link)
    except OSError:   # no symlinks on this system: a copy has as plain a name
        shutil.copyfile(path, link)
    cols = [f"{S.ident(S.MARK + str(position[c]))} AS {S.ident(c)}"
            for c in spec.columns if c in position]
    # DuckDB's row number: its own name, which no file column can shadow once they are all
    # renamed; the option (DuckDB < 1.3) only where the file has no column by that name
    option = "" if "file_row_number" in (h.lower() for h in header) else \
        ", file_row_number = true"
    cols.append(f"file_row_number + 2 AS {S.ROW}")
    source = f"read_parquet({S.lit(str(link))}{option})"
    if header:
        source += " AS p(" + ", ".join(S.ident(S.MARK + str(i)) for i in range(len(header))) \
            + ")"
    con.execute(f"CREATE TEMP VIEW {S.ident(name)} AS SELECT {', '.join(cols)} FROM {source}")


def _read_csv(path: Path, spec, malformed: list) -> pa.Table:
    """The declared columns as text, and `§rad`: each row's line in the file (header = 1).

    Empty lines stay (as blank rows, which the typed step drops), so rows and lines agree;
    a row with the wrong number of fields is an error row, and the file is then read again on
    one thread, where pyarrow knows each bad row's line, to number the good rows exactly."""
    with path.open("rb") as f:
        first = f.readline().decode("utf-8-sig", errors="replace")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    header = [h.strip() for h in first.rstrip("\r\n").split(delimiter)]
    table, bad = _csv(path, header, delimiter, spec, threads=True)
    if bad:
        table, bad = _csv(path, header, delimiter, spec, threads=False)
    for number, fields in bad:
        message = f"rad {number} har {fields} fält men rubrikraden har {len(header)}"
        malformed.append((path.name, number, "", message, "V209"))
    lines = np.arange(2, table.num_rows + len(bad) + 2)
    if bad:   # the good rows' lines: every line but the bad ones (sorted, so in order)
        lines = lines[~np.isin(lines, [n for n, _ in bad])]
    return table.append_column(S.MARK + "rad", pa.array(lines[:table.num_rows]))


def _csv(path: Path, header: list[str], delimiter: str, spec, threads: bool):
    bad: list[tuple[int, int]] = []

    def bad_row(row) -> str:
        bad.append((row.number or 0, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            path, read_options=pacsv.ReadOptions(column_names=header, skip_rows=1,
                                                 use_threads=threads),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=bad_row,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=True,
                null_values=[""], include_columns=[c for c in spec.columns if c in header]))
    except pa.ArrowInvalid as exc:
        raise InputProblem("V207", f"{path.name}: filen kan inte läsas som CSV UTF-8 ({exc})",
                           "spara filen som CSV UTF-8 (i Excel: \"CSV UTF-8 "
                           "(kommaavgränsad)\")") from None
    return table, sorted(bad)


def _read_xlsx(path: Path, spec) -> pa.Table:
    """The first sheet's declared columns as text (the reference evaluator's reader), with rows."""
    try:
        header, rows = read_rows(path, list(spec.columns))
        index = {h: i for i, h in enumerate(header)}
        wanted = [c for c in spec.columns if c in index]
        lines: list[int] = []
        columns: dict[str, list[str | None]] = {c: [] for c in wanted}
        for line, cells in rows:
            lines.append(line)
            for c in wanted:
                value = cells[index[c]] if index[c] < len(cells) else ""
                columns[c].append(str(value) if value != "" else None)
    except ReadError as exc:
        raise InputProblem(exc.code, f"{path.name}: {exc.message}", exc.hint or "") from None
    data = {c: pa.array(v, pa.string()) for c, v in columns.items()}
    data[S.MARK + "rad"] = pa.array(lines, pa.int64())
    return pa.table(data)


def _copy(con, select: str, out: Path, sheet: str = "resultat") -> int:
    """The rows in the format the extension names, through a temp file and a rename: DuckDB
    writes CSV and Parquet itself (amounts as DECIMAL(18, 2), dates as DATE); Excel goes
    through the same writer as the reference evaluator's. In CSV a text column's cells follow
    the reference writer's `csv_text` rule (`csv_text_sql`), so the two files are the same bytes.
    DuckDB writes straight into `atomic_path`'s temp file (USE_TMP_FILE false): its own
    `tmp_…` file would be one more a killed run leaves behind."""
    from ..io.output import KINDS, csv_text_sql

    fmt = output_format(out)
    names = [d[0] for d in con.execute(f"DESCRIBE {select}").fetchall()]
    if fmt != "csv":   # typed cells: text is '' where CSV has an empty field, as the reference
        cols = ["CAST(belopp AS DECIMAL(18, 2)) AS belopp" if c == "belopp" and fmt == "parquet"
                else "CAST(betalas_senast AS DATE) AS betalas_senast"
                if c == "betalas_senast" and fmt == "parquet"
                else S.ident(c) if c in ("belopp", "exakt_belopp", "betalas_senast", "rad")
                else f"COALESCE({S.ident(c)}, '') AS {S.ident(c)}" for c in names]
    else:              # a text cell a spreadsheet would run as a formula gets its apostrophe
        cols = [f"{csv_text_sql(S.ident(c))} AS {S.ident(c)}"
                if KINDS.get(c, "text") == "text" else S.ident(c) for c in names]
    select = f"SELECT {', '.join(cols)} FROM ({select}) AS x"
    if fmt == "xlsx":
        rel = con.sql(select)    # to_arrow_table from DuckDB 1.4; fetch_arrow_table before
        table = getattr(rel, "to_arrow_table", None) or rel.fetch_arrow_table
        table = table()
        write_arrow(table, out, sheet)
        return table.num_rows
    with atomic_path(out) as tmp:
        if fmt == "parquet":
            return con.execute(f"COPY ({select}) TO {S.lit(str(tmp))} "
                               "(FORMAT PARQUET, USE_TMP_FILE false)").fetchone()[0]
        return con.execute(f"COPY ({select}) TO {S.lit(str(tmp))} "
                           "(FORMAT CSV, HEADER, USE_TMP_FILE false, COMMENT '')").fetchone()[0]


def _copy_errors(con, malformed: list, out: Path) -> None:
    if malformed:
        con.register("fel_format", pa.table(
            {k: [m[i] for m in malformed] for i, k in enumerate(("fil", "rad", "kolumn",
                                                                  "meddelande", "kod"))}))
        select = ("SELECT fil, rad, kolumn, meddelande FROM (SELECT * FROM fel_format "
                  "UNION ALL SELECT * FROM fel) ORDER BY fil, rad")
    else:
        select = "SELECT fil, rad, kolumn, meddelande FROM fel"
    _copy(con, select, out, "fel")


@dataclass
class _Pots:
    pots: list[PotSummary]     # what `pot_rows` reads of a Result


def _pot_summary(pot, total: int, n: int, counted) -> PotSummary:
    *by_code, paid = counted
    amount = Fraction(pot.pot_ore, 100)
    notes = [(f"pott {swedish_money(amount)} delas på {n} mottagare; "
              f"summa av nyckeln {exact_text(Fraction(total))}")]
    if n and not total:    # fulfilling recipients whose keys are all 0 (as eval/shares.py)
        notes.append(ZERO_KEY)
    counts = dict(zip(S.VERDICTS, map(int, by_code)))
    pending = counts["underlag saknas"] + counts["bedömning krävs"]
    if pending:
        notes.append(f"{pending} mottagare väntar på underlag eller bedömning och ingår inte; "
                     "andelarna är preliminära")
    return PotSummary(pot.payment, pot.payment.villkor, amount,
                      amount if total else Fraction(0), Fraction(int(paid), 100), counts, notes)
