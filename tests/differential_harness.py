"""One drawn case through both engines, in process, and what they wrote compared.

`Harness` is a context manager. Per case it writes the data folder once, runs `api.run` with
`engine="referens"` and with `engine="kolumn"` (the front door every user goes through: the same
files as `villkor run`), and compares the files they wrote byte for byte: the result, its
`.potter.csv` and `.fel.csv`. When the column engine's plan does not cover the agreement (V304),
only the reference runs, and it must not crash; the summary counts why.

Run-time parameters: a data folder (`Data.params`) carries the `--param namn=värde` its run is
given; both engines get the same (`api.run(…, params)`), and a parameter left out is missing.

Bad rows: both engines write every good row's result and the bad rows to `<out>.fel.csv`, so
those files are compared too. One that refuses the input while the other goes on is a mismatch;
both refusing it must name the same reasons.

Cheap cases: one in-memory DuckDB database per harness; `duckdb.connect()` (a new in-memory
database, about 40 ms, which `run_plan` and the reference's error writer open per run) gives a
new connection to it instead (`cursor()`: its own temporary views and registered tables, closed
by whoever opened it). The SQL steps' sqlglot parse and render are memoised by their text (about
75 ms per plan, the same for every data folder of one agreement), and what the runner asks of a
step's tree (`inorder.facts`) by the tree. Neither changes what runs: the same SQL on the same
DuckDB. The data and output folders are in memory (`/dev/shm`) where the
system has one: every result file is written through `fsync` (write.output.write_atomic), which
on a disk costs a few milliseconds a file and more when two workers wait for the same disk; in
memory it costs nothing, and the files are the same bytes.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from agreement_strategies import Agreement, Data
from villkor_engine import api

MEMO = 500      # plans memoised: an agreement's are reused by its next data folders
KEPT = {f"{engine}{kind}.csv" for engine in ("referens", "kolumn") for kind in ("", ".potter")}


class GeneratorError(AssertionError):
    """A drawn agreement that does not pass `villkor check`: a bug in the strategies."""


class Mismatch(AssertionError):
    """The engines disagree on a case: the message has the agreement, the data and the diff."""


@dataclass
class Stats:
    cases: int = 0
    agreements: int = 0
    kinds: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)     # why the plan declined
    outside: Counter = field(default_factory=Counter)     # constructs drawn (per agreement)
    compared: Counter = field(default_factory=Counter)    # … in cases both engines ran (per case)
    seconds: Counter = field(default_factory=Counter)     # per phase

    def merge(self, other: Stats) -> None:
        self.cases += other.cases
        self.agreements += other.agreements
        for name in ("kinds", "reasons", "outside", "compared", "seconds"):
            getattr(self, name).update(getattr(other, name))


def in_memory() -> str | None:
    """A folder in memory for the cases' files (tmpfs), or None: the system's temp folder.
    `VILLKOR_DIFF_TMP` names another (a disk, to measure what it costs)."""
    chosen = os.environ.get("VILLKOR_DIFF_TMP")
    if chosen:
        return chosen
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


class Harness:
    def __init__(self, shared: bool = True, folder: str | None = None):
        self.shared = shared
        self.folder = folder if folder is not None else in_memory()
        self.stats = Stats()
        self._checked: tuple[str, api.Checked] | None = None
        self._undo: list = []

    # ---- set-up ------------------------------------------------------------------------------

    def __enter__(self) -> Harness:
        self.work = Path(tempfile.mkdtemp(prefix="villkor-diff-", dir=self.folder))
        self.data_dir = self.work / "data"
        self.out_dir = self.work / "ut"
        self.data_dir.mkdir()
        self.out_dir.mkdir()
        if self.shared:
            try:
                self._share()
            except BaseException:     # the folder (in memory) and the patches not left behind
                self.__exit__()
                raise
        return self

    def __exit__(self, *exc) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        shutil.rmtree(self.work, ignore_errors=True)

    def _patch(self, owner, name: str, value) -> None:
        old = getattr(owner, name)
        setattr(owner, name, value)
        self._undo.append(lambda: setattr(owner, name, old))

    def _share(self) -> None:
        import duckdb

        try:   # where `step` and `Step` are written (sql.py before it was split)
            from villkor_engine.batch import sqltext as S
        except ImportError:
            from villkor_engine.batch import sql as S  # type: ignore[no-redef]

        database = duckdb.connect()
        # inputs of a few dozen rows are one vector: DuckDB runs them on one thread anyway,
        # and its other threads only cost CPU time
        database.execute("SET threads = 1")
        self._undo.append(database.close)
        connect = duckdb.connect

        def shared(database_name: str = ":memory:", *args, **kwargs):
            """A new in-memory database is a new connection to the harness's one: its own
            temporary views and registered tables, closed by whoever opened it."""
            if database_name in (":memory:", "") and not args and not kwargs:
                return database.cursor()
            return connect(database_name, *args, **kwargs)

        self._patch(duckdb, "connect", shared)
        steps: dict[tuple, object] = {}
        rendered: dict[tuple[int, str], tuple[object, str]] = {}
        make_step, render = S.step, S.Step.sql

        def step(name: str, select: str, *more, **named):
            """`step` memoised by all it is given (its text, and e.g. a `shortcut`)."""
            key = (name, select, more, tuple(sorted(named.items())))
            try:
                found = steps.get(key)
            except TypeError:    # something unhashable: not memoised
                return make_step(name, select, *more, **named)
            if found is None:
                if len(steps) > MEMO:
                    steps.clear()
                found = steps[key] = make_step(name, select, *more, **named)
            return found

        def sql(self, dialect: str = S.READ) -> str:
            key = (id(self.tree), dialect)
            found = rendered.get(key)
            if found is None or found[0] is not self.tree:
                if len(rendered) > MEMO:
                    rendered.clear()
                found = rendered[key] = (self.tree, render(self, dialect))
            return found[1]

        self._rebind("step", make_step, step)
        self._patch(S.Step, "sql", sql)
        # pure functions of one tree: computed once per tree (held, so its id is not reused)
        self._memoise("without_order", lambda st: st.tree)   # the result query, no ORDER BY
        self._memoise("facts", lambda tree: tree)            # what the runner asks of a step

    def _memoise(self, name: str, tree_of) -> None:
        function = self._found(name)
        if function is None:      # not in this version of the engine
            return
        found: dict[int, tuple[object, object]] = {}

        def memoised(arg):
            tree = tree_of(arg)
            hit = found.get(id(tree))
            if hit is None or hit[0] is not tree:
                if len(found) > MEMO:
                    found.clear()
                hit = found[id(tree)] = (tree, function(arg))
            return hit[1]

        self._rebind(name, function, memoised)

    @staticmethod
    def _modules() -> list:
        import villkor_engine.batch.duck  # noqa: F401 - every module of the runner loaded

        return [m for name, m in list(sys.modules.items())
                if name.startswith("villkor_engine.batch.") and m is not None]

    def _found(self, name: str):
        for module in self._modules():
            if hasattr(module, name):
                return getattr(module, name)
        return None

    def _rebind(self, name: str, old, new) -> None:
        """`name` replaced wherever the engine's modules hold `old` (each imports it by name)."""
        for module in self._modules():
            if getattr(module, name, None) is old:
                self._patch(module, name, new)

    # ---- one case -----------------------------------------------------------------------------

    def checked(self, agreement: Agreement) -> api.Checked:
        if self._checked is None or self._checked[0] != agreement.text:
            checked = api.check(agreement.text, "diff.villkor")
            if not checked.ok:
                raise GeneratorError("the drawn agreement does not pass `villkor check`:\n"
                                     + "\n".join(d.header() for d in checked.diagnostics
                                                 if d.is_error) + "\n" + agreement.text)
            self._checked = (agreement.text, checked)
            self.stats.agreements += 1
            self.stats.outside.update(agreement.outside or ("(inget)",))
        return self._checked[1]

    def _write(self, data: Data) -> None:
        """The case's files, and no other: a file of the last case is removed unless written
        again; of the outputs only the side files an engine need not write (`.fel`), the rest
        every finished run replaces."""
        names = {f.name for f in data.files}
        for entry in self.data_dir.iterdir():
            if entry.name not in names:
                entry.unlink()
        for entry in self.out_dir.iterdir():
            if entry.name not in KEPT:
                entry.unlink()
        for f in data.files:
            (self.data_dir / f.name).write_bytes(f.content)

    def compare(self, agreement: Agreement, data: Data) -> str:
        """Both engines on one data folder; the kind of agreement reached, or Mismatch."""
        t0, cpu = time.perf_counter(), time.process_time()
        checked = self.checked(agreement)
        t1 = time.perf_counter()
        self._write(data)
        t2 = time.perf_counter()
        ref_out, col_out = self.out_dir / "referens.csv", self.out_dir / "kolumn.csv"
        params = list(getattr(data, "params", ()))   # the same `--param namn=värde` to both
        ref = api.run(checked, self.data_dir, ref_out, params, engine="referens",
                      keep_rows=False)
        t3 = time.perf_counter()
        col = api.run(checked, self.data_dir, col_out, params, engine="kolumn",
                      keep_rows=False)
        t4 = time.perf_counter()
        kind = self._judge(agreement, data, checked, ref, col)
        t5 = time.perf_counter()
        s = self.stats
        s.cases += 1
        s.kinds[kind.split(":")[0]] += 1
        if not kind.startswith("bara referensen"):
            s.compared.update(agreement.outside or ("(inget)",))
        for phase, dt in (("check", t1 - t0), ("write", t2 - t1), ("referens", t3 - t2),
                          ("kolumn", t4 - t3), ("compare", t5 - t4),
                          ("cpu", time.process_time() - cpu)):
            s.seconds[phase] += dt
        return kind

    def _judge(self, agreement: Agreement, data: Data, checked: api.Checked,
               ref: api.RunOutcome, col: api.RunOutcome) -> str:
        def fail(what: str, diff: str = "") -> Mismatch:
            if "V314" in codes:   # DuckDB's own words, which the front door leaves out
                what += f" ({self._duckdb_error(checked)})"
            return Mismatch(f"{what}\n\n{report(agreement, data, ref, col)}{diff}")

        codes = [d.code for d in col.diagnostics]
        if col.stage == "användning" and codes == ["V304"]:
            reason = category(col.diagnostics[0].message)
            self.stats.reasons[reason] += 1
            if ref.stage not in ("klar", "indata"):
                raise fail("the reference evaluator failed on a case the column engine declines")
            return f"bara referensen: {reason}"
        if ref.stage == "klar" and col.stage == "klar":   # the result, .potter and .fel
            self._same_files(fail)
            return "lika (felaktiga rader)" if col.error_count else "lika"
        if ref.stage == "indata" and col.stage == "klar":
            errors = [d for d in ref.diagnostics if d.is_error]
            raise fail("the reference evaluator refused the input, the column engine did not: "
                       + "; ".join(d.header() for d in errors[:5]))
        if ref.stage == "indata" and col.stage == "indata":
            ref_codes = {d.code for d in ref.diagnostics if d.is_error}
            if not set(codes) <= ref_codes:
                raise fail(f"both refused the input, for different reasons: {codes} against "
                           f"{sorted(ref_codes)}")
            return "indatafel hos båda"
        raise fail(f"the stages differ: reference {ref.stage}, column engine {col.stage}")

    def _duckdb_error(self, checked: api.Checked) -> str:
        from villkor_engine.batch.duck import run_plan
        from villkor_engine.batch.plan import compile_plan

        model = checked.model
        assert model is not None
        try:
            run_plan(compile_plan(model, model.version_at(None)), self.data_dir,
                     self.out_dir / "igen.csv")
        except Exception as exc:   # noqa: BLE001 - reported, not handled
            return f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        return "no error the second time"

    def _same_files(self, fail) -> None:
        for kind in ("", ".potter", ".fel"):
            a = self.out_dir / f"referens{kind}.csv"
            b = self.out_dir / f"kolumn{kind}.csv"
            if a.is_file() != b.is_file():
                raise fail(f"only one engine wrote {kind or 'the result'}: "
                           f"referens {a.is_file()}, kolumn {b.is_file()}")
            if a.is_file():
                x, y = a.read_bytes(), b.read_bytes()
                if x != y:
                    raise fail(f"the files differ: {b.name}",
                               diff(x.decode("utf-8", "replace"), y.decode("utf-8", "replace")))


def category(message: str) -> str:
    """Why the plan declined, without the agreement's names (for the summary)."""
    reason = message.split(": ", 1)[-1]
    reason = re.sub(r"`[^`]*`", "…", reason)
    reason = re.sub(r"\b(kolumnen|tabellen|utbetalningen|villkor|delvillkor|mottagargruppen|"
                    r"gruppen|kolumnerna|är inte kopplad till gruppen) [^\s:,]+",
                    r"\1 …", reason)
    reason = re.sub(r"\b(och) [^\s:,]+ skiljer", r"\1 … skiljer", reason)
    reason = re.sub(r"typen \S+", "typen …", reason)
    return reason[:90]


def diff(expected: str, got: str, limit: int = 60) -> str:
    lines = list(difflib.unified_diff(expected.splitlines(), got.splitlines(), "referens",
                                      "kolumn", lineterm="", n=1))
    return "\n\n" + "\n".join(lines[:limit]) + ("\n…" if len(lines) > limit else "")


def report(agreement: Agreement, data: Data, ref: api.RunOutcome, col: api.RunOutcome) -> str:
    def said(o: api.RunOutcome) -> str:
        return f"{o.stage}: " + "; ".join(d.header() for d in o.diagnostics[:6])
    return (f"--- agreement ---\n{agreement.text}\n{data.shown()}\n"
            f"--- hostile: {', '.join(data.hostile) or '-'}; bad cells: {data.bad}\n"
            f"reference: {said(ref)}\ncolumn engine: {said(col)}")
