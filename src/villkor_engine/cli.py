"""The `villkor` command: check, run, explain. Exit codes: 0 ok, 1 findings or bad input, 2 usage.

Every user error ends as a rendered Swedish diagnostic; a traceback here is a bug.
"""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .diagnostics import Diagnostic, render
from .eval.values import VERDICTS, money_text, swedish_money
from .io.ledger import Run, default_ledger, history, record
from .explain import explain_rows
from .fmt import format_text
from .report import explain_html, render_html
from .io.output import atomic_path, output_format, side_path, write_atomic, write_result
from .pipeline import evaluate, load_agreement, parse_params
from .progress import StepProgress

# emoji=False: rich would otherwise turn `fil:100:49` into a 💯 emoji
console = Console(highlight=False, soft_wrap=True, emoji=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def _print_diags(diags: list[Diagnostic], source: str | None) -> None:
    for d in diags:
        err_console.print(render(d, source), markup=False)
        err_console.print()


def _summary(diags: list[Diagnostic]) -> str:
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    return f"{errors} fel, {warnings} {'varning' if warnings == 1 else 'varningar'}"


class _Date(click.ParamType):
    name = "datum"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"`{value}` är inget datum (skriv ÅÅÅÅ-MM-DD)", param, ctx)


class _SwedishGroup(click.Group):
    """Click's usage errors, said in Swedish like every other diagnostic (exit code 2)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rc = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.UsageError as exc:
            if not standalone_mode:
                raise
            _usage_error(exc)
            sys.exit(2)
        except click.exceptions.Abort:
            err_console.print("avbrutet", markup=False)
            sys.exit(1)
        if standalone_mode:
            sys.exit(rc or 0)
        return rc


def _usage_error(exc: click.exceptions.UsageError) -> None:
    hint = None
    if isinstance(exc, click.exceptions.NoSuchOption):
        message = f"okänd flagga `{exc.option_name}`"
        if exc.possibilities:
            hint = "menade du " + " eller ".join(f"`{p}`" for p in exc.possibilities) + "?"
    elif isinstance(exc, click.exceptions.MissingParameter) and exc.param is not None:
        kind = "argumentet" if isinstance(exc.param, click.Argument) else "flaggan"
        name = exc.param.opts[-1] if kind == "flaggan" else exc.param.human_readable_name
        message = f"{kind} `{name}` saknas"
    elif isinstance(exc, click.exceptions.BadParameter):
        name = exc.param.opts[-1] if exc.param is not None and exc.param.opts else "värdet"
        message = f"ogiltigt värde för `{name}`: {exc.message}"
    elif exc.message.startswith("No such command"):
        message = "okänt kommando " + exc.message.split(" ", 3)[-1].rstrip(".")
        hint = "kommandona är check, fmt, run, explain, report, history och lsp"
    else:
        message = exc.message
    usage = exc.ctx.get_usage() if exc.ctx else ""
    usage = usage.replace("Usage:", "Användning:").replace("[OPTIONS]", "[FLAGGOR]")
    lines = [usage, f"fel[V300]: {message}"] if usage else [f"fel[V300]: {message}"]
    if hint:
        lines.append(f"  = tips: {hint}")
    lines.append("  = tips: `villkor --help` visar alla kommandon och flaggor")
    err_console.print("\n".join(lines), markup=False)


@click.group(cls=_SwedishGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="villkor", message="%(prog)s %(version)s")
def main() -> None:
    """villkor: villkor och ersättningar i överenskommelser, prövade och beräknade exakt."""


@main.command("check")
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="json: en rad per fil med diagnoserna, för verktyg och CI.")
def check_cmd(files: tuple[str, ...], fmt: str) -> None:
    """Kontrollera överenskommelsefiler (namn, typer, enheter, källor, kontroller)."""
    failed = False
    report = []
    for f in files:
        loaded = load_agreement(f)
        failed |= not loaded.ok
        if fmt == "json":
            report.append({"fil": f, "ok": loaded.ok,
                           "diagnoser": [_diag_json(d) for d in loaded.diagnostics]})
            continue
        _print_diags(loaded.diagnostics, loaded.text)
        status = "ok" if loaded.ok else "FEL"
        console.print(f"{f}: {status} ({_summary(loaded.diagnostics)})", markup=False)
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    sys.exit(1 if failed else 0)


def _diag_json(d: Diagnostic) -> dict:
    span = d.span
    return {"kod": d.code, "allvarlighet": d.severity, "meddelande": d.message, "tips": d.hint,
            "fil": span.file if span else None, "rad": span.line if span else None,
            "kolumn": span.column if span else None,
            "slutrad": span.end_line if span else None,
            "slutkolumn": span.end_column if span else None}


@main.command("fmt")
@click.argument("files", nargs=-1, required=True)
@click.option("--check", "only_check", is_flag=True,
              help="Ändra inget; avsluta med 1 om någon fil inte är formaterad.")
def fmt_cmd(files: tuple[str, ...], only_check: bool) -> None:
    """Formatera överenskommelsefiler enhetligt (kommentarer behålls)."""
    failed = False
    for f in files:
        text = _read_text(f)
        if text is None:
            err_console.print(f"fel[V001]: filen `{f}` kan inte läsas som UTF-8", markup=False)
            failed = True
            continue
        formatted, diags = format_text(text, f)
        if formatted is None:
            _print_diags(diags, text)
            failed = True
            continue
        if formatted == text:
            console.print(f"{f}: redan formaterad", markup=False)
        elif only_check:
            console.print(f"{f}: behöver formateras", markup=False)
            failed = True
        else:
            write_atomic(Path(f), formatted)
            console.print(f"{f}: formaterad", markup=False)
    sys.exit(1 if failed else 0)


def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _load(agreement: str):
    """The checked model, or the diagnostics and exit code 1."""
    loaded = load_agreement(agreement)
    if not loaded.ok:
        _print_diags(loaded.diagnostics, loaded.text)
        err_console.print(f"{agreement}: {_summary(loaded.diagnostics)}; inget beräknat",
                          markup=False)
        sys.exit(1)
    return loaded.model


def _evaluate(model, data: str, params: tuple[str, ...], per: date | None):
    """Parameters parsed once, the data loaded, the reference evaluator run: (values, result)."""
    values, pdiags = parse_params(model, list(params))
    if pdiags:
        _print_diags(pdiags, None)
        sys.exit(2)
    result, _, diags = evaluate(model, data, values, per)
    if result is None:
        _print_diags(diags, None)
        err_console.print(f"{_summary(diags)} i indata; inget resultat skrivet", markup=False)
        sys.exit(1)
    _print_diags(diags, None)   # warnings: stray records, a kontroll that could not be decided
    return values, result


def _prepare(agreement: str, data: str, params: tuple[str, ...], per: date | None):
    model = _load(agreement)
    return model, _evaluate(model, data, params, per)[1]


_common = [
    click.option("--data", "data", required=True, type=click.Path(),
                 help="Mapp med indatafilerna."),
    click.option("--param", "params", multiple=True, metavar="NAMN=VÄRDE",
                 help="Värde för en parameter som källan inte anger."),
    click.option("--per", "per", type=_Date(), default=None,
                 help="Version i kraft detta datum (standard: senaste)."),
]


def _with_common(f):
    for option in reversed(_common):
        f = option(f)
    return f


@main.command("run")
@click.argument("agreement", type=click.Path())
@_with_common
@click.option("--out", "out", required=True, type=click.Path(), help="Resultatfil (CSV).")
@click.option("--motor", "engine", type=click.Choice(["auto", "referens", "kolumn"]),
              default="auto", help="kolumn: snabb kolumnmotor för det den stöder; referens: "
              "referensutvärderaren; auto: kolumnmotorn när den kan (standard).")
@click.option("--ledger", "ledger", type=click.Path(), default=None,
              help="Körningsloggen (DuckDB); standard: villkor-körningar.duckdb bredvid --out.")
@click.option("--minne", "memory", default="1GB", show_default=True, metavar="STORLEK",
              help="Kolumnmotorns arbetsminne (t.ex. 500MB); det som inte ryms skrivs till en "
              "temporär fil.")
def run_cmd(agreement: str, data: str, params: tuple[str, ...], per: date | None,
            out: str, engine: str, ledger: str | None, memory: str) -> None:
    """Pröva villkoren och beräkna utbetalningarna för alla mottagare."""
    started = time.perf_counter()
    target = Path(out)
    _check_output(target)
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", memory.strip()):
        err_console.print(f"fel[V300]: --minne `{memory}` är ingen storlek\n  = tips: skriv t.ex. "
                          "500MB eller 2GB", markup=False)
        sys.exit(2)
    log = Path(ledger) if ledger else default_ledger(target)
    model = _load(agreement)
    if engine != "referens" and not params:
        done = _run_columnar(model, data, per, target, engine == "kolumn", memory)
        if done is not None:
            _record(log, Run(Path(agreement), model.version_at(per).label, per, {}, Path(data),
                             "kolumn", done.rows, done.error_count, _ledger_pots(done.pots),
                             target, time.perf_counter() - started, _files(model)))
            if done.errors:
                sys.exit(1)
            return
    with StepProgress(2, err_console) as progress:
        progress("läser indata och prövar villkoren (referensmotorn)")
        values, result = _evaluate(model, data, params, per)
        progress(f"skriver {target.name}")
        side = write_result(result, target)
    _print_table(result)
    _print_invoices(result)
    console.print(f"\nResultat: {out}  (även: {', '.join(str(p) for p in side)})", markup=False)
    _record(log, Run(Path(agreement), result.version.label, per, values, Path(data), "referens",
                     len(result.rows), 0, _ledger_pots(result.pots), target,
                     time.perf_counter() - started, _files(model)))


def _check_output(target: Path) -> None:
    """An output format nobody can write is a usage error, before anything is computed."""
    try:
        output_format(target)
    except ValueError as exc:
        err_console.print(f"fel[V300]: --out: {exc}", markup=False)
        sys.exit(2)


def _files(model) -> tuple[str, ...]:
    """The data files the agreement names: what the ledger hashes."""
    return tuple(sorted({t.file for t in [*model.tables.values(), *model.records.values()]}))


def _ledger_pots(pots) -> list[dict[str, str]]:
    """Each pot's totals as exact text, the same for both engines."""
    return [{"utbetalning": p.payment.name, "villkor": p.villkor or "",
             "pott": money_text(p.pot) if p.pot is not None else "",
             "utbetalt": money_text(p.paid_total)} for p in pots]


def _record(ledger: Path, run: Run) -> None:
    """Log the run; a ledger that cannot be written is a warning, never a lost result."""
    try:
        run_id = record(ledger, run)
    except Exception as exc:   # noqa: BLE001 - the result is written; say why the log is not
        err_console.print(f"varning[V305]: körningen kunde inte loggas i {ledger}: {exc}",
                          markup=False)
        return
    console.print(f"Körning {run_id} loggad i {ledger}", markup=False)


@main.command("history")
@click.option("--ledger", "ledger", type=click.Path(), default="villkor-körningar.duckdb",
              help="Körningsloggen (DuckDB).")
def history_cmd(ledger: str) -> None:
    """Lista de loggade körningarna."""
    if not Path(ledger).is_file():
        err_console.print(f"fel[V306]: ingen körningslogg `{ledger}`\n  = tips: ange --ledger; "
                          "loggen ligger bredvid resultatfilen", markup=False)
        sys.exit(1)
    # one plain line per run: greppable, and never cut to the terminal's width
    for r in history(Path(ledger)):
        console.print(f"{r['id']:>4}  {r['tid']:%Y-%m-%d %H:%M:%S}  "
                      f"{Path(r['överenskommelse']).name}  per "
                      f"{r['per'].isoformat() if r['per'] else 'senaste'}  motor {r['motor']}  "
                      f"rader {r['rader']}  fel {r['fel']}  utdata {r['utdata_sha256'][:16]}  "
                      f"version: {r['version']}", markup=False, soft_wrap=True)


def _run_columnar(model, data: str, per: date | None, out: Path, required: bool, memory: str):
    """Run on the columnar back-end if the plan covers the agreement: its BatchResult, or None
    to fall back to the reference evaluator."""
    from .batch.duck import InputProblem, run_plan
    from .batch.plan import Unsupported, compile_plan

    plan = compile_plan(model, model.version_at(per))
    try:
        with StepProgress(1, err_console) as progress:
            result = plan if isinstance(plan, Unsupported) else \
                run_plan(plan, Path(data), out, progress, memory)
    except InputProblem as exc:
        err_console.print(f"fel[{exc.code}]: {exc.message}" +
                          (f"\n  = tips: {exc.hint}" if exc.hint else ""), markup=False)
        sys.exit(1)
    if isinstance(result, Unsupported):
        if required:
            _unsupported(result.reason, "kör med --motor referens")
        return None
    for e in result.errors:
        err_console.print(f"{e.file}:{e.line}: fel[{e.code}]: {e.message}", markup=False)
    if result.error_count > len(result.errors):
        err_console.print(f"… och {result.error_count - len(result.errors)} fel till; alla står i "
                          f"{side_path(out, 'fel')}", markup=False)
    _print_pots(result)
    errors = f"  (felrader: {side_path(out, 'fel')})" if result.errors else ""
    console.print(f"\nResultat: {out}, {result.rows} rader (kolumnmotorn){errors}", markup=False)
    return result


def _unsupported(reason: str, hint: str | None = None) -> None:
    """V304 and exit 2: what the column engine cannot do, said once for `run` and `sql`."""
    err_console.print(f"fel[V304]: kolumnmotorn stöder inte överenskommelsen: {reason}" +
                      (f"\n  = tips: {hint}" if hint else ""), markup=False)
    sys.exit(2)


def _print_invoices(result) -> None:
    if not result.invoices:
        return
    bad = [x for x in result.invoices if x.findings]
    console.print(f"\nFakturor: {len(result.invoices)} rader, {len(result.invoices) - len(bad)} "
                  f"godkända, {len(bad)} avvisade", markup=False)
    for x in bad:
        for finding in x.findings:
            console.print(f"  {x.file} rad {x.line}: {finding}", markup=False)


TABLE_ROWS = 300   # larger results are summarised on screen; the file has every row


def _print_table(result) -> None:
    if len(result.rows) > TABLE_ROWS:
        _print_summary(result)
        return
    table = Table(title=f"Utfall ({result.version.label})", show_lines=False)
    for col, justify in (("mottagare", "left"), ("namn", "left"), ("villkor", "left"),
                         ("utfall", "left"), ("belopp", "right")):
        table.add_column(col, justify=justify)
    for r in result.rows:
        amount = swedish_money(r.amount) if r.amount is not None else "–"
        table.add_row(r.recipient.code, r.recipient.name, r.villkor, r.verdict.value, amount,
                      end_section=r.villkor == "summa")
    console.print(table)
    _print_pots(result)


def _print_summary(result) -> None:
    counts: dict[str, dict[str, int]] = {}
    for r in result.rows:
        counts.setdefault(r.villkor, {}).setdefault(r.verdict.value, 0)
        counts[r.villkor][r.verdict.value] += 1
    table = Table(title=f"Utfall per villkor ({result.version.label}; {len(result.rows)} rader)")
    table.add_column("villkor")
    for v in VERDICTS:
        table.add_column(v, justify="right")
    for vid, c in counts.items():
        table.add_row(vid, *(str(c.get(v, 0)) for v in VERDICTS))
    console.print(table)
    _print_pots(result)


def _print_pots(result) -> None:
    pots = Table(title="Potter och avrundning")
    for col in ("utbetalning", "villkor", "pott", "utbetalt", "avrundningsdifferens"):
        pots.add_column(col, justify="left" if col in ("utbetalning", "villkor") else "right")
    for p in result.pots:
        pots.add_row(p.payment.name, p.villkor or "",
                     swedish_money(p.pot) if p.pot is not None else "–",
                     swedish_money(p.paid_total), swedish_money(p.rounding_difference))
    console.print(pots)


@main.command("report")
@click.argument("agreement", type=click.Path())
@_with_common
@click.option("--out", "out", required=True, type=click.Path(),
              help="Rapportfil: .html eller .xlsx.")
def report_cmd(agreement: str, data: str, params: tuple[str, ...], per: date | None,
               out: str) -> None:
    """Rapport per mottagare och villkor (HTML eller Excel), med förklaringar."""
    target = Path(out)
    if target.suffix.lower() not in (".html", ".htm", ".xlsx"):
        raise click.BadParameter("filen ska sluta på .html eller .xlsx", param_hint="--out")
    model, result = _prepare(agreement, data, params, per)
    if target.suffix.lower() == ".xlsx":
        from .report import write_xlsx   # openpyxl only for Excel output

        with atomic_path(target) as tmp:
            write_xlsx(model, result, tmp)
    else:
        write_atomic(target, render_html(model, result))
    console.print(f"Rapport: {out}", markup=False)


@main.command("explain")
@click.argument("agreement", type=click.Path())
@_with_common
@click.option("--mottagare", "recipient", required=True, help="Mottagarens kod, t.ex. 09.")
@click.option("--villkor", "vid", default=None, help="Bara detta villkor (eller `summa`).")
@click.option("--format", "fmt", type=click.Choice(["text", "html"]), default="text",
              help="html: förklaringen som webbsida (till --out eller standard ut).")
@click.option("--out", "out", type=click.Path(), default=None, help="Skriv till fil.")
def explain_cmd(agreement: str, data: str, params: tuple[str, ...], per: date | None,
                recipient: str, vid: str | None, fmt: str, out: str | None) -> None:
    """Förklara utfall och belopp för en mottagare, med källor och lästa värden."""
    model, result = _prepare(agreement, data, params, per)
    rows = [r for r in result.rows if r.recipient.code == recipient
            and (vid is None or r.villkor == vid)]
    if not rows:
        known = sorted({r.recipient.code for r in result.rows})
        err_console.print(f"fel[V303]: ingen rad för mottagare `{recipient}`"
                          + (f" och villkor {vid}" if vid else "")
                          + f"\n  = tips: mottagarna är {', '.join(known)}", markup=False)
        sys.exit(1)
    text = explain_html(model, result, rows) if fmt == "html" else \
        explain_rows(model, result, rows)
    if out:
        write_atomic(Path(out), text)
        console.print(f"Förklaring: {out}", markup=False)
    else:
        click.echo(text, nl=False)


@main.command("sql")
@click.argument("agreement", type=click.Path())
@click.option("--dialekt", "dialect", default="duckdb", show_default=True,
              type=click.Choice(["duckdb", "spark", "databricks", "postgres", "trino",
                                 "snowflake", "bigquery"]),
              help="SQL-dialekt (sqlglot) för kolumnmotorns plan.")
@click.option("--per", "per", type=_Date(), default=None,
              help="Version i kraft detta datum (standard: senaste).")
def sql_cmd(agreement: str, dialect: str, per: date | None) -> None:
    """Visa kolumnmotorns plan som SQL, för att köra den i en annan databas eller ett kluster."""
    from .batch.plan import Unsupported, compile_plan
    from .batch.sql import all_steps, script

    model = _load(agreement)
    plan = compile_plan(model, model.version_at(per))
    if isinstance(plan, Unsupported):
        _unsupported(plan.reason)
    kinds = {t.name: {c: "text" for c in t.columns} for t in plan.inputs}
    files = {t.name: t.file for t in plan.inputs}
    click.echo(script(all_steps(plan, kinds, files), dialect), nl=False)


@main.command("lsp")
def lsp_cmd() -> None:
    """Starta språkservern (LSP över stdin/stdout) för editorer."""
    from .lsp import serve   # pygls is only loaded for the editor

    serve()


if __name__ == "__main__":  # pragma: no cover
    main()
