"""Running the SQL plan on DuckDB: inputs registered, steps executed, outputs copied atomically.

DuckDB streams the inputs and runs the steps in parallel. Every input is read as `io.readers`
reads it for the reference (delimiter, header, line numbers, blank rows; cells typed by the
rules of `io.cells`): a plain CSV file (no quotes) by pyarrow (BOM skipped, row numbers added,
malformed rows kept as error rows), any other CSV file by the reference's csv-module reader;
Parquet is scanned by DuckDB itself with its file row numbers; Excel through `io.readers`.
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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..diagnostics import Diagnostic, Span, did_you_mean
from ..eval.checks import check_diagnostics, evaluate_checks
from ..eval.engine import PotSummary
from ..eval.shares import ZERO_KEY
from ..eval.values import Missing, exact_text, swedish_money
from ..io.cells import WHITESPACE, is_blank, sql_trim, trim
from ..io.data import cell_hint
from ..io.paths import data_file
from ..io.readers import (
    ReadError,
    csv_start,
    filled_cells,
    input_format,
    read_rows,
    read_table,
    repeated_columns,
    repeated_message,
)
from ..model import types as T
from ..model.model import RecordSpec, TableSpec
from ..syntax import ast
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
    in_order,
    is_one_row,
    one_row_sources,
    reads,
    without_ord,
)
from .intake import BEYOND, NAMED, known_codes
from .linear import PER_UNIT
from .plan import AmountPlan, Plan, PotPlan, Unsupported
from .rows import without_order
from .settle import FINDINGS, INVOICE_LIMITS, INVOICES
from .sql import all_steps
from .verdicts import CHECKS

LIMIT = 2 ** 62
# steps read more than once are computed once; the rest are views DuckDB streams through
MATERIALISED = ("typ_", "mot_", "nyckel_", "andel_", "fel")    # `fel…`: felrad_ too
GLOB = "*?["      # what DuckDB reads as a pattern in a file name
INT_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT")


class InputProblem(Exception):
    """An input file that cannot be read at all: (code, message, hint), said in Swedish."""

    def __init__(self, code: str, message: str, hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


class ChecksFailed(Exception):
    """A `kontroll` that does not hold for the data: the run stops before anything is written,
    as in the reference (`diagnostics` are the same V160 errors and warnings)."""

    def __init__(self, diagnostics: list):
        super().__init__("kontroll")
        self.diagnostics = diagnostics


@dataclass
class BatchError:
    file: str
    line: int
    column: str
    message: str
    code: str = "V204"             # V204 a cell, V206 a repeated key, V209 a malformed row
    path: str = ""                 # the file as the reference names it (data folder / file)
    at: int = 1                    # the column's field in the file, 1-based (1: the row)
    hint: str | None = None

    def diagnostic(self) -> Diagnostic:
        """As the reference's reader says it: file, row and field, and its hint."""
        return Diagnostic(self.code, self.message,
                          Span.point(self.path or self.file, self.line, self.at),
                          hint=self.hint)


def located(plan: Plan, data_dir: Path, errors: list[BatchError],
            members: Callable[[TableSpec], list[str]]) -> list[BatchError]:
    """The errors with their file's path, their column's field and their hint, as the
    reference's reader gives them (the header read again, for the files that have errors
    only; `members(spec)`: the codes a table per member may name, asked only for an unknown
    one)."""
    files = {Path(spec.file).name: spec for spec in plan.inputs}
    headers: dict[str, list[str]] = {}
    for name in {e.file for e in errors}:
        spec = files.get(name)
        if spec is None:
            continue
        try:
            source = data_file(data_dir, spec.file)
            header = (csv_start(source).header if input_format(source) == "csv"
                      else read_table(source, spec.columns).header) or []
        except ReadError:
            header = []
        headers[name] = [trim(h) for h in header]
    out = []
    known: dict[str, list[str]] = {}
    for e in errors:
        spec = files.get(e.file)
        header = headers.get(e.file, [])
        at = header.index(e.column) + 1 if e.column in header else 1
        named = str(Path(data_dir) / spec.file) if spec is not None else e.file
        hint = None
        if spec is not None:
            if e.code == "V205" and isinstance(spec, TableSpec) and e.column == spec.keys[0]:
                if spec.name not in known:
                    known[spec.name] = members(spec)
                hint = _member_hint(e.message, spec, known[spec.name])
            else:
                hint = row_hint(e, spec, input_format(Path(named)), plan)
        out.append(replace(e, path=named, at=at, hint=hint))
    return out


def members_of(query: Callable[[str], Any], plan: Plan, spec: TableSpec) -> list[str]:
    """The codes a table per member may name (`intake.known_codes`), read on the engine."""
    known = known_codes(plan, spec, S.Names.of(plan))
    if known is None:
        return []
    return [str(r[0]) for r in query(f"SELECT * FROM ({known}) AS k").fetchall() if r[0]]


def _member_hint(message: str, spec: TableSpec, known: list[str]) -> str:
    """The reference's hint for an unknown member: a near code, else the first 25."""
    code = message.rsplit("`", 2)[-2]
    return did_you_mean(code, known) or \
        f"mottagarna i `{spec.group}` är: {', '.join(sorted(known)[:25])}"


def row_hint(e: BatchError, spec: TableSpec | RecordSpec, fmt: str, plan: Plan
             ) -> str | None:
    """The reference reader's hint for a bad row (io/data.py `_read_rows`), from its code,
    column and message."""
    if e.code == "V209":
        return "kontrollera avgränsare och citattecken" if fmt == "csv" else \
            "varje kolumn med värden ska ha en rubrik i rubrikraden"
    if e.code == "V206":
        per = isinstance(spec, TableSpec) and spec.per_villkor
        return "varje mottagare ska ha en rad" + (" per villkor" if per else "")
    if e.code == "V205":
        ids = sorted({i.vid for i in plan.model.all_items() if isinstance(i, ast.Villkor)})
        return "villkoren är: " + ", ".join(ids)
    col = spec.columns.get(e.column)
    if col is None:
        return None
    if "är en procentsats, men kolumnen är" in e.message:
        return "skriv beloppet i kronor, t.ex. 1500" if col.type == T.BELOPP else \
            "skriv talet utan %"
    if "är ett belopp i kronor, men kolumnen är" in e.message:
        return "skriv talet utan kr"
    return cell_hint(col, spec.decimal) or None


@dataclass
class BatchResult:
    rows: int                      # output rows written (recipients × villkor, plus summa)
    errors: list[BatchError] = field(default_factory=list)
    pots: list[PotSummary] = field(default_factory=list)
    error_count: int = 0
    warnings: list = field(default_factory=list)   # kontroll that could not be decided (V161…)
    # invoice lines (`fakturering`): how many, and the rejected ones' (file, line, findings
    # separated by settle.SEPARATOR), the first thousand, for the screen
    invoices: int | None = None
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    rejected_count: int = 0


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
    kinds: dict[str, dict[str, str]] = {}
    files: dict[str, str] = {}
    malformed: list[tuple[str, int, str, str, str]] = []
    names = S.Names.of(plan)
    for i, spec in enumerate(plan.inputs):
        progress(f"läser {spec.file}")
        if _absent(spec, data_dir):     # a `valfri` table without its file: no rows
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
    last = {name: i for i, st in enumerate(steps) for name in reads(st.tree) if name in held}
    light = set(held)     # relations in memory: stored steps, Arrow inputs, views over them
    one_row_steps = {st.name for st in steps if is_one_row(st.tree)}
    index = {st.name: i for i, st in enumerate(steps)}
    known: dict[str, tuple[list[str], list[str], tuple]] = {}    # one-row steps' cells

    def one_row(name: str) -> tuple[list[str], list[str], tuple]:
        if name not in known:
            rel = con.sql(f"SELECT * FROM {S.ident(name)}")
            rows = rel.fetchall()
            known[name] = (rel.columns, [str(t) for t in rel.types], rows[0])
        return known[name]

    def execute(st: S.Step) -> None:
        tree = st.tree
        if st.shortcut is not None and \
                con.execute(st.shortcut.guard_sql()).fetchone()[0] == 0:
            tree = st.shortcut.tree
        tree = bind_rows(tree, {n: one_row(n) for n in one_row_sources(tree)
                                if n in one_row_steps})
        if in_order(tree, ordered):    # filters and projections of rows in file order
            tree = without_ord(tree)
            ordered.add(st.name)
            # and of rows in memory: cheaper to compute again than to store
            cheap = reads(tree) <= light and not st.name.startswith("typ_")
        else:
            cheap = False
        keep = "TABLE" if st.name.startswith(MATERIALISED) and st.name not in streamed and \
            not cheap else "VIEW"
        if keep == "TABLE" or cheap:
            light.add(st.name)
        con.execute(f"CREATE TEMP {keep} {S.ident(st.name)} AS "
                    f"{tree.sql(dialect=S.READ, identify=True)}")
        for name in reads(tree) & held:
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
    n_errors = con.execute("SELECT COUNT(*) FROM fel").fetchone()[0] + len(errors)
    if n_errors:
        errors += [BatchError(*r) for r in con.execute("SELECT * FROM fel LIMIT 1000").fetchall()]
        # the screen's list in file order too (malformed rows are read first)
        errors = located(plan, data_dir, sorted(errors, key=lambda e: (e.file, e.line))[:1000],
                         lambda spec: members_of(con.execute, plan, spec))
        _copy_errors(con, malformed, fel)
    write_models(side_path(out, "potter"), pot_rows(_Pots(pots)), POT_COLUMNS, "potter")
    # one group: its rows were made in recipient order (ordered tables, rows unnested in order,
    # DuckDB keeps insertion order), so the result needs no sort of every output row
    result = without_order(steps[-1]) if len(plan.groups) == 1 else steps[-1]
    invoiced = _copy_invoices(con, plan, out, lambda sql: con.execute(sql).fetchall())
    written = _copy(con, result.sql(), out)
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
              "fakturor")
    bad = f"FROM {S.ident(INVOICES)} WHERE status = 'avvisad'"
    rejected = [(str(f), int(r), str(a)) for f, r, a in
                rows(f"SELECT fil, rad, {FINDINGS} {bad} LIMIT 1000")]
    return n, rejected, int(rows(f"SELECT COUNT(*) {bad}")[0][0])


class TooLarge(Exception):
    """A runner's one-row step did not fit in 64 bits (Spark's ANSI overflow)."""


def follow_steps(plan: Plan, steps: list[S.Step], execute: Callable[[S.Step], None],
                 one_row: Callable[[str], tuple], progress: Callable[[str], None]
                 ) -> tuple[list[PotSummary], list] | Unsupported:
    """Every step but the result, in order, on any engine (`execute` runs one, `one_row` reads
    a one-row step): the 64-bit bounds of each pot, the kontroll, belopp the plan cannot hold,
    and the pots file's lines in the agreement's order, with the kontroll warnings."""
    names = S.Names.of(plan)
    key_total = {names.line("nyckel", g.name, k): (g.name, k, pot) for g in plan.groups
                 for k, pot in enumerate(g.pots)}
    counts = {names.line("räkna", g.name, k): (g.name, k, line) for g in plan.groups
              for k, line in enumerate(g.lines)}
    sums = {names.group("summa", g.name): g for g in plan.groups}
    rows = {names.group("rader", g.name): g for g in plan.groups}
    too_large = Unsupported("talen är för stora för 64-bitars heltal", None)
    pots: list[PotSummary] = []
    totals: dict[tuple[str, int], tuple[int, int]] = {}    # a pot's key total and sharers
    largest: dict[tuple[str, int], int] = {}     # a line's largest |tal| among paid members
    common: dict[str, int] = {}                  # a group's L (rows.sum_step)
    # a kontroll that reads no data is decided here (its warnings: a parameter without value)
    warnings: list = [] if plan.checked else decide_checks(plan, ())
    for st in steps[:-1]:
        progress(f"steg {st.name}")
        execute(st)
        if st.name in key_total:
            group, k, pot = key_total[st.name]
            try:
                total, n, biggest, _ = one_row(st.name)
            except TooLarge:
                return too_large
            if 2 * pot.pot_ore * int(biggest) + pot.unit_ore * int(total) >= LIMIT \
                    or 2 * int(total) * 10_000 >= LIMIT:
                return too_large
            totals[(group, k)] = (int(total), int(n))
        if st.name in sums:   # L within CAP_L, and every terminating decimal within 6 places
            found, six = one_row(st.name)
            if int(found) <= 0 or not six:
                return too_large
            common[sums[st.name].name] = int(found)
        if st.name in rows and rows[st.name].name in common:
            g = rows[st.name]
            # the exact sum Σ tal·(L/T) of a member's paid lines, within 128 bits
            L = common[g.name]
            dens = [line.den if isinstance(line, AmountPlan) else totals[(g.name, k)][0]
                    for k, line in enumerate(g.lines)]
            worst = sum(largest[(g.name, k)] * (L // den) for k, den in enumerate(dens) if den)
            if worst >= 10 ** 31:     # 128 bits, and exact division on Spark's DECIMAL(38, 0)
                return too_large
        if st.name == CHECKS:
            warnings = decide_checks(plan, one_row(st.name))
        if st.name == NAMED and one_row(st.name)[0]:
            return Unsupported("en mottagare som ett fast belopp nämner finns också i en grupp "
                               "ur en tabell; referensmotorn avgör vem beloppet går till", None)
        if st.name == BEYOND and one_row(st.name)[0]:
            return Unsupported("ett belopp i indata har fler än två decimaler eller fler än 16 "
                               "siffror; kolumnmotorn räknar belopp i hela ören", None)
        if st.name == INVOICE_LIMITS and _invoices_too_large(plan, one_row(st.name)):
            return too_large
        if st.name in counts:
            group, k, line = counts[st.name]
            counted = one_row(st.name)
            largest[(group, k)] = int(counted[-1])
            if isinstance(line, AmountPlan) and line.cap_total is not None and (
                    int(counted[-2]) > line.cap_total * line.den or
                    int(counted[-3]) > line.cap_total):
                # the amounts are scaled down to the cap (and rounded by largest remainder)
                return Unsupported(f"utbetalningen {line.payment.name}: beloppen överstiger "
                                   "taket totalt och skalas ned; det räknar referensmotorn",
                                   None)
            pots.append(_pot_summary(line, *totals[(group, k)], counted[:-1])
                        if isinstance(line, PotPlan) else _amount_summary(line, counted[:-1]))
    order = list(plan.version.payments)     # the pots file lists payments as the agreement
    pots.sort(key=lambda p: order.index(p.payment.name))
    return pots, warnings


def _invoices_too_large(plan: Plan, largest: tuple) -> bool:
    """antal × pris for every invoice line must fit in 64 bits (the limits step's one row has
    the largest |antal| of each priced invoice table, in the plan's order)."""
    priced = [ip for ip in plan.invoices if ip.prices and "antal" in ip.columns]
    return any(int(n) * max(ip.prices.values(), key=abs) >= LIMIT
               for ip, n in zip(priced, largest))


def decide_checks(plan: Plan, row) -> list:
    """The kontroll, decided by the reference's code (`eval.checks`) on the aggregates the
    `kontroll` step computed: the warnings, or ChecksFailed with the errors."""
    pushed = {}
    values = list(row)
    at = 0
    for node in plan.checked:
        n, k, o, fl, fv = values[at:at + 5]
        at += 5
        total = blank = None
        if isinstance(node, ast.TotalOf):
            total, blank = values[at:at + 2]
            at += 2
        pushed[id(node)] = _pushed(plan, node, n, k, o, fl, fv, total, blank)
    diags = check_diagnostics(evaluate_checks(plan.model, plan.version, {}, None, pushed))
    if any(d.is_error for d in diags):
        raise ChecksFailed(diags)
    return diags


def _pushed(plan: Plan, node, n, k, o, fl, fv, total, blank):
    """One aggregate's value as the reference's `_aggregate` gives it with no recipient."""
    spec = plan.model.records[node.table]
    file = Path(spec.file).name
    if o:
        return Missing(f"{int(o)} poster i {file} kan inte prövas (t.ex. rad {int(fl)}: "
                       f"{S.VERDICTS[int(fv)]})")
    if isinstance(node, ast.Count):
        return Fraction(int(k))
    if isinstance(node, ast.ShareOf):
        if not n:
            return Missing(f"inga poster i {file}")
        return Fraction(int(k), int(n))
    if blank is not None:
        return Missing(f"{file} rad {int(blank)}: {node.column} är tom")
    return Fraction(int(total or 0), PER_UNIT[spec.columns[node.column].type])


def _absent(spec: TableSpec | RecordSpec, data_dir: Path) -> bool:
    """A `valfri` table whose file is not there (the reference reads it as absent)."""
    if not spec.optional:
        return False
    try:
        return not data_file(data_dir, spec.file).exists()
    except ReadError:
        return False      # a name outside the folder: `_register` says why


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
    elif fmt == "csv":
        con.register(name, _read_csv(path, spec, malformed))
    else:
        con.register(name, _read_xlsx(path, spec, malformed))
    described = {row[0]: row[1] for row in con.execute(f"DESCRIBE {S.ident(name)}").fetchall()}
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


def _header(path: Path, spec, header: list[str]) -> list[str]:
    """The header trimmed, or the table is not read: an empty file, a column named twice (V202,
    as the reference)."""
    names = [trim(h) for h in header]
    if not names:
        raise InputProblem("V202", f"filen `{spec.file}` är tom; den ska börja med en rubrikrad",
                           "rubriker: " + ",".join(spec.columns))
    for _, twice in repeated_columns(names):
        raise InputProblem("V202", f"{spec.file}: {repeated_message(twice)}",
                           "varje kolumn ska ha en egen rubrik")
    return names


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
    stripped = _header(path, spec, header)
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


def _read_csv(path: Path, spec, malformed: list) -> pa.Table:
    """The declared columns as text, `§rad` (the line each record begins on, header = 1) and,
    when the file has other columns, `§annat` — read as io/readers.py reads the file for the
    reference: the same delimiter, header, records, line numbers and blank rows.

    A plain file (no quote, no NUL, no overlong line: every line one record, the bulk of large
    inputs) is read by pyarrow; empty lines stay as blank rows, so rows and lines agree, and a
    row with the wrong number of fields is an error row (V209) unless all its fields are
    blank. Any other file is read by the csv module, as the reference reads it."""
    try:
        start = csv_start(path)
        header = _header(path, spec, start.header or [])
        sheet = start.sheet
        if sheet is None:
            try:
                return _csv(path, header, start.delimiter, spec, malformed)
            except pa.ArrowInvalid:    # bytes that are not UTF-8, further down
                sheet = read_table(path)   # the reference's error, or its reading
        return _from_rows(path, header, sheet.rows, spec, malformed)
    except ReadError as exc:
        raise InputProblem(exc.code, f"{path.name}: {exc.message}", exc.hint or "") from None


def _csv(path: Path, header: list[str], delimiter: str, spec, malformed: list) -> pa.Table:
    table, bad = _pyarrow_csv(path, header, delimiter, threads=True)
    if bad:   # on one thread pyarrow knows each bad row's line
        table, bad = _pyarrow_csv(path, header, delimiter, threads=False)
    for number, fields, text in bad:
        if not is_blank(text.split(delimiter)):
            message = f"rad {number} har {fields} fält men rubrikraden har {len(header)}"
            malformed.append((path.name, number, "", message, "V209"))
    lines = np.arange(2, table.num_rows + len(bad) + 2)
    if bad:   # the good rows' lines: every line but the bad ones (sorted, so in order)
        lines = lines[~np.isin(lines, [n for n, *_ in bad])]
    lines = lines[:table.num_rows]
    # trimmed here, vectorised, rather than cell by cell in SQL (`sql.TRIMMED`)
    columns = {c: pc.utf8_trim(table.column(c), characters=WHITESPACE, memory_pool=_pool())
               for c in spec.columns if c in header}
    others = [h for h in header if h not in spec.columns]
    if others:
        filled = np.zeros(table.num_rows, dtype=bool)
        for h in others:
            filled |= filled_cells(table.column(h))
        columns[S.OTHER] = pa.array(filled)
    columns[S.MARK + "rad"] = pa.array(lines, pa.int64())
    return pa.table(columns)


def _pool() -> pa.MemoryPool:
    """The C library's allocator for the input's text: once it is typed and stored
    (`con.unregister`), its memory goes back to the system for DuckDB's own allocator, where
    pyarrow's default pool would keep it for itself (about 100 MB less at the peak for 1M
    rows)."""
    return pa.system_memory_pool()


def _pyarrow_csv(path: Path, header: list[str], delimiter: str, threads: bool):
    bad: list[tuple[int, int, str]] = []

    def bad_row(row) -> str:
        bad.append((row.number or 0, row.actual_columns, row.text or ""))
        return "skip"

    table = pacsv.read_csv(
        path, memory_pool=_pool(), read_options=pacsv.ReadOptions(column_names=header, skip_rows=1,
                                             use_threads=threads),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=bad_row,
                                         ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(
            column_types={h: pa.string() for h in header}, strings_can_be_null=True,
            null_values=[""]))
    return table, sorted(bad)


def _from_rows(path: Path, header: list[str], rows, spec, malformed: list) -> pa.Table:
    """The declared columns, `§rad` and `§annat` from the reference's reader (io/readers.py):
    its blank rows left out, a row of another width than the header an error row (V209)."""
    index = {h: i for i, h in enumerate(header)}
    wanted = [c for c in spec.columns if c in index]
    others = [i for i, h in enumerate(header) if h not in spec.columns]
    lines: list[int] = []
    filled: list[bool] = []
    columns: dict[str, list[str | None]] = {c: [] for c in wanted}
    for line, cells in rows:
        if is_blank(cells):
            continue
        if len(cells) != len(header):
            message = f"rad {line} har {len(cells)} fält men rubrikraden har {len(header)}"
            malformed.append((path.name, line, "", message, "V209"))
            continue
        lines.append(line)
        for c in wanted:
            value = trim(str(cells[index[c]]))   # trimmed here, as `sql.TRIMMED` says
            columns[c].append(value if value != "" else None)
        if others:
            filled.append(not is_blank(cells[i] for i in others))
    data = {c: pa.array(v, pa.string()) for c, v in columns.items()}
    if others:
        data[S.OTHER] = pa.array(filled, pa.bool_())
    data[S.MARK + "rad"] = pa.array(lines, pa.int64())
    return pa.table(data)


def _read_xlsx(path: Path, spec, malformed: list | None = None) -> pa.Table:
    """The first sheet's declared columns as text (the reference evaluator's reader), with
    rows; a row with values beyond the header is an error row (V209), as in the reference."""
    try:
        header, rows = read_rows(path)
        return _from_rows(path, _header(path, spec, header), rows, spec,
                          [] if malformed is None else malformed)
    except ReadError as exc:
        raise InputProblem(exc.code, f"{path.name}: {exc.message}", exc.hint or "") from None


def _copy(con, select: str, out: Path, sheet: str = "resultat") -> int:
    """The rows in the format the extension names, through a temp file and a rename: DuckDB
    writes CSV and Parquet itself (amounts as DECIMAL(18, 2), dates as DATE); Excel goes
    through the same writer as the reference evaluator's. In CSV a text column's cells follow
    the reference writer's `csv_text` rule (`csv_text_sql`), so the two files are the same bytes.
    DuckDB writes straight into `atomic_path`'s temp file (USE_TMP_FILE false): its own
    `tmp_…` file would be one more a killed run leaves behind."""
    from ..write.output import AGREEMENT_WORDS, KINDS, csv_text_sql

    fmt = output_format(out)
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


def _amount_summary(line: AmountPlan, counted) -> PotSummary:
    """A per-member payment's line in the pots file: no pot, its exact and paid totals."""
    *by_code, paid, exact_num = counted
    counts = dict(zip(S.VERDICTS, map(int, by_code)))
    notes = []
    pending = counts["underlag saknas"] + counts["bedömning krävs"]
    if pending and line.cap_total is not None:
        notes.append(f"{pending} mottagare väntar på underlag eller bedömning och ingår inte; "
                     "andelarna är preliminära")
    cap = Fraction(line.cap_total, 100) if line.cap_total is not None else None
    return PotSummary(line.payment, line.payment.villkor, cap,
                      Fraction(int(exact_num), 100 * line.den), Fraction(int(paid), 100), counts,
                      notes)


def _pot_summary(pot, total: int, n: int, counted) -> PotSummary:
    *by_code, paid, _ = counted
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
