"""One way to run villkor, for every front end: check, run, explain, report and diff.

Typed results and no printing: diagnostics are data (Swedish messages, stable codes), and the
caller — the CLI, the step library, the language server, the report, the web service — decides
how to show them. `run` is the one place that chooses the engine (the column engine when its
plan covers the agreement, else the reference evaluator), writes the outputs and records the
run ledger.

    from pathlib import Path
    from villkor_engine import api

    ut = api.run(Path("agreements/sjukskrivning-2020.villkor"), "examples/sjukskrivning-2020")
    for rad in ut.rows:
        if rad.mottagare == "09":
            print(rad.villkor, rad.utfall, rad.belopp)

Nothing here exits the process or writes to the terminal; a failure is a `RunOutcome` whose
`stage` says where it stopped and whose `diagnostics` say why (`exit_code` maps it to the CLI's
0/1/2).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from .diagnostics import Diagnostic
from .pipeline import Loaded, evaluate, load_agreement, load_agreement_text, parse_params

# What only a run needs (the data readers, the writers with pydantic's row models, the ledger,
# the engines) is imported where it is used, so that checking an agreement (`villkor check`,
# the language server) does not load it.
if TYPE_CHECKING:
    from .eval.engine import Result, Row
    from .io.dataset import BadRow
    from .model.model import Model
    from .write.ledger import Run
    from .write.output import ErrorRow, InvoiceRow, PotRow, ResultRow

Engine = Literal["auto", "referens", "kolumn", "spark"]
Stage = Literal["klar", "användning", "överenskommelse", "indata", "skrivning"]
SIDE_KINDS = ("potter", "fel", "fakturor")
Progress = Callable[[int], AbstractContextManager[Callable[[str], None]]]


# ---- check ------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Checked:
    """An agreement parsed and checked: `model` is None when it did not parse."""

    ok: bool
    diagnostics: tuple[Diagnostic, ...]
    model: Model | None
    text: str | None
    name: str

    def json(self) -> dict[str, Any]:
        """One file's entry of `villkor check --format json`."""
        return {"fil": self.name, "ok": self.ok,
                "diagnoser": [diagnostic_json(d) for d in self.diagnostics]}


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    """A diagnostic as `check --format json` writes it (kod, allvarlighet, meddelande, tips,
    fil, rad, kolumn, slutrad, slutkolumn)."""
    span = d.span
    return {"kod": d.code, "allvarlighet": d.severity, "meddelande": d.message, "tips": d.hint,
            "fil": span.file if span else None, "rad": span.line if span else None,
            "kolumn": span.column if span else None,
            "slutrad": span.end_line if span else None,
            "slutkolumn": span.end_column if span else None}


def _checked(loaded: Loaded, name: str) -> Checked:
    return Checked(loaded.ok, tuple(loaded.diagnostics), loaded.model, loaded.text, name)


def check(text: str, name: str = "<text>") -> Checked:
    """Parse and check an agreement given as text (`name` is used in spans)."""
    return _checked(load_agreement_text(text, name), name)


def checked(loaded: Loaded, name: str) -> Checked:
    """An agreement a caller loaded itself (the step library keeps them between scenarios)."""
    return _checked(loaded, name)


def check_file(path: str | Path) -> Checked:
    """Parse and check an agreement file (over 1 MB, unreadable: a diagnostic, not an error)."""
    return _checked(load_agreement(path), str(path))


def _load(agreement: Path | str | Checked, name: str) -> tuple[Checked, Path | None]:
    """A `Path` is a file, a `str` the agreement's text, a `Checked` used as it is."""
    if isinstance(agreement, Checked):
        return agreement, None
    if isinstance(agreement, Path):
        return check_file(agreement), agreement
    return check(agreement, name), None


# ---- run --------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class RunOutcome:
    """What a run gave: the rows of the result file and its pots, or why there are none.

    `stage` is `klar` when a result exists (bad input rows may still have been left out, by
    either engine: `errors`, `error_count`, and the error file `<out>.fel.<ext>`); otherwise
    where it stopped: `användning` (a parameter, --out, --minne, --ledger: the caller's
    mistake), `överenskommelse` (the agreement has errors),
    `indata` (the data has errors, a `kontroll` fails) or `skrivning` (an output could not be
    written). `result` is the reference evaluator's result (for explanations and reports);
    the column engine gives none.
    """

    stage: Stage
    diagnostics: tuple[Diagnostic, ...] = ()
    rows: tuple[ResultRow, ...] = ()
    pots: tuple[PotRow, ...] = ()
    invoices: tuple[InvoiceRow, ...] = ()
    errors: tuple[ErrorRow, ...] = ()     # bad input rows left out (the first 1000)
    error_count: int = 0
    version: str | None = None            # the version in force
    engine_used: str | None = None        # "referens" or "kolumn"
    written_files: tuple[Path, ...] = ()  # side files first, the result file last
    ledger: Path | None = None
    ledger_id: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)   # parsed parameter values
    model: Model | None = None
    result: Result | None = None
    batch: Any = None                     # the column engine's BatchResult
    text: str | None = None               # the agreement's text (for rendering diagnostics)
    dataset: Any = None                   # the data as read (reference evaluator): kontroll
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.stage == "klar"

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 0 ok, 1 findings or bad input, 2 usage."""
        if self.stage == "användning":
            return 2
        return 0 if self.ok and not self.error_count else 1


def _fail(stage: Stage, code: str, message: str, hint: str | None = None, **more) -> RunOutcome:
    return RunOutcome(stage, (Diagnostic(code, message, None, hint=hint),), **more)


OUT = "--ut"    # the result file's option, as messages name it (`--out` is its alias)

UNITS = {"KB": 10 ** 3, "MB": 10 ** 6, "GB": 10 ** 9, "TB": 10 ** 12,
         "KiB": 2 ** 10, "MiB": 2 ** 20, "GiB": 2 ** 30, "TiB": 2 ** 40}
MIN_MEMORY = 16 * 10 ** 6          # DuckDB needs some working memory even for tiny inputs
MAX_MEMORY = 1024 * 10 ** 12       # DuckDB refuses more


def memory_problem(memory: str) -> tuple[str | None, Diagnostic | None]:
    """`--minne` as DuckDB reads it, or why not: no size (V300), out of range (V311)."""
    m = re.fullmatch(r"(\d{1,15}(?:\.\d{1,6})?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", memory.strip())
    hint = "skriv t.ex. 500MB eller 2GB"
    if m is None:
        return None, Diagnostic("V300", f"--minne `{memory}` är ingen storlek", None, hint=hint)
    size = float(m.group(1)) * UNITS[m.group(2)]
    if not MIN_MEMORY <= size <= MAX_MEMORY:
        return None, Diagnostic("V311", f"--minne `{memory}` ligger utanför det tillåtna: minst "
                                "16MB, högst 1024TB", None, hint=hint)
    return f"{m.group(1)}{m.group(2)}", None


def file_target_problem(out: str | Path, sides: tuple[str, ...] = (), option: str = OUT
                        ) -> Diagnostic | None:
    """V307 unless `out` can be written as a file: not empty, no directory or device in its
    place, no file where a folder on its way should be."""
    from .write.output import side_path

    hint = f"ange en fil, t.ex. {option} ut/utfall.csv"
    out = str(out)
    if not out.strip():
        return Diagnostic("V307", f"{option} är tomt", None, hint=hint)
    target = Path(out)
    if out.endswith(("/", os.sep)) or target.name in ("", ".", ".."):
        return Diagnostic("V307", f"{option} `{out}` är en mapp, ingen fil", None, hint=hint)
    for path in (target, *(side_path(target, k) for k in sides)):
        what = "resultatfilen" if path == target else "sidofilen"
        if path.is_dir():
            return Diagnostic("V307", f"{what} `{path}` är en mapp, ingen fil", None, hint=hint)
        if path.exists() and not path.is_file():
            return Diagnostic("V307", f"{what} `{path}` är ingen vanlig fil (t.ex. en enhet)",
                              None, hint=hint)
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                return Diagnostic("V307", f"{option} `{out}` kan inte skapas: `{parent}` är en "
                                  "fil, ingen mapp", None, hint=hint)
            break
    return None


def output_problem(out: str | Path, option: str = OUT) -> Diagnostic | None:
    """The --out path's problem before anything is computed: a format nobody can write (V300),
    or a path that cannot be a result file (V307)."""
    from .write.output import output_format

    if str(out).strip():
        try:
            output_format(Path(out))
        except ValueError as exc:
            return Diagnostic("V300", f"{option}: {exc}", None)
    return file_target_problem(out, SIDE_KINDS, option)


def data_files(model: Model) -> tuple[str, ...]:
    """The data files the agreement names: what the ledger hashes."""
    return tuple(sorted({t.file for t in model.tables.values()}
                        | {t.file for t in model.records.values()}))


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def overwrite_problem(target: Path, agreement: Path | None, data: Path,
                      model: Model, option: str = OUT) -> Diagnostic | None:
    """V310: the result or a side file would replace the agreement or a data file it names."""
    from .write.output import side_path

    inputs = ([agreement] if agreement is not None else []) + \
        [data / f for f in data_files(model)]
    for path in (target, *(side_path(target, k) for k in SIDE_KINDS)):
        for source in inputs:
            if _same_file(path, source):
                what = "överenskommelsen" if source == agreement else "indatafilen"
                name = option if path == target else f"sidofilen `{path.name}` till {option}"
                return Diagnostic("V310", f"{name} skulle skriva över {what} `{source}`", None,
                                  hint="skriv resultatet till en annan fil, helst i en egen "
                                  f"mapp, t.ex. {option} ut/utfall.csv")
    return None


def write_problem(exc: OSError, path: Path) -> Diagnostic:
    """V309: a file that could not be written (or read on the way), said in Swedish."""
    from .write.ledger import os_reason

    other = Path(str(exc.filename)) if exc.filename else None
    if other is not None and not other.name.startswith((path.stem, f".{path.stem}")):
        return Diagnostic("V309", f"`{other}` kunde inte läsas eller skrivas: {os_reason(exc)}",
                          None, hint="kontrollera filens rättigheter och att disken har plats")
    return _write_failed(path, os_reason(exc))


def _write_failed(path: Path, reason: str) -> Diagnostic:
    return Diagnostic("V309", f"`{path}` kunde inte skrivas: {reason}", None,
                      hint="kontrollera att mappen finns, att du får skriva i den och att "
                      "disken har plats; ingen ofullständig fil lämnades kvar")


def ledger_pots(pots) -> list[dict[str, str]]:
    """Each pot's totals as exact text, the same for both engines (what the ledger stores)."""
    from .eval.values import money_text

    return [{"utbetalning": p.payment.name, "villkor": p.villkor or "",
             "pott": money_text(p.pot) if p.pot is not None else "",
             "utbetalt": money_text(p.paid_total)} for p in pots]


def _param_pairs(params: Iterable[str] | Mapping[str, Any] | None) -> list[str]:
    if params is None:
        return []
    if isinstance(params, Mapping):
        return [f"{k}={v}" for k, v in params.items()]
    return list(params)


def _record(ledger: Path, entry: Run) -> tuple[int | None, Diagnostic | None]:
    """Log the run; a ledger that cannot be written is warning V305, never a lost result."""
    from .write.ledger import LedgerError, os_reason, record

    try:
        return record(ledger, entry), None
    except Exception as exc:   # noqa: BLE001 - the result is written; say why the log is not
        from .diagnostics import visible

        if isinstance(exc, LedgerError):
            reason = exc.message
        elif isinstance(exc, OSError):
            reason = os_reason(exc)
        else:
            first = visible(str(exc)).splitlines()[0][:200] if str(exc) else ""
            reason = f"databasfel ({first or type(exc).__name__})"
        return None, Diagnostic("V305", f"körningen kunde inte loggas i {ledger}: {reason}",
                                None, severity="varning", hint="resultatet är skrivet, men "
                                "körningen saknas i loggen; kör igen för att logga den")


def run(agreement: Path | str | Checked, data_dir: str | Path, out: Path | str | None = None,
        params: Iterable[str] | Mapping[str, Any] | None = None, per: date | None = None,
        engine: Engine = "auto", memory: str = "1GB", ledger: Path | str | None = None,
        spark: str = "local[*]",
        *, name: str = "<text>", keep_rows: bool = True,
        progress: Progress | None = None, option: str = OUT) -> RunOutcome:
    """Evaluate every recipient; write `out` (and its side files) if given; record the run.

    `agreement`: a `Path` (a file), a `str` (the agreement's text, spans named `name`) or a
    `Checked`. `params`: `["NAMN=VÄRDE", …]` or `{"NAMN": "VÄRDE"}`, each parsed by the
    parameter's declared type. `engine`: `auto` uses the column engine when its plan covers the
    agreement (each `--param` a constant of its plan), else the reference evaluator; `kolumn`
    refuses what it cannot do (V304); `referens` never tries. `ledger`: record the run there
    (needs `out`).
    `keep_rows=False` leaves `rows` empty (a CLI writing millions of rows does not read them
    back). `progress(total)` gives a context manager yielding a callable that is told each step
    (the CLI's `StepProgress`). `option` is how messages name the result file's option (the CLI
    passes the spelling the user typed).
    """
    from .io.data import keeping_bad_rows
    from .write.ledger import LedgerError, Run, check_ledger
    from .write.output import ErrorRow, invoice_rows, pot_rows, result_rows, side_path

    started = time.perf_counter()
    progress = progress or (lambda _total: nullcontext(lambda _what: None))
    target = Path(out) if out is not None else None
    if out is not None:
        problem = output_problem(out, option)   # as given: `""` is empty, not the folder `.`
        if problem is not None:
            return RunOutcome("användning", (problem,))
    memory_text, problem = memory_problem(memory)
    if problem is not None:
        return RunOutcome("användning", (problem,))
    assert memory_text is not None   # memory_problem gives the text or the problem
    log = Path(ledger) if ledger is not None else None
    if log is not None:
        if target is None:
            return _fail("användning", "V308", "körningsloggen kräver en resultatfil (--out)")
        try:
            check_ledger(log)
        except LedgerError as exc:
            return _fail("användning", exc.code, exc.message, exc.hint or None)
    checked, agreement_path = _load(agreement, name)
    if not checked.ok or checked.model is None:   # ok: a model without errors
        return RunOutcome("överenskommelse", checked.diagnostics, model=checked.model,
                          text=checked.text)
    model = checked.model
    data = Path(data_dir)
    if target is not None:
        problem = overwrite_problem(target, agreement_path, data, model, option)
        if problem is not None:
            return RunOutcome("användning", (problem,), model=model, text=checked.text)
    pairs = _param_pairs(params)
    typed = {k: v for k, v in params.items() if not isinstance(v, str)} \
        if isinstance(params, Mapping) else {}
    values, pdiags = parse_params(model, [p for p in pairs if p.split("=", 1)[0] not in typed])
    values = {**values, **typed}      # values the caller parsed already (the step library)
    if pdiags:
        return RunOutcome("användning", tuple(pdiags), model=model, text=checked.text)
    # the inputs are hashed before anything is evaluated or written: the ledger holds what was
    # read, even if a later step fails or the folder changes meanwhile
    hashes = _hash_inputs(agreement_path, checked.text, data, data_files(model)) \
        if log is not None else (None, None)
    common: dict[str, Any] = dict(model=model, text=checked.text, params=values)
    if engine != "referens":
        done = _run_columnar(model, data, per, target, engine, memory_text,
                             progress, keep_rows, common, spark)
        if done is not None:
            if done.ok and log is not None and target is not None:
                assert done.version is not None   # a finished run has its version
                done = _logged(done, log, Run(
                    agreement_path or Path(checked.name), done.version, per, values, data,
                    done.engine_used or "kolumn",
                    done.batch.rows, done.error_count, ledger_pots(done.batch.pots), target,
                    time.perf_counter() - started, data_files(model), *hashes))
            return _timed(done, started)
    with progress(2 if target is not None else 1) as step:
        step("läser indata och prövar villkoren (referensmotorn)")
        with keeping_bad_rows():   # the bad-row policy: good rows evaluated, bad ones kept
            result, dataset, diags = evaluate(model, data, values, per)
        common["dataset"] = dataset
        if result is None:
            return RunOutcome("indata", tuple(diags), **common)
        bad = dataset.bad_rows if dataset is not None else []
        diags = [*diags, *(b.diagnostic for b in bad[:SHOWN_ERRORS])]
        written: tuple[Path, ...] = ()
        if target is not None:
            step(f"skriver {target.name}")
            fel = side_path(target, "fel")
            try:
                if bad:   # before the result: a result file present means the run completed
                    write_errors(bad, fel)
                written = (*write_result(result, target), *([fel] if bad else []), target)
            except OSError as exc:
                return RunOutcome("skrivning", (*diags, write_problem(exc, target)), **common)
    outcome = RunOutcome(
        "klar", tuple(diags), rows=tuple(result_rows(result)) if keep_rows else (),
        pots=tuple(pot_rows(result)), invoices=tuple(invoice_rows(result)),
        errors=tuple(ErrorRow(fil=b.file, rad=b.line, kolumn=b.column, meddelande=b.message)
                     for b in bad[:SHOWN_ERRORS]),
        error_count=len(bad), version=result.version.label, engine_used="referens",
        written_files=written, result=result, **common)
    if log is not None and target is not None:
        outcome = _logged(outcome, log, Run(
            agreement_path or Path(checked.name), result.version.label, per, values, data,
            "referens", len(result.rows), len(bad), ledger_pots(result.pots), target,
            time.perf_counter() - started, data_files(model), *hashes))
    return _timed(outcome, started)


SHOWN_ERRORS = 1000   # bad rows in `RunOutcome.errors` and on screen; the error file has all


def write_errors(bad: list[BadRow], path: Path) -> None:
    """The error file `<ut>.fel.<ext>` (fil, rad, kolumn, meddelande), written by the column
    engine's own writer (`batch.duck._copy`), so both engines' files are the same bytes."""
    import duckdb
    import pyarrow as pa

    from .batch.duck import _copy

    table = pa.table({"fil": pa.array([b.file for b in bad], pa.string()),
                      "rad": pa.array([b.line for b in bad], pa.int64()),
                      "kolumn": pa.array([b.column for b in bad], pa.string()),
                      "meddelande": pa.array([b.message for b in bad], pa.string())})
    con = duckdb.connect()
    try:
        con.register("fel_rader", table)
        _copy(con, "SELECT fil, rad, kolumn, meddelande FROM fel_rader", path, "fel")
    finally:
        con.close()


def write_result(result: Result, target: Path) -> list[Path]:
    """`write.output.write_result`, loaded with the first run that writes."""
    from .write.output import write_result as write

    return write(result, target)


def _timed(outcome: RunOutcome, started: float) -> RunOutcome:
    return _replace(outcome, seconds=time.perf_counter() - started)


def _replace(outcome: RunOutcome, **changes) -> RunOutcome:
    from dataclasses import replace

    return replace(outcome, **changes)


def _logged(outcome: RunOutcome, log: Path, entry: Run) -> RunOutcome:
    run_id, warning = _record(log, entry)
    diags = outcome.diagnostics + ((warning,) if warning else ())
    return _replace(outcome, ledger=log, ledger_id=run_id, diagnostics=diags)


def _hash_inputs(agreement: Path | None, text: str | None, data: Path,
                 files: tuple[str, ...]) -> tuple[str | None, dict[str, str] | None]:
    """The agreement's and the inputs' hashes before the run; None where a file cannot be read
    (the run itself then says why). An agreement given as text is hashed as its UTF-8 bytes."""
    import hashlib

    from .write.ledger import input_hashes, sha256

    try:
        if agreement is not None:
            agreement_hash = sha256(agreement)
        else:
            agreement_hash = hashlib.sha256((text or "").encode("utf-8")).hexdigest()
    except OSError:
        agreement_hash = None
    try:
        inputs = input_hashes(data, files)
    except OSError:
        inputs = None
    return agreement_hash, inputs


class _Pots:
    """What `pot_rows` reads of a result: its pot summaries."""

    def __init__(self, pots):
        self.pots = pots


def _run_columnar(model: Model, data: Path, per: date | None, out: Path | None,
                  engine: str, memory: str, progress: Progress, keep_rows: bool,
                  common: dict, spark: str = "local[*]") -> RunOutcome | None:
    """The column engine's outcome if its plan covers the agreement, else None (fall back to
    the reference evaluator); with no `out` it writes to a temporary file, read back. The
    plan runs on DuckDB here, or on Spark (`engine="spark"`, the cluster `spark`)."""
    import tempfile

    import duckdb

    from .batch.duck import run_plan
    from .batch.inputs import InputProblem
    from .batch.linear import with_params
    from .batch.loop import ChecksFailed
    from .batch.plan import Unsupported, compile_plan
    from .write.output import ErrorRow, pot_rows, side_path

    required = engine in ("kolumn", "spark")
    known = with_params(model, common["params"])   # each --param a constant of the plan
    version = known.version_at(per)
    plan = compile_plan(known, version)
    if isinstance(plan, Unsupported):
        if required:
            return _fail("användning", "V304", "kolumnmotorn stöder inte överenskommelsen: "
                         f"{plan.reason}", "kör med --motor referens", **common)
        return None
    scratch: tempfile.TemporaryDirectory[str] | None = None
    if out is None:
        scratch = tempfile.TemporaryDirectory(prefix="villkor-api-")
        target = Path(scratch.name) / "utfall.csv"
    else:
        target = out
    try:
        try:
            with progress(1) as step:
                if engine == "spark":
                    from .batch.spark import run_spark
                    batch = run_spark(plan, data, target, step, master=spark)
                else:
                    batch = run_plan(plan, data, target, step, memory)
        except InputProblem as exc:
            if not required:   # a file that cannot be used: the reference's reader says where
                return None    # and why in its own words (file, row, column, a hint)
            return _fail("indata", exc.code, exc.message, exc.hint or None, **common)
        except ChecksFailed as exc:
            return RunOutcome("indata", tuple(exc.diagnostics), **common)
        except OSError as exc:
            return RunOutcome("skrivning", (write_problem(exc, target),), **common)
        except duckdb.Error as exc:
            return RunOutcome(*_column_engine_failed(exc, plan, data, target, memory), **common)
        if isinstance(batch, Unsupported):
            if required:
                return _fail("användning", "V304", "kolumnmotorn stöder inte överenskommelsen: "
                             f"{batch.reason}", "kör med --motor referens", **common)
            return None
        rows = tuple(read_result(target)) if keep_rows else ()
        errors = tuple(ErrorRow(fil=e.file, rad=e.line, kolumn=e.column, meddelande=e.message)
                       for e in batch.errors)
        written = [side_path(target, "potter")]
        if batch.error_count:
            written.append(side_path(target, "fel"))
        diags = (*batch.warnings, *(e.diagnostic() for e in batch.errors))
        return RunOutcome("klar", diags, rows=rows, pots=tuple(pot_rows(_Pots(batch.pots))),
                          errors=errors, error_count=batch.error_count, version=version.label,
                          engine_used="spark" if engine == "spark" else "kolumn",
                          written_files=(*written, target) if out is not None else (),
                          batch=batch, **common)
    finally:
        if scratch is not None:
            scratch.cleanup()


def _column_engine_failed(exc: Exception, plan, data: Path, out: Path, memory: str
                          ) -> tuple[Stage, tuple[Diagnostic, ...]]:
    """A DuckDB error as a Swedish diagnostic: memory (V312), a damaged Parquet input (V212),
    a file that cannot be written (V309), else V314. DuckDB's English text is left out."""
    import duckdb

    from .io.readers import check_parquet

    text = str(exc)
    if isinstance(exc, duckdb.OutOfMemoryException) or "out of memory" in text.lower():
        return "indata", (Diagnostic("V312", f"kolumnmotorns arbetsminne (--minne {memory}) "
                                     "räckte inte", None, hint="ange större --minne, t.ex. "
                                     "--minne 2GB, eller kör med --motor referens"),)
    for spec in getattr(plan, "inputs", ()):
        path = data / spec.file
        if path.suffix.lower() == ".parquet" and path.is_file():
            problem = check_parquet(path)
            if problem is not None:
                return "indata", (Diagnostic(problem.code, f"{path}:{problem.line}: "
                                             f"{problem.message}", None, hint=problem.hint),)
    if "No space left on device" in text:
        return "skrivning", (_write_failed(out, "disken är full"),)
    if "Permission denied" in text:
        return "skrivning", (_write_failed(out, "behörighet saknas"),)
    return "indata", (Diagnostic("V314", "kolumnmotorn kunde inte köra överenskommelsen "
                                 f"({type(exc).__name__})", None, hint="kör med --motor "
                                 "referens, som säger vilken fil och rad det gäller"),)


def read_result(path: Path) -> Iterable[ResultRow]:
    """A result file (CSV, Excel, Parquet) back as ResultRows; in CSV the apostrophe that
    `csv_text` put before a formula's first character is taken away again."""
    from .io.readers import read_rows
    from .write.output import KINDS, RESULT_COLUMNS, ResultRow, Utfall, csv_text_read, output_format

    header, rows = read_rows(path)
    is_csv = output_format(path) == "csv"
    index = {c: header.index(c) for c in RESULT_COLUMNS}
    for _, cells in rows:
        values = {c: cells[i] if i < len(cells) else "" for c, i in index.items()}
        if is_csv:   # the apostrophe `csv_text` put before a formula-like text goes again
            values = {c: csv_text_read(v) if KINDS.get(c) == "text" else v
                      for c, v in values.items()}
        yield ResultRow(
            mottagare=values["mottagare"], namn=values["namn"], villkor=values["villkor"],
            utfall=cast(Utfall, values["utfall"]),   # pydantic validates it
            belopp=Decimal(values["belopp"]) if values["belopp"] else None,
            exakt_belopp=values["exakt_belopp"],
            betalas_senast=date.fromisoformat(values["betalas_senast"])
            if values["betalas_senast"] else None,
            version=values["version"], källa=values["källa"], anmärkning=values["anmärkning"])


# ---- explain, report, diff --------------------------------------------------------------------

def _reference(outcome: RunOutcome) -> tuple[Model, Result]:
    """The model and the reference evaluator's result that explanations and reports read."""
    if outcome.result is None or outcome.model is None:
        raise ValueError("förklaringar kräver referensmotorns resultat (engine=\"referens\")")
    return outcome.model, outcome.result


def _rows_for(outcome: RunOutcome, recipient: str, villkor: str | None) -> list[Row]:
    _, result = _reference(outcome)
    return [r for r in result.rows if r.recipient.code == recipient
            and (villkor is None or r.villkor == villkor)]


def explain_problem(outcome: RunOutcome, recipient: str, villkor: str | None
                    ) -> Diagnostic | None:
    """V303 when no row has this recipient (and villkor)."""
    if _rows_for(outcome, recipient, villkor):
        return None
    known = sorted({r.recipient.code for r in _reference(outcome)[1].rows})
    return Diagnostic("V303", f"ingen rad för mottagare `{recipient}`"
                      + (f" och villkor {villkor}" if villkor else ""), None,
                      hint=f"mottagarna är {', '.join(known)}")


def explain(outcome: RunOutcome, recipient: str, villkor: str | None = None) -> str:
    """The reasons behind one recipient's rows (or one villkor's), as Swedish text."""
    from .explain import explain_rows

    return explain_rows(*_reference(outcome), _rows_for(outcome, recipient, villkor))


def explain_html(outcome: RunOutcome, recipient: str, villkor: str | None = None) -> str:
    """The same explanation as a web page (no script, every value escaped)."""
    from .report import explain_html as page

    return page(*_reference(outcome), _rows_for(outcome, recipient, villkor))


def explanations(outcome: RunOutcome) -> dict[str, str]:
    """Every row's explanation as text, keyed by the report's anchor (`f-<kod>-<villkor>`)."""
    from .explain import explain_rows
    from .report import _anchor

    model, result = _reference(outcome)
    return {_anchor(r): explain_rows(model, result, [r]) for r in result.rows}


def anchor(recipient: str, villkor: str) -> str:
    """The id of a row's explanation in the report (and the workbench)."""
    from .report import _id_part

    return f"f-{_id_part(recipient)}-{_id_part(villkor)}"


def report_html(outcome: RunOutcome) -> str:
    """The Bilaga-2-style report as one HTML page."""
    from .report import render_html

    return render_html(*_reference(outcome))


def report_xlsx(outcome: RunOutcome, path: Path) -> None:
    """The report as an Excel workbook (sheets Utfall, Potter, Förklaringar), written
    atomically."""
    from .report import write_xlsx
    from .write.output import atomic_path

    model, result = _reference(outcome)
    with atomic_path(Path(path)) as tmp:
        write_xlsx(model, result, tmp)


def write_text(path: Path, text: str) -> None:
    """A text output (report, explanation) written atomically."""
    from .write.output import write_atomic

    write_atomic(Path(path), text)


def diff(old: Path | str | Checked, new: Path | str | Checked, data_dir: str | Path,
         params: Iterable[str] | Mapping[str, Any] | None = None, per_old: date | None = None,
         per_new: date | None = None, *, old_name: str = "före.villkor",
         new_name: str = "efter.villkor"):
    """Both versions run on the same data, set side by side (`villkor_engine.diff.compare`):
    a `DiffResult`, or a tuple of diagnostics when either side cannot be checked or run."""
    from . import diff as diffing
    from .diagnostics import VillkorError

    sides: list[Model] = []
    for agreement, name in ((old, old_name), (new, new_name)):
        checked, _ = _load(agreement, name)
        if not checked.ok or checked.model is None:   # ok: a model without errors
            return checked.diagnostics
        sides.append(checked.model)
    values: dict[str, Any] = {}
    for model in sides:
        parsed, pdiags = parse_params(model, [p for p in _param_pairs(params)
                                              if p.partition("=")[0].strip() in model.parameters])
        if pdiags:
            return tuple(pdiags)
        values.update(parsed)
    try:
        return diffing.compare(sides[0], sides[1], Path(data_dir), values, per_old, per_new)
    except VillkorError as exc:
        return tuple(exc.diagnostics)


def csv_of_rows(rows: Iterable[ResultRow]) -> str:
    """Result rows as the result CSV file writes them (for comparison and downloads)."""
    from .write.output import RESULT_COLUMNS, to_csv

    return to_csv(list(rows), RESULT_COLUMNS)


__all__ = ["Checked", "RunOutcome", "check", "check_file", "run", "explain", "explain_html",
           "explanations", "report_html", "report_xlsx", "diff", "diagnostic_json",
           "read_result", "anchor"]
