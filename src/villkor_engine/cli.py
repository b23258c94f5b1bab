"""The `villkor` command: check, run, explain, report, diff, history, sql, fmt, lsp.

Exit codes: 0 ok, 1 findings or bad input, 2 usage.

Every user error ends as a rendered Swedish diagnostic; a traceback here is a bug. Help screens
and usage errors are Swedish too: click's own English (`Usage:`, `Options:`, `[required]`, `'x'
is not one of …`) is replaced through click's public extension points — a Context whose
HelpFormatter says `Användning:`, Command/Group/Option/Argument subclasses that write the
sections, `[krävs]` and `[standard: …]`, Swedish metavars and a Choice that fails in Swedish —
and each kind of usage error is said from its exception's fields, never by translating text.

Option names: every flag is Swedish (`--ut`, `--logg`, `--kontroll`, `--parameter`, …; `--data`,
`--format`, `--per` are the same words in Swedish), and each earlier English spelling (`--out`,
`--ledger`, `--check`, `--param`) stays as an alias, shown in the help as `[även --out]`, so
existing scripts keep working.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
from rich.console import Console

from . import __version__
from .diagnostics import Diagnostic, VillkorError, render, visible
from .eval.values import VERDICTS, swedish_money
from .write import LEDGER_NAME

# The rest is imported in the commands that use it, so that `villkor check` (and --help) start
# without the writers (pydantic), the ledger's hashing, rich's tables and progress bars, the
# formatter or the explainer; duckdb, pyarrow, openpyxl, sqlglot, fastapi and pygls are only
# ever loaded by the commands that need them.
if TYPE_CHECKING:
    from rich.console import JustifyMethod
    from rich.text import Text

    from . import api

# emoji=False: rich would otherwise turn `fil:100:49` into a 💯 emoji
console = Console(highlight=False, soft_wrap=True, emoji=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def _print_diags(diags: list[Diagnostic], source: str | None) -> None:
    for d in diags:
        err_console.print(visible(render(d, source)), markup=False)
        err_console.print()


def _fail(code: str, message: str, hint: str | None = None, exit_code: int = 1) -> NoReturn:
    """One Swedish diagnostic without a source position, then exit."""
    err_console.print(visible(f"fel[{code}]: {message}" + (f"\n  = tips: {hint}" if hint else "")),
                      markup=False)
    sys.exit(exit_code)


def _cell(value: object) -> Text:
    """Data for a rich table: never markup, never a terminal control sequence."""
    from rich.text import Text

    return Text(visible(str(value)))


def _summary(diags: list[Diagnostic]) -> str:
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    return f"{errors} fel, {warnings} {'varning' if warnings == 1 else 'varningar'}"


# ---- click, said in Swedish ------------------------------------------------------------------

HELP_TEXT = "Visa den här hjälpen och avsluta."
VERSION_TEXT = "Visa versionen och avsluta."
# a parameter without its own metavar is named after its type; click's names are English
TYPE_METAVARS = {"TEXT": "TEXT", "PATH": "SÖKVÄG", "FILE": "FIL", "FILENAME": "FIL",
                 "DIRECTORY": "MAPP", "INTEGER": "HELTAL", "FLOAT": "TAL", "BOOLEAN": "JA/NEJ"}

# the raw arguments of the running invocation: an error names a flag as the user spelt it
_ARGS: ContextVar[tuple[str, ...]] = ContextVar("villkor_args", default=())


class _Usage(click.UsageError):
    """A usage error already said in Swedish: code (V300 unless given) and hints."""

    def __init__(self, message: str, ctx: click.Context | None = None,
                 hints: tuple[str, ...] = (), code: str = "V300"):
        super().__init__(message, ctx)
        self.hints, self.code = hints, code


class _BadValue(click.BadParameter):
    """A value a type refuses, with a Swedish reason and perhaps a `menade du` hint."""

    def __init__(self, message: str, ctx=None, param=None, hint: str | None = None):
        super().__init__(message, ctx=ctx, param=param)
        self.hint = hint


def _usage(message: str, *hints: str, code: str = "V300") -> NoReturn:
    """Stop with a usage error (exit 2), the command's usage line above it."""
    raise _Usage(message, click.get_current_context(silent=True), hints, code)


def _typed(param: click.Parameter) -> str:
    """How the user named the option (`--out` or `--ut`); its primary name if not given."""
    if isinstance(param, click.Argument):
        return param.metavar or param.name.upper()
    args = _ARGS.get()
    for opt in param.opts:
        if any(a == opt or a.startswith(opt + "=") for a in args):
            return opt
    return param.opts[0]


def _flag(name: str) -> str:
    """The running command's option `name` (its destination) as the user spelt it."""
    ctx = click.get_current_context(silent=True)
    for param in ctx.command.params if ctx else ():
        if param.name == name:
            return _typed(param)
    return name


def _metavar(param: click.Parameter) -> str:
    if param.metavar:
        return param.metavar
    if isinstance(param.type, click.Choice):
        return "[" + "|".join(map(str, param.type.choices)) + "]"
    name = param.type.name.upper()
    return TYPE_METAVARS.get(name, name)


class _Date(click.ParamType):
    name = "datum"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"`{value}` är inget datum (skriv ÅÅÅÅ-MM-DD)", param, ctx)


class _RunNumber(click.ParamType):
    name = "körning"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        if re.fullmatch(r"[0-9]{1,18}", value.strip()):
            return int(value)
        self.fail(f"`{value}` är inget körningsnummer (ett heltal, t.ex. 3)", param, ctx)


class _Choice(click.Choice):
    """click's Choice, refusing in Swedish: `` `oracle` är inte ett av: auto, referens ``."""

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            import difflib  # only for a value refused: `villkor` starts without it

            choices = [str(c) for c in self.choices]
            close = difflib.get_close_matches(str(value), choices, n=1)
            raise _BadValue(f"`{value}` är inte ett av: {', '.join(choices)}", ctx, param,
                            f"menade du `{close[0]}`?" if close else None) from None


class _Formatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "Användning: " if prefix is None else prefix)


class _Context(click.Context):
    formatter_class = _Formatter


class _Option(click.Option):
    """An option whose help row is Swedish: `[även --out; standard: 1GB; krävs]`.

    `aliases` are other accepted spellings (the earlier English names): parsed like the
    primary name, listed after the help text rather than beside it.
    """

    def __init__(self, param_decls=None, aliases: tuple[str, ...] = (), **attrs):
        super().__init__(param_decls, **attrs)
        self.aliases = tuple(aliases)

    def make_metavar(self, ctx=None) -> str:   # click 8.1 takes no ctx, 8.2+ does
        return _metavar(self)

    def get_help_record(self, ctx):
        if self.hidden:
            return None
        spec = ", ".join([o for o in self.opts if o not in self.aliases] +
                         list(self.secondary_opts))
        if not self.is_flag and not self.count:
            spec += " " + _metavar(self)
        extra = []
        if self.aliases:
            extra.append("även " + ", ".join(self.aliases))
        if self.show_default is True and isinstance(self.default, (str, int)) \
                and not self.is_flag:
            extra.append(f"standard: {self.default}")
        if self.required:
            extra.append("krävs")
        text = self.help or ""
        if extra:
            text = f"{text}  [{'; '.join(extra)}]" if text else f"[{'; '.join(extra)}]"
        return spec, text


class _Argument(click.Argument):
    """A positional argument with a Swedish metavar and a line in the help's `Argument:`."""

    def __init__(self, param_decls, required=None, help: str | None = None, **attrs):
        super().__init__(param_decls, required=required, **attrs)
        self.help = help

    def make_metavar(self, ctx=None) -> str:
        var = _metavar(self)
        if not self.required:
            var = f"[{var}]"
        return var + ("..." if self.nargs != 1 else "")


def _option(*decls: str, aliases: tuple[str, ...] = (), **attrs):
    """`click.option` with the Swedish help row; `decls` are the primary name(s) and the
    destination, `aliases` the other spellings."""
    *names, dest = decls
    return click.option(*names, *aliases, dest, cls=_Option, aliases=aliases, **attrs)


def _argument(name: str, **attrs):
    return click.argument(name, cls=_Argument, **attrs)


class _SwedishHelp(click.Command):
    """The help screen's parts, in Swedish; shared by the group and its commands."""

    context_class: type[click.Context] = _Context

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[FLAGGOR]")
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            # click's parser raises some errors without their context: the usage line and
            # the option's kind (a flag or not) come from it
            if exc.ctx is None:
                exc.ctx = ctx
            raise

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option

    def format_help(self, ctx, formatter) -> None:
        self.format_usage(ctx, formatter)
        self.format_help_text(ctx, formatter)
        self.format_arguments(ctx, formatter)
        self.format_options(ctx, formatter)
        self.format_epilog(ctx, formatter)

    def format_arguments(self, ctx, formatter) -> None:
        rows = [(p.make_metavar(ctx), getattr(p, "help", None) or "")
                for p in self.get_params(ctx) if isinstance(p, click.Argument)]
        if rows:
            with formatter.section("Argument"):
                formatter.write_dl(rows)

    def format_options(self, ctx, formatter) -> None:
        rows = [rv for p in self.get_params(ctx) if not isinstance(p, click.Argument)
                for rv in [p.get_help_record(ctx)] if rv is not None]
        if rows:
            with formatter.section("Flaggor"):
                formatter.write_dl(rows)


class _Command(_SwedishHelp, click.Command):
    def parse_args(self, ctx, args):
        # extra arguments are refused here, in Swedish, instead of by click's ctx.fail
        allowed = ctx.allow_extra_args
        ctx.allow_extra_args = True
        try:
            rest = super().parse_args(ctx, args)
        finally:
            ctx.allow_extra_args = allowed
        if rest and not allowed and not ctx.resilient_parsing:
            words = ", ".join(f"`{a}`" for a in rest)
            raise _Usage(f"{'oväntat argument' if len(rest) == 1 else 'oväntade argument'} "
                         f"{words}", ctx, ("ett filnamn med mellanslag ska stå inom citattecken",)
                         if len(rest) == 1 else ())
        return rest


class _SwedishGroup(_SwedishHelp, click.Group):
    """The `villkor` group: Swedish help and usage errors (exit code 2), and the last net that
    turns an unexpected exception into V319 without a traceback."""

    command_class = _Command

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("subcommand_metavar", "KOMMANDO [ARGUMENT]...")
        kwargs.setdefault("invoke_without_command", True)
        super().__init__(*args, **kwargs)

    def format_options(self, ctx, formatter) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx, formatter) -> None:
        commands = [(name, cmd) for name in self.list_commands(ctx)
                    for cmd in [self.get_command(ctx, name)] if cmd is not None and not cmd.hidden]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            with formatter.section("Kommandon"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit))
                                    for name, cmd in commands])

    def resolve_command(self, ctx, args):
        name = click.utils.make_str(args[0])
        if self.get_command(ctx, name) is None and not ctx.resilient_parsing:
            import difflib  # only for an unknown command

            if name.startswith("-") and len(name) > 1:
                self.parse_args(ctx, list(args))   # `--help`, or an unknown flag said as one
            names = self.list_commands(ctx)
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
            hints = ((f"menade du `{close[0]}`?",) if close else ()) + \
                (f"kommandona är {_and_list(names)}",)
            raise _Usage(f"okänt kommando `{name}`", ctx, hints)
        return super().resolve_command(ctx, args)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        if any("\x00" in str(a) for a in args):
            # a shell cannot pass one, but a program calling us can; no file name holds one
            err_console.print("fel[V300]: ett argument innehåller ett nolltecken (NUL)\n"
                              "  = tips: ta bort tecknet; inget filnamn kan innehålla det",
                              markup=False)
            if standalone_mode:
                sys.exit(2)
            raise click.exceptions.UsageError("NUL i argument")
        token = _ARGS.set(tuple(str(a) for a in args))
        try:
            rc = super().main(args, prog_name or "villkor", complete_var,
                              standalone_mode=False, **extra)
        except click.exceptions.UsageError as exc:
            if not standalone_mode:
                raise
            _usage_error(exc)
            sys.exit(2)
        except click.exceptions.Abort:
            err_console.print("avbrutet", markup=False)
            sys.exit(1)
        except Exception as exc:   # the last net: a bug, said without a traceback
            if not standalone_mode or os.environ.get("VILLKOR_FELSOK"):
                raise
            _internal_error(exc)
            sys.exit(1)
        finally:
            _ARGS.reset(token)
        if standalone_mode:
            sys.exit(rc or 0)
        return rc


def _and_list(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " och " + items[-1] if len(items) > 1 else "".join(items)


def _internal_error(exc: BaseException) -> None:
    detail = visible(str(exc))[:300]
    err_console.print(f"fel[V319]: internt fel i villkor ({type(exc).__name__}"
                      + (f": {detail}" if detail else "") + ")\n  = tips: det här är ett fel i "
                      "programmet, inte i dina filer; kör igen med miljövariabeln "
                      "VILLKOR_FELSOK=1 och skicka utskriften till utvecklarna", markup=False)


def _find_option(ctx: click.Context | None, name: str) -> click.Parameter | None:
    for param in ctx.command.get_params(ctx) if ctx else ():
        if name in (*param.opts, *param.secondary_opts) and not isinstance(param, click.Argument):
            return param
    return None


def _usage_error(exc: click.exceptions.UsageError) -> None:
    """Any of click's usage errors, said in Swedish from the exception's fields (its English
    text is never shown): the usage line, `fel[V300]: …` and hints."""
    ctx = exc.ctx
    code, hints = "V300", []
    if isinstance(exc, _Usage):
        message, code, hints = exc.message, exc.code, list(exc.hints)
    elif isinstance(exc, click.exceptions.NoSuchOption):
        message = f"okänd flagga `{exc.option_name}`"
        close, seen = [], set()
        for p in exc.possibilities or ():
            param = _find_option(ctx, p)
            if id(param) not in seen:     # one spelling of each option: the closest
                seen.add(id(param))
                close.append(p)
        if close:
            hints.append("menade du " + " eller ".join(f"`{p}`" for p in close) + "?")
    elif isinstance(exc, click.exceptions.MissingParameter) and exc.param is not None:
        if isinstance(exc.param, click.Argument):
            message = f"argumentet `{_metavar(exc.param)}` saknas"
        else:
            message = f"flaggan `{exc.param.opts[0]}` saknas"
            hints.append(f"skriv t.ex. `{exc.param.opts[0]} {_metavar(exc.param)}`")
    elif isinstance(exc, click.exceptions.BadParameter):
        hint_name = exc.param_hint if isinstance(exc.param_hint, str) else None
        name = _typed(exc.param) if exc.param is not None else hint_name or "värdet"
        message = f"ogiltigt värde för `{name}`: {exc.message}"
        if isinstance(exc, _BadValue) and exc.hint:
            hints.append(exc.hint)
    elif isinstance(exc, click.exceptions.BadOptionUsage):
        param = _find_option(ctx, exc.option_name)
        if param is not None and getattr(param, "is_flag", False):
            message = f"flaggan `{exc.option_name}` tar inget värde"
        else:
            message = f"flaggan `{exc.option_name}` behöver ett värde"
            if param is not None:
                hints.append(f"skriv t.ex. `{exc.option_name} {_metavar(param)}`")
    elif isinstance(exc, click.exceptions.BadArgumentUsage):
        message = "ett argument har fel antal värden"
    else:
        message = "kommandoraden kan inte tolkas"
    usage = ctx.get_usage() if ctx else ""
    lines = [usage] if usage else []
    lines.append(f"fel[{code}]: {message}")
    lines += [f"  = tips: {h}" for h in hints]
    where = ctx.command_path if ctx else "villkor"
    lines.append(f"  = tips: `{where} --help` visar "
                 + ("alla kommandon och flaggor" if ctx is None or ctx.parent is None
                    else "kommandots argument och flaggor"))
    err_console.print(visible("\n".join(lines)), markup=False)


EPILOG = ("Slutkoder: 0 klart, 1 fel i överenskommelsen eller indata, 2 fel i kommandoraden. "
          "Flaggorna har svenska namn; de äldre namnen (--out, --param, --ledger, --check) "
          "fungerar också. `villkor KOMMANDO --help` visar ett kommandos flaggor.")


@click.group("villkor", cls=_SwedishGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EPILOG)
@click.version_option(__version__, "--version", prog_name="villkor",
                      message="%(prog)s %(version)s", help=VERSION_TEXT)
@click.pass_context
def main(ctx: click.Context) -> None:
    """villkor: villkor och ersättningar i överenskommelser, prövade och beräknade exakt."""
    if ctx.invoked_subcommand is None:
        if _ARGS.get():     # flags but no command: `villkor --`
            _usage("kommando saknas", "kommandona är " + _and_list(main.list_commands(ctx)))
        click.echo(ctx.get_help())   # `villkor` alone: the help, exit 0


@main.command("check")
@_argument("files", nargs=-1, required=True, metavar="FIL",
           help="En eller flera överenskommelsefiler (.villkor).")
@_option("--format", "fmt", type=_Choice(["text", "json"]), default="text", show_default=True,
         help="json: en post per fil med diagnoserna, för verktyg och CI.")
def check_cmd(files: tuple[str, ...], fmt: str) -> None:
    """Kontrollera överenskommelsefiler (namn, typer, enheter, källor, kontroller)."""
    from . import api

    failed = False
    report = []
    for f in files:
        checked = api.check_file(f)
        failed |= not checked.ok
        if fmt == "json":
            report.append(checked.json())
            continue
        _print_diags(list(checked.diagnostics), checked.text)
        status = "ok" if checked.ok else "FEL"
        console.print(visible(f"{f}: {status} ({_summary(list(checked.diagnostics))})"),
                      markup=False)
    if fmt == "json":
        import json

        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    sys.exit(1 if failed else 0)


@main.command("fmt")
@_argument("files", nargs=-1, required=True, metavar="FIL",
           help="En eller flera överenskommelsefiler; de skrivs om på plats.")
@_option("--kontroll", "only_check", aliases=("--check",), is_flag=True,
         help="Ändra inget; avsluta med 1 om någon fil inte är formaterad.")
def fmt_cmd(files: tuple[str, ...], only_check: bool) -> None:
    """Formatera överenskommelsefiler enhetligt (kommentarer behålls)."""
    from .fmt import format_text
    from .write.output import write_atomic

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
            with _writing(Path(f)):
                write_atomic(Path(f), formatted)
            console.print(visible(f"{f}: formaterad"), markup=False)
    sys.exit(1 if failed else 0)


def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _load(agreement: str):
    """The checked model, or the diagnostics and exit code 1."""
    return _load_all([agreement])[0]


def _prepare(agreement: str, data: str, params: tuple[str, ...], per: date | None):
    """The reference evaluator's result for report and explain (api.run, no files written):
    (model, result), or the diagnostics and the exit code."""
    from . import api

    outcome = api.run(Path(agreement), data, None, list(params), per, engine="referens")
    if not outcome.ok:
        _stopped(agreement, outcome)
    _print_diags([d for d in outcome.diagnostics if not d.is_error], None)   # warnings
    return outcome.model, outcome.result


def _stopped(agreement: str, outcome: api.RunOutcome) -> NoReturn:
    """Print why a run stopped, as the CLI always has, and exit with its code."""
    diags = list(outcome.diagnostics)
    usage = next((d for d in diags if d.code == "V300"), None)
    if usage is not None:          # a value of an option the library refused: a usage error
        _usage(usage.message, *([usage.hint] if usage.hint else []))
    _print_diags(diags, outcome.text if outcome.stage == "överenskommelse" else None)
    if outcome.stage == "överenskommelse":
        err_console.print(visible(f"{agreement}: {_summary(diags)}; inget beräknat"),
                          markup=False)
    elif outcome.stage == "indata" and any(d.span is not None for d in diags):
        err_console.print(f"{_summary(diags)} i indata; inget resultat skrivet", markup=False)
    sys.exit(outcome.exit_code)


_data_option = _option("--data", "data", required=True, type=click.Path(), metavar="MAPP",
                       help="Mapp med indatafilerna (de filer tabellerna nämner i `fil`).")
_param_option = _option("--parameter", "params", aliases=("--param",), multiple=True,
                        metavar="NAMN=VÄRDE",
                        help="Värde för en parameter som källan inte anger; kan upprepas.")
_common = [
    _data_option,
    _param_option,
    _option("--per", "per", type=_Date(), default=None, metavar="DATUM",
            help="Version i kraft detta datum, ÅÅÅÅ-MM-DD (utan: den senaste)."),
]


def _with_common(f):
    for option in reversed(_common):
        f = option(f)
    return f


AGREEMENT_HELP = "Överenskommelsefilen (.villkor)."


@main.command("run")
@_argument("agreement", type=click.Path(), metavar="ÖVERENSKOMMELSE", help=AGREEMENT_HELP)
@_with_common
@_option("--ut", "out", aliases=("--out",), required=True, type=click.Path(), metavar="FIL",
         help="Resultatfilen. Formatet följer filändelsen: .csv (även utan ändelse), .xlsx "
         "eller .parquet. Sidofilerna bredvid får samma ändelse: utfall.xlsx ger "
         "utfall.potter.xlsx (och .fakturor, .fel).")
@_option("--motor", "engine", type=_Choice(["auto", "referens", "kolumn", "spark"]),
         default="auto", show_default=True, help="kolumn: den snabba kolumnmotorn (det den "
         "stöder); spark: kolumnmotorns plan på Apache Spark (tillägget villkor-engine[spark]); "
         "referens: referensutvärderaren; auto: kolumnmotorn när den kan, annars "
         "referensutvärderaren.")
@_option("--spark", "spark", default="local[*]", show_default=True, metavar="MASTER",
         help="Spark-klustret för --motor spark: local[*] (den här datorn), spark://värd:port, "
         "yarn, eller sc://värd:port för Spark Connect.")
@_option("--logg", "ledger", aliases=("--ledger",), type=click.Path(), default=None,
         metavar="FIL", help=f"Körningsloggen (DuckDB, .duckdb); utan: {LEDGER_NAME} bredvid "
         "resultatfilen.")
@_option("--minne", "memory", default="1GB", show_default=True, metavar="STORLEK",
         help="Kolumnmotorns arbetsminne (t.ex. 500MB); det som inte ryms skrivs till en "
         "temporär fil.")
def run_cmd(agreement: str, data: str, params: tuple[str, ...], per: date | None,
            out: str, engine: api.Engine, ledger: str | None, memory: str,
            spark: str) -> None:
    """Pröva villkoren och beräkna utbetalningarna för alla mottagare."""
    from . import api
    from .progress import StepProgress
    from .write.ledger import default_ledger

    log = Path(ledger) if ledger else default_ledger(Path(out))
    outcome = api.run(Path(agreement), data, out, list(params), per, engine=engine,
                      memory=memory, ledger=log, keep_rows=False, spark=spark,
                      progress=lambda total: StepProgress(total, err_console),
                      option=_flag("out"))
    if not outcome.ok:
        _stopped(agreement, outcome)
    if outcome.engine_used in ("kolumn", "spark"):
        _print_batch(outcome.batch, Path(out), outcome.engine_used)
    else:
        from .write.output import side_path

        _print_diags([d for d in outcome.diagnostics if d.code != "V305"], None)
        fel = side_path(Path(out), "fel")
        if outcome.error_count > len(outcome.errors):   # as `_print_batch` says it
            err_console.print(visible(f"… och {outcome.error_count - len(outcome.errors)} fel "
                                      f"till; alla står i {fel}"), markup=False)
        _print_table(outcome.result)
        _print_invoices(outcome.result)
        side = ", ".join(str(p) for p in outcome.written_files[:-1])
        errors = f"  (felrader: {fel})" if outcome.error_count else ""
        console.print(visible(f"\nResultat: {out}  (även: {side}){errors}"), markup=False)
    _print_diags([d for d in outcome.diagnostics if d.code == "V305"], None)
    if outcome.ledger_id is not None:
        console.print(visible(f"Körning {outcome.ledger_id} loggad i {outcome.ledger}"),
                      markup=False)
    sys.exit(outcome.exit_code)


def _print_batch(batch, out: Path, engine: str = "kolumn") -> None:
    """The column engine's kontroll warnings, bad rows (the first thousand), its pots and where
    the rows went."""
    from .write.output import side_path

    _print_diags([*batch.warnings, *(e.diagnostic() for e in batch.errors)], None)
    if batch.error_count > len(batch.errors):
        err_console.print(visible(f"… och {batch.error_count - len(batch.errors)} fel till; "
                                  f"alla står i {side_path(out, 'fel')}"), markup=False)
    _print_pots(batch)
    if batch.invoices:   # as `_print_invoices` says it for the reference's lines
        console.print(f"\nFakturor: {batch.invoices} rader, "
                      f"{batch.invoices - batch.rejected_count} godkända, "
                      f"{batch.rejected_count} avvisade", markup=False)
        for file, line, findings in batch.rejected:
            for finding in findings.split("\x1f"):   # settle.SEPARATOR
                console.print(visible(f"  {file} rad {line}: {finding}"), markup=False)
    errors = f"  (felrader: {side_path(out, 'fel')})" if batch.errors else ""
    where = "kolumnmotorn på Spark" if engine == "spark" else "kolumnmotorn"
    console.print(visible(f"\nResultat: {out}, {batch.rows} rader ({where}){errors}"),
                  markup=False)


def _check_file_target(out: str) -> Path:
    """V307 (usage, exit 2) unless `out` can be written as a file (api.file_target_problem)."""
    from . import api

    problem = api.file_target_problem(out, option=_flag("out"))
    if problem is not None:
        _fail(problem.code, problem.message, problem.hint, exit_code=2)
    return Path(out)


def _check_page_target(out: str, what: str) -> Path:
    """A report's or comparison's --ut: `.html`/`.htm` or `.xlsx` (else a usage error naming
    the flag as typed), and a path that can be a file (V307)."""
    suffix = Path(out).suffix.lower()
    if suffix not in (".html", ".htm", ".xlsx"):
        flag = _flag("out")
        said = f"filändelsen `{suffix}`" if suffix else "ingen filändelse"
        _usage(f"{flag} `{out}` har {said}; {what} skrivs som .html eller .xlsx",
               f"skriv t.ex. {flag} {Path(out).stem or what}.html eller "
               f"{flag} {Path(out).stem or what}.xlsx")
    return _check_file_target(out)


def _refuse_overwriting_inputs(target: Path, agreement: Path, data: Path, model) -> None:
    """V310 (exit 2): the output or a side file would replace the agreement or a data file."""
    from . import api

    problem = api.overwrite_problem(target, agreement, data, model, _flag("out"))
    if problem is not None:
        _fail(problem.code, problem.message, problem.hint, exit_code=2)


@contextmanager
def _writing(path: Path):
    """A file that cannot be written (full disk, no permission, a directory in the way) is
    V309 and exit code 1; the temp file is already gone (write/output.py `atomic_path`)."""
    from . import api

    try:
        yield
    except OSError as exc:
        problem = api.write_problem(exc, path)
        _fail(problem.code, problem.message, problem.hint)


@main.command("history")
@_argument("run_id", required=False, type=_RunNumber(), metavar="KÖRNING",
           help="Numret på en körning: visa den i sin helhet (parametrar, indata, potter, "
           "motor, kontrollsummor). Utan: en rad per körning.")
@_option("--logg", "ledger", aliases=("--ledger",), type=click.Path(), default=None,
         metavar="FIL", help=f"Körningsloggen (DuckDB); utan: {LEDGER_NAME} i arbetsmappen "
         "(`villkor run` skriver den bredvid resultatfilen).")
def history_cmd(run_id: int | None, ledger: str | None) -> None:
    """Lista de loggade körningarna, eller visa en av dem i sin helhet."""
    import duckdb

    from .write.ledger import LedgerError, find_run, history, os_reason, run_ids

    flag = _flag("ledger")
    path = Path(ledger) if ledger else Path(LEDGER_NAME)
    if not path.exists():
        if ledger:
            _fail("V306", f"ingen körningslogg `{ledger}`",
                  f"kontrollera sökvägen; `villkor run` skriver {LEDGER_NAME} bredvid "
                  "resultatfilen")
        _fail("V306", f"ingen körningslogg i arbetsmappen (letade efter `{Path.cwd() / path}`)",
              f"ange loggen med {flag} FIL, eller gå till mappen med resultatfilen: "
              f"`villkor run` skriver {LEDGER_NAME} bredvid den")
    try:
        one = find_run(path, run_id) if run_id is not None else None
        runs = history(path) if run_id is None else []
        known = run_ids(path) if run_id is not None and one is None else None
    except LedgerError as exc:
        _fail(exc.code, exc.message, exc.hint)
    except OSError as exc:
        _fail("V308", f"körningsloggen `{path}` kan inte läsas: {os_reason(exc)}")
    except duckdb.Error:
        _fail("V308", f"körningsloggen `{path}` kan inte läsas: den är skadad eller ingen "
              "körningslogg", f"ange en annan fil med {flag}")
    if run_id is not None:
        if one is None:
            _fail("V315", f"körning {run_id} finns inte i `{path}`",
                  f"loggen har körningarna {known[1]}–{known[2]}; `villkor history` listar dem"
                  if known else "loggen har inga körningar ännu")
        else:
            _print_run(one)
        return
    if not runs:
        console.print(visible(f"{path}: inga körningar"), markup=False)
        return
    # one plain line per run under a header: greppable, never cut to the terminal's width
    header = ("nr", "tid", "överenskommelse", "per", "motor", "rader", "fel",
              "utdata (sha256)", "version")
    rows = [(str(r["id"]), f"{r['tid']:%Y-%m-%d %H:%M:%S}", Path(r["överenskommelse"]).name,
             r["per"].isoformat() if r["per"] else "senaste", r["motor"], str(r["rader"]),
             str(r["fel"]), r["utdata_sha256"][:16], r["version"]) for r in runs]
    for line in _aligned(header, rows, right={0, 5, 6}):
        console.print(visible(line), markup=False, soft_wrap=True)


def _aligned(header: tuple[str, ...], rows: Sequence[Sequence[object]],
             right: Collection[int] = ()) -> list[str]:
    """Plain text columns two spaces apart; the last column is never padded."""
    widths = [max(len(str(v)) for v in col) for col in zip(header, *rows)]
    out = []
    for row in (header, *rows):
        cells = [str(v).rjust(w) if i in right else str(v).ljust(w)
                 for i, (v, w) in enumerate(zip(row, widths))]
        if len(row) - 1 not in right:
            cells[-1] = str(row[-1])
        out.append("  ".join(cells).rstrip())
    return out


def _money_cell(text: str) -> str:
    """An amount the ledger holds as exact text, written as money (`964 000 000 kr`)."""
    if not text:
        return "–"
    try:
        return swedish_money(Fraction(text))
    except (ValueError, ZeroDivisionError):
        return text


def _print_run(r: dict) -> None:
    """One run in full: everything the ledger holds about it, amounts as money."""
    import json

    params = json.loads(r["parametrar"] or "{}")
    inputs = json.loads(r["indata"] or "{}")
    pots = json.loads(r["potter"] or "[]")
    seconds = f"{r['sekunder']:.1f}".replace(".", ",")
    lines = [
        f"Körning {r['id']}",
        "",
        f"  tid:                 {r['tid']:%Y-%m-%d %H:%M:%S} ({seconds} s)",
        f"  överenskommelse:     {r['överenskommelse']}",
        f"    sha256:            {r['överenskommelse_sha256']}",
        f"  version i kraft:     {r['version']}",
        f"  per:                 {r['per'].isoformat() if r['per'] else 'senaste'}",
        f"  motor:               {r['motor']} (villkor {r['motorversion']})",
        "  parametrar:          " + (", ".join(f"{k} = {v}" for k, v in params.items())
                                     if params else "inga"),
        f"  rader:               {r['rader']}",
        f"  fel:                 {r['fel']}",
        f"  utdata:              {r['utdata']}",
        f"    sha256:            {r['utdata_sha256']}",
        "",
        "Indata" if inputs else "Indata: inga filer",
    ]
    if inputs:
        lines += ["  " + line for line in _aligned(("fil", "sha256"), sorted(inputs.items()))]
    lines += ["", "Potter" if pots else "Potter: inga"]
    if pots:
        rows = [(p.get("utbetalning", ""), p.get("villkor", ""), _money_cell(p.get("pott", "")),
                 _money_cell(p.get("utbetalt", ""))) for p in pots]
        lines += ["  " + line for line in _aligned(("utbetalning", "villkor", "pott", "utbetalt"),
                                                   rows, right={2, 3})]
    for line in lines:
        console.print(visible(line), markup=False, soft_wrap=True)


def _unsupported(reason: str, hint: str | None = None) -> NoReturn:
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
            console.print(visible(f"  {x.file} rad {x.line}: {finding}"), markup=False)


TABLE_ROWS = 300   # larger results are summarised on screen; the file has every row


def _print_table(result) -> None:
    from rich.table import Table

    if len(result.rows) > TABLE_ROWS:
        _print_summary(result)
        return
    table = Table(title=_cell(f"Utfall ({result.version.label})"), show_lines=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("mottagare", "left"), ("namn", "left"), ("villkor", "left"), ("utfall", "left"),
        ("belopp", "right"))
    for col, justify in columns:
        table.add_column(col, justify=justify)
    for r in result.rows:
        amount = swedish_money(r.amount) if r.amount is not None else "–"
        table.add_row(*map(_cell, (r.recipient.code, r.recipient.name, r.villkor,
                                   r.verdict.value, amount)),
                      end_section=r.villkor == "summa")
    console.print(table)
    _print_pots(result)


def _print_summary(result) -> None:
    from rich.table import Table

    counts: dict[str, dict[str, int]] = {}
    for r in result.rows:
        counts.setdefault(r.villkor, {}).setdefault(r.verdict.value, 0)
        counts[r.villkor][r.verdict.value] += 1
    table = Table(title=_cell(f"Utfall per villkor ({result.version.label}; "
                              f"{len(result.rows)} rader)"))
    table.add_column("villkor")
    for v in VERDICTS:
        table.add_column(v, justify="right")
    for vid, c in counts.items():
        table.add_row(_cell(vid), *(_cell(c.get(v, 0)) for v in VERDICTS))
    console.print(table)
    _print_pots(result)


def _print_pots(result) -> None:
    from rich.table import Table

    pots = Table(title="Potter och avrundning")
    for col in ("utbetalning", "villkor", "pott", "utbetalt", "avrundningsdifferens"):
        pots.add_column(col, justify="left" if col in ("utbetalning", "villkor") else "right")
    for p in result.pots:
        pots.add_row(*map(_cell, (p.payment.name, p.villkor or "",
                                  swedish_money(p.pot) if p.pot is not None else "–",
                                  swedish_money(p.paid_total),
                                  swedish_money(p.rounding_difference))))
    console.print(pots)


@main.command("report")
@_argument("agreement", type=click.Path(), metavar="ÖVERENSKOMMELSE", help=AGREEMENT_HELP)
@_with_common
@_option("--ut", "out", aliases=("--out",), required=True, type=click.Path(), metavar="FIL",
         help="Rapportfilen: .html (webbsida) eller .xlsx (Excel).")
def report_cmd(agreement: str, data: str, params: tuple[str, ...], per: date | None,
               out: str) -> None:
    """Rapport per mottagare och villkor (HTML eller Excel), med förklaringar."""
    from .write.output import atomic_path, write_atomic

    target = _check_page_target(out, "rapporten")
    model, result = _prepare(agreement, data, params, per)
    _refuse_overwriting_inputs(target, Path(agreement), Path(data), model)
    from .report import render_html

    with _writing(target):
        if target.suffix.lower() == ".xlsx":
            from .report import write_xlsx  # openpyxl only for Excel output

            with atomic_path(target) as tmp:
                write_xlsx(model, result, tmp)
        else:
            write_atomic(target, render_html(model, result))
    console.print(visible(f"Rapport: {out}"), markup=False)


@main.command("explain")
@_argument("agreement", type=click.Path(), metavar="ÖVERENSKOMMELSE", help=AGREEMENT_HELP)
@_with_common
@_option("--mottagare", "recipient", required=True, metavar="KOD",
         help="Mottagarens kod, t.ex. 09.")
@_option("--villkor", "vid", default=None, metavar="VILLKOR",
         help="Bara detta villkor (t.ex. 2, eller `summa`).")
@_option("--format", "fmt", type=_Choice(["text", "html"]), default="text", show_default=True,
         help="html: förklaringen som webbsida (till --ut eller standard ut).")
@_option("--ut", "out", aliases=("--out",), type=click.Path(), default=None, metavar="FIL",
         help="Skriv förklaringen till den här filen i stället för till skärmen.")
def explain_cmd(agreement: str, data: str, params: tuple[str, ...], per: date | None,
                recipient: str, vid: str | None, fmt: str, out: str | None) -> None:
    """Förklara utfall och belopp för en mottagare, med källor och lästa värden."""
    from .explain import explain_rows
    from .write.output import write_atomic

    if out is not None:
        _check_file_target(out)
    model, result = _prepare(agreement, data, params, per)
    rows = [r for r in result.rows if r.recipient.code == recipient
            and (vid is None or r.villkor == vid)]
    if not rows:
        known = sorted({r.recipient.code for r in result.rows})
        _fail("V303", f"ingen rad för mottagare `{recipient}`"
              + (f" och villkor {vid}" if vid else ""), f"mottagarna är {', '.join(known)}")
    from .report import explain_html

    text = explain_html(model, result, rows) if fmt == "html" else \
        explain_rows(model, result, rows)
    if out:
        target = _check_file_target(out)
        _refuse_overwriting_inputs(target, Path(agreement), Path(data), model)
        with _writing(target):
            write_atomic(target, text)
        console.print(visible(f"Förklaring: {out}"), markup=False)
    else:
        click.echo(text, nl=False)


DIALECTS = ["duckdb", "spark", "databricks", "postgres", "trino", "snowflake", "bigquery"]
# The dialects whose script has been run as printed (DuckDB, and Spark in the tests); the others
# are refused with the reason rather than printed as SQL that does not run
RUNNABLE = ("duckdb", "spark", "databricks")
NOT_RUNNABLE = ("planens steg bygger varje mottagares rader som en lista av STRUCT-värden som "
                "UNNEST packar upp, och räknar pengar med DuckDB:s och Sparks heltalsdivision "
                "(`//`); utskriften för {dialekt} är inte provkörd och går inte att köra "
                "oförändrad")


@main.command("sql")
@_argument("agreement", type=click.Path(), metavar="ÖVERENSKOMMELSE", help=AGREEMENT_HELP)
@_option("--dialekt", "dialect", default="duckdb", show_default=True, metavar="DIALEKT",
         type=_Choice(DIALECTS), help="SQL-dialekten (sqlglot) för kolumnmotorns plan: "
         + ", ".join(DIALECTS) + ".")
@_option("--per", "per", type=_Date(), default=None, metavar="DATUM",
         help="Version i kraft detta datum, ÅÅÅÅ-MM-DD (utan: den senaste).")
def sql_cmd(agreement: str, dialect: str, per: date | None) -> None:
    """Visa kolumnmotorns plan som SQL, för att köra den i en annan databas eller ett kluster."""
    from .batch.plan import Unsupported, compile_plan
    from .batch.sql import all_steps, script

    model = _load(agreement)
    if dialect not in RUNNABLE:
        _fail("V304", f"dialekten {dialect} stöds inte: {NOT_RUNNABLE.format(dialekt=dialect)}",
              f"använd --dialekt {', '.join(RUNNABLE)}, eller kör planen med villkor run",
              exit_code=2)
    plan = compile_plan(model, model.version_at(per))
    if isinstance(plan, Unsupported):
        _unsupported(plan.reason)
    kinds = {t.name: {c: "text" for c in t.columns} for t in plan.inputs}
    files = {t.name: t.file for t in plan.inputs}
    steps = all_steps(plan, kinds, files)
    if dialect in ("spark", "databricks"):   # with the rewrites `--motor spark` runs
        from .batch.spark import spark_script
        click.echo(spark_script(steps), nl=False)
    else:
        click.echo(script(steps, dialect), nl=False)


@main.command("diff")
@_argument("old", type=click.Path(), metavar="GAMMAL",
           help="Överenskommelsen före ändringen (.villkor).")
@_argument("new", type=click.Path(), required=False, metavar="NY",
           help="Överenskommelsen efter ändringen. Utan: GAMMAL jämförs med sig själv, den "
           "version som gäller --per mot den som gäller --per-ny (före och efter ett tillägg).")
@_data_option
@_option("--per", "per", type=_Date(), default=None, metavar="DATUM",
         help="Före ändringen: versionen i kraft detta datum (utan: den senaste).")
@_option("--per-ny", "per_new", type=_Date(), default=None, metavar="DATUM",
         help="Efter ändringen: versionen i kraft detta datum (utan: samma som --per med två "
         "filer, den senaste med en fil).")
@_param_option
@_option("--ut", "out", aliases=("--out",), type=click.Path(), default=None, metavar="FIL",
         help="Skriv jämförelsen som webbsida (.html) eller Excelfil (.xlsx) i stället för som "
         "text på skärmen.")
def diff_cmd(old: str, new: str | None, data: str, per: date | None, per_new: date | None,
             params: tuple[str, ...], out: str | None) -> None:
    """Jämför två versioner av en överenskommelse på samma indata: vad ändras per mottagare?"""
    from .pipeline import parse_params
    from .write.output import atomic_path, write_atomic

    if new is None and per is None and per_new is None:
        _usage("med en fil jämförs två versioner av den: ange --per (före) och --per-ny (efter)",
               "eller ange två filer: villkor diff GAMMAL NY --data MAPP")
    target = _check_page_target(out, "jämförelsen") if out is not None else None
    if new is not None and per_new is None:
        per_new = per
    models = _load_all([old, new or old])
    old_model, new_model = models[0], models[-1]
    values, pdiags = parse_params(new_model, list(params))
    if pdiags:
        _print_diags(pdiags, None)
        sys.exit(2)
    if target is not None:
        for path, model in ((old, old_model), (new or old, new_model)):
            _refuse_overwriting_inputs(target, Path(path), Path(data), model)
    from . import diff  # loaded here: a problem in it must not stop the other commands

    try:
        result = diff.compare(old_model, new_model, Path(data), values, per, per_new)
    except VillkorError as exc:
        _print_diags(exc.diagnostics, None)
        err_console.print(f"{_summary(exc.diagnostics)} i indata; ingen jämförelse gjord",
                          markup=False)
        sys.exit(1)
    _print_diags(list(getattr(result, "warnings", None) or []), None)
    if target is None:
        text = diff.render_text(result)
        click.echo(text, nl=not text.endswith("\n"))
        return
    with _writing(target):
        if target.suffix.lower() == ".xlsx":
            with atomic_path(target) as tmp:
                diff.write_xlsx(result, tmp)
        else:
            write_atomic(target, diff.render_html(result))
    console.print(visible(f"Jämförelse: {out}"), markup=False)


def _load_all(agreements: list[str]) -> list:
    """Each agreement's checked model (one load per distinct file); if any has errors, every
    file's diagnostics, then exit code 1."""
    from . import api

    checked = {a: api.check_file(a) for a in dict.fromkeys(agreements)}
    failed = False
    for a, one in checked.items():
        if not one.ok:
            failed = True
            _print_diags(list(one.diagnostics), one.text)
            err_console.print(visible(f"{a}: {_summary(list(one.diagnostics))}; inget beräknat"),
                              markup=False)
    if failed:
        sys.exit(1)
    return [checked[a].model for a in agreements]


@main.command("serve")
@_option("--host", "host", default="127.0.0.1", show_default=True, metavar="ADRESS",
         help="Adressen webbtjänsten lyssnar på.")
@_option("--port", "port", default=8000, show_default=True, type=click.IntRange(1, 65535),
         metavar="PORT", help="Porten webbtjänsten lyssnar på.")
@_option("--exempel", "examples", type=click.Path(file_okay=False), default=None, metavar="MAPP",
         help="Mapp med agreements/ och examples/ för arbetsbänkens exempeldata (utan: de som "
         "följer med paketet).")
def serve_cmd(host: str, port: int, examples: str | None) -> None:
    """Starta webbtjänsten och arbetsbänken i webbläsaren (http://ADRESS:PORT/)."""
    try:
        from .serve.app import main as serve_main
    except ImportError:
        _fail("V300", "webbtjänsten kräver tilläggen fastapi, uvicorn och python-multipart",
              "installera med: pip install 'villkor-engine[serve]'", exit_code=2)
    console.print(visible(f"villkor serve: http://{host}:{port}/  (avsluta med Ctrl-C)"),
                  markup=False)
    serve_main(host, port, Path(examples) if examples else None)


@main.command("lsp")
def lsp_cmd() -> None:
    """Starta språkservern (LSP över standard in och ut) för editorer."""
    from .lsp import serve  # pygls is only loaded for the editor

    serve()


if __name__ == "__main__":  # pragma: no cover
    main()
