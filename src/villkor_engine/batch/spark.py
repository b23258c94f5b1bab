"""Running the SQL plan on Apache Spark (PySpark): the same steps as DuckDB, the same files.

`run_spark` has `duck.run_plan`'s contract: each input becomes a view `in_<i>_<table>` (the
declared columns, text or native, and `§rad`, the row's line in the file with the header as 1),
every step of `sql.all_steps` becomes a temporary view rendered in sqlglot's `spark` dialect (one
statement at a time: a script is never split on `;`, which literals may hold), the one-row
`nyckel_*` and `räkna_*` steps give the 64-bit bounds and the pot summaries, and the result and
error rows are collected as Arrow and written by DuckDB exactly as `run_plan` writes them
(`duck._copy`, `duck._copy_errors`), so the files are byte-identical.

Where the data is read:

- Parquet is read by Spark from its path (`file:` URI): on a cluster every executor must see the
  data folder at the same path (a shared mount). `§rad` is Spark's `_metadata.row_index` + 2,
  DuckDB's `file_row_number` + 2; the file's columns are taken by position, as DuckDB does.
- CSV is read in this process by pyarrow, exactly as `inputs.read_csv` reads it (delimiter
  sniffed, BOM skipped, every line counted, a malformed row an error row V209), and handed to
  Spark as an Arrow table. Spark's CSV reader cannot number a file's lines (a quoted cell may
  span lines, and a file is split between tasks), so this is the documented fallback: exact
  line numbers before scale. Excel goes the same way (`io.readers`).

Some DuckDB SQL means something else on Spark; `spark_tree` rewrites those nodes when rendering
(sql.py is the same for every engine; `spark_script` is the whole plan so rewritten, for
`villkor sql --dialekt spark`): `SIGN` is DOUBLE on Spark (kept integral, or money would turn
float), `CHR(n)` takes n modulo 256 (`CHR(8232)` is `(`; the character's UTF-8 bytes instead),
a regular expression's `$` also matches before a final line break in Java (`\\z` instead), and
an aggregate's `FILTER` over a window, which older Spark refuses, becomes a CASE inside it.
ANSI mode makes an overflow an error instead of a wrapped number: a key total beyond 64 bits is
then "unsupported", as on DuckDB, never a wrong share. Native 8-, 16- and 32-bit integers from
Parquet are widened to 64 bits, as every heltal read from text is.

Sessions: `local[*]` (default), `local[N]`, `spark://host:port`, `yarn`, … start a classic
session that the run stops at its end; `sc://host:port` connects to a Spark Connect server
(client: `pyspark[connect]`), and the session is released at the end. In a process that
already runs Spark (a notebook, a job from spark-submit, the tests) that context is used, in a
session of its own, and left running. Problems are `SparkProblem` (an `InputProblem`: V316
Spark missing or not starting, V314 a step failed, V312 memory) in Swedish, never Spark's own
exceptions or its English text.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from ..io.cells import sql_trim
from ..io.paths import data_file
from ..io.readers import ReadError, check_parquet, input_format, read_table
from ..model.model import RecordSpec, TableSpec
from ..write.output import POT_COLUMNS, pot_rows, side_path, write_models
from . import sqltext as S
from .duck import MATERIALISED, _copy, _copy_errors, _copy_invoices
from .inputs import InputProblem, absent, checked_header, read_csv, read_xlsx
from .intake import ERROR_COLUMNS
from .loop import TOO_LARGE, Pots, TooLarge, follow_steps
from .outcome import BatchError, BatchResult, located, members_of
from .plan import Plan, Unsupported
from .settle import INVOICES
from .sql import all_steps

DIALECT = "spark"
INSTALL = "installera tillägget: pip install 'villkor-engine[spark]'"
FALLBACK = "kör med --motor kolumn (DuckDB) eller --motor referens"
# settings of every session a run uses: its own, a new one beside a running one, Spark Connect
RUNTIME = {
    "spark.sql.session.timeZone": "UTC",
    # an overflow is an error, never a wrapped number; a failed cast an error (TRY_CAST is NULL)
    "spark.sql.ansi.enabled": "true",
    # a temp view keeps its analysed plan: a step is not parsed and analysed again (with every
    # step under it) each time a later step reads it
    "spark.sql.legacy.storeAnalyzedPlanForView": "true",
    # the typed steps' wide conditions make constraint inference slow, and it finds nothing
    "spark.sql.constraintPropagation.enabled": "false",
    # a Parquet timestamp in nanoseconds (pandas writes them) is read as its number, which
    # `_parquet_cell` turns into DuckDB's text; Spark refuses the column otherwise
    "spark.sql.legacy.parquet.nanosAsLong": "true",
}
# errors Spark reports when a number does not fit (ANSI mode)
OVERFLOW = ("ARITHMETIC_OVERFLOW", "BINARY_ARITHMETIC_OVERFLOW", "CAST_OVERFLOW",
            "NUMERIC_VALUE_OUT_OF_RANGE", "DIVIDE_BY_ZERO")
LOCAL_PARTITIONS = str(max(2, os.cpu_count() or 2))
# Spark's own messages: errors only. The root stays at WARN with the console filtered to ERROR,
# so Spark does not announce a "default log level" of its own at start-up.
LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.filter.threshold.type = ThresholdFilter
appender.console.filter.threshold.level = error
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %c{1}: %m%n
"""


class SparkProblem(InputProblem):
    """Spark missing, not starting, or failing on a step: (code, message, hint), in Swedish.

    An InputProblem, so whoever handles the DuckDB runner's problems handles these too."""


def run_spark(plan: Plan, data_dir: Path, out: Path,
              progress: Callable[[str], None] = lambda _: None,
              master: str = "local[*]") -> BatchResult | Unsupported:
    """The plan on Spark: `master` is `local[*]` (or `local[N]`), `spark://host:port`, `yarn`,
    … or `sc://host:port` (Spark Connect). In a process that already runs Spark (a notebook, a
    job started with spark-submit) that context is used, in a session of its own; a session
    this function starts, it stops. Problems are SparkProblem/InputProblem, never Spark's own
    exceptions."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkProblem("V316", "Spark-motorn kräver paketet pyspark, som inte är "
                           "installerat", INSTALL) from None
    with warnings.catch_warnings():     # pyspark's own (deprecations, retries): not for users
        warnings.filterwarnings("ignore", module=r"pyspark(\.|$)")
        progress("startar Spark")
        spark, created = _session(SparkSession, master)
        views: list[str] = []
        try:
            return _run(spark, plan, Path(data_dir), Path(out), progress, views)
        except InputProblem:
            raise
        except Exception as exc:
            if not _is_spark_error(exc):
                raise
            raise _failed(exc, plan, Path(data_dir)) from exc
        finally:
            _close(spark, created, views, master.startswith("sc://"))


# ---- the session ----------------------------------------------------------------------------

def start_session(master: str = "local[*]", conf: dict[str, str] | None = None) -> Any:
    """A classic Spark session set up as `run_spark` sets up its own: quiet (log level ERROR,
    no progress bars, no web UI), UTC, ANSI; on `local[…]` the driver bound to 127.0.0.1 and a
    few shuffle partitions; `conf` on top. For a process that runs several plans (tests, a
    notebook): `run_spark` then works in a session of its own beside it (with these settings)
    and leaves it running."""
    from pyspark.sql import SparkSession

    work = Path(tempfile.mkdtemp(prefix="villkor-spark-"))
    try:
        log = work / "log4j2.properties"      # read once, when the JVM starts
        log.write_text(LOG4J, encoding="utf-8")
        builder = (SparkSession.builder.master(master).appName("villkor")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.driver.extraJavaOptions",
                           f"-Dlog4j2.configurationFile={log.as_uri()}"))
        for key, value in RUNTIME.items():
            builder = builder.config(key, value)
        if master.startswith("local"):
            # one machine: nothing listens beyond it, and a handful of partitions is plenty
            builder = (builder.config("spark.driver.host", "127.0.0.1")
                       .config("spark.driver.bindAddress", "127.0.0.1")
                       .config("spark.sql.shuffle.partitions", LOCAL_PARTITIONS))
        for key, value in (conf or {}).items():
            if key == "spark.driver.extraJavaOptions":   # beside the log settings, not instead
                value = f"-Dlog4j2.configurationFile={log.as_uri()} {value}"
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        return spark
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _session(SparkSession: Any, master: str) -> tuple[Any, bool]:
    """(session, whether this run created it and must stop it)."""
    try:
        if master.startswith("sc://"):
            try:
                import grpc  # noqa: F401   (Spark Connect's client needs it)
            except ImportError:
                raise SparkProblem("V316", "Spark Connect (`sc://…`) kräver pyspark med "
                                   "Connect-klienten, som inte är installerad",
                                   "installera den: pip install 'pyspark[connect]>=4.0'"
                                   ) from None
            unreachable = _unreachable(master)
            if unreachable:     # the client would retry for minutes before it said so
                raise SparkProblem("V316", f"ingen Spark Connect-server svarar på {unreachable}",
                                   "kontrollera adressen (sc://värd:port) och att servern är i "
                                   "gång (sbin/start-connect-server.sh), eller " + FALLBACK)
            spark, created = SparkSession.builder.remote(master).create(), True
        else:
            from pyspark import SparkContext

            if SparkContext._active_spark_context is not None:   # a running context: reuse it
                spark, created = SparkSession.builder.getOrCreate().newSession(), False
            else:
                spark, created = start_session(master), True
        for key, value in RUNTIME.items():
            spark.conf.set(key, value)
        return spark, created
    except SparkProblem:
        raise
    except Exception as exc:
        reason = _reason(exc)
        if reason == "JAVA_GATEWAY_EXITED":    # no java, or one that does not start
            raise SparkProblem("V316", f"Spark kunde inte startas: Java saknas eller startar "
                               f"inte ({reason})", "installera Java 17 eller 21 och ange den i "
                               "JAVA_HOME, eller " + FALLBACK) from None
        raise SparkProblem("V316", f"Spark kunde inte startas med --spark {master} ({reason})",
                           "kontrollera klustrets adress (local[*], spark://värd:port, "
                           "sc://värd:port) och att det är i gång, eller " + FALLBACK) from None


def _unreachable(url: str) -> str | None:
    """`host:port` of an `sc://` address where nothing answers within seconds, else None."""
    place = url[len("sc://"):].split("/", 1)[0].split(";", 1)[0]
    if place.startswith("["):                 # [IPv6]:port
        host, _, port = place[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = place.partition(":")
    try:
        socket.create_connection((host or "localhost", int(port or 15002)), timeout=10).close()
    except (OSError, ValueError):
        return f"{host or 'localhost'}:{port or 15002}"
    return None


def _close(spark: Any, created: bool, views: list[str], connect: bool) -> None:
    """Drop this run's views (and with them their cached data); stop a session it started. A
    Connect session is released; a Connect server this process runs itself (`SPARK_LOCAL_REMOTE`,
    which `stop` would end) stays."""
    try:
        if created and connect and "SPARK_LOCAL_REMOTE" in os.environ:
            spark.client.release_session()
            spark.client.close()
        elif created:
            spark.stop()
        else:
            for name in views:
                spark.catalog.dropTempView(name)   # the name itself, not an SQL identifier
    except Exception:   # a session already gone has nothing left to drop
        pass


def _is_spark_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.startswith(("pyspark", "py4j", "grpc"))


def _overflow(exc: BaseException) -> bool:
    """Spark's ANSI mode found a number that does not fit in 64 bits."""
    return _is_spark_error(exc) and _reason(exc).startswith(OVERFLOW)


def _reason(exc: BaseException) -> str:
    """Spark's error condition (e.g. `UNRESOLVED_COLUMN`), or the exception's kind: never the
    JVM's English text and stack."""
    get = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
    condition = None
    if callable(get):
        try:
            condition = get()
        except Exception:
            condition = None
    return str(condition) if condition else type(exc).__name__


def _failed(exc: BaseException, plan: Plan, data_dir: Path) -> InputProblem:
    """A Spark failure as a Swedish problem: a damaged Parquet input (as the DuckDB runner says
    it), too little memory, or anything else (V314)."""
    for spec in plan.inputs:
        path = data_dir / spec.file
        if path.suffix.lower() == ".parquet" and path.is_file():
            problem = check_parquet(path)
            if problem is not None:
                return InputProblem(problem.code, f"{path}:{problem.line}: {problem.message}",
                                    problem.hint or "")
    reason = _reason(exc)
    if "OutOfMemory" in reason or "OutOfMemory" in str(exc)[:2000]:
        return SparkProblem("V312", "Spark fick inte plats i minnet",
                            "ge Spark mer minne (spark.driver.memory, spark.executor.memory) "
                            "eller " + FALLBACK)
    return SparkProblem("V314", f"Spark kunde inte köra överenskommelsen ({reason})", FALLBACK)


# ---- the run --------------------------------------------------------------------------------

def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _run(spark: Any, plan: Plan, data_dir: Path, out: Path, progress, views: list[str]
         ) -> BatchResult | Unsupported:
    """`duck._run`, step for step, with Spark executing the steps."""
    kinds: dict[str, dict[str, str]] = {}
    files: dict[str, str] = {}
    malformed: list[tuple[str, int, str, str, str]] = []
    names = S.Names.of(plan)
    for i, spec in enumerate(plan.inputs):
        progress(f"läser {spec.file}")
        name = names.table("in", spec.name)
        views += [name, f"{S.MARK}p{i}"]
        if absent(spec, data_dir):     # a `valfri` table without its file: no rows
            none = pa.table({S.MARK + "rad": pa.array([], pa.int64())})
            spark.createDataFrame(none).createOrReplaceTempView(_quote(name))
            kinds[spec.name], files[spec.name] = {}, Path(spec.file).name
            continue
        kinds[spec.name], files[spec.name] = _register(spark, name, spec, data_dir, i, malformed)
    steps = all_steps(plan, kinds, files)
    if hasattr(progress, "total"):   # a StepProgress: Spark, inputs, every step but the last, out
        progress.total = 1 + len(plan.inputs) + len(steps)
    # records are only ever aggregated: scanning the input again beats keeping it typed
    streamed = {names.table("typ", t.name) for t in plan.inputs if isinstance(t, RecordSpec)}

    def execute(st: S.Step) -> None:
        views.append(st.name)
        spark.sql(spark_view(st))
        if st.name.startswith(MATERIALISED) and st.name not in streamed:
            spark.sql(f"CACHE LAZY TABLE {_quote(st.name)}")

    def one_row(name: str) -> tuple:
        try:
            return _one_row(spark, name)
        except Exception as exc:   # ANSI mode: a sum did not fit in 64 bits
            if _overflow(exc):
                raise TooLarge from None
            raise

    followed = follow_steps(plan, steps, execute, one_row, progress)
    if isinstance(followed, Unsupported):
        return followed
    pots, warnings = followed
    progress(f"skriver {out.name}")
    # the error rows in file order (the step's ORDER BY) and the result rows in recipient order:
    # the result step's ORDER BY is kept, since Spark keeps no order from one step to the next
    try:
        bad = _arrow(spark.sql(f"SELECT * FROM {_quote('fel')}"))
        result = _arrow(spark.sql(spark_select(steps[-1])))
    except Exception as exc:   # ANSI mode: a product in a row did not fit in 64 bits
        if _overflow(exc):
            return TOO_LARGE
        raise
    errors = [BatchError(*e) for e in malformed]
    n_errors = bad.num_rows + len(errors)
    con = duckdb.connect()
    try:
        if n_errors:
            errors += [BatchError(*r.values()) for r in
                       bad.select(list(ERROR_COLUMNS)).slice(0, 1000).to_pylist()]
            # the screen's list in file order too (malformed rows are read first)
            errors = located(plan, data_dir, sorted(errors, key=lambda e: (e.file, e.line))[:1000],
                             lambda spec: members_of(lambda q: _Rows(spark.sql(_spark_query(q))),
                                                   plan, spec))
            con.register("fel", bad)
            _copy_errors(con, malformed, side_path(out, "fel"))
        write_models(side_path(out, "potter"), pot_rows(Pots(pots)), POT_COLUMNS, "potter")
        if plan.invoices:   # in file order: the step's own ORDER BY, as for the result
            invoice = next(st for st in steps if st.name == INVOICES)
            con.register(INVOICES, _arrow(spark.sql(spark_select(invoice))))
        invoiced = _copy_invoices(con, plan, out, lambda sql: con.execute(sql).fetchall())
        con.register("resultat", result)
        written = _copy(con, "SELECT * FROM resultat", out)
    finally:
        con.close()
    return BatchResult(written, errors, pots, n_errors, warnings, *invoiced)


def _one_row(spark: Any, name: str) -> tuple:
    """A one-row step's values (Python ints, texts)."""
    return tuple(spark.sql(f"SELECT * FROM {_quote(name)}").first())


def _arrow(df: Any) -> pa.Table:
    """A DataFrame's rows as one Arrow table, in order (Spark 4's `toArrow`)."""
    return df.toArrow()


# ---- inputs ---------------------------------------------------------------------------------

def _register(spark: Any, name: str, spec: TableSpec | RecordSpec, data_dir: Path, index: int,
              malformed: list) -> tuple[dict[str, str], str]:
    """The temporary view `name` (`in_<i>_<table>`): the file's declared columns, `§rad` and
    (when the file has other columns) `§annat`; the kinds of what it holds. As
    `duck._register`: CSV and Excel read here as DuckDB's runner reads them, Parquet by Spark."""
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
        df = _parquet(spark, spec, path, f"{S.MARK}p{index}")
    else:
        table = (read_csv(path, spec, malformed) if fmt == "csv"
                 else read_xlsx(path, spec, malformed))
        df = spark.createDataFrame(table)
    df.createOrReplaceTempView(_quote(name))
    described = {f.name: f.dataType.typeName() for f in df.schema.fields}
    missing = [c for c, col in spec.columns.items()
               if c not in described and not col.may_be_absent]
    if missing:
        raise InputProblem("V202", f"{spec.file}: kolumnen `{missing[0]}` saknas",
                           "rubrikraden ska innehålla: " + ",".join(spec.columns))
    kinds = {}
    for c in spec.columns:
        if c in described:
            t = described[c]
            kinds[c] = ("bool" if t == "boolean" else
                        "int" if t in ("byte", "short", "integer", "long") else
                        "date" if t == "date" else "text")
    if S.OTHER in described:
        kinds[S.OTHER] = "bool"
    return kinds, path.name


def _parquet(spark: Any, spec, path: Path, raw: str) -> Any:
    """The declared columns of a Parquet file, picked by position, the file's row number, and
    `§annat` when the file has other columns (as `duck._register_parquet`).

    Spark reads the file itself (on a cluster: the executors, from a path they all see); the
    footer is read here too, as DuckDB's runner reads it, for a damaged file (V212), a declared
    column with no cell form (V213) and the header's rules (V202). Every column of the file is
    renamed by position (`§0`, `§1`, …) in the view `raw`, so no column, in any letter case,
    stands in for a declared one, and `_metadata.row_index` is taken even where the file has a
    column `_metadata`."""
    try:
        header = read_table(path, spec.columns).header or []
    except ReadError as exc:
        raise InputProblem(exc.code, f"tabellen `{spec.name}`: {exc.message}",
                           exc.hint or "") from None
    stripped = checked_header(path, spec, header)
    position = {h: i for i, h in enumerate(stripped)}
    nanos = _nanosecond_columns(path)
    df = spark.read.parquet(_uri(path))
    row = df.metadataColumn("_metadata").getField("row_index")
    marks = [S.MARK + str(i) for i in range(len(df.columns))]
    every = df.select("*", row.alias(S.MARK + "index")).toDF(*marks, S.MARK + "index")
    every.createOrReplaceTempView(_quote(raw))
    types = {f.name: f.dataType.typeName() for f in every.schema.fields}

    def mark(i: int) -> tuple[str, str]:
        return _quote(S.MARK + str(i)), nanos.get(i) or types.get(S.MARK + str(i), "")

    cols = [f"{_parquet_cell(*mark(position[c]))} AS {_quote(c)}"
            for c in spec.columns if c in position]
    cols.append(f"{_quote(S.MARK + 'index')} + 2 AS {_quote(S.MARK + 'rad')}")
    others = [i for i, h in enumerate(stripped) if h not in spec.columns]
    if others:
        filled = [f"{_spark_expr(sql_trim(x.replace('`', chr(34))))} <> ''" if t == "string"
                  else f"{x} IS NOT NULL" for x, t in map(mark, others)]
        cols.append(f"COALESCE({' OR '.join(filled)}, FALSE) AS {_quote(S.OTHER)}")
    return spark.sql(f"SELECT {', '.join(cols)} FROM {_quote(raw)}")


def _nanosecond_columns(path: Path) -> dict[int, str]:
    """The positions of the file's timestamp columns in nanoseconds (read as numbers, see
    RUNTIME): `nanos` where the timestamp is not adjusted to UTC, else `nanos_utc`."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    return {i: "nanos_utc" if f.type.tz else "nanos" for i, f in enumerate(schema)
            if pa.types.is_timestamp(f.type) and f.type.unit == "ns"}


def _parquet_cell(x: str, kind: str) -> str:
    """A declared Parquet column as the reference's reader gives its cells, where Spark's own
    text would differ from DuckDB's (as `duck._parquet_cell`): a timestamp at midnight is its
    date (else seconds, and microseconds when there are any), a whole float its integer, NaN
    and infinities as DuckDB writes them. A timestamp adjusted to UTC is written as DuckDB
    writes it on a machine in UTC (`2010-01-01 00:00:00+00`). A native integer is widened to
    64 bits."""
    if kind in ("nanos", "nanos_utc"):    # nanoseconds since 1970, to microseconds (floor)
        x = f"TIMESTAMP_MICROS(({x} - PMOD({x}, 1000)) DIV 1000)"
        kind = "timestamp_ntz" if kind == "nanos" else "timestamp"
    if kind == "timestamp_ntz":    # DuckDB's TIMESTAMP (a Parquet timestamp not adjusted to UTC)
        full = f"DATE_FORMAT({x}, 'yyyy-MM-dd HH:mm:ss.SSSSSS')"
        return (f"CASE WHEN SUBSTRING({full}, 12) = '00:00:00.000000' THEN "
                f"SUBSTRING({full}, 1, 10) WHEN SUBSTRING({full}, 21) = '000000' THEN "
                f"SUBSTRING({full}, 1, 19) ELSE {full} END")
    if kind == "timestamp":        # DuckDB's TIMESTAMP WITH TIME ZONE (the session is in UTC)
        return f"CAST({x} AS STRING) || '+00'"
    if kind in ("byte", "short", "integer"):
        # 64 bits, as every heltal from text: `123456789 * k` must not overflow 32 bits
        return f"CAST({x} AS BIGINT)"
    if kind in ("float", "double"):
        return (f"CASE WHEN ISNAN({x}) THEN 'nan' WHEN {x} = CAST('Infinity' AS DOUBLE) THEN "
                f"'inf' WHEN {x} = CAST('-Infinity' AS DOUBLE) THEN '-inf' WHEN ABS({x}) < 9.2e18 "
                f"AND {x} = FLOOR({x}) THEN CAST(CAST({x} AS BIGINT) AS STRING) "
                f"ELSE CAST({x} AS STRING) END")
    return x


def _uri(path: Path) -> str:
    """A local path as Hadoop reads it: `file:` and the absolute path, glob characters escaped
    (Hadoop reads `*`, `?`, `[…]`, `{…}` in a path as a pattern)."""
    text = str(path.resolve())
    for ch in "\\{}[]*?":
        text = text.replace(ch, "\\" + ch)
    return "file://" + text


# ---- rendering ------------------------------------------------------------------------------

def spark_tree(tree: exp.Expr) -> exp.Expr:
    """A step's tree with what means something else on Spark rewritten (see the module doc)."""
    return tree.copy().transform(_rewrite)


# Euclid's algorithm as one expression: Spark has no GCD; 184 steps end it for any two numbers
# below 2^127 (the Fibonacci numbers bound its length)
_GCD = ("AGGREGATE(SEQUENCE(1, 184), NAMED_STRUCT('a', CAST(ABS(x) AS DECIMAL(38, 0)), 'b', "
        "CAST(ABS(y) AS DECIMAL(38, 0))), (s, i) -> IF(s.b = 0, s, NAMED_STRUCT('a', s.b, 'b', "
        "s.a % s.b)), s -> s.a)")
# exact division of whole numbers up to 10^32: Spark's `/` on DECIMAL(38, 0) (DIV gives a
# 64-bit LONG), where DuckDB has DIVIDE; the plan writes 128-bit numbers as HUGEINT (INT128)
_DIVIDE = "CAST(CAST(x AS DECIMAL(38, 0)) / CAST(y AS DECIMAL(38, 0)) AS DECIMAL(38, 0))"


def _gcd(a: exp.Expr, b: exp.Expr, template: str = _GCD) -> exp.Expr:
    tree = sqlglot.parse_one(template, read=DIALECT)
    return tree.transform(lambda n: a.copy() if isinstance(n, exp.Column) and n.name == "x"
                          and not n.table else b.copy() if isinstance(n, exp.Column)
                          and n.name == "y" and not n.table else n)


def _rewrite(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Anonymous) and str(node.this).upper() in ("GCD", "DIVIDE") \
            and len(node.expressions) == 2:
        # the arguments first: the new tree is not visited again
        a, b = (x.transform(_rewrite) for x in node.expressions)
        return _gcd(a, b, _GCD if str(node.this).upper() == "GCD" else _DIVIDE)
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
        return exp.DataType.build("DECIMAL(38, 0)")
    if isinstance(node, exp.Chr) and len(node.expressions) == 1 \
            and isinstance(node.expressions[0], exp.Literal) \
            and int(node.expressions[0].this) >= 128:
        # Spark's CHR takes the code modulo 256 (CHR(8232) is `(`): the character's UTF-8
        # bytes instead, in ASCII SQL
        code = int(node.expressions[0].this)
        return exp.func("DECODE", exp.func("UNHEX", exp.Literal.string(
            chr(code).encode("utf-8").hex().upper())), exp.Literal.string("UTF-8"))
    if isinstance(node, exp.Sign):
        # DuckDB's SIGN keeps the integer type; Spark's is DOUBLE, which would make money float
        x = node.this
        return exp.Case(ifs=[exp.If(this=exp.LT(this=x.copy(), expression=exp.Literal.number(0)),
                                    true=exp.Literal.number(-1)),
                             exp.If(this=exp.GT(this=x.copy(), expression=exp.Literal.number(0)),
                                    true=exp.Literal.number(1))],
                        default=exp.Literal.number(0))
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Filter):
        # no FILTER on a window aggregate in Spark: AGG(x) FILTER (WHERE p) → AGG(CASE WHEN p
        # THEN x END); COUNT(*) counts the rows where p holds
        agg, where = node.this.this, node.this.expression.this
        agg = agg.copy()
        arg = agg.this
        if isinstance(arg, exp.Star) or arg is None:
            arg = exp.Literal.number(1)
        agg.set("this", exp.Case(ifs=[exp.If(this=where.copy(), true=arg.copy())]))
        node = node.copy()
        node.set("this", agg)
        return node
    if isinstance(node, exp.RegexpLike) and isinstance(node.expression, exp.Literal):
        pattern = node.expression.this
        if pattern.endswith("$") and not pattern.endswith("\\$"):
            # Java's `$` also matches before a final line break; RE2's (DuckDB) does not
            node = node.copy()
            node.set("expression", exp.Literal.string(pattern[:-1] + "\\z"))
            return node
    return node


class _Rows:
    """A Spark result where `outcome.members_of` reads DuckDB's: `fetchall()`."""

    def __init__(self, frame: Any):
        self.frame = frame

    def fetchall(self) -> list:
        return [tuple(r) for r in self.frame.collect()]


def _spark_query(duck_sql: str) -> str:
    """A query written for DuckDB, in Spark SQL."""
    return spark_tree(sqlglot.parse_one(duck_sql, read=S.READ)).sql(DIALECT, identify=True)


def _spark_expr(duck_sql: str) -> str:
    """An SQL expression written for DuckDB (as io/cells.py writes them), in Spark SQL."""
    tree = sqlglot.parse_one(duck_sql, read=S.READ)
    return spark_tree(tree).sql(DIALECT, identify=True)


def spark_view(st: S.Step) -> str:
    """`CREATE OR REPLACE TEMPORARY VIEW …` for the step, in Spark SQL."""
    return S.Step(st.name, spark_tree(st.tree)).view(DIALECT)


def spark_select(st: S.Step) -> str:
    return S.Step(st.name, spark_tree(st.tree)).sql(DIALECT)


def spark_script(steps: list[S.Step]) -> str:
    """`sql.script` for Spark with `run_spark`'s rewrites: each step a temporary view, then the
    result query (what `villkor sql --dialekt spark` should print)."""
    parts = [f"-- {st.name}\n{spark_view(st)};" for st in steps[:-1]]
    parts.append(f"-- {steps[-1].name}\n{spark_select(steps[-1])};")
    return "\n\n".join(parts) + "\n"
